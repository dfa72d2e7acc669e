#!/usr/bin/env python3
"""Streaming transfers of the system API over loopback: firmware upload and storage download.

Measures, against the in-process simulated camera (which hashes and discards uploads):

* ``cam.system.upgrade`` of an N MiB firmware file under Basic and Digest auth, beside a plain
  aiohttp multipart POST of the same file (``aiohttp.FormData`` with an open file) as baseline;
* ``cam.storage.download`` of an N MiB recording to disk.

For each: median seconds and MiB/s over the repetitions, and the process's peak RSS growth during
the transfer (sampled from the progress callbacks; the simulator runs in the same process, so
the figure includes its side too). Prints a table; ``--quick`` runs a few seconds.

Usage: ``python3 benchmarks/system_transfer.py [--quick] [--size MIB] [--repeat N]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ipcam_async.sim import SimulatedCamera
from ipcam_async.sim.http.cgi_system import system_records

MiB = 1 << 20


def rss() -> int:
    """Resident set size of this process in bytes."""
    with open(f"/proc/{os.getpid()}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def make_file(path: Path, size: int) -> None:
    """A file of ``size`` random-looking bytes (1 MiB pattern repeated), really on disk."""
    block = os.urandom(MiB)
    with path.open("wb") as fh:
        for _ in range(size // MiB):
            fh.write(block)


class Peak:
    """Progress callback recording the peak RSS seen during a transfer."""

    def __init__(self) -> None:
        self.base = rss()
        self.peak = self.base

    def __call__(self, done: int, total: int | None) -> None:
        self.peak = max(self.peak, rss())

    @property
    def growth(self) -> float:
        return (self.peak - self.base) / MiB


async def measure(repeat: int, run: Callable[[Peak], Awaitable[None]]) -> tuple[float, float]:
    """Median seconds and max RSS growth (MiB) of ``repeat`` runs."""
    times: list[float] = []
    growth = 0.0
    for _ in range(repeat):
        peak = Peak()
        start = time.perf_counter()
        await run(peak)
        times.append(time.perf_counter() - start)
        growth = max(growth, peak.growth)
    return statistics.median(times), growth


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small file, one repetition")
    parser.add_argument("--size", type=int, default=256, help="file size in MiB (default 256)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (default 3)")
    args = parser.parse_args()
    size_mib = 32 if args.quick else args.size
    repeat = 1 if args.quick else args.repeat
    size = size_mib * MiB

    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "uImage"
        await asyncio.to_thread(make_file, image, size)
        async with SimulatedCamera(rtsp=False, mjpeg=False) as sim:

            async def baseline(peak: Peak) -> None:
                url = f"{sim.http_url}/cgi-bin/admin/firmwareupgrade.cgi?filename=uImage"
                auth = {"Authorization": aiohttp.encode_basic_auth(sim.username, sim.password)}
                async with aiohttp.ClientSession(headers=auth) as session:
                    with image.open("rb") as fh:
                        form = aiohttp.FormData()
                        form.add_field("uImage", fh, filename="uImage")
                        async with session.post(url, data=form) as response:
                            response.raise_for_status()
                peak(size, size)

            def upgrade(auth: str) -> Callable[[Peak], Awaitable[None]]:
                async def run(peak: Peak) -> None:
                    async with sim.camera(auth=auth) as cam:
                        await cam.system.upgrade(image, prepare=False, progress=peak)

                return run

            for label, run in (
                ("aiohttp FormData POST (baseline)", baseline),
                ("cam.system.upgrade, Basic", upgrade("basic")),
                ("cam.system.upgrade, Digest", upgrade("digest")),
            ):
                seconds, growth = await measure(repeat, run)
                rows.append((label, seconds, growth))
            uploads = system_records(sim.state).uploads
            assert all(u.size == size for u in uploads), "simulator received a wrong size"

            recording = await asyncio.to_thread(image.read_bytes)
            sim.state.storage_files["A_20110101_010101.avi"] = recording
            del recording
            out = Path(tmp) / "download.avi"

            async def plain_get(peak: Peak) -> None:
                url = (
                    f"{sim.http_url}/cgi-bin/admin/storagemanagement.cgi"
                    "?action=download&filename=A_20110101_010101.avi"
                )
                auth = {"Authorization": aiohttp.encode_basic_auth(sim.username, sim.password)}
                async with (
                    aiohttp.ClientSession(headers=auth) as session,
                    session.get(url) as response,
                ):
                    response.raise_for_status()
                    with out.open("wb") as fh:
                        async for chunk in response.content.iter_chunked(256 * 1024):
                            fh.write(chunk)
                peak(size, size)

            async def download(peak: Peak) -> None:
                async with sim.camera() as cam:
                    await cam.storage.download(
                        "A_20110101_010101.avi", out, overwrite=True, progress=peak
                    )

            for label, run in (
                ("aiohttp GET to file (baseline)", plain_get),
                ("cam.storage.download to disk", download),
            ):
                seconds, growth = await measure(repeat, run)
                rows.append((label, seconds, growth))

    print(f"\nfile {size_mib} MiB, median of {repeat}, loopback, simulator in-process")
    print(f"{'transfer':36} {'seconds':>8} {'MiB/s':>8} {'vs base':>8} {'RSS +MiB':>9}")
    base = rows[0][1]
    for label, seconds, growth in rows:
        if "baseline" in label:
            base = seconds
        print(
            f"{label:36} {seconds:8.2f} {size_mib / seconds:8.0f} "
            f"{seconds / base:7.2f}x {growth:9.1f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
