"""Take a JPEG snapshot from many cameras at once and save them side by side.

    python examples/snapshot_all.py                    # three simulated cameras, in-process
    python examples/snapshot_all.py --out shots http://admin:1234@127.0.0.1:8080   # `ipcam sim`

One ``Camera`` per device; ``asyncio.gather`` runs the requests concurrently, and
``return_exceptions=True`` keeps one unreachable camera from hiding the others' images.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

from yarl import URL

from ipcam_async.camera import Camera
from ipcam_async.sim import SimulatedCamera


def camera_from_url(text: str) -> Camera:
    """``http://user:password@host:port`` → a Camera (credentials never printed)."""
    url = URL(text)
    return Camera(url.host or "127.0.0.1", url.port or 80, username=url.user, password=url.password)


async def main(urls: list[str], out: Path) -> int:
    async with contextlib.AsyncExitStack() as stack:
        if urls:
            cameras = [camera_from_url(u) for u in urls]
        else:
            # No camera given: run three simulated cameras (HTTP only) inside this process.
            sims = [
                await stack.enter_async_context(SimulatedCamera(rtsp=False, mjpeg=False))
                for _ in range(3)
            ]
            cameras = [sim.camera() for sim in sims]
        for cam in cameras:
            await stack.enter_async_context(cam)
        paths = [out / f"{cam.host}_{cam.port}.jpg" for cam in cameras]
        results = await asyncio.gather(
            *(cam.image.save_snapshot(path) for cam, path in zip(cameras, paths, strict=True)),
            return_exceptions=True,
        )
    failures = 0
    for path, result in zip(paths, results, strict=True):
        if isinstance(result, BaseException):
            failures += 1
            print(f"{path.name}: FAILED {type(result).__name__}: {result}")
        else:
            print(f"{path}: {result.width}x{result.height}, {len(result)} bytes")
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="*", help="http://user:password@host:port of each camera")
    parser.add_argument("--out", type=Path, default=Path("snapshots"), help="output directory")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sys.exit(asyncio.run(main(args.urls, args.out)))
