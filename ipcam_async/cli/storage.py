"""``ipcam storage ...``: the camera's local storage (storagemanagement.cgi)."""

from __future__ import annotations

import argparse

from .common import CliError, add_leaf, emit, open_camera
from .system import progress_bar

__all__ = ["register"]


async def run_list(args: argparse.Namespace) -> int:
    """Print the files on the local storage."""
    async with open_camera(args) as cam:
        entries = await cam.storage.list()
    data = [
        {
            "name": e.name,
            "size": e.size,
            "recorded_at": e.recorded_at.isoformat() if e.recorded_at else None,
        }
        for e in entries
    ]
    emit(
        args,
        data,
        lambda: "".join(
            f"{e.name}\t{e.size if e.size is not None else '?'}"
            f"\t{e.recorded_at.isoformat(' ') if e.recorded_at else ''}\n".rstrip("\t\n")
            + "\n"
            for e in entries
        ),
    )
    return 0


async def run_download(args: argparse.Namespace) -> int:
    """Download one file (streamed to disk)."""
    try:
        with progress_bar(args, args.name) as bar:
            async with open_camera(args) as cam:
                path = await cam.storage.download(
                    args.name, args.out, overwrite=args.force, progress=bar
                )
    except FileExistsError as exc:
        raise CliError(f"{exc} exists (add --force to overwrite)") from None
    emit(args, {"path": str(path)}, f"saved {path}")
    return 0


async def run_download_all(args: argparse.Namespace) -> int:
    """Download every file into a directory."""
    try:
        async with open_camera(args) as cam:
            paths = await cam.storage.download_all(args.directory, overwrite=args.force)
    except FileExistsError as exc:
        raise CliError(f"{exc} exists (add --force to overwrite)") from None
    emit(args, [str(p) for p in paths], lambda: "".join(f"saved {p}\n" for p in paths))
    return 0


async def run_remove(args: argparse.Namespace) -> int:
    """Remove one file."""
    async with open_camera(args) as cam:
        await cam.storage.remove(args.name)
    emit(args, {"removed": args.name}, f"removed {args.name}")
    return 0


async def run_format(args: argparse.Namespace) -> int:
    """Format the local storage."""
    if not args.yes:
        raise CliError("formatting erases every recording: add --yes to confirm")
    async with open_camera(args) as cam:
        await cam.storage.format()
    emit(args, {"formatted": True}, "local storage formatted")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``storage`` command group."""
    parser = subparsers.add_parser("storage", help="files on the camera's local storage")
    actions = parser.add_subparsers(dest="storage_action", metavar="ACTION", required=True)
    add_leaf(actions, "list", run_list, help="list the files")
    p = add_leaf(actions, "download", run_download, help="download a file")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--out", default=".", help="directory or file path (default: .)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument("--no-progress", action="store_true")
    p = add_leaf(actions, "download-all", run_download_all, help="download every file")
    p.add_argument("directory")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p = add_leaf(actions, "remove", run_remove, help="remove a file")
    p.add_argument("name", metavar="NAME")
    p = add_leaf(actions, "format", run_format, help="format the storage device")
    p.add_argument("--yes", action="store_true", help="confirm")
