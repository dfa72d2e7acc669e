"""All state of one simulated camera, held in memory for the life of a :class:`SimulatedCamera`.

The CGI modules of ``ipcam_async.sim.http`` read and change it; every change calls
:meth:`CameraState.changed` so waiters (the event monitor) wake up.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Final, Literal

import attrs

from .ptz_head import PtzHead

__all__ = [
    "ACCESS_LEVELS",
    "GROUP_LEVELS",
    "SECONDARY_GROUPS",
    "AccessLevel",
    "AutopanLine",
    "CameraState",
    "CruiseLine",
    "FirmwareInfo",
    "InputLine",
    "MotionWindow",
    "OutputLine",
    "ParamStore",
    "ParamStoreError",
    "Preset",
    "PtzHead",
    "RestartControl",
    "Tampering",
    "User",
    "UserGroup",
    "default_params",
]

AccessLevel = Literal["view", "admin", "root"]
UserGroup = Literal["admin", "operator", "viewer"]

#: The spec's three access levels, weakest first.
ACCESS_LEVELS: Final[tuple[AccessLevel, ...]] = ("view", "admin", "root")
#: Primary group → the highest access level its members have.  ``admin`` is the spec's
#: "admin/root" group (root access, e.g. ``pwdgrp.cgi``); ``operator`` has administrator access.
GROUP_LEVELS: Final[Mapping[str, AccessLevel]] = {
    "admin": "root",
    "operator": "admin",
    "viewer": "view",
}
#: The spec's secondary groups (``sgrp=dido:camctrl:talk:listen``).
SECONDARY_GROUPS: Final[tuple[str, ...]] = ("dido", "camctrl", "talk", "listen")

#: Bound of :attr:`CameraState.syslog` (oldest lines are dropped).
SYSLOG_LINES: Final = 1000


@attrs.define
class User:
    """A user account: password, primary group and secondary groups."""

    password: str = attrs.field(repr=False)
    group: UserGroup = "viewer"
    sgroups: set[str] = attrs.Factory(set)

    @property
    def level(self) -> AccessLevel:
        """The highest access level of this user."""
        return GROUP_LEVELS[self.group]

    def allows(self, level: AccessLevel) -> bool:
        """Whether this user may call a CGI that needs ``level``."""
        return ACCESS_LEVELS.index(self.level) >= ACCESS_LEVELS.index(level)


@attrs.define
class Preset:
    """A PTZ preset position."""

    name: str
    pan: float = 0.0
    tilt: float = 0.0
    zoom: float = 1.0
    focus: float = 0.0


@attrs.define
class AutopanLine:
    """One autopan line: direction, speed (0..3) and whether it runs."""

    direction: Literal["left", "right"] = "right"
    speed: int = 1
    running: bool = False
    start: float | None = None
    end: float | None = None


@attrs.define
class CruiseLine:
    """One cruise line (recorded PTZ path)."""

    recording: bool = False
    running: bool = False
    points: list[Preset] = attrs.Factory(list)


@attrs.define
class InputLine:
    """A digital input: enabled, closed now, and its normal state."""

    enabled: bool = True
    closed: bool = False
    normally_closed: bool = False

    @property
    def active(self) -> bool:
        """An enabled input is active when its contact left its normal state."""
        return self.enabled and self.closed != self.normally_closed


@attrs.define
class OutputLine:
    """A digital output: active now, and which electrical state means active."""

    active: bool = False
    active_state: Literal["open", "closed"] = "closed"

    @property
    def closed(self) -> bool:
        """Electrical state of the relay."""
        return self.active == (self.active_state == "closed")


@attrs.define
class MotionWindow:
    """A motion detection window (``Motion`` = Event.E1, ``Motion1..3`` = Event.E10..E12)."""

    enabled: bool = False
    level: int = 0
    sensitivity: int = 80
    triggered: bool = False


@attrs.define
class Tampering:
    """The tampering alarm (T0 = Event.E2)."""

    enabled: bool = False
    triggered: bool = False


@attrs.define
class FirmwareInfo:
    """Firmware of the simulated device."""

    version: str = "z20070921"
    build_date: str = "2007-09-21"
    upgrading: bool = False
    last_upload: bytes | None = attrs.field(default=None, repr=False)


@attrs.define
class RestartControl:
    """Restart bookkeeping: how often the device restarted and when it is back."""

    count: int = 0
    pending: bool = False
    back_at: float | None = None


class ParamStoreError(Exception):
    """A param.cgi request cannot be applied; the text becomes ``# Error: <text>``."""


@attrs.frozen
class _Template:
    """How ``param.cgi?action=add&group=<group>`` creates a child group."""

    pattern: re.Pattern[str]
    prefix: str
    first_index: int
    defaults: tuple[tuple[str, str], ...]


@attrs.frozen
class _Option:
    pattern: re.Pattern[str]
    choices: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None

    def text(self) -> str:
        if self.low is not None and self.high is not None:
            return f"{self.low}...{self.high}"
        return ",".join(self.choices)

    def accepts(self, value: str) -> bool:
        if self.low is not None and self.high is not None:
            try:
                number = int(value)
            except ValueError:
                return False
            return self.low <= number <= self.high
        return value in self.choices


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern.replace(".", r"\.").replace("#", r"\d+") + r"\Z")


_TEMPLATES: Final[tuple[_Template, ...]] = (
    _Template(
        _re("GuardTour"),
        "G",
        0,
        (
            ("Name", "Guard Tour"),
            ("Running", "no"),
            ("RandomEnabled", "no"),
            ("TimeBetweenSequences", "0"),
        ),
    ),
    _Template(
        _re("GuardTour.G#.Tour"),
        "T",
        1,
        (("PresetNbr", "1"), ("MoveSpeed", "10"), ("WaitTime", "1")),
    ),
    _Template(
        _re("Event"),
        "E",
        0,
        (("Name", "Event"), ("Type", "schedule"), ("Enabled", "no"), ("Priority", "1")),
    ),
)

_YES_NO = ("yes", "no")
_OPTIONS: Final[tuple[_Option, ...]] = (
    _Option(_re("Network.BootProto"), ("none", "dhcp")),
    _Option(_re("Network.HTTPPort"), low=1, high=65535),
    _Option(_re("Network.RTSPPort"), low=1, high=65535),
    _Option(_re("Network.MJPEGPort"), low=1, high=65535),
    _Option(_re("Network.UPnP.Enabled"), _YES_NO),
    _Option(
        _re("ImageSource.I#.Sensor.Exposure"), ("auto", "flickerfree50", "flickerfree60", "hold")
    ),
    _Option(
        _re("ImageSource.I#.Sensor.WhiteBalance"),
        ("auto", "indoor", "outdoor", "fluorescent", "hold"),
    ),
    _Option(_re("ImageSource.I#.Sensor.DayNight"), ("auto", "day", "night")),
    _Option(_re("ImageSource.I#.Sensor.WDR"), ("on", "off")),
    _Option(_re("ImageSource.I#.Sensor.Brightness"), low=0, high=100),
    _Option(_re("ImageSource.I#.Sensor.Contrast"), low=0, high=100),
    _Option(_re("ImageSource.I#.Sensor.Saturation"), low=0, high=100),
    _Option(_re("ImageSource.I#.Sensor.Sharpness"), low=0, high=100),
    _Option(_re("ImageSource.I#.Video.Resolution"), ("1920x1080", "1280x720", "640x360")),
    _Option(_re("ImageSource.I#.Video.FPS"), low=1, high=30),
    _Option(_re("ImageSource.I#.Video.Codec"), ("h264", "mjpeg")),
    _Option(_re("ImageSource.I#.Video.Bitrate"), low=64, high=16384),
    _Option(_re("ImageSource.I#.Video.GOP"), low=1, high=300),
    _Option(_re("ImageSource.I#.Mirror"), _YES_NO),
    _Option(_re("ImageSource.I#.Flip"), _YES_NO),
    _Option(_re("ImageSource.I#.Rotation"), ("0", "90", "180", "270")),
    _Option(_re("Event.E#.Enabled"), _YES_NO),
    _Option(_re("Event.E#.Priority"), low=0, high=2),
    _Option(_re("Event.E#.Sensitivity"), low=0, high=100),
    _Option(_re("GuardTour.G#.Running"), _YES_NO),
    _Option(_re("GuardTour.G#.RandomEnabled"), _YES_NO),
    _Option(_re("GuardTour.G#.TimeBetweenSequences"), low=0, high=3600),
    _Option(_re("GuardTour.G#.Tour.T#.PresetNbr"), low=1, high=256),
    _Option(_re("GuardTour.G#.Tour.T#.MoveSpeed"), low=0, high=14),
    _Option(_re("GuardTour.G#.Tour.T#.WaitTime"), low=0, high=255),
    _Option(_re("PTZ.Various.HomeReturn"), _YES_NO),
    _Option(_re("PTZ.OSD.Enabled"), _YES_NO),
    _Option(_re("IO.Input.I#.Enabled"), _YES_NO),
    _Option(_re("IO.Input.I#.Trig"), ("open", "closed")),
    _Option(_re("IO.Output.O#.Active"), ("open", "closed")),
    _Option(_re("IO.Output.O#.PulseTime"), low=0, high=65535),
)

#: Names that param.cgi refuses to update (the device reports them).
_READ_ONLY: Final = (re.compile(r"Network\.MACAddress\Z"),)
_READ_ONLY_PREFIXES: Final = ("Properties.",)

_EVENT_NAMES: Final = (
    ("Input", "io"),
    ("Motion", "motion"),
    ("Tampering", "tampering"),
    ("Schedule", "schedule"),
    ("NetworkLoss", "network"),
    ("StorageFull", "storage"),
    ("Reboot", "boot"),
    ("Audio", "audio"),
    ("PTZPreset", "ptz"),
    ("Manual", "manual"),
    ("Motion1", "motion"),
    ("Motion2", "motion"),
    ("Motion3", "motion"),
)


def default_params(model: str, firmware: FirmwareInfo, serial: str) -> list[tuple[str, str]]:
    """The factory parameter tree of the simulated device (names without ``root.``)."""
    p: list[tuple[str, str]] = [
        ("Brand.Brand", "IPCam"),
        ("Brand.ProdNbr", model),
        ("Brand.ProdFullName", f"IPCam {model} Full HD IP PTZ"),
        ("Network.BootProto", "none"),
        ("Network.IPAddress", "192.168.0.250"),
        ("Network.SubnetMask", "255.255.255.0"),
        ("Network.Broadcast", "192.168.0.255"),
        ("Network.DefaultRouter", "192.168.0.1"),
        ("Network.HostName", f"ipcam-{serial[-6:].lower()}"),
        ("Network.DomainName", ""),
        ("Network.DNSServer1", "192.168.0.1"),
        ("Network.DNSServer2", "0.0.0.0"),
        ("Network.MACAddress", ":".join(serial[i : i + 2] for i in range(0, 12, 2))),
        ("Network.HTTPPort", "80"),
        ("Network.RTSPPort", "554"),
        ("Network.MJPEGPort", "8008"),
        ("Network.UPnP.Enabled", "yes"),
        ("ImageSource.I0.Name", "Camera 1"),
        ("ImageSource.I0.Sensor.Exposure", "auto"),
        ("ImageSource.I0.Sensor.WhiteBalance", "auto"),
        ("ImageSource.I0.Sensor.DayNight", "auto"),
        ("ImageSource.I0.Sensor.WDR", "off"),
        ("ImageSource.I0.Sensor.Brightness", "50"),
        ("ImageSource.I0.Sensor.Contrast", "50"),
        ("ImageSource.I0.Sensor.Saturation", "50"),
        ("ImageSource.I0.Sensor.Sharpness", "50"),
        ("ImageSource.I0.Video.Resolution", "1920x1080"),
        ("ImageSource.I0.Video.FPS", "30"),
        ("ImageSource.I0.Video.Codec", "h264"),
        ("ImageSource.I0.Video.Bitrate", "4096"),
        ("ImageSource.I0.Video.GOP", "30"),
        ("ImageSource.I0.Mirror", "no"),
        ("ImageSource.I0.Flip", "no"),
        ("ImageSource.I0.Rotation", "0"),
    ]
    for index, (name, kind) in enumerate(_EVENT_NAMES):
        base = f"Event.E{index}"
        p += [
            (f"{base}.Name", name),
            (f"{base}.Type", kind),
            (f"{base}.Enabled", "no"),
            (f"{base}.Priority", "1"),
        ]
        if kind == "motion":
            p.append((f"{base}.Sensitivity", "80"))
    p += [
        ("GuardTour.G0.Name", "Guard Tour 0"),
        ("GuardTour.G0.Running", "no"),
        ("GuardTour.G0.RandomEnabled", "no"),
        ("GuardTour.G0.TimeBetweenSequences", "0"),
        ("PTZ.Limit.MinPan", "-180"),
        ("PTZ.Limit.MaxPan", "180"),
        ("PTZ.Limit.MinTilt", "-90"),
        ("PTZ.Limit.MaxTilt", "0"),
        ("PTZ.Limit.MinZoom", "1"),
        ("PTZ.Limit.MaxZoom", "9999"),
        ("PTZ.Limit.MinFocus", "1"),
        ("PTZ.Limit.MaxFocus", "9999"),
        ("PTZ.Preset.MaxNbr", "256"),
        ("PTZ.Various.HomeReturn", "no"),
        ("PTZ.Various.MaxSpeed", "14"),
        ("PTZ.OSD.Enabled", "yes"),
        ("PTZ.Support.AbsolutePan", "true"),
        ("PTZ.Support.AbsoluteTilt", "true"),
        ("PTZ.Support.AbsoluteZoom", "true"),
        ("PTZ.Support.ContinuousPan", "true"),
        ("PTZ.Support.ContinuousTilt", "true"),
        ("PTZ.Support.ContinuousZoom", "true"),
    ]
    for i in range(8):
        p += [
            (f"IO.Input.I{i}.Name", f"Input {i + 1}"),
            (f"IO.Input.I{i}.Enabled", "yes"),
            (f"IO.Input.I{i}.Trig", "closed"),
        ]
    for i in range(8):
        p += [
            (f"IO.Output.O{i}.Name", f"Output {i + 1}"),
            (f"IO.Output.O{i}.Active", "closed"),
            (f"IO.Output.O{i}.PulseTime", "0"),
        ]
    p += [
        ("Properties.API.HTTP.Version", "3"),
        ("Properties.API.HTTP.AdminPath", "/"),
        ("Properties.Firmware.Version", firmware.version),
        ("Properties.Firmware.BuildDate", firmware.build_date),
        ("Properties.System.Model", model),
        ("Properties.System.SerialNumber", serial),
        ("Properties.System.HardwareID", "7A1"),
        ("Properties.System.Architecture", "armv7l"),
        ("Properties.Image.Format", "jpeg,mjpeg,h264"),
        ("Properties.Image.Resolution", "1920x1080,1280x720,640x360"),
        ("Properties.Audio.Audio", "yes"),
        ("Properties.Audio.Format", "g711"),
        ("Properties.PTZ.PTZ", "yes"),
        ("Properties.IO.Input.NbrOfInputs", "8"),
        ("Properties.IO.Output.NbrOfOutputs", "8"),
        ("Properties.Motion.MaxNbrOfWindows", "4"),
        ("Properties.Storage.LocalStorage", "yes"),
    ]
    return p


class ParamStore:
    """The parameter tree behind ``param.cgi``: ordered ``name → value`` (names without ``root.``).

    Raises :class:`ParamStoreError` with the text the CGI reports as ``# Error: ...``.
    """

    def __init__(self, initial: Iterable[tuple[str, str]] = ()) -> None:
        self._values: dict[str, str] = dict(initial)
        self._factory: dict[str, str] = dict(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _strip_root(name) in self._values

    def __getitem__(self, name: str) -> str:
        return self._values[_strip_root(name)]

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of ``name`` or ``default``."""
        return self._values.get(_strip_root(name), default)

    def items(self) -> list[tuple[str, str]]:
        """All ``(name, value)`` pairs in tree order."""
        return list(self._values.items())

    def set(self, name: str, value: str) -> None:
        """Set a value without validation (simulator-internal changes)."""
        self._values[_strip_root(name)] = value

    def set_factory(self, name: str, value: str) -> None:
        """Set a value and make it the factory value too (a factory default restores it)."""
        name = _strip_root(name)
        self._values[name] = value
        self._factory[name] = value

    def select(self, groups: Sequence[str] = ()) -> list[tuple[str, str]]:
        """The pairs under each of ``groups`` (all pairs when empty), each name at most once."""
        if not groups:
            return self.items()
        seen: dict[str, str] = {}
        for group in groups:
            group = _strip_root(group)
            matched = [
                (name, value)
                for name, value in self._values.items()
                if name == group or name.startswith(group + ".") or not group
            ]
            if not matched:
                raise ParamStoreError(f"Error -1 getting param in group '{group}'")
            for name, value in matched:
                seen.setdefault(name, value)
        return list(seen.items())

    def options(self, groups: Sequence[str] = ()) -> list[tuple[str, str]]:
        """``(name, options text)`` for every listed parameter that has fixed options."""
        result: list[tuple[str, str]] = []
        for name, _ in self.select(groups):
            option = _option_for(name)
            if option is not None:
                result.append((name, option.text()))
        return result

    def check_update(self, name: str, value: str) -> str:
        """Validate one update; return the canonical name (without ``root.``)."""
        name = _strip_root(name)
        if name not in self._values:
            raise ParamStoreError(f"Error setting '{name}' to '{value}'! No such parameter")
        if name.startswith(_READ_ONLY_PREFIXES) or any(p.match(name) for p in _READ_ONLY):
            raise ParamStoreError(f"Error setting '{name}' to '{value}'! Parameter is read-only")
        option = _option_for(name)
        if option is not None and not option.accepts(value):
            raise ParamStoreError(
                f"Error setting '{name}' to '{value}'! Valid values: {option.text()}"
            )
        if len(value) > 255 or any(ord(c) < 32 for c in value):
            raise ParamStoreError(f"Error setting '{name}'! Invalid characters or too long")
        return name

    def update(self, pairs: Sequence[tuple[str, str]]) -> list[str]:
        """Apply all updates or none; return the names changed."""
        checked = [(self.check_update(name, value), value) for name, value in pairs]
        for name, value in checked:
            self._values[name] = value
        return [name for name, _ in checked]

    def add(self, group: str, values: Sequence[tuple[str, str]] = ()) -> str:
        """Create the next child of ``group`` (e.g. ``GuardTour.G1``); return its full name.

        ``values`` may name parameters with the template index (``GuardTour.G1.Tour.T.PresetNbr``)
        or relative to the new child (``PresetNbr``).
        """
        group = _strip_root(group)
        template = next((t for t in _TEMPLATES if t.pattern.match(group)), None)
        if template is None:
            raise ParamStoreError(f"Error adding group '{group}'! Group cannot be added")
        if group.count(".") and not any(
            n.startswith(group.rsplit(".", 1)[0] + ".") for n in self._values
        ):
            raise ParamStoreError(f"Error adding group '{group}'! Parent group does not exist")
        child_re = re.compile(re.escape(group) + r"\." + template.prefix + r"(\d+)\.")
        used = {int(m.group(1)) for n in self._values if (m := child_re.match(n))}
        index = max(used) + 1 if used else template.first_index
        child = f"{group}.{template.prefix}{index}"
        template_prefix = f"{group}.{template.prefix}."
        new_values = dict(template.defaults)
        for name, value in values:
            name = _strip_root(name)
            if name.startswith(template_prefix):
                name = name[len(template_prefix) :]
            elif name.startswith(child + "."):
                name = name[len(child) + 1 :]
            if name not in new_values:
                raise ParamStoreError(f"Error adding group '{group}'! No parameter '{name}'")
            new_values[name] = value
        pending = [(f"{child}.{key}", value) for key, value in new_values.items()]
        for name, value in pending:
            option = _option_for(name)
            if option is not None and not option.accepts(value):
                raise ParamStoreError(
                    f"Error setting '{name}' to '{value}'! Valid values: {option.text()}"
                )
        for name, value in pending:
            self._values[name] = value
        return child

    def delete(self, prefix: str) -> list[str]:
        """Delete ``prefix`` and every name under it (simulator-internal changes)."""
        prefix = _strip_root(prefix)
        names = [n for n in self._values if n == prefix or n.startswith(prefix + ".")]
        for name in names:
            del self._values[name]
        return names

    def remove(self, group: str) -> list[str]:
        """Remove an added group (e.g. ``GuardTour.G1``); return the removed names."""
        group = _strip_root(group)
        parent, _, leaf = group.rpartition(".")
        template = next((t for t in _TEMPLATES if t.pattern.match(parent)), None)
        if template is None or not re.fullmatch(re.escape(template.prefix) + r"\d+", leaf):
            raise ParamStoreError(f"Error removing group '{group}'! Group cannot be removed")
        names = [n for n in self._values if n.startswith(group + ".")]
        if not names:
            raise ParamStoreError(f"Error removing group '{group}'! No such group")
        for name in names:
            del self._values[name]
        return names

    def factory_default(self, keep: Iterable[str] = ()) -> None:
        """Reset to the factory tree, keeping the current values of the names in ``keep``."""
        kept = {n: self._values[n] for n in map(_strip_root, keep) if n in self._values}
        self._values = dict(self._factory)
        self._values.update(kept)


def _strip_root(name: str) -> str:
    return name[5:] if name.startswith("root.") else name


def _option_for(name: str) -> _Option | None:
    return next((o for o in _OPTIONS if o.pattern.match(name)), None)


class CameraState:
    """Everything a simulated camera remembers (see the field comments)."""

    def __init__(
        self,
        *,
        model: str = "NH720",
        username: str = "admin",
        password: str = "1234",
        serial: str = "00408C1A2B3C",
    ) -> None:
        self.model = model
        self.serial = serial
        self.firmware = FirmwareInfo()
        #: param.cgi tree.
        self.params = ParamStore(default_params(model, self.firmware, serial))
        #: name → account; the initial account is in the ``admin`` (root) group with every
        #: secondary group.
        self.users: dict[str, User] = {
            username: User(password, "admin", set(SECONDARY_GROUPS)),
        }
        #: 5.1.4 snapshot path.
        self.snapshot_path = "/cgi-bin/video.jpg"
        #: Device clock = host clock + offset (seconds); timezone as the spec writes it.
        self.clock_offset = 0.0
        self.timezone = "GMT+0"
        #: Local storage: file name → contents.
        self.storage_files: dict[str, bytes] = {}
        self.storage_capacity = 64 * 1024 * 1024
        #: PTZ presets by number (1..256) and the head itself.
        self.presets: dict[int, Preset] = {}
        #: The virtual head: positions follow time under moves (ipcam_async.sim.ptz_head).
        self.ptz = PtzHead()
        self.autopan: dict[int, AutopanLine] = {}
        self.cruise: dict[int, CruiseLine] = {}
        #: 8 digital inputs and 8 outputs.
        self.inputs: list[InputLine] = [InputLine() for _ in range(8)]
        self.outputs: list[OutputLine] = [OutputLine() for _ in range(8)]
        #: Motion windows (Motion = Event.E1, Motion1..3 = Event.E10..E12) and tampering (E2).
        self.motion: dict[str, MotionWindow] = {
            name: MotionWindow() for name in ("Motion", "Motion1", "Motion2", "Motion3")
        }
        self.tampering = Tampering()
        #: System log (bounded, oldest dropped).
        self.syslog: deque[str] = deque(maxlen=SYSLOG_LINES)
        self.restart = RestartControl()
        self.boot_time = time.time()
        self._version = 0
        self._changed = asyncio.Event()
        self.log("system started")

    # -- time ------------------------------------------------------------------------------

    def now(self) -> float:
        """Device time (UNIX seconds)."""
        return time.time() + self.clock_offset

    def log(self, message: str) -> None:
        """Append a line to the system log, stamped with device time."""
        stamp = time.strftime("%b %d %H:%M:%S", time.gmtime(self.now()))
        self.syslog.append(f"{stamp} {self.model} {message}")

    # -- users -----------------------------------------------------------------------------

    def add_user(
        self,
        name: str,
        password: str,
        group: UserGroup = "viewer",
        sgroups: Iterable[str] = (),
    ) -> User:
        """Create or replace an account (test helper; the CGI validates its own input)."""
        user = User(password, group, set(sgroups))
        self.users[name] = user
        self.changed()
        return user

    # -- change notification ---------------------------------------------------------------

    @property
    def version(self) -> int:
        """Increases by one on every :meth:`changed`."""
        return self._version

    def changed(self) -> None:
        """Record a state change and wake everyone in :meth:`wait_changed`."""
        self._version += 1
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def wait_changed(self, version: int, timeout: float | None = None) -> int:  # noqa: ASYNC109
        """Wait until :attr:`version` differs from ``version`` (or ``timeout``); return it."""
        if self._version != version:
            return self._version
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
        return self._version

    # -- events (eventdata.cgi; test API) -------------------------------------------------

    #: Seconds between monitor parts when nothing changes (``eventdata.cgi?action=monitor``).
    monitor_interval: float = 10.0

    def set_motion(
        self,
        window: str = "Motion",
        *,
        level: int | None = None,
        triggered: bool | None = None,
        enabled: bool | None = None,
        sensitivity: int | None = None,
    ) -> MotionWindow:
        """Change a motion window (``Motion``, ``Motion1``..``Motion3``) and notify waiters.

        Given a ``level`` but no ``triggered``, the window triggers when the level reaches the
        threshold its sensitivity sets (``level >= 100 - sensitivity``) and it is enabled.
        """
        if window not in self.motion:
            raise ValueError(f"unknown motion window {window!r}")
        for name, value in (("level", level), ("sensitivity", sensitivity)):
            if value is not None and not 0 <= value <= 100:
                raise ValueError(f"{name} must be 0..100, got {value}")
        w = self.motion[window]
        if enabled is not None:
            w.enabled = enabled
        if sensitivity is not None:
            w.sensitivity = sensitivity
        if level is not None:
            w.level = level
            if triggered is None:
                triggered = w.enabled and level >= 100 - w.sensitivity
        if triggered is not None:
            w.triggered = triggered
        self.changed()
        return w

    def set_input(
        self,
        number: int,
        closed: bool | None = None,
        *,
        enabled: bool | None = None,
        normally_closed: bool | None = None,
    ) -> InputLine:
        """Change digital input ``number`` (1..8): contact, enabled, wiring; notify waiters."""
        if not 1 <= number <= len(self.inputs):
            raise ValueError(f"input number must be 1..{len(self.inputs)}, got {number}")
        line = self.inputs[number - 1]
        if closed is not None:
            line.closed = closed
        if enabled is not None:
            line.enabled = enabled
        if normally_closed is not None:
            line.normally_closed = normally_closed
        self.changed()
        return line

    def flip_input(self, number: int) -> InputLine:
        """Toggle the contact of input ``number`` (1..8)."""
        if not 1 <= number <= len(self.inputs):
            raise ValueError(f"input number must be 1..{len(self.inputs)}, got {number}")
        return self.set_input(number, not self.inputs[number - 1].closed)

    def set_tampering(
        self, triggered: bool | None = None, *, enabled: bool | None = None
    ) -> Tampering:
        """Change the tampering alarm (T0) and notify waiters."""
        if enabled is not None:
            self.tampering.enabled = enabled
        if triggered is not None:
            self.tampering.triggered = triggered
        self.changed()
        return self.tampering

    #: Frame rate of the MJPEG-over-HTTP server (read when the simulator starts).
    mjpeg_fps: float = 10.0
