"""Reconnect policy shared by every long-lived stream: exponential backoff with jitter."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import attrs

from .errors import InvalidArgument

__all__ = ["ReconnectPolicy"]


def _positive(name: str) -> Callable[[Any, Any, float], None]:
    def check(_inst: Any, _attr: Any, value: float) -> None:
        if not value > 0:
            raise InvalidArgument(name, "> 0", value)

    return check


def _check_jitter(_inst: Any, _attr: Any, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise InvalidArgument("jitter", "0.0..1.0", value)


def _check_failures(_inst: Any, _attr: Any, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or value < 1):
        raise InvalidArgument("max_failures", ">= 1 or None (retry forever)", value)


@attrs.frozen(slots=True)
class ReconnectPolicy:
    """How a stream reconnects: the event monitor, MJPEG, RTSP streams and the recorder.

    The wait before attempt ``n`` (counting consecutive failures from 1) is
    ``min(max_delay, initial_delay * multiplier ** (n - 1))`` reduced by a random fraction of
    up to ``jitter`` (so many clients restarting together do not reconnect in lockstep).
    ``idle_timeout`` is how long a connected HTTP stream (event monitor, MJPEG) may stay
    silent before it is treated as dead; ``connect_timeout`` bounds opening it (RTSP streams
    use their own ``timeout``). ``max_failures`` consecutive failures end the
    stream with the last typed error; ``None`` retries forever (every failure still goes to the
    log and to ``on_disconnect``).
    """

    initial_delay: float = attrs.field(default=0.5, validator=_positive("initial_delay"))
    max_delay: float = attrs.field(default=30.0, validator=_positive("max_delay"))
    multiplier: float = attrs.field(default=2.0, validator=_positive("multiplier"))
    jitter: float = attrs.field(default=0.5, validator=_check_jitter)
    max_failures: int | None = attrs.field(default=10, validator=_check_failures)
    idle_timeout: float = attrs.field(default=30.0, validator=_positive("idle_timeout"))
    connect_timeout: float = attrs.field(default=10.0, validator=_positive("connect_timeout"))

    def delay(self, failures: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait after ``failures`` consecutive failures (``failures >= 1``)."""
        exponent = max(0, failures - 1)
        # Cap the exponent so a long outage cannot overflow the float.
        base = min(self.max_delay, self.initial_delay * self.multiplier ** min(exponent, 64))
        return base * (1.0 - self.jitter * rand())
