"""RTP fixed header (RFC 3550 section 5.1) parsed over a ``memoryview``, payload not copied."""

from __future__ import annotations

import struct

from ..errors import ProtocolError

__all__ = ["RTP_HEADER_SIZE", "RtpPacket", "build_rtp_header"]

RTP_HEADER_SIZE = 12
_HEADER = struct.Struct("!BBHII")
_EXT_HEADER = struct.Struct("!HH")


class RtpPacket:
    """One RTP packet. ``payload`` (and ``extension_data``) are slices of the caller's buffer.

    The buffer must stay unchanged while the packet, or any frame built from its views,
    is in use; frames built with one join (the default) own their bytes.
    """

    __slots__ = (
        "_extras",
        "_flags",
        "marker",
        "payload",
        "payload_type",
        "sequence",
        "ssrc",
        "timestamp",
    )

    _flags: int
    # (csrcs, extension profile, extension data) when any is present: most packets have none,
    # and one slot store is cheaper than three on the hot path
    _extras: tuple[tuple[int, ...], int | None, memoryview | None] | None
    marker: bool
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: memoryview

    def __init__(
        self,
        *,
        payload_type: int,
        sequence: int,
        timestamp: int,
        ssrc: int,
        payload: memoryview | bytes,
        marker: bool = False,
        csrcs: tuple[int, ...] = (),
        extension_profile: int | None = None,
        extension_data: memoryview | bytes | None = None,
    ) -> None:
        self._flags = 0x80 | (0x10 if extension_profile is not None else 0) | len(csrcs)
        self.marker = marker
        self.payload_type = payload_type
        self.sequence = sequence
        self.timestamp = timestamp
        self.ssrc = ssrc
        ext = None if extension_data is None else memoryview(extension_data)
        if csrcs or extension_profile is not None:
            self._extras = (csrcs, extension_profile, ext)
        else:
            self._extras = None
        self.payload = memoryview(payload)

    @classmethod
    def parse(cls, buf: memoryview | bytes | bytearray) -> RtpPacket:
        """Parse one RTP packet; raise :class:`ProtocolError` when it is malformed.

        Checks version 2, the CSRC list, the header extension length and the padding count
        against the buffer's length. Nothing is copied: ``payload`` is a view into ``buf``.
        """
        view = buf if type(buf) is memoryview else memoryview(buf)
        size = len(view)
        if size < 12:
            raise ProtocolError(f"RTP packet of {size} bytes is shorter than the 12-byte header")
        b0, b1, seq, ts, ssrc = _HEADER.unpack_from(view)
        if b0 & 0xC0 != 0x80:
            raise ProtocolError(f"RTP version {b0 >> 6} is not 2")
        start = 12
        self = cls.__new__(cls)
        if b0 & 0x1F:
            cc = b0 & 0x0F
            csrcs: tuple[int, ...] = ()
            profile = None
            ext_data = None
            if cc:
                start += 4 * cc
                if start > size:
                    raise ProtocolError("RTP CSRC list runs past the end of the packet")
                csrcs = struct.unpack_from(f"!{cc}I", view, 12)
            if b0 & 0x10:
                if start + 4 > size:
                    raise ProtocolError("RTP header extension runs past the end of the packet")
                profile, words = _EXT_HEADER.unpack_from(view, start)
                ext_start = start + 4
                start = ext_start + 4 * words
                if start > size:
                    raise ProtocolError("RTP header extension runs past the end of the packet")
                ext_data = view[ext_start:start]
            self._extras = (csrcs, profile, ext_data)
        else:
            self._extras = None
        if b0 & 0x20:
            pad = view[size - 1]
            if pad == 0 or start + pad > size:
                raise ProtocolError(f"RTP padding count {pad} is invalid")
            self.payload = view[start : size - pad]
        else:
            self.payload = view[start:]
        self._flags = b0
        self.marker = b1 > 127
        self.payload_type = b1 & 0x7F
        self.sequence = seq
        self.timestamp = ts
        self.ssrc = ssrc
        return self

    @property
    def csrcs(self) -> tuple[int, ...]:
        """Contributing sources (empty for a camera)."""
        extras = self._extras
        return () if extras is None else extras[0]

    @property
    def extension_profile(self) -> int | None:
        """The header extension's 16-bit profile, or None without extension."""
        extras = self._extras
        return None if extras is None else extras[1]

    @property
    def extension_data(self) -> memoryview | None:
        """The header extension's data (a view), or None without extension."""
        extras = self._extras
        return None if extras is None else extras[2]

    @property
    def version(self) -> int:
        """RTP version (always 2 for a parsed packet)."""
        return self._flags >> 6

    @property
    def padding(self) -> bool:
        """True when the packet carried padding (already removed from ``payload``)."""
        return bool(self._flags & 0x20)

    @property
    def extension(self) -> bool:
        """True when the packet carried a header extension."""
        return bool(self._flags & 0x10)

    def to_bytes(self, padding: int = 0) -> bytes:
        """Serialise the packet (optionally with ``padding`` bytes of padding, 0..255)."""
        header = build_rtp_header(
            payload_type=self.payload_type,
            sequence=self.sequence,
            timestamp=self.timestamp,
            ssrc=self.ssrc,
            marker=self.marker,
            csrcs=self.csrcs,
            extension_profile=self.extension_profile,
            extension_data=None if self.extension_data is None else bytes(self.extension_data),
            padding=padding > 0,
        )
        if padding:
            if not 0 < padding < 256:
                raise ValueError("padding must be 1..255 bytes")
            return b"".join((header, self.payload, bytes(padding - 1), bytes((padding,))))
        return header + self.payload

    def __repr__(self) -> str:
        return (
            f"RtpPacket(pt={self.payload_type}, seq={self.sequence}, ts={self.timestamp}, "
            f"ssrc={self.ssrc:#010x}, marker={self.marker}, payload={len(self.payload)} bytes)"
        )


def build_rtp_header(
    *,
    payload_type: int,
    sequence: int,
    timestamp: int,
    ssrc: int,
    marker: bool = False,
    csrcs: tuple[int, ...] = (),
    extension_profile: int | None = None,
    extension_data: bytes | None = None,
    padding: bool = False,
) -> bytes:
    """Build an RTP header (fixed part, CSRCs and optional extension).

    ``extension_data`` must be a multiple of 4 bytes long. Values are masked to their field widths.
    """
    if len(csrcs) > 15:
        raise ValueError("at most 15 CSRCs")
    b0 = 0x80 | (0x20 if padding else 0) | len(csrcs)
    if extension_profile is not None:
        b0 |= 0x10
    header = _HEADER.pack(
        b0,
        (0x80 if marker else 0) | (payload_type & 0x7F),
        sequence & 0xFFFF,
        timestamp & 0xFFFFFFFF,
        ssrc & 0xFFFFFFFF,
    )
    if csrcs:
        header += struct.pack(f"!{len(csrcs)}I", *csrcs)
    if extension_profile is not None:
        data = extension_data or b""
        if len(data) % 4:
            raise ValueError("RTP header extension data must be a multiple of 4 bytes")
        header += _EXT_HEADER.pack(extension_profile & 0xFFFF, len(data) // 4) + data
    return header
