"""MJPEG over HTTP for the simulated camera (spec 5.5.2: ``http://<servername>:8008``).

A small aiohttp server on its own port answers any ``GET`` path with a
``multipart/x-mixed-replace`` stream of ``image/jpeg`` parts (each with ``Content-Length``), paced
at ``state.mjpeg_fps`` frames per second. Frames come from the packaged clip
``sim/media/jpeg_360p.mjpeg`` (concatenated JPEG files); when it is missing, frames are drawn with
Pillow at start-up. Access needs view rights, checked by the camera's own authenticator (Basic
or Digest).

The stream is live, not a queue: a client that reads slowly gets the frame that is current when
it is ready again; frames it was too slow for are skipped (counted in
:attr:`MjpegServer.frames_skipped`).
"""

from __future__ import annotations

import asyncio
import io
import logging
import socket
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from aiohttp import web

from ..errors import ProtocolError
from .http.auth import Authenticator

if TYPE_CHECKING:
    from . import SimulatedCamera

__all__ = [
    "DEFAULT_FPS",
    "MJPEG_BOUNDARY",
    "MjpegServer",
    "generate_frames",
    "load_frames",
    "mjpeg_server",
    "split_jpeg_frames",
    "start_mjpeg_server",
]

log = logging.getLogger(__name__)

MJPEG_BOUNDARY: Final = "ipcam-mjpeg"
DEFAULT_FPS: Final = 10.0
MEDIA_CLIP: Final = Path(__file__).parent / "media" / "jpeg_360p.mjpeg"
_MAX_FPS: Final = 1000.0
_FRAMES: list[bytes] | None = None  # loaded once per process
_SERVERS: weakref.WeakKeyDictionary[SimulatedCamera, MjpegServer] = weakref.WeakKeyDictionary()

_SOI = b"\xff\xd8"
_EOI = b"\xff\xd9"
# Markers without a length field: TEM, RST0..7, SOI, EOI.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8), 0xD8, 0xD9})


def _jpeg_end(data: bytes, start: int) -> int:
    """Offset just after the EOI of the JPEG file starting at ``start`` (walks the markers)."""
    n = len(data)
    if data[start : start + 2] != _SOI:
        raise ProtocolError(f"no JPEG SOI at offset {start}")
    pos = start + 2
    while pos < n:
        if data[pos] != 0xFF:
            raise ProtocolError(f"JPEG marker expected at offset {pos}")
        while pos < n and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            break
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            return pos
        if marker in _STANDALONE:
            continue
        if pos + 2 > n:
            break
        length = int.from_bytes(data[pos : pos + 2], "big")
        pos += length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= n:
                    raise ProtocolError("JPEG scan data without an end")
                nxt = data[pos + 1]
                if nxt == 0x00 or 0xD0 <= nxt <= 0xD7:
                    pos += 2
                    continue
                break
    raise ProtocolError("JPEG without EOI")


def split_jpeg_frames(data: bytes) -> list[bytes]:
    """Split concatenated JPEG files into frames (markers are walked, not searched for)."""
    frames: list[bytes] = []
    pos = 0
    while pos < len(data):
        if data[pos : pos + 2] != _SOI:
            nxt = data.find(_SOI, pos)
            if nxt < 0:
                break
            pos = nxt
        end = _jpeg_end(data, pos)
        frames.append(data[pos:end])
        pos = end
    return frames


def generate_frames(
    count: int = 30, *, width: int = 640, height: int = 360, quality: int = 80
) -> list[bytes]:
    """Draw ``count`` JPEG frames with Pillow: a moving bar and the frame number."""
    from PIL import Image, ImageDraw

    frames: list[bytes] = []
    for i in range(count):
        image = Image.new("RGB", (width, height), (20, 40, 60))
        draw = ImageDraw.Draw(image)
        x = (i * width // max(1, count)) % width
        draw.rectangle((x, 0, x + width // 10, height), fill=(220, 180, 40))
        draw.text((10, 10), f"ipcam_async sim frame {i}", fill=(255, 255, 255))
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=quality)
        frames.append(out.getvalue())
    return frames


def load_frames(path: Path | None = None) -> list[bytes]:
    """The packaged frames (or those of ``path``); generated with Pillow if the clip is absent."""
    clip = MEDIA_CLIP if path is None else path
    if clip.is_file():
        frames = split_jpeg_frames(clip.read_bytes())
        if frames:
            return frames
        log.warning("no JPEG frame in %s; drawing frames instead", clip)
    return generate_frames()


class MjpegServer:
    """An MJPEG-over-HTTP server (async ``close()``; see :func:`start_mjpeg_server`)."""

    def __init__(
        self,
        frames: Sequence[bytes],
        *,
        fps: float = DEFAULT_FPS,
        authenticator: Authenticator | None = None,
        boundary: str = MJPEG_BOUNDARY,
    ) -> None:
        if not frames:
            raise ValueError("at least one frame is needed")
        if not 0 < fps <= _MAX_FPS:
            raise ValueError(f"fps must be in (0, {_MAX_FPS:g}]")
        self.frames = list(frames)
        self.fps = fps
        self.boundary = boundary
        self._auth = authenticator
        self.clients = 0
        """Streams being served now."""
        self.frames_sent = 0
        self.frames_skipped = 0
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._heads = [
            (
                f"--{boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(f)}\r\n\r\n"
            ).encode("ascii")
            for f in self.frames
        ]

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Bind and serve; return the bound port."""
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await runner.setup()
        try:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.create_server((host, port), family=family, backlog=128)
            site = web.SockSite(runner, sock)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = sock.getsockname()[1]
        return self.port

    async def close(self) -> None:
        """Stop serving; open streams are closed."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self._auth is not None:
            verdict = self._auth.authorize(request, "view")
            if isinstance(verdict, web.Response):
                return verdict
        response = web.StreamResponse(
            headers={
                "Content-Type": f"multipart/x-mixed-replace;boundary={self.boundary}",
                "Cache-Control": "no-cache",
            }
        )
        await response.prepare(request)
        self.clients += 1
        loop = asyncio.get_running_loop()
        period = 1.0 / self.fps
        start = loop.time()
        tick = 0
        try:
            while True:
                index = tick % len(self.frames)
                await response.write(self._heads[index] + self.frames[index] + b"\r\n")
                self.frames_sent += 1
                # Live pacing: after a slow write, jump to the frame that is due now.
                due = int((loop.time() - start) / period) + 1
                if due > tick + 1:
                    self.frames_skipped += due - tick - 1
                tick = max(tick + 1, due)
                await asyncio.sleep(max(0.0, start + tick * period - loop.time()))
        except (ConnectionError, RuntimeError):
            pass
        finally:
            self.clients -= 1
        return response


async def start_mjpeg_server(sim: SimulatedCamera) -> MjpegServer:
    """Service starter used by :class:`~ipcam_async.sim.SimulatedCamera` (see its docs)."""
    global _FRAMES
    if _FRAMES is None:
        _FRAMES = await asyncio.to_thread(load_frames)
    fps = float(getattr(sim.state, "mjpeg_fps", DEFAULT_FPS))
    server = MjpegServer(_FRAMES, fps=fps, authenticator=sim.authenticator)
    sim.mjpeg_port = await server.start(sim.host, sim.mjpeg_port)
    _SERVERS[sim] = server
    return server


def mjpeg_server(sim: SimulatedCamera) -> MjpegServer | None:
    """The MJPEG server started for ``sim`` (for its counters), if any."""
    return _SERVERS.get(sim)
