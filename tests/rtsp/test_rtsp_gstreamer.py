"""Interop with a third-party server: GStreamer's gst-rtsp-server (H.264 + PCMU, MJPEG).

The server runs in the system Python (python3-gi) as a subprocess; frames are decoded with PyAV
(H.264) and Pillow (JPEG).
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest
from conftest import IN_CI, require_gst_element
from PIL import Image

from ipcam_async.errors import AuthError
from ipcam_async.rtp.frames import AudioFrame, VideoFrame
from ipcam_async.rtp.options import RtpOptions
from ipcam_async.rtsp import RtspStream

pytestmark = pytest.mark.interop

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER = Path(__file__).with_name("gst_rtsp_server.py")


def _require_gi() -> None:
    ok = os.path.exists(SYSTEM_PYTHON) and (
        subprocess.run(
            [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
            capture_output=True,
            timeout=30,
        ).returncode
        == 0
    )
    if not ok:
        message = "python3-gi with GstRtspServer is missing (scripts/install-test-deps.sh)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module", params=["basic", "digest"])
def gst_server(request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    _require_gi()
    for element in ("x264enc", "mulawenc", "jpegenc", "rtph264pay", "rtpjpegpay", "rtppcmupay"):
        require_gst_element(element)
    proc = subprocess.Popen(
        [
            SYSTEM_PYTHON,
            str(SERVER),
            "--auth",
            request.param,
            "--user",
            "admin",
            "--password",
            "s3cret",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        if not line.startswith("PORT "):
            pytest.fail(f"GStreamer RTSP server did not start: {line!r}")
        yield request.param, int(line.split()[1])
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


async def gather(stream: RtspStream, video: int, audio: int = 0) -> list[Any]:
    frames: list[Any] = []
    counts = {"v": 0, "a": 0}
    async with asyncio.timeout(15):
        async for frame in stream.frames():
            frames.append(frame)
            counts["v" if isinstance(frame, VideoFrame) else "a"] += 1
            if counts["v"] >= video and counts["a"] >= audio:
                return frames
    return frames


@pytest.mark.parametrize("transport", ["tcp", "udp"])
async def test_h264_with_pcmu_audio_decodes(gst_server: tuple[str, int], transport: str) -> None:
    _, port = gst_server
    url = f"rtsp://admin:s3cret@127.0.0.1:{port}/h264"
    options = RtpOptions(drop_until_keyframe=True)
    async with RtspStream(url, transport=transport, audio=True, rtp_options=options) as stream:  # type: ignore[arg-type]
        frames = await gather(stream, video=20, audio=5)
        stats = stream.stats
        params = stream.parameters
    videos = [f for f in frames if isinstance(f, VideoFrame)]
    audios = [f for f in frames if isinstance(f, AudioFrame)]
    assert videos[0].keyframe and videos[0].codec == "H264"
    codec = av.CodecContext.create("h264", "r")
    decoded = []
    for frame in videos:
        decoded += codec.decode(av.Packet(frame.data))
    decoded += codec.decode(None)
    assert len(decoded) == len(videos)
    assert (decoded[0].width, decoded[0].height) == (320, 240)
    assert params is not None and (params.width, params.height) == (320, 240)
    assert audios and all(a.codec == "PCMU" and a.sample_rate == 8000 for a in audios)
    assert stats.transport == transport
    assert stats.tracks[0].lost == 0 and stats.tracks[0].packets > 0


@pytest.mark.parametrize("transport", ["tcp", "udp"])
async def test_mjpeg_decodes(gst_server: tuple[str, int], transport: str) -> None:
    _, port = gst_server
    url = f"rtsp://127.0.0.1:{port}/jpeg"
    async with RtspStream(url, username="admin", password="s3cret", transport=transport) as stream:  # type: ignore[arg-type]
        frames = await gather(stream, video=5)
    for frame in frames:
        assert frame.codec == "JPEG"
        image = Image.open(io.BytesIO(frame.data))
        image.load()
        assert image.size == (320, 240)


async def test_wrong_password_is_refused(gst_server: tuple[str, int]) -> None:
    _, port = gst_server
    with pytest.raises(AuthError):
        async with RtspStream(f"rtsp://admin:wrong@127.0.0.1:{port}/h264"):
            pass
