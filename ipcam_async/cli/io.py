"""``ipcam io ...``: digital inputs and outputs (spec 5.4.1).

Examples::

    ipcam io input 1 2            # Input1=0 / Input2=1 (contact levels)
    ipcam io input 1 --active     # Input1=active
    ipcam io output 1 on          # make output 1 active (output.cgi?action=1:/)
    ipcam io output 1 off         # make it inactive
    ipcam io output 1 2           # levels of outputs 1 and 2
"""

from __future__ import annotations

import argparse

from ..api.io import IoApi, PortStates
from .common import CliError, add_leaf, emit, open_camera

__all__ = ["register"]

_ON = frozenset({"on", "active", "/"})
_OFF = frozenset({"off", "inactive", "\\"})


def _ports(items: list[str]) -> list[int]:
    ports = []
    for item in items:
        for part in item.split(","):
            if not part.strip().isdigit():
                raise CliError(f"expected port numbers, got {item!r}")
            ports.append(int(part))
    return ports


def _show(args: argparse.Namespace, states: PortStates) -> None:
    label = "Input" if states.kind == "input" else "Output"
    if states.query == "check":
        words = {True: "1", False: "0"}
    else:
        words = {True: "active", False: "inactive"}
    emit(
        args,
        {str(port): state for port, state in states.items()},
        "\n".join(f"{label}{port}={words[state]}" for port, state in states.items()),
    )


async def run_input(args: argparse.Namespace) -> int:
    """Print the level (or, with ``--active``, the active state) of inputs."""
    ports = _ports(args.ports)
    async with open_camera(args) as cam:
        io: IoApi = cam.io
        states = await (io.inputs_active(*ports) if args.active else io.inputs(*ports))
    _show(args, states)
    return 0


async def run_output(args: argparse.Namespace) -> int:
    """Set one output on/off, or print the level (or active state) of outputs."""
    words = list(args.args)
    action = words[-1].lower() if words else ""
    async with open_camera(args) as cam:
        io: IoApi = cam.io
        if action in _ON or action in _OFF:
            ports = _ports(words[:-1])
            if len(ports) != 1:
                raise CliError("give exactly one output number before on/off")
            await io.set_output(ports[0], action in _ON)
            state = "active" if action in _ON else "inactive"
            emit(args, {str(ports[0]): action in _ON}, f"Output{ports[0]}={state}")
            return 0
        ports = _ports(words)
        states = await (io.outputs_active(*ports) if args.active else io.outputs(*ports))
    _show(args, states)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``io`` command group."""
    parser = subparsers.add_parser("io", help="digital inputs and outputs")
    actions = parser.add_subparsers(dest="io_action", metavar="ACTION", required=True)
    p = add_leaf(actions, "input", run_input, help="read inputs (levels, or --active)")
    p.add_argument("ports", nargs="+", metavar="ID", help="input numbers, e.g. 1 2 or 1,2")
    p.add_argument("--active", action="store_true", help="report active/inactive")
    p = add_leaf(
        actions,
        "output",
        run_output,
        help="read outputs, or set one: 'output 1 on' / 'output 1 off'",
    )
    p.add_argument("args", nargs="+", metavar="ID [on|off]")
    p.add_argument("--active", action="store_true", help="report active/inactive")
