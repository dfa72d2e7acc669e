"""Sans-io server side of RTSP/1.0: request parsing, interleaved frames, response encoding.

:class:`RequestReader` takes the bytes a client sends, in whatever chunks they arrive, and returns
:class:`Request` and :class:`ClientFrame` events (a client sends ``$``-framed RTCP receiver reports
on the RTSP connection when it uses TCP interleaving). Header and body sizes are bounded; a
malformed message raises :class:`~ipcam_async.errors.ProtocolError`.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterable
from typing import Final

import attrs

from ...errors import ProtocolError

__all__ = [
    "MAX_BODY",
    "MAX_HEADER",
    "REASONS",
    "ClientFrame",
    "Request",
    "RequestReader",
    "TransportSpec",
    "encode_response",
    "parse_transport",
]

MAX_HEADER: Final = 16 * 1024
MAX_BODY: Final = 64 * 1024
MAX_HEADERS: Final = 64

REASONS: Final[dict[int, str]] = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    453: "Not Enough Bandwidth",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    457: "Invalid Range",
    459: "Aggregate Operation Not Allowed",
    460: "Only Aggregate Operation Allowed",
    461: "Unsupported Transport",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "RTSP Version Not Supported",
}


@attrs.frozen(slots=True)
class Request:
    """One RTSP request. ``headers`` maps lower-cased names to the last value given."""

    method: str
    uri: str
    version: str
    headers: dict[str, str]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """Return the header ``name`` (any case) or None."""
        return self.headers.get(name.lower())


@attrs.frozen(slots=True)
class ClientFrame:
    """A ``$``-interleaved binary frame sent by the client (normally RTCP)."""

    channel: int
    data: bytes


Event = Request | ClientFrame


class RequestReader:
    """Incremental parser for the client-to-server byte stream of one RTSP connection."""

    __slots__ = ("_buf", "max_body", "max_header")

    def __init__(self, *, max_header: int = MAX_HEADER, max_body: int = MAX_BODY) -> None:
        self._buf = bytearray()
        self.max_header = max_header
        self.max_body = max_body

    def feed(self, data: bytes) -> list[Event]:
        """Add received bytes; return the complete events they finish, in order."""
        self._buf += data
        events: list[Event] = []
        buf = self._buf
        pos = 0
        while pos < len(buf):
            if buf[pos] == 0x24:  # '$'
                if len(buf) - pos < 4:
                    break
                size = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                if len(buf) - pos < 4 + size:
                    break
                events.append(ClientFrame(buf[pos + 1], bytes(buf[pos + 4 : pos + 4 + size])))
                pos += 4 + size
                continue
            if buf[pos] in (0x0D, 0x0A):  # stray line ends between messages
                pos += 1
                continue
            end = buf.find(b"\r\n\r\n", pos)
            sep = 4
            if end < 0:
                end = buf.find(b"\n\n", pos)
                sep = 2
            if end < 0:
                if len(buf) - pos > self.max_header:
                    raise ProtocolError("RTSP request header too large")
                break
            if end - pos > self.max_header:
                raise ProtocolError("RTSP request header too large")
            head = bytes(buf[pos:end])
            method, uri, version, headers = _parse_head(head)
            length_text = headers.get("content-length", "0").strip() or "0"
            if not length_text.isdigit():
                raise ProtocolError("bad Content-Length")
            length = int(length_text)
            if length > self.max_body:
                raise ProtocolError("RTSP request body too large")
            body_start = end + sep
            if len(buf) - body_start < length:
                break
            body = bytes(buf[body_start : body_start + length])
            events.append(Request(method, uri, version, headers, body))
            pos = body_start + length
        del buf[:pos]
        return events


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError("RTSP request is not UTF-8") from exc
    lines = text.replace("\r\n", "\n").split("\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise ProtocolError("malformed RTSP request line")
    method, uri, version = parts
    if not method.replace("_", "").isalpha() or not method.isupper():
        raise ProtocolError("malformed RTSP method")
    headers: dict[str, str] = {}
    count = 0
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t" and headers:
            # Folded continuation line (RFC 2326 allows LWS folding).
            last = next(reversed(headers))
            headers[last] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise ProtocolError("malformed RTSP header line")
        count += 1
        if count > MAX_HEADERS:
            raise ProtocolError("too many RTSP headers")
        headers[name.strip().lower()] = value.strip()
    return method, uri, version, headers


def encode_response(
    status: int,
    cseq: str | None,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    *,
    reason: str | None = None,
) -> bytes:
    """Encode a response with ``CSeq`` and ``Date`` first, then ``headers``, then the body."""
    lines = [f"RTSP/1.0 {status} {reason or REASONS.get(status, 'Unknown')}"]
    if cseq is not None:
        lines.append(f"CSeq: {cseq}")
    lines.append(f"Date: {email.utils.formatdate(usegmt=True)}")
    for name, value in headers:
        if "\r" in value or "\n" in value:
            raise ProtocolError(f"refusing CR/LF in response header {name}")
        lines.append(f"{name}: {value}")
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


@attrs.frozen(slots=True)
class TransportSpec:
    """One alternative of a ``Transport`` request header."""

    protocol: str  # "UDP" or "TCP"
    multicast: bool
    client_port: tuple[int, int] | None
    interleaved: tuple[int, int] | None
    mode: str
    raw: str


def _port_pair(value: str) -> tuple[int, int]:
    first, _, second = value.partition("-")
    if not first.isdigit() or (second and not second.isdigit()):
        raise ProtocolError(f"bad port range {value!r}")
    a = int(first)
    b = int(second) if second else a + 1
    if not (0 <= a <= 65535 and 0 <= b <= 65535):
        raise ProtocolError(f"bad port range {value!r}")
    return a, b


def parse_transport(value: str) -> list[TransportSpec]:
    """Parse a ``Transport`` header into its alternatives (RFC 2326 12.39), in preference order.

    Alternatives with a profile other than RTP/AVP are skipped; malformed port ranges raise
    :class:`ProtocolError`.
    """
    specs: list[TransportSpec] = []
    for alternative in value.split(","):
        fields = [f.strip() for f in alternative.strip().split(";") if f.strip()]
        if not fields:
            continue
        profile = fields[0].upper()
        if profile in ("RTP/AVP", "RTP/AVP/UDP"):
            protocol = "UDP"
        elif profile == "RTP/AVP/TCP":
            protocol = "TCP"
        else:
            continue
        multicast = False
        client_port: tuple[int, int] | None = None
        interleaved: tuple[int, int] | None = None
        mode = "PLAY"
        for field in fields[1:]:
            name, _, val = field.partition("=")
            name = name.strip().lower()
            val = val.strip()
            if name == "multicast":
                multicast = True
            elif name == "unicast":
                multicast = False
            elif name == "client_port":
                client_port = _port_pair(val)
            elif name == "interleaved":
                interleaved = _port_pair(val)
                if interleaved[0] > 255 or interleaved[1] > 255:
                    raise ProtocolError(f"bad interleaved channels {val!r}")
            elif name == "mode":
                mode = val.strip('"').upper()
        specs.append(
            TransportSpec(protocol, multicast, client_port, interleaved, mode, alternative.strip())
        )
    return specs
