"""Asyncio RTSP/1.0 client: signalling, sessions, keepalive, receiver reports and media transports.

:class:`RtspClient` speaks RTSP over one TCP connection and delivers each set-up track's RTP and
RTCP packets to a :class:`PacketSink` (the high-level :class:`~ipcam_async.rtsp.RtspStream`
plugs the RTP stack in there). Media arrives interleaved on the RTSP connection (``tcp``), on an
even/odd UDP port pair per track (``udp``), or on a multicast group (``multicast``); ``auto``
tries UDP and falls back to TCP on ``461 Unsupported Transport`` or when no packet arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import socket
from collections.abc import Callable, Sequence
from typing import Literal, Protocol, cast

import attrs
from yarl import URL

from ..errors import (
    AuthError,
    ConnectError,
    InvalidArgument,
    ProtocolError,
    RtspError,
    StreamClosed,
    StreamTimeout,
)
from ..redact import redact_url
from .auth import RtspAuth
from .message import (
    RtspReader,
    RtspRequest,
    RtspResponse,
    RunHandler,
    RunResult,
    encode_interleaved,
    encode_request,
    encode_response,
)
from .options import RtspQuirks
from .pacer import ReadPacer, check_read_interval, pacer_for
from .sdp import MediaDescription, SessionDescription, base_url, parse_sdp, resolve_control
from .transport import UdpPair, UdpReceiver, bind_udp_pair, open_multicast_pair

__all__ = [
    "PacketSink",
    "RtpInfo",
    "RtspClient",
    "SetupTrack",
    "TransportMode",
    "parse_rtp_info",
    "parse_transport",
]

log = logging.getLogger(__name__)

TransportMode = Literal["tcp", "udp", "multicast", "auto"]
_TRANSPORTS = ("tcp", "udp", "multicast", "auto")
DEFAULT_SESSION_TIMEOUT = 60.0
USER_AGENT = "ipcam_async/0.1"
_REDIRECTS = (301, 302, 303, 305, 307)


class PacketSink(Protocol):
    """Receiver of one track's packets (the RTP stack's adapter)."""

    def on_rtp(self, data: memoryview, arrival: float) -> None:
        """One RTP packet (a view valid for as long as the sink keeps it)."""

    def on_rtcp(self, data: memoryview, arrival: float) -> None:
        """One (compound) RTCP packet."""

    def seed(self, seq: int | None, rtptime: int | None) -> None:
        """``RTP-Info`` values from the PLAY response (already filtered by the quirk policy)."""

    def receiver_report(self, now: float, receiver_ssrc: int) -> bytes | None:
        """An RTCP receiver report to send, or None when there is nothing to report yet."""


@attrs.frozen(slots=True)
class RtpInfo:
    """One ``RTP-Info`` entry."""

    url: str
    seq: int | None
    rtptime: int | None


@attrs.define(slots=True, eq=False)
class SetupTrack:
    """A track set up in the current session."""

    index: int
    media: MediaDescription
    url: str
    sink: PacketSink
    transport: Literal["tcp", "udp", "multicast"]
    channels: tuple[int, int] | None = None
    udp: UdpPair | None = None
    server_addr: str | None = None
    server_ports: tuple[int, int] | None = None
    receiver_ssrc: int = 0
    rtp_info: RtpInfo | None = None


def parse_transport(value: str) -> dict[str, str]:
    """Split a ``Transport`` header's first spec into ``{"proto": ..., key: value, flag: ""}``."""
    spec = value.split(",")[0]
    parts = [p.strip() for p in spec.split(";") if p.strip()]
    out: dict[str, str] = {"proto": parts[0] if parts else ""}
    for part in parts[1:]:
        key, _, val = part.partition("=")
        out[key.strip().lower()] = val.strip().strip('"')
    return out


def _port_pair(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    first, _, second = value.partition("-")
    if not first.strip().isdigit():
        return None
    a = int(first)
    b = int(second) if second.strip().isdigit() else a + 1
    if not (0 < a < 65536 and 0 < b < 65536):
        return None
    return a, b


def parse_rtp_info(value: str) -> list[RtpInfo]:
    """Parse ``RTP-Info: url=...;seq=...;rtptime=..., url=...``; malformed numbers become None."""
    out: list[RtpInfo] = []
    for entry in re.split(r",\s*(?=url=)", value.strip()):
        fields: dict[str, str] = {}
        for part in entry.split(";"):
            key, sep, val = part.strip().partition("=")
            if sep:
                fields[key.strip().lower()] = val.strip()
        if "url" not in fields:
            continue
        seq_text, time_text = fields.get("seq", ""), fields.get("rtptime", "")
        seq = int(seq_text) if seq_text.isdigit() and int(seq_text[:6]) < 65536 else None
        rtptime = int(time_text) if time_text.isdigit() and len(time_text) <= 10 else None
        if rtptime is not None and rtptime >= 1 << 32:
            rtptime = None
        out.append(RtpInfo(fields["url"], seq, rtptime))
    return out


BatchHandler = Callable[[list[memoryview], float], None]

# Receive buffer of the RTSP connection: reads go straight into a slab (no bytes object per
# read); a slab is never rewritten, so views handed to the RTP stack stay valid, and a unit cut
# by a read boundary simply continues in place. Slabs start small (a connection carrying only
# signalling, as with UDP media, never needs more) and grow while reads fill them.
SLAB_SIZE = 256 * 1024
FIRST_SLAB = 16 * 1024


def _per_packet(handler: Callable[[memoryview, float], None]) -> BatchHandler:
    def run(packets: list[memoryview], arrival: float) -> None:
        for packet in packets:
            handler(packet, arrival)

    return run


def _batch_handler(sink: PacketSink) -> BatchHandler:
    batch: BatchHandler | None = getattr(sink, "on_rtp_batch", None)
    return batch if batch is not None else _per_packet(sink.on_rtp)


class _Connection(asyncio.BufferedProtocol):
    """The RTSP TCP connection: feeds the reader, resolves the pending request, routes frames."""

    def __init__(self, client: RtspClient, max_header: int, max_body: int) -> None:
        self.client = client
        self.reader = RtspReader(
            max_header=max_header, max_body=max_body, channels=set(), on_frames=self._on_frames
        )
        self.reader.runs = [None] * 256
        self.transport: asyncio.Transport | None = None
        self.handlers: list[Callable[[memoryview, float], None] | None] = [None] * 256
        self.batch_handlers: list[BatchHandler | None] = [None] * 256
        self.pending: tuple[int, asyncio.Future[RtspResponse]] | None = None
        self.closed = asyncio.get_running_loop().create_future()
        self.arrival = 0.0
        self._loop = asyncio.get_running_loop()
        self._slab_size = FIRST_SLAB
        self._slab = bytearray(FIRST_SLAB)
        self._view = memoryview(self._slab)
        self._start = 0  # first byte not yet parsed
        self._end = 0  # end of the received bytes
        self._offered = 0  # size of the buffer handed out by the last get_buffer()
        self.pacer: ReadPacer | None = None  # set while playing with a read_interval
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the interface without subclassing asyncio.Transport.
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def get_buffer(self, sizehint: int) -> memoryview:
        min_read = self._slab_size // 4
        if len(self._slab) - self._end < min_read:
            # Fresh slab; the unparsed tail (bounded by the reader's limits) moves along.
            tail = self._view[self._start : self._end]
            slab = bytearray(max(self._slab_size, 2 * len(tail) + min_read))
            slab[: len(tail)] = tail
            self._slab = slab
            self._view = memoryview(slab)
            self._start, self._end = 0, len(tail)
        buf = self._view[self._end :]
        self._offered = len(buf)
        return buf

    def buffer_updated(self, nbytes: int) -> None:
        self.arrival = self._loop.time()
        filled = nbytes == self._offered
        if filled and self._slab_size < SLAB_SIZE:
            self._slab_size *= 4  # the read filled the buffer: more was waiting
        end = self._end + nbytes
        self._end = end
        try:
            events, self._start = self.reader.scan(self._slab, self._start, end, self._view)
        except ProtocolError as exc:
            log.warning("RTSP connection to %s: %s", self.client.safe_url, exc)
            self._fail(exc)
            if self.transport is not None:
                self.transport.abort()
            return
        for event in events:
            if isinstance(event, RtspResponse):
                self._on_response(event)
            elif isinstance(event, RtspRequest):
                self._on_server_request(event)
        pacer = self.pacer
        if pacer is not None and not filled and self.pending is None and not self._paused:
            # Paced reading: the next read waits for the pacer's tick (a full buffer means
            # more is waiting, and an outstanding request wants its response now).
            transport = self.transport
            if transport is not None and not transport.is_closing():
                transport.pause_reading()
                self._paused = True
                pacer.resume_once(self.wake)

    def wake(self) -> None:
        """Resume reading now if paced reading paused it."""
        if self._paused:
            self._paused = False
            transport = self.transport
            if transport is not None and not transport.is_closing():
                transport.resume_reading()

    def _on_frames(self, channel: int, packets: list[memoryview]) -> None:
        handler = self.batch_handlers[channel]
        if handler is not None:
            handler(packets, self.arrival)

    def set_handlers(self, channels: tuple[int, int], sink: PacketSink) -> None:
        """Route the RTP and RTCP channels of one track to ``sink``."""
        rtp, rtcp = channels
        self.handlers[rtp] = sink.on_rtp
        self.handlers[rtcp] = sink.on_rtcp
        self.batch_handlers[rtp] = _batch_handler(sink)
        self.batch_handlers[rtcp] = _per_packet(sink.on_rtcp)
        runs = self.reader.runs
        if runs is not None:
            runs[rtp] = self._run_handler(sink, rtp)
            runs[rtcp] = None

    def _run_handler(self, sink: PacketSink, channel: int) -> RunHandler | None:
        # Sinks that can read a run of frames in place from our buffer skip the per-packet list.
        in_place = getattr(sink, "on_interleaved", None)
        if in_place is None:
            return None

        def run(buf: bytes | bytearray, view: memoryview, pos: int, end: int) -> RunResult:
            result: RunResult = in_place(buf, view, pos, end, channel, self.arrival)
            return result

        return run

    def clear_handlers(self, channel: int) -> None:
        """Stop routing ``channel``."""
        self.handlers[channel] = None
        self.batch_handlers[channel] = None
        if self.reader.runs is not None:
            self.reader.runs[channel] = None

    def _on_response(self, response: RtspResponse) -> None:
        pending = self.pending
        if pending is None:
            log.debug("RTSP response %d with no request outstanding: ignored", response.status)
            return
        cseq, future = pending
        got = response.cseq
        if got is not None and got != cseq:
            log.debug("RTSP response for CSeq %d while waiting for %d: ignored", got, cseq)
            return
        self.pending = None
        if not future.done():
            future.set_result(response)

    def _on_server_request(self, request: RtspRequest) -> None:
        # Servers probe clients with OPTIONS/GET_PARAMETER; everything else is not supported.
        cseq = request.headers.get("CSeq", "0")
        if request.method in ("OPTIONS", "GET_PARAMETER", "SET_PARAMETER"):
            status, reason = 200, "OK"
        else:
            status, reason = 501, "Not Implemented"
        log.debug("RTSP server sent %s; answering %d", request.method, status)
        if self.transport is not None and not self.transport.is_closing():
            headers = [("CSeq", cseq.strip()[:10] or "0")]
            self.transport.write(encode_response(status, reason, headers))

    def _fail(self, exc: BaseException) -> None:
        if self.pending is not None:
            _, future = self.pending
            self.pending = None
            if not future.done():
                future.set_exception(exc)
        if not self.closed.done():
            self.closed.set_result(None)
        self.client._on_connection_lost(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectError(f"RTSP connection to {self.client.safe_url} closed"))

    def send_frame(self, channel: int, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(encode_interleaved(channel, data))


def _split_url(url: str) -> tuple[str, str | None, str | None]:
    """(URL without userinfo, user, password) with percent-decoding of the userinfo."""
    try:
        parsed = URL(url)
    except (ValueError, TypeError) as exc:
        raise InvalidArgument("url", "an rtsp:// URL", redact_url(url)) from exc
    if parsed.scheme not in ("rtsp", "rtsps", "rtspu") or not parsed.host:
        raise InvalidArgument("url", "an rtsp:// URL with a host", redact_url(url))
    user, password = parsed.user, parsed.password
    clean = parsed.with_user(None).with_password(None) if user is not None else parsed
    return str(clean), user, password


class RtspClient:
    """RTSP/1.0 client for one presentation (``rtsp://[user:pass@]host[:port]/path``).

    Credentials may be passed as arguments or in the URL's userinfo; they never appear in request
    lines, logs or exceptions. Use as ``async with RtspClient(url) as client:`` then
    :meth:`describe`, :meth:`setup` per track, :meth:`play`; or :meth:`start` for all of it with
    transport fallback. Leaving the block (also by cancellation) sends TEARDOWN with a short
    timeout and closes every socket.

    ``timeout``: per request and for connecting. ``teardown_timeout``: bound on TEARDOWN at close.
    ``udp_timeout``: how long ``auto`` waits for the first UDP packet before falling back to TCP.
    ``data_timeout``: the session fails with :class:`StreamTimeout` when no media packet arrives
    for this long while playing (None disables).
    ``read_interval``: 0 reads media as soon as it arrives; a positive value (at most
    :data:`~ipcam_async.rtsp.pacer.MAX_READ_INTERVAL`) reads the sockets of every stream with that
    interval together once per interval while playing, which roughly halves the CPU cost per
    stream at the price of up to that much added latency (see :mod:`ipcam_async.rtsp.pacer`).
    """

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        transport: TransportMode = "tcp",
        timeout: float = 10.0,
        teardown_timeout: float = 2.0,
        udp_timeout: float = 3.0,
        data_timeout: float | None = 10.0,
        quirks: RtspQuirks | None = None,
        user_agent: str = USER_AGENT,
        max_redirects: int = 5,
        bind_host: str = "0.0.0.0",
        udp_port_range: tuple[int, int] | None = None,
        multicast_interface: str = "0.0.0.0",
        max_header: int = 64 * 1024,
        max_body: int = 1 << 20,
        read_interval: float = 0.0,
    ) -> None:
        if transport not in _TRANSPORTS:
            raise InvalidArgument("transport", " | ".join(_TRANSPORTS), transport)
        clean, url_user, url_password = _split_url(url)
        self.url = clean
        self._auth = RtspAuth(
            username if username is not None else url_user,
            password if password is not None else url_password,
        )
        self.transport: TransportMode = transport
        self.timeout = timeout
        self.teardown_timeout = teardown_timeout
        self.udp_timeout = udp_timeout
        self.data_timeout = data_timeout
        self.quirks = quirks or RtspQuirks()
        self.user_agent = user_agent
        self.max_redirects = max_redirects
        self.bind_host = bind_host
        self.udp_port_range = udp_port_range
        self.multicast_interface = multicast_interface
        self._max_header = max_header
        self._max_body = max_body
        self.read_interval = check_read_interval(read_interval)
        self.sdp: SessionDescription | None = None
        self.base_url: str = clean
        self.public: frozenset[str] = frozenset()
        self.session_id: str | None = None
        self.session_timeout: float = DEFAULT_SESSION_TIMEOUT
        self.tracks: list[SetupTrack] = []
        self.state: Literal["init", "ready", "playing", "paused", "closed"] = "init"
        self.keepalive_method: str | None = None
        self.keepalives_sent = 0
        self.receiver_reports_sent = 0
        self.redirects = 0
        self._conn: _Connection | None = None
        self._cseq = 1
        self._lock: asyncio.Lock | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._failure: asyncio.Future[None] | None = None
        self._last_progress = 0.0
        self._progress_count = 0
        self._last_keepalive = 0.0
        self._last_rr = 0.0

    # ------------------------------------------------------------------ lifecycle

    @property
    def safe_url(self) -> str:
        """The URL as it may appear in logs (never has credentials)."""
        return redact_url(self.url)

    def __repr__(self) -> str:
        return f"RtspClient({self.safe_url!r}, transport={self.transport!r}, state={self.state!r})"

    async def __aenter__(self) -> RtspClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        """True while the RTSP TCP connection is open."""
        return self._conn is not None and not self._conn.closed.done()

    @property
    def failure(self) -> asyncio.Future[None]:
        """Completes (with an exception) when the session dies; completes normally on close."""
        if self._failure is None:
            self._failure = asyncio.get_running_loop().create_future()
        return self._failure

    async def connect(self) -> None:
        """Open the TCP connection (no request is sent)."""
        if self.state == "closed":
            raise StreamClosed("RTSP client is closed")
        if self.connected:
            return
        loop = asyncio.get_running_loop()
        if self._lock is None:
            self._lock = asyncio.Lock()
        _ = self.failure
        parsed = URL(self.url)
        host = parsed.host or ""
        port = parsed.port or (322 if parsed.scheme == "rtsps" else 554)
        try:
            async with asyncio.timeout(self.timeout):
                _, protocol = await loop.create_connection(
                    lambda: _Connection(self, self._max_header, self._max_body), host, port
                )
        except TimeoutError as exc:
            raise StreamTimeout(f"RTSP connect to {self.safe_url} timed out") from exc
        except OSError as exc:
            raise ConnectError(f"RTSP connect to {self.safe_url} failed: {exc}") from exc
        self._conn = protocol

    def _on_connection_lost(self, exc: BaseException) -> None:
        if self.state in ("playing", "paused", "ready"):
            self._set_failure(exc)

    def _set_failure(self, exc: BaseException) -> None:
        failure = self.failure
        if not failure.done():
            failure.set_exception(exc)
            # Nobody may ever await it (e.g. the session ended at close): do not warn.
            failure.exception()

    async def close(self) -> None:
        """TEARDOWN (best effort, bounded by ``teardown_timeout``) and release every resource."""
        if self.state == "closed":
            return
        had_session = self.session_id is not None
        self.state = "closed"
        try:
            await self._stop_ticker()
            if had_session and self.connected:
                try:
                    async with asyncio.timeout(self.teardown_timeout):
                        await self._send("TEARDOWN", self._aggregate_url(), (), b"")
                except Exception as exc:
                    log.debug("TEARDOWN of %s failed: %s", self.safe_url, type(exc).__name__)
        finally:
            self._release()
            if self._failure is not None and not self._failure.done():
                self._failure.set_result(None)

    def _release(self) -> None:
        self.session_id = None
        for track in self.tracks:
            if track.udp is not None:
                track.udp.close()
        self.tracks = []
        conn = self._conn
        self._conn = None
        if conn is not None and conn.transport is not None:
            # abort: never linger on a server that stopped reading.
            conn.transport.abort()
        if self._ticker is not None and not self._ticker.done():
            self._ticker.cancel()

    async def _stop_ticker(self) -> None:
        ticker = self._ticker
        self._ticker = None
        if ticker is not None and not ticker.done():
            ticker.cancel()
            # wait() never raises the ticker's CancelledError, so only our own cancellation
            # can interrupt this.
            await asyncio.wait([ticker])

    # ------------------------------------------------------------------ requests

    async def request(
        self,
        method: str,
        url: str | None = None,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        *,
        time_limit: float | None = None,
    ) -> RtspResponse:
        """Send a request (authenticating on 401, retrying once on a stale nonce) and return the
        response, whatever its status. ``url`` defaults to the presentation URL."""
        target = url or self.url
        for _ in range(4):
            response = await self._send(method, target, headers, body, time_limit=time_limit)
            if response.status != 401:
                if self._auth.scheme is not None:
                    self._auth.accepted()
                return response
            self._auth.handle_401(
                response.headers.getall("WWW-Authenticate", []),
                method=method,
                url=redact_url(target),
            )
        raise AuthError(f"RTSP {method} {redact_url(target)}: too many authentication rounds")

    async def _send(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        *,
        time_limit: float | None = None,
    ) -> RtspResponse:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            conn = self._conn
            if conn is None or conn.closed.done() or conn.transport is None:
                raise ConnectError(f"RTSP connection to {self.safe_url} is not open")
            cseq = self._cseq
            self._cseq += 1
            all_headers: list[tuple[str, str]] = [("CSeq", str(cseq))]
            all_headers.append(("User-Agent", self.user_agent))
            if self.session_id is not None:
                all_headers.append(("Session", self.session_id))
            authorization = self._auth.authorization(method, url)
            if authorization is not None:
                all_headers.append(("Authorization", authorization))
            all_headers.extend(headers)
            data = encode_request(method, url, all_headers, body)
            future: asyncio.Future[RtspResponse] = asyncio.get_running_loop().create_future()
            conn.pending = (cseq, future)
            conn.transport.write(data)
            conn.wake()  # a paced connection must read the response without waiting a tick
            log.debug("RTSP > %s %s CSeq %d", method, redact_url(url), cseq)
            try:
                async with asyncio.timeout(time_limit if time_limit is not None else self.timeout):
                    response = await future
            except TimeoutError as exc:
                raise StreamTimeout(
                    f"RTSP {method} {redact_url(url)}: no response within the timeout"
                ) from exc
            finally:
                if conn.pending is not None and conn.pending[1] is future:
                    conn.pending = None
            log.debug("RTSP < %d %s (CSeq %d)", response.status, response.reason, cseq)
            return response

    def _check(self, response: RtspResponse, method: str, url: str) -> RtspResponse:
        if not response.ok:
            raise RtspError(response.status, response.reason, method=method, url=redact_url(url))
        return response

    async def _follow(self, method: str, headers: Sequence[tuple[str, str]] = ()) -> RtspResponse:
        """Send ``method`` on the presentation URL following 3xx redirects to another server."""
        for _ in range(self.max_redirects + 1):
            await self.connect()
            response = await self.request(method, self.url, headers)
            location = response.headers.get("Location")
            if response.status not in _REDIRECTS or not location:
                return self._check(response, method, self.url)
            await self._redirect(location.strip())
        raise RtspError(310, "Too many redirects", method=method, url=self.safe_url)

    async def _redirect(self, location: str) -> None:
        old = URL(self.url)
        clean, user, password = _split_url(location)
        new = URL(clean)
        self.redirects += 1
        log.info("RTSP redirect %s -> %s", self.safe_url, redact_url(clean))
        if user is not None:
            self._auth = RtspAuth(user, password)
        elif (new.host, new.port) != (old.host, old.port):
            # Never replay credentials to a different server than the one they were given for.
            self._auth = RtspAuth(None, None)
        else:
            self._auth = RtspAuth(self._auth._username, self._auth._password)
        conn = self._conn
        self._conn = None
        if conn is not None and conn.transport is not None:
            conn.transport.abort()
        self.url = clean
        self.base_url = clean

    # ------------------------------------------------------------------ methods

    async def options(self) -> RtspResponse:
        """OPTIONS on the presentation URL; remembers the ``Public`` method list."""
        response = await self._follow("OPTIONS")
        public = response.headers.get("Public", "")
        self.public = frozenset(m.strip().upper() for m in public.split(",") if m.strip())
        return response

    async def describe(self) -> SessionDescription:
        """DESCRIBE → parsed SDP (also stored in ``self.sdp``); sets ``base_url``.

        An OPTIONS goes first when none was sent yet (to learn ``Public``, and because some
        cameras expect it); a server that rejects OPTIONS is tolerated.
        """
        if not self.public:
            with contextlib.suppress(RtspError):
                await self.options()
        response = await self._follow("DESCRIBE", [("Accept", "application/sdp")])
        self.sdp = parse_sdp(response.body)
        self.base_url = base_url(self.url, response.headers)
        return self.sdp

    async def setup(
        self,
        media: MediaDescription,
        sink: PacketSink,
        *,
        transport: Literal["tcp", "udp", "multicast"] | None = None,
    ) -> SetupTrack:
        """SETUP one media section in this session and start routing its packets to ``sink``."""
        mode = transport or self.transport
        if mode == "auto":
            mode = "udp"
        if self.sdp is None:
            raise StreamClosed("setup() needs describe() first")
        url = resolve_control(self._session_base(), media.control)
        index = len(self.tracks)
        track = SetupTrack(
            index=index,
            media=media,
            url=url,
            sink=sink,
            transport=mode,
            receiver_ssrc=int.from_bytes(os.urandom(4), "big"),
        )
        udp_socks: tuple[socket.socket, socket.socket] | None = None
        if mode == "tcp":
            used = {c for t in self.tracks if t.channels for c in t.channels}
            first = next(c for c in range(0, 254, 2) if c not in used and c + 1 not in used)
            header = f"RTP/AVP/TCP;unicast;interleaved={first}-{first + 1}"
        elif mode == "udp":
            udp_socks = bind_udp_pair(self.bind_host, port_range=self.udp_port_range)
            rtp_port = udp_socks[0].getsockname()[1]
            header = f"RTP/AVP;unicast;client_port={rtp_port}-{rtp_port + 1}"
        else:
            header = "RTP/AVP;multicast"
        try:
            response = self._check(
                await self.request("SETUP", url, [("Transport", header)]), "SETUP", url
            )
            self._configure(track, response, first if mode == "tcp" else 0, udp_socks)
        except BaseException:
            if udp_socks is not None:
                for sock in udp_socks:
                    sock.close()
            raise
        self.tracks.append(track)
        if self.state == "init":
            self.state = "ready"
        return track

    def _configure(
        self,
        track: SetupTrack,
        response: RtspResponse,
        first_channel: int,
        udp_socks: tuple[socket.socket, socket.socket] | None,
    ) -> None:
        session = response.headers.get("Session")
        if session:
            sid, *params = (p.strip() for p in session.split(";"))
            if self.session_id is None:
                self.session_id = sid
            for param in params:
                key, _, value = param.partition("=")
                if key.strip().lower() == "timeout":
                    try:
                        timeout = float(value.strip())
                    except ValueError:
                        continue
                    if 1.0 <= timeout <= 86400.0:
                        self.session_timeout = timeout
        fields = parse_transport(response.headers.get("Transport", ""))
        conn = self._conn
        assert conn is not None
        peer = conn.transport.get_extra_info("peername") if conn.transport else None
        peer_host = peer[0] if peer else None
        loop = asyncio.get_running_loop()
        if track.transport == "tcp":
            channels = _port_pair(fields.get("interleaved")) if "interleaved" in fields else None
            if channels is None or not (0 <= channels[0] < 256 and 0 <= channels[1] < 256):
                channels = (first_channel, first_channel + 1)
            track.channels = channels
            conn.set_handlers(channels, track.sink)
            assert conn.reader.channels is not None
            conn.reader.channels.update(channels)
            return
        track.server_addr = fields.get("source") or peer_host
        track.server_ports = _port_pair(fields.get("server_port"))
        if track.transport == "udp":
            assert udp_socks is not None
            rtp_sock, rtcp_sock = udp_socks
        else:
            group = fields.get("destination") or (
                track.media.connection.address if track.media.connection else ""
            )
            ports = _port_pair(fields.get("port")) or _port_pair(fields.get("client_port"))
            if not group or ports is None:
                raise ProtocolError("multicast SETUP response without destination/port")
            rtp_sock, rtcp_sock = open_multicast_pair(
                group, ports, interface=self.multicast_interface
            )
        sink = track.sink
        pacer = pacer_for(loop, self.read_interval) if self.read_interval else None
        track.udp = UdpPair(
            UdpReceiver(
                rtp_sock,
                sink.on_rtp,
                loop=loop,
                accept_host=track.server_addr,
                batch_handler=_batch_handler(sink),
                pacer=pacer,
            ),
            UdpReceiver(
                rtcp_sock, sink.on_rtcp, loop=loop, accept_host=track.server_addr, pacer=pacer
            ),
        )
        track.udp.start()

    def _session_base(self) -> str:
        assert self.sdp is not None
        return resolve_control(self.base_url, self.sdp.control)

    def _aggregate_url(self) -> str:
        # Session-level control, else the base URL (what FFmpeg and live555 clients send too).
        return self.url if self.sdp is None else self._session_base()

    async def play(self, range_: str | None = "npt=0.000-") -> RtspResponse:
        """PLAY (or resume after PAUSE); seeds each sink from ``RTP-Info`` and starts keepalive."""
        url = self._aggregate_url()
        headers = [("Range", range_)] if range_ else []
        response = self._check(await self.request("PLAY", url, headers), "PLAY", url)
        self._apply_rtp_info(response.headers.get("RTP-Info", ""))
        self.state = "playing"
        if self.read_interval and self._conn is not None:
            self._conn.pacer = pacer_for(asyncio.get_running_loop(), self.read_interval)
        now = asyncio.get_running_loop().time()
        self._last_progress = now
        self._last_keepalive = now
        self._last_rr = now
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.get_running_loop().create_task(self._tick_loop())
        return response

    def _apply_rtp_info(self, value: str) -> None:
        entries = parse_rtp_info(value) if value else []
        policy = self.quirks.rtp_info_seq
        for track in self.tracks:
            info = _match_rtp_info(track, entries, len(self.tracks))
            track.rtp_info = info
            if info is None or policy == "ignore":
                continue
            seq, rtptime = info.seq, info.rtptime
            if policy == "auto" and seq == 0:
                # A fake seq=0 (often with rtptime=0) is what cameras send when they do not know.
                seq = None
                if rtptime == 0:
                    rtptime = None
            track.sink.seed(seq, rtptime)

    async def pause(self) -> None:
        """PAUSE delivery; the session stays alive (keepalive continues)."""
        url = self._aggregate_url()
        self._check(await self.request("PAUSE", url), "PAUSE", url)
        self.state = "paused"

    async def teardown(self) -> None:
        """TEARDOWN the session now (the connection stays open)."""
        if self.session_id is None:
            return
        url = self._aggregate_url()
        await self._stop_ticker()
        try:
            await self.request("TEARDOWN", url, time_limit=self.teardown_timeout)
        finally:
            self._end_session()

    def _end_session(self) -> None:
        conn = self._conn
        for track in self.tracks:
            if track.udp is not None:
                track.udp.close()
            if conn is not None and track.channels is not None:
                for channel in track.channels:
                    conn.clear_handlers(channel)
                    if conn.reader.channels is not None:
                        conn.reader.channels.discard(channel)
        self.tracks = []
        self.session_id = None
        if self.state != "closed":
            self.state = "init"

    async def get_parameter(self, body: bytes = b"") -> RtspResponse:
        """GET_PARAMETER on the session (an empty body is the usual keepalive)."""
        url = self._aggregate_url()
        return await self.request("GET_PARAMETER", url, (), body)

    # ------------------------------------------------------------------ all in one

    async def start(
        self,
        selections: Sequence[tuple[MediaDescription, PacketSink]],
        *,
        range_: str | None = "npt=0.000-",
    ) -> None:
        """OPTIONS, SETUP every selected track and PLAY, with the ``auto`` transport fallback.

        ``describe()`` must have been called (the media come from its SDP).
        """
        if not selections:
            raise InvalidArgument("selections", "at least one media track", "none")
        if not self.public:
            with contextlib.suppress(RtspError):
                await self.options()
        mode = self.transport
        if mode == "auto":
            try:
                for media, sink in selections:
                    await self.setup(media, sink, transport="udp")
                await self.play(range_)
                if await self._wait_for_packets(self.udp_timeout):
                    return
                log.info("no UDP packet from %s: falling back to TCP", self.safe_url)
            except RtspError as exc:
                if exc.status != 461:
                    raise
                log.info("%s refused UDP (461): falling back to TCP", self.safe_url)
            except ConnectError as exc:
                if self.connected:  # only a local UDP bind failure: fall back
                    log.info("UDP transport unavailable (%s): falling back to TCP", exc)
                else:
                    raise
            await self._reset_session()
            mode = "tcp"
        for media, sink in selections:
            await self.setup(media, sink, transport=mode)
        await self.play(range_)

    async def _wait_for_packets(self, seconds: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            if any(t.udp is not None and t.udp.rtp.stats.datagrams for t in self.tracks):
                return True
            await asyncio.sleep(0.05)
        return False

    async def _reset_session(self) -> None:
        if self.session_id is not None:
            try:
                await self.teardown()
            except (RtspError, StreamTimeout, ConnectError) as exc:
                log.debug("TEARDOWN before fallback failed: %s", type(exc).__name__)
        self._end_session()
        if not self.connected:
            await self.connect()

    # ------------------------------------------------------------------ housekeeping

    def _packets_total(self) -> int:
        conn = self._conn
        frames = conn.reader.stats.frames if conn is not None else 0
        total = 0
        for track in self.tracks:
            if track.udp is not None:
                total += track.udp.rtp.stats.datagrams + track.udp.rtcp.stats.datagrams
        return total + frames

    async def _tick_loop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                await asyncio.sleep(self._tick_interval())
                now = loop.time()
                count = self._packets_total()
                if count != self._progress_count or self.state != "playing":
                    self._progress_count = count
                    self._last_progress = now
                elif (
                    self.data_timeout is not None and now - self._last_progress > self.data_timeout
                ):
                    self._set_failure(
                        StreamTimeout(f"no media from {self.safe_url} for {self.data_timeout}s")
                    )
                    return
                if self.quirks.receiver_reports and now - self._last_rr >= self.quirks.rr_interval:
                    self._last_rr = now
                    self.send_receiver_reports(now)
                interval = self._keepalive_interval()
                if interval is not None and now - self._last_keepalive >= interval:
                    self._last_keepalive = now
                    await self._keepalive()
        except (ConnectError, StreamTimeout, RtspError, AuthError, ProtocolError) as exc:
            self._set_failure(exc)

    def _tick_interval(self) -> float:
        candidates = [1.0, self.quirks.rr_interval]
        interval = self._keepalive_interval()
        if interval is not None:
            candidates.append(interval)
        return max(0.05, min(candidates) / 2)

    def _keepalive_interval(self) -> float | None:
        if self.quirks.keepalive == "none":
            return None
        timeout = self.quirks.session_timeout or self.session_timeout
        return max(0.1, timeout / 2.0)

    async def _keepalive(self) -> None:
        method = self.keepalive_method
        if method is None:
            if self.quirks.keepalive == "options":
                method = "OPTIONS"
            elif self.quirks.keepalive == "get_parameter" or "GET_PARAMETER" in self.public:
                method = "GET_PARAMETER"
            else:
                method = "OPTIONS"
            self.keepalive_method = method
        url = self._aggregate_url()
        other = "OPTIONS" if method == "GET_PARAMETER" else "GET_PARAMETER"
        try:
            response = await self.request(method, url)
        except StreamTimeout:
            # Some cameras silently ignore one of the two methods; a dead server is caught by
            # the data timeout or the connection, not by this.
            log.info("%s ignored keepalive %s: using %s", self.safe_url, method, other)
            self.keepalive_method = other
            return
        self.keepalives_sent += 1
        if response.status == 454:
            raise RtspError(454, response.reason, method=method, url=redact_url(url))
        if not response.ok:
            log.info(
                "%s rejected keepalive %s (%d): using %s",
                self.safe_url,
                method,
                response.status,
                other,
            )
            self.keepalive_method = other

    def send_receiver_reports(self, now: float) -> None:
        """Send one RTCP receiver report per track (interleaved or to the server's RTCP port)."""
        conn = self._conn
        for track in self.tracks:
            report = track.sink.receiver_report(now, track.receiver_ssrc)
            if not report:
                continue
            if track.channels is not None:
                if conn is not None:
                    conn.send_frame(track.channels[1], report)
                    self.receiver_reports_sent += 1
            elif track.udp is not None:
                target: tuple[str, int] | None = None
                if track.server_addr and track.server_ports:
                    target = (track.server_addr, track.server_ports[1])
                elif track.udp.rtcp.last_source is not None:
                    target = track.udp.rtcp.last_source
                if target is not None and track.transport == "udp":
                    track.udp.rtcp.sendto(report, target)
                    self.receiver_reports_sent += 1


def _match_rtp_info(track: SetupTrack, entries: list[RtpInfo], count: int) -> RtpInfo | None:
    for entry in entries:
        if entry.url == track.url:
            return entry
    control = (track.media.control or "").strip()
    for entry in entries:
        if control and control != "*" and entry.url.rstrip("/").endswith(control.rstrip("/")):
            return entry
        if entry.url and track.url.rstrip("/").endswith(entry.url.rstrip("/")):
            return entry
    if len(entries) == count:
        return entries[track.index]
    return None
