"""System maintenance: snapshot path, factory defaults, backup / restore, firmware upgrade,
restart, server report, system log, date and time, 802.1x certificates (spec 5.1.4, 5.1.6-5.1.15).
"""

from __future__ import annotations

import asyncio
import calendar
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import (
    ConnectError,
    DeviceBusyError,
    InternalServerError,
    InvalidArgument,
    ProtocolError,
    StreamTimeout,
)
from ..validate import check_charset, check_choice, check_int
from .system_models import (
    CERTIFICATE_TYPES,
    FIRMWARE_FILENAMES,
    LogText,
    parse_device_date,
    parse_snapshot_path,
)
from .transfer import DEFAULT_CHUNK, Download, DownloadProgress

if TYPE_CHECKING:
    from ..camera import Camera

__all__ = [
    "ALL_FIRMWARE_FILENAMES",
    "MAX_BACKUP",
    "SNAPSHOT_PATH_CHARS",
    "SystemApi",
    "UploadProgress",
    "build_date_set",
    "check_firmware_filename",
    "check_snapshot_path",
    "format_timezone",
]

log = logging.getLogger(__name__)

UploadProgress = Callable[[int, int], None]
"""``progress(sent, total)`` called as an upload's body goes out."""

_ADMIN = "/cgi-bin/admin/"

#: Characters the spec allows in a snapshot path (5.1.4): ``A-Za-z0-9`` and ``_/\~!@#$%^&+-:``.
SNAPSHOT_PATH_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" + "_/\\~!@#$%^&+-:"
)

#: Every ``filename`` value of ``firmwareupgrade.cgi`` across the spec's product families.
ALL_FIRMWARE_FILENAMES: frozenset[str] = frozenset().union(*FIRMWARE_FILENAMES.values())

# Largest text answers accepted (server report includes all parameters and logs).
_MAX_REPORT = 16 << 20
#: Largest configuration backup accepted (real archives are a few hundred KiB).
MAX_BACKUP = 64 << 20


def check_snapshot_path(path: object) -> str:
    """Validate a snapshot path against the spec's character set (5.1.4), 1..255 characters."""
    return check_charset(
        "path", path, SNAPSHOT_PATH_CHARS, "characters A-Za-z0-9 and _/\\~!@#$%^&+-:", max_len=255
    )


def check_firmware_filename(filename: object, family: str | None = None) -> str:
    """Validate a ``firmwareupgrade.cgi`` ``filename`` (5.1.10.2), for one product ``family``
    (a key of :data:`~ipcam_async.api.system_models.FIRMWARE_FILENAMES`) or for any of them.
    """
    if family is None:
        return check_choice("filename", filename, sorted(ALL_FIRMWARE_FILENAMES))
    check_choice("family", family, FIRMWARE_FILENAMES)
    return check_choice("filename", filename, sorted(FIRMWARE_FILENAMES[family]))


_TZ_RE = re.compile(r"GMT(?:(?P<sign>[+-])(?P<hours>\d{1,2})(?::?00)?)?", re.IGNORECASE)


def format_timezone(timezone: str | int) -> str:
    """Normalise a time zone to the spec's ``GMT-12`` ... ``GMT+13`` form.

    Accepts an hour offset (``8`` → ``GMT+8``, ``-5`` → ``GMT-5``, ``0`` → ``GMT+0``) or a string
    (``"GMT+8"``, ``"gmt-05"``, ``"GMT"``).
    """
    if isinstance(timezone, str):
        m = _TZ_RE.fullmatch(timezone.strip())
        if m is None:
            raise InvalidArgument("timezone", "GMT-12 ... GMT+13", timezone)
        hours = 0 if m["sign"] is None else int(m["hours"]) * (1 if m["sign"] == "+" else -1)
    elif isinstance(timezone, int) and not isinstance(timezone, bool):
        hours = timezone
    else:
        raise InvalidArgument("timezone", "GMT-12 ... GMT+13 or an hour offset", timezone)
    if not -12 <= hours <= 13:
        raise InvalidArgument("timezone", "GMT-12 ... GMT+13", timezone)
    return f"GMT{hours:+d}"


def build_date_set(
    when: datetime | None = None,
    *,
    year: int | None = None,
    month: int | None = None,
    day: int | None = None,
    hour: int | None = None,
    minute: int | None = None,
    second: int | None = None,
    timezone: str | int | None = None,
) -> list[tuple[str, str]]:
    """Validated ``date.cgi?action=set`` parameters (5.1.14.2).

    Either ``when`` (all six fields; an aware ``when`` also gives ``timezone`` when its offset is
    a whole number of hours) or any subset of the fields. Ranges: year 2007-2099, month 1-12,
    day 1-31 (and a real day of that month when year and month are known), hour 0-23, minute and
    second 0-59, timezone GMT-12..GMT+13.
    """
    fields = {
        "year": year,
        "month": month,
        "day": day,
        "hour": hour,
        "minute": minute,
        "second": second,
    }
    if when is not None:
        if any(v is not None for v in fields.values()):
            raise InvalidArgument("when", "either a datetime or separate fields, not both", when)
        fields = {
            "year": when.year,
            "month": when.month,
            "day": when.day,
            "hour": when.hour,
            "minute": when.minute,
            "second": when.second,
        }
        offset = when.utcoffset()
        if timezone is None and offset is not None:
            hours, rest = divmod(offset, timedelta(hours=1))
            if rest == timedelta(0) and -12 <= hours <= 13:
                timezone = hours
    limits = {
        "year": (2007, 2099),
        "month": (1, 12),
        "day": (1, 31),
        "hour": (0, 23),
        "minute": (0, 59),
        "second": (0, 59),
    }
    params: list[tuple[str, str]] = [("action", "set")]
    for name, value in fields.items():
        if value is not None:
            low, high = limits[name]
            params.append((name, str(check_int(name, value, low, high))))
    y, mo, d = fields["year"], fields["month"], fields["day"]
    if y is not None and mo is not None and d is not None:
        last = calendar.monthrange(y, mo)[1]
        if d > last:
            raise InvalidArgument("day", f"1..{last} for {y}-{mo:02d}", d)
    if timezone is not None:
        params.append(("timezone", format_timezone(timezone)))
    if len(params) == 1:
        raise InvalidArgument("date", "at least one field or a timezone to set", None)
    return params


def _expect_ok(text: str, what: str) -> None:
    if text.strip() != "OK":
        raise ProtocolError(f"{what}: expected OK, got {text.strip()[:80]!r}")


class SystemApi:
    """``cam.system``: maintenance CGIs of spec 5.1.4 and 5.1.6 to 5.1.15 (administrator access)."""

    def __init__(self, camera: Camera) -> None:
        self._camera = camera

    async def _get(
        self, cgi: str, params: list[tuple[str, str]] | None = None, *, max_body: int = 1 << 20
    ) -> str:
        response = await self._camera.transport.request(
            "GET", _ADMIN + cgi, params=params or (), max_body=max_body
        )
        return response.text

    # -- 5.1.4 snapshot path ------------------------------------------------------------------

    async def snapshot_path(self) -> str:
        """The Admin snapshot path (``snapshot.cgi?action=get``)."""
        return parse_snapshot_path(await self._get("snapshot.cgi", [("action", "get")]))

    async def set_snapshot_path(self, path: str) -> None:
        """Set the Admin snapshot path, e.g. ``C:\\capture`` (sent as ``C%3A%5Ccapture``)."""
        checked = check_snapshot_path(path)
        text = await self._get("snapshot.cgi", [("action", "set"), ("path", checked)])
        _expect_ok(text, "snapshot.cgi")

    # -- 5.1.6 / 5.1.7 factory defaults -------------------------------------------------------

    async def factory_default(self) -> None:
        """Reset every parameter except the network address settings and the HTTP port."""
        await self._get("factorydefault.cgi")
        log.info("factory default requested")

    async def hard_factory_default(self) -> None:
        """Reset every parameter, network settings included (the camera may change address)."""
        await self._get("hardfactorydefault.cgi")
        log.info("hard factory default requested")

    # -- 5.1.8 / 5.1.9 backup and restore -----------------------------------------------------

    @asynccontextmanager
    async def open_backup(self, *, chunk_size: int = DEFAULT_CHUNK) -> AsyncIterator[Download]:
        """Open ``backup.cgi`` as a :class:`~ipcam_async.api.transfer.Download`.

        ``async with cam.system.open_backup() as dl: async for chunk in dl: ...``
        """
        async with self._camera.transport.stream("GET", _ADMIN + "backup.cgi") as response:
            yield Download(response, chunk_size=chunk_size, max_size=MAX_BACKUP)

    async def backup(
        self,
        path: str | os.PathLike[str],
        *,
        progress: DownloadProgress | None = None,
        overwrite: bool | None = None,
    ) -> Path:
        """Download the configuration backup into ``path``; a directory gets the device's file name.

        Streams to disk; returns the file written. The archive holds the camera's accounts, so
        the file is readable by its owner only (mode 0600).  A file ``path`` is replaced; in a
        directory the name comes from the device, so an existing file of that name raises
        :class:`FileExistsError` unless ``overwrite=True`` (a device never picks which of the
        caller's files to replace).
        """
        target = Path(path)
        async with self.open_backup() as download:
            replace = True if overwrite is None else overwrite
            if await asyncio.to_thread(target.is_dir):
                target = target / (download.filename or "config_file.bin")
                replace = bool(overwrite)
            return await download.save(target, progress=progress, mode=0o600, overwrite=replace)

    async def iter_backup(self, *, chunk_size: int = DEFAULT_CHUNK) -> AsyncIterator[bytes]:
        """Yield the configuration backup in chunks."""
        async with self.open_backup(chunk_size=chunk_size) as download:
            async for chunk in download:
                yield chunk

    async def restore(
        self,
        file: str | os.PathLike[str] | bytes,
        *,
        progress: UploadProgress | None = None,
    ) -> None:
        """Upload a backup made by :meth:`backup` (``restore.cgi``, RFC 1867, streamed)."""
        await self._camera.transport.upload(
            _ADMIN + "restore.cgi",
            file=file,
            field_name="config_file.bin",
            filename="config_file.bin",
            progress=progress,
        )
        log.info("configuration restored")

    # -- 5.1.10 firmware upgrade --------------------------------------------------------------

    async def before_upgrade(self) -> None:
        """Ask the camera to stop its streaming services before an upgrade (beforeupgrade.cgi)."""
        await self._get("beforeupgrade.cgi")

    async def upgrade(
        self,
        file: str | os.PathLike[str],
        *,
        filename: str | None = None,
        family: str | None = None,
        prepare: bool = True,
        progress: UploadProgress | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - bounds the transport's upload
    ) -> None:
        """Upload firmware ``file`` (``firmwareupgrade.cgi``), streamed from disk.

        ``filename`` is the spec's image name (``uImage``, ``userland.img``, ``var``,
        ``uImage_userland``, ``main.bin``...); by default the local file's name, which must be one
        of them. ``family`` restricts the names to one product family. ``prepare`` first calls
        :meth:`before_upgrade`. ``progress(sent, total)`` follows the upload. ``timeout`` bounds
        the whole upload (default: none beyond the transport's stall timeout).
        """
        local = Path(file)
        name = check_firmware_filename(filename if filename is not None else local.name, family)
        if not await asyncio.to_thread(local.is_file):
            raise InvalidArgument("file", "an existing regular file", str(local))
        size = await asyncio.to_thread(lambda: local.stat().st_size)
        if prepare:
            await self.before_upgrade()
        log.info("uploading firmware %s (%d bytes) as %s", local.name, size, name)
        await self._camera.transport.upload(
            _ADMIN + "firmwareupgrade.cgi",
            params=[("filename", name)],
            file=local,
            field_name=name,
            filename=name,
            progress=progress,
            timeout=timeout,
        )

    # -- 5.1.11 restart -----------------------------------------------------------------------

    async def restart(
        self,
        *,
        wait: bool = False,
        timeout: float = 180.0,  # noqa: ASYNC109 - bounds the wait, not one call
    ) -> float | None:
        """Restart the camera; with ``wait``, return once it answers again (seconds taken)."""
        started = time.monotonic()
        await self._get("restart.cgi")
        log.info("restart requested")
        if not wait:
            return None
        await self._wait_down(min(timeout, 30.0))
        remaining = timeout - (time.monotonic() - started)
        await self.wait_until_up(timeout=max(remaining, 0.1))
        return time.monotonic() - started

    async def _probe(self, limit: float) -> bool:
        """True if the camera answers an authenticated request within ``limit`` seconds."""
        try:
            await self._camera.transport.request(
                "GET", _ADMIN + "date.cgi", params=[("action", "get")], timeout=limit
            )
        except (ConnectError, StreamTimeout, DeviceBusyError, InternalServerError):
            return False
        return True

    async def _wait_down(self, limit: float, interval: float = 0.1) -> None:
        # A restart is not instant: until the camera stops answering, "up" means nothing.
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if not await self._probe(1.0):
                return
            await asyncio.sleep(interval)
        log.info("camera kept answering for %.1f s after restart.cgi", limit)

    async def wait_until_up(
        self,
        *,
        timeout: float = 180.0,  # noqa: ASYNC109 - bounds the polling loop
        interval: float = 0.5,
    ) -> float:
        """Poll until the camera answers again; return the seconds waited.

        Connection failures, timeouts, 500 and 503 count as "still down". Raises
        :class:`~ipcam_async.errors.StreamTimeout` after ``timeout`` seconds.
        """
        started = time.monotonic()
        deadline = started + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StreamTimeout(f"camera not back after {timeout:.0f} s")
            if await self._probe(min(max(interval * 4, 2.0), remaining)):
                return time.monotonic() - started
            await asyncio.sleep(min(interval, max(deadline - time.monotonic(), 0)))

    # -- 5.1.12 / 5.1.13 reports --------------------------------------------------------------

    async def server_report(self) -> LogText:
        """The server report (product information, parameters, logs)."""
        return LogText(await self._get("serverreport.cgi", max_body=_MAX_REPORT))

    async def system_log(self) -> LogText:
        """The system log."""
        return LogText(await self._get("systemlog.cgi", max_body=_MAX_REPORT))

    # -- 5.1.14 date and time -----------------------------------------------------------------

    async def date(self) -> datetime:
        """The camera's current date and time (naive, in the camera's time zone)."""
        return parse_device_date(await self._get("date.cgi", [("action", "get")]))

    async def set_date(
        self,
        when: datetime | None = None,
        *,
        year: int | None = None,
        month: int | None = None,
        day: int | None = None,
        hour: int | None = None,
        minute: int | None = None,
        second: int | None = None,
        timezone: str | int | None = None,
    ) -> None:
        """Set the date, the time and/or the time zone (see :func:`build_date_set` for ranges).

        A ``Request failed: ...`` answer raises :class:`~ipcam_async.errors.RequestFailed`.
        """
        params = build_date_set(
            when,
            year=year,
            month=month,
            day=day,
            hour=hour,
            minute=minute,
            second=second,
            timezone=timezone,
        )
        _expect_ok(await self._get("date.cgi", params), "date.cgi")

    # -- 5.1.15 802.1x certificates -----------------------------------------------------------

    async def upload_certificate(
        self,
        kind: str,
        file: str | os.PathLike[str] | bytes,
        *,
        progress: UploadProgress | None = None,
    ) -> None:
        """Upload an 802.1x file; ``kind`` is ``ca_certificate``, ``client_certificate`` or
        ``private_key``.
        """
        checked = check_choice("kind", kind, CERTIFICATE_TYPES)
        await self._camera.transport.upload(
            _ADMIN + "upload_certificate.cgi",
            params=[("type", checked)],
            file=file,
            field_name=checked,
            filename=checked,
            progress=progress,
        )
