"""1,000 open/close cycles leave no task, no socket and no file descriptor behind."""

from __future__ import annotations

import asyncio
import gc
import os

from rtsp_media import h264_access_units, video_packets
from rtsp_scripted_server import FakeCamera

from ipcam_async.rtsp import RtspStream
from ipcam_async.rtsp.client import RtspClient

CYCLES = 1000


class NullSink:
    def on_rtp(self, data: memoryview, arrival: float) -> None:
        pass

    def on_rtcp(self, data: memoryview, arrival: float) -> None:
        pass

    def seed(self, seq: int | None, rtptime: int | None) -> None:
        pass

    def receiver_report(self, now: float, receiver_ssrc: int) -> bytes | None:
        return None


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def settle(cam: FakeCamera, baseline_tasks: int) -> None:
    for _ in range(200):
        if len(asyncio.all_tasks()) <= baseline_tasks and not cam.server._tasks:
            return
        await asyncio.sleep(0.01)


async def test_open_close_cycles_leak_nothing() -> None:
    async with FakeCamera() as cam:
        url = cam.url()
        # Warm-up cycle so lazily created objects do not count as leaks.
        async with RtspClient(url) as client:
            await client.describe()
        await settle(cam, 1)
        baseline_tasks = len(asyncio.all_tasks())
        gc.collect()
        baseline_fds = open_fds()
        for i in range(CYCLES):
            transport = "udp" if i % 2 else "tcp"
            paced = 0.05 if i % 4 >= 2 else 0.0  # half the cycles read through the pacer
            async with RtspClient(url, transport=transport, read_interval=paced) as client:
                sdp = await client.describe()
                await client.start([(sdp.media[0], NullSink())])
        await settle(cam, baseline_tasks)
        gc.collect()
        assert len(asyncio.all_tasks()) == baseline_tasks
        assert open_fds() == baseline_fds
        assert cam.server.methods().count("TEARDOWN") == CYCLES


async def test_stream_open_close_cycles_leak_nothing() -> None:
    units = h264_access_units()[:2]
    async with FakeCamera(packets={0: video_packets(units)}) as cam:
        url = cam.url()
        async with RtspStream(url) as stream:
            async for _ in stream.frames():
                break
        await settle(cam, 1)
        baseline_tasks = len(asyncio.all_tasks())
        gc.collect()
        baseline_fds = open_fds()
        for i in range(CYCLES):
            transport = "udp" if i % 2 else "tcp"
            paced = 0.05 if i % 4 >= 2 else 0.0
            async with RtspStream(url, transport=transport, read_interval=paced) as stream:  # type: ignore[arg-type]
                if i % 100 in (0, 2, 3):
                    async for frame in stream.frames():
                        assert frame.keyframe
                        break
        await settle(cam, baseline_tasks)
        gc.collect()
        assert len(asyncio.all_tasks()) == baseline_tasks
        assert open_fds() == baseline_fds
