"""Test media generated on the fly (PyAV libx264, Pillow JPEG) and cached per test session."""

from __future__ import annotations

import functools
import io
from fractions import Fraction

import av
import numpy as np
from PIL import Image


def _picture(width: int, height: int, index: int) -> np.ndarray:
    """A moving gradient with some noise: compresses like camera video, not like white noise."""
    y, x = np.mgrid[0:height, 0:width]
    rng = np.random.default_rng(index)
    base = np.stack(
        [
            (x * 255 // max(width - 1, 1) + index * 7) % 256,
            (y * 255 // max(height - 1, 1) + index * 3) % 256,
            ((x + y + index * 11) % 256),
        ],
        axis=-1,
    )
    noise = rng.integers(0, 24, (height, width, 3))
    return ((base + noise) % 256).astype(np.uint8)


@functools.lru_cache(maxsize=4)
def h264_with_pts(frames: int = 20, bframes: int = 2) -> tuple[tuple[int, bytes], ...]:
    """(pts, access unit) in decode order from libx264 with B-frames (pts in frame units)."""
    codec = av.CodecContext.create("libx264", "w")
    codec.width = 160
    codec.height = 128
    codec.pix_fmt = "yuv420p"
    codec.time_base = Fraction(1, 30)
    codec.gop_size = 10
    codec.options = {"preset": "ultrafast", "bf": str(bframes), "x264-params": "b-adapt=0"}
    out: list[tuple[int, bytes]] = []
    for i in range(frames):
        frame = av.VideoFrame.from_ndarray(_picture(160, 128, i), format="rgb24")
        frame = frame.reformat(format="yuv420p")
        frame.pts = i
        out.extend((int(p.pts), bytes(p)) for p in codec.encode(frame))
    out.extend((int(p.pts), bytes(p)) for p in codec.encode(None))
    return tuple(out)


@functools.lru_cache(maxsize=8)
def h264_access_units(
    width: int = 320,
    height: int = 240,
    frames: int = 30,
    gop: int = 10,
    bframes: int = 0,
    crf: int = 18,
    slices: int = 1,
) -> tuple[bytes, ...]:
    """Encode ``frames`` pictures with libx264; one Annex B access unit per returned item."""
    codec = av.CodecContext.create("libx264", "w")
    codec.width = width
    codec.height = height
    codec.pix_fmt = "yuv420p"
    codec.time_base = Fraction(1, 30)
    codec.framerate = Fraction(30, 1)
    codec.gop_size = gop
    codec.options = {
        "preset": "ultrafast",
        "crf": str(crf),
        "bf": str(bframes),
        "keyint_min": str(gop),
        "sc_threshold": "0",
        "x264-params": f"slices={slices}:repeat-headers=1",
    }
    out: list[bytes] = []
    for i in range(frames):
        frame = av.VideoFrame.from_ndarray(_picture(width, height, i), format="rgb24")
        frame = frame.reformat(format="yuv420p")
        frame.pts = i
        out.extend(bytes(p) for p in codec.encode(frame))
    out.extend(bytes(p) for p in codec.encode(None))
    return tuple(out)


def decode_h264(access_units: list[bytes]) -> list[tuple[int, int]]:
    """Decode Annex B access units with FFmpeg's decoder; the size of each decoded picture."""
    codec = av.CodecContext.create("h264", "r")
    sizes: list[tuple[int, int]] = []
    for au in access_units:
        for picture in codec.decode(av.Packet(au)):
            sizes.append((picture.width, picture.height))
    for picture in codec.decode(None):
        sizes.append((picture.width, picture.height))
    return sizes


@functools.lru_cache(maxsize=16)
def jpeg_frames(
    width: int = 320,
    height: int = 240,
    frames: int = 5,
    quality: int = 75,
    subsampling: int = 2,
    restart_rows: int = 0,
) -> tuple[bytes, ...]:
    """Baseline JPEG pictures from Pillow (standard Huffman tables).

    ``subsampling`` 2 is 4:2:0 (RFC 2435 type 1), 1 is 4:2:2 (type 0).
    """
    out = []
    for i in range(frames):
        image = Image.fromarray(_picture(width, height, i), "RGB")
        buf = io.BytesIO()
        kwargs: dict[str, object] = {}
        if restart_rows:
            kwargs["restart_marker_rows"] = restart_rows
        image.save(buf, "JPEG", quality=quality, subsampling=subsampling, optimize=False, **kwargs)
        out.append(buf.getvalue())
    return tuple(out)


def decode_jpeg(data: bytes) -> np.ndarray:
    """Decode a JPEG with Pillow into an RGB array."""
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
