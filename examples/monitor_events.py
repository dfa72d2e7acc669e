"""Print a camera's motion, I/O and tampering events as they happen.

    python examples/monitor_events.py --seconds 5            # a simulated camera, in-process
    python examples/monitor_events.py http://admin:1234@127.0.0.1:8080   # `ipcam sim` / real camera

``cam.events.changes()`` turns the camera's live event stream into transitions (motion triggered,
output active...), reconnecting by itself after network failures. With the in-process simulator,
this script also plays the "intruder": it toggles output 1 and a motion window now and then.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from yarl import URL

from ipcam_async.camera import Camera
from ipcam_async.sim import SimulatedCamera


async def intruder(sim: SimulatedCamera, cam: Camera) -> None:
    """Make something happen on the simulator: an output toggled, motion in window Motion1."""
    await asyncio.sleep(1.0)  # let the monitor connect and see the quiet state first
    while True:
        await cam.io.activate(1)  # through the API, as a user would
        sim.state.motion["Motion1"].triggered = True  # what the camera's detector would do
        sim.state.changed()
        await asyncio.sleep(0.5)
        await cam.io.deactivate(1)
        sim.state.motion["Motion1"].triggered = False
        sim.state.changed()
        await asyncio.sleep(0.5)


async def watch(cam: Camera, limit: int | None) -> int:
    seen = 0
    async with cam.events.changes() as changes:
        async for change in changes:
            print(f"{change.received:.3f} {change.describe()}")
            seen += 1
            if limit is not None and seen >= limit:
                break
    return seen


async def main(url: str | None, seconds: float, limit: int | None) -> int:
    async with contextlib.AsyncExitStack() as stack:
        sim = None
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
        background = None
        if sim is not None:
            sim.state.motion["Motion1"].enabled = True
            background = asyncio.create_task(intruder(sim, cam))
        try:
            # Stop after `seconds` (timeout) or after `limit` events, whichever comes first.
            seen = 0
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    seen = await watch(cam, limit)
        finally:
            if background is not None:
                background.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await background
    print(f"{seen if limit else 'all'} events")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="http://user:password@host:port of the camera")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to watch")
    parser.add_argument("--events", type=int, default=None, help="stop after this many events")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.url, args.seconds, args.events)))
