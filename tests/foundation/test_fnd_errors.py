"""Every spec status code and both error-body forms map to their exception."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from aiohttp import web

from ipcam_async.camera import Camera
from ipcam_async.errors import (
    AuthError,
    BadRequestError,
    ConflictError,
    ConnectError,
    DeviceBusyError,
    HttpStatusError,
    InternalServerError,
    IpCamError,
    NotFoundError,
    ParameterError,
    ProtocolError,
    RequestFailed,
    StreamTimeout,
)
from ipcam_async.http.transport import parse_retry_after
from ipcam_async.sim import SimulatedCamera

STATUS_ERRORS = [
    (400, BadRequestError),
    (401, AuthError),
    (404, NotFoundError),
    (409, ConflictError),
    (500, InternalServerError),
    (503, DeviceBusyError),
]


@pytest.mark.parametrize(("status", "error"), STATUS_ERRORS)
async def test_status_codes_from_the_simulator(status: int, error: type[IpCamError]) -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim, sim.camera() as cam:
        # A 401 is answered once by the auth handshake (auto: bare, challenge, answer).
        sim.faults.fail_next(status, times=3 if status == 401 else 1)
        with pytest.raises(error) as info:
            await cam.params.list("Network")
        assert isinstance(info.value, HttpStatusError)
        assert info.value.status == status
        assert "/cgi-bin/admin/param.cgi" in str(info.value)
        # The fault was one-shot: the next request works.
        assert (await cam.params.list("Network"))["Network.BootProto"] == "none"


class StubServer:
    """A loopback HTTP server answering every request with the programmed response."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b""
        self.headers: dict[str, str] = {}
        self.requests: list[str] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append(request.raw_path)
        return web.Response(status=self.status, body=self.body, headers=self.headers)

    async def __aenter__(self) -> StubServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


@pytest.mark.parametrize(
    ("status", "error"),
    [*STATUS_ERRORS, (403, HttpStatusError), (302, HttpStatusError), (418, HttpStatusError)],
)
async def test_status_codes_from_a_stub(status: int, error: type[IpCamError]) -> None:
    async with StubServer() as stub, Camera("127.0.0.1", stub.port) as cam:
        stub.status, stub.body = status, b"nope\r\n"
        if status == 302:
            stub.headers = {"Location": "http://elsewhere.invalid/"}
        with pytest.raises(error) as info:
            await cam.params.list("Network")
    assert type(info.value) is error
    assert isinstance(info.value, HttpStatusError) and info.value.status == status
    assert "(nope)" in str(info.value) or status == 302
    assert stub.requests == ["/cgi-bin/admin/param.cgi?action=list&group=Network"]


async def test_error_bodies_from_a_stub() -> None:
    async with StubServer() as stub, Camera("127.0.0.1", stub.port) as cam:
        stub.body = b"# Error: Error setting 'A.B'\n"
        with pytest.raises(ParameterError) as perr:
            await cam.params.update({"A.B": "1"})
        assert perr.value.description == "Error setting 'A.B'"
        stub.body = b"Request failed: year out of range\r\n"
        with pytest.raises(RequestFailed) as rerr:
            await cam.transport.request(
                "GET", "/cgi-bin/admin/date.cgi", params=[("action", "set"), ("year", "1900")]
            )
        assert rerr.value.description == "year out of range"
        stub.body = b"# Error: shown raw"
        raw = await cam.transport.request("GET", "/x.cgi", check_body=False)
        assert raw.text == "# Error: shown raw" and raw.status == 200
        stub.status, stub.body = 204, b""
        empty = await cam.transport.request("GET", "/x.cgi")
        assert empty.status == 204 and empty.body == b""


async def test_error_bodies_from_the_simulator() -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim, sim.camera() as cam:
        with pytest.raises(ParameterError, match="No such parameter"):
            await cam.params.update({"Network.NoSuchThing": "1"})
        with pytest.raises(ParameterError, match="read-only"):
            await cam.params.update({"Properties.System.Model": "X"})
        with pytest.raises(ParameterError, match="Valid values"):
            await cam.params.update({"ImageSource.I0.Sensor.Exposure": "sometimes"})
        # Updates are all-or-nothing.
        with pytest.raises(ParameterError):
            await cam.params.update({"ImageSource.I0.Name": "changed", "Network.Nope": "1"})
        assert sim.state.params["ImageSource.I0.Name"] == "Camera 1"


async def test_body_cap() -> None:
    async with StubServer() as stub, Camera("127.0.0.1", stub.port) as cam:
        stub.body = b"x" * 5000
        with pytest.raises(ProtocolError, match="exceeds 4096"):
            await cam.transport.request("GET", "/big", max_body=4096)
        stub.body = b"x" * 4096
        ok = await cam.transport.request("GET", "/big", max_body=4096)
        assert len(ok.body) == 4096


async def test_body_cap_streamed_over_a_socket() -> None:
    """A chunked body without Content-Length is cut off too."""

    async def big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(64):
            await response.write(b"y" * 4096)
        return response

    app = web.Application()
    app.router.add_get("/big", big)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with Camera("127.0.0.1", port) as cam:
            with pytest.raises(ProtocolError):
                await cam.transport.request("GET", "/big", max_body=100_000)
            whole = await cam.transport.request("GET", "/big", max_body=1 << 20)
            assert len(whole.body) == 64 * 4096
    finally:
        await runner.cleanup()


async def test_503_retry_after_is_honoured_and_bounded() -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim:
        async with sim.camera() as cam:  # retry is opt-in
            sim.faults.fail_next(503, retry_after=7)
            with pytest.raises(DeviceBusyError) as info:
                await cam.params.list("Network")
            assert info.value.retry_after == 7
        async with sim.camera(retry_503=2) as cam:
            sim.faults.fail_next(503, times=2, retry_after=0.2)
            start = time.monotonic()
            tree = await cam.params.list("Network")
            assert time.monotonic() - start >= 0.4
            assert "Network.IPAddress" in tree
            sim.faults.fail_next(503, times=3, retry_after=0)
            with pytest.raises(DeviceBusyError):
                await cam.params.list("Network")
        async with sim.camera(retry_503=1, max_retry_wait=0.05) as cam:
            sim.faults.fail_next(503, times=1, retry_after=3600)
            start = time.monotonic()
            await cam.params.list("Network")
            assert time.monotonic() - start < 3  # the wait was capped, not an hour


def test_parse_retry_after() -> None:
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("nan") is None
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert parse_retry_after(date, now=1445412470.0) == pytest.approx(10.0)


async def test_timeout_and_connection_errors() -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim:
        sim.faults.delay = 1.0
        async with sim.camera(timeout=0.2) as cam:
            with pytest.raises(StreamTimeout):
                await cam.params.list("Network")
        sim.faults.delay = 0.0
        sim.faults.drop_connection = True
        async with sim.camera() as cam:
            with pytest.raises(ConnectError):
                await cam.params.list("Network")
        port = sim.http_port
    # Nothing listens there any more.
    async with Camera("127.0.0.1", port, timeout=2) as cam:
        with pytest.raises(ConnectError):
            await cam.params.list("Network")


async def test_external_session_is_shared_and_left_open() -> None:
    async with (
        SimulatedCamera(rtsp=False, mjpeg=False) as one,
        SimulatedCamera(rtsp=False, mjpeg=False, password="other") as two,
        aiohttp.ClientSession() as session,
    ):
        # Different credentials over one pool: none leaks into the other camera's requests.
        cams = [
            one.camera(session=session),
            two.camera(session=session, auth="digest"),
            one.camera(session=session, auth="basic"),
        ]
        results = await asyncio.gather(*(c.params.list("Network") for c in cams * 5))
        assert all(r["Network.IPAddress"] == "192.168.0.250" for r in results)
        for cam in cams:
            await cam.close()
        assert not session.closed
        wrong = two.camera(session=session, password="1234")
        with pytest.raises(AuthError):
            await wrong.params.list("Network")
