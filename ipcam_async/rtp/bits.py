"""Bit reader for H.264 RBSP syntax (exp-Golomb codes) with emulation-prevention removal."""

from __future__ import annotations

from ..errors import ProtocolError

__all__ = ["BitReader", "unescape_rbsp"]


def unescape_rbsp(data: bytes | memoryview) -> bytes:
    """Remove emulation-prevention bytes (``00 00 03`` → ``00 00``) from a NAL unit payload."""
    raw = bytes(data)
    if b"\x00\x00\x03" not in raw:
        return raw
    out = bytearray()
    start = 0
    while True:
        i = raw.find(b"\x00\x00\x03", start)
        if i < 0:
            out += raw[start:]
            return bytes(out)
        out += raw[start : i + 2]
        start = i + 3


class BitReader:
    """MSB-first bit reader; reading past the end raises :class:`ProtocolError`."""

    __slots__ = ("_bits", "_pos", "_value")

    def __init__(self, data: bytes) -> None:
        self._value = int.from_bytes(data, "big")
        self._bits = len(data) * 8
        self._pos = 0

    @property
    def remaining(self) -> int:
        """Bits left to read."""
        return self._bits - self._pos

    def u(self, n: int) -> int:
        """Read an ``n``-bit unsigned integer."""
        if n == 0:
            return 0
        end = self._pos + n
        if end > self._bits:
            raise ProtocolError("bitstream ended early")
        self._pos = end
        return (self._value >> (self._bits - end)) & ((1 << n) - 1)

    def flag(self) -> bool:
        """Read one bit as a boolean."""
        return self.u(1) == 1

    def ue(self) -> int:
        """Read an unsigned exp-Golomb code (``ue(v)``)."""
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ProtocolError("exp-Golomb code longer than 32 bits")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        """Read a signed exp-Golomb code (``se(v)``)."""
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)
