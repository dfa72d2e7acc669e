"""The simulated camera serves a user's own H.264 Annex B file, from Python and from `ipcam sim`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import av

from ipcam_async.rtp.frames import VideoFrame
from ipcam_async.rtsp import RtspStream
from ipcam_async.sim import SimulatedCamera
from ipcam_async.sim.rtsp import build_streams

MEDIA = Path(__file__).resolve().parents[2] / "ipcam_async" / "sim" / "media"


def own_clip(tmp_path: Path) -> Path:
    """A 640x360 Annex B clip standing in for the user's own recording."""
    clip = tmp_path / "mine.264"
    clip.write_bytes((MEDIA / "h264_360p.264").read_bytes())
    return clip


async def first_frames(url: str, count: int) -> list[VideoFrame]:
    frames: list[VideoFrame] = []
    async with RtspStream(url, username="admin", password="1234") as stream:
        async for frame in stream.frames():
            if isinstance(frame, VideoFrame):
                frames.append(frame)
                if len(frames) == count:
                    break
    return frames


def decoded_size(frames: list[VideoFrame]) -> tuple[int, int, int]:
    codec = av.CodecContext.create("h264", "r")
    pictures = [p for f in frames for p in codec.decode(av.Packet(f.data))]
    pictures += codec.decode(None)
    return len(pictures), pictures[0].width, pictures[0].height


async def test_own_file_on_its_own_path(tmp_path: Path) -> None:
    streams = build_streams(h264=[f"mine={own_clip(tmp_path)}"])
    async with SimulatedCamera(mjpeg=False, rtsp_streams=streams) as sim:
        frames = await first_frames(f"rtsp://{sim.host}:{sim.rtsp_port}/mine", 10)
        packaged = await first_frames(f"rtsp://{sim.host}:{sim.rtsp_port}/h264", 1)
    assert frames[0].keyframe
    assert decoded_size(frames) == (10, 640, 360)
    # The spec's paths keep their packaged clips beside the user's one.
    assert decoded_size(packaged)[1:] == (1920, 1080)


async def test_ipcam_sim_serves_own_file(tmp_path: Path) -> None:
    clip = own_clip(tmp_path)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ipcam_async", "--json", "sim", "--http-port", "0",
        "--rtsp-port", "0", "--no-mjpeg", "--h264", str(clip),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "IPCAM_PASSWORD": "1234"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        raw = b""
        while True:
            line = await asyncio.wait_for(proc.stdout.readline(), 20)
            assert line, (await proc.stderr.read()).decode() if proc.stderr else "no output"
            raw += line
            try:
                info = json.loads(raw)
                break
            except json.JSONDecodeError:
                continue
        frames = await first_frames(info["urls"]["rtsp"], 5)
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
    # /h264 now carries the user's 640x360 clip instead of the packaged 1080p one.
    assert decoded_size(frames) == (5, 640, 360)


def test_ipcam_sim_unreadable_file_is_one_line_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ipcam_async", "sim", "--h264", str(tmp_path / "missing.264")],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot read media" in lines[0]
