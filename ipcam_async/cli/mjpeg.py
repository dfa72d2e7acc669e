"""``ipcam mjpeg save DIR --count N``: store JPEG frames of the MJPEG stream (spec 5.5.2).

Frames are written as ``frame_000001.jpg`` ... (the number is the stream's sequence, so gaps
show frames that were dropped because the disk was slower than the camera).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from ..api.mjpeg import MjpegApi
from ..api.reconnect import Disconnect, ReconnectPolicy
from .common import CliError, add_leaf, emit, open_camera

__all__ = ["register"]


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(path)


def _report(disconnect: Disconnect) -> None:
    if disconnect.retry_in is not None:
        print(
            f"ipcam: MJPEG disconnected ({type(disconnect.error).__name__}); "
            f"retry {disconnect.failures} in {disconnect.retry_in:.1f} s",
            file=sys.stderr,
            flush=True,
        )


async def run_save(args: argparse.Namespace) -> int:
    """Save ``--count`` frames into ``DIR``."""
    if args.count < 1:
        raise CliError("--count must be >= 1")
    out = Path(args.dir)
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    policy = ReconnectPolicy(max_failures=args.max_failures, idle_timeout=args.idle_timeout)
    camera = open_camera(args)
    if args.mjpeg_port is not None:
        camera.mjpeg_port = args.mjpeg_port
    saved: list[str] = []
    total = 0
    async with camera as cam:
        mjpeg: MjpegApi = cam.mjpeg
        async with mjpeg.frames(path=args.path, policy=policy, on_disconnect=_report) as frames:
            async for frame in frames:
                path = out / f"frame_{frame.sequence:06d}.jpg"
                await asyncio.to_thread(_write, path, frame.data)
                saved.append(str(path))
                total += len(frame.data)
                if len(saved) >= args.count:
                    break
            dropped = frames.dropped
    emit(
        args,
        {"dir": str(out), "frames": saved, "bytes": total, "dropped": dropped},
        f"saved {len(saved)} frames ({total} bytes) to {out}"
        + (f", {dropped} dropped" if dropped else ""),
    )
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``mjpeg`` command group."""
    parser = subparsers.add_parser("mjpeg", help="MJPEG video over HTTP (port 8008)")
    sub = parser.add_subparsers(dest="mjpeg_action", metavar="ACTION", required=True)
    save = add_leaf(sub, "save", run_save, help="save JPEG frames of the MJPEG stream to DIR")
    save.add_argument("dir", metavar="DIR", help="output directory (created if needed)")
    save.add_argument("--count", type=int, default=10, help="frames to save (default 10)")
    save.add_argument("--mjpeg-port", type=int, default=None, help="MJPEG port (default 8008)")
    save.add_argument("--path", default="/", help="HTTP path of the stream (default /)")
    save.add_argument(
        "--max-failures", type=int, default=5, help="give up after N failures (default 5)"
    )
    save.add_argument(
        "--idle-timeout", type=float, default=10.0, help="seconds without data (default 10)"
    )
