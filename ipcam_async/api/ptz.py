"""PTZ control (``ptz.cgi``), PTZ configuration (``ptzconfig.cgi``) and sequence lines (spec 5.3.1).

Reached as ``cam.ptz``::

    await cam.ptz.goto_preset(3)
    await cam.ptz.continuous_pan_tilt(50, 0)       # joystick right, half speed
    position = await cam.ptz.position()            # PtzPosition(pan=12.5, tilt=0.0, ...)

Every argument is checked against the range the spec gives for the camera's model class
(:mod:`ipcam_async.api.ptz_models`) before anything is sent.  The class comes from the caller
(``PtzApi(cam, model_class=...)`` / :meth:`PtzApi.use_model_class`), else from the model name given
to :class:`~ipcam_async.camera.Camera`, else from the camera's ``Properties`` parameters, read once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import attrs

from ..errors import AuthError, InvalidArgument, NotFoundError, ParameterError, ProtocolError
from ..params import param_float, param_int, strip_root
from ..validate import check_int, check_text
from .ptz_models import (
    SEQUENCE_LINE_SPECS,
    PtzCapabilities,
    PtzModelClass,
    capabilities_for,
    capabilities_for_model,
    classify_model,
)

if TYPE_CHECKING:
    from ..camera import Camera

__all__ = [
    "PRESET_GROUP",
    "PTZCONFIG_PATH",
    "PTZ_PATH",
    "SEQUENCE_GROUP",
    "PtzApi",
    "PtzCommandInfo",
    "PtzInfo",
    "PtzPosition",
    "PtzPreset",
    "SequenceLine",
    "SequencePoint",
    "parse_info",
    "parse_position",
    "parse_presets",
    "parse_sequence_lines",
]

_log = logging.getLogger(__name__)

PTZ_PATH = "/cgi-bin/com/ptz.cgi"
PTZCONFIG_PATH = "/cgi-bin/com/ptzconfig.cgi"
#: Parameter group of the presets (see :meth:`PtzApi.presets`) and of the sequence lines.
PRESET_GROUP = "PTZ.Preset"
SEQUENCE_GROUP = "GuardTour"
#: Answers of ptz.cgi are a few lines; anything bigger is not a PTZ answer.
_MAX_ANSWER = 64 * 1024
_MAX_LINES = 512

Direction = Literal[
    "home", "up", "down", "left", "right", "upleft", "upright", "downleft", "downright"
]
Stream = Literal["h264", "h264_2", "jpeg"]


# -- models ------------------------------------------------------------------------------------


@attrs.frozen
class PtzPosition:
    """The answer to ``query=position``.

    ``pan``/``tilt`` in degrees, ``zoom``/``focus`` in steps, ``iris`` as the device reports it;
    a value the device did not report is ``None``.  ``extra`` keeps any other ``key=value`` pair
    the device sent (``autofocus=on`` ...), in its order.
    """

    pan: float | None = None
    tilt: float | None = None
    zoom: int | None = None
    focus: int | None = None
    iris: float | None = None
    extra: tuple[tuple[str, str], ...] = ()

    def get(self, key: str) -> str | None:
        """An ``extra`` value by (lower-case) key."""
        return next((value for name, value in self.extra if name == key), None)


@attrs.frozen
class PtzCommandInfo:
    """One command of the ``info=1`` answer: its name and the values the device describes."""

    name: str
    values: str = ""


@attrs.frozen
class PtzInfo:
    """The ``info=1`` answer: which ``ptz.cgi`` commands the device supports."""

    commands: tuple[PtzCommandInfo, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The command names, in the device's order."""
        return tuple(command.name for command in self.commands)

    def supports(self, name: str) -> bool:
        """Whether the device lists command ``name``."""
        return name.lower() in self.names

    def __iter__(self) -> Iterator[PtzCommandInfo]:
        return iter(self.commands)

    def __len__(self) -> int:
        return len(self.commands)


@attrs.frozen
class PtzPreset:
    """A preset position as the camera publishes it (``PTZ.Preset.P<number>.*`` parameters)."""

    number: int
    name: str = ""
    pan: float | None = None
    tilt: float | None = None
    zoom: float | None = None
    focus: float | None = None


@attrs.frozen
class SequencePoint:
    """One stop of a sequence line: ``GuardTour.G<n>.Tour.T<index>`` (spec 5.3.1.2)."""

    group: str
    index: int
    preset: int
    move_speed: int
    wait_time: int


@attrs.frozen
class SequenceLine:
    """A sequence line (``GuardTour.G<index>``) with its points in order.

    ``number`` is the line's 1-based position among the camera's lines: the value to give to
    :meth:`PtzApi.run_sequence`.
    """

    group: str
    index: int
    number: int
    name: str
    running: bool
    points: tuple[SequencePoint, ...]


# -- parsers (pure) ----------------------------------------------------------------------------

_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.]*")


def _lines(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) > _MAX_LINES:
        raise ProtocolError(f"PTZ answer of {len(lines)} lines (at most {_MAX_LINES})")
    return lines


def _number(key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ProtocolError(f"position {key}={text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ProtocolError(f"position {key}={text!r} is not a finite number")
    return value


def parse_position(text: str) -> PtzPosition:
    """Parse a ``query=position`` answer: ``pan=12.5\\r\\ntilt=0\\r\\nzoom=100\\r\\nfocus=7``.

    Tolerant of ``\\n`` or ``\\r\\n``, blank lines, spaces around ``=``, key case, ``&``-joined
    pairs on one line and a ``root.PTZ.`` style prefix on keys; zoom/focus given with a decimal
    part are rounded.  Raises :class:`ProtocolError` when a line is not ``key=value``, a number
    does not parse, or none of pan/tilt/zoom/focus is present.
    """
    values: dict[str, float] = {}
    extra: list[tuple[str, str]] = []
    for line in _lines(text):
        for pair in line.split("&"):
            key, sep, value = pair.partition("=")
            key = key.strip()
            if not sep or not _KEY.fullmatch(key):
                raise ProtocolError(f"unexpected line in a position answer: {line[:80]!r}")
            name = key.rsplit(".", 1)[-1].lower()
            value = value.strip()
            if name in ("pan", "tilt", "zoom", "focus", "iris"):
                values[name] = _number(name, value)
            else:
                extra.append((name, value))
    if not values.keys() & {"pan", "tilt", "zoom", "focus"}:
        raise ProtocolError("a position answer without pan, tilt, zoom or focus")

    def steps(name: str) -> int | None:
        found = values.get(name)
        return None if found is None else round(found)

    return PtzPosition(
        pan=values.get("pan"),
        tilt=values.get("tilt"),
        zoom=steps("zoom"),
        focus=steps("focus"),
        iris=values.get("iris"),
        extra=tuple(extra),
    )


_COMMAND_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def parse_info(text: str) -> PtzInfo:
    """Parse an ``info=1`` answer into the list of supported commands.

    Each ``name=<values>`` line is a command (``{name=<values>}`` for an optional one, and a bare
    ``name`` line too); title lines ending in ``:`` and anything else are skipped.  Raises
    :class:`ProtocolError` when no command is found.
    """
    commands: list[PtzCommandInfo] = []
    seen: set[str] = set()
    for line in _lines(text):
        if line.endswith(":"):
            continue
        entry = line
        if entry.startswith("{") and entry.endswith("}"):
            entry = entry[1:-1].strip()
        name, _sep, values = entry.partition("=")
        name = name.strip()
        if not _COMMAND_NAME.fullmatch(name):
            _log.debug("skipping info line %r", line[:80])
            continue
        lowered = name.lower()
        if lowered in seen:
            continue
        seen.add(lowered)
        commands.append(PtzCommandInfo(lowered, values.strip()))
    if not commands:
        raise ProtocolError("an info=1 answer without any command")
    return PtzInfo(tuple(commands))


_PRESET_KEY = re.compile(r"P(\d+)\.(\w+)")
_LINE_KEY = re.compile(r"G(\d+)\.(\w+)")
_POINT_KEY = re.compile(r"G(\d+)\.Tour\.T(\d+)\.(\w+)")


def parse_presets(tree: Mapping[str, str]) -> tuple[PtzPreset, ...]:
    """Presets from a ``PTZ.Preset`` listing (keys relative to ``PTZ.Preset`` or full names)."""
    fields: dict[int, dict[str, str]] = {}
    for key, value in tree.items():
        relative = strip_root(key)
        relative = relative.removeprefix("PTZ.Preset.")
        match = _PRESET_KEY.fullmatch(relative)
        if match is not None:
            fields.setdefault(int(match.group(1)), {})[match.group(2)] = value
    presets = []
    for number in sorted(fields):
        found = fields[number]

        def number_of(
            name: str, found: dict[str, str] = found, number: int = number
        ) -> float | None:
            text = found.get(name)
            return None if text is None else param_float(f"PTZ.Preset.P{number}.{name}", text)

        presets.append(
            PtzPreset(
                number=number,
                name=found.get("Name", ""),
                pan=number_of("Pan"),
                tilt=number_of("Tilt"),
                zoom=number_of("Zoom"),
                focus=number_of("Focus"),
            )
        )
    return tuple(presets)


def parse_sequence_lines(tree: Mapping[str, str]) -> tuple[SequenceLine, ...]:
    """Sequence lines from a ``GuardTour`` listing (keys relative to ``GuardTour`` or full)."""
    lines: dict[int, dict[str, str]] = {}
    points: dict[int, dict[int, dict[str, str]]] = {}
    for key, value in tree.items():
        relative = strip_root(key).removeprefix("GuardTour.")
        if (match := _POINT_KEY.fullmatch(relative)) is not None:
            line, point = int(match.group(1)), int(match.group(2))
            points.setdefault(line, {}).setdefault(point, {})[match.group(3)] = value
            lines.setdefault(line, {})
        elif (match := _LINE_KEY.fullmatch(relative)) is not None:
            lines.setdefault(int(match.group(1)), {})[match.group(2)] = value
    result = []
    for number, index in enumerate(sorted(lines), start=1):
        group = f"GuardTour.G{index}"
        stops = []
        for point_index, values in sorted(points.get(index, {}).items()):
            base = f"{group}.Tour.T{point_index}"
            stops.append(
                SequencePoint(
                    group=base,
                    index=point_index,
                    preset=param_int(f"{base}.PresetNbr", values.get("PresetNbr", "1")),
                    move_speed=param_int(f"{base}.MoveSpeed", values.get("MoveSpeed", "10")),
                    wait_time=param_int(f"{base}.WaitTime", values.get("WaitTime", "1")),
                )
            )
        info = lines[index]
        result.append(
            SequenceLine(
                group=group,
                index=index,
                number=number,
                name=info.get("Name", ""),
                running=info.get("Running", "no").strip().lower() in ("yes", "true", "1"),
                points=tuple(stops),
            )
        )
    return tuple(result)


# -- the API -----------------------------------------------------------------------------------

#: Parameter groups, and names in them, that may hold the model name (most specific first).
_MODEL_GROUPS = ("Properties.System", "Brand")
_MODEL_KEYS = ("Model", "ProdShortName", "ProdNbr", "ModelName", "ProdFullName")


class PtzApi:
    """``ptz.cgi`` / ``ptzconfig.cgi`` / sequence lines of one camera (``cam.ptz``).

    ``model_class`` fixes the spec table used for validation; without it the class is found from
    ``Camera(model=...)`` or from the camera's ``Properties`` parameters on first use (a model the
    spec does not list gets :attr:`PtzModelClass.GENERIC`, the union of all tables).
    """

    def __init__(self, camera: Camera, *, model_class: PtzModelClass | None = None) -> None:
        self._camera = camera
        self._capabilities: PtzCapabilities | None = (
            None if model_class is None else capabilities_for(model_class)
        )

    def use_model_class(self, model_class: PtzModelClass | None) -> None:
        """Validate against ``model_class`` from now on (``None``: ask the camera again)."""
        self._capabilities = None if model_class is None else capabilities_for(model_class)

    async def capabilities(self) -> PtzCapabilities:
        """The spec table this camera is validated against (found once, then cached)."""
        if self._capabilities is None:
            self._capabilities = capabilities_for_model(await self._model_name())
            _log.debug("PTZ model class: %s", self._capabilities.name)
        return self._capabilities

    async def model_class(self) -> PtzModelClass:
        """The camera's model class."""
        return (await self.capabilities()).model_class

    async def _model_name(self) -> str | None:
        model = getattr(self._camera, "model", None)
        if isinstance(model, str) and model:
            return model
        fallback: str | None = None
        for group in _MODEL_GROUPS:
            try:
                tree = await self._camera.params.list(group)
            except ParameterError:
                continue  # the camera has no such group
            except (AuthError, NotFoundError):
                # ptz.cgi needs only view rights, param.cgi administrator ones: a viewer
                # still gets PTZ control, validated against the union of the tables.
                _log.info(
                    "cannot read %s to find the PTZ model class; using the generic one", group
                )
                return None
            ranked = sorted(
                (_MODEL_KEYS.index(key.rsplit(".", 1)[-1]), value)
                for key, value in tree.items()
                if key.rsplit(".", 1)[-1] in _MODEL_KEYS and value.strip()
            )
            for _rank, value in ranked:
                if classify_model(value) is not None:
                    return value
            if ranked and fallback is None:
                fallback = ranked[0][1]
        return fallback

    # -- sending ---------------------------------------------------------------------------

    async def _send(
        self, path: str, pairs: Sequence[tuple[str, str]], *, compound: bool = False
    ) -> str:
        # "," stays literal only where the spec's own syntax puts it (center=2,4, x,y pairs).
        response = await self._camera.transport.request(
            "GET", path, params=pairs, safe="," if compound else "", max_body=_MAX_ANSWER
        )
        return response.text

    async def _command(self, *items: tuple[str, object], compound: bool = False) -> str:
        _precheck(items)
        caps = await self.capabilities()
        pairs = [(name, caps.check_command(name, value)) for name, value in items]
        return await self._send(PTZ_PATH, pairs, compound=compound)

    async def _config(self, name: str, value: object, *, compound: bool = False) -> None:
        _precheck(((name, value),))
        caps = await self.capabilities()
        await self._send(
            PTZCONFIG_PATH, [(name, caps.check_config(name, value))], compound=compound
        )

    # -- ptz.cgi -----------------------------------------------------------------------------

    async def move(self, direction: Direction) -> None:
        """Move 5 degrees ``up``/``down``/``left``/``right``/``upleft``..., or go ``home``."""
        await self._command(("move", direction))

    async def home(self) -> None:
        """Go to the home position (``move=home``)."""
        await self.move("home")

    async def goto(
        self,
        *,
        pan: float | None = None,
        tilt: float | None = None,
        zoom: int | None = None,
        focus: int | None = None,
    ) -> None:
        """Go to absolute values in one request.

        Ranges: pan -180..180, tilt -10..190 degrees, zoom/focus 0..9999 steps.
        """
        items = _present(pan=pan, tilt=tilt, zoom=zoom, focus=focus)
        if not items:
            raise InvalidArgument("goto", "at least one of pan, tilt, zoom, focus", None)
        await self._command(*items)

    async def pan(self, degrees: float) -> None:
        """Pan to ``degrees`` (-180..180) from the (0, 0) position."""
        await self._command(("pan", degrees))

    async def tilt(self, degrees: float) -> None:
        """Tilt to ``degrees`` (-10..190) from the (0, 0) position."""
        await self._command(("tilt", degrees))

    async def zoom(self, steps: int) -> None:
        """Zoom to ``steps`` (0..9999)."""
        await self._command(("zoom", steps))

    async def focus(self, steps: int) -> None:
        """Focus to ``steps`` (0..9999)."""
        await self._command(("focus", steps))

    async def relative(
        self,
        *,
        pan: float | None = None,
        tilt: float | None = None,
        zoom: int | None = None,
        focus: int | None = None,
    ) -> None:
        """Move relative to the current position: ``rpan``/``rtilt`` -360..360 degrees,
        ``rzoom``/``rfocus`` -9999..9999 steps (positive zooms in / focuses far)."""
        items = _present(rpan=pan, rtilt=tilt, rzoom=zoom, rfocus=focus)
        if not items:
            raise InvalidArgument("relative", "at least one of pan, tilt, zoom, focus", None)
        await self._command(*items)

    async def autofocus(self, mode: str | bool) -> None:
        """Set autofocus: ``True``/``"on"``, ``False``/``"off"``, or the class's keywords
        (``pushaf``, ``zoomtrigger``, ``zoomreset``, ``focusreset``, ``reset``)."""
        value = ("on" if mode else "off") if isinstance(mode, bool) else mode
        await self._command(("autofocus", value))

    async def continuous_pan_tilt(self, pan: int, tilt: int) -> None:
        """Pan/tilt continuously at -100..100 each (right/up positive); ``0, 0`` stops."""
        await self._command(("continuouspantiltmove", (pan, tilt)), compound=True)

    async def continuous_zoom(self, speed: int) -> None:
        """Zoom continuously at -100..100 (positive zooms in); 0 stops."""
        await self._command(("continuouszoommove", speed))

    async def continuous_focus(self, speed: int) -> None:
        """Focus continuously at -100..100 (positive focuses near); 0 stops."""
        await self._command(("continuousfocusmove", speed))

    async def continuous_iris(self, action: Literal["stop", "open", "close"]) -> None:
        """Open or close the iris continuously, or stop it."""
        await self._command(("continuousirismove", action))

    async def stop(self) -> None:
        """Stop every continuous motion the model class has, in one request."""
        caps = await self.capabilities()
        items: list[tuple[str, object]] = []
        if "continuouspantiltmove" in caps.commands:
            items.append(("continuouspantiltmove", (0, 0)))
        for name in ("continuouszoommove", "continuousfocusmove"):
            if name in caps.commands:
                items.append((name, 0))
        if "continuousirismove" in caps.commands:
            items.append(("continuousirismove", "stop"))
        if not items:
            raise InvalidArgument("stop", f"a class with continuous moves, not {caps.name}", None)
        await self._command(*items, compound=True)

    async def zoom_steps(self, steps: int) -> None:
        """Zoom by ``steps`` of 1, 2, 4 ... 128 (negative zooms out)."""
        await self._command(("zoomsteps", steps))

    async def focus_steps(self, steps: int) -> None:
        """Focus by ``steps`` of 1, 2, 4 ... 128 (positive focuses near)."""
        await self._command(("focusteps", steps))

    async def goto_preset(self, number: int) -> None:
        """Go to preset position ``number`` (1..256)."""
        await self._command(("gotoserverpresetno", number))

    async def run_autopan(self, line: int) -> None:
        """Run autopan line ``line`` (1..4)."""
        await self._command(("gotoserverautopanno", line))

    async def run_cruise(self, line: int) -> None:
        """Run cruise line ``line`` (1..8)."""
        await self._command(("gotoservercruiseno", line))

    async def run_sequence(self, line: int) -> None:
        """Run sequence line ``line`` (1..8)."""
        await self._command(("gotoserversequenceno", line))

    async def center(
        self, x: int, y: int, *, image_width: int, image_height: int, stream: Stream = "h264"
    ) -> None:
        """Center the image on the clicked point (``x``, ``y``) of a ``image_width`` x
        ``image_height`` view of ``stream`` (center mode)."""
        check_int("image_width", image_width, 1, 2**31 - 1)
        check_int("image_height", image_height, 1, 2**31 - 1)
        check_int("x", x, 0, image_width)
        check_int("y", y, 0, image_height)
        # Same order as the spec's example: center, imageheight, imagewidth, stream.
        await self._command(
            ("center", (x, y)),
            ("imageheight", image_height),
            ("imagewidth", image_width),
            ("stream", stream),
            compound=True,
        )

    async def position(self) -> PtzPosition:
        """The current position (``query=position``)."""
        return parse_position(await self._command(("query", "position")))

    async def info(self) -> PtzInfo:
        """The commands the device supports (``info=1``)."""
        return parse_info(await self._command(("info", "1")))

    # -- ptzconfig.cgi -----------------------------------------------------------------------

    async def set_preset(self, number: int, name: str | None = None) -> None:
        """Save the current position as preset ``number`` (1..256), optionally named
        (``name``: 1..31 characters, no ``~``)."""
        if name is None:
            await self._config("setserverpresetno", number)
        else:
            await self._config("setserverpresetname", (number, name), compound=True)

    async def remove_preset(self, preset: int | str) -> None:
        """Remove a preset by number (1..256) or by name."""
        if isinstance(preset, str):
            await self._config("removeserverpresetname", preset)
        else:
            await self._config("removeserverpresetno", preset)

    async def set_autopan(self, line: int, state: Literal["start", "end"]) -> None:
        """Record the current position as ``start`` or ``end`` of autopan ``line`` (1..4)."""
        await self._config("setserverautopan", (line, state), compound=True)

    async def set_autopan_direction(
        self, line: int, direction: Literal["left", "right"], speed: int
    ) -> None:
        """Set autopan ``line``'s direction (``left``/``right``) and speed (0..3)."""
        await self._config("setserverautopandirspeed", (line, direction, speed), compound=True)

    async def set_cruise(self, line: int, state: Literal["start", "end"]) -> None:
        """``start`` or ``end`` the recording of cruise ``line`` (1..8)."""
        await self._config("setservercruise", (line, state), compound=True)

    async def set_home(self) -> None:
        """Make the current position the home position (``home=yes``)."""
        await self._config("home", "yes")

    # -- presets and sequence lines (param.cgi) ------------------------------------------------

    async def presets(self) -> tuple[PtzPreset, ...]:
        """The presets the camera publishes as ``PTZ.Preset.P<n>.*`` parameters.

        The spec has no request that lists presets; this reads the parameter group the simulator
        keeps in step with ``ptzconfig.cgi``.  A camera without that group has none listed.
        """
        try:
            tree = await self._camera.params.list(PRESET_GROUP)
        except ParameterError:
            return ()
        return parse_presets(tree)

    async def sequence_lines(self) -> tuple[SequenceLine, ...]:
        """The sequence lines (``GuardTour`` parameters) with their points."""
        await self._require_sequence_lines()
        try:
            tree = await self._camera.params.list(SEQUENCE_GROUP)
        except ParameterError:
            return ()
        return parse_sequence_lines(tree)

    async def add_sequence_line(self, name: str | None = None) -> str:
        """Create a sequence line (``param.cgi?action=add&group=GuardTour``); return its group
        (``"GuardTour.G1"``)."""
        values: dict[str, str] = {}
        if name is not None:
            values["Name"] = check_text("name", name, max_len=64)
        await self._require_sequence_lines()
        return await self._camera.params.add(SEQUENCE_GROUP, values)

    async def remove_sequence_line(self, line: int | str) -> None:
        """Remove sequence line ``line`` (its index ``n`` of ``GuardTour.G<n>``, or the group)."""
        group = _line_group(line)
        await self._require_sequence_lines()
        await self._camera.params.remove(group)

    async def add_sequence_point(
        self,
        line: int | str,
        preset: int,
        *,
        move_speed: int | None = None,
        wait_time: int | None = None,
        check_preset: bool = True,
    ) -> str:
        """Append a point to sequence line ``line``; return its group (``GuardTour.G1.Tour.T2``).

        ``preset`` 1..256, ``move_speed`` 0..14, ``wait_time`` 0..255 seconds.  The preset must
        exist (the spec: "Preset Points should be available before adding a Sequence Point"):
        with ``check_preset`` the camera's presets are read first and a missing one raises
        :class:`InvalidArgument` without adding anything.
        """
        group = _line_group(line)
        values = _point_values(preset=preset, move_speed=move_speed, wait_time=wait_time)
        await self._require_sequence_lines()
        if check_preset:
            await self._require_preset(preset)
        return await self._camera.params.add(f"{group}.Tour", values)

    async def update_sequence_point(
        self,
        line: int | str,
        point: int,
        *,
        preset: int | None = None,
        move_speed: int | None = None,
        wait_time: int | None = None,
        check_preset: bool = True,
    ) -> None:
        """Change point ``point`` (``T<point>``) of sequence line ``line``."""
        group = _line_group(line)
        check_int("point", point, 1, 9999)
        values = _point_values(preset=preset, move_speed=move_speed, wait_time=wait_time)
        if not values:
            raise InvalidArgument("values", "at least one of preset, move_speed, wait_time", None)
        await self._require_sequence_lines()
        if check_preset and preset is not None:
            await self._require_preset(preset)
        await self._camera.params.update(
            {f"{group}.Tour.T{point}.{name}": value for name, value in values.items()}
        )

    async def remove_sequence_point(self, line: int | str, point: int) -> None:
        """Remove point ``point`` of sequence line ``line``."""
        group = _line_group(line)
        check_int("point", point, 1, 9999)
        await self._require_sequence_lines()
        await self._camera.params.remove(f"{group}.Tour.T{point}")

    async def _require_sequence_lines(self) -> None:
        caps = await self.capabilities()
        if not caps.sequence_lines:
            raise InvalidArgument(
                "sequence line", f"a model class of spec 5.3.1.2, not {caps.name}", None
            )

    async def _require_preset(self, preset: int) -> None:
        known = [p.number for p in await self.presets()]
        if preset not in known:
            listed = ", ".join(str(n) for n in known) if known else "none"
            raise InvalidArgument(
                "preset", f"an existing preset (the camera has: {listed})", preset
            )


def _precheck(items: Iterable[tuple[str, object]]) -> None:
    """Refuse control characters in any text argument before anything is sent.

    The model-class lookup done by :meth:`PtzApi.capabilities` may itself send requests, so the
    one check that needs no table runs first.
    """
    for name, value in items:
        texts = value if isinstance(value, tuple) else (value,)
        for text in texts:
            if isinstance(text, str):
                check_text(name, text, min_len=0)


def _present(**values: object) -> list[tuple[str, object]]:
    return [(name, value) for name, value in values.items() if value is not None]


_LINE_NAME = re.compile(r"(?:(?:root\.)?GuardTour\.)?G(\d{1,4})")


def _line_group(line: int | str) -> str:
    """``1`` / ``"G1"`` / ``"GuardTour.G1"`` → ``"GuardTour.G1"``."""
    if isinstance(line, str):
        match = _LINE_NAME.fullmatch(line.strip())
        if match is None:
            raise InvalidArgument("line", "a line index or GuardTour.G<n>", line)
        return f"{SEQUENCE_GROUP}.G{int(match.group(1))}"
    return f"{SEQUENCE_GROUP}.G{check_int('line', line, 0, 9999)}"


def _point_values(
    *, preset: int | None, move_speed: int | None, wait_time: int | None
) -> dict[str, int]:
    values: dict[str, int] = {}
    for name, value in (("PresetNbr", preset), ("MoveSpeed", move_speed), ("WaitTime", wait_time)):
        if value is not None:
            spec = SEQUENCE_LINE_SPECS[name]
            values[name] = check_int(name, value, spec.low, spec.high)
    return values
