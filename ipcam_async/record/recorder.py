"""Record many cameras at once into crash-safe MP4 segments, one supervised task per camera.

.. code-block:: python

    async with Recorder("recordings", segment=60) as rec:
        rec.add(camera)                        # a Camera: its h264 stream over RTSP
        rec.add("rtsp://user:pw@10.0.0.7/h264")  # or a URL
        await rec.wait()                       # until cancelled (Ctrl-C in the CLI)

Every camera runs in its own task: connect, record, and on any failure (network, camera, disk)
wait with exponential backoff and jitter, then try again, without disturbing the others. A
reconnect always starts a new segment. Cancelling the task (or leaving the ``async with``) flushes
the last fragment and closes the file before the stream is torn down.

Event-triggered recording: give :meth:`Recorder.add` a :class:`RecordingTrigger` (or
``on_motion=True`` for a :class:`~ipcam_async.camera.Camera`, driven by its event monitor). The
frames since the last keyframe are kept in memory (the pre-roll); while the trigger is on, and for
``post_roll`` seconds after, they and the live frames go to a segment.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import importlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol

import attrs

from ..errors import InvalidArgument, RecorderError, StreamClosed
from ..reconnect import ReconnectPolicy
from ..redact import redact_url
from ..rtp.h264 import H264Parameters
from ..rtsp.pacer import check_read_interval
from .segments import SegmentedWriter, SegmentInfo, safe_name

__all__ = [
    "CameraRecording",
    "CameraStats",
    "FrameSource",
    "Recorder",
    "RecordingTrigger",
    "SourceFactory",
]

log = logging.getLogger(__name__)


class FrameSource(Protocol):
    """An open stream the recorder reads: an RTSP stream has all of this."""

    @property
    def parameters(self) -> H264Parameters | None:
        """SPS/PPS known before the first frame (from the SDP), if any."""
        ...

    def frames(self) -> AsyncIterator[Any]:
        """``VideoFrame`` / ``AudioFrame`` objects in arrival order, until the stream ends."""
        ...


SourceFactory = Callable[[], AbstractAsyncContextManager[FrameSource]]
"""Opens one connection: ``async with factory() as source: async for f in source.frames()``."""


class RecordingTrigger:
    """An on/off switch for event-triggered recording (motion, an input, your own logic).

    Set it from anywhere in the event loop's thread; the recorder reads it at every frame.
    """

    __slots__ = ("_active", "changes")

    def __init__(self, active: bool = False) -> None:
        self._active = active
        self.changes = 0

    @property
    def active(self) -> bool:
        """Whether recording is requested right now."""
        return self._active

    def set(self, active: bool = True) -> None:
        """Turn the trigger on (or off with ``active=False``)."""
        if active != self._active:
            self._active = active
            self.changes += 1

    def clear(self) -> None:
        """Turn the trigger off; the recorder keeps writing for its post-roll."""
        self.set(False)


@attrs.define(slots=True)
class CameraStats:
    """Live counters of one camera's recording."""

    name: str
    state: str = "starting"  # connecting, recording, idle (trigger off), backoff, stopped
    frames: int = 0  # video frames received
    audio_frames: int = 0  # audio frames received
    written_frames: int = 0  # video frames written to files
    bytes: int = 0  # bytes written to files
    segments: int = 0  # segments finished
    lost: int = 0  # frames that arrived flagged with a loss before them
    packets_lost: int = 0  # RTP packets the stream reports lost (all connections)
    dropped_frames: int = 0  # frames the stream dropped because we fell behind (all connections)
    reconnects: int = 0
    errors: int = 0
    last_error: str | None = None
    lag: float | None = None  # seconds between capture (RTCP wall clock) and writing
    current_file: Path | None = None
    connected_since: float | None = None  # UNIX time


class CameraRecording:
    """The handle :meth:`Recorder.add` returns: one camera's task, stats and trigger."""

    def __init__(
        self,
        recorder: Recorder,
        name: str,
        factory: SourceFactory,
        *,
        segment: float,
        audio: bool,
        trigger: RecordingTrigger | None,
        post_roll: float,
        motion: Callable[[RecordingTrigger], Any] | None,
    ) -> None:
        self.name = name
        self.stats = CameraStats(name=name)
        self.trigger = trigger
        self.post_roll = post_roll
        self._recorder = recorder
        self._factory = factory
        self._motion = motion
        self.writer = SegmentedWriter(
            recorder.out_dir / name,
            name,
            segment=segment,
            max_bytes=recorder.max_bytes,
            fragment_duration=recorder.fragment_duration,
            audio=audio,
            fsync=recorder.fsync,
            on_segment=self._segment_done,
            defer_io=recorder._io is not None,
        )
        self.audio = audio
        self._preroll: collections.deque[Any] = collections.deque()
        self._preroll_bytes = 0
        self._post_roll_until = 0
        self._media_now = 0
        self.preroll_overflows = 0
        self.task: asyncio.Task[None] | None = None
        self._source: Any = None
        # Stream counters restart with each connection: totals of the earlier ones.
        self._base_packets_lost = 0
        self._base_dropped = 0

    def __repr__(self) -> str:
        return f"<CameraRecording {self.name} {self.stats.state}>"

    def _segment_done(self, info: SegmentInfo) -> None:
        self.stats.segments += 1
        self._recorder._segment_done(info)

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(
            self._run(), name=f"ipcam-record-{self.name}"
        )

    async def stop(self) -> None:
        """Stop this camera: flush and close its segment, tear the stream down."""
        task = self.task
        if task is None or task.done():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        motion_task = None
        if self._motion is not None and self.trigger is not None:
            motion_task = asyncio.get_running_loop().create_task(
                self._motion(self.trigger), name=f"ipcam-record-motion-{self.name}"
            )
        try:
            await self._supervise()
        finally:
            if motion_task is not None:
                motion_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await motion_task
            self.stats.state = "stopped"
            self.stats.current_file = None

    async def _supervise(self) -> None:
        rec = self._recorder
        failures = 0
        while True:
            self.stats.state = "connecting"
            got_frames = False
            try:
                async with self._factory() as source:
                    self.stats.connected_since = time.time()
                    if isinstance(source.parameters, H264Parameters):
                        self.writer.parameters = source.parameters
                    self.writer.audio = self.audio and _has_pcmu(source)
                    self._source = source
                    self.stats.state = "recording" if self.trigger is None else "idle"
                    # Each exit flushes the segment before the (possibly slow) stream teardown.
                    try:
                        io = rec._io
                        async for frame in source.frames():
                            got_frames = True
                            self._on_frame(frame)
                            if io is not None and self.writer.has_pending_io:
                                await self._run_io(io)
                    except asyncio.CancelledError:
                        self._finish("stop")
                        raise
                    except RecorderError:
                        raise
                    except BaseException:
                        self._finish("disconnect")
                        raise
                    self._finish("disconnect")
                    raise StreamClosed("the stream ended")
            except asyncio.CancelledError:
                self._finish("stop")
                raise
            except RecorderError as exc:
                self._error(exc, disk=True)
            except Exception as exc:  # any failure of one camera stays with that camera
                self._error(exc, disk=False)
            self._source = None
            self._base_packets_lost = self.stats.packets_lost
            self._base_dropped = self.stats.dropped_frames
            self.stats.connected_since = None
            failures = 1 if got_frames else failures + 1
            # Jitter: cameras that failed together spread out their retries.
            delay = rec.backoff.delay(failures)
            self.stats.state = "backoff"
            await asyncio.sleep(delay)
            self.stats.reconnects += 1

    def _error(self, exc: BaseException, *, disk: bool) -> None:
        self.stats.errors += 1
        self.stats.last_error = f"{type(exc).__name__}: {exc}"
        if disk:
            self.writer.abandon()
            log.error("%s: recording failed: %s", self.name, exc)
        else:
            self._finish("error")
            log.warning("%s: stream failed: %s", self.name, exc)
        self._sync_stats()

    def _finish(self, reason: str) -> None:
        try:
            try:
                self.writer.close(reason)
            finally:
                self.writer.run_io()  # the last writes, in this thread: we are shutting down
        except RecorderError as exc:
            self.stats.errors += 1
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            log.error("%s: cannot finish segment: %s", self.name, exc)
        self._preroll.clear()
        self._preroll_bytes = 0
        self._post_roll_until = 0
        self._sync_stats()

    def _sync_stats(self) -> None:
        stats = self.stats
        stats.bytes = self.writer.bytes_written
        stats.written_frames = self.writer.video_frames
        stats.current_file = self.writer.current_path

    async def _run_io(self, io: concurrent.futures.Executor) -> None:
        """Perform the queued file writes in the I/O thread pool: a slow disk never stalls the
        event loop, only this camera's frames (queued by the stream meanwhile).

        The camera task waits for it, so this camera's files are used by one thread at a time.
        """
        job = io.submit(self.writer.run_io)
        try:
            await asyncio.wrap_future(job)
        except asyncio.CancelledError:
            # The segment is closed next: never while a write is still running.
            concurrent.futures.wait([job])
            raise

    def _on_frame(self, frame: Any) -> None:
        stats = self.stats
        video = not hasattr(frame, "sample_rate")  # AudioFrame has a keyframe field too
        if video:
            stats.frames += 1
            if frame.wallclock is not None:
                stats.lag = time.time() - frame.wallclock
        else:
            stats.audio_frames += 1
        if frame.lost:
            stats.lost += 1
        if self.trigger is None:
            self.writer.write(frame)
        else:
            self._triggered(frame, video)
        if video:
            self._sync_stats()
            if frame.keyframe:
                self._stream_stats()

    def _stream_stats(self) -> None:
        """Copy the stream's loss counters (an RTSP stream has them; other sources may not)."""
        snapshot = getattr(self._source, "stats", None)
        tracks = getattr(snapshot, "tracks", None)
        if tracks is None:
            return
        lost = sum(int(getattr(t, "lost", 0)) for t in tracks.values())
        self.stats.packets_lost = self._base_packets_lost + lost
        dropped = int(getattr(snapshot, "dropped_frames", 0))
        self.stats.dropped_frames = self._base_dropped + dropped

    def _triggered(self, frame: Any, video: bool) -> None:
        # Post-roll is counted in media time (the video's RTP clock), not in arrival time.
        if video:
            self._media_now = frame.ext_timestamp
        now = self._media_now
        trigger = self.trigger
        assert trigger is not None
        if trigger.active:
            self._post_roll_until = now + int(self.post_roll * 90000)
        writing = self.writer.current is not None
        if trigger.active or (writing and now < self._post_roll_until):
            if not writing:
                for held in self._preroll:
                    self.writer.write(held)
                self._preroll.clear()
                self._preroll_bytes = 0
                self.stats.state = "recording"
            self.writer.write(frame)
            return
        if writing:
            self.writer.close("post-roll")
            self.stats.state = "idle"
        # Idle: keep the frames since the last keyframe, the pre-roll of the next event.
        if video and frame.keyframe:
            self._preroll.clear()
            self._preroll_bytes = 0
        elif not self._preroll:
            return  # nothing useful before the first keyframe
        size = frame.size if video else frame.samples
        if self._preroll_bytes + size > self._recorder.pre_roll_max_bytes:
            # A GOP larger than the budget: give up this pre-roll until the next keyframe.
            self.preroll_overflows += 1
            self._preroll.clear()
            self._preroll_bytes = 0
            return
        self._preroll.append(frame)
        self._preroll_bytes += size


class Recorder:
    """Record N cameras into ``out_dir/<camera>/<camera>_<UTC start>.mp4`` segments.

    ``segment`` seconds per file (cut at the next keyframe), or ``max_bytes`` per file, whichever
    comes first. MP4 fragments (what a crash can lose at most, and what is held in memory per
    camera) are cut at the first keyframe past ``fragment_duration`` seconds, and without one
    past twice that, so long-GOP cameras stay bounded too; ``None``: one fragment per GOP.
    ``audio`` records the camera's PCMU track too when it has one. Reconnects back off
    exponentially from ``backoff_initial`` to ``backoff_max`` seconds, with jitter.
    ``on_segment`` is called with a :class:`~ipcam_async.record.segments.SegmentInfo` for every
    finished file. ``transport`` is the RTSP transport for cameras given as URLs or ``Camera``.
    ``io_threads`` threads perform the file writes (the bytes are prepared in the event loop,
    the threads only make the system calls), so a stalling disk delays only that camera's
    frames, never the other cameras; ``0`` writes from the event loop. A camera whose disk
    stalls for longer than its stream's queue holds (``max_queue`` frames) loses frames up to
    the next keyframe, counted in ``lost``.
    ``read_interval``: RTSP streams read their sockets together every that many seconds (see
    :mod:`ipcam_async.rtsp.pacer`): a recording does not care about 0.1 s of latency, and the
    RTSP receive cost per camera roughly halves; 0 reads as data arrives.
    """

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        segment: float = 60.0,
        *,
        max_bytes: int | None = None,
        fragment_duration: float | None = 1.0,
        audio: bool = True,
        transport: str = "tcp",
        fsync: bool = False,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        post_roll: float = 5.0,
        pre_roll_max_bytes: int = 16 << 20,
        io_threads: int = 4,
        on_segment: Callable[[SegmentInfo], None] | None = None,
        read_interval: float = 0.1,
    ) -> None:
        if segment <= 0:
            raise InvalidArgument("segment", "seconds > 0", segment)
        if max_bytes is not None and max_bytes <= 0:
            raise InvalidArgument("max_bytes", "bytes > 0", max_bytes)
        if backoff_initial <= 0 or backoff_max < backoff_initial:
            raise InvalidArgument("backoff", "0 < backoff_initial <= backoff_max", backoff_initial)
        self.out_dir = Path(out_dir)
        self.segment = segment
        self.max_bytes = max_bytes
        self.fragment_duration = fragment_duration
        self.audio = audio
        self.transport = transport
        self.read_interval = check_read_interval(read_interval)
        self.fsync = fsync
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        # Cameras are retried forever: a recorder outlives any one camera's outage.
        self.backoff = ReconnectPolicy(
            initial_delay=backoff_initial, max_delay=backoff_max, max_failures=None
        )
        self.post_roll = post_roll
        self.pre_roll_max_bytes = pre_roll_max_bytes
        self.on_segment = on_segment
        if io_threads < 0:
            raise InvalidArgument("io_threads", "a number of threads >= 0", io_threads)
        self._io: concurrent.futures.ThreadPoolExecutor | None = None
        if io_threads:
            self._io = concurrent.futures.ThreadPoolExecutor(
                max_workers=io_threads, thread_name_prefix="ipcam-record-io"
            )
        self.finished: collections.deque[SegmentInfo] = collections.deque(maxlen=1000)
        self._cameras: dict[str, CameraRecording] = {}
        self._unopened_cameras: list[Any] = []
        self._closed = False

    async def __aenter__(self) -> Recorder:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def cameras(self) -> dict[str, CameraRecording]:
        """The cameras being recorded, by name."""
        return dict(self._cameras)

    @property
    def stats(self) -> dict[str, CameraStats]:
        """Per-camera live counters, by name."""
        return {name: cam.stats for name, cam in self._cameras.items()}

    def add(
        self,
        camera: Any,
        stream: str = "h264",
        *,
        name: str | None = None,
        audio: bool | None = None,
        segment: float | None = None,
        trigger: RecordingTrigger | None = None,
        on_motion: bool = False,
        post_roll: float | None = None,
        source: SourceFactory | None = None,
        **stream_options: Any,
    ) -> CameraRecording:
        """Start recording ``camera`` (a ``Camera``, an ``rtsp://`` URL, or just a ``source``).

        ``name`` names the files (default: host, port and stream). ``trigger`` or ``on_motion``
        switch to event-triggered recording. ``source`` replaces the RTSP connection with your
        own factory of frame sources. Other keyword arguments go to the RTSP stream.
        """
        if self._closed:
            raise RecorderError("the recorder is closed")
        want_audio = self.audio if audio is None else audio
        if source is None:
            source = self._rtsp_source(camera, stream, want_audio, stream_options)
        if name is None:
            name = _default_name(camera, stream)
        name = safe_name(name)
        if name in self._cameras:
            raise InvalidArgument("name", "a name not already recording", name)
        motion = None
        if on_motion:
            if trigger is None:
                trigger = RecordingTrigger()
            motion = _motion_driver(camera)
            if not getattr(camera, "opened", True):
                # Nobody entered this camera: its event monitor's HTTP session is ours to close.
                self._unopened_cameras.append(camera)
        recording = CameraRecording(
            self,
            name,
            source,
            segment=self.segment if segment is None else segment,
            audio=want_audio,
            trigger=trigger,
            post_roll=self.post_roll if post_roll is None else post_roll,
            motion=motion,
        )
        self._cameras[name] = recording
        recording.start()
        return recording

    async def remove(self, name: str) -> None:
        """Stop recording camera ``name`` (its segment is flushed and closed)."""
        recording = self._cameras.pop(name, None)
        if recording is None:
            raise InvalidArgument("name", "a camera being recorded", name)
        await recording.stop()

    async def wait(self) -> None:
        """Wait until every camera task has ended (they run until cancelled or closed)."""
        tasks = [c.task for c in self._cameras.values() if c.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        """Stop all cameras: every open segment is flushed and closed."""
        self._closed = True
        recordings = list(self._cameras.values())
        for recording in recordings:
            if recording.task is not None:
                recording.task.cancel()
        tasks = [r.task for r in recordings if r.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._io is not None:
            # Every camera task has ended, so no write is queued: this returns at once.
            self._io.shutdown(wait=True)
        while self._unopened_cameras:
            await self._unopened_cameras.pop().close()

    def _segment_done(self, info: SegmentInfo) -> None:
        self.finished.append(info)
        if self.on_segment is not None:
            try:
                self.on_segment(info)
            except Exception:  # a user callback must not stop a camera
                log.exception("on_segment callback failed")

    def _rtsp_source(
        self, camera: Any, stream: str, audio: bool, options: dict[str, Any]
    ) -> SourceFactory:
        options = {
            "transport": self.transport,
            "audio": audio,
            "read_interval": self.read_interval,
            **options,
        }
        if isinstance(camera, str):
            # Imported when needed: the RTSP stack is only loaded by users who record over RTSP.
            stream_class = importlib.import_module("ipcam_async.rtsp.stream").RtspStream
            url = camera
            return lambda: stream_class(url, **options)
        if hasattr(camera, "stream"):
            return lambda: camera.stream(stream, **options)
        raise InvalidArgument("camera", "a Camera, an rtsp:// URL, or source=", type(camera))


def _default_name(camera: Any, stream: str) -> str:
    if isinstance(camera, str):
        from yarl import URL

        url = URL(redact_url(camera))
        return f"{url.host}_{url.port or 554}{url.path.replace('/', '_')}"
    host = getattr(camera, "host", None)
    if host is None:
        return f"camera_{stream}"
    port = getattr(camera, "rtsp_port", None)
    return f"{host}_{port}_{stream}" if port else f"{host}_{stream}"


def _has_pcmu(source: Any) -> bool:
    """Whether the source carries a PCMU track (from its SDP; sources without one: assume so)."""
    sdp = getattr(source, "sdp", None)
    media = getattr(sdp, "media", None)
    if media is None:
        return True
    return any(m.media == "audio" and str(m.encoding).upper() == "PCMU" for m in media)


def _motion_driver(camera: Any) -> Callable[[RecordingTrigger], Any]:
    """A coroutine function keeping a trigger on while any motion window reports motion."""
    events = getattr(camera, "events", None)
    if events is None or not hasattr(events, "monitor"):
        raise InvalidArgument("on_motion", "a Camera with an event monitor", type(camera))

    async def drive(trigger: RecordingTrigger) -> None:
        while True:
            try:
                # The monitor reconnects by itself; it only raises after repeated failures.
                async with events.monitor(groups=_MOTION_GROUPS) as snapshots:
                    async for snapshot in snapshots:
                        trigger.set(any(bool(m.triggered) for m in snapshot.motion))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("motion monitor failed, retrying: %s", exc)
            trigger.clear()  # unknown state: stop after the post-roll rather than record blind
            await asyncio.sleep(5.0)

    return drive


_MOTION_GROUPS = ("Motion", "Motion1", "Motion2", "Motion3")
