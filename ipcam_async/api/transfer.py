"""Streaming downloads for backup.cgi and storagemanagement.cgi: chunks to a file or an iterator.

A :class:`Download` wraps one open HTTP response. Its bytes are never collected in memory:
iterate it, or :meth:`Download.save` it to disk through a temporary file that is renamed into
place only once the whole body has arrived (a broken transfer leaves no half-written file).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO

import aiohttp

from ..errors import ConnectError, ProtocolError, StreamTimeout
from .system_models import local_filename

__all__ = ["DEFAULT_CHUNK", "Download", "DownloadProgress", "content_disposition_filename"]

log = logging.getLogger(__name__)

#: Chunk size used when reading a download.
DEFAULT_CHUNK = 256 * 1024

#: ``progress(received, total)``; ``total`` is None when the device sent no Content-Length.
DownloadProgress = Callable[[int, int | None], None]

_DISPOSITION_NAME = re.compile(
    r"""filename\*?\s*=\s*(?:"(?P<q>[^"]*)"|(?:[\w-]+'[\w-]*')?(?P<t>[^;\s]+))""", re.IGNORECASE
)


def content_disposition_filename(value: str | None) -> str | None:
    """The ``filename`` of a ``Content-Disposition`` header made safe for local use, or None.

    ``attachment; filename=config_file.bin`` → ``config_file.bin``. Path components the device
    may have put in are dropped (see :func:`~ipcam_async.api.system_models.local_filename`).
    """
    if not value:
        return None
    m = _DISPOSITION_NAME.search(value)
    if m is None:
        return None
    raw = m["q"] if m["q"] is not None else m["t"]
    try:
        return local_filename(raw)
    except ProtocolError:
        return None


def _create(path: Path, mode: int) -> IO[bytes]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    return os.fdopen(fd, "wb")


def _write_all(fh: IO[bytes], chunks: list[bytes]) -> None:
    for chunk in chunks:
        fh.write(chunk)


class Download:
    """One streamed download from the device (obtained from an API's ``open_*`` method).

    ``filename`` is the safe local name the device proposed (Content-Disposition) or None;
    ``size`` is the announced Content-Length or None. Iterate with ``async for chunk in dl``
    or call :meth:`save`. A download can be consumed once. ``max_size`` (bytes, ``None`` for no
    limit) bounds what is accepted, whatever the device announces: more raises
    :class:`ProtocolError`.
    """

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        max_size: int | None = None,
    ):
        self._response = response
        self._chunk_size = chunk_size
        self.max_size = max_size
        self._consumed = False
        self.received = 0
        """Bytes read so far."""
        self.filename = content_disposition_filename(response.headers.get("Content-Disposition"))
        self.size: int | None = response.content_length
        self.content_type: str = response.content_type
        if max_size is not None and self.size is not None and self.size > max_size:
            raise ProtocolError(f"download of {self.size} bytes exceeds the limit of {max_size}")

    def __repr__(self) -> str:
        return f"Download(filename={self.filename!r}, size={self.size!r}, received={self.received})"

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.iter_chunks()

    async def iter_chunks(self, progress: DownloadProgress | None = None) -> AsyncIterator[bytes]:
        """Yield the body in chunks of at most ``chunk_size`` bytes.

        Raises :class:`ProtocolError` if the body is shorter than announced,
        :class:`ConnectError` if the connection breaks, :class:`StreamTimeout` on a stall.
        """
        if self._consumed:
            raise RuntimeError("this download has already been read")
        self._consumed = True
        content = self._response.content
        while True:
            try:
                chunk = await content.read(self._chunk_size)
            except aiohttp.ClientPayloadError as exc:
                raise ProtocolError(f"download broken after {self.received} bytes: {exc}") from None
            except TimeoutError:
                # Before the connection errors: aiohttp's ServerTimeoutError is both.
                raise StreamTimeout(f"download stalled after {self.received} bytes") from None
            except (aiohttp.ClientConnectionError, ConnectionError) as exc:
                raise ConnectError(f"connection lost after {self.received} bytes: {exc}") from None
            if not chunk:
                break
            self.received += len(chunk)
            if self.size is not None and self.received > self.size:
                raise ProtocolError(f"download is longer than its Content-Length {self.size}")
            if self.max_size is not None and self.received > self.max_size:
                raise ProtocolError(f"download exceeds the limit of {self.max_size} bytes")
            if progress is not None:
                progress(self.received, self.size)
            yield chunk
        if self.size is not None and self.received != self.size:
            raise ProtocolError(f"download ended at {self.received} of {self.size} bytes")

    async def save(
        self,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = True,
        progress: DownloadProgress | None = None,
        mode: int = 0o666,
    ) -> Path:
        """Write the body to ``path`` and return it.

        The bytes go to a temporary file beside ``path`` that replaces ``path`` only when the
        whole body has arrived; on any failure the temporary file is removed. With
        ``overwrite=False`` an existing ``path`` raises :class:`FileExistsError`. ``mode`` is
        the new file's permission bits (before the umask).
        """
        target = Path(path)
        if not overwrite and await asyncio.to_thread(target.exists):
            raise FileExistsError(str(target))
        # Unique per call: two downloads to one target never write into the same file.
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        # Created without a thread hop: a cancellation can then never land between the file's
        # creation and the ``try`` that removes it.
        fh = _create(tmp, mode)
        try:
            pending: list[bytes] = []
            pending_size = 0
            async for chunk in self.iter_chunks(progress):
                pending.append(chunk)
                pending_size += len(chunk)
                # Writes go to a thread in batches: disk latency never blocks the event loop and
                # at most ~1 MiB waits in memory.
                if pending_size >= 4 * self._chunk_size:
                    await asyncio.to_thread(_write_all, fh, pending)
                    pending, pending_size = [], 0
            if pending:
                await asyncio.to_thread(_write_all, fh, pending)
            await asyncio.to_thread(fh.close)
            if not overwrite and await asyncio.to_thread(target.exists):
                raise FileExistsError(str(target))
            await asyncio.to_thread(os.replace, tmp, target)
        except BaseException:
            fh.close()
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        log.info("saved %d bytes to %s", self.received, target)
        return target
