"""MJPEG over HTTP (spec 5.5.2) against the simulator and raw loopback servers."""

from __future__ import annotations

import asyncio
import gc
import itertools
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from evt_helpers import no_leaks, raw_server, wait_for

from ipcam_async.api.mjpeg import MjpegFrame
from ipcam_async.api.reconnect import Disconnect, ReconnectPolicy
from ipcam_async.camera import Camera
from ipcam_async.errors import AuthError, ProtocolError
from ipcam_async.sim import SimulatedCamera
from ipcam_async.sim.mjpeg import generate_frames, load_frames, mjpeg_server, split_jpeg_frames

FAST = ReconnectPolicy(initial_delay=0.02, max_delay=0.05, max_failures=3, idle_timeout=2.0)


def _sim(fps: float) -> SimulatedCamera:
    sim = SimulatedCamera(rtsp=False)
    sim.state.mjpeg_fps = fps
    return sim


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedCamera]:
    async with _sim(50.0) as camera:
        yield camera


def _is_jpeg(data: bytes) -> bool:
    return data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9")


async def test_frames_from_the_simulator(sim: SimulatedCamera) -> None:
    assert "mjpeg" in sim.services and sim.mjpeg_port
    packaged = set(load_frames())
    async with no_leaks(), sim.camera() as cam:
        assert cam.mjpeg_port == sim.mjpeg_port
        got: list[MjpegFrame] = []
        async with cam.mjpeg.frames(policy=FAST) as frames:
            async for frame in frames:
                got.append(frame)
                if len(got) == 5:
                    break
        assert all(_is_jpeg(f.data) and f.data in packaged for f in got)
        assert [f.sequence for f in got] == sorted({f.sequence for f in got})
        assert got[0].received <= got[-1].received
        assert frames.stats.connects == 1 and frames.invalid == 0


async def test_slow_consumer_gets_the_newest_frame_and_drops_are_counted() -> None:
    async with _sim(200.0) as sim, no_leaks(), sim.camera() as cam:
        frames = cam.mjpeg.frames(policy=FAST)
        sequences: list[int] = []
        async with frames:
            async for frame in frames:
                sequences.append(frame.sequence)
                assert frames.pending <= 1  # never a backlog
                if len(sequences) == 4:
                    break
                await asyncio.sleep(0.1)  # far slower than 200 fps
        gaps = [b - a for a, b in itertools.pairwise(sequences)]
        assert all(g > 1 for g in gaps), sequences
        assert frames.dropped >= sum(g - 1 for g in gaps)
        assert frames.received >= sequences[-1]


async def test_queue_size_keeps_several_newest() -> None:
    async with _sim(200.0) as sim, no_leaks(), sim.camera() as cam:
        async with cam.mjpeg.frames(policy=FAST, queue_size=3) as frames:
            first = await frames.__anext__()
            await asyncio.sleep(0.2)
            burst = [await frames.__anext__() for _ in range(3)]
        seqs = [f.sequence for f in burst]
        assert seqs == [seqs[0], seqs[0] + 1, seqs[0] + 2]
        assert seqs[0] > first.sequence + 1


async def test_restart_of_the_mjpeg_server_reconnects(sim: SimulatedCamera) -> None:
    disconnects: list[Disconnect] = []
    async with no_leaks(), sim.camera() as cam:
        async with cam.mjpeg.frames(policy=FAST, on_disconnect=disconnects.append) as frames:
            await frames.__anext__()
            port = sim.mjpeg_port
            await sim.stop()
            await sim.start()
            assert sim.mjpeg_port == port
            await wait_for(lambda: frames.stats.connects == 2)
            frame = await frames.__anext__()
            assert _is_jpeg(frame.data)
        assert len(disconnects) >= 1


async def test_wrong_password_ends_with_auth_error(sim: SimulatedCamera) -> None:
    policy = ReconnectPolicy(initial_delay=0.01, max_delay=0.01, max_failures=2)
    async with no_leaks(), sim.camera(password="wrong", auth="basic") as cam:
        with pytest.raises(AuthError):
            async with cam.mjpeg.frames(policy=policy) as frames:
                await frames.__anext__()
        assert frames.stats.disconnects == 2


async def test_cancel_closes_the_stream_and_the_reader(sim: SimulatedCamera) -> None:
    server = mjpeg_server(sim)
    assert server is not None
    async with no_leaks(), sim.camera() as cam:
        started = asyncio.Event()

        async def consume() -> None:
            async for _ in cam.mjpeg.frames(policy=FAST):
                started.set()

        task = asyncio.create_task(consume())
        await started.wait()
        assert server.clients == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await wait_for(lambda: server.clients == 0, limit=1.0)


async def test_break_from_bare_loop_stops_the_reader(sim: SimulatedCamera) -> None:
    server = mjpeg_server(sim)
    assert server is not None
    async with no_leaks(), sim.camera() as cam:
        async for _ in cam.mjpeg.frames(policy=FAST):
            break
        gc.collect()
        await wait_for(lambda: server.clients == 0, limit=1.0)


async def test_non_jpeg_parts_are_skipped_and_counted() -> None:
    jpeg = generate_frames(1, width=32, height=16)[0]

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": 'multipart/x-mixed-replace; boundary="--frame"'}
        )
        await response.prepare(request)
        for body in (b"not a jpeg", jpeg):
            await response.write(
                b"--frame\r\nContent-type: image/jpeg\r\nContent-length: %d\r\n\r\n" % len(body)
                + body
                + b"\r\n"
            )
        await asyncio.sleep(10)
        return response

    async with no_leaks(), raw_server(handler) as port, Camera("127.0.0.1", mjpeg_port=port) as cam:
        async with cam.mjpeg.frames(policy=FAST) as frames:
            frame = await frames.__anext__()
        assert frame.data == jpeg and frame.sequence == 1
        assert frames.invalid == 1


async def test_oversized_frame_is_a_protocol_error_after_retries() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "multipart/x-mixed-replace;boundary=f"}
        )
        await response.prepare(request)
        await response.write(b"--f\r\nContent-Length: 999999\r\n\r\n")
        await asyncio.sleep(10)
        return response

    policy = ReconnectPolicy(initial_delay=0.01, max_delay=0.01, max_failures=2)
    async with no_leaks(), raw_server(handler) as port, Camera("127.0.0.1", mjpeg_port=port) as cam:
        with pytest.raises(ProtocolError, match="exceeds"):
            async with cam.mjpeg.frames(policy=policy, max_frame_size=1000) as frames:
                await frames.__anext__()


def test_split_jpeg_frames_walks_markers() -> None:
    frames = generate_frames(3, width=64, height=48)
    assert split_jpeg_frames(b"".join(frames)) == frames
    with pytest.raises(ProtocolError):
        split_jpeg_frames(frames[0][:-40])
    packaged = load_frames()
    assert len(packaged) >= 10 and all(_is_jpeg(f) for f in packaged)
