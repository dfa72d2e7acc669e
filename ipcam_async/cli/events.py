"""``ipcam events ...``: event data (spec 5.4.2), and the ``ipcam sim`` options that drive it.

Examples::

    ipcam events get                          # every group, one line each
    ipcam events get --group Motion --group IO
    ipcam events monitor                      # one line per change, until Ctrl-C
    ipcam events monitor --snapshots --count 3 --group IO --json

``monitor`` reconnects by itself; each disconnect is reported on stderr. It exits with status 1
after ``--max-failures`` consecutive failures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import random
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ..api.event_models import EVENT_GROUPS, MOTION_PARAMS, EventChange, EventData
from ..api.events import EventsApi
from ..api.reconnect import Disconnect, ReconnectPolicy
from .common import CliError, add_leaf, emit, open_camera

if TYPE_CHECKING:
    from ..sim import SimulatedCamera

__all__ = ["add_sim_options", "event_to_json", "register", "sim_events"]


def _stamp(when: float | None) -> str:
    if when is None:
        return "-"
    moment = datetime.datetime.fromtimestamp(when, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_to_json(data: EventData) -> dict[str, Any]:
    """A JSON-ready dict of a snapshot (``None`` fields left out)."""
    out: dict[str, Any] = {}
    if data.received is not None:
        out["received"] = data.received
    for m in data.motion:
        out[m.window] = {
            k: v
            for k, v in (
                ("enabled", m.enabled),
                ("level", m.level),
                ("sensitivity", m.sensitivity),
                ("triggered", m.triggered),
            )
            if v is not None
        }
    if data.io is not None:
        out["IO"] = {
            "status": data.io.to_hex(),
            "inputs": [
                {
                    "number": i.number,
                    "enabled": i.enabled,
                    "closed": i.closed,
                    "normally_closed": i.normally_closed,
                    "active": i.active,
                }
                for i in data.io.inputs
            ],
            "outputs": [
                {
                    "number": o.number,
                    "closed": o.closed,
                    "active_when_closed": o.active_when_closed,
                    "active": o.active,
                }
                for o in data.io.outputs
            ],
        }
    if data.tampering is not None:
        t = data.tampering
        out["T0"] = {
            k: v for k, v in (("enabled", t.enabled), ("triggered", t.triggered)) if v is not None
        }
    for group, fields in data.extra.items():
        out.setdefault(group, dict(fields))
    return out


def _describe(data: EventData) -> str:
    lines: list[str] = []
    for m in data.motion:
        if m.enabled is False:
            lines.append(f"{m.window}: disabled")
            continue
        fields = [
            f"{name}={value}"
            for name, value in (
                ("enabled", m.enabled),
                ("level", m.level),
                ("sensitivity", m.sensitivity),
                ("triggered", m.triggered),
            )
            if value is not None
        ]
        lines.append(f"{m.window}: " + " ".join(fields))
    if data.io is not None:
        io = data.io
        ins = " ".join(
            f"{i.number}:{'closed' if i.closed else 'open'}{'*' if i.active else ''}"
            + ("" if i.enabled else "(off)")
            for i in io.inputs
        )
        outs = " ".join(f"{o.number}:{'active' if o.active else 'idle'}" for o in io.outputs)
        lines.append(f"IO: status={io.to_hex()}")
        lines.append(f"  inputs  {ins}")
        lines.append(f"  outputs {outs}")
    if data.tampering is not None:
        t = data.tampering
        state = "disabled" if t.enabled is False else f"triggered={t.triggered}"
        lines.append(f"T0: {state}")
    return "\n".join(lines)


def _change_json(change: EventChange) -> dict[str, Any]:
    return {
        "received": change.received,
        "source": change.source,
        "kind": change.kind.value,
        "line": change.line,
        "level": change.level,
    }


def _groups(args: argparse.Namespace) -> tuple[str, ...] | None:
    if not args.group:
        return None
    groups: list[str] = []
    for item in args.group:
        groups += [g.strip() for g in item.split(",") if g.strip()]
    return tuple(groups)


async def run_get(args: argparse.Namespace) -> int:
    """Print the current event data."""
    async with open_camera(args) as cam:
        events: EventsApi = cam.events
        data = await events.get(_groups(args), motion_params=args.motion_param or None)
    emit(args, event_to_json(data), lambda: _describe(data))
    return 0


def _report(disconnect: Disconnect) -> None:
    error = disconnect.error
    if disconnect.retry_in is None:
        return  # the final error is printed by the CLI runner
    print(
        f"ipcam: monitor disconnected ({type(error).__name__}: {error}); "
        f"retry {disconnect.failures} in {disconnect.retry_in:.1f} s",
        file=sys.stderr,
        flush=True,
    )


async def run_monitor(args: argparse.Namespace) -> int:
    """Print changes (or, with ``--snapshots``, every snapshot) live, one line each."""
    groups = _groups(args) or EVENT_GROUPS
    policy = ReconnectPolicy(
        max_failures=args.max_failures or None,
        idle_timeout=args.idle_timeout,
        connect_timeout=args.timeout,
    )
    count = 0
    async with open_camera(args) as cam:
        events: EventsApi = cam.events
        if args.snapshots:
            async with events.monitor(groups, policy=policy, on_disconnect=_report) as snaps:
                async for snap in snaps:
                    if args.json:
                        emit(args, event_to_json(snap), "")
                    else:
                        text = _describe(snap).replace("\n", " | ")
                        print(f"{_stamp(snap.received)} {text}", flush=True)
                    count += 1
                    if args.count and count >= args.count:
                        break
        else:
            async with events.changes(groups, policy=policy, on_disconnect=_report) as changes:
                async for change in changes:
                    if args.json:
                        print(_json_line(_change_json(change)), flush=True)
                    else:
                        print(f"{_stamp(change.received)} {change.describe()}", flush=True)
                    count += 1
                    if args.count and count >= args.count:
                        break
    return 0


def _json_line(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``events`` command group."""
    parser = subparsers.add_parser("events", help="motion, I/O and tampering event data")
    sub = parser.add_subparsers(dest="events_action", metavar="ACTION", required=True)

    def add_group(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--group",
            action="append",
            metavar="GROUP",
            help="group to include (repeat or comma-separate): " + ", ".join(EVENT_GROUPS),
        )

    get = add_leaf(sub, "get", run_get, help="print the current event data")
    add_group(get)
    get.add_argument(
        "--motion-param",
        action="append",
        choices=MOTION_PARAMS,
        help="only these motion values (repeatable)",
    )
    mon = add_leaf(sub, "monitor", run_monitor, help="print changes live, one line each")
    add_group(mon)
    mon.add_argument("--snapshots", action="store_true", help="print every snapshot")
    mon.add_argument("--count", type=int, default=0, help="stop after N lines (default: never)")
    mon.add_argument(
        "--max-failures",
        type=int,
        default=0,
        help="give up after N consecutive failures (default: retry forever)",
    )
    mon.add_argument(
        "--idle-timeout",
        type=float,
        default=30.0,
        help="seconds without data before reconnecting (default 30)",
    )


# -- ipcam sim options -------------------------------------------------------------------


def add_sim_options(parser: argparse.ArgumentParser) -> None:
    """Options of ``ipcam sim`` that set the simulated event state and MJPEG frame rate."""
    group = parser.add_argument_group("simulated events and MJPEG")
    group.add_argument(
        "--motion-level",
        type=int,
        metavar="0-100",
        help="enable motion window 'Motion' at this level (triggers at >= 100 - sensitivity)",
    )
    group.add_argument(
        "--input-closed",
        type=int,
        action="append",
        metavar="N",
        default=[],
        help="close digital input N (repeatable)",
    )
    group.add_argument(
        "--tampering", action="store_true", help="enable and trigger the tampering alarm"
    )
    group.add_argument(
        "--event-demo",
        type=float,
        metavar="SECONDS",
        default=0.0,
        help="every SECONDS, change motion / flip input 1 / toggle tampering (0 = off)",
    )
    group.add_argument(
        "--monitor-interval",
        type=float,
        default=10.0,
        help="seconds between event monitor parts without change (default 10)",
    )
    group.add_argument(
        "--mjpeg-fps", type=float, default=10.0, help="MJPEG frame rate (default 10)"
    )


async def _demo(sim: SimulatedCamera, period: float) -> None:
    state = sim.state
    rng = random.Random()
    step = 0
    while True:
        await asyncio.sleep(period)
        step += 1
        kind = step % 3
        if kind == 1:
            state.set_motion("Motion", enabled=True, level=rng.choice((0, 5, 40, 75)))
        elif kind == 2:
            state.flip_input(1)
        else:
            state.set_tampering(not state.tampering.triggered, enabled=True)


@contextlib.asynccontextmanager
async def sim_events(sim: SimulatedCamera, args: argparse.Namespace) -> AsyncIterator[None]:
    """Apply :func:`add_sim_options` to ``sim`` (enter before starting it) and run the demo."""
    state = sim.state
    if not 0 < args.mjpeg_fps <= 1000:
        raise CliError("--mjpeg-fps must be in (0, 1000]")
    if args.monitor_interval <= 0:
        raise CliError("--monitor-interval must be > 0")
    state.mjpeg_fps = args.mjpeg_fps
    state.monitor_interval = args.monitor_interval
    try:
        if args.motion_level is not None:
            state.set_motion("Motion", enabled=True, level=args.motion_level)
        for number in args.input_closed:
            state.set_input(number, True)
        if args.tampering:
            state.set_tampering(True, enabled=True)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    task = asyncio.create_task(_demo(sim, args.event_demo)) if args.event_demo > 0 else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
