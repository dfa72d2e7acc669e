"""Helpers for the event/MJPEG tests: leak checks and a raw loopback HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web


def open_sockets() -> int:
    """Sockets open in this process (Linux: /proc/self/fd)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
    return count


async def wait_for(predicate: Callable[[], bool], limit: float = 3.0) -> None:
    """Poll ``predicate`` until true; fail the test after ``limit`` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def no_leaks() -> AsyncIterator[None]:
    """Assert that the block leaves no task and no socket behind."""
    await asyncio.sleep(0)
    gc.collect()
    tasks_before = set(asyncio.all_tasks())
    sockets_before = open_sockets()
    yield
    for _ in range(3):  # let closed transports finish their callbacks
        await asyncio.sleep(0.01)
    gc.collect()
    await asyncio.sleep(0.01)
    leaked = {t for t in asyncio.all_tasks() - tasks_before if not t.done()}
    assert not leaked, f"leaked tasks: {leaked}"
    await wait_for(lambda: open_sockets() <= sockets_before, limit=3.0)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@contextlib.asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[int]:
    """Serve ``handler`` on every path of 127.0.0.1:<free port>; yield the port."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None and server.sockets  # type: ignore[attr-defined]
    port: int = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    try:
        yield port
    finally:
        await runner.cleanup()


# The spec's monitor example (5.4.2), byte for byte, with "<boundary>" as the boundary. Its
# Content-Length values (74, 75) are 4 bytes short of what follows each header block.
SPEC_MONITOR = (
    b"--<boundary>\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Length: 74\r\n"
    b"\r\n"
    b"Motion:Enabled=1;Level=0;Sensitivity=80;Triggered=0; \r\n"
    b"Motion1:Enabled=0; \r\n"
    b"\r\n"
    b"--<boundary>\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Length: 75\r\n"
    b"\r\n"
    b"Motion:Enabled=1;Level=15;Sensitivity=80;Triggered=0; \r\n"
    b"Motion1:Enabled=0; \r\n"
    b"\r\n"
)
