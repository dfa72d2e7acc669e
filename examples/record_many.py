"""Record several cameras at once into crash-safe MP4 segments, with a live status line.

    python examples/record_many.py --seconds 5                  # 3 simulated cameras, in-process
    python examples/record_many.py rtsp://admin:1234@127.0.0.1:8554/h264 --seconds 30  # `ipcam sim`

Each camera gets its own supervised task (reconnects with backoff; one failing camera never stops
the others). Files land in ``<out>/<camera>/<camera>_<UTC start>.mp4``; stopping with Ctrl-C
flushes and closes every file. Any file stays playable up to its last fragment even after a crash.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

from ipcam_async.record import Recorder
from ipcam_async.sim import SimulatedCamera


async def main(urls: list[str], out: Path, seconds: float, segment: float) -> int:
    async with contextlib.AsyncExitStack() as stack:
        rec = await stack.enter_async_context(Recorder(out, segment=segment))
        if urls:
            for url in urls:
                rec.add(url)  # rtsp://user:password@host:port/h264 (credentials never logged)
        else:
            # No camera given: three simulated cameras, each with its own RTSP server.
            for n in range(3):
                sim = await stack.enter_async_context(SimulatedCamera(mjpeg=False))
                cam = await stack.enter_async_context(sim.camera())
                rec.add(cam, "h264", name=f"sim{n}")
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            await asyncio.sleep(1.0)
            line = "  ".join(
                f"{s.name}: {s.state} {s.frames}f {s.bytes >> 10}KiB lost={s.lost}"
                for s in rec.stats.values()
            )
            print(line, flush=True)
    # Leaving the `async with` closed every segment; `rec.finished` lists them.
    for info in rec.finished:
        print(f"{info.path}  {info.duration:.1f} s  {info.video_frames} frames  ({info.reason})")
    return 0 if rec.finished else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="*", help="rtsp://user:password@host:port/h264 per camera")
    parser.add_argument("--out", type=Path, default=Path("recordings"), help="output directory")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to record")
    parser.add_argument("--segment", type=float, default=60.0, help="seconds per file")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: files are already closed cleanly
        sys.exit(asyncio.run(main(args.urls, args.out, args.seconds, args.segment)))
