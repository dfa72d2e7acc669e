"""A deliberately independent raw RTSP/RTP client for testing the simulated camera's server.

Written from RFC 2326 / RFC 3550 / RFC 6184 directly (not with the library's RTSP client) so the
server is checked against a second implementation.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

RTP_HEADER = struct.Struct("!BBHII")


@dataclass
class Response:
    status: int
    reason: str
    headers: dict[str, list[str]]
    body: bytes

    def get(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[-1] if values else None

    @property
    def session(self) -> str | None:
        value = self.get("Session")
        return value.split(";")[0].strip() if value else None


@dataclass
class Rtp:
    marker: bool
    pt: int
    seq: int
    ts: int
    ssrc: int
    payload: bytes
    arrival: float = 0.0


def parse_rtp(data: bytes, arrival: float = 0.0) -> Rtp:
    b0, b1, seq, ts, ssrc = RTP_HEADER.unpack_from(data)
    assert b0 >> 6 == 2, "RTP version must be 2"
    assert not b0 & 0x0F, "no CSRCs expected"
    return Rtp(bool(b1 & 0x80), b1 & 0x7F, seq, ts, ssrc, data[12:], arrival)


@dataclass
class RawRtsp:
    """One RTSP connection; interleaved frames that arrive are collected in ``frames``."""

    host: str
    port: int
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    cseq: int = 0
    frames: list[tuple[int, bytes, float]] = field(default_factory=list)
    auth: str | None = None

    async def connect(self) -> RawRtsp:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.wait_closed()

    async def __aenter__(self) -> RawRtsp:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def url(self, path: str) -> str:
        return f"rtsp://{self.host}:{self.port}/{path}"

    async def send_raw(self, data: bytes) -> None:
        assert self.writer is not None
        self.writer.write(data)
        await self.writer.drain()

    async def request(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        *,
        cseq: bool = True,
        version: str = "RTSP/1.0",
        wait: float = 5.0,
    ) -> Response:
        self.cseq += 1
        lines = [f"{method} {url} {version}"]
        if cseq:
            lines.append(f"CSeq: {self.cseq}")
        if self.auth:
            lines.append(f"Authorization: {self.auth}")
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        await self.send_raw(("\r\n".join(lines) + "\r\n\r\n").encode())
        return await asyncio.wait_for(self.read_response(), wait)

    async def _read_frame(self) -> None:
        assert self.reader is not None
        head = await self.reader.readexactly(3)
        size = int.from_bytes(head[1:3], "big")
        data = await self.reader.readexactly(size)
        self.frames.append((head[0], data, asyncio.get_running_loop().time()))

    async def read_response(self) -> Response:
        assert self.reader is not None
        while True:
            first = await self.reader.readexactly(1)
            if first == b"$":
                await self._read_frame()
                continue
            head = first + await self.reader.readuntil(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            _, status, reason = lines[0].split(" ", 2)
            headers: dict[str, list[str]] = {}
            for line in lines[1:]:
                if line:
                    k, _, v = line.partition(":")
                    headers.setdefault(k.strip().lower(), []).append(v.strip())
            length = int(headers.get("content-length", ["0"])[0])
            body = await self.reader.readexactly(length) if length else b""
            return Response(int(status), reason, headers, body)

    async def pump(self, duration: float) -> None:
        """Read interleaved frames for ``duration`` seconds."""
        assert self.reader is not None
        loop = asyncio.get_running_loop()
        end = loop.time() + duration
        while (left := end - loop.time()) > 0:
            try:
                first = await asyncio.wait_for(self.reader.readexactly(1), left)
            except TimeoutError:
                return
            assert first == b"$", f"unexpected byte {first!r} between frames"
            await self._read_frame()

    async def pump_until(self, done: Callable[[], bool], deadline: float = 10.0) -> None:
        """Read interleaved frames until ``done()`` holds; fail after ``deadline`` seconds.

        A generous deadline instead of a fixed reading time: on a loaded machine frames may come
        late, and the condition, not the clock, is what a test checks.
        """
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline
        while not done():
            left = end - loop.time()
            assert left > 0, (
                f"condition not reached within {deadline} s ({len(self.frames)} frames)"
            )
            await self.pump(min(left, 0.05))

    async def pump_until_quiet(self, quiet: float, deadline: float = 10.0) -> None:
        """Read frames until none arrived for ``quiet`` seconds; fail after ``deadline`` seconds."""
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline
        while True:
            count = len(self.frames)
            await self.pump(quiet)
            if len(self.frames) == count:
                return
            assert loop.time() < end, f"still receiving after {deadline} s"

    def rtp(self, channel: int) -> list[Rtp]:
        return [parse_rtp(d, t) for c, d, t in self.frames if c == channel]


def digest_header(
    user: str, password: str, method: str, uri: str, challenge: str, *, qop: bool = False
) -> str:
    params = dict(
        (k.strip(), v.strip().strip('"'))
        for k, _, v in (p.partition("=") for p in challenge[len("Digest ") :].split(","))
    )
    realm, nonce = params["realm"], params["nonce"]
    ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    if qop:
        nc, cnonce = "00000001", "abcdef"
        resp = hashlib.md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
        return (
            f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
            f'response="{resp}", qop=auth, nc={nc}, cnonce="{cnonce}"'
        )
    resp = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
    return (
        f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'response="{resp}"'
    )


def basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class UdpCollector(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.packets: list[tuple[bytes, float]] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.packets.append((data, asyncio.get_running_loop().time()))

    def rtp(self) -> list[Rtp]:
        return [parse_rtp(d, t) for d, t in self.packets]


@dataclass
class UdpPair:
    rtp_port: int
    rtp: UdpCollector
    rtcp: UdpCollector
    transports: list[asyncio.DatagramTransport]

    def close(self) -> None:
        for t in self.transports:
            t.close()


async def udp_pair(host: str = "127.0.0.1") -> UdpPair:
    """Bind an even/odd pair of UDP ports collecting what arrives."""
    loop = asyncio.get_running_loop()
    for _ in range(100):
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        a.bind((host, 0))
        port = a.getsockname()[1]
        if port % 2:
            a.close()
            continue
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            b.bind((host, port + 1))
        except OSError:
            a.close()
            b.close()
            continue
        rtp, rtcp = UdpCollector(), UdpCollector()
        t1, _ = await loop.create_datagram_endpoint(lambda r=rtp: r, sock=a)  # type: ignore[misc]
        t2, _ = await loop.create_datagram_endpoint(lambda r=rtcp: r, sock=b)  # type: ignore[misc]
        return UdpPair(port, rtp, rtcp, [t1, t2])
    raise OSError("no port pair")


def h264_access_units(packets: list[Rtp]) -> list[bytes]:
    """Depacketize RFC 6184 (single NAL, STAP-A, FU-A) into Annex B access units."""
    units: list[bytes] = []
    current: list[bytes] = []
    fu: bytearray | None = None
    for p in packets:
        payload = p.payload
        kind = payload[0] & 0x1F
        if kind == 24:
            pos = 1
            while pos + 2 <= len(payload):
                size = int.from_bytes(payload[pos : pos + 2], "big")
                current.append(payload[pos + 2 : pos + 2 + size])
                pos += 2 + size
        elif kind == 28:
            header = payload[1]
            if header & 0x80:
                fu = bytearray([(payload[0] & 0xE0) | (header & 0x1F)])
            assert fu is not None, "FU-A continuation without start"
            fu += payload[2:]
            if header & 0x40:
                current.append(bytes(fu))
                fu = None
        else:
            current.append(payload)
        if p.marker:
            units.append(b"".join(b"\x00\x00\x00\x01" + n for n in current))
            current = []
    return units


def decode_h264(units: list[bytes]) -> list[tuple[int, int]]:
    """Decode Annex B access units with PyAV; return (width, height) of each decoded picture."""
    import av

    codec = av.CodecContext.create("h264", "r")
    sizes: list[tuple[int, int]] = []
    for unit in units:
        for frame in codec.decode(av.Packet(unit)):
            sizes.append((frame.width, frame.height))
    for frame in codec.decode(None):
        sizes.append((frame.width, frame.height))
    return sizes
