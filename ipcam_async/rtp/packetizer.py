"""Common state of the RTP packetizers: sequence numbers, SSRC, sender counters."""

from __future__ import annotations

import secrets
import struct

from ..errors import InvalidArgument

__all__ = ["PacketizerBase"]

_HEADER = struct.Struct("!BBHII")


class PacketizerBase:
    """Sequence numbering and sender statistics shared by the packetizers.

    ``seq`` is the sequence number the next packet will carry (what an RTSP server
    announces in ``RTP-Info``); ``packet_count`` and ``octet_count`` feed the sender report.
    """

    __slots__ = ("mtu", "octet_count", "packet_count", "payload_type", "seq", "ssrc")

    def __init__(self, *, payload_type: int, ssrc: int | None, mtu: int, seq: int | None) -> None:
        if not 0 <= payload_type <= 127:
            raise InvalidArgument("payload_type", "0..127", payload_type)
        if mtu < 64 or mtu > 65535:
            raise InvalidArgument("mtu", "64..65535 bytes (RTP header included)", mtu)
        self.payload_type = payload_type
        self.ssrc = secrets.randbits(32) if ssrc is None else ssrc & 0xFFFFFFFF
        self.mtu = mtu
        self.seq = secrets.randbits(16) if seq is None else seq & 0xFFFF
        self.packet_count = 0
        self.octet_count = 0

    def _header(self, marker: bool, timestamp: int) -> bytes:
        seq = self.seq
        self.seq = (seq + 1) & 0xFFFF
        return _HEADER.pack(
            0x80,
            (0x80 if marker else 0) | self.payload_type,
            seq,
            timestamp & 0xFFFFFFFF,
            self.ssrc,
        )

    def _account(self, packets: list[bytes]) -> list[bytes]:
        self.packet_count += len(packets)
        self.octet_count += sum(len(p) for p in packets) - 12 * len(packets)
        return packets
