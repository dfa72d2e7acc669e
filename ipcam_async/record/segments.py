"""One camera's sequence of MP4 segments: naming, rotation, and when a new file must start.

:class:`SegmentedWriter` is synchronous and owns no task: the :class:`~ipcam_async.record.Recorder`
feeds it frames from the network, tests feed it frames directly. A segment starts on a keyframe;
it is closed and the next one started when it reaches the configured duration or size (at the next
keyframe, so every file starts with a picture), when the H.264 parameter sets change, or when the
stream restarts (a frame flagged ``discontinuity``).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from ..errors import RecorderError
from ..rtp.h264 import H264Parameters
from .mp4 import (
    AudioTrackConfig,
    FragmentedMp4Writer,
    ParameterSetsChanged,
    parameters_from_access_unit,
)

__all__ = ["SegmentInfo", "SegmentedWriter", "safe_name", "segment_filename"]

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str) -> str:
    """A camera name usable as a directory and file name prefix (no separators, no dots first)."""
    cleaned = _UNSAFE.sub("_", text).strip("._") or "camera"
    return cleaned[:100]


def segment_filename(camera: str, start: float) -> str:
    """``<camera>_<UTC start, YYYYmmddTHHMMSSZ>.mp4``: sorts by time, names the camera."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(start))
    return f"{camera}_{stamp}.mp4"


@attrs.frozen(slots=True)
class SegmentInfo:
    """A finished segment file."""

    path: Path
    camera: str
    start: float  # UNIX time of the first picture (RTCP wall clock when known)
    duration: float  # seconds of video
    video_frames: int
    audio_frames: int
    bytes: int
    reason: str  # why it was closed: rotate, parameters, discontinuity, stop, error, post-roll


class SegmentedWriter:
    """Write one camera's frames into successive segment files under ``directory``.

    ``segment`` is the target duration in seconds and ``max_bytes`` an optional size limit; a
    segment is cut at the first keyframe past either. ``audio`` adds a PCMU track to every file.
    ``on_segment`` is called with a :class:`SegmentInfo` for every closed file. ``clock`` gives
    the wall-clock time when a frame carries none (tests pass a fake one). With ``defer_io``
    the file operations are queued and performed by :meth:`run_io` (see ``io_queue`` of
    :class:`~ipcam_async.record.mp4.FragmentedMp4Writer`).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        camera: str,
        *,
        segment: float = 60.0,
        max_bytes: int | None = None,
        fragment_duration: float | None = None,
        audio: bool = False,
        fsync: bool = False,
        parameters: H264Parameters | None = None,
        on_segment: Callable[[SegmentInfo], None] | None = None,
        clock: Callable[[], float] = time.time,
        defer_io: bool = False,
    ) -> None:
        if segment <= 0:
            raise RecorderError("segment duration must be positive")
        if max_bytes is not None and max_bytes <= 0:
            raise RecorderError("max_bytes must be positive")
        self.directory = Path(directory)
        self.camera = safe_name(camera)
        self.segment = segment
        self.max_bytes = max_bytes
        self.fragment_duration = fragment_duration
        self.audio = audio
        self.fsync = fsync
        self.parameters = parameters
        self.on_segment = on_segment
        self._clock = clock
        # With defer_io, the writers queue their file operations here for run_io() to perform.
        self._io_ops: list[Callable[[], None]] | None = [] if defer_io else None
        self._writer: FragmentedMp4Writer | None = None
        self._start = 0.0
        # Totals over all segments (the current one included once closed).
        self.segments = 0
        self.video_frames = 0
        self.audio_frames = 0
        self.bytes_closed = 0
        self.waiting_dropped = 0  # frames dropped while waiting for a keyframe / parameter sets
        self.discontinuities = 0

    @property
    def current(self) -> FragmentedMp4Writer | None:
        """The open segment's writer, if one is open."""
        return self._writer

    @property
    def current_path(self) -> Path | None:
        """The open segment's path, if one is open."""
        if self._writer is None or self._writer.path is None:
            return None
        return Path(self._writer.path)

    @property
    def bytes_written(self) -> int:
        """Bytes in all files so far (closed segments and the open one)."""
        current = self._writer.bytes_written if self._writer is not None else 0
        return self.bytes_closed + current

    @property
    def has_pending_io(self) -> bool:
        """Whether file operations wait for :meth:`run_io` (``defer_io`` mode)."""
        return bool(self._io_ops)

    def run_io(self) -> None:
        """Perform the queued file operations in order (from any one thread at a time).

        Every operation runs (a file is always closed); the first failure is raised at the end.
        """
        if not self._io_ops:
            return
        ops = self._io_ops[:]
        del self._io_ops[:]
        failure: RecorderError | None = None
        for op in ops:
            try:
                op()
            except RecorderError as exc:
                failure = failure or exc
            except OSError as exc:  # closing a file can fail too (deferred write-back errors)
                failure = failure or RecorderError(f"write failed: {exc}")
        if failure is not None:
            raise failure

    def write(self, frame: Any) -> None:
        """Add one ``VideoFrame`` or ``AudioFrame`` (see :mod:`ipcam_async.rtp.frames`)."""
        if hasattr(frame, "sample_rate"):  # an AudioFrame (it has a keyframe field too)
            writer = self._writer
            if writer is not None and writer.audio_config is not None:
                data = frame.data if frame.views is None else b"".join(frame.views)
                writer.add_audio(data, frame.ext_timestamp)
                self.audio_frames += 1
            return
        if frame.codec != "H264":
            raise RecorderError(f"cannot record {frame.codec} video (H.264 only)")
        data = frame.data if frame.views is None else b"".join(frame.views)
        if frame.discontinuity and self._writer is not None:
            self.discontinuities += 1
            self.close("discontinuity")
        if frame.keyframe:
            inband = parameters_from_access_unit(data)
            if inband is not None:
                self.parameters = inband
            if self._writer is not None and self._should_rotate(self._writer):
                self.close("rotate")
        if self._writer is None:
            if not frame.keyframe or self.parameters is None:
                self.waiting_dropped += 1
                return
            self._open(frame.wallclock)
        writer = self._writer
        assert writer is not None
        try:
            writer.add_video(data, frame.ext_timestamp, frame.keyframe, wallclock=frame.wallclock)
        except ParameterSetsChanged as change:
            self.parameters = change.parameters
            self.close("parameters")
            if not frame.keyframe:
                self.waiting_dropped += 1
                return
            self._open(frame.wallclock)
            assert self._writer is not None
            self._writer.add_video(
                data, frame.ext_timestamp, frame.keyframe, wallclock=frame.wallclock
            )
        self.video_frames += 1

    def _should_rotate(self, writer: FragmentedMp4Writer) -> bool:
        if writer.duration >= self.segment:
            return True
        size = writer.bytes_written + writer.pending_bytes
        return self.max_bytes is not None and size >= self.max_bytes

    def _open(self, wallclock: float | None) -> None:
        assert self.parameters is not None
        start = wallclock if wallclock is not None else self._clock()
        directory = self.directory
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecorderError(f"cannot create directory {directory}: {exc}") from exc
        name = segment_filename(self.camera, start)
        path = directory / name
        # Two segments may start within the same second (a quick reconnect): number them.
        for n in range(1, 1000):
            if not path.exists():
                break
            path = directory / f"{name[:-4]}-{n}.mp4"
        self._writer = FragmentedMp4Writer(
            path,
            self.parameters,
            audio=AudioTrackConfig() if self.audio else None,
            fragment_duration=self.fragment_duration,
            wallclock=start,
            fsync=self.fsync,
            io_queue=self._io_ops,
        )
        self._start = start
        log.info("%s: recording to %s", self.camera, path)

    def close(self, reason: str = "stop") -> SegmentInfo | None:
        """Finish the open segment (last fragment flushed, durations written), if any."""
        writer = self._writer
        if writer is None:
            return None
        self._writer = None
        try:
            writer.close()
        finally:
            self.bytes_closed += writer.bytes_written
            # After the (possibly queued) writes: a file whose header never made it is removed.
            discard = functools.partial(_discard_if_empty, writer)
            if self._io_ops is None:
                discard()
            else:
                self._io_ops.append(discard)
        if writer.stats.video_frames == 0 or writer.path is None:
            return None
        self.segments += 1
        info = SegmentInfo(
            path=Path(writer.path),
            camera=self.camera,
            start=self._start,
            duration=writer.duration,
            video_frames=writer.stats.video_frames,
            audio_frames=writer.stats.audio_frames,
            bytes=writer.bytes_written,
            reason=reason,
        )
        log.info("%s: closed %s (%.1f s, %s)", self.camera, info.path, info.duration, reason)
        if self.on_segment is not None:
            self.on_segment(info)
        return info

    def abandon(self) -> None:
        """Drop the open segment after a write error: close its file without writing more."""
        writer = self._writer
        self._writer = None
        if writer is not None:
            with contextlib.suppress(RecorderError):
                writer.close()
            with contextlib.suppress(RecorderError):
                self.run_io()
            self.bytes_closed += writer.bytes_written
            _discard_if_empty(writer)  # not even the header made it: no junk file per retry


def _discard_if_empty(writer: FragmentedMp4Writer) -> None:
    """Remove ``writer``'s file when not one write completed (nothing playable, maybe junk)."""
    if writer.path is not None and writer.stats.bytes_written == 0:
        with contextlib.suppress(OSError):
            os.unlink(writer.path)
