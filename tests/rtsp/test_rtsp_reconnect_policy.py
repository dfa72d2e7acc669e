"""One ReconnectPolicy for every stream: RTSP gives up after max_failures, and an unexpected
error in the reconnect supervisor ends frames() with that error instead of hanging it."""

from __future__ import annotations

import asyncio

import pytest

from ipcam_async import ReconnectPolicy
from ipcam_async.api import reconnect as http_reconnect
from ipcam_async.errors import RtspError
from ipcam_async.rtsp import ReconnectPolicy as RtspReconnectPolicy
from ipcam_async.rtsp.stream import RtspStream
from ipcam_async.sim import SimulatedCamera


def test_one_policy_class_everywhere() -> None:
    assert RtspReconnectPolicy is ReconnectPolicy is http_reconnect.ReconnectPolicy


async def drain(stream: RtspStream) -> int:
    count = 0
    async for _ in stream.frames():
        count += 1
    return count


async def test_rtsp_gives_up_after_max_failures() -> None:
    async with SimulatedCamera(mjpeg=False) as sim, sim.camera() as cam:
        policy = ReconnectPolicy(initial_delay=0.02, max_failures=2)
        sim.faults.rtsp.drop_tcp_after = 0.5  # the camera cuts every RTSP connection
        async with cam.stream("h264_4", reconnect=policy) as stream:
            # ... and refuses every session after the first one.
            sim.faults.rtsp.fail_next(503, times=1000)
            with pytest.raises(RtspError) as info:
                await asyncio.wait_for(drain(stream), 20)
    assert info.value.status == 503


async def test_unexpected_supervisor_error_ends_the_iterator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken_open(self: RtspStream) -> None:
        raise RuntimeError("bug while reconnecting")

    async with SimulatedCamera(mjpeg=False) as sim, sim.camera() as cam:
        policy = ReconnectPolicy(initial_delay=0.02)
        sim.faults.rtsp.drop_tcp_after = 0.5  # the camera cuts every RTSP connection
        async with cam.stream("h264_4", reconnect=policy) as stream:
            monkeypatch.setattr(RtspStream, "_open", broken_open)
            with pytest.raises(RuntimeError, match="bug while reconnecting"):
                await asyncio.wait_for(drain(stream), 20)
