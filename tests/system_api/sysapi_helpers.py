"""Helpers for the system-API tests: a raw replay server and a byte-counting TCP proxy.

Both listen on 127.0.0.1 with a free port and are async context managers that close every
socket and task they opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Mapping

import attrs
from tcp_helpers import LoopbackTcpServer

OK_TEXT = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nOK\r\n"


@attrs.define
class Recorded:
    """One request as the replay server read it off the socket."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]


class ReplayServer(LoopbackTcpServer):
    """Answers each request with canned bytes (chosen by path) and records what it received.

    The canned answers are written verbatim, so a test can replay the exact bytes the spec shows
    (``HTTP/1.0``, bare ``\\n`` header ends...). The connection is closed after each answer.
    """

    def __init__(self, answers: Mapping[str, bytes] | None = None, default: bytes = OK_TEXT):
        super().__init__()
        self.answers = dict(answers or {})
        self.default = default
        self.requests: list[Recorded] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Record one request and write the canned answer for its path."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            body = await reader.readexactly(length) if length else b""
            self.requests.append(Recorded(method, target, headers, body))
            writer.write(self.answers.get(target.partition("?")[0], self.default))
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def multipart_parts(content_type: str, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    """Split an RFC 1867 body into (headers, content) pairs, strictly (asserting the framing)."""
    m = re.search(r"boundary=(\S+)", content_type)
    assert m is not None, content_type
    boundary = m.group(1).strip('"').encode()
    assert body.startswith(b"--" + boundary + b"\r\n")
    assert body.endswith(b"\r\n--" + boundary + b"--\r\n")
    inner = body[len(boundary) + 4 : -(len(boundary) + 8)]
    parts = []
    for raw in inner.split(b"\r\n--" + boundary + b"\r\n"):
        head, sep, content = raw.partition(b"\r\n\r\n")
        assert sep
        headers = {}
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        parts.append((headers, content))
    return parts


class CountingProxy(LoopbackTcpServer):
    """A TCP relay to ``127.0.0.1:target_port`` counting the bytes sent client → server."""

    def __init__(self, target_port: int) -> None:
        super().__init__()
        self.target_port = target_port
        self.upstream_bytes = 0

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: bool
    ) -> None:
        try:
            while data := await reader.read(256 * 1024):
                if count:
                    self.upstream_bytes += len(data)
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Relay one connection to the target port, both ways."""
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
            await asyncio.gather(
                self._pipe(reader, up_writer, True), self._pipe(up_reader, writer, False)
            )
        except ConnectionError:
            writer.close()


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc)."""
    with open(f"/proc/{os.getpid()}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
