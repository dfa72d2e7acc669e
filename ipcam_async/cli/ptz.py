"""``ipcam ptz ...``: pan/tilt/zoom control, presets, tours and sequence lines (spec 5.3.1).

Examples::

    ipcam ptz goto-preset 3
    ipcam ptz position
    ipcam ptz move up
    ipcam ptz goto --pan 45 --tilt 10 --zoom 2000
    ipcam ptz continuous 50 0          # pan right at half speed; "ipcam ptz stop" stops
    ipcam ptz preset set 3 "Front door"
    ipcam ptz add-sequence
    ipcam ptz add-point 1 3 --wait 5  # preset 3 on GuardTour.G1, 5 s
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any

from ..api.ptz import PtzApi, PtzPosition
from ..api.ptz_models import MOVE_DIRECTIONS, PtzModelClass
from .common import CliError, add_leaf, emit, open_camera

__all__ = ["register"]

_CLASSES = {
    "ptz": PtzModelClass.FULL_HD_IP_PTZ,
    "zoom": PtzModelClass.FULL_HD_MULTI_STREAM_ZOOM,
    "motorized": PtzModelClass.FULL_HD_MULTI_STREAM_MOTORIZED,
    "rs485": PtzModelClass.FULL_HD_MULTI_STREAM_RS485,
    "generic": PtzModelClass.GENERIC,
}

Action = Callable[[PtzApi, argparse.Namespace], Awaitable[Any]]


async def _with_ptz(args: argparse.Namespace, action: Action) -> Any:
    async with open_camera(args) as cam:
        ptz: PtzApi = cam.ptz
        model_class = getattr(args, "model_class", None)
        if model_class:
            ptz.use_model_class(_CLASSES[model_class])
        return await action(ptz, args)


def _command(action: Action, done: Callable[[argparse.Namespace], str]) -> Any:
    """A handler that runs ``action`` and prints ``done(args)``."""

    async def run(args: argparse.Namespace) -> int:
        await _with_ptz(args, action)
        message = done(args)
        emit(args, {"ok": True, "done": message}, message)
        return 0

    return run


def _position_text(position: PtzPosition) -> str:
    parts = [
        f"{name}={value:g}"
        for name, value in (
            ("pan", position.pan),
            ("tilt", position.tilt),
            ("zoom", position.zoom),
            ("focus", position.focus),
            ("iris", position.iris),
        )
        if value is not None
    ]
    parts += [f"{name}={value}" for name, value in position.extra]
    return "\n".join(parts)


async def run_position(args: argparse.Namespace) -> int:
    """Print the current position."""

    position: PtzPosition = await _with_ptz(args, lambda ptz, _a: ptz.position())
    data = {
        "pan": position.pan,
        "tilt": position.tilt,
        "zoom": position.zoom,
        "focus": position.focus,
        "iris": position.iris,
        **dict(position.extra),
    }
    emit(args, data, _position_text(position))
    return 0


async def run_info(args: argparse.Namespace) -> int:
    """Print the commands the camera supports (``info=1``)."""

    info = await _with_ptz(args, lambda ptz, _a: ptz.info())
    data = {command.name: command.values for command in info}
    emit(args, data, lambda: "\n".join(f"{k}={v}" if v else k for k, v in data.items()))
    return 0


async def run_presets(args: argparse.Namespace) -> int:
    """List the presets."""

    presets = await _with_ptz(args, lambda ptz, _a: ptz.presets())
    data = [
        {
            "number": p.number,
            "name": p.name,
            "pan": p.pan,
            "tilt": p.tilt,
            "zoom": p.zoom,
            "focus": p.focus,
        }
        for p in presets
    ]
    emit(
        args,
        data,
        lambda: (
            "\n".join(f"{p.number}\t{p.name}\tpan={p.pan} tilt={p.tilt}" for p in presets)
            or "no presets"
        ),
    )
    return 0


async def run_sequences(args: argparse.Namespace) -> int:
    """List the sequence lines and their points."""

    lines = await _with_ptz(args, lambda ptz, _a: ptz.sequence_lines())
    data = [
        {
            "group": line.group,
            "number": line.number,
            "name": line.name,
            "running": line.running,
            "points": [
                {
                    "point": p.index,
                    "preset": p.preset,
                    "move_speed": p.move_speed,
                    "wait_time": p.wait_time,
                }
                for p in line.points
            ],
        }
        for line in lines
    ]

    def text() -> str:
        out = []
        for line in lines:
            running = " (running)" if line.running else ""
            out.append(f"{line.number}: {line.group} {line.name!r}{running}")
            out += [
                f"    T{p.index}: preset {p.preset}, speed {p.move_speed}, wait {p.wait_time} s"
                for p in line.points
            ]
        return "\n".join(out) or "no sequence lines"

    emit(args, data, text)
    return 0


async def run_add_line(args: argparse.Namespace) -> int:
    """Create a sequence line and print its group name."""

    async def action(ptz: PtzApi, a: argparse.Namespace) -> Any:
        return await ptz.add_sequence_line(a.name)

    group = await _with_ptz(args, action)
    emit(args, {"added": group}, group)
    return 0


async def run_add_point(args: argparse.Namespace) -> int:
    """Append a point to a sequence line and print its group name."""

    async def action(ptz: PtzApi, a: argparse.Namespace) -> Any:
        return await ptz.add_sequence_point(
            _number_or_name(a.line), a.preset, move_speed=a.speed, wait_time=a.wait
        )

    group = await _with_ptz(args, action)
    emit(args, {"added": group}, group)
    return 0


def _number_or_name(text: str) -> int | str:
    """A line or preset given on the command line: its number, else its name."""
    return int(text) if text.isdigit() else text


def _method_call(method: str, attribute: str) -> Action:
    """An action calling ``ptz.<method>(args.<attribute>)``."""

    async def action(ptz: PtzApi, a: argparse.Namespace) -> Any:
        return await getattr(ptz, method)(getattr(a, attribute))

    return action


def _said(template: str) -> Callable[[argparse.Namespace], str]:
    """A message from ``template`` filled with the parsed arguments."""
    return lambda a: template.format(**vars(a))


def _goto_action(relative: bool) -> Action:
    async def action(ptz: PtzApi, a: argparse.Namespace) -> None:
        if a.pan is None and a.tilt is None and a.zoom is None and a.focus is None:
            raise CliError("give at least one of --pan --tilt --zoom --focus")
        call = ptz.relative if relative else ptz.goto
        await call(pan=a.pan, tilt=a.tilt, zoom=a.zoom, focus=a.focus)

    return action


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``ptz`` command group."""
    parser = subparsers.add_parser("ptz", help="pan, tilt, zoom, presets, tours")
    actions = parser.add_subparsers(dest="ptz_action", metavar="ACTION", required=True)

    def leaf(name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
        p = add_leaf(actions, name, handler, help=help_text)
        p.add_argument(
            "--class",
            dest="model_class",
            choices=sorted(_CLASSES),
            help="validate against this model class of the spec (default: from the camera)",
        )
        return p

    leaf("position", run_position, "print pan, tilt, zoom, focus")
    leaf("info", run_info, "list the PTZ commands the camera supports")

    p = leaf(
        "move",
        _command(lambda ptz, a: ptz.move(a.direction), lambda a: f"moved {a.direction}"),
        "move 5 degrees in a direction, or home",
    )
    p.add_argument("direction", choices=MOVE_DIRECTIONS)

    for name, relative, text in (
        ("goto", False, "go to absolute pan/tilt (degrees) and zoom/focus (steps)"),
        ("relative", True, "move relative to the current position"),
    ):
        p = leaf(name, _command(_goto_action(relative), lambda a: "moving"), text)
        p.add_argument("--pan", type=float)
        p.add_argument("--tilt", type=float)
        p.add_argument("--zoom", type=int)
        p.add_argument("--focus", type=int)

    p = leaf(
        "goto-preset",
        _command(lambda ptz, a: ptz.goto_preset(a.number), lambda a: f"going to preset {a.number}"),
        "go to a preset position (1..256)",
    )
    p.add_argument("number", type=int)
    p = leaf(
        "autofocus",
        _command(lambda ptz, a: ptz.autofocus(a.mode), lambda a: f"autofocus {a.mode}"),
        "autofocus on/off/pushaf/zoomtrigger/zoomreset/focusreset/reset",
    )
    p.add_argument("mode")
    p = leaf(
        "continuous",
        _command(
            lambda ptz, a: ptz.continuous_pan_tilt(a.pan, a.tilt),
            lambda a: f"pan/tilt speed {a.pan},{a.tilt}",
        ),
        "pan/tilt continuously at -100..100 each (0 0 stops)",
    )
    p.add_argument("pan", type=int)
    p.add_argument("tilt", type=int)
    for name, method, text in (
        ("zoom-speed", "continuous_zoom", "zoom continuously at -100..100 (0 stops)"),
        ("focus-speed", "continuous_focus", "focus continuously at -100..100 (0 stops)"),
        ("zoom-steps", "zoom_steps", "zoom by 1, 2, 4 ... 128 steps (negative: out)"),
        ("focus-steps", "focus_steps", "focus by 1, 2, 4 ... 128 steps (positive: near)"),
    ):
        p = leaf(
            name,
            _command(_method_call(method, "value"), _said(f"{name} {{value}}")),
            text,
        )
        p.add_argument("value", type=int)
    p = leaf(
        "iris",
        _command(lambda ptz, a: ptz.continuous_iris(a.action), lambda a: f"iris {a.action}"),
        "open or close the iris continuously, or stop",
    )
    p.add_argument("action", choices=("open", "close", "stop"))
    leaf("stop", _command(lambda ptz, a: ptz.stop(), lambda a: "stopped"), "stop continuous moves")
    for name, method, text in (
        ("autopan", "run_autopan", "run an autopan line (1..4)"),
        ("cruise", "run_cruise", "run a cruise line (1..8)"),
        ("sequence", "run_sequence", "run a sequence line (1..8)"),
    ):
        p = leaf(
            name,
            _command(_method_call(method, "line"), _said(f"running {name} {{line}}")),
            text,
        )
        p.add_argument("line", type=int)
    p = leaf(
        "center",
        _command(
            lambda ptz, a: ptz.center(
                a.x, a.y, image_width=a.width, image_height=a.height, stream=a.stream
            ),
            lambda a: f"centering on {a.x},{a.y}",
        ),
        "center the image on a clicked point",
    )
    p.add_argument("x", type=int)
    p.add_argument("y", type=int)
    p.add_argument("--width", type=int, required=True, help="width of the image clicked on")
    p.add_argument("--height", type=int, required=True, help="height of the image clicked on")
    p.add_argument("--stream", choices=("h264", "h264_2", "jpeg"), default="h264")

    # ptzconfig.cgi
    leaf("presets", run_presets, "list the presets")
    p = leaf(
        "set-preset",
        _command(
            lambda ptz, a: ptz.set_preset(a.number, a.name),
            lambda a: f"saved preset {a.number}",
        ),
        "save the current position as a preset (optionally named)",
    )
    p.add_argument("number", type=int)
    p.add_argument("name", nargs="?")
    p = leaf(
        "remove-preset",
        _command(
            lambda ptz, a: ptz.remove_preset(_number_or_name(a.preset)),
            lambda a: f"removed preset {a.preset}",
        ),
        "remove a preset by number or name",
    )
    p.add_argument("preset", metavar="NUMBER|NAME")
    p = leaf(
        "set-autopan",
        _command(
            lambda ptz, a: ptz.set_autopan(a.line, a.state),
            lambda a: f"autopan {a.line} {a.state} set",
        ),
        "record the current position as the start or end of an autopan line",
    )
    p.add_argument("line", type=int)
    p.add_argument("state", choices=("start", "end"))
    p = leaf(
        "autopan-direction",
        _command(
            lambda ptz, a: ptz.set_autopan_direction(a.line, a.direction, a.speed),
            lambda a: f"autopan {a.line}: {a.direction}, speed {a.speed}",
        ),
        "set an autopan line's direction and speed (0..3)",
    )
    p.add_argument("line", type=int)
    p.add_argument("direction", choices=("left", "right"))
    p.add_argument("speed", type=int)
    p = leaf(
        "set-cruise",
        _command(
            lambda ptz, a: ptz.set_cruise(a.line, a.state),
            lambda a: f"cruise {a.line} {a.state}",
        ),
        "start or end recording a cruise line",
    )
    p.add_argument("line", type=int)
    p.add_argument("state", choices=("start", "end"))
    leaf(
        "set-home",
        _command(lambda ptz, a: ptz.set_home(), lambda a: "home position set"),
        "make the current position the home position",
    )

    # sequence lines (param.cgi GuardTour)
    leaf("sequences", run_sequences, "list the sequence lines")
    p = leaf("add-sequence", run_add_line, "create a sequence line")
    p.add_argument("name", nargs="?")
    p = leaf("add-point", run_add_point, "append a preset to a sequence line")
    p.add_argument("line", help="line index n of GuardTour.G<n>, or the group name")
    p.add_argument("preset", type=int)
    p.add_argument("--speed", type=int, help="MoveSpeed 0..14")
    p.add_argument("--wait", type=int, help="WaitTime 0..255 seconds")
    p = leaf(
        "remove-sequence",
        _command(
            lambda ptz, a: ptz.remove_sequence_line(_number_or_name(a.line)),
            lambda a: f"removed sequence line {a.line}",
        ),
        "remove a sequence line",
    )
    p.add_argument("line")
