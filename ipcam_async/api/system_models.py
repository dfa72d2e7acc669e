"""Models and sans-io parsers for the users, system, storage and image groups.

Spec sections 5.1.2 to 5.1.15 and 5.2.1.

Everything here is pure: text or bytes in, frozen attrs models out, :class:`ProtocolError` on
anything the device should not have sent. The API classes in :mod:`ipcam_async.api.users`,
:mod:`~ipcam_async.api.system`, :mod:`~ipcam_async.api.storage` and :mod:`~ipcam_async.api.image`
do the I/O around them; the simulator reuses the formatters so both sides agree byte for byte.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping
from datetime import datetime

import attrs

from ..errors import ProtocolError

__all__ = [
    "CERTIFICATE_TYPES",
    "FIRMWARE_FILENAMES",
    "MAX_LINES",
    "GroupMembership",
    "JpegImage",
    "LogText",
    "SecondaryGroup",
    "StorageEntry",
    "UserCredential",
    "UserInfo",
    "UserRights",
    "format_device_date",
    "format_group_membership",
    "format_privacy",
    "format_userinfo",
    "local_filename",
    "parse_device_date",
    "parse_group_membership",
    "parse_jpeg",
    "parse_privacy",
    "parse_snapshot_path",
    "parse_storage_list",
    "parse_userinfo",
]

#: Upper bound on lines accepted from any line-based answer; a device sending more is broken.
MAX_LINES = 100_000


class SecondaryGroup(enum.StrEnum):
    """Secondary groups a user can belong to (``sgrp`` of ``pwdgrp.cgi``, spec 5.1.2)."""

    DIDO = "dido"
    """Digital input / output control."""
    CAMCTRL = "camctrl"
    """Camera control (settings, PTZ); shown as ``Camset`` by ``privacy.cgi``."""
    TALK = "talk"
    """Audio out to the camera."""
    LISTEN = "listen"
    """Audio in from the camera."""


#: ``type`` values of ``upload_certificate.cgi`` (spec 5.1.15).
CERTIFICATE_TYPES: tuple[str, ...] = ("ca_certificate", "client_certificate", "private_key")

#: ``filename`` values of ``firmwareupgrade.cgi`` per product family (spec 5.1.10.2). The first
#: family also lists the names its description column mentions (``cameraFw``, ``userland.jffs2``,
#: ``uImage_userland.jffs2``), which the spec's own example uses.
FIRMWARE_FILENAMES: Mapping[str, frozenset[str]] = {
    "Full HD Multiple Streams": frozenset(
        {
            "uImage",
            "userland.img",
            "var",
            "uImage_userland",
            "mcu.bin",
            "cameraFw",
            "userland.jffs2",
            "uImage_userland.jffs2",
        }
    ),
    "Full HD IP PTZ": frozenset(
        {
            "uImage",
            "userland.img",
            "var",
            "uImage_userland",
            "switch.bin",
            "main.bin",
            "module.bin",
        }
    ),
    "Full HD WDR IP Camera": frozenset(
        {"uImage.img", "userland.img", "var", "uImage_userland", "uboot"}
    ),
}


def _lines(text: str) -> list[str]:
    """Split a device answer into lines, tolerating ``\\r\\n``, ``\\n`` and trailing blanks."""
    lines = [line.strip() for line in text.splitlines()]
    if len(lines) > MAX_LINES:
        raise ProtocolError(f"answer has {len(lines)} lines, more than {MAX_LINES}")
    return [line for line in lines if line]


# --------------------------------------------------------------------------------------------
# Users (5.1.2, 5.1.3)


@attrs.frozen(slots=True)
class GroupMembership:
    """Users of each group, as listed by ``pwdgrp.cgi?action=get``.

    ``groups`` keeps the device's order:
    ``(("admin", ("Admin",)), ("dido", ("Admin", "joe")), ...)``.
    """

    groups: tuple[tuple[str, tuple[str, ...]], ...]

    def members(self, group: str) -> tuple[str, ...]:
        """Users of ``group`` (empty if the group is unknown or empty)."""
        for name, users in self.groups:
            if name == group:
                return users
        return ()

    def groups_of(self, user: str) -> tuple[str, ...]:
        """Groups that list ``user``."""
        return tuple(name for name, users in self.groups if user in users)

    @property
    def users(self) -> tuple[str, ...]:
        """Every user named in any group, in first-seen order."""
        seen: dict[str, None] = {}
        for _, users in self.groups:
            for user in users:
                seen.setdefault(user, None)
        return tuple(seen)

    def as_dict(self) -> dict[str, tuple[str, ...]]:
        """Group name → users."""
        return dict(self.groups)


def parse_group_membership(text: str) -> GroupMembership:
    """Parse ``<group>="<user>,<user>"`` lines (quotes optional) from ``pwdgrp.cgi?action=get``."""
    groups: list[tuple[str, tuple[str, ...]]] = []
    for line in _lines(text):
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ProtocolError(f"malformed group line {line[:80]!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        users = tuple(u.strip() for u in value.split(",") if u.strip())
        groups.append((name, users))
    return GroupMembership(tuple(groups))


def format_group_membership(groups: Mapping[str, list[str] | tuple[str, ...]]) -> str:
    """Inverse of :func:`parse_group_membership` (used by the simulator)."""
    return "".join(f'{name}="{",".join(users)}"\r\n' for name, users in groups.items())


@attrs.frozen(slots=True)
class UserRights:
    """One row of ``privacy.cgi``: what ``user`` may do (spec 5.1.3)."""

    user: str
    dido: bool
    """Digital input / output (secondary group ``dido``)."""
    camset: bool
    """Camera settings (secondary group ``camctrl``)."""
    talk: bool
    listen: bool

    @property
    def groups(self) -> frozenset[SecondaryGroup]:
        """The secondary groups these rights correspond to."""
        flags = (
            (self.dido, SecondaryGroup.DIDO),
            (self.camset, SecondaryGroup.CAMCTRL),
            (self.talk, SecondaryGroup.TALK),
            (self.listen, SecondaryGroup.LISTEN),
        )
        return frozenset(group for on, group in flags if on)


_PRIVACY_COLUMNS = ("dido", "camset", "talk", "listen")


def parse_privacy(text: str) -> tuple[UserRights, ...]:
    """Parse ``privacy.cgi``: a ``Username:Dido:Camset:Talk:Listen`` header, then ``name:1:0:1:1``.

    Columns are matched by the header's names (case-insensitive), so a device that orders them
    differently still parses; each flag must be ``0`` or ``1``.
    """
    lines = _lines(text)
    if not lines:
        raise ProtocolError("empty privacy answer")
    header = [col.strip().lower() for col in lines[0].split(":")]
    if not header or header[0] != "username" or sorted(header[1:]) != sorted(_PRIVACY_COLUMNS):
        raise ProtocolError(f"unexpected privacy header {lines[0][:80]!r}")
    index = {col: i for i, col in enumerate(header)}
    rows: list[UserRights] = []
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.split(":")]
        if len(cells) != len(header) or not cells[0]:
            raise ProtocolError(f"malformed privacy row {line[:80]!r}")
        flags: dict[str, bool] = {}
        for col in _PRIVACY_COLUMNS:
            cell = cells[index[col]]
            if cell not in ("0", "1"):
                raise ProtocolError(f"privacy flag {col}={cell[:10]!r} is not 0 or 1")
            flags[col] = cell == "1"
        rows.append(UserRights(user=cells[0], **flags))
    return tuple(rows)


def format_privacy(rows: list[UserRights] | tuple[UserRights, ...]) -> str:
    """Inverse of :func:`parse_privacy`, in the spec's shape (trailing space on the header)."""
    out = ["Username:Dido:Camset:Talk:Listen \n"]
    for r in rows:
        out.append(f"{r.user}:{int(r.dido)}:{int(r.camset)}:{int(r.talk)}:{int(r.listen)}\n")
    return "".join(out)


@attrs.frozen(slots=True)
class UserCredential:
    """A user name with its password; the password never appears in ``repr``."""

    user: str
    password: str = attrs.field(repr=False)


@attrs.frozen(slots=True, repr=False)
class UserInfo:
    """User / password pairs from ``userinfo.cgi`` (spec 5.1.3).

    ``repr`` and ``str`` show the user names only; read a password explicitly with
    :meth:`password` or iterate :attr:`credentials`.
    """

    credentials: tuple[UserCredential, ...]

    @property
    def users(self) -> tuple[str, ...]:
        """The user names, in the device's order."""
        return tuple(c.user for c in self.credentials)

    def password(self, user: str) -> str:
        """The password of ``user``; :class:`KeyError` if the device did not list it."""
        for cred in self.credentials:
            if cred.user == user:
                return cred.password
        raise KeyError(user)

    def __contains__(self, user: object) -> bool:
        return any(c.user == user for c in self.credentials)

    def __iter__(self) -> Iterator[UserCredential]:
        return iter(self.credentials)

    def __len__(self) -> int:
        return len(self.credentials)

    def __repr__(self) -> str:
        return f"UserInfo(users={self.users!r}, passwords=<hidden>)"

    __str__ = __repr__


def parse_userinfo(text: str) -> UserInfo:
    """Parse ``userinfo.cgi``: an optional title line, then ``user:password`` lines."""
    lines = _lines(text)
    if lines and ":" not in lines[0]:
        lines = lines[1:]
    creds: list[UserCredential] = []
    for line in lines:
        user, sep, password = line.partition(":")
        if not sep or not user.strip():
            # The line may hold a password: do not echo it.
            raise ProtocolError(f"malformed userinfo line ({len(line)} characters)")
        creds.append(UserCredential(user.strip(), password.strip()))
    return UserInfo(tuple(creds))


def format_userinfo(pairs: Mapping[str, str]) -> str:
    """Inverse of :func:`parse_userinfo`, in the spec's shape (``\\r\\n`` line ends)."""
    return "List username and password\r\n" + "".join(f"{u}:{p}\r\n" for u, p in pairs.items())


# --------------------------------------------------------------------------------------------
# System (5.1.4, 5.1.12-5.1.14)


def parse_snapshot_path(text: str) -> str:
    """Parse ``snapshot.cgi?action=get``: the path alone, or ``path=<path>``, on one line."""
    lines = _lines(text)
    if len(lines) != 1:
        raise ProtocolError(f"expected one line with the snapshot path, got {len(lines)}")
    line = lines[0]
    if line.lower().startswith("path="):
        line = line[5:]
    return line


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DATE_RE = re.compile(
    r"(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})\s+"
    r"(?P<h>\d{1,2}):(?P<m>\d{1,2}):(?P<s>\d{1,2})"
)


def parse_device_date(text: str) -> datetime:
    """Parse ``date.cgi?action=get``: ``Apr 03, 2003 15:16:04`` → naive ``datetime`` (device time).

    Month names are matched in English whatever the process locale.
    """
    lines = _lines(text)
    if len(lines) != 1:
        raise ProtocolError(f"expected one date line, got {len(lines)}")
    m = _DATE_RE.fullmatch(lines[0])
    if m is None:
        raise ProtocolError(f"unparseable device date {lines[0][:60]!r}")
    mon = m["mon"][:3].lower()
    if mon not in _MONTHS:
        raise ProtocolError(f"unknown month {m['mon']!r}")
    try:
        return datetime(
            int(m["year"]),
            _MONTHS.index(mon) + 1,
            int(m["day"]),
            int(m["h"]),
            int(m["m"]),
            int(m["s"]),
        )
    except ValueError as exc:
        raise ProtocolError(f"impossible device date {lines[0][:60]!r}: {exc}") from None


def format_device_date(when: datetime) -> str:
    """Inverse of :func:`parse_device_date` without the line end: ``Apr 03, 2003 15:16:04``."""
    return (
        f"{_MONTH_ABBR[when.month - 1]} {when.day:02d}, {when.year:04d} "
        f"{when.hour:02d}:{when.minute:02d}:{when.second:02d}"
    )


@attrs.frozen(slots=True)
class LogText:
    """A text document from the device: the system log (5.1.13) or the server report (5.1.12)."""

    text: str

    @property
    def lines(self) -> tuple[str, ...]:
        """Non-blank lines, right-stripped."""
        return tuple(line.rstrip() for line in self.text.splitlines() if line.strip())

    def __len__(self) -> int:
        return len(self.lines)


# --------------------------------------------------------------------------------------------
# Storage (5.1.5)

_RECORDING_NAME = re.compile(r"(?P<kind>[A-Za-z]+)_(?P<date>\d{8})_(?P<time>\d{6})(?:\.\w+)?")


@attrs.frozen(slots=True)
class StorageEntry:
    """A file on the camera's local storage, as listed by ``storagemanagement.cgi?action=list``."""

    name: str
    size: int | None = None
    """Size in bytes when the device reports it."""

    @property
    def recorded_at(self) -> datetime | None:
        """Recording start parsed from names like ``A_20110101_010101.avi`` (None otherwise)."""
        m = _RECORDING_NAME.fullmatch(self.name)
        if m is None:
            return None
        try:
            return datetime.strptime(m["date"] + m["time"], "%Y%m%d%H%M%S")
        except ValueError:
            return None

    @property
    def kind(self) -> str | None:
        """The name's prefix before the timestamp (``A`` in ``A_20110101_010101.avi``)."""
        m = _RECORDING_NAME.fullmatch(self.name)
        return None if m is None else m["kind"]


_SIZE = re.compile(r"[0-9]{1,20}")


def parse_storage_list(text: str) -> tuple[StorageEntry, ...]:
    """Parse the file list: one file per line, ``<name>`` or ``<name> <size>``.

    The size may also be separated by ``,`` or a tab.

    A trailing all-digit field is taken as the size; names may contain spaces.
    """
    entries: list[StorageEntry] = []
    for line in _lines(text):
        name, size = line, None
        for sep in ("\t", ",", " "):
            head, found, tail = line.rpartition(sep)
            # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
            if found and head.strip() and _SIZE.fullmatch(tail.strip()):
                name, size = head.strip(), int(tail.strip())
                break
        entries.append(StorageEntry(name=name, size=size))
    return tuple(entries)


_UNSAFE_LOCAL = re.compile(r"[\x00-\x1f\x7f:*?\"<>|]")


def local_filename(device_name: str) -> str:
    """A safe local file name for a name the device gave: its last path component, cleaned.

    Both ``/`` and ``\\`` count as separators (the device may be Windows-minded), characters that
    are special on common file systems become ``_``, and ``""``, ``.`` and ``..`` are refused
    with :class:`ProtocolError`. The result never contains a separator, so joining it to a
    directory stays inside that directory.
    """
    last = re.split(r"[/\\]", device_name)[-1]
    cleaned = _UNSAFE_LOCAL.sub("_", last).strip().rstrip(".")
    if not cleaned or cleaned in {".", ".."} or len(cleaned) > 255:
        raise ProtocolError(f"unusable file name from the device: {device_name[:80]!r}")
    return cleaned


# --------------------------------------------------------------------------------------------
# Image (5.2.1)

# SOFn markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length field.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


@attrs.frozen(slots=True)
class JpegImage:
    """A JPEG image checked for its SOI and EOI markers, sized from its frame header."""

    data: bytes = attrs.field(repr=lambda d: f"<{len(d)} bytes>")
    width: int | None = None
    height: int | None = None
    content_type: str = "image/jpeg"

    def __len__(self) -> int:
        return len(self.data)


def parse_jpeg(data: bytes, *, content_type: str = "image/jpeg") -> JpegImage:
    """Check that ``data`` is one JPEG image (SOI ... EOI) and read its size.

    Trailing whitespace after EOI is tolerated (the spec shows ``<JPEG image data>\\r\\n``).
    Anything else raises :class:`ProtocolError`.
    """
    if len(data) < 4 or data[:3] != b"\xff\xd8\xff":
        raise ProtocolError(f"not a JPEG image: starts with {data[:8].hex()!r}")
    end = len(data.rstrip(b"\r\n \t"))
    if data[end - 2 : end] != b"\xff\xd9":
        raise ProtocolError("JPEG image is truncated: no EOI marker at the end")
    body = data[:end]
    width = height = None
    pos = 2
    while pos + 4 <= end:
        if body[pos] != 0xFF:
            raise ProtocolError(f"JPEG marker expected at offset {pos}")
        marker = body[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # EOI, or SOS: entropy-coded data follows
            break
        length = int.from_bytes(body[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > end:
            raise ProtocolError(f"JPEG segment at offset {pos} overruns the image")
        if marker in _SOF_MARKERS:
            if length < 8:
                raise ProtocolError("JPEG frame header too short")
            height = int.from_bytes(body[pos + 5 : pos + 7], "big")
            width = int.from_bytes(body[pos + 7 : pos + 9], "big")
        pos += 2 + length
    return JpegImage(data=bytes(body), width=width, height=height, content_type=content_type)
