"""FFmpeg as the RTP sender (a third-party packetizer) into the receive path, over loopback UDP."""

from __future__ import annotations

import array
import itertools
import socket
import subprocess
import sys
import time

import pytest
from conftest import require_tool
from rtp_testmedia import decode_h264, decode_jpeg

from ipcam_async.rtp import AudioFrame, TrackReceiver, VideoFrame, ulaw_to_pcm16

pytestmark = pytest.mark.interop


def ffmpeg_to_udp(args: list[str]) -> list[bytes]:
    """Run FFmpeg sending RTP to a loopback UDP socket; return the datagrams received."""
    ffmpeg = require_tool("ffmpeg")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.5)
        port = sock.getsockname()[1]
        cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", *args]
        cmd.append(f"rtp://127.0.0.1:{port}?pkt_size=1200")
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        datagrams: list[bytes] = []
        deadline = time.monotonic() + 30
        try:
            while time.monotonic() < deadline:
                try:
                    datagrams.append(sock.recv(65536))
                except TimeoutError:
                    if proc.poll() is not None:
                        break
            _, err = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, err.decode(errors="replace")
        return datagrams
    finally:
        sock.close()


def receive(track: TrackReceiver, datagrams: list[bytes]) -> list[VideoFrame | AudioFrame]:
    frames: list[VideoFrame | AudioFrame] = []
    for i, data in enumerate(datagrams):
        frames += track.feed_rtp(data, i * 0.001)
    frames += track.flush()
    return frames


def test_ffmpeg_h264_rtp() -> None:
    datagrams = ffmpeg_to_udp(
        [
            "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30",
            "-frames:v", "30", "-c:v", "libx264", "-preset", "ultrafast",
            "-g", "10", "-bf", "0", "-f", "rtp",
        ]
    )  # fmt: skip
    track = TrackReceiver(
        track=0,
        codec="H264",
        clock_rate=90000,
        payload_type=96,
        fmtp={"packetization-mode": "1"},
        reorder=True,
    )
    frames = [f for f in receive(track, datagrams) if isinstance(f, VideoFrame)]
    assert len(frames) == 30
    assert [f.keyframe for f in frames] == [i % 10 == 0 for i in range(30)]
    assert decode_h264([f.data for f in frames]) == [(320, 240)] * 30
    s = track.stats
    assert (s.lost, s.dropped_frames, s.malformed, s.packets) == (0, 0, 0, len(datagrams))
    params = track.parameters
    assert params is not None and (params.width, params.height) == (320, 240)
    steps = {b.ext_timestamp - a.ext_timestamp for a, b in itertools.pairwise(frames)}
    assert steps == {3000}


def test_ffmpeg_mjpeg_rtp() -> None:
    datagrams = ffmpeg_to_udp(
        [
            "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
            "-frames:v", "5", "-c:v", "mjpeg", "-huffman", "default",
            "-pix_fmt", "yuvj420p", "-q:v", "5", "-f", "rtp",
        ]
    )  # fmt: skip
    track = TrackReceiver(track=0, codec="JPEG", clock_rate=90000, payload_type=26)
    frames = receive(track, datagrams)
    assert len(frames) == 5
    for f in frames:
        assert isinstance(f, VideoFrame) and (f.width, f.height) == (320, 240)
        assert decode_jpeg(f.data).shape == (240, 320, 3)
    assert track.stats.dropped_frames == 0


def test_ffmpeg_pcmu_rtp() -> None:
    datagrams = ffmpeg_to_udp(
        [
            "-f", "lavfi", "-i", "sine=frequency=400:sample_rate=8000:duration=1",
            "-c:a", "pcm_mulaw", "-ar", "8000", "-ac", "1", "-f", "rtp",
        ]
    )  # fmt: skip
    track = TrackReceiver(track=1, codec="PCMU", clock_rate=8000, payload_type=0)
    frames = receive(track, datagrams)
    ulaw = b"".join(f.data for f in frames)
    assert len(ulaw) == 8000
    pcm = array.array("h")
    pcm.frombytes(ulaw_to_pcm16(ulaw))
    if sys.byteorder != "little":
        pcm.byteswap()
    crossings = sum(1 for a, b in itertools.pairwise(pcm) if (a < 0) != (b < 0))
    assert 790 <= crossings <= 810  # 400 Hz for one second
    assert max(pcm) > 3000
