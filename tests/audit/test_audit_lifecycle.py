"""A Camera used after close, and a Camera on a session the caller owns."""

from __future__ import annotations

import aiohttp
import pytest
from audit_helpers import no_leaks

from ipcam_async.camera import Camera
from ipcam_async.errors import InvalidArgument, IpCamError, NotFoundError, StreamClosed
from ipcam_async.sim import SimulatedCamera


@pytest.fixture
async def sim() -> SimulatedCamera:  # type: ignore[misc]
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim:
        yield sim


async def test_use_after_close_is_a_typed_error_and_sends_nothing(sim: SimulatedCamera) -> None:
    async with no_leaks(lambda: sim.http_port):
        cam = sim.camera()
        async with cam:
            assert len(await cam.params.list("Network")) > 0
        assert cam.closed
        before = sim.faults.http_requests
        calls = [
            lambda: cam.params.list("Network"),
            lambda: cam.image.snapshot(),
            lambda: cam.system.restore(b"x"),
            lambda: cam.ptz.position(),
        ]
        for call in calls:
            with pytest.raises(StreamClosed):
                await call()
        with pytest.raises(StreamClosed):
            async with cam.transport.stream("GET", "/cgi-bin/admin/backup.cgi"):
                pass
        with pytest.raises(StreamClosed):
            cam.stream("h264")  # RTSP has its own connection, but the camera is closed
        assert sim.faults.http_requests == before
        # No session was silently recreated (it would never be closed).
        assert cam.transport._session is None or cam.transport._session.closed
        await cam.close()  # closing twice is harmless


async def test_reentering_reopens(sim: SimulatedCamera) -> None:
    async with no_leaks(lambda: sim.http_port):
        cam = sim.camera()
        async with cam:
            await cam.params.list("Network")
        async with cam:
            assert not cam.closed
            assert len(await cam.params.list("Network")) > 0


async def test_external_session_is_never_closed_and_its_defaults_do_not_interfere(
    sim: SimulatedCamera,
) -> None:
    async with aiohttp.ClientSession(raise_for_status=True) as session:
        async with sim.camera(session=session) as cam:
            assert len(await cam.params.list("Network")) > 0
            # raise_for_status on the caller's session must not bypass the typed mapping.
            with pytest.raises(NotFoundError):
                await cam.transport.request("GET", "/cgi-bin/no-such.cgi")
        assert not session.closed
        # The session keeps working for its owner and for another camera.
        async with sim.camera(session=session) as other:
            assert len(await other.params.list("Network")) > 0
        # ... and the camera's credentials never became session-wide.
        url = f"{sim.http_url}/cgi-bin/admin/param.cgi"
        async with session.get(url, raise_for_status=False) as response:
            assert response.status == 401
    # The owner closed its session: the camera says so with a library error.
    stale = sim.camera(session=session)
    with pytest.raises(StreamClosed):
        await stale.params.list("Network")
    await stale.close()
    assert issubclass(StreamClosed, IpCamError)


@pytest.mark.parametrize("host", ["a..b", ".", "x" * 70 + ".example", "cam:8080", "\ud800"])
def test_unusable_hosts_fail_at_construction(host: str) -> None:
    # Without the check these failed only inside a request, as UnicodeError or ValueError.
    with pytest.raises(InvalidArgument):
        Camera(host)


def test_bracketed_ipv6_host_is_accepted() -> None:
    cam = Camera("[::1]", 8080)
    assert cam.host == "::1"
    assert str(cam.transport.url("/x")) == "http://[::1]:8080/x"
    assert cam.rtsp_url() == "rtsp://[::1]:554/h264"
