"""``ipcam demo``: the library's tour, against a simulated camera (default) or a real one."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from yarl import URL

from ..camera import Camera
from ..demo import (
    TABLE_HEADER,
    DemoReport,
    DemoStep,
    format_notes,
    format_step,
    run_simulated_demo,
    run_tour,
)
from ..redact import redact_url
from .common import ENV_PASSWORD, CliError, add_leaf, emit

__all__ = ["register"]


def _camera_from(args: argparse.Namespace) -> Camera:
    """The camera of ``--camera http://user:password@host:port`` (password also from the env)."""
    try:
        url = URL(args.camera)
    except ValueError:
        raise CliError("--camera wants a URL like http://user:password@192.168.0.250:80") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise CliError("--camera wants a URL like http://user:password@192.168.0.250:80")
    user = url.user or args.user
    password = url.password if url.password is not None else args.password
    if password is None:
        password = os.environ.get(ENV_PASSWORD)
    if password is not None and user is None:
        user = "admin"
    if user is not None and password is None:
        raise CliError(f"a password is needed for user {user!r} (in the URL or {ENV_PASSWORD})")
    https = url.scheme == "https"
    return Camera(
        url.host,
        url.explicit_port,
        username=user,
        password=password,
        auth=args.auth,
        https=https,
        verify_ssl=not args.insecure,
        timeout=args.timeout,
        rtsp_port=args.rtsp_port,
        mjpeg_port=args.mjpeg_port,
    )


def _check_args(args: argparse.Namespace) -> None:
    if not 0 < args.seconds <= 3600:
        raise CliError("--seconds must be more than 0 and at most 3600")
    if args.camera is None and (args.write or args.rtsp_port != 554 or args.mjpeg_port != 8008):
        raise CliError("--write, --rtsp-port and --mjpeg-port go with --camera URL")
    if args.camera is None and (args.host is not None or args.port is not None):
        raise CliError("ipcam demo takes its camera as --camera URL, not --host/--port")


async def run_demo(args: argparse.Namespace) -> int:
    """Run the tour, print each step as it finishes and a verdict; exit 1 if a step failed."""
    _check_args(args)
    # A fresh temporary directory by default, so two runs never mix their files.
    out_dir = (
        Path(args.out) if args.out is not None else Path(tempfile.mkdtemp(prefix="ipcam-demo-"))
    )
    quiet = bool(getattr(args, "json", False))

    def line(text: str) -> None:
        if not quiet:
            print(text, flush=True)

    def header(text: str) -> None:
        line(text)
        line(f"files in {out_dir}")
        line(TABLE_HEADER)

    def show(step: DemoStep) -> None:
        line(format_step(step))

    report: DemoReport
    if args.camera is None:
        report = await run_simulated_demo(
            out_dir=out_dir,
            seconds=args.seconds,
            stream=args.stream,
            transport=args.transport,
            mjpeg=args.mjpeg,
            container=args.format,
            progress=header,
            step_progress=show,
        )
    else:
        cam = _camera_from(args)
        target = f"camera {redact_url(args.camera)}" + ("" if args.write else " (read-only)")
        header(f"ipcam demo: {target}")
        async with cam:
            report = await run_tour(
                cam,
                out_dir=out_dir,
                target=target,
                seconds=args.seconds,
                stream=args.stream,
                transport=args.transport,
                write=args.write,
                mjpeg=args.mjpeg,
                container=args.format,
                progress=show,
            )
    if quiet:
        emit(args, report.to_dict(), "")
    else:
        for note in format_notes(report.steps):
            print(note)
        print(report.verdict() + f"; files in {out_dir}", flush=True)
    if not report.ok:
        reasons = "; ".join(f"{s.name}: {s.summary}" for s in report.steps if s.ok is False)
        print(f"ipcam demo: failed: {', '.join(report.failed)} ({reasons})", file=sys.stderr)
    return 0 if report.ok else 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``ipcam demo``."""
    leaf = add_leaf(
        subparsers,
        "demo",
        run_demo,
        help="tour the library against a simulated camera (or --camera URL)",
        description=(
            "Start a simulated camera on free loopback ports and use it as a user would: "
            "parameters, PTZ, an output seen on the event monitor, a snapshot, and 5 s of "
            "/h264 with audio recorded over RTSP to an MP4 file that is then verified. "
            "Prints a table of the steps with their numbers; exits 1 naming the steps that "
            "failed. With --camera URL the same tour runs against a real camera, read-only "
            "unless --write is given."
        ),
    )
    leaf.add_argument(
        "--camera",
        metavar="URL",
        help="a real camera: http://user:password@host:port (password also from "
        f"{ENV_PASSWORD}); never printed",
    )
    leaf.add_argument(
        "--write",
        action="store_true",
        help="with --camera: also change a parameter, move the PTZ head and toggle output 1 "
        "(each is restored; whatever is wired to output 1 switches briefly)",
    )
    leaf.add_argument(
        "--rtsp-port", type=int, default=554, help="with --camera: its RTSP port (default 554)"
    )
    leaf.add_argument(
        "--mjpeg-port", type=int, default=8008, help="with --camera: its MJPEG port (default 8008)"
    )
    leaf.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="directory for the snapshot and the recording (default: a new temporary directory)",
    )
    leaf.add_argument("--seconds", type=float, default=5.0, help="seconds to record (default 5)")
    leaf.add_argument(
        "--stream",
        choices=("h264", "h264_2", "h264_3", "h264_4"),
        default="h264",
        help="H.264 stream to record (default h264)",
    )
    leaf.add_argument(
        "--transport", choices=("tcp", "udp"), default="tcp", help="RTSP transport (default tcp)"
    )
    leaf.add_argument(
        "--format",
        choices=("mp4", "h264"),
        default="mp4",
        help="recording format: fragmented MP4 (default) or raw Annex B H.264 + µ-law",
    )
    leaf.add_argument(
        "--mjpeg", action="store_true", help="also grab frames of the MJPEG-over-HTTP stream"
    )
