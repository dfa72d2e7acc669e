"""Shared pieces of the audit tests: a raw TCP camera that misbehaves on purpose, fd accounting."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from tcp_helpers import LoopbackTcpServer

#: ``async def behaviour(head: bytes, reader, writer)`` answers one request (``head`` is the
#: request line and headers, without the body).
Behaviour = Callable[[bytes, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class RawCamera(LoopbackTcpServer):
    """A loopback TCP server that reads request heads and lets ``behaviour`` answer them.

    Counts connections and request heads, so a test can prove that nothing was sent.
    """

    def __init__(self, behaviour: Behaviour, *, rcvbuf: int | None = None) -> None:
        # ``rcvbuf``: small, like a real camera's, so what the client has written is not
        # swallowed whole by loopback's megabytes of buffering.
        super().__init__(rcvbuf=rcvbuf)
        self.behaviour = behaviour
        self.requests: list[bytes] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read request heads and let ``behaviour`` answer each; abort the connection at the end."""
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                self.requests.append(head)
                await self.behaviour(head, reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.transport.abort()


def http_response(
    body: bytes,
    *,
    status: str = "200 OK",
    content_type: str = "text/plain",
    extra: str = "",
    length: int | None = None,
) -> bytes:
    """Bytes of one HTTP/1.1 response (``length`` overrides the Content-Length)."""
    size = len(body) if length is None else length
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {size}\r\n"
        f"{extra}\r\n"
    ).encode() + body


def answer(body: bytes, **kw: object) -> Behaviour:
    """A behaviour answering every request with ``body`` (keywords: see :func:`http_response`)."""

    async def behaviour(
        head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        length = _content_length(head)
        if length:
            await reader.readexactly(length)
        writer.write(http_response(body, **kw))  # type: ignore[arg-type]
        await writer.drain()

    return behaviour


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


async def never_answer(
    head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Accept the request and never say a word."""
    await asyncio.Event().wait()


def listing(directory: Path) -> list[str]:
    """Sorted names in ``directory``."""
    return sorted(p.name for p in directory.iterdir())


def open_fds() -> dict[str, str]:
    """This process's open file descriptors → what they point at."""
    found: dict[str, str] = {}
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            found[fd] = os.readlink(f"/proc/self/fd/{fd}")
    return found


def client_sockets(port: int) -> set[str]:
    """Descriptors of this process's TCP sockets connected *to* ``port`` on loopback."""
    inodes: set[str] = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                if remote_port == port:
                    inodes.add(fields[9])
    return {fd for fd, target in open_fds().items() if target[8:-1] in inodes}


def _client_side(task: asyncio.Task[object]) -> bool:
    """False for the test servers' own connection handlers (server side, not under audit)."""
    name = getattr(task.get_coro(), "__qualname__", "")
    return not name.startswith(("LoopbackTcpServer._handle", "RequestHandler."))


@contextlib.asynccontextmanager
async def no_leaks(port_of: Callable[[], int] | None = None) -> AsyncIterator[None]:
    """Assert that the block leaves no new task, no new file and no socket to ``port_of()``."""
    await asyncio.sleep(0)
    tasks = asyncio.all_tasks()
    files = {fd: t for fd, t in open_fds().items() if not t.startswith(("socket:", "anon_inode"))}
    yield
    for _ in range(50):  # closed transports are released on the next loop turns
        await asyncio.sleep(0.01)
        new_tasks = {t for t in asyncio.all_tasks() - tasks if not t.done() and _client_side(t)}
        new_files = {
            fd: t
            for fd, t in open_fds().items()
            if not t.startswith(("socket:", "anon_inode")) and fd not in files
        }
        sockets = client_sockets(port_of()) if port_of is not None else set()
        if not new_tasks and not new_files and not sockets:
            return
    raise AssertionError(f"leaked tasks {new_tasks}, files {new_files}, sockets {sockets}")
