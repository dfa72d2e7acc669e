"""Store a few PTZ presets, then tour them, reading the head's position at each stop.

    python examples/ptz_tour.py                                  # a simulated camera, in-process
    python examples/ptz_tour.py http://admin:1234@127.0.0.1:8080 # `ipcam sim`, or a real PTZ camera

Presets are stored with ``set_preset`` after an absolute ``goto``; the tour then recalls them by
number with ``goto_preset``. Arguments are checked against the spec's ranges before any request.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from yarl import URL

from ipcam_async.camera import Camera
from ipcam_async.sim import SimulatedCamera

# (preset number, name, pan degrees, tilt degrees, zoom steps)
STOPS = [
    (1, "gate", -30.0, 10.0, 0),
    (2, "yard", 0.0, 30.0, 1000),
    (3, "door", 30.0, 20.0, 2000),
]


async def settle(cam: Camera, limit: float = 15.0) -> None:
    """Wait until the head stops moving: two position reads in a row agree (a head takes time)."""
    last = None
    async with asyncio.timeout(limit):
        while True:
            pos = await cam.ptz.position()
            here = (pos.pan, pos.tilt, pos.zoom)
            if here == last:
                return
            last = here
            await asyncio.sleep(0.1)


async def main(url: str | None, dwell: float) -> int:
    async with contextlib.AsyncExitStack() as stack:
        if url:
            parsed = URL(url)
            cam = Camera(
                parsed.host or "127.0.0.1",
                parsed.port or 80,
                username=parsed.user,
                password=parsed.password,
            )
        else:
            sim = await stack.enter_async_context(SimulatedCamera(rtsp=False, mjpeg=False))
            cam = sim.camera()
        await stack.enter_async_context(cam)
        for number, name, pan, tilt, zoom in STOPS:
            await cam.ptz.goto(pan=pan, tilt=tilt, zoom=zoom)
            await settle(cam)  # a preset stores where the head IS, so let it arrive first
            await cam.ptz.set_preset(number, name)
        print("presets:", ", ".join(f"{p.number}={p.name}" for p in await cam.ptz.presets()))
        for number, name, *_ in STOPS:
            await cam.ptz.goto_preset(number)
            await settle(cam)
            pos = await cam.ptz.position()
            await asyncio.sleep(dwell)  # look around a little
            print(f"at preset {number} ({name}): pan={pos.pan} tilt={pos.tilt} zoom={pos.zoom}")
        await cam.ptz.home()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="http://user:password@host:port of the camera")
    parser.add_argument("--dwell", type=float, default=0.2, help="seconds at each preset")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.url, args.dwell)))
