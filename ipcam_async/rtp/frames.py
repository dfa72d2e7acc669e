"""Media frames produced by the depacketizers: frozen, slotted, cheap to build."""

from __future__ import annotations

import attrs

__all__ = ["AudioFrame", "Frame", "VideoFrame"]


@attrs.frozen(slots=True)
class VideoFrame:
    """One complete video access unit (H.264) or picture (JPEG).

    ``data`` holds the frame built with one join of the payload views (Annex B or AVCC for
    H.264, a full JFIF file for JPEG). In ``writev`` mode ``data`` is empty and ``views``
    holds the pieces instead; they point into the packet buffers, which must stay untouched
    until the views are consumed.
    """

    track: int
    codec: str
    timestamp: int
    ext_timestamp: int
    wallclock: float | None
    keyframe: bool
    lost: bool
    data: bytes
    views: tuple[memoryview | bytes, ...] | None = None
    width: int | None = None
    height: int | None = None
    discontinuity: bool = False

    @property
    def size(self) -> int:
        """Frame size in bytes (whether held as ``data`` or as ``views``)."""
        if self.views is not None:
            return sum(len(v) for v in self.views)
        return len(self.data)

    def __repr__(self) -> str:
        return (
            f"VideoFrame(track={self.track}, codec={self.codec!r}, timestamp={self.timestamp}, "
            f"ext_timestamp={self.ext_timestamp}, wallclock={self.wallclock}, "
            f"keyframe={self.keyframe}, lost={self.lost}, size={self.size}, "
            f"width={self.width}, height={self.height}, discontinuity={self.discontinuity})"
        )


@attrs.frozen(slots=True)
class AudioFrame:
    """One RTP packet's worth of audio samples (PCMU: one byte per sample, µ-law)."""

    track: int
    codec: str
    timestamp: int
    ext_timestamp: int
    wallclock: float | None
    lost: bool
    data: bytes
    sample_rate: int
    discontinuity: bool = False
    views: tuple[memoryview | bytes, ...] | None = None

    @property
    def keyframe(self) -> bool:
        """Always True: every audio frame decodes on its own (mirrors ``VideoFrame.keyframe``)."""
        return True

    @property
    def samples(self) -> int:
        """Number of samples in the frame (PCMU: one byte per sample)."""
        if self.views is not None:
            return sum(len(v) for v in self.views)
        return len(self.data)

    @property
    def duration(self) -> float:
        """Frame duration in seconds."""
        return self.samples / self.sample_rate

    def __repr__(self) -> str:
        return (
            f"AudioFrame(track={self.track}, codec={self.codec!r}, timestamp={self.timestamp}, "
            f"ext_timestamp={self.ext_timestamp}, wallclock={self.wallclock}, lost={self.lost}, "
            f"samples={self.samples}, sample_rate={self.sample_rate}, "
            f"discontinuity={self.discontinuity})"
        )


Frame = VideoFrame | AudioFrame
