"""End to end against the simulated camera's RTSP server (spec 5.5): Camera.stream and faults."""

from __future__ import annotations

import asyncio
from typing import Any

import av
import pytest

from ipcam_async.rtp.frames import AudioFrame, VideoFrame
from ipcam_async.rtp.options import RtpOptions
from ipcam_async.rtsp import ReconnectPolicy, RtspStream
from ipcam_async.sim import SimulatedCamera


async def gather(stream: RtspStream, video: int, audio: int = 0, seconds: float = 10) -> list[Any]:
    frames: list[Any] = []
    nv = na = 0
    async with asyncio.timeout(seconds):
        async for frame in stream.frames():
            frames.append(frame)
            if isinstance(frame, VideoFrame):
                nv += 1
            else:
                na += 1
            if nv >= video and na >= audio:
                break
    return frames


def decode(frames: list[VideoFrame]) -> int:
    codec = av.CodecContext.create("h264", "r")
    count = sum(len(codec.decode(av.Packet(f.data))) for f in frames)
    return count + len(codec.decode(None))


@pytest.mark.parametrize(("auth", "transport"), [("digest", "tcp"), ("basic", "udp")])
async def test_camera_stream_h264_with_audio(auth: str, transport: str) -> None:
    async with (
        SimulatedCamera(auth=auth, mjpeg=False) as sim,
        sim.camera() as cam,
        cam.stream(
            "h264_3",
            transport=transport,
            audio=True,
            rtp_options=RtpOptions(drop_until_keyframe=True),
        ) as stream,
    ):
        frames = await gather(stream, video=15, audio=10)
        stats = stream.stats
        params = stream.parameters
    videos = [f for f in frames if isinstance(f, VideoFrame)]
    assert any(isinstance(f, AudioFrame) for f in frames)
    assert videos[0].keyframe
    assert decode(videos) == len(videos)
    assert params is not None and (params.width, params.height) == (640, 360)
    assert stats.transport == transport and stats.tracks[0].lost == 0


async def test_camera_stream_jpeg() -> None:
    async with (
        SimulatedCamera(mjpeg=False) as sim,
        sim.camera() as cam,
        cam.stream("jpeg") as stream,
    ):
        frames = await gather(stream, video=3)
    codec = av.CodecContext.create("mjpeg", "r")
    for frame in frames:
        (picture,) = codec.decode(av.Packet(frame.data))
        assert (picture.width, picture.height) == (640, 360)


async def test_reconnect_after_dropped_connection() -> None:
    async with SimulatedCamera(mjpeg=False) as sim, sim.camera() as cam:
        sim.faults.rtsp.drop_tcp_after = 0.5  # the camera aborts every RTSP connection
        policy = ReconnectPolicy(initial_delay=0.05)
        async with cam.stream("h264_4", reconnect=policy) as stream:
            frames = await gather(stream, video=40)
            reconnects = stream.stats.reconnects
    assert reconnects >= 1
    assert sum(f.discontinuity for f in frames) == reconnects
    assert not frames[0].discontinuity
