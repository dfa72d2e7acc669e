"""The ``ipcam`` command line.

Every command group lives in its own module of this package, named in :data:`COMMANDS`; the
module defines ``register(subparsers)`` and adds its sub-commands with
:func:`ipcam_async.cli.common.add_leaf` (handlers are ``async def run(args) -> int | None``).
Errors print one line on stderr and exit non-zero: 1 for camera errors, 2 for usage errors,
130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from ..errors import IpCamError
from ..redact import redact_url
from .common import CliError, add_global_options

__all__ = ["COMMANDS", "build_parser", "main"]

#: Command modules of ``ipcam_async.cli`` (one line per module, in help order).
COMMANDS: list[str] = [
    "params",
    "users",
    "system",
    "storage",
    "image",
    "ptz",
    "io",
    "events",
    "mjpeg",
    "sim",
    "rtsp",
    "record",
    "demo",
]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every command module registered."""
    parser = argparse.ArgumentParser(
        prog="ipcam",
        description="Talk to IP cameras speaking the IP Camera Standard API 3.0.",
    )
    add_global_options(parser)
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (-v info, -vv debug)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ipcam`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        status = asyncio.run(handler(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `ipcam ... | head`): not an error of ours. Point stdout at
        # devnull so the interpreter's final flush does not complain again.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except CliError as exc:
        print(f"ipcam: error: {exc}", file=sys.stderr)
        return 2
    except IpCamError as exc:
        message = redact_url(str(exc)) or type(exc).__name__
        print(f"ipcam: error: {type(exc).__name__}: {message}", file=sys.stderr)
        return 1
    except OSError as exc:  # e.g. the simulator's port is taken
        print(f"ipcam: error: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return int(status or 0)
