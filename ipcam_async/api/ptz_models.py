"""The spec's PTZ tables (5.3.1): which model belongs to which class, and what each class accepts.

One table drives three things: the client's validation before a request is sent
(:class:`~ipcam_async.api.ptz.PtzApi`), what the simulated camera accepts, and the simulated
answer to ``ptz.cgi?info=1``.  Everything here is pure data and pure functions.

Reading of the tables.  A parameter whose "Valid values" cell names classes ("Full HD IP PTZ: ...")
is available to those classes only, with that class's range.  A parameter whose cell names no
class (``center``, ``stream``, ``info``, ``home`` ...) is available to every class, unless its
description restricts it: ``continuouszoommove`` / ``continuousfocusmove`` say "Motorized models
exclusive", and ``continuousirismove`` needs "a C/S mount lens and RS485", which is the
"Full HD Multiple Streams IP Camera (RS-485 capable)" row of 5.3.1.2.  A model the tables do not
name gets :attr:`PtzModelClass.GENERIC`: the union of every class, so nothing the spec allows
somewhere is refused; callers can also pick the class themselves.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Protocol

import attrs

from ..errors import InvalidArgument
from ..validate import check_choice, check_forbidden_chars, check_int

__all__ = [
    "MOVE_DIRECTIONS",
    "PRESET_NAME_MAX",
    "SEQUENCE_LINE_SPECS",
    "STEP_VALUES",
    "Choice",
    "FloatRange",
    "IntChoice",
    "IntRange",
    "PresetName",
    "PtzCapabilities",
    "PtzModelClass",
    "Tuple",
    "ValueSpec",
    "capabilities_for",
    "capabilities_for_model",
    "classify_model",
    "describe_commands",
    "format_number",
    "supports_sequence_lines",
]


class PtzModelClass(enum.Enum):
    """A classification of the spec's PTZ tables; the value is the spec's own wording."""

    FULL_HD_IP_PTZ = "Full HD IP PTZ"
    FULL_HD_MULTI_STREAM_ZOOM = "Full HD Multiple Streams IP Camera-Zoom"
    FULL_HD_MULTI_STREAM_MOTORIZED = "Full HD Multiple Streams IP Camera-Motorized"
    FULL_HD_MULTI_STREAM_RS485 = "Full HD Multiple Streams IP Camera (RS-485 capable)"
    GENERIC = "generic"


#: Model names per class, as the tables of 5.3.1.1 and 5.3.1.2 spell them.
MODELS: Mapping[PtzModelClass, tuple[str, ...]] = MappingProxyType(
    {
        PtzModelClass.FULL_HD_IP_PTZ: ("NH720", "NH820"),
        # NH073-3x is only in the 5.3.1.2 table, in the same -Zoom row as its siblings.
        PtzModelClass.FULL_HD_MULTI_STREAM_ZOOM: (
            "NH073-10x",
            "NH073-18x",
            "NH073-3x",
            "X0S6-7",
            "X0S7-7",
        ),
        PtzModelClass.FULL_HD_MULTI_STREAM_MOTORIZED: (
            "NH223",
            "NH323",
            "NH053",
            "W2",
            "NV223",
            "W3",
            "NV323",
            "W5",
            "NV053",
        ),
        PtzModelClass.FULL_HD_MULTI_STREAM_RS485: ("NH063", "W6", "NV063", "X0S6-6", "X0S7-6"),
    }
)

#: ``move`` directions (5.3.1.1).
MOVE_DIRECTIONS = (
    "home",
    "up",
    "down",
    "left",
    "right",
    "upleft",
    "upright",
    "downleft",
    "downright",
)
#: Allowed ``zoomsteps`` / ``focusteps`` values.
STEP_VALUES = (1, 2, 4, 8, 16, 32, 64, 128, -1, -2, -4, -8, -16, -32, -64, -128)
#: Longest preset name (footnote 1 of 5.3.1.3); ``~`` is not allowed in it.
PRESET_NAME_MAX = 31
_INT_MAX = 2**31 - 1


def format_number(value: float) -> str:
    """Write a number the way the camera expects it: no exponent, no needless trailing zeros."""
    if isinstance(value, int):
        return str(value)
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class ValueSpec(Protocol):
    """What one CGI parameter accepts.

    ``check`` validates a caller's Python value and returns the value's wire text; ``parse``
    does the reverse for the simulator (wire text → Python value, :class:`InvalidArgument` when
    out of range); ``describe`` is the text shown by ``info=1``.
    """

    def check(self, name: str, value: object) -> str:
        """Validate ``value`` for parameter ``name`` and return its wire text."""
        ...

    def parse(self, name: str, text: str) -> object:
        """Parse wire ``text`` of parameter ``name`` and validate it."""
        ...

    def describe(self) -> str:
        """Return the accepted values as ``info=1`` shows them."""
        ...


@attrs.frozen
class FloatRange:
    """A real number ``low..high`` (degrees)."""

    low: float
    high: float

    def _allowed(self) -> str:
        return f"{self.low:.1f}..{self.high:.1f}"

    def check(self, name: str, value: object) -> str:
        """Validate a finite ``int``/``float`` in range; return it formatted."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidArgument(name, f"a number {self._allowed()}", value)
        if not math.isfinite(value) or not self.low <= value <= self.high:
            raise InvalidArgument(name, self._allowed(), value)
        return format_number(value)

    def parse(self, name: str, text: str) -> float:
        """Parse a decimal number."""
        try:
            number = float(text)
        except ValueError:
            raise InvalidArgument(name, f"a number {self._allowed()}", text) from None
        self.check(name, number)
        return number

    def describe(self) -> str:
        """``[-180.0 ... 180.0]``."""
        return f"[{self.low:.1f} ... {self.high:.1f}]"


def _parse_int(name: str, text: str, allowed: str) -> int:
    stripped = text.strip()
    if not re.fullmatch(r"[+-]?\d{1,10}", stripped):
        raise InvalidArgument(name, allowed, text)
    return int(stripped)


@attrs.frozen
class IntRange:
    """An integer ``low..high``."""

    low: int
    high: int

    def check(self, name: str, value: object) -> str:
        """Validate an ``int`` in range; return it as decimal text."""
        return str(check_int(name, value, self.low, self.high))

    def parse(self, name: str, text: str) -> int:
        """Parse a decimal integer."""
        number = _parse_int(name, text, f"an integer {self.low}..{self.high}")
        check_int(name, number, self.low, self.high)
        return number

    def describe(self) -> str:
        """``[0 ... 9999]``."""
        return f"[{self.low} ... {self.high}]"


@attrs.frozen
class IntChoice:
    """One integer out of a fixed set (``zoomsteps``: 1, 2, 4 ... -128)."""

    values: tuple[int, ...]

    def _allowed(self) -> str:
        return "one of " + ", ".join(str(v) for v in self.values)

    def check(self, name: str, value: object) -> str:
        """Validate an ``int`` of the set."""
        if isinstance(value, bool) or not isinstance(value, int) or value not in self.values:
            raise InvalidArgument(name, self._allowed(), value)
        return str(value)

    def parse(self, name: str, text: str) -> int:
        """Parse a decimal integer of the set."""
        number = _parse_int(name, text, self._allowed())
        self.check(name, number)
        return number

    def describe(self) -> str:
        """``{1|2|4}``."""
        return "{" + "|".join(str(v) for v in self.values) + "}"


@attrs.frozen
class Choice:
    """One keyword out of a fixed set (``move=up``, ``autofocus=pushaf``)."""

    values: tuple[str, ...]

    def check(self, name: str, value: object) -> str:
        """Validate a keyword of the set (exact, lower-case as the spec writes them)."""
        return check_choice(name, value, self.values)

    def parse(self, name: str, text: str) -> str:
        """Check a keyword of the set."""
        return check_choice(name, text, self.values)

    def describe(self) -> str:
        """``{on|off}``."""
        return "{" + "|".join(self.values) + "}"


@attrs.frozen
class PresetName:
    """A preset name: 1 to 31 characters, no ``~`` (5.3.1.3, footnote 1)."""

    def check(self, name: str, value: object) -> str:
        """Validate the name; it is percent-encoded on the wire by the query encoder."""
        return check_forbidden_chars(name, value, "~", max_len=PRESET_NAME_MAX)

    def parse(self, name: str, text: str) -> str:
        """Check a decoded name."""
        return self.check(name, text)

    def describe(self) -> str:
        """``<name>``."""
        return "<name>"


@attrs.frozen
class Tuple:
    """A comma-separated compound value (``center=2,4``, ``setserverautopandirspeed=1,left,2``).

    ``labels`` name the parts in error messages (``continuouspantiltmove.tilt``).  The last part
    takes the rest of the text on parsing, so a preset name may hold commas.
    """

    parts: tuple[ValueSpec, ...]
    labels: tuple[str, ...]

    def check(self, name: str, value: object) -> str:
        """Validate a tuple/list with one value per part; return ``a,b[,c]``."""
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise InvalidArgument(
                name, f"{len(self.parts)} values ({', '.join(self.labels)})", value
            )
        if len(value) != len(self.parts):
            raise InvalidArgument(
                name, f"{len(self.parts)} values ({', '.join(self.labels)})", value
            )
        return ",".join(
            spec.check(f"{name}.{label}", item)
            for spec, label, item in zip(self.parts, self.labels, value, strict=True)
        )

    def parse(self, name: str, text: str) -> tuple[object, ...]:
        """Split on commas (the last part keeps any further comma) and parse each part."""
        pieces = text.split(",", len(self.parts) - 1)
        if len(pieces) != len(self.parts):
            raise InvalidArgument(name, ",".join(self.labels), text)
        return tuple(
            spec.parse(f"{name}.{label}", piece)
            for spec, label, piece in zip(self.parts, self.labels, pieces, strict=True)
        )

    def describe(self) -> str:
        """``<pan>,<tilt>`` style with each part's own description."""
        return ",".join(spec.describe() for spec in self.parts)


@attrs.frozen
class PtzCapabilities:
    """What one model class accepts: ``commands`` of ``ptz.cgi``, ``config`` of ``ptzconfig.cgi``.

    Keys are the spec's parameter names, values their :class:`ValueSpec`.
    """

    model_class: PtzModelClass
    models: tuple[str, ...]
    commands: Mapping[str, ValueSpec]
    config: Mapping[str, ValueSpec]
    sequence_lines: bool

    @property
    def name(self) -> str:
        """The class as the spec names it."""
        return self.model_class.value

    def _lookup(self, table: Mapping[str, ValueSpec], param: str) -> ValueSpec:
        spec = table.get(param)
        if spec is None:
            raise InvalidArgument(param, f"a command supported by {self.name}", param)
        return spec

    def check_command(self, param: str, value: object) -> str:
        """Validate a ``ptz.cgi`` parameter for this class; return its wire text."""
        return self._lookup(self.commands, param).check(param, value)

    def check_config(self, param: str, value: object) -> str:
        """Validate a ``ptzconfig.cgi`` parameter for this class; return its wire text."""
        return self._lookup(self.config, param).check(param, value)

    def parse_command(self, param: str, text: str) -> object:
        """Parse a ``ptz.cgi`` parameter's wire text (simulator side)."""
        return self._lookup(self.commands, param).parse(param, text)

    def parse_config(self, param: str, text: str) -> object:
        """Parse a ``ptzconfig.cgi`` parameter's wire text (simulator side)."""
        return self._lookup(self.config, param).parse(param, text)

    def supports(self, param: str) -> bool:
        """Whether ``param`` (of either CGI) is available to this class."""
        return param in self.commands or param in self.config


_DEGREES_PAN = FloatRange(-180.0, 180.0)
_DEGREES_TILT = FloatRange(-10.0, 190.0)
_DEGREES_REL = FloatRange(-360.0, 360.0)
_STEPS = IntRange(0, 9999)
_STEPS_REL = IntRange(-9999, 9999)
_SPEED = IntRange(-100, 100)
_PRESET_NO = IntRange(1, 256)
_AUTOPAN_NO = IntRange(1, 4)
_CRUISE_NO = IntRange(1, 8)
_SEQUENCE_NO = IntRange(1, 8)
_START_END = Choice(("start", "end"))

# Parameters whose cell names no class: every class has them.
_COMMON_COMMANDS: dict[str, ValueSpec] = {
    "center": Tuple((IntRange(0, _INT_MAX), IntRange(0, _INT_MAX)), ("x", "y")),
    "imagewidth": IntRange(1, _INT_MAX),
    "imageheight": IntRange(1, _INT_MAX),
    "stream": Choice(("h264", "h264_2", "jpeg")),
    "info": Choice(("1",)),
}
_COMMON_CONFIG: dict[str, ValueSpec] = {"home": Choice(("yes",))}

_PTZ_COMMANDS: dict[str, ValueSpec] = {
    "move": Choice(MOVE_DIRECTIONS),
    "pan": _DEGREES_PAN,
    "tilt": _DEGREES_TILT,
    "zoom": _STEPS,
    "focus": _STEPS,
    "rpan": _DEGREES_REL,
    "rtilt": _DEGREES_REL,
    "rzoom": _STEPS_REL,
    "rfocus": _STEPS_REL,
    "autofocus": Choice(("on", "off")),
    "gotoserverpresetno": _PRESET_NO,
    "gotoserverautopanno": _AUTOPAN_NO,
    "gotoservercruiseno": _CRUISE_NO,
    "gotoserversequenceno": _SEQUENCE_NO,
    "query": Choice(("position",)),
}
_PTZ_CONFIG: dict[str, ValueSpec] = {
    "setserverpresetname": Tuple((_PRESET_NO, PresetName()), ("number", "name")),
    "setserverpresetno": _PRESET_NO,
    "removeserverpresetname": PresetName(),
    "removeserverpresetno": _PRESET_NO,
    "setserverautopan": Tuple((_AUTOPAN_NO, _START_END), ("line", "state")),
    "setserverautopandirspeed": Tuple(
        (_AUTOPAN_NO, Choice(("left", "right")), IntRange(0, 3)), ("line", "direction", "speed")
    ),
    "setservercruise": Tuple((_CRUISE_NO, _START_END), ("line", "state")),
}
_ZOOM_COMMANDS: dict[str, ValueSpec] = {
    "autofocus": Choice(("on", "off", "zoomtrigger", "pushaf")),
    "continuouspantiltmove": Tuple((_SPEED, _SPEED), ("pan", "tilt")),
    "gotoserverpresetno": _PRESET_NO,
    "query": Choice(("position",)),
}
_ZOOM_CONFIG: dict[str, ValueSpec] = {"setserverpresetno": _PRESET_NO}
_MOTORIZED_COMMANDS: dict[str, ValueSpec] = {
    # "reset" (zoom and focus) is described under autofocus and added in revision 2.04 next to
    # zoomreset/focusreset; the Motorized row is the one with the resets.
    "autofocus": Choice(("pushaf", "zoomreset", "focusreset", "reset")),
    "continuouszoommove": _SPEED,
    "continuousfocusmove": _SPEED,
    "zoomsteps": IntChoice(STEP_VALUES),
    "focusteps": IntChoice(STEP_VALUES),
}
_RS485_COMMANDS: dict[str, ValueSpec] = {
    "continuousirismove": Choice(("stop", "open", "close")),
}


def _merge(*tables: Mapping[str, ValueSpec]) -> Mapping[str, ValueSpec]:
    merged: dict[str, ValueSpec] = {}
    for table in tables:
        for name, spec in table.items():
            previous = merged.get(name)
            if isinstance(previous, Choice) and isinstance(spec, Choice):
                # Union of keywords, first-seen order: the generic class takes any class's value.
                spec = Choice(
                    previous.values + tuple(v for v in spec.values if v not in previous.values)
                )
            merged[name] = spec
    return MappingProxyType(merged)


def _build() -> Mapping[PtzModelClass, PtzCapabilities]:
    per_class = {
        PtzModelClass.FULL_HD_IP_PTZ: (_PTZ_COMMANDS, _PTZ_CONFIG, True),
        PtzModelClass.FULL_HD_MULTI_STREAM_ZOOM: (_ZOOM_COMMANDS, _ZOOM_CONFIG, True),
        PtzModelClass.FULL_HD_MULTI_STREAM_MOTORIZED: (_MOTORIZED_COMMANDS, {}, False),
        PtzModelClass.FULL_HD_MULTI_STREAM_RS485: (_RS485_COMMANDS, {}, True),
    }
    table: dict[PtzModelClass, PtzCapabilities] = {}
    for model_class, (commands, config, sequences) in per_class.items():
        table[model_class] = PtzCapabilities(
            model_class=model_class,
            models=MODELS[model_class],
            commands=_merge(commands, _COMMON_COMMANDS),
            config=_merge(config, _COMMON_CONFIG),
            sequence_lines=sequences,
        )
    table[PtzModelClass.GENERIC] = PtzCapabilities(
        model_class=PtzModelClass.GENERIC,
        models=(),
        commands=_merge(
            _PTZ_COMMANDS, _ZOOM_COMMANDS, _MOTORIZED_COMMANDS, _RS485_COMMANDS, _COMMON_COMMANDS
        ),
        config=_merge(_PTZ_CONFIG, _ZOOM_CONFIG, _COMMON_CONFIG),
        sequence_lines=True,
    )
    return MappingProxyType(table)


_CAPABILITIES = _build()

#: Sequence line parameters (5.3.1.2), keyed by their name in ``GuardTour.G<n>.Tour.T<m>``.
SEQUENCE_LINE_SPECS: Mapping[str, IntRange] = MappingProxyType(
    {"PresetNbr": IntRange(1, 256), "MoveSpeed": IntRange(0, 14), "WaitTime": IntRange(0, 255)}
)


def capabilities_for(model_class: PtzModelClass) -> PtzCapabilities:
    """The table of one class."""
    return _CAPABILITIES[model_class]


_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_LOOKUP: dict[str, PtzModelClass] = {
    model.upper(): model_class for model_class, models in MODELS.items() for model in models
}


def classify_model(model_name: str) -> PtzModelClass | None:
    """The class of a model name (``"NH720"``, ``"W2 (NV223)"``, ``"nh073-18x"``), or ``None``.

    Matching ignores case; a variant suffix after a dash (``NH720-E``) keeps the base model's class.
    """
    for token in _TOKEN.findall(model_name):
        upper = token.upper()
        found = _LOOKUP.get(upper)
        if found is not None:
            return found
        # Longest model first, so "NH073-18X-B" finds NH073-18x and not a shorter name.
        for model in sorted(_LOOKUP, key=len, reverse=True):
            if upper.startswith(model + "-"):
                return _LOOKUP[model]
    return None


def capabilities_for_model(model_name: str | None) -> PtzCapabilities:
    """The table for a model name; the generic (union) table when the model is unknown."""
    model_class = classify_model(model_name) if model_name else None
    return _CAPABILITIES[model_class or PtzModelClass.GENERIC]


def supports_sequence_lines(model_class: PtzModelClass) -> bool:
    """Whether the class is in the sequence-line table of 5.3.1.2."""
    return _CAPABILITIES[model_class].sequence_lines


def describe_commands(capabilities: PtzCapabilities) -> Iterable[tuple[str, str]]:
    """``(parameter, accepted values)`` pairs of ``ptz.cgi``, as ``info=1`` lists them."""
    return [(name, spec.describe()) for name, spec in capabilities.commands.items()]
