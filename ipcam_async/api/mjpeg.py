"""MJPEG video over HTTP (spec 5.5.2: ``http://<servername>:8008``).

``async for frame in cam.mjpeg.frames():`` yields :class:`MjpegFrame` objects (JPEG bytes,
arrival time, sequence number). A background reader drains the socket all the time and keeps
only the newest ``queue_size`` frames (1 by default): a consumer slower than the camera gets the
most recent picture, never a growing backlog; every frame it missed is counted in
:attr:`MjpegStream.dropped` and shows as a gap in :attr:`MjpegFrame.sequence`.

The stream reconnects like the event monitor (see :mod:`ipcam_async.api.reconnect`). The reader
task keeps its failure and hands it to the consumer, so it never ends with an unretrieved
exception; closing the iterator (``async with``, ``break``, cancellation) cancels and awaits it.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import AsyncGenerator, Callable
from types import TracebackType
from typing import TYPE_CHECKING

import attrs

from ..errors import IpCamError, ProtocolError
from ..http.multipart import Part
from .reconnect import Disconnect, ReconnectPolicy, StreamStats, reconnecting_parts

if TYPE_CHECKING:
    from ..camera import Camera

__all__ = ["MjpegApi", "MjpegFrame", "MjpegStream"]

log = logging.getLogger(__name__)

_SOI = b"\xff\xd8"
#: Upper bound of one JPEG frame (a 4K frame at high quality is well below).
DEFAULT_MAX_FRAME = 8 << 20


@attrs.frozen(slots=True)
class MjpegFrame:
    """One JPEG picture of the stream.

    ``sequence`` counts frames received on this stream from 1 (dropped frames included, so a gap
    means the consumer skipped frames); ``received`` is the arrival time (UNIX seconds).
    """

    data: bytes = attrs.field(repr=lambda d: f"<{len(d)} bytes>")
    sequence: int
    received: float
    content_type: str = "image/jpeg"


class _Shared:
    """State shared by the consumer side and the reader task.

    The reader holds this, never the :class:`MjpegStream`, so a stream the caller dropped can be
    garbage-collected, which closes its generator and so cancels the reader.
    """

    __slots__ = ("dropped", "error", "invalid", "queue", "ready", "received", "stats")

    def __init__(self, queue_size: int) -> None:
        self.queue: collections.deque[MjpegFrame] = collections.deque(maxlen=queue_size)
        self.ready = asyncio.Event()
        self.error: BaseException | None = None
        self.stats = StreamStats()
        self.received = 0
        self.dropped = 0
        self.invalid = 0


class MjpegStream:
    """Async iterator of :class:`MjpegFrame` with counters; use it with ``async with``."""

    def __init__(
        self,
        camera: Camera,
        *,
        path: str,
        port: int,
        policy: ReconnectPolicy | None,
        on_disconnect: Callable[[Disconnect], object] | None,
        max_frame_size: int,
        queue_size: int,
    ) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be >= 1")
        self._shared = shared = _Shared(queue_size)
        parts = reconnecting_parts(
            camera.transport,
            path,
            port=port,
            policy=policy,
            stats=shared.stats,
            on_disconnect=on_disconnect,
            max_part_size=max_frame_size,
            what=f"MJPEG {camera.host}:{port}",
        )
        self._gen = _consume(shared, parts, camera.host)

    @property
    def stats(self) -> StreamStats:
        """Connection counters (connects, disconnects, bytes...)."""
        return self._shared.stats

    @property
    def received(self) -> int:
        """JPEG frames received."""
        return self._shared.received

    @property
    def dropped(self) -> int:
        """Frames replaced by a newer one before the consumer took them."""
        return self._shared.dropped

    @property
    def invalid(self) -> int:
        """Parts skipped because they were not JPEG (no SOI marker)."""
        return self._shared.invalid

    @property
    def pending(self) -> int:
        """Frames waiting for the consumer (at most ``queue_size``)."""
        return len(self._shared.queue)

    def __aiter__(self) -> MjpegStream:
        return self

    async def __anext__(self) -> MjpegFrame:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        """Close the connection and stop the reader."""
        await self._gen.aclose()

    async def __aenter__(self) -> MjpegStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


async def _consume(
    shared: _Shared, parts: AsyncGenerator[tuple[Part, float], None], host: str
) -> AsyncGenerator[MjpegFrame, None]:
    reader = asyncio.create_task(_read(shared, parts, host), name=f"mjpeg reader {host}")
    try:
        while True:
            while not shared.queue:
                if shared.error is not None:
                    raise shared.error
                shared.ready.clear()
                await shared.ready.wait()
            yield shared.queue.popleft()
    finally:
        reader.cancel()
        try:
            await reader
        except asyncio.CancelledError:
            # Propagate only when this task itself is being cancelled.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise


async def _read(
    shared: _Shared, parts: AsyncGenerator[tuple[Part, float], None], host: str
) -> None:
    queue = shared.queue
    try:
        async for part, received in parts:
            body = part.body
            if not body.startswith(_SOI):
                shared.invalid += 1
                if shared.invalid == 1:
                    log.warning("MJPEG %s: skipping parts that are not JPEG", host)
                continue
            shared.received += 1
            if len(queue) == queue.maxlen:
                shared.dropped += 1
            queue.append(MjpegFrame(body, shared.received, received, part.content_type))
            shared.ready.set()
    except IpCamError as exc:
        shared.error = exc
    except Exception as exc:  # handed to the consumer, never left in the task
        error = ProtocolError(f"MJPEG {host}: {type(exc).__name__}: {exc}")
        error.__cause__ = exc
        shared.error = error
    finally:
        await parts.aclose()
        shared.ready.set()


class MjpegApi:
    """MJPEG over HTTP on the camera's MJPEG port (8008 by default, spec 5.5.2)."""

    def __init__(self, camera: Camera) -> None:
        self._camera = camera

    def frames(
        self,
        *,
        path: str = "/",
        port: int | None = None,
        policy: ReconnectPolicy | None = None,
        on_disconnect: Callable[[Disconnect], object] | None = None,
        max_frame_size: int = DEFAULT_MAX_FRAME,
        queue_size: int = 1,
    ) -> MjpegStream:
        """Live JPEG frames from ``http://host:<port><path>`` (port: ``camera.mjpeg_port``).

        At most ``queue_size`` frames wait for the consumer; older ones are dropped and
        counted. Reconnects per ``policy``; raises the last typed error after
        ``policy.max_failures`` consecutive failures.
        """
        return MjpegStream(
            self._camera,
            path=path,
            port=self._camera.mjpeg_port if port is None else port,
            policy=policy,
            on_disconnect=on_disconnect,
            max_frame_size=max_frame_size,
            queue_size=queue_size,
        )
