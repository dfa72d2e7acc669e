"""Sans-io RTP stack: packets, reordering and loss accounting, RTCP, H.264 / JPEG / PCMU.

Nothing here touches sockets, asyncio or clocks: bytes (or memoryviews) go in, frames and
report bytes come out. :class:`TrackReceiver` is the entry point for one media track; the
packetizers are the exact inverse of the depacketizers (used by the simulated camera).
"""

from __future__ import annotations

from .clock import MediaClock
from .frames import AudioFrame, Frame, VideoFrame
from .h264 import (
    H264Depacketizer,
    H264Packetizer,
    H264Parameters,
    SpsInfo,
    parse_sprop_parameter_sets,
    parse_sps,
    split_annexb,
)
from .jpeg import JpegDepacketizer, JpegPacketizer
from .options import RtpOptions
from .packet import RtpPacket
from .pcmu import PcmuDepacketizer, PcmuPacketizer, pcm16_to_ulaw, ulaw_to_pcm16
from .reorder import ReorderBuffer
from .rtcp import (
    ReceiverReport,
    ReportBlock,
    SenderReport,
    build_receiver_report,
    build_sender_report,
    parse_rtcp,
)
from .track import TrackReceiver, TrackStats

__all__ = [
    "AudioFrame",
    "Frame",
    "H264Depacketizer",
    "H264Packetizer",
    "H264Parameters",
    "JpegDepacketizer",
    "JpegPacketizer",
    "MediaClock",
    "PcmuDepacketizer",
    "PcmuPacketizer",
    "ReceiverReport",
    "ReorderBuffer",
    "ReportBlock",
    "RtpOptions",
    "RtpPacket",
    "SenderReport",
    "SpsInfo",
    "TrackReceiver",
    "TrackStats",
    "VideoFrame",
    "build_receiver_report",
    "build_sender_report",
    "parse_rtcp",
    "parse_sprop_parameter_sets",
    "parse_sps",
    "pcm16_to_ulaw",
    "split_annexb",
    "ulaw_to_pcm16",
]
