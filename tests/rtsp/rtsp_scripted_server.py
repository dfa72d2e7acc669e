"""A tiny scripted RTSP server on 127.0.0.1 for the client tests.

It parses requests with its own minimal parser (independent of the code under test) and lets a
test decide every byte of every answer. :class:`FakeCamera` adds a default, overridable
behaviour for each method and sends given RTP packets over interleaved TCP or UDP after PLAY.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable, Sequence

__all__ = ["Conn", "FakeCamera", "Req", "ScriptedRtspServer", "interleave", "wait_until"]


async def wait_until(predicate: Callable[[], bool], seconds: float = 3.0) -> None:
    """Poll ``predicate`` until it is true; AssertionError after ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


class Req:
    """One parsed request."""

    def __init__(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.method = method
        self.url = url
        self.header_list = headers
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    @property
    def cseq(self) -> str:
        return self.headers.get("cseq", "")

    def __repr__(self) -> str:
        return f"Req({self.method} {self.url})"


class Conn:
    """Server side of one client connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.peer = writer.get_extra_info("peername")
        self.received_frames: list[tuple[int, bytes]] = []

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    def respond(
        self,
        req: Req,
        status: int = 200,
        reason: str = "OK",
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        *,
        cseq: bool = True,
    ) -> None:
        lines = [f"RTSP/1.0 {status} {reason}"]
        if cseq:
            lines.append(f"CSeq: {req.cseq}")
        lines += [f"{k}: {v}" for k, v in headers]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    async def read_request(self) -> Req | None:
        """Next request; interleaved frames sent by the client are collected on the way."""
        while True:
            try:
                first = await self.reader.readexactly(1)
            except (asyncio.IncompleteReadError, ConnectionError):
                return None
            if first == b"$":
                head = await self.reader.readexactly(3)
                length = struct.unpack("!H", head[1:])[0]
                self.received_frames.append((head[0], await self.reader.readexactly(length)))
                continue
            try:
                raw = first + await self.reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return None
            lines = raw.decode().split("\r\n")
            method, url, _ = lines[0].split(" ")
            headers = []
            for line in lines[1:]:
                if line:
                    k, _, v = line.partition(":")
                    headers.append((k.strip(), v.strip()))
            length = int(dict((k.lower(), v) for k, v in headers).get("content-length", "0"))
            body = await self.reader.readexactly(length) if length else b""
            return Req(method, url, headers, body)


Handler = Callable[[Conn, Req], Awaitable[None]]


class ScriptedRtspServer:
    """Accepts connections on 127.0.0.1 and calls ``handler(conn, req)`` for every request."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Req] = []
        self.connections: list[Conn] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    def url(self, path: str = "/h264", *, userinfo: str = "") -> str:
        return f"rtsp://{userinfo}127.0.0.1:{self.port}{path}"

    async def __aenter__(self) -> ScriptedRtspServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for conn in self.connections:
            conn.writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = Conn(reader, writer)
        self.connections.append(conn)
        try:
            while True:
                req = await conn.read_request()
                if req is None:
                    break
                self.requests.append(req)
                await self.handler(conn, req)
        except asyncio.CancelledError:
            pass
        finally:
            writer.close()
            self._tasks.discard(task)

    def methods(self) -> list[str]:
        return [r.method for r in self.requests]


def interleave(channel: int, data: bytes) -> bytes:
    return b"$" + bytes([channel]) + struct.pack("!H", len(data)) + data


SDP_TEMPLATE = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=test\r\nt=0 0\r\na=control:*\r\n"
    "m=video 0 RTP/AVP 99\r\na=rtpmap:99 H264/90000\r\na=fmtp:99 packetization-mode=1\r\n"
    "a=control:track1\r\n"
    "m=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=control:track2\r\n"
)


class FakeCamera:
    """Default RTSP behaviour with overridable hooks, sending ``packets[track]`` after PLAY.

    ``overrides[method]`` replaces the default answer for a method. ``on_play`` decides what is
    sent after PLAY (default: every track's packets, paced by ``interval``).
    """

    def __init__(
        self,
        *,
        sdp: str = SDP_TEMPLATE,
        packets: dict[int, list[bytes]] | None = None,
        session: str = "ABCD1234;timeout=60",
        public: str = "OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE, GET_PARAMETER",
        interval: float = 0.0,
        content_base: str | None = None,
    ) -> None:
        self.sdp = sdp
        self.packets = packets or {}
        self.session = session
        self.public = public
        self.interval = interval
        self.content_base = content_base
        self.overrides: dict[str, Handler] = {}
        self.track_transport: dict[int, tuple[str, object]] = {}
        self.udp_sock: socket.socket | None = None
        self.sender: asyncio.Task[None] | None = None
        self.server = ScriptedRtspServer(self.handle)
        self.before_play_response: bytes = b""

    async def __aenter__(self) -> FakeCamera:
        await self.server.__aenter__()
        self.udp_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp_sock.bind(("127.0.0.1", 0))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.sender is not None:
            self.sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.sender
        if self.udp_sock is not None:
            self.udp_sock.close()
        await self.server.__aexit__(*exc)

    def url(self, path: str = "/h264", *, userinfo: str = "") -> str:
        return self.server.url(path, userinfo=userinfo)

    def session_headers(self) -> list[tuple[str, str]]:
        return [("Session", self.session)]

    async def handle(self, conn: Conn, req: Req) -> None:
        override = self.overrides.get(req.method)
        if override is not None:
            await override(conn, req)
            return
        await self.default(conn, req)

    async def default(self, conn: Conn, req: Req) -> None:
        if req.method == "OPTIONS":
            conn.respond(req, headers=[("Public", self.public)])
        elif req.method == "DESCRIBE":
            base = self.content_base or req.url.rstrip("/") + "/"
            conn.respond(
                req,
                headers=[("Content-Base", base), ("Content-Type", "application/sdp")],
                body=self.sdp.encode(),
            )
        elif req.method == "SETUP":
            track = 1 if req.url.rstrip("/").endswith("track2") else 0
            transport = req.headers["transport"]
            if "TCP" in transport:
                channels = transport.split("interleaved=")[1].split(";")[0]
                first = int(channels.split("-")[0])
                self.track_transport[track] = ("tcp", first)
                reply = f"RTP/AVP/TCP;unicast;interleaved={channels}"
            else:
                ports = transport.split("client_port=")[1].split(";")[0]
                rtp_port = int(ports.split("-")[0])
                self.track_transport[track] = ("udp", rtp_port)
                reply = f"RTP/AVP;unicast;client_port={ports};server_port=6970-6971"
            conn.respond(req, headers=[("Transport", reply), *self.session_headers()])
        elif req.method == "PLAY":
            if self.before_play_response:
                conn.send(self.before_play_response)
            conn.respond(req, headers=[("Range", "npt=0.000-"), *self.session_headers()])
            self.start_sending(conn)
        elif req.method in ("PAUSE", "GET_PARAMETER"):
            conn.respond(req, headers=self.session_headers())
        elif req.method == "TEARDOWN":
            if self.sender is not None:
                self.sender.cancel()
            conn.respond(req, headers=self.session_headers())
        else:
            conn.respond(req, 501, "Not Implemented")

    def start_sending(self, conn: Conn) -> None:
        if self.sender is None or self.sender.done():
            self.sender = asyncio.get_running_loop().create_task(self.send_all(conn))

    async def send_all(self, conn: Conn) -> None:
        order: list[tuple[int, bytes]] = []
        longest = max((len(p) for p in self.packets.values()), default=0)
        for i in range(longest):
            for track, pkts in sorted(self.packets.items()):
                if i < len(pkts):
                    order.append((track, pkts[i]))
        for track, pkt in order:
            self.send_packet(conn, track, pkt)
            if self.interval:
                await asyncio.sleep(self.interval)
            else:
                await asyncio.sleep(0)

    def send_packet(self, conn: Conn, track: int, pkt: bytes, *, rtcp: bool = False) -> None:
        kind, where = self.track_transport.get(track, ("none", 0))
        if kind == "tcp":
            assert isinstance(where, int)
            conn.send(interleave(where + (1 if rtcp else 0), pkt))
        elif kind == "udp":
            assert isinstance(where, int)
            if self.udp_sock is None:
                self.udp_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self.udp_sock.bind(("127.0.0.1", 0))
            self.udp_sock.sendto(pkt, ("127.0.0.1", where + (1 if rtcp else 0)))
