"""Sans-io RTSP/1.0 message codec (RFC 2326) with the ``$``-interleaved binary frame splitter.

One :class:`RtspReader` per TCP connection takes the received bytes in whatever chunks the network
delivers and returns the messages it found; interleaved frames (``$``, channel, 16-bit length,
payload) mixed into the same byte stream go to a callback or come back as :class:`InterleavedFrame`
events. The reader is deterministic under re-chunking: feeding the same bytes in any split gives the
same events. It never touches sockets, tasks or clocks.

Frames are handed out as :class:`memoryview` slices of the immutable ``bytes`` chunk they arrived in
(no copy), except for the rare frame split across two chunks, which is joined once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Final

import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from ..errors import ProtocolError
from ..redact import check_header_value

__all__ = [
    "DEFAULT_MAX_BODY",
    "DEFAULT_MAX_HEADER",
    "InterleavedFrame",
    "ReaderStats",
    "RtspReader",
    "RtspRequest",
    "RtspResponse",
    "encode_interleaved",
    "encode_request",
    "encode_response",
]

log = logging.getLogger(__name__)

DEFAULT_MAX_HEADER: Final = 64 * 1024
DEFAULT_MAX_BODY: Final = 1024 * 1024

# Methods a server may send to a client on the same connection (RFC 2326 table 2, plus RTSP 2.0's
# PLAY_NOTIFY which some servers already emit); everything else at a message boundary is junk.
_SERVER_METHODS: Final = (
    b"ANNOUNCE ",
    b"GET_PARAMETER ",
    b"OPTIONS ",
    b"PLAY_NOTIFY ",
    b"REDIRECT ",
    b"SET_PARAMETER ",
    b"TEARDOWN ",
)
_STARTS: Final = (b"RTSP/", *_SERVER_METHODS)
_MAX_START: Final = max(len(s) for s in _STARTS)
_CANDIDATE = re.compile(rb"[$RAGOPST]")
_HEADER_END = re.compile(rb"\r?\n\r?\n")


@attrs.frozen(slots=True)
class RtspResponse:
    """A response from the server. ``headers`` is case-insensitive and keeps repeated fields."""

    status: int
    reason: str
    headers: CIMultiDictProxy[str]
    body: bytes = b""
    version: str = "RTSP/1.0"

    @property
    def cseq(self) -> int | None:
        """The ``CSeq`` header as an int, or None when missing or not a number."""
        return _parse_cseq(self.headers.get("CSeq"))

    @property
    def ok(self) -> bool:
        """True for 2xx statuses."""
        return 200 <= self.status < 300


@attrs.frozen(slots=True)
class RtspRequest:
    """A request; used by the server side of the tests and for requests a server sends a client."""

    method: str
    url: str
    headers: CIMultiDictProxy[str]
    body: bytes = b""
    version: str = "RTSP/1.0"

    @property
    def cseq(self) -> int | None:
        """The ``CSeq`` header as an int, or None when missing or not a number."""
        return _parse_cseq(self.headers.get("CSeq"))


@attrs.frozen(slots=True)
class InterleavedFrame:
    """One ``$``-framed binary packet (RTP or RTCP) on ``channel``."""

    channel: int
    data: memoryview


@attrs.define(slots=True)
class ReaderStats:
    """Counters of an :class:`RtspReader`."""

    frames: int = 0
    frame_bytes: int = 0
    unknown_channel_frames: int = 0
    messages: int = 0
    junk_bytes: int = 0


Event = RtspResponse | RtspRequest | InterleavedFrame
FrameHandler = Callable[[int, memoryview], None]
FrameBatchHandler = Callable[[int, list[memoryview]], None]
#: ``(buf, view, pos, end) -> (new_pos, frames, payload_bytes)``: consumes a run of frames in place.
# Units an in-place run handler may decline per read before the rest goes the batched way.
_MAX_DECLINES = 8
#: ``(position after the run, frames consumed, their payload bytes)``.
RunResult = tuple[int, int, int]
#: ``(buf, view, pos, end) -> RunResult``: consumes a run of frames in place (see ``runs``).
RunHandler = Callable[[bytes | bytearray, memoryview, int, int], RunResult]


def _parse_cseq(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isdigit() and len(value) <= 10 else None


class RtspReader:
    """Incremental parser for one RTSP connection's incoming bytes.

    ``channels``: when a set is given, frames on other channels are dropped and counted in
    ``stats.unknown_channel_frames`` (the set may be changed at any time, e.g. after each SETUP).
    ``on_frame``: when given, frames are passed to it as ``(channel, memoryview)`` instead of being
    returned as events, which saves one object per packet on the hot path.
    ``on_frames``: batched form (takes precedence over ``on_frame``): each run of consecutive
    frames on one channel is passed as ``(channel, [memoryview, ...])`` in one call, so a chunk
    carrying a whole video frame's packets costs one call instead of one per packet. Order is
    kept: a run ends where another channel's frame or a message starts.
    ``runs``: optional per-channel handlers (a list of 256, None where absent) used by
    :meth:`scan`: a frame on such a channel is offered to its handler, which consumes the run of
    frames that starts there directly from the buffer and returns where it stopped; whatever it
    leaves goes the ``on_frames`` way. This is the zero-list path for TCP interleaved media.
    """

    def __init__(
        self,
        *,
        max_header: int = DEFAULT_MAX_HEADER,
        max_body: int = DEFAULT_MAX_BODY,
        channels: set[int] | None = None,
        on_frame: FrameHandler | None = None,
        on_frames: FrameBatchHandler | None = None,
    ) -> None:
        self.max_header = max_header
        self.max_body = max_body
        self.channels = channels
        self.on_frame = on_frame
        self.on_frames = on_frames
        self.runs: list[RunHandler | None] | None = None
        self.stats = ReaderStats()
        self._parts: list[bytes] = []
        self._pending_len = 0
        # Total bytes the pending unit needs, once known (a frame's header or a message's head
        # have been seen); None while still waiting for enough bytes to know.
        self._pending_need: int | None = None

    @property
    def buffered(self) -> int:
        """Bytes held back waiting for the rest of a frame or message."""
        return self._pending_len

    def feed(self, data: bytes) -> list[Event]:
        """Consume ``data`` (a chunk of the TCP stream) and return the complete events in it.

        Raises :class:`ProtocolError` on a malformed or oversized message; the connection is
        unusable afterwards.
        """
        events: list[Event] = []
        if not data:
            return events
        start = 0
        if self._parts:
            need = self._pending_need
            if need is not None:
                missing = need - self._pending_len
                if len(data) < missing:
                    self._parts.append(data)
                    self._pending_len += len(data)
                    return events
                self._parts.append(data[:missing])
                head = b"".join(self._parts)
                self._reset_pending()
                rest = self._scan(head, 0, len(head), events)
                if rest != len(head):  # pragma: no cover - need was computed from head itself
                    raise ProtocolError("RTSP reader lost track of a pending unit")
                start = missing
            else:
                self._parts.append(data)
                data = b"".join(self._parts)
                self._reset_pending()
        if start < len(data):
            pos = self._scan(data, start, len(data), events)
            if pos < len(data):
                tail = data[pos:]
                self._parts = [tail]
                self._pending_len = len(tail)
                self._pending_need = self._need_for(tail)
        return events

    def scan(
        self, buf: bytes | bytearray, start: int, end: int, view: memoryview | None = None
    ) -> tuple[list[Event], int]:
        """Parse the complete units in ``buf[start:end]`` for a caller that owns the buffer.

        Returns the events and the offset where the first incomplete unit begins; the caller
        keeps ``buf[offset:end]`` and calls again with more bytes appended after it. Frames are
        views of ``buf`` (``view``, when given, is ``memoryview(buf)``), so the caller must not
        overwrite bytes it has handed out. Do not mix with :meth:`feed` on one reader.
        Raises :class:`ProtocolError` like :meth:`feed`.
        """
        events: list[Event] = []
        pos = self._scan(buf, start, end, events, view)
        return events, pos

    def _reset_pending(self) -> None:
        self._parts = []
        self._pending_len = 0
        self._pending_need = None

    def _need_for(self, tail: bytes) -> int | None:
        """Total length of the unit that begins ``tail``, when its header is already complete."""
        if tail[0] == 0x24:
            if len(tail) >= 4:
                return 4 + ((tail[2] << 8) | tail[3])
            return None
        match = _HEADER_END.search(tail, 0, self.max_header)
        if match is None:
            if len(tail) > self.max_header:
                raise ProtocolError(f"RTSP header larger than {self.max_header} bytes")
            return None
        _, _, headers = _parse_head(tail[: match.start()])
        return match.end() + self._content_length(headers)

    def _content_length(self, headers: CIMultiDict[str]) -> int:
        raw = headers.get("Content-Length")
        if raw is None:
            return 0
        raw = raw.strip()
        if not raw.isdigit() or len(raw) > 12:
            raise ProtocolError("invalid Content-Length")
        length = int(raw)
        if length > self.max_body:
            raise ProtocolError(f"RTSP body of {length} bytes exceeds the {self.max_body} limit")
        return length

    def _scan(
        self,
        buf: bytes | bytearray,
        pos: int,
        n: int,
        events: list[Event],
        view: memoryview | None = None,
    ) -> int:
        """Parse units from ``buf[pos:n]``; return where the first incomplete unit starts."""
        if view is None:
            view = memoryview(buf)
        on_frame = self.on_frame
        on_frames = self.on_frames
        channels = self.channels
        runs = self.runs if on_frames is not None else None
        declines = 0
        stats = self.stats
        batch: list[memoryview] | None = None
        batch_channel = -1
        frames = frame_bytes = 0
        while pos < n:
            if buf[pos] == 0x24:
                if n - pos < 4:
                    break
                end = pos + 4 + ((buf[pos + 2] << 8) | buf[pos + 3])
                if end > n:
                    break
                channel = buf[pos + 1]
                if channels is not None and channel not in channels:
                    stats.unknown_channel_frames += 1
                else:
                    if runs is not None and declines < _MAX_DECLINES:
                        run = runs[channel]
                        if run is not None:
                            if batch:
                                on_frames(batch_channel, batch)  # type: ignore[misc]
                                batch = None
                                batch_channel = -1
                            after, count, nbytes = run(buf, view, pos, n)
                            if count:
                                frames += count
                                frame_bytes += nbytes
                                pos = after
                                continue
                            # This unit is not for the in-place path (a loss, a new source...):
                            # it goes the batched way. A stream where that keeps happening stops
                            # being offered in place for the rest of the read.
                            declines += 1
                    frames += 1
                    frame_bytes += end - pos - 4
                    if on_frames is not None:
                        if channel != batch_channel:
                            if batch:
                                on_frames(batch_channel, batch)
                            batch = []
                            batch_channel = channel
                        assert batch is not None
                        batch.append(view[pos + 4 : end])
                    elif on_frame is not None:
                        on_frame(channel, view[pos + 4 : end])
                    else:
                        events.append(InterleavedFrame(channel, view[pos + 4 : end]))
                pos = end
                continue
            if batch:
                on_frames(batch_channel, batch)  # type: ignore[misc]
                batch = None
                batch_channel = -1
            prefix = bytes(buf[pos : min(n, pos + _MAX_START)])
            if prefix.startswith(_STARTS):
                consumed = self._parse_message(buf, pos, n, events)
                if consumed == pos:
                    break
                pos = consumed
                continue
            if any(s.startswith(prefix) for s in _STARTS) and len(prefix) < _MAX_START:
                break  # could still become a message start: wait for more bytes
            # Junk between units (some cameras pad, or a frame was cut): skip to the next byte
            # that could start a unit.
            match = _CANDIDATE.search(buf, pos + 1, n)
            nxt = match.start() if match is not None else n
            stats.junk_bytes += nxt - pos
            log.debug("skipped %d junk bytes in RTSP stream", nxt - pos)
            pos = nxt
        if batch:
            on_frames(batch_channel, batch)  # type: ignore[misc]
        stats.frames += frames
        stats.frame_bytes += frame_bytes
        return pos

    def _parse_message(self, buf: bytes | bytearray, pos: int, n: int, events: list[Event]) -> int:
        match = _HEADER_END.search(buf, pos, min(n, pos + self.max_header))
        if match is None:
            if n - pos > self.max_header:
                raise ProtocolError(f"RTSP header larger than {self.max_header} bytes")
            return pos
        first, version, headers = _parse_head(bytes(buf[pos : match.start()]))
        end = match.end() + self._content_length(headers)
        if end > n:
            return pos
        body = bytes(buf[match.end() : end])
        proxy = CIMultiDictProxy(headers)
        if first[0].startswith("RTSP/"):
            events.append(RtspResponse(int(first[1]), first[2], proxy, body, version))
        else:
            events.append(RtspRequest(first[0], first[1], proxy, body, version))
        self.stats.messages += 1
        return end


_STATUS_CODE = re.compile(r"\d{3}")


def _parse_head(raw: bytes) -> tuple[tuple[str, str, str], str, CIMultiDict[str]]:
    text = raw.decode("latin-1")
    lines = text.split("\n")
    start = lines[0].strip()
    parts = start.split(None, 2)
    if start.startswith("RTSP/"):
        if len(parts) < 2 or not _STATUS_CODE.fullmatch(parts[1]):
            raise ProtocolError("malformed RTSP status line")
        version = parts[0]
        first = (parts[0], parts[1], parts[2] if len(parts) > 2 else "")
    else:
        if len(parts) != 3 or not parts[2].startswith("RTSP/"):
            raise ProtocolError("malformed RTSP request line")
        version = parts[2]
        first = (parts[0], parts[1], parts[2])
    headers: CIMultiDict[str] = CIMultiDict()
    last: str | None = None
    for line in lines[1:]:
        line = line.rstrip("\r")
        if not line.strip():
            continue
        if line[0] in " \t" and last is not None:
            # Obsolete line folding (RFC 2326 via RFC 822): continue the previous field.
            values = headers.popall(last)
            values[-1] = (values[-1] + " " + line.strip()).strip()
            for value in values:
                headers.add(last, value)
            continue
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not name:
            log.debug("ignored a malformed RTSP header line")
            continue
        headers.add(name, value.strip())
        last = name
    return first, version, headers


def encode_request(
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]] | Mapping[str, str] = (),
    body: bytes = b"",
) -> bytes:
    """Serialize a request; ``Content-Length`` is added for a body, CR/LF in values refused."""
    check_header_value("method", method)
    check_header_value("url", url)
    if not method or " " in method or " " in url:
        from ..errors import InvalidArgument

        raise InvalidArgument("request line", "a method and URL without spaces", "<refused>")
    items = headers.items() if isinstance(headers, Mapping) else headers
    out = [f"{method} {url} RTSP/1.0\r\n"]
    for name, value in items:
        check_header_value(name, name)
        check_header_value(name, value)
        out.append(f"{name}: {value}\r\n")
    if body:
        out.append(f"Content-Length: {len(body)}\r\n")
    out.append("\r\n")
    return "".join(out).encode("utf-8") + body


def encode_response(
    status: int,
    reason: str,
    headers: Iterable[tuple[str, str]] | Mapping[str, str] = (),
    body: bytes = b"",
) -> bytes:
    """Serialize a response (used to answer requests a server sends to the client)."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    out = [f"RTSP/1.0 {status} {reason}\r\n"]
    for name, value in items:
        check_header_value(name, value)
        out.append(f"{name}: {value}\r\n")
    if body:
        out.append(f"Content-Length: {len(body)}\r\n")
    out.append("\r\n")
    return "".join(out).encode("utf-8") + body


def encode_interleaved(channel: int, data: bytes | memoryview) -> bytes:
    """Frame ``data`` for channel ``channel`` as ``$``-interleaved binary data."""
    if not 0 <= channel <= 255 or len(data) > 0xFFFF:
        raise ValueError("interleaved channel must be 0..255 and data at most 65535 bytes")
    return b"$" + bytes((channel, len(data) >> 8, len(data) & 0xFF)) + bytes(data)
