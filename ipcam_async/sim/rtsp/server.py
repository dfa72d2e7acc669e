"""The simulated camera's RTSP server (spec 5.5.1 and 5.5.3, RFC 2326).

Serves the spec's paths (``/h264``, ``/h264_2``, ``/h264_3``, ``/h264_4``, ``/jpeg``) from looped
clips with continuous RTP timestamps and sequence numbers, paced in real time, with RTCP sender
reports, over UDP unicast, UDP multicast (on the loopback interface when the server is bound to
it) and TCP interleaving. Requests are handled synchronously in the connection's protocol
callback; media goes out from one :class:`~.streaming.Pacer` per server.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import random
import re
import secrets
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Literal, cast
from urllib.parse import urlsplit, urlunsplit

import attrs

from ...errors import ProtocolError
from ...redact import redact_url
from .auth import AuthMode, RtspAuthenticator
from .faults import RtspFaults
from .media import StreamSource, default_streams
from .protocol import ClientFrame, Request, RequestReader, TransportSpec, encode_response
from .protocol import parse_transport as _parse_transport
from .sdp import build_sdp
from .streaming import (
    Pacer,
    PacerStats,
    PacketizedTrack,
    TcpSink,
    TrackSender,
    UdpSink,
    packetize_audio,
    packetize_video,
)

__all__ = ["PUBLIC_METHODS", "RtspServer", "RtspServerStats", "RtspSession"]

log = logging.getLogger(__name__)

PUBLIC_METHODS = ("OPTIONS", "DESCRIBE", "SETUP", "TEARDOWN", "PLAY", "PAUSE")
# Methods RFC 2326 defines that this camera does not allow (405 with Allow); others get 501.
_KNOWN_METHODS = frozenset(
    {*PUBLIC_METHODS, "ANNOUNCE", "GET_PARAMETER", "SET_PARAMETER", "RECORD", "REDIRECT"}
)
_TRACK = re.compile(r"track(?:ID=)?(\d+)", re.IGNORECASE)
_RANGE = re.compile(r"npt\s*=\s*(now|\d+(?:\.\d*)?)?\s*-\s*(\d+(?:\.\d*)?)?\s*$", re.IGNORECASE)

TransportKind = Literal["udp", "tcp", "multicast"]
_Result = tuple[int, list[tuple[str, str]], bytes]


class _RtspStatus(Exception):
    """Internal: abort request handling with an RTSP status."""

    def __init__(
        self, status: int, headers: Iterable[tuple[str, str]] = (), reason: str | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.headers = list(headers)
        self.reason = reason


@attrs.define
class RtspServerStats:
    """Counters of one server (read them, don't write them)."""

    connections: int = 0
    requests: int = 0
    sessions_created: int = 0
    sessions_expired: int = 0
    sessions_closed: int = 0
    statuses: Counter[int] = attrs.field(factory=Counter)


@attrs.define(eq=False)
class _TrackSetup:
    number: int
    kind: TransportKind
    sender: TrackSender
    reply: str
    rtcp_addr: tuple[str, int] | None = None


@attrs.define(eq=False)
class RtspSession:
    """One RTSP session: a presentation (path), its set-up tracks and its play state."""

    id: str
    path: str
    timeout: float
    last_seen: float
    tracks: dict[int, _TrackSetup] = attrs.field(factory=dict)
    state: Literal["ready", "playing"] = "ready"
    connection: _Connection | None = None
    base_url: str = ""

    @property
    def transports(self) -> dict[int, TransportKind]:
        """Track number to transport kind."""
        return {n: t.kind for n, t in self.tracks.items()}


@attrs.define(eq=False)
class _TrackSockets:
    rtp: socket.socket
    rtcp: socket.socket
    rtp_port: int
    transports: list[asyncio.DatagramTransport] = attrs.field(factory=list)


@attrs.define(eq=False)
class _MulticastTrack:
    group: str
    port: int
    sender: TrackSender
    members: set[str] = attrs.field(factory=set)


class _DatagramSink(asyncio.DatagramProtocol):
    """Receives RTCP receiver reports (and NAT-punch packets) from UDP clients."""

    def __init__(self, on_packet: Callable[[tuple[str, int]], None]) -> None:
        self._on_packet = on_packet

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        self._on_packet((str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        log.debug("RTCP socket error: %s", exc)


class _Connection(asyncio.Protocol):
    """One RTSP TCP connection."""

    def __init__(self, server: RtspServer) -> None:
        self.server = server
        self.reader = RequestReader()
        self.transport: asyncio.Transport | None = None
        self.peer: tuple[str, int] = ("", 0)
        self.local: tuple[str, int] = ("", 0)
        self.channels: dict[int, str] = {}
        self._drop_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the interface without subclassing asyncio.Transport.
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        self.peer = (str(peer[0]), int(peer[1])) if peer else ("", 0)
        self.local = (str(local[0]), int(local[1])) if local else ("", 0)
        if not self.server._accept(self):
            self.transport.abort()
            return
        drop_after = self.server.faults.drop_tcp_after
        if drop_after is not None:
            loop = asyncio.get_running_loop()
            self._drop_timer = loop.call_later(drop_after, self._fault_drop)

    def _fault_drop(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            log.info("fault injection: dropping RTSP connection from %s", self.peer[0])
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        try:
            events = self.reader.feed(data)
        except ProtocolError as exc:
            log.info("RTSP protocol error from %s: %s", self.peer[0], exc)
            transport.write(encode_response(400, None, [("Connection", "close")]))
            transport.close()
            return
        for event in events:
            if isinstance(event, ClientFrame):
                self.server._on_client_frame(self, event)
                continue
            response, close = self.server._handle(self, event)
            transport.write(response)
            if close:
                transport.close()
                return

    def connection_lost(self, exc: Exception | None) -> None:
        if self._drop_timer is not None:
            self._drop_timer.cancel()
            self._drop_timer = None
        self.server._connection_lost(self)


def _bind_pair(host: str) -> tuple[socket.socket, socket.socket, int]:
    """Bind two UDP sockets on consecutive ports, the first even (RFC 3550 11)."""
    for _ in range(200):
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            rtp.bind((host, 0))
            port = rtp.getsockname()[1]
            if port % 2 or port >= 65535:
                rtp.close()
                continue
            rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                rtcp.bind((host, port + 1))
            except OSError:
                rtcp.close()
                rtp.close()
                continue
            return rtp, rtcp, port
        except OSError:
            rtp.close()
            raise
    raise OSError("no free even/odd UDP port pair")


def _free_even_port(host: str) -> int:
    rtp, rtcp, port = _bind_pair(host)
    rtp.close()
    rtcp.close()
    return port


class RtspServer:
    """An RTSP server that behaves like the spec's camera.

    ``streams`` maps path names (without ``/``) to :class:`~.media.StreamSource`; the default
    serves the packaged clips on the spec's five paths. ``auth`` is ``"none"``, ``"basic"``,
    ``"digest"`` or ``"any"``; ``passwords(user)`` returns a user's password (None: unknown).
    ``session_timeout`` is announced as ``Session: <id>;timeout=N``; a session that sees no
    request, RTCP report or interleaved data for that long is torn down.
    Multicast streams go to ``multicast_group`` (last octet + path index) with ``multicast_ttl``.

    Use as ``async with RtspServer(...) as server:``; :attr:`port` is the bound port.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        streams: Mapping[str, StreamSource] | None = None,
        auth: AuthMode = "none",
        passwords: Callable[[str], str | None] | None = None,
        realm: str = "IP Camera",
        session_timeout: float = 60.0,
        faults: RtspFaults | None = None,
        multicast_group: str = "239.255.42.1",
        multicast_ttl: int = 1,
        mtu: int = 1400,
        max_connections: int = 1024,
        max_sessions: int = 4096,
        batch: float = 0.002,
    ) -> None:
        if auth != "none" and passwords is None:
            raise ValueError("auth needs a passwords callable")
        self.host = host
        self._requested_port = port
        self.streams: dict[str, StreamSource] = dict(
            streams if streams is not None else default_streams()
        )
        self.auth = RtspAuthenticator(auth, passwords or (lambda _u: None), realm=realm)
        self.session_timeout = session_timeout
        self.faults = faults if faults is not None else RtspFaults()
        self.multicast_group = ipaddress.IPv4Address(multicast_group)
        if not self.multicast_group.is_multicast:
            raise ValueError(f"{multicast_group} is not a multicast address")
        self.multicast_ttl = multicast_ttl
        self.mtu = mtu
        self.max_connections = max_connections
        self.max_sessions = max_sessions
        self._batch = batch
        self.stats = RtspServerStats()
        self.sessions: dict[str, RtspSession] = {}
        self._connections: set[_Connection] = set()
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pacer: Pacer | None = None
        self._udp: dict[int, _TrackSockets] = {}
        self._rtcp_peers: dict[tuple[str, int], str] = {}
        self._multicast: dict[tuple[str, int], _MulticastTrack] = {}
        self._mcast_sock: socket.socket | None = None
        self._packetized: dict[tuple[str, int], PacketizedTrack] = {}
        self._housekeeping: asyncio.TimerHandle | None = None
        self._rng = random.Random(self.faults.seed)
        self._sdp_version = int(time.time() * 1_000_000)
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the RTSP listener and the per-track UDP ports; start pacing and expiry."""
        if self._server is not None:
            return
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._pacer = Pacer(loop, batch=self._batch)
        try:
            for number in (1, 2):
                rtp, rtcp, rtp_port = _bind_pair(self.host)
                pair = _TrackSockets(rtp, rtcp, rtp_port)
                self._udp[number] = pair
                for sock in (rtp, rtcp):
                    sock.setblocking(False)
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
                    transport, _ = await loop.create_datagram_endpoint(
                        lambda: _DatagramSink(self._on_rtcp), sock=sock
                    )
                    pair.transports.append(transport)
            self._server = await loop.create_server(
                lambda: _Connection(self), self.host, self._requested_port
            )
        except BaseException:
            await self.stop()
            raise
        self.port = int(self._server.sockets[0].getsockname()[1])
        self._schedule_housekeeping()
        log.info("simulated RTSP server on rtsp://%s:%d/", self.host, self.port)

    async def stop(self) -> None:
        """Tear down every session, close every connection and socket."""
        for session_id in list(self.sessions):
            self._destroy(session_id, reason="server stopping")
        for conn in list(self._connections):
            if conn.transport is not None:
                conn.transport.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            self._housekeeping = None
        if self._pacer is not None:
            self._pacer.close()
        for pair in self._udp.values():
            for transport in pair.transports:
                transport.close()
            pair.rtp.close()
            pair.rtcp.close()
        self._udp.clear()
        if self._mcast_sock is not None:
            self._mcast_sock.close()
            self._mcast_sock = None
        # Let the transports' close callbacks run so no socket outlives stop().
        await asyncio.sleep(0)

    async def close(self) -> None:
        """Same as :meth:`stop` (the simulator's service interface)."""
        await self.stop()

    async def __aenter__(self) -> RtspServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def url(self, path: str = "h264") -> str:
        """``rtsp://host:port/<path>`` of this server (no credentials)."""
        return f"rtsp://{self.host}:{self.port}/{path.lstrip('/')}"

    @property
    def pacer_stats(self) -> PacerStats:
        """Packet, byte, drop and lateness counters of the sending side."""
        if self._pacer is None:
            return PacerStats()
        return self._pacer.stats

    @property
    def udp_ports(self) -> dict[int, int]:
        """Track number to the server's RTP port (RTCP is the next one)."""
        return {n: p.rtp_port for n, p in self._udp.items()}

    # -- connection bookkeeping --------------------------------------------------------------

    def _accept(self, conn: _Connection) -> bool:
        if len(self._connections) >= self.max_connections:
            log.warning("RTSP connection limit %d reached; refusing", self.max_connections)
            return False
        self._connections.add(conn)
        self.stats.connections += 1
        return True

    def _connection_lost(self, conn: _Connection) -> None:
        self._connections.discard(conn)
        for session in list(self.sessions.values()):
            if session.connection is conn:
                self._destroy(session.id, reason="RTSP connection closed")

    def _now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    def _schedule_housekeeping(self) -> None:
        assert self._loop is not None
        interval = max(0.05, min(1.0, self.session_timeout / 4))
        self._housekeeping = self._loop.call_later(interval, self._expire_sessions)

    def _expire_sessions(self) -> None:
        now = self._now()
        for session in list(self.sessions.values()):
            if now - session.last_seen > session.timeout:
                log.info("RTSP session %s expired (no keepalive)", session.id)
                self.stats.sessions_expired += 1
                self._destroy(session.id, reason="expired")
        self._schedule_housekeeping()

    def _on_rtcp(self, addr: tuple[str, int]) -> None:
        session_id = self._rtcp_peers.get(addr)
        if session_id is not None and session_id in self.sessions:
            self.sessions[session_id].last_seen = self._now()

    def _on_client_frame(self, conn: _Connection, frame: ClientFrame) -> None:
        session_id = conn.channels.get(frame.channel)
        if session_id is not None and session_id in self.sessions:
            self.sessions[session_id].last_seen = self._now()

    def _destroy(self, session_id: str, *, reason: str) -> None:
        session = self.sessions.pop(session_id, None)
        if session is None:
            return
        stats = self.pacer_stats
        for setup in session.tracks.values():
            self._release_track(session, setup, stats)
        if session.connection is not None:
            for channel in [c for c, s in session.connection.channels.items() if s == session_id]:
                del session.connection.channels[channel]
        self.stats.sessions_closed += 1
        log.debug("RTSP session %s closed: %s", session_id, reason)

    def _release_track(self, session: RtspSession, setup: _TrackSetup, stats: PacerStats) -> None:
        if setup.kind == "multicast":
            group = self._multicast.get((session.path, setup.number))
            if group is not None:
                group.members.discard(session.id)
                if not group.members:
                    group.sender.stop(stats)
                    del self._multicast[(session.path, setup.number)]
        else:
            setup.sender.stop(stats)
        if setup.rtcp_addr is not None:
            self._rtcp_peers.pop(setup.rtcp_addr, None)

    # -- request handling --------------------------------------------------------------------

    def _handle(self, conn: _Connection, request: Request) -> tuple[bytes, bool]:
        self.stats.requests += 1
        self.faults.rtsp_requests += 1
        cseq = request.header("CSeq")
        session_header = request.header("Session")
        extra: list[tuple[str, str]] = []
        try:
            if cseq is None or not cseq.strip().isdigit():
                raise _RtspStatus(400, reason="Bad Request (missing CSeq)")
            if request.version != "RTSP/1.0":
                raise _RtspStatus(505)
            method = request.method
            if method not in _KNOWN_METHODS:
                raise _RtspStatus(501)
            if method not in PUBLIC_METHODS:
                raise _RtspStatus(405, [("Allow", ", ".join(PUBLIC_METHODS))])
            injected = self.faults.take_status(method)
            if injected is not None:
                raise self._injected(injected)
            if method != "OPTIONS" and self.auth.required:
                result = self.auth.check(method, request.header("Authorization"), time.time())
                if not result.ok:
                    challenges = self.auth.challenges(time.time(), stale=result.stale)
                    raise _RtspStatus(401, [("WWW-Authenticate", c) for c in challenges])
            handler = getattr(self, f"_do_{method.lower()}")
            status, headers, body = handler(conn, request)
            extra.extend(headers)
        except _RtspStatus as exc:
            self.stats.statuses[exc.status] += 1
            if exc.status != 401:
                log.info("RTSP %s %s -> %d", request.method, redact_url(request.uri), exc.status)
            headers = list(exc.headers)
            if session_header and exc.status not in (454,):
                headers.append(("Session", session_header.split(";")[0].strip()))
            return encode_response(exc.status, cseq, headers, reason=exc.reason), False
        except Exception:
            log.exception("RTSP %s failed inside the simulator", request.method)
            self.stats.statuses[500] += 1
            return encode_response(500, cseq), False
        self.stats.statuses[status] += 1
        return encode_response(status, cseq, extra, body), False

    def _injected(self, status: int) -> _RtspStatus:
        headers: list[tuple[str, str]] = []
        if status == 401:
            headers = [("WWW-Authenticate", c) for c in self.auth.challenges(time.time())]
            if not headers:
                headers = [("WWW-Authenticate", f'Basic realm="{self.auth.realm}"')]
        elif status == 503 and self.faults.retry_after is not None:
            headers = [("Retry-After", str(int(self.faults.retry_after)))]
        log.info("fault injection: answering RTSP request with %d", status)
        return _RtspStatus(status, headers)

    def _resolve(self, uri: str) -> tuple[str, int | None]:
        """Map a request URI to (path name, track number or None); 404 when unknown."""
        parts = urlsplit(uri)
        path = parts.path if parts.scheme else uri.split("?", 1)[0]
        segments = [s for s in path.split("/") if s]
        if not segments or segments[0] not in self.streams or len(segments) > 2:
            raise _RtspStatus(404)
        name = segments[0]
        if len(segments) == 1:
            return name, None
        match = _TRACK.fullmatch(segments[1])
        if match is None:
            raise _RtspStatus(404)
        number = int(match.group(1))
        if number not in self._track_numbers(name):
            raise _RtspStatus(404)
        return name, number

    def _track_numbers(self, name: str) -> tuple[int, ...]:
        return (1, 2) if self.streams[name].audio is not None else (1,)

    def _base_url(self, uri: str, name: str, conn: _Connection) -> str:
        parts = urlsplit(uri)
        if parts.scheme and parts.netloc:
            netloc = parts.netloc.rsplit("@", 1)[-1]
            return urlunsplit((parts.scheme, netloc, f"/{name}/", "", ""))
        host, port = conn.local
        return f"rtsp://{host}:{port}/{name}/"

    def _session(self, request: Request) -> RtspSession | None:
        value = request.header("Session")
        if value is None:
            return None
        session_id = value.split(";")[0].strip()
        session = self.sessions.get(session_id)
        if session is None:
            raise _RtspStatus(454)
        session.last_seen = self._now()
        return session

    def _track(self, name: str, number: int) -> PacketizedTrack:
        key = (name, number)
        track = self._packetized.get(key)
        if track is None:
            source = self.streams[name]
            if number == 1:
                track = packetize_video(source.video, mtu=self.mtu)
            else:
                assert source.audio is not None
                track = packetize_audio(source.audio)
            self._packetized[key] = track
        return track

    def _do_options(self, conn: _Connection, request: Request) -> _Result:
        headers = [("Public", ", ".join(PUBLIC_METHODS))]
        session = self._session(request)
        if session is not None:
            headers.append(("Session", session.id))
        return 200, headers, b""

    def _do_describe(self, conn: _Connection, request: Request) -> _Result:
        name, number = self._resolve(request.uri)
        if number is not None:
            raise _RtspStatus(404)
        accept = request.header("Accept")
        if accept is not None and not any(
            a.split(";")[0].strip() in ("application/sdp", "*/*", "application/*")
            for a in accept.split(",")
        ):
            raise _RtspStatus(406)
        self._session(request)
        base = self._base_url(request.uri, name, conn)
        body = build_sdp(
            name,
            self.streams[name],
            session_version=self._sdp_version,
            origin_host=conn.local[0] or self.host,
        ).encode("utf-8")
        headers = [("Content-Base", base), ("Content-Type", "application/sdp")]
        return 200, headers, body

    def _do_setup(self, conn: _Connection, request: Request) -> _Result:
        name, number = self._resolve(request.uri)
        if number is None:
            if len(self._track_numbers(name)) > 1:
                # An aggregate URL names no single stream to set up.
                raise _RtspStatus(459)
            number = 1
        session = self._session(request)
        if session is not None:
            if session.path != name:
                raise _RtspStatus(459)
            if number in session.tracks or session.state == "playing":
                # The camera does not reconfigure transports (spec 5.5.3.3).
                raise _RtspStatus(455)
        value = request.header("Transport")
        if not value:
            raise _RtspStatus(461)
        try:
            specs = _parse_transport(value)
        except ProtocolError as exc:
            raise _RtspStatus(400) from exc
        spec = next((s for s in specs if self._supported(s)), None)
        if spec is None:
            raise _RtspStatus(461)
        if session is None:
            if len(self.sessions) >= self.max_sessions:
                raise _RtspStatus(453)
            session = RtspSession(
                id=secrets.token_hex(8).upper(),
                path=name,
                timeout=self.session_timeout,
                last_seen=self._now(),
                base_url=self._base_url(request.uri, name, conn),
            )
            new = True
        else:
            new = False
        setup = self._make_track(conn, session, name, number, spec)
        session.tracks[number] = setup
        if new:
            self.sessions[session.id] = session
            self.stats.sessions_created += 1
        timeout = int(self.session_timeout) if self.session_timeout >= 1 else 1
        headers = [
            ("Transport", setup.reply),
            ("Session", f"{session.id};timeout={timeout}"),
            ("Cache-Control", "must-revalidate"),
        ]
        return 200, headers, b""

    def _supported(self, spec: TransportSpec) -> bool:
        if spec.mode not in ("PLAY", ""):
            return False
        if spec.protocol == "TCP":
            return not spec.multicast
        if spec.multicast:
            return True
        return spec.client_port is not None

    def _make_track(
        self,
        conn: _Connection,
        session: RtspSession,
        name: str,
        number: int,
        spec: TransportSpec,
    ) -> _TrackSetup:
        track = self._track(name, number)
        cname = f"ipcam-sim@{self.host}"
        if spec.protocol == "TCP":
            assert conn.transport is not None
            if session.connection is not None and session.connection is not conn:
                raise _RtspStatus(455)
            wanted = spec.interleaved
            if wanted is None or wanted[0] in conn.channels or wanted[1] in conn.channels:
                first = 0
                while first in conn.channels or first + 1 in conn.channels:
                    first += 2
                wanted = (first, first + 1)
            if wanted[0] > 255 or wanted[1] > 255:
                raise _RtspStatus(461)
            conn.channels[wanted[0]] = session.id
            conn.channels[wanted[1]] = session.id
            session.connection = conn
            tcp = TcpSink(conn.transport, wanted[0], wanted[1])
            sender = TrackSender(track, tcp, faults=self.faults, rng=self._rng, cname=cname)
            reply = (
                f"RTP/AVP/TCP;unicast;interleaved={wanted[0]}-{wanted[1]};ssrc={sender.ssrc:08X}"
            )
            return _TrackSetup(number, "tcp", sender, reply)
        if spec.multicast:
            group = self._multicast_track(name, number, track, cname)
            group.members.add(session.id)
            reply = (
                f"RTP/AVP;multicast;destination={group.group};source={self.host};"
                f"port={group.port}-{group.port + 1};ttl={self.multicast_ttl}"
            )
            return _TrackSetup(number, "multicast", group.sender, reply)
        assert spec.client_port is not None
        client_ip = conn.peer[0]
        rtp_port, rtcp_port = spec.client_port
        pair = self._udp[number]
        sink = UdpSink(pair.rtp, pair.rtcp, (client_ip, rtp_port), (client_ip, rtcp_port))
        sender = TrackSender(track, sink, faults=self.faults, rng=self._rng, cname=cname)
        reply = (
            f"RTP/AVP;unicast;destination={client_ip};source={conn.local[0] or self.host};"
            f"client_port={rtp_port}-{rtcp_port};"
            f"server_port={pair.rtp_port}-{pair.rtp_port + 1};ssrc={sender.ssrc:08X}"
        )
        self._rtcp_peers[(client_ip, rtcp_port)] = session.id
        return _TrackSetup(number, "udp", sender, reply, rtcp_addr=(client_ip, rtcp_port))

    def _multicast_track(
        self, name: str, number: int, track: PacketizedTrack, cname: str
    ) -> _MulticastTrack:
        key = (name, number)
        group = self._multicast.get(key)
        if group is not None:
            return group
        if self._mcast_sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, self.multicast_ttl)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
            with contextlib.suppress(OSError):
                sock.setsockopt(
                    socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(self.host)
                )
            sock.bind((self.host, 0))
            self._mcast_sock = sock
        index = sorted(self.streams).index(name)
        address = str(self.multicast_group + index)
        port = _free_even_port(self.host)
        mcast = UdpSink(self._mcast_sock, self._mcast_sock, (address, port), (address, port + 1))
        sender = TrackSender(track, mcast, faults=self.faults, rng=self._rng, cname=cname)
        group = _MulticastTrack(address, port, sender)
        self._multicast[key] = group
        return group

    def _aggregate_target(self, request: Request, session: RtspSession) -> None:
        name, number = self._resolve(request.uri)
        if name != session.path:
            raise _RtspStatus(459)
        if number is not None and len(session.tracks) > 1:
            raise _RtspStatus(460)
        if number is not None and number not in session.tracks:
            raise _RtspStatus(455)

    def _do_play(self, conn: _Connection, request: Request) -> _Result:
        session = self._session(request)
        if session is None:
            raise _RtspStatus(455)
        self._aggregate_target(request, session)
        range_header = request.header("Range")
        if range_header is not None and _RANGE.fullmatch(range_header.strip()) is None:
            raise _RtspStatus(457)
        now = self._now()
        pacer = self._pacer
        assert pacer is not None
        if session.state != "playing":
            for setup in session.tracks.values():
                sender = setup.sender
                if setup.kind == "multicast" and sender.active:
                    continue
                sender.start(now)
                pacer.add(sender)
            session.state = "playing"
        infos = []
        for number, setup in sorted(session.tracks.items()):
            sender = setup.sender
            infos.append(
                f"url={session.base_url}track{number};seq={sender.seq};"
                f"rtptime={sender.rtp_time_at(now)}"
            )
        headers = [
            ("Range", "npt=0.000-"),
            ("Session", f"{session.id};timeout={max(1, int(session.timeout))}"),
            ("RTP-Info", ",".join(infos)),
        ]
        return 200, headers, b""

    def _do_pause(self, conn: _Connection, request: Request) -> _Result:
        session = self._session(request)
        if session is None:
            raise _RtspStatus(455)
        self._aggregate_target(request, session)
        if session.state != "playing":
            raise _RtspStatus(455)
        now = self._now()
        for setup in session.tracks.values():
            if setup.kind == "multicast":
                continue  # the group keeps playing for its other members
            setup.sender.pause(now)
        session.state = "ready"
        return 200, [("Session", session.id)], b""

    def _do_teardown(self, conn: _Connection, request: Request) -> _Result:
        session = self._session(request)
        if session is None:
            raise _RtspStatus(454)
        name, number = self._resolve(request.uri)
        if name != session.path:
            raise _RtspStatus(459)
        if number is None or set(session.tracks) == {number}:
            self._destroy(session.id, reason="TEARDOWN")
        elif number in session.tracks:
            setup = session.tracks.pop(number)
            self._release_track(session, setup, self.pacer_stats)
        else:
            raise _RtspStatus(455)
        return 200, [("Session", session.id)], b""
