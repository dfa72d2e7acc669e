"""Paced socket reading: one timer per event loop reads every paced stream's sockets at once.

With ``read_interval=0`` (the default) a stream's sockets are read as soon as data arrives: for a
camera sending a 30 fps picture as a burst of packets that is one event-loop wake-up, one socket
read and one consumer wake-up per frame and per stream. Each of those is cheap, but in Python the
fixed cost of a wake-up (selector call, callbacks, a task step, and caches gone cold while the
process slept) is several times the cost of depacketizing the frame itself. With
``read_interval=T`` the sockets of all paced streams are read together once every ``T`` seconds:
a wake-up then carries several frames of every stream, at the price of up to ``T`` seconds of
added latency. Recorders and analytics that ingest many cameras want that trade; a live viewer
does not.

TCP connections pause reading after each read (``transport.pause_reading()``) and are resumed on
the next tick; a connection with an RTSP request outstanding is never paused, so requests are not
slowed down. UDP sockets are not registered with the selector at all: every tick drains them.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable

from ..errors import InvalidArgument

__all__ = ["MAX_READ_INTERVAL", "ReadPacer", "check_read_interval", "pacer_for"]

log = logging.getLogger(__name__)

#: Upper bound of ``read_interval``: past it kernel socket buffers of a few-Mbit/s stream fill up.
MAX_READ_INTERVAL = 0.5


def check_read_interval(value: object) -> float:
    """``value`` as seconds from 0 to :data:`MAX_READ_INTERVAL`, else :class:`InvalidArgument`."""
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not 0.0 <= value <= MAX_READ_INTERVAL
    ):
        raise InvalidArgument("read_interval", f"seconds from 0 to {MAX_READ_INTERVAL}", value)
    return float(value)


class ReadPacer:
    """Calls registered read callbacks every ``interval`` seconds, all in one timer callback.

    ``resume_once`` callbacks run at the next tick only (a paused TCP connection); ``add``ed
    callbacks run at every tick until ``discard``ed (a UDP socket to drain). The timer runs only
    while something is registered.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float) -> None:
        self.loop = loop
        self.interval = interval
        self.ticks = 0
        self._repeating: dict[int, Callable[[], None]] = {}
        self._once: list[Callable[[], None]] = []
        self._handle: asyncio.TimerHandle | None = None

    def add(self, key: int, callback: Callable[[], None]) -> None:
        """Run ``callback`` at every tick until :meth:`discard` with the same ``key``."""
        self._repeating[key] = callback
        self._arm()

    def discard(self, key: int) -> None:
        """Stop running the callback registered under ``key`` (unknown keys are ignored)."""
        self._repeating.pop(key, None)

    def resume_once(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` at the next tick."""
        self._once.append(callback)
        self._arm()

    def _arm(self) -> None:
        if self._handle is None:
            self._handle = self.loop.call_later(self.interval, self._tick)

    def _tick(self) -> None:
        self._handle = None
        self.ticks += 1
        once, self._once = self._once, []
        for callback in [*once, *self._repeating.values()]:
            try:
                callback()
            except Exception:  # one broken socket must not stop every other stream's reads
                log.exception("paced read failed")
        if self._once or self._repeating:
            self._arm()


_PACERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[float, ReadPacer]] = (
    weakref.WeakKeyDictionary()
)


def pacer_for(loop: asyncio.AbstractEventLoop, interval: float) -> ReadPacer:
    """The loop's shared pacer for ``interval`` (streams with the same interval share a timer)."""
    pacers = _PACERS.get(loop)
    if pacers is None:
        pacers = _PACERS[loop] = {}
    pacer = pacers.get(interval)
    if pacer is None:
        pacer = pacers[interval] = ReadPacer(loop, interval)
    return pacer
