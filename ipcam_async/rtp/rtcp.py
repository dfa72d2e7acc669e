"""RTCP (RFC 3550 section 6): compound packet parser and SR / RR / SDES / BYE builders."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

import attrs

from ..errors import ProtocolError
from .clock import ntp_to_unix, unix_to_ntp

__all__ = [
    "RTCP_APP",
    "RTCP_BYE",
    "RTCP_RR",
    "RTCP_SDES",
    "RTCP_SR",
    "App",
    "Bye",
    "ReceiverReport",
    "ReportBlock",
    "RtcpPacket",
    "SdesChunk",
    "SenderReport",
    "SourceDescription",
    "UnknownRtcp",
    "build_bye",
    "build_receiver_report",
    "build_sdes",
    "build_sender_report",
    "is_rtcp",
    "parse_rtcp",
]

RTCP_SR = 200
RTCP_RR = 201
RTCP_SDES = 202
RTCP_BYE = 203
RTCP_APP = 204

SDES_CNAME = 1

_COMMON = struct.Struct("!BBH")
_SR_INFO = struct.Struct("!IQIII")
_BLOCK = struct.Struct("!IIIIII")
#: Longest compound packet accepted (a UDP datagram cannot be longer).
MAX_COMPOUND = 65535


@attrs.frozen(slots=True)
class ReportBlock:
    """One reception report block (RFC 3550 6.4.1)."""

    ssrc: int
    fraction_lost: int  # 8-bit fixed point: lost / expected * 256 over the last interval
    cumulative_lost: int  # signed 24-bit
    highest_seq: int  # extended highest sequence number received
    jitter: int  # timestamp units
    lsr: int  # middle 32 bits of the last SR's NTP timestamp
    dlsr: int  # delay since that SR, 1/65536 s

    def pack(self) -> bytes:
        """Serialise the 24-byte block."""
        lost = self.cumulative_lost
        lost = max(-0x800000, min(lost, 0x7FFFFF)) & 0xFFFFFF
        return _BLOCK.pack(
            self.ssrc & 0xFFFFFFFF,
            ((self.fraction_lost & 0xFF) << 24) | lost,
            self.highest_seq & 0xFFFFFFFF,
            self.jitter & 0xFFFFFFFF,
            self.lsr & 0xFFFFFFFF,
            self.dlsr & 0xFFFFFFFF,
        )


@attrs.frozen(slots=True)
class SenderReport:
    """SR: the sender's wall clock ↔ RTP timestamp pair, its counters, report blocks."""

    ssrc: int
    ntp_timestamp: int  # 64-bit NTP
    rtp_timestamp: int
    packet_count: int
    octet_count: int
    reports: tuple[ReportBlock, ...] = ()

    @property
    def ntp_time(self) -> float:
        """The NTP timestamp as UNIX seconds."""
        return ntp_to_unix(self.ntp_timestamp)

    @property
    def lsr(self) -> int:
        """Middle 32 bits of the NTP timestamp (what a receiver echoes in LSR)."""
        return (self.ntp_timestamp >> 16) & 0xFFFFFFFF


@attrs.frozen(slots=True)
class ReceiverReport:
    """RR: report blocks from a receiver."""

    ssrc: int
    reports: tuple[ReportBlock, ...] = ()


@attrs.frozen(slots=True)
class SdesChunk:
    """Items describing one source; ``items`` are (type, value) pairs, e.g. (1, b"cname")."""

    ssrc: int
    items: tuple[tuple[int, bytes], ...]

    @property
    def cname(self) -> str | None:
        """The CNAME item, decoded as UTF-8 (replacement characters on errors)."""
        for kind, value in self.items:
            if kind == SDES_CNAME:
                return value.decode("utf-8", "replace")
        return None


@attrs.frozen(slots=True)
class SourceDescription:
    """SDES packet."""

    chunks: tuple[SdesChunk, ...]


@attrs.frozen(slots=True)
class Bye:
    """BYE: the sources are leaving; ``reason`` when given."""

    ssrcs: tuple[int, ...]
    reason: str | None = None


@attrs.frozen(slots=True)
class App:
    """APP packet (application-defined)."""

    subtype: int
    ssrc: int
    name: bytes
    data: bytes


@attrs.frozen(slots=True)
class UnknownRtcp:
    """A packet of a type this parser does not interpret (XR, feedback...), kept raw."""

    packet_type: int
    count: int
    data: bytes


RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Bye | App | UnknownRtcp


def is_rtcp(data: bytes | memoryview) -> bool:
    """True when a datagram on a muxed port looks like RTCP (RFC 5761: PT 192..223)."""
    return len(data) >= 2 and 192 <= data[1] <= 223


def _blocks(view: memoryview, pos: int, count: int, end: int) -> tuple[ReportBlock, ...]:
    if pos + 24 * count > end:
        raise ProtocolError("RTCP report blocks run past the packet")
    blocks = []
    for i in range(count):
        ssrc, lost_word, highest, jitter, lsr, dlsr = _BLOCK.unpack_from(view, pos + 24 * i)
        lost = lost_word & 0xFFFFFF
        if lost & 0x800000:
            lost -= 0x1000000
        blocks.append(
            ReportBlock(
                ssrc=ssrc,
                fraction_lost=lost_word >> 24,
                cumulative_lost=lost,
                highest_seq=highest,
                jitter=jitter,
                lsr=lsr,
                dlsr=dlsr,
            )
        )
    return tuple(blocks)


def _sdes(view: memoryview, pos: int, count: int, end: int) -> SourceDescription:
    chunks = []
    for _ in range(count):
        if pos + 4 > end:
            raise ProtocolError("SDES chunk runs past the packet")
        ssrc = int.from_bytes(view[pos : pos + 4], "big")
        pos += 4
        items = []
        while True:
            if pos >= end:
                raise ProtocolError("SDES chunk without terminating null item")
            kind = view[pos]
            if kind == 0:
                pos += 1
                pos = (pos + 3) & ~3  # chunks are padded to 32 bits
                break
            if pos + 2 > end or pos + 2 + view[pos + 1] > end:
                raise ProtocolError("SDES item runs past the packet")
            length = view[pos + 1]
            items.append((kind, bytes(view[pos + 2 : pos + 2 + length])))
            pos += 2 + length
        chunks.append(SdesChunk(ssrc=ssrc, items=tuple(items)))
    return SourceDescription(chunks=tuple(chunks))


def parse_rtcp(data: bytes | bytearray | memoryview) -> list[RtcpPacket]:
    """Parse a compound RTCP packet.

    Every packet header is checked (version 2, length inside the datagram, padding only
    where it fits); unknown packet types are returned as :class:`UnknownRtcp` and skipped
    safely. Raises :class:`ProtocolError` on malformed input.
    """
    view = memoryview(data)
    total = len(view)
    if total < 4:
        raise ProtocolError("RTCP packet shorter than its 4-byte header")
    if total > MAX_COMPOUND:
        raise ProtocolError("RTCP compound packet too long")
    packets: list[RtcpPacket] = []
    pos = 0
    while pos < total:
        if pos + 4 > total:
            raise ProtocolError("trailing bytes after the last RTCP packet")
        b0, ptype, words = _COMMON.unpack_from(view, pos)
        if b0 >> 6 != 2:
            raise ProtocolError(f"RTCP version {b0 >> 6} is not 2")
        end = pos + 4 * (words + 1)
        if end > total:
            raise ProtocolError("RTCP packet length runs past the datagram")
        body_end = end
        if b0 & 0x20:
            pad = view[end - 1]
            if pad == 0 or pos + 4 + pad > end:
                raise ProtocolError(f"RTCP padding count {pad} is invalid")
            body_end = end - pad
        count = b0 & 0x1F
        body = pos + 4
        if ptype == RTCP_SR:
            if body + 24 > body_end:
                raise ProtocolError("SR shorter than its sender info")
            ssrc, ntp, rtp_ts, pkts, octets = _SR_INFO.unpack_from(view, body)
            packets.append(
                SenderReport(
                    ssrc=ssrc,
                    ntp_timestamp=ntp,
                    rtp_timestamp=rtp_ts,
                    packet_count=pkts,
                    octet_count=octets,
                    reports=_blocks(view, body + 24, count, body_end),
                )
            )
        elif ptype == RTCP_RR:
            if body + 4 > body_end:
                raise ProtocolError("RR shorter than its SSRC")
            ssrc = int.from_bytes(view[body : body + 4], "big")
            packets.append(
                ReceiverReport(ssrc=ssrc, reports=_blocks(view, body + 4, count, body_end))
            )
        elif ptype == RTCP_SDES:
            packets.append(_sdes(view, body, count, body_end))
        elif ptype == RTCP_BYE:
            if body + 4 * count > body_end:
                raise ProtocolError("BYE source list runs past the packet")
            ssrcs = struct.unpack_from(f"!{count}I", view, body)
            reason = None
            rpos = body + 4 * count
            if rpos < body_end:
                length = view[rpos]
                if rpos + 1 + length > body_end:
                    raise ProtocolError("BYE reason runs past the packet")
                reason = bytes(view[rpos + 1 : rpos + 1 + length]).decode("utf-8", "replace")
            packets.append(Bye(ssrcs=tuple(ssrcs), reason=reason))
        elif ptype == RTCP_APP:
            if body + 8 > body_end:
                raise ProtocolError("APP packet too short")
            packets.append(
                App(
                    subtype=count,
                    ssrc=int.from_bytes(view[body : body + 4], "big"),
                    name=bytes(view[body + 4 : body + 8]),
                    data=bytes(view[body + 8 : body_end]),
                )
            )
        else:
            packets.append(
                UnknownRtcp(packet_type=ptype, count=count, data=bytes(view[body:body_end]))
            )
        pos = end
    return packets


def _header(count: int, ptype: int, body_len: int) -> bytes:
    if body_len % 4:
        raise ValueError("RTCP body must be a multiple of 4 bytes")
    return _COMMON.pack(0x80 | count, ptype, body_len // 4)


def build_sdes(chunks: Iterable[tuple[int, str]]) -> bytes:
    """SDES packet with one CNAME item per (ssrc, cname) chunk."""
    bodies = []
    for ssrc, cname in chunks:
        value = cname.encode("utf-8")[:255]
        chunk = struct.pack("!IBB", ssrc & 0xFFFFFFFF, SDES_CNAME, len(value)) + value + b"\x00"
        chunk += b"\x00" * (-len(chunk) % 4)
        bodies.append(chunk)
    if len(bodies) > 31:
        raise ValueError("at most 31 SDES chunks per packet")
    body = b"".join(bodies)
    return _header(len(bodies), RTCP_SDES, len(body)) + body


def build_sender_report(
    *,
    ssrc: int,
    ntp_time: float,
    rtp_timestamp: int,
    packet_count: int,
    octet_count: int,
    reports: Sequence[ReportBlock] = (),
    cname: str | None = None,
) -> bytes:
    """Compound RTCP packet: SR (``ntp_time`` in UNIX seconds) plus an SDES CNAME if given."""
    if len(reports) > 31:
        raise ValueError("at most 31 report blocks")
    body = _SR_INFO.pack(
        ssrc & 0xFFFFFFFF,
        unix_to_ntp(ntp_time),
        rtp_timestamp & 0xFFFFFFFF,
        packet_count & 0xFFFFFFFF,
        octet_count & 0xFFFFFFFF,
    ) + b"".join(r.pack() for r in reports)
    out = _header(len(reports), RTCP_SR, len(body)) + body
    if cname is not None:
        out += build_sdes([(ssrc, cname)])
    return out


def build_receiver_report(
    *, ssrc: int, reports: Sequence[ReportBlock] = (), cname: str | None = None
) -> bytes:
    """Compound RTCP packet: RR plus an SDES CNAME if given (RFC 3550 asks for one)."""
    if len(reports) > 31:
        raise ValueError("at most 31 report blocks")
    body = struct.pack("!I", ssrc & 0xFFFFFFFF) + b"".join(r.pack() for r in reports)
    out = _header(len(reports), RTCP_RR, len(body)) + body
    if cname is not None:
        out += build_sdes([(ssrc, cname)])
    return out


def build_bye(ssrcs: Sequence[int], reason: str | None = None) -> bytes:
    """BYE packet for ``ssrcs`` with an optional reason."""
    if len(ssrcs) > 31:
        raise ValueError("at most 31 sources")
    body = b"".join(struct.pack("!I", s & 0xFFFFFFFF) for s in ssrcs)
    if reason:
        value = reason.encode("utf-8")[:255]
        body += bytes((len(value),)) + value
        body += b"\x00" * (-len(body) % 4)
    return _header(len(ssrcs), RTCP_BYE, len(body)) + body
