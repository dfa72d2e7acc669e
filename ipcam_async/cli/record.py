"""``ipcam record``: record one or many cameras into MP4 segments, with a live status table."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from typing import Any, TextIO

from yarl import URL

from ..camera import Camera
from ..errors import IpCamError
from ..record import CameraStats, Recorder
from ..redact import redact_url
from .common import CliError, add_leaf, emit, open_camera

__all__ = ["register"]

_EPILOG = """\
examples:
  ipcam sim &      # a simulated camera: HTTP 8080, RTSP 8554, admin/1234
  ipcam record --camera rtsp://admin:1234@127.0.0.1:8554/h264 --out recordings --seconds 10
  ipcam record --camera rtsp://admin:1234@127.0.0.1:8554/h264 --http-port 8080 --on-motion --out rec
  IPCAM_PASSWORD=secret ipcam record --host 10.0.0.7 --user admin --out rec   # one camera, h264
"""


def _camera_from_url(text: str, args: argparse.Namespace) -> tuple[Camera, str]:
    """A ``Camera`` and stream name from ``rtsp://[user:pass@]host[:port]/stream``."""
    try:
        url = URL(text)
    except ValueError as exc:
        raise CliError(f"bad camera URL {redact_url(text)!r}: {exc}") from None
    if url.scheme != "rtsp" or not url.host:
        raise CliError(
            f"--camera takes rtsp://[user:pass@]host[:port]/stream, not {redact_url(text)}"
        )
    stream = url.path.strip("/") or "h264"
    camera = Camera(
        url.host,
        args.http_port,
        username=url.user,
        password=url.password,
        rtsp_port=url.port or 554,
        timeout=args.timeout,
    )
    return camera, stream


def _fmt_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.2f} GiB"


def status_table(stats: list[CameraStats], rates: dict[str, float]) -> list[str]:
    """The status lines: one header and one row per camera."""
    rows = [
        f"{'camera':24} {'state':10} {'fps':>5} {'frames':>8} {'lost':>5} {'reconn':>6} "
        f"{'written':>10} {'lag':>6}  file / last error"
    ]
    for s in stats:
        lag = f"{s.lag:.2f}" if s.lag is not None else "-"
        where = s.current_file.name if s.current_file is not None else (s.last_error or "")
        rows.append(
            f"{s.name[:24]:24} {s.state:10} {rates.get(s.name, 0.0):5.1f} {s.frames:8d} "
            f"{s.lost:5d} {s.reconnects:6d} {_fmt_bytes(s.bytes):>10} {lag:>6}  {where[:60]}"
        )
    return rows


class _StatusPrinter:
    """Redraw the table in place on a terminal; print a plain line per update otherwise."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._tty = out.isatty()
        self._drawn = 0
        self._last: dict[str, tuple[float, int]] = {}

    def update(self, recorder: Recorder) -> None:
        now = time.monotonic()
        stats = list(recorder.stats.values())
        rates: dict[str, float] = {}
        for s in stats:
            then, frames = self._last.get(s.name, (now, s.frames))
            rates[s.name] = (s.frames - frames) / (now - then) if now > then else 0.0
            self._last[s.name] = (now, s.frames)
        lines = status_table(stats, rates)
        if self._tty:
            if self._drawn:
                self._out.write(f"\x1b[{self._drawn}F")
            self._out.write("".join(f"\x1b[2K{line}\n" for line in lines))
            self._drawn = len(lines)
        else:
            total = sum(s.frames for s in stats)
            lost = sum(s.lost for s in stats)
            recording = sum(1 for s in stats if s.state == "recording")
            self._out.write(
                f"{time.strftime('%H:%M:%S')} cameras={len(stats)} recording={recording} "
                f"frames={total} lost={lost} written={_fmt_bytes(sum(s.bytes for s in stats))}\n"
            )
        self._out.flush()


async def _announced_rtsp_port(camera: Camera) -> int:
    """The RTSP port the camera announces in ``Network.RTSPPort``, else the standard 554."""
    try:
        tree = await camera.params.list("Network.RTSPPort")
        port = tree.get_int("Network.RTSPPort")
    except IpCamError as exc:
        logging.getLogger(__name__).info("no Network.RTSPPort (%s); using 554", type(exc).__name__)
        return 554
    return port if port is not None and 0 < port < 65536 else 554


async def run_record(args: argparse.Namespace) -> int:
    """Record until Ctrl-C / SIGTERM (or ``--seconds``), then flush every file and report."""
    cameras: list[tuple[Camera, str]] = []
    if args.camera:
        cameras = [_camera_from_url(text, args) for text in args.camera]
    else:
        camera = open_camera(args)
        if args.rtsp_port is not None:
            camera.rtsp_port = args.rtsp_port
        cameras = [(camera, args.stream)]
    if args.segment <= 0:
        raise CliError("--segment must be positive")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    printer = _StatusPrinter(sys.stderr if args.json else sys.stdout)
    async with contextlib.AsyncExitStack() as stack:
        for camera, _ in cameras:
            await stack.enter_async_context(camera)
        if not args.camera and args.rtsp_port is None:
            cameras[0][0].rtsp_port = await _announced_rtsp_port(cameras[0][0])
        recorder = await stack.enter_async_context(
            Recorder(
                args.out,
                segment=args.segment,
                max_bytes=int(args.max_mb * (1 << 20)) if args.max_mb else None,
                audio=not args.no_audio,
                transport=args.transport,
                post_roll=args.post_roll,
            )
        )
        for camera, stream in cameras:
            recorder.add(camera, stream, on_motion=args.on_motion)
        deadline = None if args.seconds is None else loop.time() + args.seconds
        while not stop.is_set():
            timeout = args.status_interval
            if deadline is not None:
                timeout = min(timeout, max(0.0, deadline - loop.time()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout)
            if not args.quiet:
                printer.update(recorder)
            if deadline is not None and loop.time() >= deadline:
                break
    # Leaving the block closed every segment; report what was written.
    finished = list(recorder.finished)
    report: dict[str, Any] = {
        "cameras": {
            name: {
                "frames": s.frames,
                "written_frames": s.written_frames,
                "lost": s.lost,
                "reconnects": s.reconnects,
                "errors": s.errors,
                "bytes": s.bytes,
                "segments": s.segments,
                "last_error": s.last_error,
            }
            for name, s in recorder.stats.items()
        },
        "files": [
            {"path": str(f.path), "duration": round(f.duration, 3), "frames": f.video_frames}
            for f in finished
        ],
    }
    lines = [f"{len(finished)} file(s) written:"]
    lines += [f"  {f.path}  {f.duration:.1f} s  {f.video_frames} frames" for f in finished]
    emit(args, report, "\n".join(lines))
    # Failure: no camera delivered a single frame (with --on-motion, no motion is no failure).
    failed = all(s.frames == 0 for s in recorder.stats.values())
    return 1 if failed else 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``record`` command."""
    p = add_leaf(
        subparsers,
        "record",
        run_record,
        help="record cameras into crash-safe MP4 segments",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--camera",
        action="append",
        metavar="URL",
        help="rtsp://[user:pass@]host[:port]/stream, repeatable (default: the --host camera)",
    )
    p.add_argument("--out", required=True, help="directory for the recordings")
    p.add_argument("--segment", type=float, default=60.0, help="seconds per file (default 60)")
    p.add_argument("--max-mb", type=float, default=None, help="also cut files at this size (MiB)")
    p.add_argument("--stream", default="h264", help="stream of the --host camera (default h264)")
    p.add_argument(
        "--rtsp-port",
        type=int,
        default=None,
        help="RTSP port of the --host camera (default: its Network.RTSPPort, else 554)",
    )
    p.add_argument(
        "--transport", choices=("tcp", "udp", "auto"), default="tcp", help="RTSP transport"
    )
    p.add_argument("--no-audio", action="store_true", help="leave the audio track out")
    p.add_argument(
        "--on-motion",
        action="store_true",
        help="record only while the camera reports motion (with pre-roll and --post-roll)",
    )
    p.add_argument("--post-roll", type=float, default=5.0, help="seconds after motion (default 5)")
    p.add_argument(
        "--http-port",
        type=int,
        default=80,
        help="HTTP port of --camera URLs, for --on-motion (default 80; ipcam sim: 8080)",
    )
    p.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
    p.add_argument(
        "--status-interval", type=float, default=1.0, help="seconds between status updates"
    )
    p.add_argument("--quiet", action="store_true", help="no status table")
