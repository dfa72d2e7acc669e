"""What every depacketizer offers to :class:`~ipcam_async.rtp.track.TrackReceiver`."""

from __future__ import annotations

from typing import Protocol

from .clock import MediaClock
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

    # Set after a loss: the next frame handed out carries ``lost=True``.
    __slots__ = ("_pending_loss",)
    _pending_loss: bool

    # Provided (as slots) by every subclass.
    track: int
    clock: MediaClock
    writev: bool
    stats: DepacketizerStats

    def _emit_video(
        self,
        codec: str,
        parts: list[bytes | memoryview],
        ts: int,
        keyframe: bool,
        width: int | None,
        height: int | None,
        out: list[VideoFrame | AudioFrame],
    ) -> None:
        """Append the frame made of ``parts``: one join, or the views themselves for writev."""
        ext = self.clock.extend(ts)
        if self.writev:
            data = b""
            views: tuple[bytes | memoryview, ...] | None = tuple(parts)
        else:
            data = b"".join(parts)
            views = None
        out.append(
            VideoFrame(
                track=self.track,
                codec=codec,
                timestamp=ts,
                ext_timestamp=ext,
                wallclock=self.clock.wallclock(ext),
                keyframe=keyframe,
                lost=self._pending_loss,
                data=data,
                views=views,
                width=width,
                height=height,
            )
        )
        self.stats.frames += 1
        self._pending_loss = False

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
