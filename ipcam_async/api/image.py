"""JPEG snapshots: ``image.cgi`` (spec 5.2.1)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .system_models import JpegImage, parse_jpeg

if TYPE_CHECKING:
    from ..camera import Camera

__all__ = ["IMAGE_PATH", "MAX_SNAPSHOT", "ImageApi"]

IMAGE_PATH = "/cgi-bin/jpg/image.cgi"

#: Largest snapshot accepted (a 4K JPEG at high quality stays well below this).
MAX_SNAPSHOT = 16 << 20


class ImageApi:
    """``cam.image``: still JPEG images (view access)."""

    def __init__(self, camera: Camera) -> None:
        self._camera = camera

    async def snapshot(self) -> JpegImage:
        """Fetch one JPEG image, checked for its SOI / EOI markers.

        Raises :class:`~ipcam_async.errors.ProtocolError` if the body is not one whole JPEG.
        """
        response = await self._camera.transport.request("GET", IMAGE_PATH, max_body=MAX_SNAPSHOT)
        return parse_jpeg(response.body, content_type=response.content_type or "image/jpeg")

    async def save_snapshot(self, path: str | os.PathLike[str]) -> JpegImage:
        """Fetch one JPEG image and write it to ``path``."""
        image = await self.snapshot()
        await asyncio.to_thread(Path(path).write_bytes, image.data)
        return image
