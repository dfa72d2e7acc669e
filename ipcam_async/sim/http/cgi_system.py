"""System CGIs of the simulated camera (spec 5.1.4, 5.1.6 to 5.1.15).

Uploads (restore, firmware, certificates) are read from the socket part by part: a firmware
image is hashed and counted, never held in memory, so a test can send hundreds of MiB through
the simulator. Everything the device would keep on flash (certificates, upload history) lives
in a :class:`SystemRecords` attached to the :class:`CameraState`.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import io
import logging
import re
import tarfile
import time
import weakref
from datetime import UTC, datetime, timedelta
from typing import Final

import attrs
from aiohttp import BodyPartReader, web

from ...api.system_models import CERTIFICATE_TYPES, FIRMWARE_FILENAMES, format_device_date
from ...http.query import decode_query
from ..state import SECONDARY_GROUPS, CameraState, ParamStoreError, User
from .app import FAULTS_KEY, CgiRouter, current_user, error_response, text_response
from .cgi_params import request_pairs

__all__ = [
    "FACTORY_KEEP",
    "RESTART_DOWNTIME",
    "SystemRecords",
    "UploadRecord",
    "register",
    "system_records",
]

_log = logging.getLogger(__name__)

_ADMIN: Final = "/cgi-bin/admin/"

#: Parameters a (soft) factory default keeps (spec 5.1.6: the network settings and the port).
FACTORY_KEEP: Final = (
    "Network.BootProto",
    "Network.IPAddress",
    "Network.SubnetMask",
    "Network.Broadcast",
    "Network.DefaultRouter",
    "Network.HTTPPort",
)
_FACTORY_SNAPSHOT_PATH: Final = "/cgi-bin/video.jpg"

#: Seconds a restart keeps the simulated camera unreachable (tests may lower it per state).
RESTART_DOWNTIME: Final = 1.0

_SNAPSHOT_CHARS: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_/\\~!@#$%^&+-:"
)
_ALL_FIRMWARE: Final = frozenset().union(*FIRMWARE_FILENAMES.values())
_MAX_BACKUP: Final = 16 << 20
_MAX_CERTIFICATE: Final = 64 << 10
_CHUNK: Final = 256 << 10
_READ_ONLY_PREFIXES: Final = ("Properties.", "Network.MACAddress")


@attrs.frozen
class UploadRecord:
    """One file received by an upload CGI."""

    cgi: str
    field_name: str
    filename: str
    size: int
    sha256: str


@attrs.define
class SystemRecords:
    """Device storage the system CGIs keep beside :class:`CameraState`."""

    uploads: list[UploadRecord] = attrs.Factory(list)
    """Every file received (restore, firmware, certificates), oldest first (bounded)."""
    certificates: dict[str, bytes] = attrs.Factory(dict)
    """802.1x files by type (``ca_certificate``, ``client_certificate``, ``private_key``)."""
    restart_downtime: float = RESTART_DOWNTIME
    """Seconds a restart keeps the HTTP side away."""
    restores: int = 0
    factory_defaults: int = 0
    hard_factory_defaults: int = 0


_RECORDS: weakref.WeakKeyDictionary[CameraState, SystemRecords] = weakref.WeakKeyDictionary()


def system_records(state: CameraState) -> SystemRecords:
    """The :class:`SystemRecords` of ``state`` (created on first use)."""
    records = _RECORDS.get(state)
    if records is None:
        records = _RECORDS[state] = SystemRecords()
    return records


def _query(request: web.Request) -> dict[str, str]:
    """Parameters of the query string only: an upload's body is the file, read as a stream."""
    return dict(decode_query(request.raw_path.partition("?")[2]))


def _ok() -> web.Response:
    return text_response("OK\r\n")


def _failed(message: str) -> web.Response:
    return text_response(f"Request failed: {message}\r\n")


# -- uploads -----------------------------------------------------------------------------------


async def _receive_file(
    request: web.Request, state: CameraState, cgi: str, *, keep: int | None
) -> tuple[UploadRecord, bytes | None] | web.Response:
    """Read the first file part of an RFC 1867 body, chunk by chunk.

    With ``keep`` (a byte limit) the contents are returned; otherwise only counted and hashed.
    """
    if not request.content_type.startswith("multipart/form-data"):
        return text_response("400 Bad Request: multipart/form-data expected\r\n", status=400)
    try:
        reader = await request.multipart()
        part = await reader.next()
        while part is not None and not (
            isinstance(part, BodyPartReader) and part.filename is not None
        ):
            part = await reader.next()
        if part is None or not isinstance(part, BodyPartReader):
            return text_response("400 Bad Request: no file in the body\r\n", status=400)
        digest = hashlib.sha256()
        size = 0
        kept: list[bytes] | None = [] if keep is not None else None
        while chunk := await part.read_chunk(_CHUNK):
            size += len(chunk)
            digest.update(chunk)
            if kept is not None:
                if keep is not None and size > keep:
                    return text_response(
                        f"400 Bad Request: file larger than {keep} bytes\r\n", status=400
                    )
                kept.append(chunk)
        record = UploadRecord(cgi, part.name or "", part.filename or "", size, digest.hexdigest())
        # Anything after the file (more parts, the closing boundary) is read and dropped.
        while await reader.next() is not None:
            pass
    except ValueError as exc:
        return text_response(f"400 Bad Request: malformed multipart body ({exc})\r\n", status=400)
    records = system_records(state)
    records.uploads.append(record)
    del records.uploads[:-64]
    state.log(f"{cgi}: {current_user(request)} uploaded {record.filename} ({size} bytes)")
    return record, (b"".join(kept) if kept is not None else None)


# -- 5.1.4 snapshot path ------------------------------------------------------------------------


async def snapshot_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """``action=get`` answers the path; ``action=set&path=...`` changes it."""
    pairs = dict(await request_pairs(request))
    action = pairs.get("action", "get")
    if action == "get":
        return text_response(f"{state.snapshot_path}\r\n")
    if action != "set":
        return error_response(f"invalid action '{action}'")
    path = pairs.get("path")
    if path is None:
        return error_response("path is required with action=set")
    if not path or len(path) > 255 or not set(path) <= _SNAPSHOT_CHARS:
        return error_response("path: valid characters are A-Za-z0-9 and _/\\~!@#$%^&+-:")
    state.snapshot_path = path
    state.log(f"snapshot.cgi: {current_user(request)} set the snapshot path")
    state.changed()
    return _ok()


# -- 5.1.6 / 5.1.7 factory defaults ---------------------------------------------------------


async def factorydefault_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """Reset everything but the network address settings and the HTTP port."""
    state.params.factory_default(keep=FACTORY_KEEP)
    state.snapshot_path = _FACTORY_SNAPSHOT_PATH
    system_records(state).factory_defaults += 1
    state.log(f"factorydefault.cgi: {current_user(request)} reloaded factory defaults")
    state.changed()
    return _ok()


async def hardfactorydefault_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """Reset every parameter, network settings included."""
    state.params.factory_default()
    state.snapshot_path = _FACTORY_SNAPSHOT_PATH
    state.timezone = "GMT+0"
    system_records(state).certificates.clear()
    system_records(state).hard_factory_defaults += 1
    state.log(f"hardfactorydefault.cgi: {current_user(request)} reloaded factory defaults")
    state.changed()
    return _ok()


# -- 5.1.8 / 5.1.9 backup and restore ---------------------------------------------------------


def _tar_add(tar: tarfile.TarFile, name: str, text: str, mtime: float) -> None:
    data = text.encode("utf-8")
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(mtime)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def build_backup(state: CameraState) -> bytes:
    """The ``/etc`` archive backup.cgi sends: parameters, users, snapshot path, time zone."""
    out = io.BytesIO()
    now = state.now()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        _tar_add(tar, "etc/param.conf", "".join(f"{n}={v}\n" for n, v in state.params.items()), now)
        users = "".join(
            f"{name}:{u.password}:{u.group}:{','.join(sorted(u.sgroups))}\n"
            for name, u in state.users.items()
        )
        _tar_add(tar, "etc/passwd", users, now)
        _tar_add(tar, "etc/snapshot.conf", state.snapshot_path + "\n", now)
        _tar_add(tar, "etc/timezone", state.timezone + "\n", now)
    return out.getvalue()


class _BadBackup(Exception):
    pass


def _read_backup(data: bytes) -> dict[str, str]:
    files: dict[str, str] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for member in tar:
                if not member.isfile() or member.size > _MAX_BACKUP:
                    continue
                handle = tar.extractfile(member)
                if handle is not None:
                    files[member.name] = handle.read().decode("utf-8")
    except (tarfile.TarError, UnicodeDecodeError, EOFError) as exc:
        raise _BadBackup(f"not a backup archive ({exc})") from None
    if "etc/param.conf" not in files:
        raise _BadBackup("not a backup archive (no etc/param.conf)")
    return files


def _apply_backup(state: CameraState, files: dict[str, str]) -> None:
    pairs: list[tuple[str, str]] = []
    for line in files["etc/param.conf"].splitlines():
        name, sep, value = line.partition("=")
        if not sep:
            raise _BadBackup(f"malformed parameter line {line[:40]!r}")
        if name.startswith(_READ_ONLY_PREFIXES) or name not in state.params:
            continue
        pairs.append((name, value))
    users: dict[str, User] = {}
    for line in files.get("etc/passwd", "").splitlines():
        fields = line.split(":")
        if len(fields) != 4 or fields[2] not in ("admin", "operator", "viewer"):
            raise _BadBackup("malformed user line")
        sgroups = {g for g in fields[3].split(",") if g in SECONDARY_GROUPS}
        group = fields[2]
        users[fields[0]] = User(fields[1], group, sgroups)  # type: ignore[arg-type]
    if users and not any(u.group == "admin" for u in users.values()):
        raise _BadBackup("backup has no root user")
    try:
        for name, value in pairs:
            state.params.check_update(name, value)
    except ParamStoreError as exc:
        raise _BadBackup(str(exc)) from None
    for name, value in pairs:
        state.params.set(name, value)
    if users:
        state.users.clear()
        state.users.update(users)
    if "etc/snapshot.conf" in files:
        state.snapshot_path = files["etc/snapshot.conf"].strip() or _FACTORY_SNAPSHOT_PATH
    if "etc/timezone" in files and re.fullmatch(r"GMT[+-]\d{1,2}", files["etc/timezone"].strip()):
        state.timezone = files["etc/timezone"].strip()


async def backup_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """The configuration archive as ``config_file.bin``."""
    body = build_backup(state)
    response = web.Response(body=body, content_type="application/octet-stream")
    response.headers["Content-Disposition"] = "attachment; filename=config_file.bin"
    state.log(f"backup.cgi: {current_user(request)} downloaded a backup")
    return response


async def restore_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """Apply a backup uploaded as RFC 1867 multipart."""
    received = await _receive_file(request, state, "restore.cgi", keep=_MAX_BACKUP)
    if isinstance(received, web.Response):
        return received
    _, data = received
    try:
        _apply_backup(state, _read_backup(data or b""))
    except _BadBackup as exc:
        return text_response(f"400 Bad Request: {exc}\r\n", status=400)
    system_records(state).restores += 1
    state.log(f"restore.cgi: {current_user(request)} restored a backup")
    state.changed()
    return _ok()


# -- 5.1.10 firmware upgrade ------------------------------------------------------------------


async def beforeupgrade_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """Stop the streaming services and wait for the firmware."""
    state.firmware.upgrading = True
    state.log(f"beforeupgrade.cgi: {current_user(request)} prepared a firmware upgrade")
    state.changed()
    return _ok()


async def firmwareupgrade_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """Receive a firmware image named by ``filename``; the bytes are hashed and discarded."""
    filename = _query(request).get("filename")
    if filename is not None and filename not in _ALL_FIRMWARE:
        return text_response(f"400 Bad Request: unknown filename '{filename}'\r\n", status=400)
    received = await _receive_file(request, state, "firmwareupgrade.cgi", keep=None)
    if isinstance(received, web.Response):
        return received
    record, _ = received
    if record.size == 0:
        return _failed("empty firmware file")
    state.firmware.upgrading = False
    state.changed()
    return _ok()


# -- 5.1.11 restart ------------------------------------------------------------------------------


async def restart_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """Answer, then stop answering for ``restart_downtime`` seconds and come back.

    While "rebooting" every HTTP request is dropped without an answer (the same way
    ``Faults.drop_connection`` does it); the answer to this request is already on its way.
    """
    records = system_records(state)
    faults = request.app[FAULTS_KEY]
    loop = asyncio.get_running_loop()
    state.restart.count += 1
    state.restart.pending = True
    state.restart.back_at = time.time() + records.restart_downtime
    state.log(f"restart.cgi: {current_user(request)} restarted the server")
    state.changed()
    dropping_already = faults.drop_connection
    faults.drop_connection = True

    def come_back() -> None:
        if not dropping_already:
            faults.drop_connection = False
        state.restart.pending = False
        state.restart.back_at = None
        state.firmware.upgrading = False
        state.boot_time = time.time()
        state.log("system started")
        state.changed()

    # A timer, not a task: nothing is left pending if the simulator stops while "down".
    loop.call_later(records.restart_downtime, come_back)
    return _ok()


# -- 5.1.12 / 5.1.13 reports ----------------------------------------------------------------------


async def serverreport_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """Product information, every parameter and the system log, as text."""
    now = datetime.fromtimestamp(state.now(), UTC)
    lines = [
        f"Server report for {state.model} (serial {state.serial})",
        f"Firmware version: {state.firmware.version} ({state.firmware.build_date})",
        f"Date: {format_device_date(now.replace(tzinfo=None))} UTC",
        f"Uptime: {int(time.time() - state.boot_time)} s",
        f"Restarts: {state.restart.count}",
        "",
        "----- Parameters -----",
        *(f"root.{n}={v}" for n, v in state.params.items()),
        "",
        "----- System log -----",
        *state.syslog,
    ]
    return text_response("\r\n".join(lines) + "\r\n")


async def systemlog_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """The system log lines."""
    return text_response("".join(f"{line}\r\n" for line in state.syslog))


# -- 5.1.14 date and time ------------------------------------------------------------------------

_DATE_LIMITS: Final = {
    "year": (2007, 2099),
    "month": (1, 12),
    "day": (1, 31),
    "hour": (0, 23),
    "minute": (0, 59),
    "second": (0, 59),
}


def _tz_hours(timezone: str) -> int | None:
    m = re.fullmatch(r"GMT(?:([+-])(\d{1,2}))?", timezone)
    if m is None:
        return None
    hours = 0 if m[1] is None else int(m[2]) * (1 if m[1] == "+" else -1)
    return hours if -12 <= hours <= 13 else None


def device_local_time(state: CameraState) -> datetime:
    """The simulated camera's wall clock in its own time zone (naive)."""
    hours = _tz_hours(state.timezone) or 0
    return datetime.fromtimestamp(state.now(), UTC).replace(tzinfo=None) + timedelta(hours=hours)


async def date_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """``action=get`` → ``Apr 03, 2003 15:16:04``; ``action=set`` with the spec's ranges."""
    pairs = dict(await request_pairs(request))
    action = pairs.get("action")
    if action == "get":
        return text_response(format_device_date(device_local_time(state)) + "\r\n")
    if action != "set":
        return _failed(f"invalid action '{action}'" if action else "no action given")
    values: dict[str, int] = {}
    for name, (low, high) in _DATE_LIMITS.items():
        if name in pairs:
            raw = pairs[name]
            if not raw.isdigit() or not low <= int(raw) <= high:
                return _failed(f"{name}={raw[:10]} is outside {low}-{high}")
            values[name] = int(raw)
    hours: int | None = None
    if "timezone" in pairs:
        hours = _tz_hours(pairs["timezone"])
        if hours is None:
            return _failed(f"timezone={pairs['timezone'][:12]} is outside GMT-12...GMT+13")
    if not values and hours is None:
        return _failed("nothing to set")
    if hours is not None:
        state.timezone = f"GMT{hours:+d}"
    local = device_local_time(state)
    fields = {
        "year": local.year,
        "month": local.month,
        "day": local.day,
        "hour": local.hour,
        "minute": local.minute,
        "second": local.second,
    }
    fields.update(values)
    if fields["day"] > calendar.monthrange(fields["year"], fields["month"])[1]:
        return _failed(f"{fields['year']}-{fields['month']:02d} has no day {fields['day']}")
    wanted = datetime(
        fields["year"],
        fields["month"],
        fields["day"],
        fields["hour"],
        fields["minute"],
        fields["second"],
    )
    utc_wanted = wanted - timedelta(hours=_tz_hours(state.timezone) or 0)
    state.clock_offset = utc_wanted.replace(tzinfo=UTC).timestamp() - time.time()
    state.log(f"date.cgi: {current_user(request)} set the date and time")
    state.changed()
    return _ok()


# -- 5.1.15 802.1x certificates ---------------------------------------------------------------


async def upload_certificate_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """Store an 802.1x file under its ``type``."""
    kind = _query(request).get("type")
    if kind not in CERTIFICATE_TYPES:
        return text_response(f"400 Bad Request: unknown type '{kind}'\r\n", status=400)
    received = await _receive_file(request, state, "upload_certificate.cgi", keep=_MAX_CERTIFICATE)
    if isinstance(received, web.Response):
        return received
    _, data = received
    system_records(state).certificates[kind] = data or b""
    state.changed()
    return _ok()


def register(router: CgiRouter) -> None:
    """Add the system CGIs (administrator access)."""
    router.add("GET", _ADMIN + "snapshot.cgi", snapshot_cgi, "admin")
    router.add("GET", _ADMIN + "factorydefault.cgi", factorydefault_cgi, "admin")
    router.add("GET", _ADMIN + "hardfactorydefault.cgi", hardfactorydefault_cgi, "admin")
    router.add("GET", _ADMIN + "backup.cgi", backup_cgi, "admin")
    router.add("POST", _ADMIN + "restore.cgi", restore_cgi, "admin")
    router.add("GET", _ADMIN + "beforeupgrade.cgi", beforeupgrade_cgi, "admin")
    router.add("POST", _ADMIN + "firmwareupgrade.cgi", firmwareupgrade_cgi, "admin")
    router.add("GET", _ADMIN + "restart.cgi", restart_cgi, "admin")
    router.add("GET", _ADMIN + "serverreport.cgi", serverreport_cgi, "admin")
    router.add("GET", _ADMIN + "systemlog.cgi", systemlog_cgi, "admin")
    router.add(("GET", "POST"), _ADMIN + "date.cgi", date_cgi, "admin")
    router.add("POST", _ADMIN + "upload_certificate.cgi", upload_certificate_cgi, "admin")
