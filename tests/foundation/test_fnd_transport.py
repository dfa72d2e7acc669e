"""Transport features over loopback: streamed uploads under Digest, streams, POST fallback."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest
from aiohttp import web

from ipcam_async.errors import InvalidArgument, NotFoundError
from ipcam_async.sim import SimulatedCamera
from ipcam_async.sim.http.app import CgiRouter, text_response
from ipcam_async.sim.state import CameraState

RECEIVED: list[tuple[str, str, int, str]] = []


def _test_cgis(router: CgiRouter) -> None:
    async def upload(request: web.Request, state: CameraState) -> web.Response:
        reader = await request.multipart()
        part = await reader.next()
        assert isinstance(part, aiohttp.BodyPartReader)
        digest = hashlib.sha256()
        size = 0
        while chunk := await part.read_chunk(65536):
            digest.update(chunk)
            size += len(chunk)
        RECEIVED.append((part.name or "", part.filename or "", size, digest.hexdigest()))
        return text_response("OK\r\n")

    async def ticks(request: web.Request, state: CameraState) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_type = "text/plain"
        await response.prepare(request)
        state.changed()
        try:
            for i in range(1000):
                await response.write(f"tick {i}\r\n".encode())
                await asyncio.sleep(0.01)
        finally:
            state.log("ticks stopped")
        return response

    router.add("POST", "/cgi-bin/admin/upload.cgi", upload, "admin")
    router.add("GET", "/cgi-bin/view/ticks.cgi", ticks, "view")


class Tracer:
    """Counts requests and body bytes the client really sent."""

    def __init__(self) -> None:
        self.methods: list[str] = []
        self.body_bytes = 0
        self.config = aiohttp.TraceConfig()
        self.config.on_request_start.append(self._start)
        self.config.on_request_chunk_sent.append(self._chunk)

    async def _start(
        self, session: object, ctx: SimpleNamespace, params: aiohttp.TraceRequestStartParams
    ) -> None:
        self.methods.append(params.method)

    async def _chunk(
        self, session: object, ctx: SimpleNamespace, params: aiohttp.TraceRequestChunkSentParams
    ) -> None:
        self.body_bytes += len(params.chunk)


@pytest.mark.parametrize("auth", ["auto", "digest", "basic"])
async def test_upload_is_streamed_and_sent_once(auth: str, tmp_path: Path) -> None:
    RECEIVED.clear()
    payload = bytes(range(256)) * (3 * 4096 + 7)  # ~3 MB, not a multiple of the chunk size
    source = tmp_path / "firmware.bin"
    source.write_bytes(payload)
    tracer = Tracer()
    progress: list[tuple[int, int]] = []
    async with (
        SimulatedCamera(rtsp=False, mjpeg=False, extra_cgis=[_test_cgis]) as sim,
        aiohttp.ClientSession(trace_configs=[tracer.config]) as session,
        sim.camera(auth=auth, session=session) as cam,
    ):
        response = await cam.transport.upload(
            "/cgi-bin/admin/upload.cgi",
            file=source,
            field_name="fw",
            filename="fw.bin",
            progress=lambda sent, total: progress.append((sent, total)),
        )
        assert response.text == "OK\r\n"
    assert [("fw", "fw.bin", len(payload), hashlib.sha256(payload).hexdigest())] == RECEIVED
    assert tracer.methods.count("POST") == 1
    # The file went over the wire once (plus the multipart framing, under 1 KiB).
    assert len(payload) <= tracer.body_bytes < len(payload) + 1024
    assert progress[0] == (0, len(payload)) and progress[-1] == (len(payload), len(payload))
    assert [s for s, _ in progress] == sorted(s for s, _ in progress)


async def test_upload_from_bytes_and_bad_arguments(tmp_path: Path) -> None:
    RECEIVED.clear()
    async with (
        SimulatedCamera(rtsp=False, mjpeg=False, extra_cgis=[_test_cgis]) as sim,
        sim.camera() as cam,
    ):
        await cam.transport.upload(
            "/cgi-bin/admin/upload.cgi",
            file=b"abc",
            field_name="f",
            filename="a.txt",
            content_type="text/plain",
        )
        assert [("f", "a.txt", 3, hashlib.sha256(b"abc").hexdigest())] == RECEIVED
        with pytest.raises(InvalidArgument):
            await cam.transport.upload(
                "/cgi-bin/admin/upload.cgi", file=tmp_path / "missing", field_name="f", filename="x"
            )
        with pytest.raises(InvalidArgument):
            await cam.transport.upload(
                "/cgi-bin/admin/upload.cgi", file=b"x", field_name="f", filename='a"b'
            )


async def test_stream_reads_incrementally_and_closes_early() -> None:
    async with (
        SimulatedCamera(rtsp=False, mjpeg=False, extra_cgis=[_test_cgis]) as sim,
        sim.camera() as cam,
    ):
        async with cam.transport.stream("GET", "/cgi-bin/view/ticks.cgi") as response:
            assert response.status == 200
            first = await response.content.readline()
            second = await response.content.readline()
        assert (first, second) == (b"tick 0\r\n", b"tick 1\r\n")
        for _ in range(100):  # the server sees the close and stops writing
            if sim.state.syslog[-1].endswith("ticks stopped"):
                break
            await asyncio.sleep(0.02)
        assert sim.state.syslog[-1].endswith("ticks stopped")
        with pytest.raises(NotFoundError):
            async with cam.transport.stream("GET", "/cgi-bin/view/nothing.cgi"):
                pass


async def test_long_updates_go_in_a_post_body() -> None:
    tracer = Tracer()
    names = {
        f"IO.Input.I{i}.Name": f"Door sensor number {i} — east wing, level 2" for i in range(8)
    }
    names |= {f"IO.Output.O{i}.Name": f"Siren & light {i}: hall/stairs?" for i in range(8)}
    names |= {f"Event.E{i}.Name": f"Event {i}: notify operators; record 10 s" for i in range(13)}
    async with (
        SimulatedCamera(rtsp=False, mjpeg=False) as sim,
        aiohttp.ClientSession(trace_configs=[tracer.config]) as session,
        sim.camera(session=session, auth="basic") as cam,
    ):
        await cam.params.update(names)
        tree = await cam.params.list("IO", "Event")
    assert tracer.methods == ["POST", "GET"]
    assert {k: tree[k] for k in names} == names
