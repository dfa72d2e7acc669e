"""Small H.264 clips made with PyAV for the RTSP tests, and a decoder helper."""

from __future__ import annotations

import functools
from fractions import Fraction

import av
import numpy as np

from ipcam_async.rtp.h264 import H264Packetizer, split_annexb

SSRC = 0x11223344
FRAME_TICKS = 3000


@functools.lru_cache(maxsize=4)
def h264_access_units(
    count: int = 30, gop: int = 10, width: int = 160, height: int = 96
) -> list[bytes]:
    """``count`` Annex B access units (SPS/PPS in front of every IDR), no B-frames."""
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height = width, height
    codec.pix_fmt = "yuv420p"
    codec.time_base = Fraction(1, 30)
    codec.framerate = Fraction(30, 1)
    codec.gop_size = gop
    codec.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "bframes": "0",
        "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:repeat-headers=1",
    }
    units: list[bytes] = []
    for i in range(count):
        img = np.zeros((height, width, 3), dtype=np.uint8)
        img[:, (i * 4) % width :] = (40 + i * 5) % 255
        frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        units.extend(bytes(p) for p in codec.encode(frame))
    units.extend(bytes(p) for p in codec.encode(None))
    return units


def decode_h264(units: list[bytes]) -> int:
    """Decode Annex B access units with FFmpeg's decoder; return the picture count."""
    codec = av.CodecContext.create("h264", "r")
    pictures = 0
    for data in units:
        pictures += len(codec.decode(av.Packet(data)))
    pictures += len(codec.decode(None))
    return pictures


def video_packets(
    units: list[bytes],
    *,
    ssrc: int = SSRC,
    seq: int = 1000,
    marker: bool = True,
    pt: int = 99,
    mtu: int = 300,
) -> list[bytes]:
    pk = H264Packetizer(payload_type=pt, ssrc=ssrc, mtu=mtu, seq=seq)
    out: list[bytes] = []
    for i, au in enumerate(units):
        out += pk.packetize_nals(split_annexb(au), 90000 + i * FRAME_TICKS, marker=marker)
    return out
