"""The guided tour behind ``ipcam demo``: the library's main features, one checked step each.

:func:`run_simulated_demo` starts a :class:`~ipcam_async.sim.SimulatedCamera` in-process on free
loopback ports and runs :func:`run_tour` against it as any user would:

* ``parameters``: list the parameters, update one, read the update back, restore it;
* ``ptz``: move the PTZ head and watch its reported position change until it arrives;
* ``io+events``: toggle output 1 and see the transition arrive on the event monitor
  (:meth:`~ipcam_async.api.events.EventsApi.changes`);
* ``snapshot``: save a JPEG snapshot and decode it (with Pillow when installed);
* ``mjpeg`` (optional): grab frames of the MJPEG-over-HTTP stream;
* ``record``: record a few seconds of ``/h264`` with its audio over RTSP into a fragmented MP4
  file (or raw Annex B ``.h264`` + µ-law ``.ulaw``) and verify it: frame count against the
  stream's frame rate, duration, audio length, and every frame decoded with PyAV when it is
  installed (the file is always also checked by this module's own MP4 / H.264 parser).

Every step is timed and isolated: a failure is reported with its reason and the other steps
still run. Against a real camera the tour is read-only unless ``write=True``: no parameter, PTZ
position or output is changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import io
import logging
import struct
import textwrap
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import attrs

from .errors import IpCamError, NotFoundError, ProtocolError, RecorderError

if TYPE_CHECKING:
    from .api.ptz import PtzPosition
    from .camera import Camera
    from .rtp.h264 import H264Parameters

__all__ = [
    "DEMO_PARAMETER",
    "TABLE_HEADER",
    "DemoReport",
    "DemoStep",
    "Mp4Check",
    "RecordingResult",
    "StepResult",
    "check_jpeg",
    "format_notes",
    "format_step",
    "record_clip",
    "run_simulated_demo",
    "run_tour",
    "verify_annexb",
    "verify_mp4",
]

log = logging.getLogger(__name__)

#: The parameter the tour updates (and restores) when it may write.
DEMO_PARAMETER = "ImageSource.I0.Name"
DEMO_VALUE = "Demo camera & tour"
#: How far the tour moves the PTZ head from where it is (pan, tilt degrees; zoom steps).
PTZ_MOVE = (45.0, 10.0, 2000)
#: A PTZ head whose reported position has not changed for this long has stopped (seconds).
PTZ_STALL = 2.0
#: Recordings larger than this are not read back for verification (the demo's are a few MiB).
MAX_VERIFY_BYTES = 512 << 20
_MAX_BOXES = 1 << 20
_VIDEO_CLOCK = 90000
_BOX_HEADER = struct.Struct(">I4s")

StepBody = Callable[[], Awaitable["StepResult"]]


@attrs.frozen
class StepResult:
    """What a step's body returns: ``ok`` (None: skipped), the report's numbers, JSON data."""

    ok: bool | None
    summary: str
    data: dict[str, Any] = attrs.field(factory=dict)
    notes: tuple[str, ...] = ()


@attrs.frozen
class DemoStep:
    """The outcome of one step: ``ok`` is None when the step was skipped (read-only tour)."""

    name: str
    ok: bool | None
    summary: str
    seconds: float
    data: dict[str, Any] = attrs.field(factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def result(self) -> str:
        """``ok``, ``FAIL`` or ``skip``."""
        return {True: "ok", False: "FAIL", None: "skip"}[self.ok]


@attrs.frozen
class DemoReport:
    """Every step of a tour, where it ran and where its files are."""

    target: str
    steps: tuple[DemoStep, ...]
    out_dir: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no step failed (skipped steps do not count as failures)."""
        return all(s.ok is not False for s in self.steps)

    @property
    def failed(self) -> tuple[str, ...]:
        """Names of the failed steps."""
        return tuple(s.name for s in self.steps if s.ok is False)

    def step(self, name: str) -> DemoStep:
        """The step called ``name`` (KeyError if the tour had none)."""
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "target": self.target,
            "ok": self.ok,
            "failed": list(self.failed),
            "out_dir": self.out_dir,
            "seconds": round(self.seconds, 3),
            "steps": [{"result": s.result, **attrs.asdict(s, recurse=False)} for s in self.steps],
        }

    def to_text(self) -> str:
        """The short readable report ``ipcam demo`` prints: a header, the table, a verdict."""
        lines = [f"ipcam demo: {self.target}"]
        if self.out_dir is not None:
            lines.append(f"files in {self.out_dir}")
        lines.append(TABLE_HEADER)
        lines += [format_step(s) for s in self.steps]
        lines += format_notes(self.steps)
        lines.append(self.verdict())
        return "\n".join(lines)

    def verdict(self) -> str:
        """The last line: all passed, or which steps failed."""
        if self.ok:
            passed = sum(1 for s in self.steps if s.ok)
            skipped = len(self.steps) - passed
            text = f"all {passed} steps passed"
            if skipped:
                text += f" ({skipped} skipped)"
            return text + f" in {self.seconds:.1f} s"
        return "FAILED: " + ", ".join(self.failed)


#: Column titles of the report table, aligned with :func:`format_step`.
TABLE_HEADER = f"  {'':4} {'step':<12} {'time':>8}  numbers"
_NUMBERS_INDENT = 2 + 4 + 1 + 12 + 1 + 8 + 2
_WIDTH = 118


def format_step(step: DemoStep) -> str:
    """One table row: result, step name, time, the numbers (wrapped under their column)."""
    mark = {True: "ok  ", False: "FAIL", None: "skip"}[step.ok]
    head = f"  {mark} {step.name:<12} {step.seconds:6.2f} s  "
    body = textwrap.wrap(step.summary, _WIDTH - _NUMBERS_INDENT) or [""]
    pad = " " * _NUMBERS_INDENT
    return "\n".join([head + body[0], *(pad + line for line in body[1:])])


def format_notes(steps: tuple[DemoStep, ...] | list[DemoStep]) -> list[str]:
    """The notes of every step (``note (step): ...`` lines under the table, wrapped)."""
    return [
        textwrap.fill(
            f"note ({s.name}): {n}", _WIDTH, initial_indent="  ", subsequent_indent="    "
        )
        for s in steps
        for n in s.notes
    ]


class _StepFailed(Exception):
    """Internal: a step's check failed (the message is the report's numbers)."""


async def _step(
    name: str, body: StepBody, *, limit: float, scrub: Callable[[str], str]
) -> DemoStep:
    """Run one step in isolation: any failure becomes a FAIL row, never an exception."""
    started = time.perf_counter()
    notes: tuple[str, ...] = ()
    data: dict[str, Any] = {}
    try:
        async with asyncio.timeout(limit):
            result = await body()
        ok, summary, data, notes = result.ok, result.summary, result.data, result.notes
    except _StepFailed as exc:
        ok, summary = False, str(exc)
    except IpCamError as exc:  # before TimeoutError: StreamTimeout is both
        ok, summary = False, f"{type(exc).__name__}: {exc}"
    except TimeoutError:
        ok, summary = False, f"no result within {limit:.0f} s"
    except Exception as exc:  # isolation: one broken step must not hide the others
        if not isinstance(exc, OSError | ValueError):
            log.debug("demo step %s failed", name, exc_info=True)
        ok, summary = False, f"{type(exc).__name__}: {exc}"
    return DemoStep(name, ok, scrub(summary), time.perf_counter() - started, data, notes)


# -- recording ---------------------------------------------------------------------------------


@attrs.frozen
class RecordingResult:
    """What :func:`record_clip` received and wrote.

    ``media_seconds`` is the span of the recorded video timestamps (first to last frame start);
    ``wall_seconds`` how long receiving took; ``stream_fps`` the frame rate the camera announced
    (SDP ``a=framerate``, else the SPS timing info), None when it announced none.
    """

    path: Path
    video_frames: int
    keyframes: int
    audio_frames: int
    audio_samples: int
    width: int | None
    height: int | None
    media_seconds: float
    lost_frames: int
    bytes_written: int
    wall_seconds: float = 0.0
    stream_fps: float | None = None
    audio_path: Path | None = None
    container: str = "mp4"


class _AnnexBSink:
    """Raw H.264 (Annex B) + raw µ-law files, written in batches from a worker thread."""

    BATCH = 1 << 20

    def __init__(self, video: BinaryIO, audio: BinaryIO | None, params: H264Parameters) -> None:
        self._video = video
        self._audio = audio
        self._params = params
        self._vbuf: list[bytes] = []
        self._abuf: list[bytes] = []
        self._pending = 0

    def add_video(self, data: bytes, keyframe: bool) -> None:
        from .rtp.h264 import split_annexb

        if keyframe and not any((n[0] & 0x1F) == 7 for n in split_annexb(data) if n):
            # Parameter sets only in the SDP: put them in-band so the file plays on its own.
            self._vbuf.append(b"\x00\x00\x00\x01" + self._params.sps)
            self._vbuf.append(b"\x00\x00\x00\x01" + self._params.pps)
        self._vbuf.append(data)
        self._pending += len(data)

    def add_audio(self, data: bytes) -> None:
        if self._audio is not None:
            self._abuf.append(data)
            self._pending += len(data)

    @property
    def due(self) -> bool:
        return self._pending >= self.BATCH

    def drain(self) -> None:
        """Write what is buffered (run in a worker thread)."""
        video, audio = b"".join(self._vbuf), b"".join(self._abuf)
        self._vbuf.clear()
        self._abuf.clear()
        self._pending = 0
        self._video.write(video)
        if self._audio is not None:
            self._audio.write(audio)

    def close(self) -> None:
        try:
            self.drain()
        finally:
            self._video.close()
            if self._audio is not None:
                self._audio.close()


def _run_ops(ops: list[Callable[[], None]]) -> None:
    """Run the writer's queued file operations (in a worker thread); every one runs, so the
    file is closed even after a failed write, and the first error is raised at the end."""
    error: BaseException | None = None
    for op in ops:
        try:
            op()
        except Exception as exc:
            error = error or exc
    if error is not None:
        raise error


def _stream_fps(stream: Any) -> float | None:
    """The frame rate the camera announces: SDP ``a=framerate``, else the SPS timing info."""
    sdp = stream.sdp
    video = sdp.find("video") if sdp is not None else None
    if video is not None and video.framerate:
        return float(video.framerate)
    parameters = stream.parameters
    info = getattr(parameters, "info", None)
    fps = getattr(info, "fps", None)
    return float(fps) if fps else None


async def record_clip(
    cam: Camera,
    path: Path,
    *,
    seconds: float = 5.0,
    stream: str = "h264",
    transport: str = "tcp",
    audio: bool = True,
) -> RecordingResult:
    """Record ``seconds`` of stream time from ``cam`` into ``path``.

    ``path`` ending in ``.mp4`` gets a fragmented MP4 (:class:`~ipcam_async.record.
    FragmentedMp4Writer`, H.264 + PCMU); any other suffix gets the raw Annex B stream, with the
    audio next to it in ``<path>.ulaw``. The file starts on the first keyframe and holds
    exactly the frames whose timestamps fall in ``[first, first + seconds)``. File writes run in
    a worker thread, never in the event loop.
    """
    from .rtp.frames import AudioFrame, VideoFrame
    from .rtp.options import RtpOptions

    mp4 = path.suffix.lower() == ".mp4"
    if mp4:
        from .record.mp4 import AudioTrackConfig, FragmentedMp4Writer
    writer: FragmentedMp4Writer | None = None
    sink: _AnnexBSink | None = None
    ops: list[Callable[[], None]] = []
    audio_path: Path | None = None
    video_frames = keyframes = audio_frames = audio_samples = lost = 0
    first_ts: int | None = None
    last_ts = 0
    width = height = None
    fps: float | None = None
    limit = round(seconds * _VIDEO_CLOCK)
    started = time.perf_counter()
    try:
        async with cam.stream(
            stream,
            transport=transport,
            audio=audio,
            rtp_options=RtpOptions(drop_until_keyframe=True),
        ) as rtsp:
            async for frame in rtsp.frames():
                if isinstance(frame, VideoFrame):
                    if frame.codec != "H264":
                        raise RecorderError(f"/{stream} is {frame.codec}, not H.264")
                    if first_ts is None:
                        if not frame.keyframe:
                            continue
                        parameters = rtsp.parameters
                        if parameters is None:
                            raise RecorderError("no H.264 parameter sets from the camera")
                        has_audio = bool(
                            audio and rtsp.sdp is not None and rtsp.sdp.find("audio") is not None
                        )
                        width, height = parameters.width, parameters.height
                        fps = _stream_fps(rtsp)
                        await asyncio.to_thread(path.unlink, missing_ok=True)
                        if mp4:
                            writer = FragmentedMp4Writer(
                                path,
                                parameters,
                                audio=AudioTrackConfig() if has_audio else None,
                                io_queue=ops,
                            )
                        else:
                            audio_path = path.with_suffix(".ulaw") if has_audio else None
                            sink = await asyncio.to_thread(
                                _open_annexb, path, audio_path, parameters
                            )
                        first_ts = frame.ext_timestamp
                    if frame.ext_timestamp - first_ts >= limit:
                        break
                    if writer is not None:
                        writer.write_frame(frame)
                    elif sink is not None:
                        sink.add_video(frame.data, frame.keyframe)
                    video_frames += 1
                    keyframes += frame.keyframe
                    lost += frame.lost
                    last_ts = frame.ext_timestamp
                elif isinstance(frame, AudioFrame) and first_ts is not None:
                    if writer is not None and writer.audio_config is not None:
                        writer.write_frame(frame)
                    elif sink is not None and audio_path is not None:
                        sink.add_audio(frame.data)
                    else:
                        continue
                    audio_frames += 1
                    audio_samples += len(frame.data)
                if ops:
                    batch = ops[:]
                    ops.clear()
                    await asyncio.to_thread(_run_ops, batch)
                elif sink is not None and sink.due:
                    await asyncio.to_thread(sink.drain)
    finally:
        if writer is not None:
            try:
                writer.close()
            finally:
                batch = ops[:]
                ops.clear()
                await asyncio.to_thread(_run_ops, batch)
        if sink is not None:
            await asyncio.to_thread(sink.close)
    if first_ts is None:
        raise RecorderError(f"no keyframe arrived on /{stream}")
    size = (await asyncio.to_thread(path.stat)).st_size
    return RecordingResult(
        path=path,
        video_frames=video_frames,
        keyframes=keyframes,
        audio_frames=audio_frames,
        audio_samples=audio_samples,
        width=width,
        height=height,
        media_seconds=(last_ts - first_ts) / _VIDEO_CLOCK,
        lost_frames=lost,
        bytes_written=size,
        wall_seconds=time.perf_counter() - started,
        stream_fps=fps,
        audio_path=audio_path,
        container="mp4" if mp4 else "h264",
    )


def _open_annexb(path: Path, audio_path: Path | None, params: H264Parameters) -> _AnnexBSink:
    video = path.open("wb")
    try:
        audio = audio_path.open("wb") if audio_path is not None else None
    except BaseException:
        video.close()
        raise
    return _AnnexBSink(video, audio, params)


# -- verification ------------------------------------------------------------------------------


@attrs.frozen
class Mp4Check:
    """What the verification of a recorded file found.

    ``video_frames`` are the samples (access units) in the file, counted by this module's own
    parser; ``decoded_frames`` the pictures PyAV decoded (None when PyAV is not installed, or
    ``decoder`` says why not). ``duration`` is the video track's length in seconds (sum of the
    sample durations; for raw H.264, frames over the frame rate), ``audio_seconds`` the audio
    track's. ``decoder`` names what decoded the file.
    """

    video_frames: int
    decoded_frames: int | None
    width: int
    height: int
    duration: float
    audio_seconds: float
    keyframes: int = 0
    fragments: int = 0
    decoder: str = ""


@attrs.define
class _TrackInfo:
    track_id: int = 0
    handler: bytes = b""
    timescale: int = 0
    codec: bytes = b""
    nal_length: int = 4
    sps: bytes | None = None
    default_duration: int = 0
    default_size: int = 0
    default_flags: int = 0
    samples: int = 0
    sync_samples: int = 0
    ticks: int = 0
    idr_samples: int = 0
    first_sync: bool | None = None


def _boxes(data: memoryview, start: int, end: int) -> Iterator[tuple[bytes, int, int, int]]:
    """``(type, box start, payload start, box end)`` of the boxes in ``data[start:end]``."""
    pos = start
    count = 0
    while pos < end:
        if end - pos < 8:
            raise ProtocolError(f"MP4: {end - pos} stray bytes at offset {pos}")
        size, kind = _BOX_HEADER.unpack_from(data, pos)
        header = 8
        if size == 1:
            if end - pos < 16:
                raise ProtocolError(f"MP4: truncated box header at offset {pos}")
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise ProtocolError(f"MP4: box {kind!r} at offset {pos} has a bad size {size}")
        count += 1
        if count > _MAX_BOXES:
            raise ProtocolError("MP4: too many boxes")
        yield bytes(kind), pos, pos + header, pos + size
        pos += size


def _child(data: memoryview, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    for k, _box_start, payload, box_end in _boxes(data, start, end):
        if k == kind:
            return payload, box_end
    return None


def _u32(data: memoryview, pos: int) -> int:
    value: int = struct.unpack_from(">I", data, pos)[0]
    return value


def _parse_trak(data: memoryview, start: int, end: int) -> _TrackInfo:
    info = _TrackInfo()
    tkhd = _child(data, start, end, b"tkhd")
    mdia = _child(data, start, end, b"mdia")
    if tkhd is None or mdia is None:
        raise ProtocolError("MP4: a track without tkhd or mdia")
    version = data[tkhd[0]]
    info.track_id = _u32(data, tkhd[0] + (20 if version == 1 else 12))
    mdhd = _child(data, *mdia, b"mdhd")
    hdlr = _child(data, *mdia, b"hdlr")
    minf = _child(data, *mdia, b"minf")
    if mdhd is None or hdlr is None or minf is None:
        raise ProtocolError(f"MP4: track {info.track_id} lacks mdhd, hdlr or minf")
    version = data[mdhd[0]]
    info.timescale = _u32(data, mdhd[0] + (20 if version == 1 else 12))
    info.handler = bytes(data[hdlr[0] + 8 : hdlr[0] + 12])
    stbl = _child(data, *minf, b"stbl")
    stsd = _child(data, *stbl, b"stsd") if stbl is not None else None
    if stsd is None or info.timescale == 0:
        raise ProtocolError(f"MP4: track {info.track_id} has no sample description")
    for kind, _s, payload, box_end in _boxes(data, stsd[0] + 8, stsd[1]):
        info.codec = kind
        if kind in (b"avc1", b"avc3"):
            # VisualSampleEntry: 78 bytes of fields, then child boxes (avcC among them).
            avcc = _child(data, payload + 78, box_end, b"avcC")
            if avcc is None:
                raise ProtocolError("MP4: avc1 sample entry without avcC")
            cfg = bytes(data[avcc[0] : avcc[1]])
            if len(cfg) < 8 or cfg[0] != 1:
                raise ProtocolError("MP4: malformed avcC")
            info.nal_length = (cfg[4] & 3) + 1
            if cfg[5] & 0x1F:
                length = int.from_bytes(cfg[6:8], "big")
                info.sps = cfg[8 : 8 + length]
        break
    return info


def _nal_types(sample: memoryview, length_size: int) -> list[int]:
    """The NAL unit types of one length-prefixed sample; ProtocolError if they do not tile it."""
    types = []
    pos = 0
    while pos < len(sample):
        if pos + length_size > len(sample):
            raise ProtocolError("MP4: a NAL length runs past its sample")
        n = int.from_bytes(sample[pos : pos + length_size], "big")
        pos += length_size
        if n == 0 or pos + n > len(sample):
            raise ProtocolError("MP4: a NAL unit runs past its sample")
        types.append(sample[pos] & 0x1F)
        pos += n
    return types


def _parse_moof(
    data: memoryview, moof_start: int, start: int, end: int, tracks: dict[int, _TrackInfo]
) -> None:
    for kind, _s, traf, traf_end in _boxes(data, start, end):
        if kind != b"traf":
            continue
        tfhd = _child(data, traf, traf_end, b"tfhd")
        if tfhd is None:
            raise ProtocolError("MP4: traf without tfhd")
        flags = _u32(data, tfhd[0]) & 0xFFFFFF
        track = tracks.get(_u32(data, tfhd[0] + 4))
        if track is None:
            raise ProtocolError("MP4: a fragment of an undeclared track")
        pos = tfhd[0] + 8
        base = moof_start
        if flags & 0x01:
            base = struct.unpack_from(">Q", data, pos)[0]
            pos += 8
        if flags & 0x02:
            pos += 4
        duration, size, sample_flags = (
            track.default_duration,
            track.default_size,
            track.default_flags,
        )
        if flags & 0x08:
            duration = _u32(data, pos)
            pos += 4
        if flags & 0x10:
            size = _u32(data, pos)
            pos += 4
        if flags & 0x20:
            sample_flags = _u32(data, pos)
        offset = base
        for k, _s2, trun, trun_end in _boxes(data, traf, traf_end):
            if k != b"trun":
                continue
            tflags = _u32(data, trun) & 0xFFFFFF
            count = _u32(data, trun + 4)
            pos = trun + 8
            if tflags & 0x01:
                offset = base + struct.unpack_from(">i", data, pos)[0]
                pos += 4
            first_flags = None
            if tflags & 0x04:
                first_flags = _u32(data, pos)
                pos += 4
            entry = 4 * sum(1 for bit in (0x100, 0x200, 0x400, 0x800) if tflags & bit)
            if pos + count * entry > trun_end:
                raise ProtocolError(f"MP4: a trun claims {count} samples it does not hold")
            for i in range(count):
                d, s, f = duration, size, sample_flags
                if tflags & 0x100:
                    d = _u32(data, pos)
                    pos += 4
                if tflags & 0x200:
                    s = _u32(data, pos)
                    pos += 4
                if tflags & 0x400:
                    f = _u32(data, pos)
                    pos += 4
                elif i == 0 and first_flags is not None:
                    f = first_flags
                if tflags & 0x800:
                    pos += 4
                if offset < 0 or offset + s > len(data):
                    raise ProtocolError("MP4: a sample lies outside the file")
                sync = not f & 0x00010000
                if track.first_sync is None:
                    track.first_sync = sync
                track.samples += 1
                track.sync_samples += sync
                track.ticks += d
                if track.handler == b"vide" and track.codec in (b"avc1", b"avc3"):
                    types = _nal_types(data[offset : offset + s], track.nal_length)
                    track.idr_samples += 5 in types
                offset += s


def _parse_mp4(data: memoryview) -> tuple[dict[int, _TrackInfo], int]:
    tracks: dict[int, _TrackInfo] = {}
    fragments = 0
    seen_moov = False
    for kind, box_start, payload, box_end in _boxes(data, 0, len(data)):
        if kind == b"moov":
            seen_moov = True
            for k, _s, p, e in _boxes(data, payload, box_end):
                if k == b"trak":
                    info = _parse_trak(data, p, e)
                    tracks[info.track_id] = info
                elif k == b"mvex":
                    for k2, _s2, p2, _e2 in _boxes(data, p, e):
                        if k2 == b"trex":
                            track = tracks.get(_u32(data, p2 + 4))
                            if track is not None:
                                track.default_duration = _u32(data, p2 + 12)
                                track.default_size = _u32(data, p2 + 16)
                                track.default_flags = _u32(data, p2 + 20)
        elif kind == b"moof":
            if not seen_moov:
                raise ProtocolError("MP4: a fragment before the movie header")
            fragments += 1
            _parse_moof(data, box_start, payload, box_end, tracks)
    if not seen_moov:
        raise ProtocolError("MP4: no movie header (moov)")
    return tracks, fragments


def _check_mp4_builtin(path: Path) -> tuple[Mp4Check, _TrackInfo, _TrackInfo | None]:
    size = path.stat().st_size
    if size > MAX_VERIFY_BYTES:
        raise ProtocolError(f"{path.name}: {size} bytes, too large to verify")
    data = memoryview(path.read_bytes())
    try:
        tracks, fragments = _parse_mp4(data)
    except (struct.error, IndexError) as exc:  # a field read past the end of a cut file
        raise ProtocolError(f"{path.name}: malformed MP4 ({exc})") from exc
    video = next((t for t in tracks.values() if t.handler == b"vide"), None)
    audio = next((t for t in tracks.values() if t.handler == b"soun"), None)
    if video is None:
        raise ProtocolError(f"{path.name}: no video track")
    if video.samples and not video.first_sync:
        raise ProtocolError(f"{path.name}: the first video sample is not a keyframe")
    if video.codec in (b"avc1", b"avc3") and video.idr_samples != video.sync_samples:
        raise ProtocolError(
            f"{path.name}: {video.sync_samples} samples marked sync but {video.idr_samples} "
            "hold an IDR picture"
        )
    width = height = 0
    if video.sps is not None:
        from .rtp.h264 import parse_sps

        sps = parse_sps(video.sps)
        width, height = sps.width, sps.height
    check = Mp4Check(
        video_frames=video.samples,
        decoded_frames=None,
        width=width,
        height=height,
        duration=video.ticks / video.timescale,
        audio_seconds=audio.ticks / audio.timescale if audio is not None else 0.0,
        keyframes=video.sync_samples,
        fragments=fragments,
        decoder="",
    )
    return check, video, audio


def _decode_mp4_pyav(path: Path) -> tuple[int, int, int, int, float]:
    """(packets, decoded pictures, width, height, decoded audio seconds) with PyAV."""
    import av

    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        decoded = packets = samples = 0
        width = height = 0
        streams = [video] if audio is None else [video, audio]
        for packet in container.demux(*streams):
            if packet.stream is not video:
                samples += sum(f.samples for f in packet.decode() if isinstance(f, av.AudioFrame))
                continue
            if packet.size:
                packets += 1
            # The empty packet at the end flushes the decoder's delayed pictures.
            for picture in packet.decode():
                if isinstance(picture, av.VideoFrame):
                    decoded += 1
                    width, height = picture.width, picture.height
        audio_seconds = samples / (audio.rate or 8000) if audio is not None else 0.0
    return packets, decoded, width, height, audio_seconds


def _pyav_version() -> str | None:
    try:
        import av
    except ImportError:
        return None
    return f"PyAV {getattr(av, '__version__', '?')}"


def verify_mp4(path: Path) -> Mp4Check:
    """Check a recorded MP4: structure, sample counts, durations, and a full decode with PyAV.

    The file is always parsed by this module's own reader (boxes, fragments, sample tables,
    every video sample's NAL units, keyframe flags against IDR pictures); when PyAV is installed
    every frame is also decoded and the counts must agree. Raises
    :class:`~ipcam_async.errors.ProtocolError` for a malformed file or a disagreement.
    """
    check, _video, _audio = _check_mp4_builtin(path)
    version = _pyav_version()
    if version is None:
        return attrs.evolve(check, decoder="built-in MP4 parser (PyAV not installed)")
    try:
        packets, decoded, width, height, audio_seconds = _decode_mp4_pyav(path)
    except Exception as exc:  # PyAV raises its own error classes
        raise ProtocolError(f"{path.name}: PyAV cannot decode it: {exc}") from exc
    if packets != check.video_frames:
        raise ProtocolError(
            f"{path.name}: PyAV demuxed {packets} video packets, the file holds "
            f"{check.video_frames} samples"
        )
    return attrs.evolve(
        check,
        decoded_frames=decoded,
        width=width or check.width,
        height=height or check.height,
        audio_seconds=audio_seconds if _audio is not None else 0.0,
        decoder=version,
    )


def _annexb_counts(data: bytes) -> tuple[int, int, bytes | None]:
    """(access units, IDR access units, first SPS) of an Annex B stream."""
    from .rtp.h264 import split_annexb

    frames = idr = 0
    sps: bytes | None = None
    for nal in split_annexb(data):
        if len(nal) < 2:
            continue
        kind = nal[0] & 0x1F
        if kind == 7 and sps is None:
            sps = bytes(nal)
        # A slice whose first_mb_in_slice is 0 (ue(v) "1" bit) starts a new picture.
        if kind in (1, 5) and nal[1] & 0x80:
            frames += 1
            idr += kind == 5
    return frames, idr, sps


def verify_annexb(path: Path, *, fps: float | None, audio_path: Path | None = None) -> Mp4Check:
    """Check a raw H.264 recording (and its raw µ-law audio): pictures, keyframes, decode.

    Raw H.264 carries no timestamps, so ``duration`` is the picture count over ``fps`` (0.0 when
    unknown). Decoded with PyAV when installed.
    """
    size = path.stat().st_size
    if size > MAX_VERIFY_BYTES:
        raise ProtocolError(f"{path.name}: {size} bytes, too large to verify")
    data = path.read_bytes()
    frames, idr, sps_nal = _annexb_counts(data)
    if sps_nal is None:
        raise ProtocolError(f"{path.name}: no sequence parameter set")
    from .rtp.h264 import parse_sps

    sps = parse_sps(sps_nal)
    audio_seconds = audio_path.stat().st_size / 8000 if audio_path is not None else 0.0
    check = Mp4Check(
        video_frames=frames,
        decoded_frames=None,
        width=sps.width,
        height=sps.height,
        duration=frames / fps if fps else 0.0,
        audio_seconds=audio_seconds,
        keyframes=idr,
        fragments=0,
        decoder="built-in H.264 parser (PyAV not installed)",
    )
    version = _pyav_version()
    if version is None:
        return check
    try:
        decoded, width, height = _decode_annexb_pyav(path)
    except Exception as exc:  # PyAV raises its own error classes
        raise ProtocolError(f"{path.name}: PyAV cannot decode it: {exc}") from exc
    return attrs.evolve(check, decoded_frames=decoded, width=width, height=height, decoder=version)


def _decode_annexb_pyav(path: Path) -> tuple[int, int, int]:
    import av

    decoded = width = height = 0
    with av.open(str(path), format="h264") as container:
        for picture in container.decode(video=0):
            decoded += 1
            width, height = picture.width, picture.height
    return decoded, width, height


def check_jpeg(data: bytes) -> tuple[int, int, str]:
    """Decode a JPEG fully with Pillow: ``(width, height, how)``; our marker parser without it.

    Raises :class:`~ipcam_async.errors.ProtocolError` when the image does not decode.
    """
    try:
        from PIL import Image
    except ImportError:
        from .api.system_models import parse_jpeg

        image = parse_jpeg(data)
        if not image.width or not image.height:
            raise ProtocolError("JPEG without a frame header") from None
        return image.width, image.height, "markers checked (Pillow not installed)"
    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.load()
            if picture.format not in ("JPEG", "MPO"):
                raise ProtocolError(f"not a JPEG image but {picture.format}")
            return picture.width, picture.height, f"decoded by Pillow ({picture.mode})"
    except (OSError, SyntaxError, ValueError) as exc:
        raise ProtocolError(f"Pillow cannot decode the JPEG: {exc}") from exc


# -- the tour ----------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _away(value: float, step: float, high: float) -> float:
    """``value`` moved by ``step``, backwards when forwards would pass ``high``."""
    return value + step if value + step <= high else value - step


def _arrived(position: PtzPosition, pan: float, tilt: float, zoom: int | None) -> bool:
    """Whether a reported position is the target (cameras round what they report)."""
    return (
        position.pan is not None
        and position.tilt is not None
        and abs(position.pan - pan) < 0.5
        and abs(position.tilt - tilt) < 0.5
        and (zoom is None or position.zoom is None or abs(position.zoom - zoom) <= 50)
    )


def _record_module_available() -> bool:
    try:
        return importlib.util.find_spec("ipcam_async.record.mp4") is not None
    except ImportError:
        return False


@attrs.frozen
class _TourOptions:
    out_dir: Path
    seconds: float
    stream: str
    transport: str
    write: bool
    expected_fps: float | None
    frame_tolerance: int | None
    container: str


class _Tour:
    """The steps of one tour; each method returns a :class:`StepResult` or raises."""

    def __init__(self, cam: Camera, options: _TourOptions) -> None:
        self.cam = cam
        self.o = options

    async def parameters(self) -> StepResult:
        cam = self.cam
        everything = await cam.params.list()
        group = DEMO_PARAMETER.rsplit(".", 2)[0]
        count = len(everything)
        in_group = sum(1 for name in everything if name.startswith(group + "."))
        data: dict[str, Any] = {"count": count, "group": group, "in_group": in_group}
        listed = f"{count} parameters listed ({in_group} in {group})"
        if not self.o.write:
            return StepResult(True, listed + "; read-only: nothing updated", data)
        before = await cam.params.get(DEMO_PARAMETER)
        await cam.params.update({DEMO_PARAMETER: DEMO_VALUE})
        try:
            after = await cam.params.get(DEMO_PARAMETER)
        finally:
            await cam.params.update({DEMO_PARAMETER: before})
        restored = await cam.params.get(DEMO_PARAMETER)
        if after != DEMO_VALUE or restored != before:
            raise _StepFailed(f"{DEMO_PARAMETER} read back {after!r}, then {restored!r}")
        data.update(parameter=DEMO_PARAMETER, value=DEMO_VALUE, read_back=after)
        return StepResult(
            True,
            f"{listed}; set {DEMO_PARAMETER}={DEMO_VALUE!r}, read back the same, "
            f"restored {before!r}",
            data,
        )

    async def ptz(self) -> StepResult:
        cam = self.cam
        try:
            start = await cam.ptz.position()
        except NotFoundError:
            return StepResult(None, "the camera has no ptz.cgi (no PTZ head)")
        if start.pan is None or start.tilt is None:
            raise _StepFailed(f"position without pan/tilt: {start}")
        here = f"pan {_fmt(start.pan)} tilt {_fmt(start.tilt)} zoom {_fmt(start.zoom)}"
        if not self.o.write:
            return StepResult(None, f"at {here}; read-only: not moved", attrs.asdict(start))
        pan = _away(start.pan, PTZ_MOVE[0], 180)
        tilt = _away(start.tilt, PTZ_MOVE[1], 90)
        zoom = None if start.zoom is None else int(_away(start.zoom, PTZ_MOVE[2], 9999))
        await cam.ptz.goto(pan=pan, tilt=tilt, zoom=zoom)
        moved = time.perf_counter()
        trail = [start.pan]
        last, last_change = start, moved
        try:
            while True:
                position = await cam.ptz.position()
                now = time.perf_counter()
                if position.pan is not None and position.pan != trail[-1]:
                    trail.append(position.pan)
                if _arrived(position, pan, tilt, zoom):
                    break
                if position != last:
                    last, last_change = position, now
                elif now - last_change > PTZ_STALL:
                    raise _StepFailed(
                        f"the head stopped at pan {_fmt(position.pan)} tilt "
                        f"{_fmt(position.tilt)} zoom {_fmt(position.zoom)}, short of pan "
                        f"{pan:g} tilt {tilt:g} zoom {_fmt(zoom)}"
                    )
                await asyncio.sleep(0.1)
            travel = time.perf_counter() - moved
        finally:
            # Send the head back where the user had it; it travels on its own.
            await cam.ptz.goto(pan=start.pan, tilt=start.tilt, zoom=start.zoom)
        seen = " → ".join(f"{p:.1f}".removesuffix(".0") for p in trail)
        return StepResult(
            True,
            f"goto pan {pan:g} tilt {tilt:g} zoom {_fmt(zoom)}: arrived in {travel:.1f} s, "
            f"pan seen {seen}; sent back to {here}",
            {
                "pan": position.pan,
                "tilt": position.tilt,
                "zoom": position.zoom,
                "travel_seconds": travel,
                "pan_trail": trail,
            },
        )

    async def io_events(self) -> StepResult:
        cam = self.cam
        try:
            active = (await cam.io.outputs_active(1))[1]
        except NotFoundError:
            return StepResult(None, "the camera has no output.cgi (no digital outputs)")
        state = "active" if active else "inactive"
        if not self.o.write:
            connected = time.perf_counter()
            async with cam.events.monitor(groups=("IO",)) as monitor:
                first = await anext(monitor)
            if first.io is None:
                raise _StepFailed("the event monitor sent no IO status")
            latency = time.perf_counter() - connected
            return StepResult(
                None,
                f"output 1 {state}; event monitor's first IO status after "
                f"{latency * 1000:.0f} ms; read-only: not toggled",
                {"output1_active": active},
            )
        want = not active
        try:
            change, latency = await self._toggle_and_watch(want)
        finally:
            await cam.io.set_output(1, active)
        if (await cam.io.outputs_active(1))[1] != active:
            raise _StepFailed(f"output 1 did not return to {state}")
        kind = change.kind.value
        if kind != ("output-active" if want else "output-inactive"):
            raise _StepFailed(f"toggled output 1 but the monitor reported {kind}")
        return StepResult(
            True,
            f"output 1 {state} → {'active' if want else 'inactive'}: event monitor reported "
            f"{change.source} {kind} {latency * 1000:.0f} ms later; restored",
            {"latency": latency, "change": kind},
        )

    async def _toggle_and_watch(self, want: bool) -> tuple[Any, float]:
        """Set output 1 to ``want`` once the monitor has its baseline; wait for the change."""
        cam = self.cam
        async with cam.events.changes(groups=("IO",)) as changes:

            async def first_change() -> Any:
                async for change in changes:
                    if change.source == "Output1":
                        return change
                raise _StepFailed("the event monitor ended")

            waiter = asyncio.ensure_future(first_change())
            try:
                # The first snapshot is the baseline the transition is measured against; the
                # stream exposes only its counters, hence the short poll.
                while changes.stats.parts < 1 and not waiter.done():  # noqa: ASYNC110
                    await asyncio.sleep(0.005)
                if waiter.done():
                    waiter.result()  # the monitor failed before its first status: raise that
                    raise _StepFailed("the event monitor ended before its first status")
                toggled = time.perf_counter()
                await cam.io.set_output(1, want)
                change = await waiter
                return change, time.perf_counter() - toggled
            finally:
                if not waiter.done():
                    waiter.cancel()
                await asyncio.wait([waiter])

    async def snapshot(self) -> StepResult:
        path = self.o.out_dir / "snapshot.jpg"
        started = time.perf_counter()
        image = await self.cam.image.save_snapshot(path)
        fetched = time.perf_counter() - started
        width, height, how = await asyncio.to_thread(check_jpeg, image.data)
        if image.width is not None and (width, height) != (image.width, image.height):
            raise _StepFailed(
                f"JPEG header says {image.width}x{image.height}, decoded {width}x{height}"
            )
        return StepResult(
            True,
            f"{width}x{height} JPEG, {len(image.data) / 1024:.1f} KiB in "
            f"{fetched * 1000:.0f} ms, {how}",
            {"path": str(path), "width": width, "height": height, "bytes": len(image.data)},
        )

    async def mjpeg(self) -> StepResult:
        count = 3
        received: list[float] = []
        width = height = 0
        how = ""
        started = time.perf_counter()
        async with self.cam.mjpeg.frames(queue_size=count) as frames:
            async for frame in frames:
                received.append(time.perf_counter())
                if len(received) == 1:
                    width, height, how = await asyncio.to_thread(check_jpeg, frame.data)
                    path = self.o.out_dir / "mjpeg.jpg"
                    await asyncio.to_thread(path.write_bytes, frame.data)
                if len(received) >= count:
                    break
        if len(received) < count:
            raise _StepFailed(f"the MJPEG stream ended after {len(received)} frames")
        first = received[0] - started
        span = received[-1] - received[0]
        rate = (len(received) - 1) / span if span > 0 else 0.0
        return StepResult(
            True,
            f"{len(received)} frames from port {self.cam.mjpeg_port}, {width}x{height}, first "
            f"after {first * 1000:.0f} ms, {rate:.1f} fps, {how}",
            {"frames": len(received), "width": width, "height": height, "fps": rate},
        )

    async def record(self) -> StepResult:
        o = self.o
        notes: list[str] = []
        container = o.container
        if container == "mp4" and not _record_module_available():
            container = "h264"
            notes.append("ipcam_async.record is not available: recorded raw Annex B H.264")
        path = o.out_dir / f"{o.stream}.{container}"
        result = await record_clip(
            self.cam, path, seconds=o.seconds, stream=o.stream, transport=o.transport
        )
        fps = o.expected_fps or result.stream_fps
        if result.container == "mp4":
            check = await asyncio.to_thread(verify_mp4, path)
        else:
            check = await asyncio.to_thread(
                verify_annexb, path, fps=fps, audio_path=result.audio_path
            )
        data: dict[str, Any] = attrs.asdict(result)
        data["path"] = str(path)
        data["audio_path"] = str(result.audio_path) if result.audio_path else None
        data["check"] = attrs.asdict(check)
        expected = round(o.seconds * fps) if fps else None
        data["expected_frames"] = expected
        summary = self._record_summary(result, check, fps, expected)
        problems = self._record_problems(result, check, fps, expected)
        if problems:
            raise _StepFailed(f"{path.name}: " + "; ".join(problems) + f" [{summary}]")
        if check.decoded_frames is None:
            notes.append(
                f"{check.decoder}: frames and timing verified, pictures not decoded "
                "(pip install av to decode them)"
            )
        if result.container == "h264":
            notes.append(
                "raw Annex B H.264 carries no timestamps: its duration is frames / frame rate"
                + (f"; audio in {result.audio_path.name}" if result.audio_path else "")
            )
        return StepResult(True, summary, data, tuple(notes))

    def _record_problems(
        self, result: RecordingResult, check: Mp4Check, fps: float | None, expected: int | None
    ) -> list[str]:
        seconds = self.o.seconds
        problems: list[str] = []
        if expected is not None:
            tolerance = self.o.frame_tolerance
            if tolerance is None:
                tolerance = 1 + expected // 20
            if abs(result.video_frames - expected) > tolerance:
                problems.append(f"received {result.video_frames} frames, expected {expected}")
        if check.video_frames != result.video_frames:
            problems.append(f"file holds {check.video_frames} of {result.video_frames} frames")
        if check.decoded_frames is not None and check.decoded_frames != check.video_frames:
            problems.append(f"{check.decoded_frames} of {check.video_frames} frames decodable")
        if check.keyframes != result.keyframes:
            problems.append(f"file has {check.keyframes} keyframes, {result.keyframes} received")
        frame_time = 1 / fps if fps else 0.1
        if check.duration and abs(check.duration - seconds) > 2 * frame_time + 0.05:
            problems.append(f"lasts {check.duration:.2f} s, expected {seconds:g} s")
        if result.audio_frames and abs(check.audio_seconds - seconds) > 0.25:
            problems.append(f"{check.audio_seconds:.2f} s of audio, expected {seconds:g} s")
        return problems

    def _record_summary(
        self, result: RecordingResult, check: Mp4Check, fps: float | None, expected: int | None
    ) -> str:
        parts = [
            f"{result.video_frames} frames"
            + (f" (expected {expected})" if expected is not None else "")
            + f", {result.keyframes} keyframes, {result.lost_frames} lost",
            f"{result.width}x{result.height} "
            + (f"{fps:g} fps" if fps else "frame rate not announced")
            + f", RTSP/{self.o.transport.upper()} {result.wall_seconds:.1f} s",
            f"{check.duration:.2f} s video"
            + (f" + {check.audio_seconds:.2f} s PCMU audio" if result.audio_frames else "")
            + f", {result.bytes_written / 1024:.0f} KiB {result.path.name}"
            + (f" ({check.fragments} fragments)" if check.fragments else ""),
            f"{check.decoded_frames}/{check.video_frames} decoded by {check.decoder}"
            if check.decoded_frames is not None
            else f"checked by the {check.decoder}",
        ]
        return "; ".join(parts)


async def run_tour(
    cam: Camera,
    *,
    out_dir: Path,
    target: str,
    seconds: float = 5.0,
    stream: str = "h264",
    transport: str = "tcp",
    write: bool = True,
    expected_fps: float | None = None,
    frame_tolerance: int | None = None,
    mjpeg: bool = False,
    container: str = "mp4",
    progress: Callable[[DemoStep], None] | None = None,
) -> DemoReport:
    """Run every step against ``cam`` and return the report; ``write=False`` changes nothing.

    ``expected_fps`` (default: what the camera announces) sets the expected frame count of the
    recording, within ``frame_tolerance`` frames (default: 1 plus 5 %). ``mjpeg`` adds the
    MJPEG step; ``container`` is ``mp4`` or ``h264`` (raw Annex B). ``progress`` is called
    with each step as it finishes. Steps never raise: a failure is a ``FAIL`` step.
    """
    if container not in ("mp4", "h264"):
        raise ValueError(f"container must be mp4 or h264, not {container!r}")
    if not 0 < seconds <= 3600:
        raise ValueError(f"seconds must be in (0, 3600], not {seconds!r}")
    started = time.perf_counter()
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    tour = _Tour(
        cam,
        _TourOptions(
            out_dir, seconds, stream, transport, write, expected_fps, frame_tolerance, container
        ),
    )
    scrub: Callable[[str], str] = getattr(cam.transport, "scrub", lambda text: text)
    plan: list[tuple[str, StepBody, float]] = [
        ("parameters", tour.parameters, 20),
        ("ptz", tour.ptz, 30),
        ("io+events", tour.io_events, 20),
        ("snapshot", tour.snapshot, 20),
    ]
    if mjpeg:
        plan.append(("mjpeg", tour.mjpeg, 20))
    plan.append(("record", tour.record, seconds + 30))
    steps: list[DemoStep] = []
    for name, body, limit in plan:
        step = await _step(name, body, limit=limit, scrub=scrub)
        steps.append(step)
        if progress is not None:
            progress(step)
    return DemoReport(target, tuple(steps), str(out_dir), time.perf_counter() - started)


async def run_simulated_demo(
    *,
    out_dir: Path,
    seconds: float = 5.0,
    stream: str = "h264",
    transport: str = "tcp",
    mjpeg: bool = False,
    container: str = "mp4",
    progress: Callable[[str], None] | None = None,
    step_progress: Callable[[DemoStep], None] | None = None,
    sim_options: dict[str, Any] | None = None,
    on_started: Callable[[Any], object] | None = None,
) -> DemoReport:
    """Start a simulated camera on free loopback ports and run the tour against it.

    ``progress`` receives the header line once the simulator runs; ``sim_options`` go to
    :class:`~ipcam_async.sim.SimulatedCamera`; ``on_started(sim)`` runs before the tour (tests
    use it to inject faults). The frame count must match the clip's frame rate within 1.
    """
    from .sim import SimulatedCamera

    fps: float | None = None
    with contextlib.suppress(ImportError):
        from .sim.rtsp import default_streams

        source = default_streams().get(stream)
        fps = source.video.fps if source is not None else None
    options: dict[str, Any] = {"mjpeg": mjpeg, **(sim_options or {})}
    async with SimulatedCamera(**options) as sim:
        ports = f"HTTP port {sim.http_port}"
        if sim.rtsp_port:
            ports += f", RTSP port {sim.rtsp_port}"
        if mjpeg and sim.mjpeg_port:
            ports += f", MJPEG port {sim.mjpeg_port}"
        target = f"simulated camera {sim.model} at {sim.host} ({ports})"
        if progress is not None:
            progress(f"ipcam demo: {target}")
        if on_started is not None:
            on_started(sim)
        async with sim.camera() as cam:
            return await run_tour(
                cam,
                out_dir=out_dir,
                target=target,
                seconds=seconds,
                stream=stream,
                transport=transport,
                write=True,
                expected_fps=fps,
                frame_tolerance=1,
                mjpeg=mjpeg,
                container=container,
                progress=step_progress,
            )
