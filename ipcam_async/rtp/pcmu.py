"""G.711 µ-law audio (RTP payload type 0, 8 kHz): codec tables, packetizer, depacketizer."""

from __future__ import annotations

import array
import sys

from ..errors import InvalidArgument
from .clock import MediaClock
from .depacketizer import DepacketizerBase, DepacketizerStats
from .frames import AudioFrame, VideoFrame
from .packetizer import PacketizerBase

__all__ = [
    "PCMU_CLOCK_RATE",
    "PcmuDepacketizer",
    "PcmuPacketizer",
    "linear_to_ulaw",
    "pcm16_to_ulaw",
    "ulaw_to_linear",
    "ulaw_to_pcm16",
]

PCMU_CLOCK_RATE = 8000
_BIAS = 0x84
_CLIP = 32635


def ulaw_to_linear(code: int) -> int:
    """Decode one µ-law byte to a 16-bit linear sample (ITU-T G.711)."""
    u = ~code & 0xFF
    magnitude = (((u & 0x0F) << 3) + _BIAS) << ((u & 0x70) >> 4)
    return _BIAS - magnitude if u & 0x80 else magnitude - _BIAS


def linear_to_ulaw(sample: int) -> int:
    """Encode one 16-bit linear sample to a µ-law byte (ITU-T G.711, biased segment search)."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(-sample if sample < 0 else sample, _CLIP) + _BIAS
    exponent = max(magnitude.bit_length() - 8, 0)
    exponent = min(exponent, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


_DECODE = [ulaw_to_linear(c) for c in range(256)]
# Two byte-translation tables: decoding is two bytes.translate calls and two slice assignments.
_LOW = bytes(v & 0xFF for v in _DECODE)
_HIGH = bytes((v >> 8) & 0xFF for v in _DECODE)


def ulaw_to_pcm16(data: bytes | bytearray | memoryview, *, byteorder: str = "little") -> bytes:
    """Decode µ-law bytes to signed 16-bit PCM (``byteorder`` ``"little"`` or ``"big"``).

    Pure Python without :mod:`audioop` (removed in Python 3.13).
    """
    if byteorder not in ("little", "big"):
        raise InvalidArgument("byteorder", "'little' or 'big'", byteorder)
    raw = bytes(data)
    out = bytearray(2 * len(raw))
    lo, hi = raw.translate(_LOW), raw.translate(_HIGH)
    if byteorder == "little":
        out[0::2] = lo
        out[1::2] = hi
    else:
        out[0::2] = hi
        out[1::2] = lo
    return bytes(out)


def pcm16_to_ulaw(data: bytes | bytearray | memoryview, *, byteorder: str = "little") -> bytes:
    """Encode signed 16-bit PCM to µ-law bytes (``byteorder`` ``"little"`` or ``"big"``)."""
    if byteorder not in ("little", "big"):
        raise InvalidArgument("byteorder", "'little' or 'big'", byteorder)
    raw = bytes(data)
    if len(raw) % 2:
        raise InvalidArgument("data", "an even number of bytes (16-bit samples)", len(raw))
    values = array.array("h")
    values.frombytes(raw)
    if byteorder != sys.byteorder:
        values.byteswap()
    return bytes(linear_to_ulaw(v) for v in values)


class PcmuPacketizer(PacketizerBase):
    """Split µ-law audio into RTP packets of ``samples_per_packet`` samples (20 ms = 160).

    Each packet's timestamp advances by its sample count; the marker bit is set on the
    first packet of a talkspurt (``packetize(..., marker=True)``), as RFC 3551 asks.
    """

    __slots__ = ("samples_per_packet",)

    def __init__(
        self,
        payload_type: int = 0,
        ssrc: int | None = None,
        samples_per_packet: int = 160,
        seq: int | None = None,
        *,
        mtu: int = 1400,
    ) -> None:
        super().__init__(payload_type=payload_type, ssrc=ssrc, mtu=mtu, seq=seq)
        if not 1 <= samples_per_packet <= mtu - 12:
            raise InvalidArgument("samples_per_packet", f"1..{mtu - 12}", samples_per_packet)
        self.samples_per_packet = samples_per_packet

    def packetize(
        self, ulaw: bytes | memoryview, timestamp: int, *, marker: bool = False
    ) -> list[bytes]:
        """Packetize µ-law bytes starting at RTP ``timestamp`` (one sample per tick)."""
        view = memoryview(ulaw)
        n = self.samples_per_packet
        packets = [
            self._header(marker and off == 0, timestamp + off) + view[off : off + n]
            for off in range(0, len(view), n)
        ]
        return self._account(packets)


class PcmuDepacketizer(DepacketizerBase):
    """One :class:`AudioFrame` per PCMU packet (µ-law bytes as they came, copied once).

    ``lost`` on a frame says packets (audio) are missing right before it.
    """

    __slots__ = ("clock", "sample_rate", "stats", "track", "writev")

    codec = "PCMU"

    def __init__(
        self,
        *,
        clock: MediaClock,
        track: int = 0,
        sample_rate: int = PCMU_CLOCK_RATE,
        writev: bool = False,
    ) -> None:
        self.clock = clock
        self.track = track
        self.sample_rate = sample_rate
        self.writev = writev
        self.stats = DepacketizerStats()
        self._pending_loss = False

    @property
    def buffered(self) -> int:
        """Nothing is held between packets."""
        return 0

    def reset(self) -> None:
        """Nothing is held between packets; only the loss flag carries over."""
        self._pending_loss = True

    def flush(self, out: list[VideoFrame | AudioFrame]) -> None:
        """Nothing is held between packets."""

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
        if lost:
            self._pending_loss = True
        payload = buf[start:] if start else buf
        if not payload:
            self.stats.malformed_packets += 1
            return
        ext = self.clock.extend(ts)
        out.append(
            AudioFrame(
                track=self.track,
                codec="PCMU",
                timestamp=ts,
                ext_timestamp=ext,
                wallclock=self.clock.wallclock(ext),
                lost=self._pending_loss,
                data=b"" if self.writev else payload.tobytes(),
                sample_rate=self.sample_rate,
                views=(payload,) if self.writev else None,
            )
        )
        self.stats.frames += 1
        self._pending_loss = False
