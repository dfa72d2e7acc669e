"""The receive fast paths: slab reads on the RTSP connection, batched frames and datagrams."""

from __future__ import annotations

import asyncio
import random
import socket
import time

import pytest

from ipcam_async.errors import ProtocolError
from ipcam_async.rtsp.client import FIRST_SLAB, SLAB_SIZE, _Connection
from ipcam_async.rtsp.message import InterleavedFrame, RtspReader, RtspResponse, encode_interleaved
from ipcam_async.rtsp.transport import MAX_DATAGRAM, UdpReceiver
from ipcam_async.rtsp.transport import SLAB_SIZE as UDP_SLAB

RESPONSE = b"RTSP/1.0 200 OK\r\nCSeq: 5\r\nContent-Length: 4\r\n\r\nbody"


def stream_units(rng: random.Random, count: int) -> tuple[bytes, list[tuple[int, bytes]]]:
    data, frames, _ = stream_units_bounds(rng, count)
    return data, frames


def stream_units_bounds(
    rng: random.Random, count: int
) -> tuple[bytes, list[tuple[int, bytes]], list[int]]:
    """The stream, its frames, and where each unit ends."""
    units: list[bytes] = []
    frames: list[tuple[int, bytes]] = []
    for i in range(count):
        if i % 97 == 50:
            units.append(RESPONSE)
            continue
        channel = rng.choice((0, 0, 0, 1, 2))
        payload = rng.randbytes(rng.choice((12, 700, 1400, 9000, 65535)))
        units.append(encode_interleaved(channel, payload))
        frames.append((channel, payload))
    bounds: list[int] = []
    total = 0
    for unit in units:
        total += len(unit)
        bounds.append(total)
    return b"".join(units), frames, bounds


def summary(events: list[object]) -> list[object]:
    out: list[object] = []
    for e in events:
        if isinstance(e, InterleavedFrame):
            out.append((e.channel, bytes(e.data)))
        elif isinstance(e, RtspResponse):
            out.append((e.status, e.body))
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_scan_in_a_caller_buffer_matches_feed(seed: int) -> None:
    rng = random.Random(seed)
    data, _ = stream_units(rng, 120)
    data = b"junk" + data
    whole = summary(RtspReader().feed(data))
    reader = RtspReader()
    buf = bytearray(len(data))
    view = memoryview(buf)
    events: list[object] = []
    start = end = 0
    while end < len(data):
        step = rng.choice((1, 3, 100, 1500, 70000))
        buf[end : end + step] = data[end : end + step]
        end = min(len(data), end + step)
        got, start = reader.scan(buf, start, end, view)
        events += got
    assert start == end
    assert summary(events) == whole
    assert reader.stats.junk_bytes == 4


def test_batched_frames_keep_order_and_runs() -> None:
    calls: list[tuple[int, list[bytes]]] = []
    reader = RtspReader(on_frames=lambda ch, views: calls.append((ch, [bytes(v) for v in views])))
    data = b"".join(
        [
            encode_interleaved(0, b"a"),
            encode_interleaved(0, b"b"),
            encode_interleaved(1, b"c"),
            RESPONSE,
            encode_interleaved(0, b"d"),
            encode_interleaved(0, b"e"),
        ]
    )
    events = reader.feed(data)
    assert calls == [(0, [b"a", b"b"]), (1, [b"c"]), (0, [b"d", b"e"])]
    assert [type(e) for e in events] == [RtspResponse]
    assert reader.stats.frames == 5


class _StubClient:
    safe_url = "rtsp://127.0.0.1/x"

    def __init__(self) -> None:
        self.lost: list[BaseException] = []

    def _on_connection_lost(self, exc: BaseException) -> None:
        self.lost.append(exc)


class _Sink:
    def __init__(self) -> None:
        self.views: list[memoryview] = []
        self.rtcp: list[bytes] = []

    def on_rtp(self, data: memoryview, arrival: float) -> None:
        raise AssertionError("the batched handler must be used")

    def on_rtp_batch(self, packets: list[memoryview], arrival: float) -> None:
        self.views.extend(packets)  # kept as views: the slab must never be rewritten

    def on_rtcp(self, data: memoryview, arrival: float) -> None:
        self.rtcp.append(bytes(data))


async def test_connection_reads_into_slabs_without_rewriting_held_views() -> None:
    rng = random.Random(7)
    data, frames, bounds = stream_units_bounds(rng, 260)
    assert len(data) > 3 * SLAB_SIZE
    conn = _Connection(_StubClient(), 64 * 1024, 1 << 20)  # type: ignore[arg-type]
    sink = _Sink()
    conn.set_handlers((0, 1), sink)  # type: ignore[arg-type]
    assert conn.reader.channels is not None
    conn.reader.channels.update((0, 1))
    loop = asyncio.get_running_loop()
    futures = []
    pos = 0
    slabs = set()
    while pos < len(data):
        if conn.pending is None:
            future: asyncio.Future[RtspResponse] = loop.create_future()
            conn.pending = (5, future)
            futures.append(future)
        buf = conn.get_buffer(-1)
        assert len(buf) >= FIRST_SLAB // 4
        step = rng.choice((1, 5, 1000, 20000, 200000, 0))
        if step == 0:  # up to a unit boundary: nothing left pending after this read
            step = next(b for b in bounds if b > pos) - pos
        n = min(len(buf), step, len(data) - pos)
        buf[:n] = data[pos : pos + n]
        conn.buffer_updated(n)
        slabs.add(id(conn._slab))
        pos += n
    assert len(slabs) > 3
    assert len(conn._slab) >= SLAB_SIZE  # grew while reads filled the offered buffer
    assert [bytes(v) for v in sink.views] == [p for ch, p in frames if ch == 0]
    assert sink.rtcp == [p for ch, p in frames if ch == 1]
    assert conn.reader.stats.unknown_channel_frames == sum(1 for ch, _ in frames if ch == 2)
    done = [f.result() for f in futures if f.done()]
    assert len(done) == data.count(RESPONSE) and all(r.body == b"body" for r in done)


async def test_signalling_only_connection_keeps_a_small_buffer() -> None:
    conn = _Connection(_StubClient(), 64 * 1024, 1 << 20)  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    for _ in range(200):
        future: asyncio.Future[RtspResponse] = loop.create_future()
        conn.pending = (5, future)
        buf = conn.get_buffer(-1)
        buf[: len(RESPONSE)] = RESPONSE
        conn.buffer_updated(len(RESPONSE))
        assert future.result().body == b"body"
    assert len(conn._slab) == FIRST_SLAB


async def test_connection_fails_on_protocol_error() -> None:
    client = _StubClient()
    conn = _Connection(client, 256, 1024)  # type: ignore[arg-type]
    raw = b"RTSP/1.0 200 OK\r\nContent-Length: 99999\r\n\r\n"
    buf = conn.get_buffer(-1)
    buf[: len(raw)] = raw
    conn.buffer_updated(len(raw))
    assert conn.closed.done() and isinstance(client.lost[0], ProtocolError)


async def wait_until(predicate, seconds: float = 3.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.005)


async def test_udp_batches_roll_slabs_keep_views_and_filter_foreign_sources() -> None:
    loop = asyncio.get_running_loop()
    got: list[memoryview] = []
    calls: list[int] = []

    def batch(packets: list[memoryview], arrival: float) -> None:
        calls.append(len(packets))
        got.extend(packets)  # kept as views: a slab must never be rewritten

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind(("127.0.0.1", 0))
    receiver = UdpReceiver(
        sock, lambda d, a: None, loop=loop, accept_host="127.0.0.1", batch_handler=batch
    )
    receiver.start()
    sent: list[bytes] = []
    try:
        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as foreign,
        ):
            tx.bind(("127.0.0.1", 0))
            foreign.bind(("127.0.0.2", 0))
            rng = random.Random(3)
            target = receiver.sock.getsockname()
            bursts = 0
            while sum(len(p) for p in sent) < 2 * UDP_SLAB + MAX_DATAGRAM:  # two fresh slabs
                for _ in range(50):
                    payload = len(sent).to_bytes(4, "big") + rng.randbytes(rng.randrange(0, 9000))
                    sent.append(payload)
                    tx.sendto(payload, target)
                foreign.sendto(b"x" * 20, target)
                bursts += 1
                expected = len(sent)
                await wait_until(lambda: len(got) == expected)  # noqa: B023
            assert [bytes(v) for v in got] == sent  # every view intact after the roll-overs
            assert receiver.stats.foreign == bursts
            assert receiver.stats.datagrams == len(sent)
            assert receiver.last_source == tx.getsockname()
            assert max(calls) > 1 and len(calls) < len(sent)  # several datagrams per call
    finally:
        receiver.close()
