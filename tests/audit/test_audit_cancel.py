"""Cancelling a request, an upload or a download mid-flight leaves nothing behind."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import RawCamera, client_sockets, listing, no_leaks
from tcp_helpers import until

from ipcam_async.camera import Camera


async def _slow_reader(
    head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    # Takes the upload body at a crawl, so the client's send buffer stays full.
    while True:
        if not await reader.read(1024):
            return
        await asyncio.sleep(0.05)


async def _slow_body(
    head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Length: 50000000\r\n\r\n"
    )
    while True:
        writer.write(b"a" * 4096)
        await writer.drain()
        await asyncio.sleep(0.01)


Start = Callable[[Camera, Path], Awaitable[Any]]

CASES: dict[str, tuple[Any, Start]] = {
    "upload-file": (_slow_reader, lambda c, d: c.system.restore(d / "big.bin")),
    "upload-bytes": (_slow_reader, lambda c, d: c.system.restore(b"x" * (8 << 20))),
    "firmware": (
        _slow_reader,
        lambda c, d: c.system.upgrade(d / "big.bin", filename="uImage", prepare=False),
    ),
    "request": (_slow_body, lambda c, d: c.transport.request("GET", "/x", max_body=1 << 30)),
    "backup": (_slow_body, lambda c, d: c.system.backup(d / "out.bin")),
    "storage": (_slow_body, lambda c, d: c.storage.download("A.avi", d / "out.avi")),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_cancel_mid_flight(tmp_path: Path, case: str) -> None:
    behaviour, start = CASES[case]
    source = tmp_path / "big.bin"
    source.write_bytes(b"\x00" * (16 << 20))
    async with RawCamera(behaviour) as raw, no_leaks(lambda: raw.port):
        cam = Camera("127.0.0.1", raw.port, timeout=10)
        task = asyncio.create_task(start(cam, tmp_path))
        await until(lambda: raw.connections == 1)
        await asyncio.sleep(0.1)  # let the transfer get going before it is cut
        assert not task.done()
        assert raw.connections == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The socket must go even while the camera object stays open (no reliance on close).
        await until(lambda: client_sockets(raw.port) == set())
        await cam.close()
    assert listing(tmp_path) == ["big.bin"]


async def test_cancel_while_waiting_for_503_retry() -> None:
    async def busy(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 503 Busy\r\nRetry-After: 20\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    async with (
        RawCamera(busy) as raw,
        no_leaks(lambda: raw.port),
        Camera("127.0.0.1", raw.port, timeout=2, retry_503=3) as cam,
    ):
        task = asyncio.create_task(cam.params.list())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_concurrent_downloads_to_one_target_do_not_mix(tmp_path: Path) -> None:
    payloads = [b"A" * 300_000, b"B" * 200_000]
    served = iter(payloads)

    async def behaviour(
        head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        body = next(served)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        for start in range(0, len(body), 10_000):  # interleaved with the other download
            writer.write(body[start : start + 10_000])
            await writer.drain()
            await asyncio.sleep(0.002)

    target = tmp_path / "same.avi"
    async with RawCamera(behaviour) as raw, Camera("127.0.0.1", raw.port) as cam:
        await asyncio.gather(
            cam.storage.download("a.avi", target, overwrite=True),
            cam.storage.download("b.avi", target, overwrite=True),
        )
    data = await asyncio.to_thread(target.read_bytes)
    assert data in payloads  # one whole file, never a mix of both
    assert listing(tmp_path) == ["same.avi"]
