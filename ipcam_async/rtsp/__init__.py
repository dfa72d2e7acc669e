"""Native asyncio RTSP/1.0 client (RFC 2326): sessions, auth, TCP/UDP/multicast transports.

High level: :class:`RtspStream` (or ``cam.stream("h264")``) yields depacketized frames.
Mid level: :class:`RtspClient` speaks RTSP and hands each track's packets to a sink.
Sans-io parts: :mod:`.message` (codec), :mod:`.sdp`, :mod:`.auth`.
"""

from __future__ import annotations

from ..reconnect import ReconnectPolicy
from .client import PacketSink, RtpInfo, RtspClient, SetupTrack
from .options import RtspQuirks
from .sdp import MediaDescription, SessionDescription, parse_sdp
from .stream import STREAM_NAMES, RtspStream, StreamStats, TrackStatistics, open_camera_stream

__all__ = [
    "STREAM_NAMES",
    "MediaDescription",
    "PacketSink",
    "ReconnectPolicy",
    "RtpInfo",
    "RtspClient",
    "RtspQuirks",
    "RtspStream",
    "SessionDescription",
    "SetupTrack",
    "StreamStats",
    "TrackStatistics",
    "open_camera_stream",
    "parse_sdp",
]
