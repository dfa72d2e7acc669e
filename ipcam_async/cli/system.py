"""``ipcam system ...``: date, snapshot path, defaults, backup / restore, upgrade, restart, logs."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from typing import TextIO

from ..api.system_models import CERTIFICATE_TYPES, FIRMWARE_FILENAMES
from .common import CliError, add_leaf, emit, open_camera

__all__ = ["ProgressBar", "progress_bar", "register"]

MiB = 1 << 20


class ProgressBar:
    """A one-line progress bar on stderr: ``[#####.....]  45%  115.2/256.0 MiB  80.1 MiB/s``.

    Redrawn at most ten times a second (and once at the end); ``total`` may be unknown (None).
    """

    def __init__(self, label: str, *, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._last_done = -1
        self._shown = False

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        final = total is not None and done >= total
        if not final and now - self._last_draw < 0.1:
            return
        if final and done == self._last_done:
            return
        self._last_draw, self._last_done = now, done
        rate = done / max(now - self.started, 1e-6) / MiB
        if total:
            filled = int(self.width * min(done / total, 1.0))
            bar = "#" * filled + "." * (self.width - filled)
            text = (
                f"\r{self.label} [{bar}] {100 * done / total:3.0f}%  "
                f"{done / MiB:.1f}/{total / MiB:.1f} MiB  {rate:.1f} MiB/s"
            )
        else:
            text = f"\r{self.label} {done / MiB:.1f} MiB  {rate:.1f} MiB/s"
        self.stream.write(text)
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """End the bar's line."""
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False


@contextlib.contextmanager
def progress_bar(args: argparse.Namespace, label: str) -> Iterator[ProgressBar | None]:
    """A :class:`ProgressBar` for the block (``None`` with ``--no-progress``), closed after it."""
    bar = None if args.no_progress else ProgressBar(label)
    try:
        yield bar
    finally:
        if bar is not None:
            bar.close()


async def run_date(args: argparse.Namespace) -> int:
    """Print the camera's date and time."""
    async with open_camera(args) as cam:
        when = await cam.system.date()
    emit(args, {"date": when.isoformat()}, when.strftime("%Y-%m-%d %H:%M:%S"))
    return 0


async def run_set_date(args: argparse.Namespace) -> int:
    """Set the date/time (``now`` = this computer's local time) and/or the time zone."""
    when: datetime | None = None
    if args.when == "now":
        when = datetime.now().replace(microsecond=0)
    elif args.when is not None:
        try:
            when = datetime.fromisoformat(args.when)
        except ValueError:
            raise CliError(f"expected YYYY-MM-DDTHH:MM:SS or 'now', got {args.when!r}") from None
    if when is None and args.timezone is None:
        raise CliError("give a date/time, 'now', and/or --timezone")
    async with open_camera(args) as cam:
        await cam.system.set_date(when, timezone=args.timezone)
        now = await cam.system.date()
    emit(args, {"date": now.isoformat()}, f"camera time is now {now:%Y-%m-%d %H:%M:%S}")
    return 0


async def run_snapshot_path(args: argparse.Namespace) -> int:
    """Print, or with PATH set, the Admin snapshot path."""
    async with open_camera(args) as cam:
        if args.path is not None:
            await cam.system.set_snapshot_path(args.path)
        path = await cam.system.snapshot_path()
    emit(args, {"path": path}, path)
    return 0


async def run_factory_default(args: argparse.Namespace) -> int:
    """Reset the camera's settings (network settings kept unless --hard)."""
    if not args.yes:
        raise CliError("this resets the camera's settings: add --yes to confirm")
    async with open_camera(args) as cam:
        if args.hard:
            await cam.system.hard_factory_default()
        else:
            await cam.system.factory_default()
    kind = "hard factory default" if args.hard else "factory default"
    emit(args, {"done": kind}, f"{kind} reloaded")
    return 0


async def run_backup(args: argparse.Namespace) -> int:
    """Save the configuration backup to a file or directory."""
    with progress_bar(args, "backup") as bar:
        async with open_camera(args) as cam:
            path = await cam.system.backup(args.out, progress=bar)
    size = await asyncio.to_thread(lambda: path.stat().st_size)
    emit(args, {"path": str(path), "size": size}, f"saved {size} bytes to {path}")
    return 0


async def run_restore(args: argparse.Namespace) -> int:
    """Upload a backup made by ``system backup``."""
    with progress_bar(args, "restore") as bar:
        async with open_camera(args) as cam:
            await cam.system.restore(args.file, progress=bar)
    emit(args, {"restored": args.file}, f"restored {args.file}")
    return 0


async def run_upgrade(args: argparse.Namespace) -> int:
    """Upload a firmware image (streamed from disk, with a progress bar)."""
    with progress_bar(args, "upgrade") as bar:
        async with open_camera(args) as cam:
            await cam.system.upgrade(
                args.file,
                filename=args.filename,
                family=args.family,
                prepare=not args.no_prepare,
                progress=bar,
            )
    emit(args, {"uploaded": args.file}, f"firmware {args.file} uploaded")
    return 0


async def run_restart(args: argparse.Namespace) -> int:
    """Restart the camera; with --wait, until it answers again."""
    async with open_camera(args) as cam:
        took = await cam.system.restart(wait=args.wait, timeout=args.wait_timeout)
    if took is None:
        emit(args, {"restarted": True}, "restart requested")
    else:
        emit(args, {"restarted": True, "seconds": round(took, 2)}, f"back after {took:.1f} s")
    return 0


async def run_report(args: argparse.Namespace) -> int:
    """Print the server report."""
    async with open_camera(args) as cam:
        report = await cam.system.server_report()
    emit(args, {"lines": list(report.lines)}, report.text)
    return 0


async def run_log(args: argparse.Namespace) -> int:
    """Print the system log."""
    async with open_camera(args) as cam:
        log = await cam.system.system_log()
    emit(args, {"lines": list(log.lines)}, log.text)
    return 0


async def run_certificate(args: argparse.Namespace) -> int:
    """Upload an 802.1x certificate or key."""
    async with open_camera(args) as cam:
        await cam.system.upload_certificate(args.kind, args.file)
    emit(args, {"uploaded": args.kind}, f"{args.kind} uploaded")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``system`` command group."""
    parser = subparsers.add_parser("system", help="date, maintenance, firmware, logs")
    actions = parser.add_subparsers(dest="system_action", metavar="ACTION", required=True)
    add_leaf(actions, "date", run_date, help="print the camera's date and time")
    p = add_leaf(actions, "set-date", run_set_date, help="set the date/time and/or time zone")
    p.add_argument("when", nargs="?", help="YYYY-MM-DDTHH:MM:SS, or 'now'")
    p.add_argument("--timezone", help="GMT-12 ... GMT+13")
    p = add_leaf(actions, "snapshot-path", run_snapshot_path, help="print or set the path")
    p.add_argument("path", nargs="?", help="new path, e.g. C:\\capture")
    p = add_leaf(actions, "factory-default", run_factory_default, help="reload factory defaults")
    p.add_argument("--hard", action="store_true", help="network settings too")
    p.add_argument("--yes", action="store_true", help="confirm")
    p = add_leaf(actions, "backup", run_backup, help="download the configuration backup")
    p.add_argument("out", nargs="?", default=".", help="file or directory (default: .)")
    p.add_argument("--no-progress", action="store_true")
    p = add_leaf(actions, "restore", run_restore, help="upload a configuration backup")
    p.add_argument("file")
    p.add_argument("--no-progress", action="store_true")
    p = add_leaf(actions, "upgrade", run_upgrade, help="upload a firmware image")
    p.add_argument("file")
    p.add_argument("--filename", help="spec image name (default: the file's own name)")
    p.add_argument("--family", choices=sorted(FIRMWARE_FILENAMES), help="product family")
    p.add_argument("--no-prepare", action="store_true", help="skip beforeupgrade.cgi")
    p.add_argument("--no-progress", action="store_true")
    p = add_leaf(actions, "restart", run_restart, help="restart the camera")
    p.add_argument("--wait", action="store_true", help="wait until it answers again")
    p.add_argument("--wait-timeout", type=float, default=180.0, help="seconds (default 180)")
    add_leaf(actions, "report", run_report, help="print the server report")
    add_leaf(actions, "log", run_log, help="print the system log")
    p = add_leaf(actions, "certificate", run_certificate, help="upload an 802.1x file")
    p.add_argument("kind", choices=CERTIFICATE_TYPES)
    p.add_argument("file")
