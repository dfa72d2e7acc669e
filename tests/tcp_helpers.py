"""A loopback TCP server base for tests that need a peer speaking raw bytes.

Subclasses implement :meth:`LoopbackTcpServer.serve`; the base listens on 127.0.0.1 with a free
port, counts connections and, on leaving the ``async with`` block, closes the listener and
cancels and awaits every connection handler still running, so a test leaves no task behind.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Self


class LoopbackTcpServer:
    """Listens on ``127.0.0.1:port`` (a free port, set on entering); one task per connection."""

    def __init__(self, *, rcvbuf: int | None = None) -> None:
        #: Receive buffer of the listening (and so of the accepted) sockets, when given.
        self.rcvbuf = rcvbuf
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Handle one accepted connection (the subclass closes ``writer`` when done)."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        try:
            sock.bind(("127.0.0.1", 0))
            self._server = await asyncio.start_server(self._handle, sock=sock)
        except BaseException:
            sock.close()
            raise
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        try:
            await self.serve(reader, writer)
        finally:
            self._handlers.discard(task)


async def until(condition: Callable[[], bool], *, within: float = 10.0) -> None:
    """Wait until ``condition()`` is true, polling; fail the test after ``within`` seconds.

    Tests wait for what they check instead of sleeping a fixed time, so a loaded machine makes
    them slower, never red.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.01)
