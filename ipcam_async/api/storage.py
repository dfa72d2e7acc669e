"""Local storage management: ``storagemanagement.cgi`` format, list, remove, download (spec 5.1.5).

Downloads stream to disk or to an async iterator. A file name that comes from the device is
reduced to its last path component before it touches the local file system
(:func:`~ipcam_async.api.system_models.local_filename`), so ``../../etc/passwd`` from a hostile
device lands as ``passwd`` inside the target directory, never outside it.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..validate import check_text
from .system_models import StorageEntry, local_filename, parse_storage_list
from .transfer import DEFAULT_CHUNK, Download, DownloadProgress

if TYPE_CHECKING:
    from ..camera import Camera

__all__ = ["MAX_FILENAME_LENGTH", "STORAGE_PATH", "StorageApi", "build_storage"]

log = logging.getLogger(__name__)

STORAGE_PATH = "/cgi-bin/admin/storagemanagement.cgi"

#: Longest device file name accepted in a request.
MAX_FILENAME_LENGTH = 255

# A listing of a big card can be long; still bounded.
_MAX_LIST = 8 << 20


def build_storage(action: str, filename: str | None = None) -> list[tuple[str, str]]:
    """Validated ``storagemanagement.cgi`` parameters (``action`` then ``filename``)."""
    params = [("action", action)]
    if filename is not None:
        params.append(("filename", check_text("filename", filename, max_len=MAX_FILENAME_LENGTH)))
    return params


class StorageApi:
    """``cam.storage``: the camera's local storage (SD card / NAS); needs root access."""

    def __init__(self, camera: Camera) -> None:
        self._camera = camera

    async def format(self) -> None:
        """Format the local storage device (every recording is lost)."""
        await self._camera.transport.request("GET", STORAGE_PATH, params=build_storage("format"))
        log.info("local storage formatted")

    async def list(self) -> tuple[StorageEntry, ...]:
        """The files on the local storage."""
        response = await self._camera.transport.request(
            "GET", STORAGE_PATH, params=build_storage("list"), max_body=_MAX_LIST
        )
        return parse_storage_list(response.text)

    async def remove(self, name: str | StorageEntry) -> None:
        """Remove file ``name`` from the local storage."""
        filename = name.name if isinstance(name, StorageEntry) else name
        await self._camera.transport.request(
            "GET", STORAGE_PATH, params=build_storage("remove", filename)
        )

    @asynccontextmanager
    async def open(
        self,
        name: str | StorageEntry,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        max_size: int | None = None,
    ) -> AsyncIterator[Download]:
        """Open file ``name`` for streaming: ``async with cam.storage.open(n) as dl: ...``.

        ``max_size`` bounds the bytes accepted (recordings can be large: no limit by default,
        beyond the announced Content-Length).
        """
        filename = name.name if isinstance(name, StorageEntry) else name
        params = build_storage("download", filename)
        async with self._camera.transport.stream("GET", STORAGE_PATH, params=params) as response:
            yield Download(response, chunk_size=chunk_size, max_size=max_size)

    async def iter_download(
        self, name: str | StorageEntry, *, chunk_size: int = DEFAULT_CHUNK
    ) -> AsyncIterator[bytes]:
        """Yield file ``name`` in chunks."""
        async with self.open(name, chunk_size=chunk_size) as download:
            async for chunk in download:
                yield chunk

    async def download(
        self,
        name: str | StorageEntry,
        target: str | os.PathLike[str] = ".",
        *,
        overwrite: bool = False,
        progress: DownloadProgress | None = None,
        max_size: int | None = None,
    ) -> Path:
        """Download file ``name`` and return the local path written.

        If ``target`` is an existing directory the file is saved in it under the device's name,
        reduced to a safe last component; otherwise ``target`` is the file path. With
        ``overwrite=False`` an existing file raises :class:`FileExistsError`.
        """
        filename = name.name if isinstance(name, StorageEntry) else name
        dest = Path(target)
        if await asyncio.to_thread(dest.is_dir):
            dest = dest / local_filename(filename)
        if not overwrite and await asyncio.to_thread(dest.exists):
            raise FileExistsError(str(dest))
        async with self.open(filename, max_size=max_size) as download:
            return await download.save(dest, overwrite=overwrite, progress=progress)

    async def download_all(
        self, directory: str | os.PathLike[str], *, overwrite: bool = False
    ) -> builtins.list[Path]:
        """Download every listed file into ``directory`` (created if missing)."""
        root = Path(directory)
        await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
        written: builtins.list[Path] = []
        for entry in await self.list():
            written.append(await self.download(entry, root, overwrite=overwrite))
        return written
