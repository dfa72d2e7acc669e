"""Helpers shared by the ``ipcam`` command modules: global options, camera, output."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Final, TextIO

from ..camera import Camera

__all__ = [
    "ENV_HOST",
    "ENV_PASSWORD",
    "ENV_PORT",
    "ENV_USER",
    "CliError",
    "Handler",
    "add_global_options",
    "add_leaf",
    "emit",
    "open_camera",
]

ENV_HOST: Final = "IPCAM_HOST"
ENV_PORT: Final = "IPCAM_PORT"
ENV_USER: Final = "IPCAM_USER"
ENV_PASSWORD: Final = "IPCAM_PASSWORD"

#: A command: ``async def run(args) -> int | None`` (``None`` means exit status 0).
Handler = Callable[[argparse.Namespace], Awaitable[int | None]]


class CliError(Exception):
    """A usage problem found while running a command; printed as one line, exit status 2."""


def _env_port() -> int | None:
    value = os.environ.get(ENV_PORT)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise CliError(f"{ENV_PORT} must be a port number, not {value!r}") from None


def add_global_options(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """Add ``--host --port --user --password --auth --https --insecure --timeout --json``.

    With ``suppress`` the options have no defaults, so a sub-command parser only sets what was
    given after the sub-command (and never overwrites what was given before it).
    """

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("camera connection")
    group.add_argument(
        "--host",
        default=default(None),
        help=f"camera host name or address (env {ENV_HOST}; default 127.0.0.1)",
    )
    group.add_argument(
        "--port",
        type=int,
        default=default(None),
        help=f"camera HTTP port (env {ENV_PORT}; default 80)",
    )
    group.add_argument("--user", default=default(None), help=f"user name (env {ENV_USER})")
    group.add_argument(
        "--password",
        default=default(None),
        help=f"password (better: env {ENV_PASSWORD}, kept out of the process list)",
    )
    group.add_argument(
        "--auth",
        choices=("auto", "basic", "digest"),
        default=default("auto"),
        help="HTTP authentication (default: auto, from the camera's challenge)",
    )
    group.add_argument(
        "--https",
        action="store_true",
        default=default(False),
        help="use HTTPS (certificates are verified)",
    )
    group.add_argument(
        "--insecure",
        action="store_true",
        default=default(False),
        help="with --https: do not verify the certificate",
    )
    group.add_argument(
        "--timeout", type=float, default=default(10.0), help="seconds per HTTP request (default 10)"
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print JSON instead of plain text",
    )


def add_leaf(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    handler: Handler,
    **kwargs: Any,
) -> argparse.ArgumentParser:
    """Add a runnable sub-command ``name`` that accepts the global options after it too."""
    parent = argparse.ArgumentParser(add_help=False)
    add_global_options(parent, suppress=True)
    parser = subparsers.add_parser(name, parents=[parent], **kwargs)
    parser.set_defaults(handler=handler)
    return parser


def open_camera(args: argparse.Namespace) -> Camera:
    """The :class:`Camera` described by the global options and environment."""
    host = args.host or os.environ.get(ENV_HOST) or "127.0.0.1"
    port = args.port if args.port is not None else _env_port()
    user = args.user or os.environ.get(ENV_USER)
    password = args.password if args.password is not None else os.environ.get(ENV_PASSWORD)
    if password is not None and user is None:
        user = "admin"
    if user is not None and password is None:
        raise CliError(f"a password is needed for user {user!r} (--password or {ENV_PASSWORD})")
    return Camera(
        host,
        port,
        username=user,
        password=password,
        auth=args.auth,
        https=args.https,
        verify_ssl=not args.insecure,
        timeout=args.timeout,
    )


def emit(
    args: argparse.Namespace,
    data: Any,
    text: str | Callable[[], str],
    *,
    stream: TextIO | None = None,
) -> None:
    """Print ``data`` as JSON with ``--json``, else ``text`` (a string or a callable)."""
    out = stream or sys.stdout
    if getattr(args, "json", False):
        json.dump(data, out, indent=2, sort_keys=False, default=str)
        out.write("\n")
    else:
        body = text() if callable(text) else text
        if body:
            out.write(body if body.endswith("\n") else body + "\n")
    out.flush()
