"""A fragmented MP4 (ISO/IEC 14496-12) writer for H.264 video and PCMU audio from RTP.

The file is ``ftyp`` + ``moov`` (no samples, an ``mvex`` announcing fragments) written and flushed
before any media, then one ``moof`` + ``mdat`` pair per GOP (or per configured duration), each
written with a single ``write`` once complete. A process killed at any moment therefore leaves a
file whose every complete fragment is playable: nothing written earlier is ever rewritten, except
the duration fields patched in place by :meth:`FragmentedMp4Writer.close` (fixed-size fields, so a
crash mid-patch cannot corrupt the structure).

Timing: video uses the RTP clock (90 kHz) as the media timescale, audio its sample rate. A sample's
duration is the distance to the next sample's RTP timestamp, so a gap left by lost frames stays a
gap in the file (``tfdt`` keeps the absolute decode time of every fragment). The wall-clock time
of the first frame (from RTCP Sender Reports when known) goes into ``mvhd``/``tkhd``/``mdhd``
creation times, a ``udta``/``©day`` ISO 8601 string with milliseconds (FFmpeg exposes it as the
``date`` tag) and a ``prft`` box before every fragment.

H.264 samples are stored length-prefixed (``avc1`` with an ``avcC`` built from the SPS/PPS); the
parameter sets themselves and access unit delimiters are removed from the samples. An access unit
carrying different parameter sets raises :class:`ParameterSetsChanged` before anything is written,
so the caller can close this file and start a new one.
"""

from __future__ import annotations

import functools
import os
import struct
import time
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO, Protocol, cast

import attrs

from ..errors import ProtocolError, RecorderError
from ..rtp.h264 import H264Parameters, split_annexb

__all__ = [
    "AudioTrackConfig",
    "FragmentedMp4Writer",
    "ParameterSetsChanged",
    "WriterStats",
    "parameters_from_access_unit",
]

_U32 = struct.Struct(">I")
_BOX_HEADER = struct.Struct(">I4s")
_TRUN_VIDEO_SAMPLE = struct.Struct(">III")
_TRUN_AUDIO_SAMPLE = struct.Struct(">II")
_I32 = struct.Struct(">i")
# traf header(8) + tfhd(16) + tfdt v1(20) + trun header(8) + version/flags(4) + sample_count(4).
_TRUN_DATA_OFFSET_POS = 8 + 16 + 20 + 8 + 4 + 4

# Seconds between the MP4 epoch (1904-01-01) and the UNIX epoch.
_MP4_EPOCH_OFFSET = 2082844800
# NTP epoch (1900-01-01) to UNIX epoch, for prft.
_NTP_EPOCH_OFFSET = 2208988800

_VIDEO_TIMESCALE = 90000
_SYNC_FLAGS = 0x02000000  # sample_depends_on=2 (I picture)
_NON_SYNC_FLAGS = 0x01010000  # sample_depends_on=1, sample_is_non_sync_sample=1
_UNITY_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)

_NAL_SPS = 7
_NAL_PPS = 8
_NAL_AUD = 9
_NAL_IDR = 5

# A sample may not claim more than this much time: a larger jump is a discontinuity (encoder
# restart, reconnect), not loss, and is replaced by the previous sample's duration.
DEFAULT_MAX_GAP = 10.0


class ParameterSetsChanged(RecorderError):
    """An access unit carries SPS/PPS different from the file's ``avcC``: start a new file."""

    def __init__(self, parameters: H264Parameters) -> None:
        self.parameters = parameters
        super().__init__("H.264 parameter sets changed; a new file is needed")


def parameters_from_access_unit(data: bytes | memoryview) -> H264Parameters | None:
    """The SPS/PPS carried in-band by an Annex B access unit, when it has both.

    Raises :class:`~ipcam_async.errors.RecorderError` when the SPS cannot be parsed.
    """
    sps = pps = None
    for nal in split_annexb(data):
        kind = nal[0] & 0x1F
        if kind == _NAL_SPS and sps is None:
            sps = bytes(nal)
        elif kind == _NAL_PPS and pps is None:
            pps = bytes(nal)
    if sps is None or pps is None:
        return None
    return _parameters(sps, pps)


def _parameters(sps: bytes, pps: bytes) -> H264Parameters:
    try:
        return H264Parameters.from_nals(sps, pps)
    except ProtocolError as exc:
        raise RecorderError(f"unusable H.264 parameter sets: {exc}") from exc


@attrs.frozen(slots=True)
class AudioTrackConfig:
    """An audio track: G.711 µ-law (``PCMU``), stored as the QuickTime ``ulaw`` sample entry."""

    codec: str = "PCMU"
    sample_rate: int = 8000
    channels: int = 1

    def __attrs_post_init__(self) -> None:
        if self.codec.upper() != "PCMU":
            raise RecorderError(f"unsupported audio codec {self.codec!r} (PCMU only)")
        if not 1 <= self.sample_rate <= 0xFFFF or not 1 <= self.channels <= 8:
            raise RecorderError("unsupported audio sample rate or channel count")


class VideoFrameLike(Protocol):
    """What :meth:`FragmentedMp4Writer.write_frame` needs of a video frame (``rtp.VideoFrame``)."""

    @property
    def ext_timestamp(self) -> int: ...
    @property
    def keyframe(self) -> bool: ...
    @property
    def data(self) -> bytes: ...
    @property
    def wallclock(self) -> float | None: ...


def _box(kind: bytes, *payload: bytes | bytearray) -> bytes:
    size = 8 + sum(len(p) for p in payload)
    return _BOX_HEADER.pack(size, kind) + b"".join(payload)


def _full_box(kind: bytes, version: int, flags: int, *payload: bytes | bytearray) -> bytes:
    return _box(kind, _U32.pack((version << 24) | flags), *payload)


def _mp4_time(unix: float) -> int:
    return max(0, int(unix) + _MP4_EPOCH_OFFSET)


@attrs.define(slots=True)
class _Track:
    track_id: int
    timescale: int
    # Samples of the fragment being built: (duration, size, flags) and the payload pieces.
    durations: list[int] = attrs.field(factory=list)
    sizes: list[int] = attrs.field(factory=list)
    flags: list[int] = attrs.field(factory=list)
    payload: list[bytes | memoryview] = attrs.field(factory=list)
    payload_size: int = 0
    # Decode time of the fragment's first sample, in track timescale.
    base_time: int = 0
    # The sample waiting for its successor to learn its duration.
    pending: tuple[int, list[bytes | memoryview], int, int] | None = None  # ts, pieces, size, flag
    first_ts: int | None = None
    decode_time: int = 0  # decode time of the pending sample
    last_duration: int = 0
    samples: int = 0
    max_gap: int = 0


@attrs.define(slots=True)
class WriterStats:
    """Counters of one :class:`FragmentedMp4Writer`."""

    video_frames: int = 0
    audio_frames: int = 0
    fragments: int = 0
    bytes_written: int = 0  # bytes actually written (queued ones count once performed)
    discontinuities: int = 0
    dropped_audio: int = 0


class FragmentedMp4Writer:
    """Write H.264 (+ optional PCMU) to a fragmented MP4 file, playable after a crash.

    ``file`` is a path (opened for exclusive creation) or a binary file object opened for writing
    at offset 0. ``fragment_duration`` (seconds) ``None`` cuts one fragment per GOP (at every
    keyframe); a number cuts at the first keyframe past that duration, and also without a keyframe
    past twice that duration, so a camera with a very long GOP still reaches the disk regularly.
    ``wallclock`` is the UNIX time of the first video frame when known (otherwise the first frame's
    own ``wallclock``, else the local clock). ``fsync`` forces every fragment to stable storage.

    Feed access units in decode order with :meth:`add_video` (Annex B, 90 kHz extended RTP
    timestamps) and audio with :meth:`add_audio`; call :meth:`close` at the end. Not thread-safe.
    File I/O is synchronous (a fragment is one ``write`` call) unless ``io_queue`` is given: the
    file operations are then appended to that list, in order, for the caller to run later (in
    a worker thread, so a slow disk never blocks an event loop); a failed operation raises
    :class:`~ipcam_async.errors.RecorderError` when run and turns the later ones into no-ops.
    The file itself is opened at once (an unwritable path fails here).
    """

    def __init__(
        self,
        file: str | os.PathLike[str] | BinaryIO,
        video: H264Parameters,
        *,
        audio: AudioTrackConfig | None = None,
        fragment_duration: float | None = None,
        wallclock: float | None = None,
        fsync: bool = False,
        max_gap: float = DEFAULT_MAX_GAP,
        write_index: bool = True,
        io_queue: list[Callable[[], None]] | None = None,
    ) -> None:
        if fragment_duration is not None and fragment_duration <= 0:
            raise RecorderError("fragment_duration must be positive")
        self.video_config = video
        self.audio_config = audio
        self.stats = WriterStats()
        self._fragment_ticks = (
            None if fragment_duration is None else int(fragment_duration * _VIDEO_TIMESCALE)
        )
        self._fsync = fsync
        self._io_queue = io_queue
        self._write_index = write_index
        self._wallclock = wallclock
        self._sequence = 0
        self._closed = False
        self._header_written = False
        self._fragment_index: list[tuple[int, int]] = []  # (video decode time, moof offset)
        self._video = _Track(track_id=1, timescale=_VIDEO_TIMESCALE)
        self._video.max_gap = int(max_gap * _VIDEO_TIMESCALE)
        self._audio: _Track | None = None
        if audio is not None:
            self._audio = _Track(track_id=2, timescale=audio.sample_rate)
            self._audio.max_gap = int(max_gap * audio.sample_rate)
        self.path: str | None = None
        if isinstance(file, str | os.PathLike):
            self.path = os.fspath(file)
            try:
                self._file: BinaryIO = cast(BinaryIO, open(self.path, "xb", buffering=0))  # noqa: SIM115
            except OSError as exc:
                raise RecorderError(f"cannot create {self.path}: {exc}") from exc
            self._owns_file = True
        else:
            self._file = file
            self._owns_file = False
        self._offset = 0
        self._broken = False
        self._pending_wallclock: float | None = None
        self._fragment_wallclock: float | None = None
        self._commit_mode = self._pick_commit_mode()
        # (file offset, what): 64-bit duration fields patched at close.
        self._duration_offsets: list[tuple[int, str]] = []

    # -- public API ----------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._closed

    @property
    def duration(self) -> float:
        """Seconds of video written or pending so far."""
        track = self._video
        if track.first_ts is None:
            return 0.0
        # decode_time is the pending sample's start; its duration is unknown until the next one.
        pending = track.last_duration if track.pending is not None else 0
        return (track.decode_time + pending) / _VIDEO_TIMESCALE

    @property
    def bytes_written(self) -> int:
        """Bytes in the file so far (header and complete fragments), queued writes included."""
        return self._offset

    @property
    def pending_bytes(self) -> int:
        """Media bytes held in memory for the fragment being built."""
        size = self._video.payload_size
        if self._audio is not None:
            size += self._audio.payload_size
        return size

    def write_frame(self, frame: Any) -> None:
        """Add an ``rtp.VideoFrame`` or ``rtp.AudioFrame`` (audio has a ``sample_rate``)."""
        data = frame.data if frame.views is None else b"".join(frame.views)
        # Not ``keyframe``: AudioFrame has one too (always True).
        if not hasattr(frame, "sample_rate"):
            self.add_video(data, frame.ext_timestamp, frame.keyframe, wallclock=frame.wallclock)
        else:
            self.add_audio(data, frame.ext_timestamp)

    def add_video(
        self, data: bytes, timestamp: int, keyframe: bool, *, wallclock: float | None = None
    ) -> None:
        """Add one H.264 access unit (Annex B) with its extended 90 kHz RTP timestamp.

        The first access unit of a file must be a keyframe (earlier ones raise
        :class:`~ipcam_async.errors.RecorderError`). Raises :class:`ParameterSetsChanged` (and
        writes nothing) when the access unit carries parameter sets unlike the file's.
        """
        self._check_open()
        track = self._video
        pieces: list[bytes | memoryview] = []
        size = 0
        sps = pps = None
        for nal in split_annexb(data):
            if not nal:
                continue
            kind = nal[0] & 0x1F
            if kind == _NAL_SPS:
                sps = nal
                continue
            if kind == _NAL_PPS:
                pps = nal
                continue
            if kind == _NAL_AUD:
                continue
            if kind == _NAL_IDR:
                keyframe = True
            pieces.append(_U32.pack(len(nal)))
            pieces.append(nal)
            size += 4 + len(nal)
        cfg = self.video_config
        if (sps is not None and sps != cfg.sps) or (pps is not None and pps != cfg.pps):
            raise ParameterSetsChanged(
                _parameters(
                    bytes(sps) if sps is not None else cfg.sps,
                    bytes(pps) if pps is not None else cfg.pps,
                )
            )
        if not pieces:
            return  # parameter sets only: nothing to store
        if track.first_ts is None:
            if not keyframe:
                raise RecorderError("the first video frame of a file must be a keyframe")
            if self._wallclock is None:
                self._wallclock = wallclock if wallclock is not None else time.time()
            self._write_header()
            track.first_ts = timestamp
            track.decode_time = 0
        else:
            self._release_pending(track, timestamp)
            if self._should_cut(track, on_keyframe=keyframe):
                self._flush_fragment()
        track.pending = (timestamp, pieces, size, _SYNC_FLAGS if keyframe else _NON_SYNC_FLAGS)
        self._pending_wallclock = wallclock
        self.stats.video_frames += 1

    def add_audio(self, data: bytes, timestamp: int) -> None:
        """Add one PCMU packet with its extended RTP timestamp (sample-rate clock).

        Audio that arrives before the first video keyframe is dropped (counted): a file starts on a
        picture.
        """
        self._check_open()
        track = self._audio
        if track is None:
            raise RecorderError("this file has no audio track")
        if self._video.first_ts is None:
            self.stats.dropped_audio += 1
            return
        if not data:
            return
        if track.first_ts is None:
            # Align the audio start with the video already written: ours starts "now".
            track.first_ts = timestamp
            video_now = self._video.decode_time
            track.decode_time = video_now * track.timescale // _VIDEO_TIMESCALE
            track.base_time = track.decode_time
        else:
            self._release_pending(track, timestamp)
        track.pending = (timestamp, [data], len(data), 0)
        self.stats.audio_frames += 1

    def flush(self) -> None:
        """Write everything buffered as a fragment now (the pending last sample included)."""
        self._check_open()
        self._flush_fragment(include_pending=True)

    def close(self) -> None:
        """Flush the last fragment, write the fragment index, patch durations, close the file."""
        if self._closed:
            return
        try:
            if self._header_written and not self._broken:
                self._flush_fragment(include_pending=True)
                if self._write_index and self._fragment_index:
                    self._write(self._mfra())
                self._patch_durations()
        finally:
            self._closed = True
            if self._owns_file:
                self._io(self._file.close)

    def _io(self, op: Callable[[], None]) -> None:
        """Run a file operation now, or queue it when the writer defers its I/O."""
        if self._io_queue is None:
            op()
        else:
            self._io_queue.append(op)

    def __enter__(self) -> FragmentedMp4Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------------

    def _pick_commit_mode(self) -> str:
        """``pwrite`` for real files, ``seek`` for other seekable objects, else ``stream``."""
        try:
            seekable = bool(self._file.seekable())
        except (AttributeError, OSError, ValueError):
            seekable = False
        if not seekable:
            return "stream"
        try:
            self._file.fileno()
        except (AttributeError, OSError, ValueError):
            return "seek"
        return "pwrite"

    def _check_open(self) -> None:
        if self._closed:
            raise RecorderError("writer is closed")

    def _should_cut(self, track: _Track, *, on_keyframe: bool) -> bool:
        if not track.durations:
            return False
        if self._fragment_ticks is None:
            return on_keyframe
        elapsed = track.decode_time - track.base_time
        if on_keyframe:
            return elapsed >= self._fragment_ticks
        return elapsed >= 2 * self._fragment_ticks

    def _release_pending(self, track: _Track, next_ts: int) -> None:
        """Move the pending sample into the fragment: the next timestamp fixes its duration."""
        pending = track.pending
        if pending is None:
            return
        ts, pieces, size, flag = pending
        duration = next_ts - ts
        if duration <= 0 or duration > track.max_gap:
            # Backwards or absurd jumps are discontinuities, not gaps: keep the timeline moving.
            self.stats.discontinuities += 1
            duration = track.last_duration or (track.timescale // 30 or 1)
            if track is self._audio:
                duration = size
        if track is self._video and not track.durations:
            # The fragment's first picture: its RTCP capture time goes into the fragment's prft.
            self._fragment_wallclock = self._pending_wallclock
        track.durations.append(duration)
        track.sizes.append(size)
        track.flags.append(flag)
        track.payload.extend(pieces)
        track.payload_size += size
        track.decode_time += duration
        track.last_duration = duration
        track.pending = None

    def _release_last(self, track: _Track) -> None:
        if track.pending is None:
            return
        ts = track.pending[0]
        if track is self._audio:
            guess = track.pending[2]  # one byte per µ-law sample
        else:
            guess = track.last_duration or _VIDEO_TIMESCALE // 30
        self._release_pending(track, ts + guess)

    def _write(self, data: bytes) -> None:
        if self._broken:
            raise RecorderError("an earlier write failed; this file takes no more data")
        self._io(functools.partial(self._write_now, data))
        self._offset += len(data)

    def _write_now(self, data: bytes) -> None:
        if self._broken:
            return  # a deferred write after a failed one: the failure was reported already
        view = memoryview(data)
        try:
            while view:
                written = self._file.write(view)
                if written is None:
                    raise RecorderError("non-blocking file objects are not supported")
                view = view[written:]
            if self._fsync:
                self._file.flush()
                os.fsync(self._file.fileno())
        except OSError as exc:
            # Whatever part went out is a 'free' box or a partial mdat: harmless, but the offsets
            # are now unknown, so nothing more can be appended.
            self._broken = True
            raise RecorderError(f"write failed: {exc}") from exc
        self.stats.bytes_written += len(data)

    def _write_header(self) -> None:
        init = self._init_segment()
        self._write(init)
        self._header_written = True

    def _flush_fragment(self, *, include_pending: bool = False) -> None:
        video, audio = self._video, self._audio
        if include_pending:
            self._release_last(video)
            if audio is not None:
                self._release_last(audio)
        tracks = [t for t in (video, audio) if t is not None and t.durations]
        if not tracks:
            return
        self._sequence += 1
        prft = b""
        if video.durations and self._wallclock is not None:
            prft = self._prft(video.base_time, self._fragment_wallclock)
        moof = self._moof(tracks)
        pad = b""
        moof_offset = self._offset + len(prft)
        if self._commit_mode != "stream":
            # The moof goes out typed 'free' (readers skip it) with its mdat, then one 4-byte write
            # turns it into a 'moof'. That write must not straddle a page, so it cannot be torn.
            if (moof_offset + 4) % 4096 > 4092:
                pad = _BOX_HEADER.pack(8, b"free")
                moof_offset += len(pad)
            moof = moof[:4] + b"free" + moof[8:]
        mdat_size = 8 + sum(t.payload_size for t in tracks)
        parts: list[bytes | memoryview] = [pad, prft, moof, _BOX_HEADER.pack(mdat_size, b"mdat")]
        for t in tracks:
            parts.extend(t.payload)
        self._write(b"".join(parts))
        if self._commit_mode != "stream":
            self._commit(moof_offset)
        if video.durations:
            self._fragment_index.append((video.base_time, moof_offset))
        self.stats.fragments += 1
        for t in tracks:
            t.base_time += sum(t.durations)
            t.durations = []
            t.sizes = []
            t.flags = []
            t.payload = []
            t.payload_size = 0

    def _commit(self, moof_offset: int) -> None:
        """Turn the 'free' box at ``moof_offset`` into the 'moof' it holds: its mdat is complete."""
        self._io(functools.partial(self._commit_now, moof_offset))

    def _commit_now(self, moof_offset: int) -> None:
        if self._broken:
            return
        try:
            if self._commit_mode == "pwrite":
                self._file.flush()
                fd = self._file.fileno()
                if self._fsync:
                    os.fdatasync(fd)  # the media must be stable before the box that points at it
                if os.pwrite(fd, b"moof", moof_offset + 4) != 4:
                    raise OSError("short write")
                if self._fsync:
                    os.fdatasync(fd)
            else:
                self._file.seek(moof_offset + 4)
                self._file.write(b"moof")
                self._file.seek(0, os.SEEK_END)
                self._file.flush()
        except OSError as exc:
            self._broken = True
            raise RecorderError(f"write failed: {exc}") from exc

    def _moof(self, tracks: Sequence[_Track]) -> bytes:
        mfhd = _full_box(b"mfhd", 0, 0, _U32.pack(self._sequence))
        trafs = [self._traf(t) for t in tracks]
        data_offset = 8 + len(mfhd) + sum(len(t) for t in trafs) + 8  # past the mdat header
        for traf, track in zip(trafs, tracks, strict=True):
            _I32.pack_into(traf, _TRUN_DATA_OFFSET_POS, data_offset)
            data_offset += track.payload_size
        return _box(b"moof", mfhd, *trafs)

    def _traf(self, track: _Track) -> bytearray:
        """One ``traf``; its ``trun`` data offset is left zero for :meth:`_moof` to fill."""
        # default-base-is-moof: offsets are relative to the moof, no absolute file offsets.
        tfhd = _full_box(b"tfhd", 0, 0x020000, _U32.pack(track.track_id))
        tfdt = _full_box(b"tfdt", 1, 0, struct.pack(">Q", track.base_time))
        count = len(track.durations)
        if track is self._video:
            samples = b"".join(
                _TRUN_VIDEO_SAMPLE.pack(d, s, f)
                for d, s, f in zip(track.durations, track.sizes, track.flags, strict=True)
            )
            flags = 0x000001 | 0x000100 | 0x000200 | 0x000400
        else:
            samples = b"".join(
                _TRUN_AUDIO_SAMPLE.pack(d, s)
                for d, s in zip(track.durations, track.sizes, strict=True)
            )
            flags = 0x000001 | 0x000100 | 0x000200
        trun = _full_box(b"trun", 0, flags, struct.pack(">Ii", count, 0), samples)
        return bytearray(_box(b"traf", tfhd, tfdt, trun))

    def _prft(self, media_time: int, wallclock: float | None) -> bytes:
        """Producer reference time: the picture at ``media_time`` was captured at ``wallclock``
        (from RTCP; without it, the file's start time plus the media time)."""
        assert self._wallclock is not None
        unix = wallclock
        if unix is None:
            unix = self._wallclock + media_time / _VIDEO_TIMESCALE
        ntp = unix + _NTP_EPOCH_OFFSET
        seconds = int(ntp)
        fraction = int((ntp - seconds) * (1 << 32)) & 0xFFFFFFFF
        return _full_box(b"prft", 1, 0, struct.pack(">IIIQ", 1, seconds, fraction, media_time))

    def _init_segment(self) -> bytes:
        ftyp = _box(b"ftyp", b"isom", _U32.pack(0x200), b"isomiso6avc1mp41")
        assert self._wallclock is not None
        created = _mp4_time(self._wallclock)
        header_len = len(ftyp) + 8  # moov header precedes mvhd
        mvhd = _full_box(
            b"mvhd",
            1,
            0,
            struct.pack(">QQIQ", created, created, 1000, 0),
            struct.pack(">IH", 0x00010000, 0x0100),
            bytes(10),
            _UNITY_MATRIX,
            bytes(24),
            _U32.pack(3 if self._audio is not None else 2),
        )
        # mvhd v1 duration: after version/flags(4) + creation(8) + modification(8) + timescale(4).
        self._duration_offsets.append((header_len + 8 + 4 + 8 + 8 + 4, "movie"))
        offset = header_len + len(mvhd)
        boxes = [mvhd]
        video_trak = self._trak_video(created, offset)
        boxes.append(video_trak)
        offset += len(video_trak)
        if self._audio is not None:
            audio_trak = self._trak_audio(created, offset)
            boxes.append(audio_trak)
            offset += len(audio_trak)
        mvex_children = [_full_box(b"mehd", 1, 0, struct.pack(">Q", 0))]
        self._duration_offsets.append((offset + 8 + 8 + 4, "movie"))
        for track in (self._video, self._audio):
            if track is not None:
                mvex_children.append(
                    _full_box(b"trex", 0, 0, struct.pack(">5I", track.track_id, 1, 0, 0, 0))
                )
        boxes.append(_box(b"mvex", *mvex_children))
        boxes.append(self._udta())
        return ftyp + _box(b"moov", *boxes)

    def _udta(self) -> bytes:
        assert self._wallclock is not None
        seconds, millis = divmod(round(self._wallclock * 1000), 1000)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        text = f"{stamp}.{millis:03d}Z".encode()
        # QuickTime international text: 16-bit length, 16-bit language code, then the string.
        day = _box(b"\xa9day", struct.pack(">HH", len(text), 0x55C4), text)
        tool = b"ipcam_async"
        too = _box(b"\xa9too", struct.pack(">HH", len(tool), 0x55C4), tool)
        return _box(b"udta", day, too)

    def _tkhd(self, created: int, track_id: int, volume: int, width: int, height: int) -> bytes:
        return _full_box(
            b"tkhd",
            1,
            0x000003,  # enabled, in movie
            struct.pack(">QQIIQ", created, created, track_id, 0, 0),
            bytes(8),
            struct.pack(">hhhH", 0, 0, volume, 0),
            _UNITY_MATRIX,
            struct.pack(">II", width << 16, height << 16),
        )

    def _mdhd(self, created: int, timescale: int) -> bytes:
        return _full_box(
            b"mdhd", 1, 0, struct.pack(">QQIQHH", created, created, timescale, 0, 0x55C4, 0)
        )

    @staticmethod
    def _hdlr(kind: bytes, name: bytes) -> bytes:
        return _full_box(b"hdlr", 0, 0, _U32.pack(0), kind, bytes(12), name + b"\x00")

    @staticmethod
    def _dinf() -> bytes:
        url = _full_box(b"url ", 0, 1)  # media data in this file
        return _box(b"dinf", _full_box(b"dref", 0, 0, _U32.pack(1), url))

    @staticmethod
    def _empty_tables(stsd: bytes) -> bytes:
        return _box(
            b"stbl",
            stsd,
            _full_box(b"stts", 0, 0, _U32.pack(0)),
            _full_box(b"stsc", 0, 0, _U32.pack(0)),
            _full_box(b"stsz", 0, 0, _U32.pack(0), _U32.pack(0)),
            _full_box(b"stco", 0, 0, _U32.pack(0)),
        )

    def _trak_video(self, created: int, offset: int) -> bytes:
        cfg = self.video_config
        avc1 = _box(
            b"avc1",
            bytes(6),
            struct.pack(">H", 1),  # data_reference_index
            bytes(16),
            struct.pack(">HHIIIH", cfg.width, cfg.height, 0x00480000, 0x00480000, 0, 1),
            bytes((len(b"ipcam_async H.264"),)) + b"ipcam_async H.264".ljust(31, b"\x00"),
            struct.pack(">Hh", 0x0018, -1),
            _box(b"avcC", cfg.avc_decoder_configuration()),
        )
        stsd = _full_box(b"stsd", 0, 0, _U32.pack(1), avc1)
        minf = _box(
            b"minf",
            _full_box(b"vmhd", 0, 1, bytes(8)),
            self._dinf(),
            self._empty_tables(stsd),
        )
        tkhd = self._tkhd(created, 1, 0, cfg.width, cfg.height)
        mdhd = self._mdhd(created, _VIDEO_TIMESCALE)
        # tkhd v1 duration: after version/flags(4) + times(16) + track_ID(4) + reserved(4).
        self._duration_offsets.append((offset + 8 + 8 + 4 + 16 + 8, "movie"))
        mdia_start = offset + 8 + len(tkhd)
        self._duration_offsets.append((mdia_start + 8 + 8 + 4 + 16 + 4, "video"))
        mdia = _box(b"mdia", mdhd, self._hdlr(b"vide", b"VideoHandler"), minf)
        return _box(b"trak", tkhd, mdia)

    def _trak_audio(self, created: int, offset: int) -> bytes:
        cfg = self.audio_config
        assert cfg is not None
        ulaw = _box(
            b"ulaw",
            bytes(6),
            struct.pack(">H", 1),
            bytes(8),
            struct.pack(">HHHHI", cfg.channels, 16, 0, 0, cfg.sample_rate << 16),
        )
        stsd = _full_box(b"stsd", 0, 0, _U32.pack(1), ulaw)
        minf = _box(
            b"minf",
            _full_box(b"smhd", 0, 0, bytes(4)),
            self._dinf(),
            self._empty_tables(stsd),
        )
        tkhd = self._tkhd(created, 2, 0x0100, 0, 0)
        mdhd = self._mdhd(created, cfg.sample_rate)
        self._duration_offsets.append((offset + 8 + 8 + 4 + 16 + 8, "movie_audio"))
        mdia_start = offset + 8 + len(tkhd)
        self._duration_offsets.append((mdia_start + 8 + 8 + 4 + 16 + 4, "audio"))
        mdia = _box(b"mdia", mdhd, self._hdlr(b"soun", b"SoundHandler"), minf)
        return _box(b"trak", tkhd, mdia)

    def _mfra(self) -> bytes:
        entries = b"".join(
            struct.pack(">QQBBB", decode_time, moof_offset, 1, 1, 1)
            for decode_time, moof_offset in self._fragment_index
        )
        tfra = _full_box(
            b"tfra", 1, 0, struct.pack(">III", 1, 0, len(self._fragment_index)), entries
        )
        mfro_size = 16
        total = 8 + len(tfra) + mfro_size
        mfro = _full_box(b"mfro", 0, 0, _U32.pack(total))
        return _box(b"mfra", tfra, mfro)

    def _patch_durations(self) -> None:
        """Fill in the movie/track durations now that they are known (fixed-size, in place)."""
        if self._commit_mode != "stream":
            self._io(functools.partial(self._patch_now, self._duration_values()))

    def _duration_values(self) -> list[tuple[int, bytes]]:
        """(file offset, 64-bit big-endian value) of every duration field."""
        video_ticks = self._video.base_time
        audio_ticks = self._audio.base_time if self._audio is not None else 0
        audio_rate = self._audio.timescale if self._audio is not None else 1
        values = {
            "movie": video_ticks * 1000 // _VIDEO_TIMESCALE,
            "video": video_ticks,
            "audio": audio_ticks,
            "movie_audio": audio_ticks * 1000 // audio_rate,
        }
        return [
            (offset, values[what].to_bytes(8, "big")) for offset, what in self._duration_offsets
        ]

    def _patch_now(self, fields: list[tuple[int, bytes]]) -> None:
        if self._broken:
            return
        try:
            self._file.flush()
            for offset, field in fields:
                if self._commit_mode == "pwrite":
                    os.pwrite(self._file.fileno(), field, offset)
                else:
                    self._file.seek(offset)
                    self._file.write(field)
            if self._commit_mode == "seek":
                self._file.seek(0, os.SEEK_END)
            self._file.flush()
            if self._fsync:
                os.fsync(self._file.fileno())
        except OSError as exc:
            raise RecorderError(f"cannot finalise file: {exc}") from exc
