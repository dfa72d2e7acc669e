"""What every depacketizer offers to :class:`~ipcam_async.rtp.track.TrackReceiver`."""

from __future__ import annotations

from typing import Protocol

from .frames import AudioFrame, VideoFrame
from .packet import RtpPacket

__all__ = ["Depacketizer", "DepacketizerStats"]


class DepacketizerStats:
    """Counters kept by a depacketizer (read by :class:`~ipcam_async.rtp.track.TrackReceiver`)."""

    __slots__ = (
        "dropped_frames",
        "frames",
        "ignored_packets",
        "malformed_packets",
        "oversize_frames",
        "unsupported_packets",
        "waiting_keyframe_drops",
    )

    def __init__(self) -> None:
        self.frames = 0
        self.dropped_frames = 0
        self.malformed_packets = 0
        self.unsupported_packets = 0
        self.ignored_packets = 0
        self.oversize_frames = 0
        self.waiting_keyframe_drops = 0


class DepacketizerBase:
    """Shared entry point of the depacketizers: :meth:`push` splits a parsed packet and hands
    its payload to the subclass's :meth:`push_payload` (which the RTSP layer's batched path
    also calls directly)."""

    __slots__ = ()

    def push(self, pkt: RtpPacket, lost: bool, out: list[VideoFrame | AudioFrame]) -> None:
        """Process one packet (in sequence order); finished frames are appended to ``out``."""
        self.push_payload(pkt.payload, 0, pkt.timestamp, pkt.marker, lost, out)

    def push_payload(
        self,
        buf: memoryview,
        start: int,
        ts: int,
        marker: bool,
        lost: bool,
        out: list[VideoFrame | AudioFrame],
    ) -> None:
        """:meth:`push` for an already split packet: the payload is ``buf[start:]``."""
        raise NotImplementedError


class Depacketizer(Protocol):
    """A payload-format decoder fed with packets in sequence order."""

    codec: str
    stats: DepacketizerStats

    @property
    def buffered(self) -> int:
        """Payload bytes held for the frame being assembled."""

    def push(self, pkt: RtpPacket, lost: bool, out: list[VideoFrame | AudioFrame]) -> None:
        """Process one packet; append finished frames to ``out``."""

    def push_payload(
        self,
        buf: memoryview,
        start: int,
        ts: int,
        marker: bool,
        lost: bool,
        out: list[VideoFrame | AudioFrame],
    ) -> None:
        """:meth:`push` for an already split packet: the payload is ``buf[start:]``."""

    def flush(self, out: list[VideoFrame | AudioFrame]) -> None:
        """Hand out whatever complete data is still held (end of stream)."""

    def reset(self) -> None:
        """Drop partial state: a new source starts."""
