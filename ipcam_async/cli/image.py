"""``ipcam image snapshot OUT.jpg``: save one JPEG image (image.cgi)."""

from __future__ import annotations

import argparse

from .common import add_leaf, emit, open_camera

__all__ = ["register"]


async def run_snapshot(args: argparse.Namespace) -> int:
    """Save one snapshot."""
    async with open_camera(args) as cam:
        image = await cam.image.save_snapshot(args.out)
    data = {"path": args.out, "width": image.width, "height": image.height, "bytes": len(image)}
    emit(
        args,
        data,
        f"saved {image.width}x{image.height} JPEG ({len(image)} bytes) to {args.out}",
    )
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``image`` command group."""
    parser = subparsers.add_parser("image", help="JPEG snapshots")
    actions = parser.add_subparsers(dest="image_action", metavar="ACTION", required=True)
    p = add_leaf(actions, "snapshot", run_snapshot, help="save one JPEG image")
    p.add_argument("out", metavar="OUT.jpg")
