"""Media sources of the simulated camera: looped clips loaded from Annex B, JPEG and µ-law files.

The package ships small pre-encoded clips in ``ipcam_async/sim/media`` (made by
``scripts/make_media.py``); any H.264 Annex B file, concatenated-JPEG file or headerless µ-law
file can be served instead (see :func:`load_h264`, :func:`load_mjpeg`, :func:`load_ulaw`).
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from ...errors import InvalidArgument, ProtocolError
from ...rtp.h264 import parse_sps, split_annexb

__all__ = [
    "MEDIA_DIR",
    "AudioClip",
    "StreamSource",
    "VideoClip",
    "default_streams",
    "load_h264",
    "load_mjpeg",
    "load_ulaw",
    "split_access_units",
    "split_jpeg_frames",
]

MEDIA_DIR = Path(__file__).resolve().parent.parent / "media"

_NAL_SLICE = 1
_NAL_IDR = 5
_NAL_SEI = 6
_NAL_SPS = 7
_NAL_PPS = 8
_NAL_AUD = 9
# NAL types that open a new access unit when they follow a picture (H.264 7.4.1.2.3).
_AU_OPENERS = frozenset({_NAL_SEI, _NAL_SPS, _NAL_PPS, _NAL_AUD, 14, 15, 16, 17, 18})
_MAX_FRAMES = 100_000


@attrs.frozen(slots=True)
class VideoClip:
    """A looped video clip: one entry per frame, in decoding order, all at ``fps``.

    For ``codec == "H264"`` a frame is a tuple of NAL units (no start codes); every IDR frame
    carries SPS and PPS. For ``codec == "JPEG"`` a frame is one JFIF image.
    """

    codec: str
    width: int
    height: int
    fps: float
    frames: tuple[tuple[bytes, ...], ...]
    sps: bytes = b""
    pps: bytes = b""

    @property
    def profile_level_id(self) -> str:
        """SDP ``profile-level-id`` (six hex digits) from the SPS; empty for JPEG."""
        if not self.sps:
            return ""
        return self.sps[1:4].hex().upper()

    @property
    def sprop_parameter_sets(self) -> str:
        """SDP ``sprop-parameter-sets``: base64 SPS and PPS separated by a comma."""
        if not self.sps:
            return ""
        return ",".join(base64.b64encode(n).decode("ascii") for n in (self.sps, self.pps))

    @property
    def duration(self) -> float:
        """Length of one loop in seconds."""
        return len(self.frames) / self.fps

    @property
    def size(self) -> int:
        """Total payload bytes of one loop."""
        return sum(len(n) for f in self.frames for n in f)


@attrs.frozen(slots=True)
class AudioClip:
    """A looped G.711 µ-law clip (one byte per sample)."""

    data: bytes
    sample_rate: int = 8000
    codec: str = "PCMU"

    @property
    def duration(self) -> float:
        """Length of one loop in seconds."""
        return len(self.data) / self.sample_rate


@attrs.frozen(slots=True)
class StreamSource:
    """What one RTSP path serves: a video clip and optionally an audio clip (track2)."""

    video: VideoClip
    audio: AudioClip | None = None


def _nal_type(nal: bytes | memoryview) -> int:
    return nal[0] & 0x1F


def split_access_units(nals: Sequence[bytes | memoryview]) -> list[list[bytes]]:
    """Group NAL units of an Annex B stream into access units (H.264 7.4.1.2.3).

    A new access unit starts at an AUD, SPS, PPS, SEI (or reserved 14..18) NAL unit following a
    picture, or at a slice whose ``first_mb_in_slice`` is 0 (its first slice-header bit is 1).
    """
    units: list[list[bytes]] = []
    current: list[bytes] = []
    has_picture = False
    for nal in nals:
        if not nal:
            continue
        kind = _nal_type(nal)
        if kind in (_NAL_SLICE, _NAL_IDR):
            first_mb_zero = len(nal) > 1 and bool(nal[1] & 0x80)
            if has_picture and first_mb_zero:
                units.append(current)
                current = []
            has_picture = True
        elif kind in _AU_OPENERS and has_picture:
            units.append(current)
            current = []
            has_picture = False
        current.append(bytes(nal))
    if current and has_picture:
        units.append(current)
    return units


def load_h264(path: str | Path, *, fps: float | None = None) -> VideoClip:
    """Load an H.264 Annex B file as a loopable clip.

    Frames before the first IDR are dropped (a loop must start on an IDR); IDR frames without
    their own SPS/PPS get the stream's prepended, so a client joining at any IDR can decode.
    The frame rate comes from ``fps``, else the SPS timing info, else 30.
    Raises :class:`ProtocolError` when the file holds no SPS, PPS or IDR picture.
    """
    data = Path(path).read_bytes()
    units = split_access_units(split_annexb(data))
    sps = next((n for u in units for n in u if _nal_type(n) == _NAL_SPS), None)
    pps = next((n for u in units for n in u if _nal_type(n) == _NAL_PPS), None)
    if sps is None or pps is None:
        raise ProtocolError(f"{Path(path).name}: no SPS/PPS in the H.264 stream")
    first_idr = next(
        (i for i, u in enumerate(units) if any(_nal_type(n) == _NAL_IDR for n in u)), None
    )
    if first_idr is None:
        raise ProtocolError(f"{Path(path).name}: no IDR picture in the H.264 stream")
    units = units[first_idr:]
    if len(units) > _MAX_FRAMES:
        raise InvalidArgument("clip", f"at most {_MAX_FRAMES} frames", len(units))
    frames: list[tuple[bytes, ...]] = []
    for unit in units:
        types = {_nal_type(n) for n in unit}
        if _NAL_IDR in types and _NAL_SPS not in types:
            unit = [sps, pps, *unit]
        frames.append(tuple(unit))
    info = parse_sps(sps)
    rate = fps if fps is not None else (info.fps or 30.0)
    if not 0 < rate <= 240:
        raise InvalidArgument("fps", "0 < fps <= 240", rate)
    return VideoClip(
        codec="H264",
        width=info.width,
        height=info.height,
        fps=float(rate),
        frames=tuple(frames),
        sps=sps,
        pps=pps,
    )


def _jpeg_end(data: bytes, start: int) -> tuple[int, int, int]:
    """Return (end offset, width, height) of the JPEG image starting at ``start`` (at SOI)."""
    n = len(data)
    i = start + 2
    width = height = 0
    while i + 1 < n:
        if data[i] != 0xFF:
            raise ProtocolError("JPEG: marker expected")
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker == 0xD9:
            return i + 2, width, height
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            i += 2
            continue
        if i + 4 > n:
            break
        seglen = int.from_bytes(data[i + 2 : i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2) and i + 9 <= n:
            height = int.from_bytes(data[i + 5 : i + 7], "big")
            width = int.from_bytes(data[i + 7 : i + 9], "big")
        i += 2 + seglen
        if marker == 0xDA:
            # Entropy-coded data: runs until a marker other than a stuffed 0x00 or RSTn.
            while True:
                k = data.find(b"\xff", i)
                if k < 0 or k + 1 >= n:
                    raise ProtocolError("JPEG: truncated scan data")
                follower = data[k + 1]
                if follower == 0x00 or 0xD0 <= follower <= 0xD7 or follower == 0xFF:
                    i = k + 1 if follower == 0xFF else k + 2
                    continue
                i = k
                break
    raise ProtocolError("JPEG: missing end of image")


def split_jpeg_frames(data: bytes) -> list[tuple[bytes, int, int]]:
    """Split concatenated JPEG images; return (image, width, height) for each."""
    frames: list[tuple[bytes, int, int]] = []
    pos = 0
    while True:
        start = data.find(b"\xff\xd8", pos)
        if start < 0:
            break
        end, width, height = _jpeg_end(data, start)
        frames.append((data[start:end], width, height))
        pos = end
        if len(frames) > _MAX_FRAMES:
            raise InvalidArgument("clip", f"at most {_MAX_FRAMES} frames", len(frames))
    return frames


def load_mjpeg(path: str | Path, *, fps: float = 30.0) -> VideoClip:
    """Load a file of concatenated baseline JPEG images as a clip played at ``fps``."""
    frames = split_jpeg_frames(Path(path).read_bytes())
    if not frames:
        raise ProtocolError(f"{Path(path).name}: no JPEG image found")
    if not 0 < fps <= 240:
        raise InvalidArgument("fps", "0 < fps <= 240", fps)
    _, width, height = frames[0]
    return VideoClip(
        codec="JPEG",
        width=width,
        height=height,
        fps=float(fps),
        frames=tuple((f,) for f, _, _ in frames),
    )


def load_ulaw(path: str | Path, *, sample_rate: int = 8000) -> AudioClip:
    """Load headerless G.711 µ-law audio (one byte per sample)."""
    data = Path(path).read_bytes()
    if len(data) < 160:
        raise ProtocolError(f"{Path(path).name}: audio clip shorter than 20 ms")
    return AudioClip(data=data, sample_rate=sample_rate)


@functools.cache
def _packaged() -> Mapping[str, StreamSource]:
    audio = load_ulaw(MEDIA_DIR / "audio.ulaw")
    full = load_h264(MEDIA_DIR / "h264_1080p.264")
    hd = load_h264(MEDIA_DIR / "h264_720p.264")
    small = load_h264(MEDIA_DIR / "h264_360p.264")
    jpeg = load_mjpeg(MEDIA_DIR / "jpeg_360p.mjpeg")
    return {
        "h264": StreamSource(full, audio),
        "h264_2": StreamSource(hd, audio),
        "h264_3": StreamSource(small, audio),
        "h264_4": StreamSource(small, audio),
        "jpeg": StreamSource(jpeg, audio),
    }


def default_streams() -> dict[str, StreamSource]:
    """The spec's paths (5.5.1) mapped to the packaged clips (loaded once, then cached).

    ``h264`` is 1920x1080, ``h264_2`` 1280x720, ``h264_3``/``h264_4`` 640x360, ``jpeg``
    640x360 JPEG; every path has the µ-law audio track.
    """
    return dict(_packaged())


def _named(value: str, default: str) -> tuple[str, str]:
    name, sep, path = value.partition("=")
    return (name, path) if sep else (default, value)


def build_streams(
    *,
    h264: Sequence[str] = (),
    mjpeg: str | None = None,
    ulaw: str | None = None,
    fps: float | None = None,
) -> dict[str, StreamSource]:
    """The packaged streams with the user's own media put in.

    ``h264`` items are ``FILE`` (replaces ``/h264``) or ``NAME=FILE`` (serves ``/NAME``), H.264
    Annex B; ``mjpeg`` is ``[NAME=]FILE`` of concatenated JPEG frames (default path ``jpeg``);
    ``ulaw`` replaces the audio track of every path with raw 8 kHz µ-law.
    """
    streams = default_streams()
    audio = load_ulaw(ulaw) if ulaw else streams["h264"].audio
    if ulaw:
        streams = {name: StreamSource(s.video, audio) for name, s in streams.items()}
    for value in h264:
        name, path = _named(value, "h264")
        streams[name] = StreamSource(load_h264(path, fps=fps), audio)
    if mjpeg:
        name, path = _named(mjpeg, "jpeg")
        streams[name] = StreamSource(load_mjpeg(path, fps=fps or 30.0), audio)
    return streams
