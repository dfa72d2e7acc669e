"""``/cgi-bin/com/ptz.cgi`` and ``/cgi-bin/com/ptzconfig.cgi`` of the simulated camera (spec 5.3.1).

The device accepts what the spec's tables give its model class (:mod:`ipcam_async.api.ptz_models`),
moves the virtual head of :mod:`ipcam_async.sim.ptz_head` (``state.ptz``), and keeps presets,
autopan and cruise lines in :class:`~ipcam_async.sim.state.CameraState`.

Answers: a command is answered ``204 No Content``; ``query=position`` with
``pan=<deg>\\r\\ntilt=<deg>\\r\\nzoom=<steps>\\r\\nfocus=<steps>\\r\\niris=<0..100>\\r\\n``;
``info=1`` with ``Available commands:`` and one ``<name>=<values>`` line per command; a refused
request with ``# Error: <description>`` (nothing of it is applied).

Presets are also published as parameters ``PTZ.Preset.P<n>.Name/Pan/Tilt/Zoom/Focus`` so a client
can list them with ``param.cgi`` (the spec has no listing request); the sequence lines of 5.3.1.2
are the ``GuardTour`` parameters, run by ``gotoserversequenceno=<n>`` (the n-th line).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, Literal, cast

from aiohttp import web

from ...api.ptz_models import PtzCapabilities, capabilities_for_model, describe_commands
from ...errors import InvalidArgument
from ..ptz_head import Pose, PtzHead, Waypoint
from ..state import AutopanLine, CameraState, CruiseLine, Preset
from .app import CgiRouter, current_user, error_response, text_response
from .cgi_params import request_pairs

__all__ = ["PTZCONFIG_PATH", "PTZ_PATH", "head_of", "register"]

PTZ_PATH: Final = "/cgi-bin/com/ptz.cgi"
PTZCONFIG_PATH: Final = "/cgi-bin/com/ptzconfig.cgi"
_PRESET_PARAMS: Final = "PTZ.Preset"
_GUARD_POINT = re.compile(r"GuardTour\.G(\d+)\.Tour\.T(\d+)\.(PresetNbr|MoveSpeed|WaitTime)\Z")
_GUARD_LINE = re.compile(r"GuardTour\.G(\d+)\.")


class _Refused(Exception):
    """The request is refused; the text becomes ``# Error: <text>``."""


def head_of(state: CameraState) -> PtzHead:
    """The virtual head of ``state``."""
    head = state.ptz
    if not isinstance(head, PtzHead):
        raise TypeError("CameraState.ptz is not a virtual PtzHead")
    return head


def _done() -> web.Response:
    return web.Response(status=204)


def _parse(
    caps: PtzCapabilities, pairs: Sequence[tuple[str, str]], *, config: bool
) -> list[tuple[str, object]]:
    parsed: list[tuple[str, object]] = []
    seen: set[str] = set()
    for name, text in pairs:
        if name in seen:
            raise _Refused(f"parameter '{name}' given twice")
        seen.add(name)
        table = caps.config if config else caps.commands
        if name not in table:
            raise _Refused(f"'{name}' is not supported by {caps.name}")
        try:
            value = caps.parse_config(name, text) if config else caps.parse_command(name, text)
        except InvalidArgument as exc:
            raise _Refused(f"invalid {exc.argument}={text!r}: valid values {exc.allowed}") from None
        parsed.append((name, value))
    if not parsed:
        raise _Refused("no command given")
    return parsed


def _fmt(value: float) -> str:
    return f"{value:.2f}"


def _position(head: PtzHead, now: float) -> str:
    pose = head.pose(now)
    return (
        f"pan={_fmt(pose.pan)}\r\ntilt={_fmt(pose.tilt)}\r\n"
        f"zoom={round(pose.zoom)}\r\nfocus={round(pose.focus)}\r\n"
        f"iris={round(head.iris_value(now))}\r\n"
    )


def _info(caps: PtzCapabilities) -> str:
    lines = ["Available commands:"]
    lines += [f"{name}={values}" for name, values in describe_commands(caps)]
    return "\r\n".join(lines) + "\r\n"


def _pose_of(preset: Preset) -> Pose:
    return Pose(pan=preset.pan, tilt=preset.tilt, zoom=preset.zoom, focus=preset.focus)


def _end_sequences(state: CameraState) -> None:
    """Mark every running sequence line stopped (a new command ended the tour)."""
    for name, value in state.params.items():
        if name.startswith("GuardTour.G") and name.endswith(".Running") and value == "yes":
            state.params.set(name, "no")


def _record_cruise(state: CameraState, head: PtzHead, now: float) -> None:
    """A cruise line being recorded remembers where each command sends the head."""
    for line in state.cruise.values():
        if line.recording:
            _add_cruise_point(line, head.destination(now))


def _add_cruise_point(line: CruiseLine, pose: Pose) -> None:
    if line.points and _pose_of(line.points[-1]) == pose:
        return  # staying put adds no stop
    line.points.append(Preset("cruise", pose.pan, pose.tilt, pose.zoom, pose.focus))


def _sequence_stops(state: CameraState, number: int) -> tuple[str, list[Waypoint]]:
    lines = sorted({int(m.group(1)) for n in state.params if (m := _GUARD_LINE.match(n))})
    if number > len(lines):
        raise _Refused(f"sequence line {number} does not exist")
    index = lines[number - 1]
    points: dict[int, dict[str, int]] = {}
    for name, value in state.params.items():
        match = _GUARD_POINT.match(name)
        if match is not None and int(match.group(1)) == index:
            points.setdefault(int(match.group(2)), {})[match.group(3)] = int(value)
    stops = []
    for _point, values in sorted(points.items()):
        preset = state.presets.get(values.get("PresetNbr", 1))
        if preset is None:
            continue
        speed = (values.get("MoveSpeed", 10) + 1) / 15
        stops.append(Waypoint(_pose_of(preset), speed=speed, dwell=values.get("WaitTime", 1)))
    if not stops:
        raise _Refused(f"sequence line {number} has no point with an existing preset")
    return f"GuardTour.G{index}", stops


def _autopan_stops(state: CameraState, head: PtzHead, number: int, now: float) -> list[Waypoint]:
    line = state.autopan.get(number)
    if line is None or line.start is None or line.end is None:
        raise _Refused(f"autopan line {number} has no start and end")
    low, high = sorted((line.start, line.end))
    first, second = (high, low) if line.direction == "right" else (low, high)
    here = head.pose(now)
    speed = (line.speed + 1) / 4
    return [
        Waypoint(Pose(first, here.tilt, here.zoom, here.focus), speed=speed),
        Waypoint(Pose(second, here.tilt, here.zoom, here.focus), speed=speed),
    ]


def _cruise_stops(state: CameraState, number: int) -> list[Waypoint]:
    line = state.cruise.get(number)
    if line is None or line.recording or not line.points:
        raise _Refused(f"cruise line {number} is not recorded")
    return [Waypoint(_pose_of(point), dwell=1.0) for point in line.points]


def _apply_commands(
    state: CameraState, head: PtzHead, commands: list[tuple[str, object]], now: float
) -> web.Response | None:
    """Run the validated commands; return an answer for a query, else ``None``."""
    values = dict(commands)
    if "info" in values:
        return text_response(_info(capabilities_for_model(state.model)))
    if "query" in values:
        return text_response(_position(head, now))
    if "center" in values:
        if "imagewidth" not in values or "imageheight" not in values:
            raise _Refused("center needs imagewidth and imageheight")
        x, y = cast(tuple[int, int], values["center"])
        width, height = cast(int, values["imagewidth"]), cast(int, values["imageheight"])
        if x > width or y > height:
            raise _Refused(f"center {x},{y} lies outside the {width}x{height} image")
    elif "imagewidth" in values or "imageheight" in values or "stream" in values:
        raise _Refused("imagewidth, imageheight and stream are only used with center")

    preset_no = values.get("gotoserverpresetno")
    if isinstance(preset_no, int) and preset_no not in state.presets:
        raise _Refused(f"preset {preset_no} does not exist")
    tour: tuple[str, list[Waypoint]] | None = None
    if isinstance(number := values.get("gotoserverautopanno"), int):
        tour = (f"autopan {number}", _autopan_stops(state, head, number, now))
    elif isinstance(number := values.get("gotoservercruiseno"), int):
        tour = (f"cruise {number}", _cruise_stops(state, number))
    elif isinstance(number := values.get("gotoserversequenceno"), int):
        tour = _sequence_stops(state, number)

    # Everything is valid: apply.
    _end_sequences(state)
    for name, value in commands:
        if name == "move":
            assert isinstance(value, str)
            head.step(now, value)
        elif name in ("pan", "tilt", "zoom", "focus"):
            assert isinstance(value, int | float)
            head.goto(now, **{name: float(value)})
        elif name in ("rpan", "rtilt", "rzoom", "rfocus"):
            assert isinstance(value, int | float)
            head.relative(now, **{name[1:]: float(value)})
        elif name == "autofocus":
            assert isinstance(value, str)
            _autofocus(head, value, now)
        elif name == "continuouspantiltmove":
            pan, tilt = cast(tuple[int, int], value)
            head.continuous(now, pan=pan, tilt=tilt)
        elif name == "continuouszoommove":
            assert isinstance(value, int)
            head.continuous(now, zoom=value)
        elif name == "continuousfocusmove":
            assert isinstance(value, int)
            # Positive focuses near: towards 0 on the simulated scale.
            head.continuous(now, focus=-value)
        elif name == "continuousirismove":
            head.continuous(now, iris={"open": 100, "close": -100}.get(str(value), 0))
        elif name == "zoomsteps":
            assert isinstance(value, int)
            head.relative(now, zoom=float(value))
        elif name == "focusteps":
            assert isinstance(value, int)
            head.relative(now, focus=-float(value))
        elif name == "gotoserverpresetno":
            assert isinstance(value, int)
            head.goto_pose(now, _pose_of(state.presets[value]))
        elif name == "center":
            _center(head, values, now)
    if tour is not None:
        name, stops = tour
        head.start_tour(now, stops, name)
        if name.startswith("GuardTour."):
            state.params.set(f"{name}.Running", "yes")
    _record_cruise(state, head, now)
    return None


def _autofocus(head: PtzHead, mode: str, now: float) -> None:
    head.autofocus_mode = mode
    here = head.pose(now)
    if mode in ("reset", "zoomreset"):
        head.goto(now, zoom=0.0)
    if mode in ("reset", "focusreset"):
        head.goto(now, focus=0.0)
    if mode == "pushaf":
        # One-push autofocus: the simulated lens is sharp when focus tracks zoom.
        head.goto(now, focus=here.zoom)


def _center(head: PtzHead, values: dict[str, object], now: float) -> None:
    """Turn so the clicked point becomes the image center (60 degrees wide at zoom 0, 18x tele)."""
    x, y = cast(tuple[int, int], values["center"])
    width, height = cast(int, values["imagewidth"]), cast(int, values["imageheight"])
    here = head.pose(now)
    fov = 60.0 / (1.0 + 17.0 * here.zoom / 9999.0)
    dpan = (x / width - 0.5) * fov
    dtilt = (0.5 - y / height) * fov * height / width
    head.relative(now, pan=dpan, tilt=dtilt)


async def ptz_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """``ptz.cgi``: validate every parameter for the model class, then move the head."""
    caps = capabilities_for_model(state.model)
    head = head_of(state)
    now = head.now()
    try:
        commands = _parse(caps, await request_pairs(request), config=False)
        answer = _apply_commands(state, head, commands, now)
    except _Refused as exc:
        return error_response(str(exc))
    if answer is not None:
        return answer
    state.changed()
    return _done()


def _publish_preset(state: CameraState, number: int, preset: Preset | None) -> None:
    """Keep the ``PTZ.Preset.P<n>.*`` parameters in step with the preset table."""
    base = f"{_PRESET_PARAMS}.P{number}"
    state.params.delete(base)
    if preset is not None:
        state.params.set(f"{base}.Name", preset.name)
        state.params.set(f"{base}.Pan", _fmt(preset.pan))
        state.params.set(f"{base}.Tilt", _fmt(preset.tilt))
        state.params.set(f"{base}.Zoom", str(round(preset.zoom)))
        state.params.set(f"{base}.Focus", str(round(preset.focus)))


def _store_preset(state: CameraState, number: int, name: str, pose: Pose) -> None:
    if name:
        # Names identify presets for removeserverpresetname: one name, one preset.
        for other, preset in list(state.presets.items()):
            if preset.name == name and other != number:
                del state.presets[other]
                _publish_preset(state, other, None)
    preset = Preset(name, pose.pan, pose.tilt, pose.zoom, pose.focus)
    state.presets[number] = preset
    _publish_preset(state, number, preset)


def _apply_config(
    state: CameraState, head: PtzHead, settings: list[tuple[str, object]], now: float
) -> list[str]:
    """Apply validated ``ptzconfig.cgi`` settings (all checked first); return log lines."""
    # Check what depends on the state before changing anything.
    for name, value in settings:
        if name == "removeserverpresetno" and value not in state.presets:
            raise _Refused(f"preset {value} does not exist")
        if name == "removeserverpresetname" and all(
            p.name != value for p in state.presets.values()
        ):
            raise _Refused(f"no preset is named {value!r}")
        if name == "setservercruise":
            line_no, what = cast(tuple[int, str], value)
            cruise = state.cruise.get(line_no)
            if what == "end" and (cruise is None or not cruise.recording):
                raise _Refused(f"cruise line {line_no} is not being recorded")
    done: list[str] = []
    pose = head.pose(now)
    for name, value in settings:
        if name == "setserverpresetno":
            assert isinstance(value, int)
            old = state.presets.get(value)
            _store_preset(state, value, old.name if old else "", pose)
            done.append(f"saved preset {value}")
        elif name == "setserverpresetname":
            number, label = cast(tuple[int, str], value)
            _store_preset(state, number, label, pose)
            done.append(f"saved preset {number} ({label})")
        elif name == "removeserverpresetno":
            assert isinstance(value, int)
            del state.presets[value]
            _publish_preset(state, value, None)
            done.append(f"removed preset {value}")
        elif name == "removeserverpresetname":
            for number, preset in list(state.presets.items()):
                if preset.name == value:
                    del state.presets[number]
                    _publish_preset(state, number, None)
            done.append(f"removed preset {value}")
        elif name == "setserverautopan":
            line_no, what = cast(tuple[int, str], value)
            autopan = state.autopan.setdefault(line_no, AutopanLine())
            if what == "start":
                autopan.start = pose.pan
            else:
                autopan.end = pose.pan
            done.append(f"autopan {line_no} {what} at {pose.pan:.2f}")
        elif name == "setserverautopandirspeed":
            line_no, direction, speed = cast(tuple[int, Literal["left", "right"], int], value)
            autopan = state.autopan.setdefault(line_no, AutopanLine())
            autopan.direction = direction
            autopan.speed = speed
            done.append(f"autopan {line_no} {direction} speed {speed}")
        elif name == "setservercruise":
            line_no, what = cast(tuple[int, str], value)
            if what == "start":
                state.cruise[line_no] = recorded = CruiseLine(recording=True)
            else:
                recorded = state.cruise[line_no]
                recorded.recording = False
            _add_cruise_point(recorded, pose)
            done.append(f"cruise {line_no} {what}")
        elif name == "home":
            head.home = pose
            done.append("home set")
    return done


async def ptzconfig_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """``ptzconfig.cgi``: presets, autopan, cruise and home (administrator access)."""
    caps = capabilities_for_model(state.model)
    head = head_of(state)
    try:
        settings = _parse(caps, await request_pairs(request), config=True)
        done = _apply_config(state, head, settings, head.now())
    except _Refused as exc:
        return error_response(str(exc))
    state.log(f"ptzconfig.cgi: {current_user(request)}: {'; '.join(done)}")
    state.changed()
    return _done()


def register(router: CgiRouter) -> None:
    """Add ptz.cgi (view access) and ptzconfig.cgi (administrator access), GET and POST."""
    router.add(("GET", "POST"), PTZ_PATH, ptz_cgi, "view")
    router.add(("GET", "POST"), PTZCONFIG_PATH, ptzconfig_cgi, "admin")
