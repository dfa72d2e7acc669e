"""``image.cgi`` of the simulated camera (spec 5.2.1): the current frame of the packaged clip.

The JPEG frames come from ``ipcam_async/sim/media/jpeg_360p.mjpeg`` (concatenated baseline
JPEGs, 30 fps); the snapshot is the frame the clip shows at the moment of the request, so two
snapshots taken apart differ like a live camera's.
"""

from __future__ import annotations

import functools
import time
from importlib import resources
from typing import Final

from aiohttp import web

from ..state import CameraState
from .app import CgiRouter, text_response

__all__ = ["CLIP_FPS", "IMAGE_PATH", "load_frames", "register"]

IMAGE_PATH: Final = "/cgi-bin/jpg/image.cgi"
CLIP_FPS: Final = 30
_CLIP: Final = "jpeg_360p.mjpeg"
_EOI: Final = b"\xff\xd9"


def split_jpegs(data: bytes) -> list[bytes]:
    """Cut concatenated JPEG images apart at each EOI.

    Inside entropy-coded data an ``FF`` byte is always followed by ``00`` or a restart marker,
    so ``FF D9`` only ever ends an image.
    """
    frames: list[bytes] = []
    start = 0
    while start < len(data):
        end = data.find(_EOI, start)
        if end < 0:
            break
        frames.append(data[start : end + 2])
        start = end + 2
    return [f for f in frames if f.startswith(b"\xff\xd8")]


@functools.cache
def load_frames() -> tuple[bytes, ...]:
    """The packaged JPEG frames (read once per process)."""
    media = resources.files("ipcam_async.sim").joinpath("media", _CLIP)
    return tuple(split_jpegs(media.read_bytes()))


async def image_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """One JPEG image, as the spec shows it (``image/jpeg`` with its Content-Length)."""
    try:
        frames = load_frames()
    except OSError:
        frames = ()
    if not frames:
        return text_response("500 Internal Error: no image source\r\n", status=500)
    index = int((time.time() - state.boot_time) * CLIP_FPS) % len(frames)
    return web.Response(body=frames[index], content_type="image/jpeg")


def register(router: CgiRouter) -> None:
    """Add image.cgi (view access)."""
    router.add("GET", IMAGE_PATH, image_cgi, "view")
