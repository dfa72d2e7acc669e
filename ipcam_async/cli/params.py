"""``ipcam params list|options|set|add|remove``: camera parameters (param.cgi)."""

from __future__ import annotations

import argparse

from .common import CliError, add_leaf, emit, open_camera

__all__ = ["register"]


def _assignments(items: list[str]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise CliError(f"expected NAME=VALUE, got {item!r}")
        pairs.append((name, value))
    return pairs


async def run_list(args: argparse.Namespace) -> int:
    """Print parameters as ``Name=Value`` lines (or a JSON object)."""
    async with open_camera(args) as cam:
        tree = await cam.params.list(*args.groups)
    data = tree.to_dict()
    emit(args, data, lambda: "".join(f"{k}={v}\n" for k, v in data.items()))
    return 0


async def run_options(args: argparse.Namespace) -> int:
    """Print the allowed values of parameters with fixed options."""
    async with open_camera(args) as cam:
        options = await cam.params.options(*args.groups)
    emit(
        args,
        {k: list(v) for k, v in options.items()},
        lambda: "".join(f"{k}={','.join(v)}\n" for k, v in options.items()),
    )
    return 0


async def run_set(args: argparse.Namespace) -> int:
    """Set parameters given as ``NAME=VALUE``."""
    pairs = _assignments(args.assignments)
    async with open_camera(args) as cam:
        await cam.params.update(pairs)
    emit(args, {"updated": dict(pairs)}, f"updated {len(pairs)} parameter(s)")
    return 0


async def run_add(args: argparse.Namespace) -> int:
    """Create a new child group (e.g. a guard tour) and print its name."""
    pairs = _assignments(args.assignments)
    async with open_camera(args) as cam:
        name = await cam.params.add(args.group, pairs)
    emit(args, {"added": name}, name)
    return 0


async def run_remove(args: argparse.Namespace) -> int:
    """Remove a group created with ``add``."""
    async with open_camera(args) as cam:
        await cam.params.remove(args.group)
    emit(args, {"removed": args.group}, f"removed {args.group}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``params`` command group."""
    parser = subparsers.add_parser("params", help="list and change camera parameters")
    actions = parser.add_subparsers(dest="params_action", metavar="ACTION", required=True)
    p = add_leaf(actions, "list", run_list, help="list parameters (all, or of GROUPs)")
    p.add_argument("groups", nargs="*", metavar="GROUP", help="e.g. Network ImageSource.I0")
    p = add_leaf(actions, "options", run_options, help="list allowed values of parameters")
    p.add_argument("groups", nargs="*", metavar="GROUP")
    p = add_leaf(actions, "set", run_set, help="set parameters")
    p.add_argument(
        "assignments",
        nargs="+",
        metavar="NAME=VALUE",
        help="e.g. ImageSource.I0.Sensor.Exposure=auto",
    )
    p = add_leaf(actions, "add", run_add, help="add a group, e.g. GuardTour or GuardTour.G1.Tour")
    p.add_argument("group", metavar="GROUP")
    p.add_argument(
        "assignments",
        nargs="*",
        metavar="NAME=VALUE",
        help="values of the new group, e.g. PresetNbr=3",
    )
    p = add_leaf(actions, "remove", run_remove, help="remove an added group")
    p.add_argument("group", metavar="GROUP")
