"""Event data of ``eventdata.cgi`` (spec 5.4.2): models, the text parser and the text encoder.

The same models serve ``action=get`` and each part of ``action=monitor``. The answer is one line
per group, ``Group:Key=value;Key=value;``, e.g.::

    Motion:Enabled=1;Level=0;Sensitivity=80;Triggered=0;
    Motion1:Enabled=0;
    IO:Status=00000100000000;

The parser tolerates what the spec's own examples show: trailing spaces after the last ``;``,
blank lines, ``\\r\\n`` or ``\\n`` line ends, and a missing final line end. A group that the
device left out, or a key filtered away by ``MotionParam`` / ``IOParam`` / ``TamperingParam``,
is ``None`` in the model, never a guessed value.

The ``IO`` status is seven hexadecimal bytes ``<XX0>..<XX6>``; bit ``n-1`` of each byte is
input or output ``n`` (``a2`` = ``10100010`` = inputs 8, 6 and 2).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TypeVar

import attrs

from ..errors import ProtocolError

__all__ = [
    "EVENT_GROUPS",
    "IO_PARAMS",
    "MOTION_GROUPS",
    "MOTION_PARAMS",
    "TAMPERING_PARAMS",
    "ChangeKind",
    "EventChange",
    "EventData",
    "InputLine",
    "IoStatus",
    "MotionStatus",
    "OutputLine",
    "TamperingStatus",
    "diff_event_data",
    "format_event_data",
    "parse_event_data",
]

#: Motion windows: ``Motion`` is event E1, ``Motion1..3`` are E10..E12.
MOTION_GROUPS: tuple[str, ...] = ("Motion", "Motion1", "Motion2", "Motion3")
#: Every ``group`` value of the spec, in the spec's order.
EVENT_GROUPS: tuple[str, ...] = (*MOTION_GROUPS, "IO", "T0")
#: ``MotionParam`` values.
MOTION_PARAMS: tuple[str, ...] = ("Enabled", "Level", "Sensitivity", "Triggered")
#: ``IOParam`` values.
IO_PARAMS: tuple[str, ...] = ("Status",)
#: ``TamperingParam`` values (the spec's table also spells the first one ``Enable``).
TAMPERING_PARAMS: tuple[str, ...] = ("Enabled", "Triggered")

IO_LINES = 8
_T = TypeVar("_T")
_HEX = frozenset("0123456789abcdefABCDEF")
_MAX_TEXT = 64 << 10


def _flag(group: str, key: str, value: str) -> bool:
    if value == "0":
        return False
    if value == "1":
        return True
    raise ProtocolError(f"event data {group}:{key}={value[:20]!r} is not 0 or 1")


def _percent(group: str, key: str, value: str) -> int:
    if not (value.isdigit() and value.isascii()) or int(value) > 100:
        raise ProtocolError(f"event data {group}:{key}={value[:20]!r} is not 0..100")
    return int(value)


# Bit tuples of every byte value, decoded once (the monitor decodes a status per part).
_BIT_TABLE: tuple[tuple[bool, ...], ...] = tuple(
    tuple(bool(byte >> i & 1) for i in range(IO_LINES)) for byte in range(256)
)


def _bits(byte: int) -> tuple[bool, ...]:
    return _BIT_TABLE[byte]


def _byte(bits: Sequence[bool]) -> int:
    if len(bits) != IO_LINES:
        raise ValueError(f"expected {IO_LINES} flags, got {len(bits)}")
    return sum(1 << i for i, on in enumerate(bits) if on)


@attrs.frozen(slots=True)
class MotionStatus:
    """One motion window (``Motion``, ``Motion1`` .. ``Motion3``).

    A field is ``None`` when the device did not report it (window disabled, or filtered out by
    ``MotionParam``).
    """

    window: str
    enabled: bool | None = None
    level: int | None = None
    """Percentage of motion in the window's area, 0..100."""
    sensitivity: int | None = None
    """Detection sensitivity setting, 0..100."""
    triggered: bool | None = None


@attrs.frozen(slots=True)
class TamperingStatus:
    """The tampering alarm (group ``T0``, event E2)."""

    enabled: bool | None = None
    triggered: bool | None = None


@attrs.frozen(slots=True)
class InputLine:
    """One digital input as decoded from the ``IO`` status (``number`` is 1..8)."""

    number: int
    enabled: bool
    closed: bool
    normally_closed: bool
    active: bool


@attrs.frozen(slots=True)
class OutputLine:
    """One digital output as decoded from the ``IO`` status (``number`` is 1..8)."""

    number: int
    closed: bool
    active_when_closed: bool
    """The output's configured active state: closed (True) or open (False)."""
    active: bool


def _eight(value: Iterable[bool]) -> tuple[bool, ...]:
    if (
        type(value) is tuple
        and len(value) == IO_LINES
        and all(v is True or v is False for v in value)
    ):
        return value
    flags = tuple(bool(v) for v in value)
    if len(flags) != IO_LINES:
        raise ValueError(f"expected {IO_LINES} flags, got {len(flags)}")
    return flags


_NO_LINES: tuple[bool, ...] = (False,) * IO_LINES


@attrs.frozen(slots=True)
class IoStatus:
    """The seven bytes of ``IO:Status=<XX0>..<XX6>``, one tuple of 8 flags per byte.

    Index ``i`` of each tuple is line ``i + 1`` (Input1 / Output1 first).
    """

    inputs_enabled: tuple[bool, ...] = attrs.field(default=_NO_LINES, converter=_eight)
    """``XX0``: input enabled."""
    inputs_closed: tuple[bool, ...] = attrs.field(default=_NO_LINES, converter=_eight)
    """``XX1``: input contact closed (else open)."""
    outputs_closed: tuple[bool, ...] = attrs.field(default=_NO_LINES, converter=_eight)
    """``XX2``: output contact closed (else open)."""
    inputs_normally_closed: tuple[bool, ...] = attrs.field(default=_NO_LINES, converter=_eight)
    """``XX3``: input wired normally closed (else normally open)."""
    outputs_active_closed: tuple[bool, ...] = attrs.field(default=_NO_LINES, converter=_eight)
    """``XX4``: output's active state is closed (else open)."""
    inputs_active: tuple[bool, ...] = attrs.field(default=_NO_LINES, converter=_eight)
    """``XX5``: input active."""
    outputs_active: tuple[bool, ...] = attrs.field(default=_NO_LINES, converter=_eight)
    """``XX6``: output active."""

    @classmethod
    def from_hex(cls, text: str) -> IoStatus:
        """Decode the 14 hexadecimal digits of the status; :class:`ProtocolError` if malformed."""
        text = text.strip()
        if len(text) != 2 * 7 or not set(text) <= _HEX:
            raise ProtocolError(f"IO status {text[:40]!r} is not 7 hexadecimal bytes")
        raw = bytes.fromhex(text)
        return cls(*(_bits(b) for b in raw))

    def to_hex(self) -> str:
        """Encode as the spec's 14 lower-case hexadecimal digits."""
        fields = (
            self.inputs_enabled,
            self.inputs_closed,
            self.outputs_closed,
            self.inputs_normally_closed,
            self.outputs_active_closed,
            self.inputs_active,
            self.outputs_active,
        )
        return "".join(f"{_byte(f):02x}" for f in fields)

    def input(self, number: int) -> InputLine:
        """Input ``number`` (1..8)."""
        i = self._index(number)
        return InputLine(
            number,
            self.inputs_enabled[i],
            self.inputs_closed[i],
            self.inputs_normally_closed[i],
            self.inputs_active[i],
        )

    def output(self, number: int) -> OutputLine:
        """Output ``number`` (1..8)."""
        i = self._index(number)
        return OutputLine(
            number, self.outputs_closed[i], self.outputs_active_closed[i], self.outputs_active[i]
        )

    @property
    def inputs(self) -> tuple[InputLine, ...]:
        """The 8 inputs."""
        return tuple(self.input(n) for n in range(1, IO_LINES + 1))

    @property
    def outputs(self) -> tuple[OutputLine, ...]:
        """The 8 outputs."""
        return tuple(self.output(n) for n in range(1, IO_LINES + 1))

    @staticmethod
    def _index(number: int) -> int:
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 8:
            raise ValueError(f"I/O line number must be 1..8, got {number!r}")
        return number - 1


@attrs.frozen(slots=True)
class EventData:
    """One event-data answer: the groups the device reported, in its order.

    ``received`` is the arrival time (UNIX seconds) for monitor snapshots, ``None`` for ``get``.
    ``io_raw`` keeps the IO line's raw fields when the device sent keys other than ``Status``;
    ``extra`` keeps groups this library does not know, so nothing the device sent is lost.
    """

    motion: tuple[MotionStatus, ...] = ()
    io: IoStatus | None = None
    tampering: TamperingStatus | None = None
    extra: Mapping[str, Mapping[str, str]] = attrs.field(
        factory=lambda: MappingProxyType({}), eq=False
    )
    received: float | None = attrs.field(default=None, eq=False)

    def motion_window(self, window: str = "Motion") -> MotionStatus | None:
        """The status of ``window`` (``Motion``, ``Motion1``..``Motion3``) if it was reported."""
        return next((m for m in self.motion if m.window == window), None)

    @property
    def groups(self) -> tuple[str, ...]:
        """Names of the groups present."""
        names = [m.window for m in self.motion]
        if self.io is not None:
            names.append("IO")
        if self.tampering is not None:
            names.append("T0")
        names.extend(self.extra)
        return tuple(names)


def _split_line(line: str) -> tuple[str, dict[str, str]]:
    group, colon, rest = line.partition(":")
    group = group.strip()
    if not colon or not group:
        raise ProtocolError(f"event data line without 'Group:' prefix: {line[:60]!r}")
    fields: dict[str, str] = {}
    for item in rest.split(";"):
        item = item.strip()
        if not item:
            continue
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise ProtocolError(f"event data item {item[:40]!r} of group {group} has no '='")
        fields[key] = value.strip()
    return group, fields


def parse_event_data(data: str | bytes, *, received: float | None = None) -> EventData:
    """Parse an ``eventdata.cgi`` answer (or one monitor part) into :class:`EventData`.

    Raises :class:`ProtocolError` on a malformed line or value. Blank lines and trailing
    whitespace are ignored; a group that appears twice keeps its last line.
    """
    if len(data) > _MAX_TEXT:
        raise ProtocolError(f"event data of {len(data)} bytes exceeds {_MAX_TEXT}")
    text = data.decode("latin-1") if isinstance(data, bytes | bytearray) else data
    motion: dict[str, MotionStatus] = {}
    io: IoStatus | None = None
    tampering: TamperingStatus | None = None
    extra: dict[str, Mapping[str, str]] = {}
    for raw_line in text.split("\n"):
        line = raw_line.strip()
        if not line:
            continue
        group, fields = _split_line(line)
        if group in MOTION_GROUPS:
            motion[group] = MotionStatus(
                group,
                enabled=_opt(fields, "Enabled", group, _flag),
                level=_opt(fields, "Level", group, _percent),
                sensitivity=_opt(fields, "Sensitivity", group, _percent),
                triggered=_opt(fields, "Triggered", group, _flag),
            )
        elif group == "IO":
            status = fields.get("Status")
            io = IoStatus.from_hex(status) if status is not None else IoStatus()
            if status is None:
                extra["IO"] = MappingProxyType(fields)
        elif group == "T0":
            enabled = _opt(fields, "Enabled", group, _flag)
            if enabled is None:
                enabled = _opt(fields, "Enable", group, _flag)
            tampering = TamperingStatus(enabled, _opt(fields, "Triggered", group, _flag))
        else:
            extra[group] = MappingProxyType(fields)
    return EventData(
        motion=tuple(motion.values()),
        io=io,
        tampering=tampering,
        extra=MappingProxyType(extra),
        received=received,
    )


def _opt(
    fields: Mapping[str, str], key: str, group: str, convert: Callable[[str, str, str], _T]
) -> _T | None:
    value = fields.get(key)
    return None if value is None else convert(group, key, value)


def format_event_data(data: EventData, *, trailing_space: bool = False) -> str:
    """Encode ``data`` in the spec's text form, ``\\r\\n`` after each line.

    Used by the simulated camera. Fields that are ``None`` are left out, as a device does for a
    disabled window or a filtered parameter. ``trailing_space`` adds the space the spec's
    examples show after a line's last ``;``.
    """
    pad = " " if trailing_space else ""
    lines: list[str] = []
    for m in data.motion:
        items = [
            (k, v)
            for k, v in (
                ("Enabled", _b(m.enabled)),
                ("Level", None if m.level is None else str(m.level)),
                ("Sensitivity", None if m.sensitivity is None else str(m.sensitivity)),
                ("Triggered", _b(m.triggered)),
            )
            if v is not None
        ]
        lines.append(m.window + ":" + "".join(f"{k}={v};" for k, v in items) + pad)
    if data.io is not None:
        lines.append(f"IO:Status={data.io.to_hex()};{pad}")
    if data.tampering is not None:
        t = data.tampering
        pairs = (("Enabled", _b(t.enabled)), ("Triggered", _b(t.triggered)))
        lines.append("T0:" + "".join(f"{k}={v};" for k, v in pairs if v is not None) + pad)
    return "".join(line + "\r\n" for line in lines)


def _b(value: bool | None) -> str | None:
    return None if value is None else ("1" if value else "0")


class ChangeKind(enum.Enum):
    """What changed between two consecutive snapshots of a monitor."""

    MOTION_TRIGGERED = "motion-triggered"
    MOTION_CLEARED = "motion-cleared"
    INPUT_CLOSED = "input-closed"
    INPUT_OPENED = "input-opened"
    INPUT_ACTIVE = "input-active"
    INPUT_INACTIVE = "input-inactive"
    OUTPUT_ACTIVE = "output-active"
    OUTPUT_INACTIVE = "output-inactive"
    TAMPERING_TRIGGERED = "tampering-triggered"
    TAMPERING_CLEARED = "tampering-cleared"


@attrs.frozen(slots=True)
class EventChange:
    """A transition seen by :meth:`~ipcam_async.api.events.EventsApi.changes`.

    ``source`` names the group or line (``Motion1``, ``Input3``, ``Output1``, ``T0``); ``line``
    is the I/O line number (1..8) for inputs and outputs; ``level`` is the motion level of the
    snapshot that showed the change (motion changes only).
    """

    kind: ChangeKind
    source: str
    received: float | None
    line: int | None = None
    level: int | None = None
    snapshot: EventData | None = attrs.field(default=None, eq=False, repr=False)

    def describe(self) -> str:
        """A one-line human description, e.g. ``Motion1 motion-triggered level=42``."""
        text = f"{self.source} {self.kind.value}"
        if self.level is not None:
            text += f" level={self.level}"
        return text


def _triggered(status: MotionStatus | TamperingStatus | None) -> bool | None:
    """Triggered state; a disabled window or alarm (reported as ``Enabled=0`` only) is not."""
    if status is None:
        return None
    if status.triggered is None and status.enabled is False:
        return False
    return status.triggered


def diff_event_data(before: EventData, after: EventData) -> list[EventChange]:
    """Transitions from ``before`` to ``after``, in a stable order (motion, inputs, outputs, T0).

    Only fields present in both snapshots are compared, so a filtered or missing group never
    produces a change; a disabled window counts as not triggered.
    """
    changes: list[EventChange] = []
    when = after.received

    def add(
        kind: ChangeKind, source: str, line: int | None = None, level: int | None = None
    ) -> None:
        changes.append(EventChange(kind, source, when, line, level, after))

    for m in after.motion:
        old = before.motion_window(m.window)
        was, now = _triggered(old), _triggered(m)
        if was is None or now is None or was == now:
            continue
        kind = ChangeKind.MOTION_TRIGGERED if now else ChangeKind.MOTION_CLEARED
        add(kind, m.window, level=m.level)
    if before.io is not None and after.io is not None:
        a, b = before.io, after.io
        for i in range(IO_LINES):
            n = i + 1
            if a.inputs_closed[i] != b.inputs_closed[i]:
                kind = ChangeKind.INPUT_CLOSED if b.inputs_closed[i] else ChangeKind.INPUT_OPENED
                add(kind, f"Input{n}", n)
            if a.inputs_active[i] != b.inputs_active[i]:
                kind = ChangeKind.INPUT_ACTIVE if b.inputs_active[i] else ChangeKind.INPUT_INACTIVE
                add(kind, f"Input{n}", n)
        for i in range(IO_LINES):
            n = i + 1
            if a.outputs_active[i] != b.outputs_active[i]:
                active = b.outputs_active[i]
                add(
                    ChangeKind.OUTPUT_ACTIVE if active else ChangeKind.OUTPUT_INACTIVE,
                    f"Output{n}",
                    n,
                )
    was, now = _triggered(before.tampering), _triggered(after.tampering)
    if was is not None and now is not None and was != now:
        kind = ChangeKind.TAMPERING_TRIGGERED if now else ChangeKind.TAMPERING_CLEARED
        add(kind, "T0")
    return changes
