"""Sans-io parser for ``multipart/x-mixed-replace`` streams (event monitor, MJPEG over HTTP).

The parser takes bytes in chunks of any size and returns the complete parts found so far; the
result never depends on how the stream was cut into chunks. It holds no socket, no task and no
clock. Cameras bend the multipart rules, so it is tolerant where the spec's own examples are:

* the boundary comes from the ``Content-Type`` header with or without quotes, and with or without
  a leading ``--`` (some devices put the full delimiter into the parameter);
* a part with ``Content-Length`` is cut at that length and handed out at once (no need to wait
  for the next delimiter); a part without it is found by scanning for the next delimiter;
* ``Content-Length`` values that disagree with the bytes actually sent (the spec's monitor
  example announces 74 bytes and sends 78) are absorbed: whitespace between a part and the next
  delimiter is skipped, and other stray bytes make the parser resynchronise on the next delimiter
  (counted in :attr:`MultipartStats.resync_bytes`);
* part header names are case-insensitive (``Content-type``), lines may end in LF alone, and
  delimiter lines may carry trailing spaces.

Everything is bounded: part headers (``max_header_size``), part bodies (``max_part_size``) and
garbage skipped while resynchronising. Crossing a bound raises :class:`ProtocolError`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from ..errors import ProtocolError

__all__ = [
    "MultipartParser",
    "MultipartStats",
    "Part",
    "boundary_from_content_type",
]

log = logging.getLogger(__name__)

_WS = b" \t\r\n"
_DEFAULT_MAX_PART = 8 << 20
_DEFAULT_MAX_HEADER = 8 << 10
# A delimiter line longer than this (boundary + "--" + padding) is not a delimiter.
_MAX_DELIMITER_LINE = 1024

# Parser states.
_PREAMBLE = 0  # looking for the first delimiter (or resynchronising on the next one)
_HEADERS = 2  # reading part headers up to the blank line
_BODY_LENGTH = 3  # reading a body of known length
_BODY_SCAN = 4  # reading a body up to the next delimiter
_AFTER_BODY = 5  # a sized body ended: skipping whitespace, expecting a delimiter
_DONE = 6  # closing delimiter seen: everything after is epilogue

# Verdicts on a line that starts with "--boundary".
_UNDECIDED = 0
_NOT_DELIMITER = 1
_OPEN = 2
_CLOSE = 3


@attrs.frozen(slots=True)
class Part:
    """One part of a multipart stream: its headers (case-insensitive) and its body bytes."""

    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        """The part's media type, lower case, without parameters (``""`` when absent)."""
        value = self.headers.get("Content-Type", "")
        return value.split(";", 1)[0].strip().lower()


@attrs.define(slots=True)
class MultipartStats:
    """Counters of a :class:`MultipartParser` (they only grow)."""

    parts: int = 0
    """Complete parts handed out."""
    bytes_in: int = 0
    """Bytes fed in."""
    resyncs: int = 0
    """Times stray bytes stood where a delimiter was expected."""
    resync_bytes: int = 0
    """Bytes skipped while resynchronising (preamble not included)."""
    preamble_bytes: int = 0
    """Bytes before the first delimiter."""
    epilogue_bytes: int = 0
    """Bytes after the closing delimiter."""


def boundary_from_content_type(content_type: str) -> str:
    """Return the boundary of a ``multipart/*`` ``Content-Type`` header value.

    Quotes are removed; a leading ``--`` is kept (the parser accepts both forms). Raises
    :class:`ProtocolError` when the value is not multipart or has no usable boundary.
    """
    media, _, rest = content_type.partition(";")
    if not media.strip().lower().startswith("multipart/"):
        raise ProtocolError(f"expected a multipart content type, got {content_type[:80]!r}")
    for param in rest.split(";"):
        name, eq, value = param.partition("=")
        if eq and name.strip().lower() == "boundary":
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            value = value.strip()
            if value.strip("-") and len(value) <= 200:
                return value
            break
    raise ProtocolError(f"multipart content type without a usable boundary: {content_type[:80]!r}")


class MultipartParser:
    """Incremental parser of a ``multipart/x-mixed-replace`` body.

    ``feed(data)`` returns the parts completed by ``data`` (possibly none); ``feed_eof()`` tells
    the parser the stream ended and reports whether a part was cut short. The parser never reads
    byte by byte: it searches its buffer with ``bytes.find`` and slices bodies out in one copy.
    """

    def __init__(
        self,
        boundary: str | bytes,
        *,
        max_part_size: int = _DEFAULT_MAX_PART,
        max_header_size: int = _DEFAULT_MAX_HEADER,
        max_resync: int | None = None,
    ) -> None:
        raw = boundary.encode("latin-1") if isinstance(boundary, str) else bytes(boundary)
        raw = raw.strip()
        if len(raw) >= 2 and raw[:1] == raw[-1:] == b'"':
            raw = raw[1:-1]
        # "--foo" and "foo" name the same delimiter line "--foo"; a device announcing "--foo"
        # and then writing the RFC form "----foo" is also matched (the extra dashes are absorbed).
        core = raw[2:] if raw.startswith(b"--") else raw
        if not core.strip(b"-"):
            raise ProtocolError("empty multipart boundary")
        if max_part_size <= 0 or max_header_size <= 0:
            raise ValueError("limits must be positive")
        self._needle = b"--" + core
        self.max_part_size = max_part_size
        self.max_header_size = max_header_size
        self.max_resync = max_part_size if max_resync is None else max_resync
        self._buf = bytearray()
        self._pos = 0  # start of unconsumed data in _buf
        self._state = _PREAMBLE
        self._started = False  # a first delimiter has been seen
        self._scan_from = 0  # absolute offset in _buf where the next needle search may start
        self._skipped = 0  # bytes discarded in the current preamble/resync run
        self._headers: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())
        self._length = 0
        self._error: ProtocolError | None = None
        self.stats = MultipartStats()

    @property
    def done(self) -> bool:
        """True once the closing delimiter (``--boundary--``) has been seen."""
        return self._state == _DONE

    @property
    def in_part(self) -> bool:
        """True when the parser holds the beginning of a part that is not complete yet."""
        if self._state == _HEADERS:
            return self.buffered > 0
        return self._state in (_BODY_LENGTH, _BODY_SCAN)

    @property
    def buffered(self) -> int:
        """Bytes held in the parser's buffer (bounded by the limits)."""
        return len(self._buf) - self._pos

    def feed(self, data: bytes | bytearray | memoryview) -> list[Part]:
        """Add ``data`` and return the parts it completed.

        Raises :class:`ProtocolError` on malformed or oversized input; when ``data`` completed
        parts before the fault, those are returned and the error is raised by the next call.
        """
        if self._error is not None:
            raise self._error
        n = len(data)
        self.stats.bytes_in += n
        if self._state == _DONE:
            self.stats.epilogue_bytes += n
            return []
        if n:
            self._buf += data
        parts: list[Part] = []
        try:
            self._run(parts)
        except ProtocolError as exc:
            if not parts:
                raise
            # Hand out the parts completed before the fault; the next call raises it.
            self._error = exc
        finally:
            self._compact()
        return parts

    def feed_eof(self) -> bool:
        """Mark the end of the stream; return True when it cut a part short (data lost).

        A part found by scanning is only known to be complete when the next delimiter arrives,
        so a stream that ends without one loses its last part; this is reported, never guessed.
        Raises the :class:`ProtocolError` held back by the last :meth:`feed`, if any.
        """
        if self._error is not None:
            raise self._error
        truncated = self.in_part
        if truncated:
            log.debug("multipart stream ended inside a part (%d bytes dropped)", self.buffered)
        self._buf.clear()
        self._pos = 0
        self._scan_from = 0
        self._state = _DONE
        return truncated

    # -- internals -------------------------------------------------------------------------

    def _compact(self) -> None:
        # Deleting a prefix of a bytearray is cheap in CPython (it moves the start pointer).
        if self._pos:
            del self._buf[: self._pos]
            self._scan_from = max(0, self._scan_from - self._pos)
            self._pos = 0

    def _run(self, parts: list[Part]) -> None:
        while True:
            state = self._state
            if state == _BODY_LENGTH:
                if not self._body_length(parts):
                    return
            elif state == _BODY_SCAN:
                if not self._body_scan(parts):
                    return
            elif state == _HEADERS:
                if not self._read_headers():
                    return
            elif state == _AFTER_BODY:
                if not self._after_body():
                    return
            elif state == _PREAMBLE:
                if not self._find_delimiter():
                    return
            else:  # _DONE
                rest = len(self._buf) - self._pos
                self.stats.epilogue_bytes += rest
                self._pos = len(self._buf)
                return

    def _find_delimiter(self) -> bool:
        buf, needle = self._buf, self._needle
        search = max(self._pos, self._scan_from)
        while True:
            idx = buf.find(needle, search)
            if idx < 0:
                # Keep only what could still be the start of a needle.
                keep_from = max(self._pos, len(buf) - len(needle) + 1)
                self._skip(keep_from - self._pos)
                self._pos = keep_from
                self._scan_from = keep_from
                return False
            verdict, after = self._delimiter_line(idx + len(needle))
            if verdict == _NOT_DELIMITER:
                search = idx + 1
                continue
            self._skip(idx - self._pos)
            self._pos = idx
            if verdict == _UNDECIDED:
                self._scan_from = idx
                return False
            self._open_or_close(verdict, after)
            return True

    def _open_or_close(self, verdict: int, after: int) -> None:
        self._pos = after
        self._scan_from = 0
        self._skipped = 0
        if verdict == _CLOSE:
            self._state = _DONE
        else:
            self._started = True
            self._state = _HEADERS

    def _skip(self, count: int) -> None:
        if count <= 0:
            return
        self._skipped += count
        if self._started:
            self.stats.resync_bytes += count
        else:
            self.stats.preamble_bytes += count
        if self._skipped > self.max_resync:
            what = "stray data between parts" if self._started else "preamble"
            raise ProtocolError(f"multipart {what} exceeds {self.max_resync} bytes: no boundary")

    def _delimiter_line(self, pos: int) -> tuple[int, int]:
        """Judge the rest of a line that starts with ``--boundary`` (``pos`` is just after it).

        ``--`` closes the stream; optional padding then a line end opens a part; anything else
        means the boundary text was part of other data. Returns the verdict and the offset just
        after the delimiter.
        """
        buf = self._buf
        avail = len(buf) - pos
        if avail < 2:
            if avail == 0 or buf[pos] in b"-\r\n \t":
                if avail == 1 and buf[pos] == 0x0A:
                    return _OPEN, pos + 1
                return _UNDECIDED, pos
            return _NOT_DELIMITER, pos
        if buf[pos] == 0x2D:
            if buf[pos + 1] == 0x2D:
                return _CLOSE, pos + 2
            return _NOT_DELIMITER, pos
        end = buf.find(b"\n", pos, pos + _MAX_DELIMITER_LINE)
        if end < 0:
            if avail >= _MAX_DELIMITER_LINE or buf[pos:].strip(b" \t\r"):
                return _NOT_DELIMITER, pos
            return _UNDECIDED, pos
        if buf[pos:end].strip(b" \t\r"):
            return _NOT_DELIMITER, pos
        return _OPEN, end + 1

    def _read_headers(self) -> bool:
        buf, pos = self._buf, self._pos
        limit = pos + self.max_header_size
        headers: CIMultiDict[str] = CIMultiDict()
        line_start = pos
        while True:
            end = buf.find(b"\n", line_start, limit)
            if end < 0:
                if len(buf) >= limit:
                    raise ProtocolError(
                        f"multipart part headers exceed {self.max_header_size} bytes"
                    )
                return False
            line = bytes(buf[line_start:end]).rstrip(b"\r")
            line_start = end + 1
            if not line.strip():
                break
            name, colon, value = line.partition(b":")
            name = name.strip()
            if not colon or not name or any(c <= 32 or c >= 127 for c in name):
                raise ProtocolError(f"malformed multipart part header line {line[:60]!r}")
            headers.add(name.decode("ascii"), value.strip().decode("latin-1"))
        self._pos = line_start
        self._headers = CIMultiDictProxy(headers)
        lengths = set(headers.getall("Content-Length", []))
        if lengths:
            if len(lengths) != 1:
                raise ProtocolError("multipart part with conflicting Content-Length headers")
            text = lengths.pop().strip()
            if not text.isdigit() or not text.isascii():
                raise ProtocolError(f"bad multipart Content-Length {text[:20]!r}")
            length = int(text)
            if length > self.max_part_size:
                raise ProtocolError(
                    f"multipart part of {length} bytes exceeds the {self.max_part_size}-byte limit"
                )
            self._length = length
            self._state = _BODY_LENGTH
        else:
            self._scan_from = self._pos
            self._state = _BODY_SCAN
        return True

    def _slice(self, start: int, end: int) -> bytes:
        # One copy: slicing the bytearray itself would copy twice (bytearray, then bytes).
        with memoryview(self._buf) as view:
            return bytes(view[start:end])

    def _emit(self, parts: list[Part], body: bytes) -> None:
        parts.append(Part(self._headers, body))
        self.stats.parts += 1

    def _body_length(self, parts: list[Part]) -> bool:
        pos, length = self._pos, self._length
        if len(self._buf) - pos < length:
            return False
        self._emit(parts, self._slice(pos, pos + length))
        self._pos = pos + length
        self._state = _AFTER_BODY
        return True

    def _after_body(self) -> bool:
        buf, pos, needle = self._buf, self._pos, self._needle
        n = len(buf)
        while pos < n and buf[pos] in _WS:
            pos += 1
        self._pos = pos
        if pos == n:
            return False
        avail = min(n - pos, len(needle))
        verdict = _UNDECIDED
        after = pos
        if buf[pos : pos + avail] == needle[:avail]:
            if avail < len(needle):
                return False
            verdict, after = self._delimiter_line(pos + len(needle))
            if verdict == _UNDECIDED:
                return False
        if verdict in (_NOT_DELIMITER, _UNDECIDED):
            # A Content-Length shorter than the data really sent, or garbage.
            self.stats.resyncs += 1
            log.debug("stray bytes after a multipart part: resynchronising on the boundary")
            self._state = _PREAMBLE
            self._scan_from = pos
            return True
        self._open_or_close(verdict, after)
        return True

    def _body_scan(self, parts: list[Part]) -> bool:
        buf, needle, pos = self._buf, self._needle, self._pos
        search = max(pos, self._scan_from)
        while True:
            idx = buf.find(needle, search)
            if idx < 0:
                if len(buf) - pos - len(needle) + 1 > self.max_part_size:
                    raise ProtocolError(
                        f"multipart part exceeds the {self.max_part_size}-byte limit"
                    )
                self._scan_from = max(pos, len(buf) - len(needle) + 1)
                return False
            if idx - pos > self.max_part_size:
                raise ProtocolError(f"multipart part exceeds the {self.max_part_size}-byte limit")
            verdict, after = self._delimiter_line(idx + len(needle))
            if verdict == _NOT_DELIMITER:
                search = idx + 1
                continue
            if verdict == _UNDECIDED:
                self._scan_from = idx
                return False
            break
        end = idx
        # Dashes that start the delimiter's line belong to it ("----foo" for boundary "--foo").
        dash = end
        while dash > pos and buf[dash - 1] == 0x2D:
            dash -= 1
        if dash < end and (dash == pos or buf[dash - 1] == 0x0A):
            end = dash
        # The line break before a delimiter belongs to the delimiter (RFC 2046), when present.
        if end > pos and buf[end - 1] == 0x0A:
            end -= 1
            if end > pos and buf[end - 1] == 0x0D:
                end -= 1
        self._emit(parts, self._slice(pos, end))
        self._open_or_close(verdict, after)
        return True
