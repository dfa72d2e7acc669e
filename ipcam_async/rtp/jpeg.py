"""JPEG over RTP (RFC 2435): JFIF parsing, packetizer, depacketizer rebuilding full JFIF frames."""

from __future__ import annotations

import functools
import logging
import struct
from collections.abc import Sequence

import attrs

from ..errors import InvalidArgument, ProtocolError
from .clock import MediaClock
from .depacketizer import DepacketizerBase, DepacketizerStats
from .frames import AudioFrame, VideoFrame
from .packetizer import PacketizerBase

__all__ = [
    "JpegDepacketizer",
    "JpegInfo",
    "JpegPacketizer",
    "build_jfif_header",
    "parse_jfif",
    "rfc2435_tables",
]

log = logging.getLogger(__name__)


def _zigzag() -> list[int]:
    """Natural (row-major) index of each coefficient in JPEG zig-zag order."""
    order: list[int] = []
    for s in range(15):
        cells = [(y, s - y) for y in range(8) if 0 <= s - y < 8]
        if s % 2 == 0:
            cells.reverse()  # even diagonals run bottom-left to top-right
        order.extend(8 * y + x for y, x in cells)
    return order


ZIGZAG = _zigzag()

# ITU-T T.81 Annex K.1 tables, natural (row-major) order.
_LUMA_Q = (
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
_CHROMA_Q = (
    17, 18, 24, 47, 99, 99, 99, 99,
    18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99,
) + (99,) * 32  # fmt: skip

# ITU-T T.81 Annex K.3 Huffman tables as DHT segment bodies (class/id, 16 counts, values).
_DHT_DC_LUMA = bytes.fromhex("0000010501010101010100000000000000000102030405060708090a0b")
_DHT_DC_CHROMA = bytes.fromhex("0100030101010101010101010000000000000102030405060708090a0b")
_DHT_AC_LUMA = bytes.fromhex(
    "10"
    "0002010303020403050504040000017d"
    "01020300041105122131410613516107227114328191a1082342b1c11552d1f0"
    "2433627282090a161718191a25262728292a3435363738393a434445464748494a"
    "535455565758595a636465666768696a737475767778797a838485868788898a"
    "92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6"
    "c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9fa"
)
_DHT_AC_CHROMA = bytes.fromhex(
    "11"
    "00020102040403040705040400010277"
    "000102031104052131061241510761711322328108144291a1b1c109233352f0"
    "156272d10a162434e125f11718191a262728292a35363738393a434445464748"
    "494a535455565758595a636465666768696a737475767778797a828384858687"
    "88898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3"
    "c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9fa"
)
_STANDARD_DHT = (_DHT_DC_LUMA, _DHT_AC_LUMA, _DHT_DC_CHROMA, _DHT_AC_CHROMA)
_DHT_SEGMENT = b"".join(b"\xff\xc4" + struct.pack("!H", len(t) + 2) + t for t in _STANDARD_DHT)

_MAX_DIMENSION = 2040
_MAIN_HEADER = struct.Struct(
    "!IBBBB"
)  # type-specific + fragment offset, type, Q, width, height  # 255 blocks of 8 pixels


@functools.lru_cache(maxsize=128)
def rfc2435_tables(q: int) -> tuple[bytes, bytes]:
    """Luma and chroma quantization tables for RFC 2435 Q 1..99, in zig-zag order (as in DQT).

    The standard tables scaled like the IJG library does for quality ``q``.
    """
    if not 1 <= q <= 99:
        raise InvalidArgument("q", "1..99", q)
    scale = 5000 // q if q < 50 else 200 - 2 * q

    def scaled(table: tuple[int, ...]) -> bytes:
        return bytes(min(max((table[ZIGZAG[i]] * scale + 50) // 100, 1), 255) for i in range(64))

    return scaled(_LUMA_Q), scaled(_CHROMA_Q)


@attrs.frozen(slots=True)
class JpegInfo:
    """What RFC 2435 needs from a baseline JFIF picture."""

    width: int
    height: int
    type: int  # 0 = 4:2:2 (Y 2x1), 1 = 4:2:0 (Y 2x2)
    restart_interval: int
    tables: tuple[bytes, ...]  # luma, chroma; zig-zag order; 64 or 128 bytes each
    scan: memoryview  # entropy-coded data, EOI excluded


def _check_std_huffman(body: memoryview) -> None:
    pos = 0
    while pos < len(body):
        if pos + 17 > len(body):
            raise ProtocolError("truncated DHT segment")
        count = sum(body[pos + 1 : pos + 17])
        table = bytes(body[pos : pos + 17 + count])
        if table not in _STANDARD_DHT:
            raise ProtocolError(
                "JPEG uses non-standard Huffman tables, which RFC 2435 cannot carry"
            )
        pos += 17 + count


def parse_jfif(data: bytes | memoryview) -> JpegInfo:
    """Extract what RFC 2435 carries from a baseline JFIF picture.

    Raises :class:`ProtocolError` for pictures RFC 2435 types 0/1 cannot carry: not baseline
    (progressive, arithmetic, 12-bit), not 3-component YCbCr with Y 2x1 or 2x2 and chroma
    1x1, chroma planes on different tables, non-standard Huffman tables, or larger than
    2040 pixels.
    """
    view = memoryview(data)
    n = len(view)
    if n < 4 or view[0] != 0xFF or view[1] != 0xD8:
        raise ProtocolError("not a JPEG (no SOI marker)")
    pos = 2
    tables: dict[int, bytes] = {}
    sof: tuple[int, int, int, tuple[int, int, int]] | None = None
    restart = 0
    while True:
        while pos < n and view[pos] == 0xFF and pos + 1 < n and view[pos + 1] == 0xFF:
            pos += 1  # fill bytes
        if pos + 4 > n or view[pos] != 0xFF:
            raise ProtocolError("JPEG marker structure broken")
        marker = view[pos + 1]
        length = (view[pos + 2] << 8) | view[pos + 3]
        body = view[pos + 4 : pos + 2 + length]
        if length < 2 or pos + 2 + length > n:
            raise ProtocolError("JPEG segment runs past the end of the data")
        if marker == 0xDB:
            q = 0
            while q < len(body):
                pq, tq = body[q] >> 4, body[q] & 0x0F
                size = 128 if pq else 64
                if q + 1 + size > len(body):
                    raise ProtocolError("truncated DQT segment")
                tables[tq] = bytes(body[q + 1 : q + 1 + size])
                q += 1 + size
        elif marker in (0xC0, 0xC1):
            if len(body) < 6 + 3 * 3 or body[0] != 8:
                raise ProtocolError("only 8-bit JPEG can be sent over RTP")
            height = (body[1] << 8) | body[2]
            width = (body[3] << 8) | body[4]
            if body[5] != 3:
                raise ProtocolError("RFC 2435 carries 3-component YCbCr JPEG only")
            comps = [(body[6 + 3 * i + 1], body[6 + 3 * i + 2]) for i in range(3)]
            if comps[1][0] != 0x11 or comps[2][0] != 0x11:
                raise ProtocolError("chroma components must not be subsampled further")
            if comps[0][0] == 0x21:
                kind = 0
            elif comps[0][0] == 0x22:
                kind = 1
            else:
                raise ProtocolError(f"luma sampling {comps[0][0]:#x} is not RFC 2435 type 0/1")
            if comps[1][1] != comps[2][1]:
                raise ProtocolError("Cb and Cr must share one quantization table")
            sof = (width, height, kind, (comps[0][1], comps[1][1], comps[2][1]))
        elif 0xC2 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            raise ProtocolError(f"JPEG process SOF{marker - 0xC0} is not baseline")
        elif marker == 0xC4:
            _check_std_huffman(body)
        elif marker == 0xDD:
            if len(body) < 2:
                raise ProtocolError("truncated DRI segment")
            restart = (body[0] << 8) | body[1]
        elif marker == 0xDA:
            if sof is None:
                raise ProtocolError("SOS before SOF")
            if len(body) < 1 or body[0] != 3:
                raise ProtocolError("RFC 2435 needs one interleaved scan of 3 components")
            start = pos + 2 + length
            end = n
            if n >= 2 and view[n - 2] == 0xFF and view[n - 1] == 0xD9:
                end = n - 2
            break
        elif marker in (0xD8, 0xD9):
            raise ProtocolError("unexpected SOI/EOI inside the JPEG header")
        pos += 2 + length
    width, height, kind, (tq_y, tq_c, _) = sof
    if width > _MAX_DIMENSION or height > _MAX_DIMENSION or width == 0 or height == 0:
        raise ProtocolError(f"{width}x{height} is outside RFC 2435's 8..2040 pixel range")
    try:
        chosen = (tables[tq_y], tables[tq_c])
    except KeyError as exc:
        raise ProtocolError("JPEG refers to a quantization table it does not define") from exc
    return JpegInfo(
        width=width,
        height=height,
        type=kind,
        restart_interval=restart,
        tables=chosen,
        scan=view[start:end],
    )


def build_jfif_header(
    kind: int, width: int, height: int, tables: Sequence[bytes], restart_interval: int = 0
) -> bytes:
    """JPEG header (SOI up to and including SOS) for RFC 2435 type 0/1 scan data.

    ``tables`` are luma then chroma quantization tables in zig-zag order (64 bytes for
    8-bit, 128 for 16-bit entries). Component ids are 0, 1, 2 as in RFC 2435 Appendix B.
    """
    if kind not in (0, 1):
        raise InvalidArgument("type", "0 or 1", kind)
    parts = [b"\xff\xd8"]
    for i, table in enumerate(tables[:2]):
        pq = 1 if len(table) == 128 else 0
        parts.append(b"\xff\xdb" + struct.pack("!HB", 3 + len(table), (pq << 4) | i) + table)
    parts.append(
        b"\xff\xc0"
        + struct.pack("!HBHHB", 17, 8, height, width, 3)
        + bytes((0, 0x21 if kind == 0 else 0x22, 0, 1, 0x11, 1, 2, 0x11, 1))
    )
    parts.append(_DHT_SEGMENT)
    if restart_interval:
        parts.append(b"\xff\xdd\x00\x04" + struct.pack("!H", restart_interval))
    parts.append(b"\xff\xda\x00\x0c\x03\x00\x00\x01\x11\x02\x11\x00\x3f\x00")
    return b"".join(parts)


class JpegPacketizer(PacketizerBase):
    """Turn baseline JFIF pictures into RTP packets (RFC 2435).

    ``q=255`` (default) sends the picture's own quantization tables in-band with every
    frame; ``q`` 1..99 sends none (the receiver computes the standard tables, so the
    picture must have been encoded with exactly those: IJG/libjpeg quality ``q``);
    ``q`` 128..254 sends the tables in every frame too. Widths and heights that are not
    multiples of 8 are rounded up (RFC 2435 counts in 8-pixel blocks). Pictures with a
    restart interval are sent as types 64/65 with F=L=1 and restart count 0x3FFF, since
    fragment boundaries do not follow restart intervals.
    """

    __slots__ = ("q",)

    def __init__(
        self,
        payload_type: int = 26,
        ssrc: int | None = None,
        mtu: int = 1400,
        seq: int | None = None,
        *,
        q: int = 255,
    ) -> None:
        super().__init__(payload_type=payload_type, ssrc=ssrc, mtu=mtu, seq=seq)
        if not (1 <= q <= 99 or 128 <= q <= 255):
            raise InvalidArgument("q", "1..99 or 128..255", q)
        self.q = q

    def packetize(self, jfif: bytes | memoryview, timestamp: int) -> list[bytes]:
        """Packetize one JFIF picture; raises :class:`ProtocolError` if RFC 2435 can't carry it."""
        info = parse_jfif(jfif)
        q = self.q
        if q < 128 and info.tables != rfc2435_tables(q):
            raise InvalidArgument("q", "the Q the picture was encoded with (tables differ)", q)
        kind = info.type
        restart_header = b""
        if info.restart_interval:
            kind += 64
            restart_header = struct.pack("!HH", info.restart_interval, 0xFFFF)
        qtable_header = b""
        if q >= 128:
            precision = sum(1 << i for i, t in enumerate(info.tables) if len(t) == 128)
            data = b"".join(info.tables)
            qtable_header = struct.pack("!BBH", 0, precision, len(data)) + data
        w8 = (info.width + 7) // 8
        h8 = (info.height + 7) // 8
        scan = info.scan
        total = len(scan)
        packets: list[bytes] = []
        offset = 0
        first = True
        while first or offset < total:
            extra = qtable_header if first else b""
            room = self.mtu - 12 - 8 - len(restart_header) - len(extra)
            if room <= 0:
                raise InvalidArgument("mtu", "room for the quantization tables", self.mtu)
            chunk = scan[offset : offset + room]
            last = offset + len(chunk) >= total
            main = struct.pack("!I", offset & 0xFFFFFF) + bytes((kind, q, w8, h8))
            packets.append(
                b"".join((self._header(last, timestamp), main, restart_header, extra, chunk))
            )
            offset += len(chunk)
            first = False
        return self._account(packets)


class JpegDepacketizer(DepacketizerBase):
    """Rebuild JFIF pictures from RFC 2435 packets in sequence order.

    Supports types 0 and 1 (and 64/65 with restart markers), Q 1..99 (standard tables),
    Q 128..255 (tables in-band; a single table serves all components; with Q < 255 a
    zero-length table header reuses the tables last seen for that Q). A frame whose
    fragment offsets leave a hole, that lacks its last packet (the RTP timestamp moves on
    without a marker) or that grows past ``max_frame_size`` is dropped and counted; the next
    frame handed out has ``lost=True``. Other types and reserved Q values are counted in
    ``stats.unsupported_packets``.
    """

    __slots__ = (
        "_broken",
        "_cache_key",
        "_cached_header",
        "_expected",
        "_header_fields",
        "_parts",
        "_qcache",
        "_ts",
        "clock",
        "max_frame_size",
        "stats",
        "track",
        "writev",
    )

    codec = "JPEG"

    def __init__(
        self,
        *,
        clock: MediaClock,
        track: int = 0,
        writev: bool = False,
        max_frame_size: int = 8 << 20,
    ) -> None:
        self.clock = clock
        self.track = track
        self.writev = writev
        self.max_frame_size = max_frame_size
        self.stats = DepacketizerStats()
        self._qcache: dict[int, tuple[bytes, ...]] = {}
        self._cache_key: tuple[object, ...] | None = None
        self._cached_header = b""
        self._pending_loss = False
        self._ts: int | None = None
        self._start(None)

    def _start(self, ts: int | None) -> None:
        self._ts = ts
        self._parts: list[memoryview] = []
        self._expected = 0
        self._broken = False
        self._header_fields: tuple[int, int, int, tuple[bytes, ...], int] | None = None

    @property
    def buffered(self) -> int:
        """Bytes of scan data held for the frame being assembled."""
        return sum(len(p) for p in self._parts)

    def reset(self) -> None:
        """Drop any partial frame (a new source starts); the next frame has ``lost=True``."""
        if self._parts or self._broken:
            self._drop()
        self._pending_loss = True
        self._start(None)

    def flush(self, out: list[VideoFrame | AudioFrame]) -> None:
        """A frame without its last packet cannot be completed: drop what is held."""
        if self._parts or self._broken:
            self._drop()
        self._start(None)

    def _drop(self) -> None:
        self.stats.dropped_frames += 1
        self._pending_loss = True

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
        if ts != self._ts:
            if self._parts or self._broken:
                self._drop()  # the previous frame never got its marker packet
            self._start(ts)
        payload = buf[start:] if start else buf
        n = len(payload)
        if self._broken:
            if marker:
                self._drop()
                self._start(ts)
            return
        if n < 8:
            self._bad(ts, marker, malformed=True)
            return
        word, kind, q, w8, h8 = _MAIN_HEADER.unpack_from(payload)
        offset = word & 0xFFFFFF
        width = w8 * 8
        height = h8 * 8
        pos = 8
        restart = 0
        if 64 <= kind < 128:
            if n < 12:
                self._bad(ts, marker, malformed=True)
                return
            restart = (payload[8] << 8) | payload[9]
            kind -= 64
            pos = 12
        if kind > 1 or q == 0 or 100 <= q < 128 or width == 0 or height == 0:
            self._bad(ts, marker, malformed=False)
            return
        if offset != self._expected:
            self._bad(ts, marker, malformed=False, counted=False)
            return
        if offset == 0:
            if q >= 128:
                if pos + 4 > n:
                    self._bad(ts, marker, malformed=True)
                    return
                precision = payload[pos + 1]
                length = (payload[pos + 2] << 8) | payload[pos + 3]
                pos += 4
                if pos + length > n:
                    self._bad(ts, marker, malformed=True)
                    return
                if length == 0:
                    cached = self._qcache.get(q) if q != 255 else None
                    if cached is None:
                        self._bad(ts, marker, malformed=True)
                        return
                    tables = cached
                else:
                    tables_list: list[bytes] = []
                    tpos = pos
                    i = 0
                    while tpos < pos + length and i < 4:
                        size = 128 if precision >> i & 1 else 64
                        if tpos + size > pos + length:
                            break
                        tables_list.append(bytes(payload[tpos : tpos + size]))
                        tpos += size
                        i += 1
                    if not tables_list or tpos != pos + length:
                        self._bad(ts, marker, malformed=True)
                        return
                    if len(tables_list) == 1:
                        # one table for all components (FFmpeg sends this when they match)
                        tables_list.append(tables_list[0])
                    tables = tuple(tables_list)
                    if q != 255:
                        self._qcache[q] = tables
                    pos += length
            else:
                tables = rfc2435_tables(q)
            self._header_fields = (kind, width, height, tables, restart)
        elif self._header_fields is None:
            self._bad(ts, marker, malformed=False, counted=False)
            return
        data = payload[pos:]
        self._expected += len(data)
        if self._expected > self.max_frame_size:
            self.stats.oversize_frames += 1
            log.warning(
                "JPEG track %d: frame larger than %d bytes dropped", self.track, self.max_frame_size
            )
            self._bad(ts, marker, malformed=False, counted=False)
            return
        self._parts.append(data)
        if marker:
            self._finish(out)

    def _bad(self, ts: int, marker: bool, *, malformed: bool, counted: bool = True) -> None:
        if counted:
            if malformed:
                self.stats.malformed_packets += 1
            else:
                self.stats.unsupported_packets += 1
        self._parts = []
        self._broken = True
        if marker:
            self._drop()
            self._start(ts)

    def _finish(self, out: list[VideoFrame | AudioFrame]) -> None:
        fields = self._header_fields
        ts = self._ts
        assert fields is not None and ts is not None
        if fields != self._cache_key:
            kind, width, height, tables, restart = fields
            self._cached_header = build_jfif_header(kind, width, height, tables, restart)
            self._cache_key = fields
        parts: list[bytes | memoryview] = [self._cached_header, *self._parts]
        last = self._parts[-1]
        if len(last) < 2 or last[-2] != 0xFF or last[-1] != 0xD9:
            parts.append(b"\xff\xd9")
        self._emit_video("JPEG", parts, ts, True, fields[1], fields[2], out)
        self._start(ts)
        self._ts = ts
