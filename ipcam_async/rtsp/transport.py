"""Media transports for RTSP: UDP unicast port pairs and UDP multicast receivers.

(TCP interleaved media rides on the RTSP connection itself; see :mod:`ipcam_async.rtsp.client`.)

A :class:`UdpReceiver` reads with ``loop.add_reader`` and, per wake-up, drains every datagram the
kernel has ready with ``recvfrom_into`` into a preallocated slab, handing the RTP stack zero-copy
``memoryview`` slices; with a ``batch_handler`` the wake-up's datagrams go to the RTP stack as one
list (one call per wake-up, not per datagram). A slab is never rewritten: when it is full a new
one is allocated, and the old one lives on only while the RTP stack still holds views into it (a
partially received frame or packets in the reorder window), so reuse can never corrupt data.

(``recvmmsg(2)`` through ctypes was measured as well: with the ctypes call overhead and the
per-message bookkeeping it cost more CPU than this loop at camera packet rates, so it is not used.)
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import random
import socket
import struct
from collections.abc import Callable

import attrs

from ..errors import ConnectError
from .pacer import ReadPacer

__all__ = [
    "BatchHandler",
    "PacketHandler",
    "UdpPair",
    "UdpReceiver",
    "UdpStats",
    "bind_udp_pair",
    "open_multicast_pair",
]

log = logging.getLogger(__name__)

PacketHandler = Callable[[memoryview, float], None]
BatchHandler = Callable[[list[memoryview], float], None]

SLAB_SIZE = 1 << 20
MAX_DATAGRAM = 65536
MAX_BATCH = 512
PACED_BATCHES = 8
SOCKET_RCVBUF = 4 << 20


@attrs.define(slots=True)
class UdpStats:
    """Counters of one UDP socket."""

    datagrams: int = 0
    bytes: int = 0
    wakeups: int = 0
    foreign: int = 0
    errors: int = 0


class UdpReceiver:
    """One non-blocking UDP socket drained in batches into slab buffers.

    ``accept_host``: datagrams from other source addresses are dropped (counted in
    ``stats.foreign``); the source *port* is not checked because cameras often send from a port
    other than the ``server_port`` they announced. ``batch_handler``: when given, it receives
    each wake-up's datagrams as one list, in order, instead of ``handler`` being called per
    datagram.
    """

    def __init__(
        self,
        sock: socket.socket,
        handler: PacketHandler,
        *,
        loop: asyncio.AbstractEventLoop,
        accept_host: str | None = None,
        clock: Callable[[], float] | None = None,
        batch_handler: BatchHandler | None = None,
        pacer: ReadPacer | None = None,
    ) -> None:
        self.sock = sock
        self.pacer = pacer
        self.handler = handler
        self.batch_handler = batch_handler
        self.accept_host = accept_host
        self.stats = UdpStats()
        self.last_source: tuple[str, int] | None = None
        self._loop = loop
        self._clock = clock or loop.time
        self._slab = bytearray(SLAB_SIZE)
        self._view = memoryview(self._slab)
        self._offset = 0
        self._reading = False

    @property
    def port(self) -> int:
        """Local port."""
        port: int = self.sock.getsockname()[1]
        return port

    def start(self) -> None:
        """Begin reading."""
        if not self._reading:
            if self.pacer is not None:
                self.pacer.add(id(self), self._drain)
            else:
                self._loop.add_reader(self.sock.fileno(), self._on_readable)
            self._reading = True

    def stop(self) -> None:
        """Stop reading (the socket stays open)."""
        if self._reading:
            if self.pacer is not None:
                self.pacer.discard(id(self))
            else:
                self._loop.remove_reader(self.sock.fileno())
            self._reading = False

    def _drain(self) -> None:
        # A paced socket collects a whole interval's datagrams: take every batch that is ready,
        # bounded so one flooded socket cannot starve the others sharing the tick.
        for _ in range(PACED_BATCHES):
            if self._on_readable() < MAX_BATCH:
                return

    def close(self) -> None:
        """Stop reading and close the socket."""
        self.stop()
        self.sock.close()

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        """Send one datagram (RTCP receiver reports, NAT keep-open packets); errors are counted."""
        try:
            self.sock.sendto(data, addr)
        except OSError as exc:
            self.stats.errors += 1
            log.debug("UDP send to port %d failed: %s", addr[1], exc)

    def _on_readable(self) -> int:
        """Read the datagrams that are ready (at most ``MAX_BATCH``); return how many were read."""
        stats = self.stats
        stats.wakeups += 1
        recv = self.sock.recvfrom_into
        accept = self.accept_host
        handler = self.handler
        arrival = self._clock()
        view = self._view
        offset = self._offset
        count = nbytes = 0
        source: tuple[str, int] | None = None
        batch: list[memoryview] | None = [] if self.batch_handler is not None else None
        try:
            for _ in range(MAX_BATCH):
                if SLAB_SIZE - offset < MAX_DATAGRAM:
                    # Fresh slab; views handed out keep the old one alive as long as needed.
                    self._slab = bytearray(SLAB_SIZE)
                    view = self._view = memoryview(self._slab)
                    offset = 0
                try:
                    size, addr = recv(view[offset:], MAX_DATAGRAM)
                except (BlockingIOError, InterruptedError):
                    return count
                except OSError as exc:
                    # ICMP port unreachable reported on a later recv, and the like: not fatal.
                    stats.errors += 1
                    if exc.errno not in _QUIET_ERRNOS:
                        log.debug("UDP receive error: %s", exc)
                    return count
                if accept is not None and addr[0] != accept:
                    stats.foreign += 1
                    continue
                count += 1
                nbytes += size
                source = addr
                end = offset + size
                packet = view[offset:end]
                offset = end
                if batch is not None:
                    batch.append(packet)
                else:
                    handler(packet, arrival)
        finally:
            self._offset = offset
            stats.datagrams += count
            stats.bytes += nbytes
            if source is not None:
                self.last_source = source
            if batch:
                self.batch_handler(batch, arrival)  # type: ignore[misc]
        return MAX_BATCH  # the batch limit was reached: more may be waiting


_QUIET_ERRNOS = frozenset({errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH})


@attrs.define(slots=True)
class UdpPair:
    """RTP (even port) and RTCP (odd port) receivers for one track."""

    rtp: UdpReceiver
    rtcp: UdpReceiver

    @property
    def ports(self) -> tuple[int, int]:
        """(rtp_port, rtcp_port)."""
        return self.rtp.port, self.rtcp.port

    def start(self) -> None:
        """Begin reading both sockets."""
        self.rtp.start()
        self.rtcp.start()

    def close(self) -> None:
        """Close both sockets."""
        self.rtp.close()
        self.rtcp.close()


def _udp_socket(family: int = socket.AF_INET) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setblocking(False)
    with contextlib.suppress(OSError):  # some kernels cap or refuse it
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_RCVBUF)
    return sock


def bind_udp_pair(
    host: str = "0.0.0.0",
    *,
    port_range: tuple[int, int] | None = None,
    attempts: int = 64,
) -> tuple[socket.socket, socket.socket]:
    """Bind two UDP sockets on an even port and the next odd one (RFC 3550 section 11).

    Without ``port_range`` the kernel picks an ephemeral port; an odd pick or a taken neighbour is
    retried. Raises :class:`ConnectError` when no pair could be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(attempts):
        rtp = _udp_socket(family)
        try:
            if port_range is None:
                rtp.bind((host, 0))
                port = rtp.getsockname()[1]
                if port % 2:
                    rtp.close()
                    rtp = _udp_socket(family)
                    port = port + 1 if port < 65534 else 0
                    if port == 0:
                        continue
                    rtp.bind((host, port))
            else:
                low, high = port_range
                port = random.randrange(low + (low % 2), high - 1, 2)
                rtp.bind((host, port))
        except OSError:
            rtp.close()
            continue
        rtcp = _udp_socket(family)
        try:
            rtcp.bind((host, port + 1))
        except OSError:
            rtp.close()
            rtcp.close()
            continue
        return rtp, rtcp
    raise ConnectError("could not bind an even/odd UDP port pair for RTP/RTCP")


def open_multicast_pair(
    group: str, ports: tuple[int, int], *, interface: str = "0.0.0.0"
) -> tuple[socket.socket, socket.socket]:
    """Bind two sockets on ``group``'s RTP/RTCP ports and join the group on ``interface``.

    Raises :class:`ConnectError` when the kernel refuses (no multicast route, for example).
    """
    socks: list[socket.socket] = []
    try:
        for port in ports:
            sock = _udp_socket()
            socks.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if hasattr(socket, "SO_REUSEPORT"):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((group, port))
            mreq = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton(interface))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    except OSError as exc:
        for sock in socks:
            sock.close()
        raise ConnectError(f"cannot join multicast group {group}: {exc}") from exc
    return socks[0], socks[1]
