#!/usr/bin/env python3
"""Generate the media clips the simulated camera serves (``ipcam_async/sim/media/``).

The clips are deterministic: a moving test pattern with the frame number drawn as large
seven-segment digits, encoded with libx264 (single-threaded, fixed GOP, no B-frames) through
PyAV, JPEG frames written with Pillow, and a G.711 µ-law tone computed here. Re-running the
script with the same PyAV/x264/libjpeg versions gives byte-identical files.

Files written:

* ``h264_1080p.264`` 1920x1080, ``h264_720p.264`` 1280x720 and ``h264_360p.264`` 640x360:
  H.264 Annex B, 30 fps, GOP 30 (an IDR with SPS/PPS every second), Main profile, 4 s,
  about 1.2, 0.8 and 0.3 Mbit/s.
* ``jpeg_360p.mjpeg``: 640x360 baseline JPEG frames (4:2:0), concatenated, 30 fps, 2 s.
* ``audio.ulaw``: headerless G.711 µ-law, 8 kHz mono, 4 s: a short beep at each second.

``write_h264`` is importable (the benchmarks use it to make a clip at a chosen bitrate).

Usage: ``python3 scripts/make_media.py [--out DIR]``
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "ipcam_async" / "sim" / "media"

# Seven-segment layout: segments a..g as (row, col, vertical) cells in a 5x3 grid of strokes.
_SEGMENTS = {
    "0": "abcdef",
    "1": "bc",
    "2": "abdeg",
    "3": "abcdg",
    "4": "bcfg",
    "5": "acdfg",
    "6": "acdefg",
    "7": "abc",
    "8": "abcdefg",
    "9": "abcdfg",
}

_BARS = np.array(
    [
        [192, 192, 192],
        [192, 192, 0],
        [0, 192, 192],
        [0, 192, 0],
        [192, 0, 192],
        [192, 0, 0],
        [0, 0, 192],
        [16, 16, 16],
    ],
    dtype=np.uint8,
)


def _draw_digit(img: np.ndarray, digit: str, x: int, y: int, size: int) -> None:
    """Draw one seven-segment digit of height ``2*size`` at (x, y), white on the image."""
    t = max(2, size // 5)
    w = size
    rects = {
        "a": (x, y, w, t),
        "b": (x + w - t, y, t, size),
        "c": (x + w - t, y + size, t, size),
        "d": (x, y + 2 * size - t, w, t),
        "e": (x, y + size, t, size),
        "f": (x, y, t, size),
        "g": (x, y + size - t // 2, w, t),
    }
    for seg in _SEGMENTS[digit]:
        rx, ry, rw, rh = rects[seg]
        img[ry : ry + rh, rx : rx + rw] = 255


def draw_number(img: np.ndarray, text: str, x: int, y: int, size: int) -> None:
    """Draw ``text`` (digits only) as seven-segment digits on a dark box."""
    pad = size // 4
    width = len(text) * (size + pad) + pad
    img[y - pad : y + 2 * size + pad, x - pad : x + width] = 0
    for i, ch in enumerate(text):
        _draw_digit(img, ch, x + i * (size + pad), y, size)


def test_pattern(width: int, height: int, index: int, total: int, noise: float = 0.0) -> np.ndarray:
    """Return an RGB frame: colour bars, a box moving left to right, the frame number.

    ``noise`` in 0..1 covers that fraction of the lower band with pseudo-random pixels that
    change every frame (seeded by ``index``), to make a clip costlier to encode.
    """
    img = np.empty((height, width, 3), dtype=np.uint8)
    bar_w = width // len(_BARS)
    for i, colour in enumerate(_BARS):
        img[:, i * bar_w : (i + 1) * bar_w] = colour
    img[:, len(_BARS) * bar_w :] = _BARS[-1]
    band_top = height * 3 // 4
    img[band_top:] = 40
    # A gradient ramp so the encoder has something besides flat areas.
    ramp = np.linspace(0, 255, width, dtype=np.uint8)
    img[band_top : band_top + height // 16, :, 0] = ramp
    img[band_top : band_top + height // 16, :, 1] = ramp
    img[band_top : band_top + height // 16, :, 2] = ramp
    box = height // 6
    travel = max(1, width - box)
    bx = (index * travel) // max(1, total - 1) if total > 1 else 0
    by = band_top - box - height // 40
    img[by : by + box, bx : bx + box] = (255, 255, 255)
    img[by + box // 4 : by + 3 * box // 4, bx + box // 4 : bx + 3 * box // 4] = (255, 64, 0)
    if noise > 0.0:
        rng = np.random.default_rng(index)
        n_rows = int((height - band_top - height // 16) * noise)
        if n_rows > 0:
            top = height - n_rows
            img[top:] = rng.integers(0, 256, size=(n_rows, width, 3), dtype=np.uint8)
    size = height // 8
    draw_number(img, f"{index:04d}", width // 20, height // 12, size)
    return img


def write_h264(
    path: Path,
    *,
    width: int,
    height: int,
    fps: int = 30,
    seconds: float = 4.0,
    bitrate: int = 1_000_000,
    gop: int = 30,
    profile: str = "main",
    noise: float = 0.0,
    preset: str = "medium",
) -> int:
    """Encode a test-pattern clip to an H.264 Annex B file; return its size in bytes.

    Single-threaded x264 with a fixed GOP and no B-frames, SPS/PPS repeated before each IDR,
    so the clip can be looped and joined at any IDR.
    """
    import av

    frames = round(fps * seconds)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="h264") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = bitrate
        kbit = bitrate // 1000
        stream.options = {
            "profile": profile,
            "preset": preset,
            "x264-params": (
                f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:ref=1:repeat-headers=1"
                f":threads=1:sliced-threads=0:lookahead-threads=1:rc-lookahead=0"
                f":vbv-maxrate={kbit}:vbv-bufsize={kbit}:aud=0"
            ),
        }
        stream.codec_context.gop_size = gop
        for i in range(frames):
            rgb = test_pattern(width, height, i, frames, noise)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path.stat().st_size


def write_jpeg_frames(
    path: Path, *, width: int, height: int, fps: int = 30, seconds: float = 2.0, quality: int = 50
) -> int:
    """Write baseline 4:2:0 JPEG frames back to back into one file; return its size."""
    from PIL import Image

    frames = round(fps * seconds)
    buf = io.BytesIO()
    for i in range(frames):
        rgb = test_pattern(width, height, i, frames)
        Image.fromarray(rgb, "RGB").save(
            buf, format="JPEG", quality=quality, subsampling=2, optimize=False, progressive=False
        )
    path.write_bytes(buf.getvalue())
    return len(buf.getvalue())


def ulaw_encode(samples: np.ndarray) -> bytes:
    """G.711 µ-law encode 16-bit linear PCM samples (the standard segment algorithm)."""
    bias = 0x84
    clip = 32635
    s = samples.astype(np.int32)
    sign = np.where(s < 0, 0x80, 0x00)
    mag = np.minimum(np.abs(s), clip) + bias
    exponent = np.floor(np.log2(mag)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (mag >> (exponent + 3)) & 0x0F
    code = ~(sign | (exponent << 4) | mantissa) & 0xFF
    return code.astype(np.uint8).tobytes()


def write_ulaw(path: Path, *, seconds: float = 4.0, rate: int = 8000) -> int:
    """Write µ-law audio: a 1 kHz beep of 100 ms at each whole second, a quiet 440 Hz hum."""
    n = int(rate * seconds)
    t = np.arange(n) / rate
    signal = 1500.0 * np.sin(2 * np.pi * 440.0 * t)
    beep = (t % 1.0) < 0.1
    signal[beep] = 12000.0 * np.sin(2 * np.pi * 1000.0 * t[beep])
    data = ulaw_encode(np.round(signal).astype(np.int16))
    path.write_bytes(data)
    return len(data)


def main(argv: list[str] | None = None) -> int:
    """Write every clip into ``--out`` and print their sizes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    sizes = {
        "h264_1080p.264": write_h264(
            out / "h264_1080p.264", width=1920, height=1080, bitrate=1_200_000, noise=0.1
        ),
        "h264_720p.264": write_h264(
            out / "h264_720p.264", width=1280, height=720, bitrate=800_000, noise=0.1
        ),
        "h264_360p.264": write_h264(
            out / "h264_360p.264", width=640, height=360, bitrate=300_000, noise=0.1
        ),
        "jpeg_360p.mjpeg": write_jpeg_frames(out / "jpeg_360p.mjpeg", width=640, height=360),
        "audio.ulaw": write_ulaw(out / "audio.ulaw"),
    }
    total = 0
    for name, size in sizes.items():
        total += size
        print(f"{name:18s} {size / 1024:8.1f} KiB")
    print(f"{'total':18s} {total / 1024:8.1f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
