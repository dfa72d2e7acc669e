"""``ipcam sim``: run a simulated camera until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys

from ..sim import SimulatedCamera
from ..sim.rtsp.media import StreamSource, build_streams
from .common import ENV_PASSWORD, ENV_USER, CliError, add_leaf, emit
from .events import add_sim_options, sim_events

__all__ = ["register"]

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _own_media(args: argparse.Namespace) -> dict[str, StreamSource] | None:
    """The RTSP streams with the user's own files put in, or None for the packaged clips."""
    if not (args.h264 or args.mjpeg_file or args.ulaw):
        return None
    try:
        return build_streams(h264=args.h264, mjpeg=args.mjpeg_file, ulaw=args.ulaw, fps=args.fps)
    except OSError as exc:
        raise CliError(f"cannot read media: {exc.strerror or exc}") from None


async def run_sim(args: argparse.Namespace) -> int:
    """Start the simulator, print its URLs (never the password) and serve until interrupted."""
    user = args.user or os.environ.get(ENV_USER) or "admin"
    password = args.password if args.password is not None else os.environ.get(ENV_PASSWORD)
    sim = SimulatedCamera(
        host=args.bind,
        http_port=args.http_port,
        rtsp_port=args.rtsp_port,
        mjpeg_port=args.mjpeg_port,
        username=user,
        password=password if password is not None else "1234",
        auth=args.sim_auth,
        digest_algorithm=args.digest_algorithm,
        model=args.model,
        rtsp=not args.no_rtsp,
        mjpeg=not args.no_mjpeg,
        rtsp_streams=_own_media(args),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with sim_events(sim, args), sim:
        host = f"[{sim.host}]" if ":" in sim.host else sim.host
        urls = {"http": f"{sim.http_url}/"}
        if "rtsp" in sim.services:
            urls["rtsp"] = f"rtsp://{host}:{sim.rtsp_port}/h264"
        if "mjpeg" in sim.services:
            urls["mjpeg"] = f"http://{host}:{sim.mjpeg_port}/"
        info = {"model": sim.model, "user": user, "auth": args.sim_auth, "urls": urls}
        lines = [f"simulated camera {sim.model} (user {user!r}, auth {args.sim_auth})"]
        lines += [f"  {name.upper():5} {url}" for name, url in urls.items()]
        lines.append("press Ctrl-C to stop")
        if args.bind not in _LOOPBACK:
            print(f"warning: listening on {args.bind}, not only on loopback", file=sys.stderr)
        emit(args, info, "\n".join(lines))
        await stop.wait()
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``sim`` command."""
    p = add_leaf(
        subparsers,
        "sim",
        run_sim,
        help="run a simulated camera (credentials from --user/--password, default admin/1234)",
    )
    p.add_argument("--bind", default="127.0.0.1", help="address to listen on (default loopback)")
    p.add_argument("--http-port", type=int, default=8080, help="HTTP port (0 = any; default 8080)")
    p.add_argument("--rtsp-port", type=int, default=8554, help="RTSP port (default 8554)")
    p.add_argument("--mjpeg-port", type=int, default=8008, help="MJPEG port (default 8008)")
    p.add_argument(
        "--sim-auth",
        choices=("any", "basic", "digest"),
        default="any",
        help="authentication the simulator offers (default: any)",
    )
    p.add_argument(
        "--digest-algorithm",
        choices=("MD5", "SHA-256"),
        default="MD5",
        help="algorithm in the Digest challenge (default MD5)",
    )
    p.add_argument("--model", default="NH720", help="model name reported (default NH720)")
    p.add_argument("--no-rtsp", action="store_true", help="do not start the RTSP server")
    p.add_argument("--no-mjpeg", action="store_true", help="do not start the MJPEG server")
    p.add_argument(
        "--h264",
        action="append",
        default=[],
        metavar="[NAME=]FILE",
        help="serve your own H.264 Annex B file on /h264 (or /NAME); repeatable",
    )
    p.add_argument(
        "--mjpeg-file", metavar="[NAME=]FILE", help="serve concatenated JPEG frames on /jpeg"
    )
    p.add_argument("--ulaw", metavar="FILE", help="raw 8 kHz mu-law audio for every path")
    p.add_argument("--fps", type=float, help="frame rate of your own media (default: from SPS)")
    add_sim_options(p)
