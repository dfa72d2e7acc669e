"""Throughput of the multipart/x-mixed-replace parser on a 1080p MJPEG stream.

The stream is built in memory: 1920x1080 JPEG pictures (a gradient with noise, about the size a
camera sends at quality 85) framed as the simulated camera frames them
(``--boundary``, ``Content-Type``, ``Content-Length``, body, CRLF). It is fed to
:class:`ipcam_async.http.multipart.MultipartParser` in chunks of 4 KiB, 64 KiB (the size the
HTTP layer hands over) and 1 MiB, both with ``Content-Length`` and without it (parts found by
scanning for the boundary).

The reference is the practical limit of any Python-level parser of this format: one
``bytes.find`` scan for the boundary over the same buffer, already in one piece (no chunking,
no copies, no headers). The ratio is parser MB/s divided by that; the target is >= 0.5.
Figures are medians over rounds; the baseline is measured in the same run, rounds alternating.

Usage: ``python3 benchmarks/mjpeg_parse.py [--quick] [--rounds N] [--frames N]``
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ipcam_async.http.multipart import MultipartParser

BOUNDARY = b"ipcam-mjpeg"
TARGET_RATIO = 0.5


def make_frames(count: int, width: int = 1920, height: int = 1080) -> list[bytes]:
    """Distinct 1080p JPEG pictures (a moving gradient with noise)."""
    from PIL import Image

    rng = np.random.default_rng(7)
    base_x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    base_y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    frames: list[bytes] = []
    for i in range(count):
        r = (base_x + i * 4) % 256 + 0 * base_y
        g = (base_y + i * 2) % 256 + 0 * base_x
        b = ((base_x + base_y) / 2 + i) % 256
        rgb = np.stack([r, g, b], axis=-1)
        rgb += np.asarray(rng.normal(0, 6, size=rgb.shape), dtype=np.float32)
        image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=85)
        frames.append(out.getvalue())
    return frames


def make_stream(frames: list[bytes], repeat: int, *, sized: bool) -> bytes:
    parts = []
    for _ in range(repeat):
        for frame in frames:
            head = b"--" + BOUNDARY + b"\r\nContent-Type: image/jpeg\r\n"
            if sized:
                head += b"Content-Length: %d\r\n" % len(frame)
            parts.append(head + b"\r\n" + frame + b"\r\n")
    # The closing delimiter ends the last part (a scanned part ends only at a delimiter).
    parts.append(b"--" + BOUNDARY + b"--\r\n")
    return b"".join(parts)


def parse(stream: bytes, chunk: int) -> int:
    parser = MultipartParser(BOUNDARY, max_part_size=4 << 20)
    view = memoryview(stream)
    count = 0
    for i in range(0, len(stream), chunk):
        count += len(parser.feed(view[i : i + chunk]))
    return count


def find_scan(stream: bytes) -> int:
    needle = b"--" + BOUNDARY
    count = 0
    pos = stream.find(needle)
    while pos >= 0:
        count += 1
        pos = stream.find(needle, pos + len(needle))
    return count


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few seconds' run")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--frames", type=int, default=None, help="distinct pictures")
    args = ap.parse_args()
    rounds = args.rounds or (3 if args.quick else 9)
    distinct = args.frames or (4 if args.quick else 12)
    repeat = 2 if args.quick else 5
    frames = make_frames(distinct)
    mean_kib = statistics.mean(len(f) for f in frames) / 1024
    streams = {
        True: make_stream(frames, repeat, sized=True),
        False: make_stream(frames, repeat, sized=False),
    }
    expected = distinct * repeat
    size_mb = len(streams[True]) / 1e6

    cases: list[tuple[str, bool, int]] = [
        (f"Content-Length, {c // 1024} KiB chunks", True, c) for c in (4096, 65536, 1 << 20)
    ] + [(f"boundary scan, {c // 1024} KiB chunks", False, c) for c in (4096, 65536, 1 << 20)]
    base_times: list[float] = []
    times: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    for _ in range(rounds):
        t, n = timed(lambda: find_scan(streams[True]))
        assert n == expected + 1, n  # parts + the closing delimiter
        base_times.append(t)
        for name, sized, chunk in cases:
            stream = streams[sized]
            t, n = timed(lambda stream=stream, chunk=chunk: parse(stream, chunk))  # type: ignore[misc]
            assert n == expected, (name, n)
            times[name].append(t)

    base = statistics.median(base_times)
    base_rate = size_mb / base
    print(f"# MJPEG multipart parse: {expected} parts of 1920x1080 JPEG (mean {mean_kib:.0f} KiB),")
    print(
        f"# {size_mb:.1f} MB per pass, median of {rounds} rounds; "
        f"Python {platform.python_version()} on {platform.machine()}"
    )
    print()
    print(f"| {'case':<34} | {'MB/s':>8} | {'frames/s':>9} | {'ratio to bytes.find':>19} |")
    print(f"|{'-' * 36}|{'-' * 10}|{'-' * 11}|{'-' * 21}|")
    print(
        f"| {'bytes.find scan (limit)':<34} | {base_rate:8.0f} | {expected / base:9.0f} | "
        f"{1.0:19.2f} |"
    )
    worst = float("inf")
    for name, _, chunk in cases:
        t = statistics.median(times[name])
        ratio = base / t
        if chunk == 65536:
            worst = min(worst, ratio)
        print(f"| {name:<34} | {size_mb / t:8.0f} | {expected / t:9.0f} | {ratio:19.2f} |")
    print()
    verdict = "meets" if worst >= TARGET_RATIO else "MISSES"
    print(f"64 KiB chunks: worst ratio {worst:.2f} {verdict} the target >= {TARGET_RATIO}")


if __name__ == "__main__":
    main()
