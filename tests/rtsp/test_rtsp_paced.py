"""Paced reading (``read_interval``): fewer wake-ups, the same frames, requests not delayed."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import av
import pytest

from ipcam_async.errors import InvalidArgument
from ipcam_async.record import Recorder
from ipcam_async.rtp.frames import VideoFrame
from ipcam_async.rtsp import RtspClient, RtspStream
from ipcam_async.rtsp.pacer import MAX_READ_INTERVAL, ReadPacer, pacer_for
from ipcam_async.sim.rtsp import RtspServer


async def frames_with_times(stream: RtspStream, count: int) -> list[tuple[float, VideoFrame]]:
    loop = asyncio.get_running_loop()
    got: list[tuple[float, VideoFrame]] = []
    async with asyncio.timeout(15):
        async for frame in stream.frames():
            assert isinstance(frame, VideoFrame)
            got.append((loop.time(), frame))
            if len(got) >= count:
                return got
    return got


def bursts(times: list[float], gap: float = 0.02) -> int:
    """How many groups of frames arrived (frames closer than ``gap`` are one group)."""
    groups = 1
    for before, after in itertools.pairwise(times):
        if after - before > gap:
            groups += 1
    return groups


def decodes(frames: list[VideoFrame]) -> int:
    codec = av.CodecContext.create("h264", "r")
    count = sum(len(codec.decode(av.Packet(f.data))) for f in frames)
    return count + len(codec.decode(None))


@pytest.mark.parametrize("transport", ["tcp", "udp"])
async def test_paced_stream_reads_in_bursts_and_loses_nothing(transport: str) -> None:
    async with RtspServer() as server:
        url = f"rtsp://127.0.0.1:{server.port}/h264_3"
        async with RtspStream(url, transport=transport, read_interval=0.25) as stream:  # type: ignore[arg-type]
            got = await frames_with_times(stream, 45)
            stats = stream.stats
            client = stream.client
            assert client is not None
            udp = client.tracks[0].udp
            wakeups = udp.rtp.stats.wakeups if udp is not None else None
            datagrams = udp.rtp.stats.datagrams if udp is not None else None
        pacer = pacer_for(asyncio.get_running_loop(), 0.25)
        assert server.sessions == {}  # TEARDOWN was sent at close
    times = [t for t, _ in got]
    frames = [f for _, f in got]
    # 45 frames at 30 fps come in bursts of a quarter second, not one by one.
    assert bursts(times) <= 12, bursts(times)
    assert frames[0].keyframe and decodes(frames) == len(frames)
    assert stats.tracks[0].lost == 0 and stats.dropped_frames == 0
    if wakeups is not None and datagrams is not None:
        assert wakeups <= pacer.ticks and datagrams > 3 * wakeups
    await asyncio.sleep(0.6)
    assert pacer._handle is None  # nothing left to read: the timer stopped


async def test_requests_are_not_held_back_by_the_interval() -> None:
    async with RtspServer() as server:
        url = f"rtsp://127.0.0.1:{server.port}/h264_3"
        async with RtspClient(url, read_interval=MAX_READ_INTERVAL) as client:
            await client.describe()
            assert client.sdp is not None
            video = next(m for m in client.sdp.media if m.media == "video")

            class Sink:
                packets = 0

                def on_rtp(self, data: memoryview, arrival: float) -> None:
                    self.packets += 1

                def on_rtcp(self, data: memoryview, arrival: float) -> None:
                    pass

                def seed(self, seq: int | None, rtptime: int | None) -> None:
                    pass

                def receiver_report(self, now: float, receiver_ssrc: int) -> bytes | None:
                    return None

            sink = Sink()
            await client.setup(video, sink)
            await client.play()
            await asyncio.sleep(1.2)
            assert sink.packets > 0
            for _ in range(4):
                started = time.monotonic()
                response = await client.options()  # the keepalive this server takes
                assert response.ok
                # The response is read at once, not at the next tick half a second away.
                assert time.monotonic() - started < 0.25
                await asyncio.sleep(0.13)
            await client.pause()
            await client.play()
        assert server.sessions == {}


@pytest.mark.parametrize("bad", [-0.1, MAX_READ_INTERVAL + 0.01, True, "0.1", float("nan")])
def test_read_interval_is_validated(bad: Any, tmp_path: Any) -> None:
    with pytest.raises(InvalidArgument, match="read_interval"):
        RtspClient("rtsp://127.0.0.1/h264", read_interval=bad)
    with pytest.raises(InvalidArgument, match="read_interval"):
        RtspStream("rtsp://127.0.0.1/h264", read_interval=bad)
    with pytest.raises(InvalidArgument, match="read_interval"):
        Recorder(tmp_path, read_interval=bad)


async def test_pacer_isolates_failing_callbacks_and_stops_when_empty() -> None:
    loop = asyncio.get_running_loop()
    pacer = ReadPacer(loop, 0.01)
    calls: list[str] = []

    def broken() -> None:
        calls.append("broken")
        raise RuntimeError("boom")

    pacer.add(1, broken)
    pacer.add(2, lambda: calls.append("drain"))
    pacer.resume_once(lambda: calls.append("once"))
    await asyncio.sleep(0.05)
    assert calls.count("once") == 1 and calls.count("drain") >= 2
    pacer.discard(1)
    pacer.discard(2)
    await asyncio.sleep(0.03)
    assert pacer._handle is None
    ticks = pacer.ticks
    await asyncio.sleep(0.03)
    assert pacer.ticks == ticks
