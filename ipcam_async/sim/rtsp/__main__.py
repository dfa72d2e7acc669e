"""Run the simulated RTSP server alone: ``python3 -m ipcam_async.sim.rtsp [--h264 FILE] ...``.

Serves the spec's paths from the packaged clips; ``--h264 FILE`` (H.264 Annex B, repeatable as
``--h264 NAME=FILE``), ``--mjpeg FILE`` and ``--ulaw FILE`` serve your own media instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from .media import build_streams
from .server import RtspServer


async def _serve(args: argparse.Namespace) -> int:
    streams = build_streams(h264=args.h264, mjpeg=args.mjpeg, ulaw=args.ulaw, fps=args.fps)
    passwords = {args.user: args.password}.get if args.password else None
    server = RtspServer(
        host=args.bind,
        port=args.port,
        streams=streams,
        auth=args.auth if args.password else "none",
        passwords=passwords,
        session_timeout=args.session_timeout,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with server:
        for name in sorted(streams):
            video = streams[name].video
            print(
                f"{server.url(name)}  {video.codec} {video.width}x{video.height} "
                f"{video.fps:g} fps{' + PCMU' if streams[name].audio else ''}",
                flush=True,
            )
        await stop.wait()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the options and serve until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python3 -m ipcam_async.sim.rtsp", description="Simulated camera RTSP server."
    )
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8554, help="RTSP port (0: any free port)")
    parser.add_argument("--h264", action="append", default=[], metavar="[NAME=]FILE")
    parser.add_argument("--mjpeg", metavar="[NAME=]FILE", help="concatenated JPEG file")
    parser.add_argument("--ulaw", metavar="FILE", help="headerless 8 kHz mu-law audio")
    parser.add_argument("--fps", type=float, default=None, help="frame rate of your files")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default=None, help="require this password")
    parser.add_argument("--auth", choices=("any", "basic", "digest"), default="any")
    parser.add_argument("--session-timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
