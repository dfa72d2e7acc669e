"""RTSP/RTP fault injection of the simulated camera (reached as ``sim.faults.rtsp``).

Every field can be changed while streams run; the server reads them per request (RTSP faults)
or per sent frame (RTP faults). Packet faults use the server's own seeded random generator
(``seed``) so a test run is reproducible.
"""

from __future__ import annotations

import attrs

__all__ = ["RtspFaults"]


@attrs.define
class RtspFaults:
    """What the RTSP server should do wrong.

    RTP/RTCP delivery (every session, UDP, multicast and TCP alike):

    * ``loss``: probability that an RTP packet is not sent.
    * ``duplicate``: probability that an RTP packet is sent twice.
    * ``reorder``: probability that an RTP packet is held back and sent after the next one.
    * ``delay``: seconds every frame's packets (and RTCP) are held before they go out.
    * ``stall``: while true no RTP or RTCP is sent at all: the stream goes silent (sequence
      numbers do not advance, the RTP clock does) and sessions stay.
    * ``restart_rtp()``: the next frames carry a new random sequence number base, SSRC and
      timestamp base, as when a camera's encoder restarts.

    RTSP:

    * ``drop_tcp_after``: abort each RTSP TCP connection this many seconds after it opened
      (interleaved sessions on it end too).
    * ``fail_next(status, times=1, retry_after=None, methods=None)``: answer the next ``times``
      requests (only of ``methods`` if given) with ``status`` (401 comes with fresh challenges,
      503 with ``Retry-After``).

    Counters for assertions: ``rtsp_requests``, ``packets_lost``, ``packets_duplicated``,
    ``packets_reordered``, ``restarts``.
    """

    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    delay: float = 0.0
    stall: bool = False
    drop_tcp_after: float | None = None
    seed: int | None = 1
    status: int | None = None
    status_times: int = 0
    status_methods: frozenset[str] | None = None
    retry_after: float | None = None
    restart_generation: int = 0
    rtsp_requests: int = 0
    packets_lost: int = 0
    packets_duplicated: int = 0
    packets_reordered: int = 0

    @property
    def packet_faults(self) -> bool:
        """True when any per-packet fault (loss, duplicate, reorder, delay) is active."""
        return bool(self.loss or self.duplicate or self.reorder or self.delay)

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: float | None = None,
        methods: tuple[str, ...] | None = None,
    ) -> None:
        """Answer the next ``times`` RTSP requests (of ``methods`` if given) with ``status``."""
        self.status = status
        self.status_times = times
        self.retry_after = retry_after
        self.status_methods = frozenset(m.upper() for m in methods) if methods else None

    def take_status(self, method: str) -> int | None:
        """Consume one pending injected status for a request of ``method`` (server side)."""
        if self.status is None or self.status_times <= 0:
            return None
        if self.status_methods is not None and method.upper() not in self.status_methods:
            return None
        self.status_times -= 1
        status = self.status
        if self.status_times <= 0:
            self.status = None
        return status

    def restart_rtp(self) -> None:
        """Make every running stream jump to a new sequence base, SSRC and timestamp base."""
        self.restart_generation += 1

    @property
    def restarts(self) -> int:
        """How many times :meth:`restart_rtp` was called."""
        return self.restart_generation

    def clear(self) -> None:
        """Switch every fault off (counters are kept)."""
        self.loss = self.duplicate = self.reorder = self.delay = 0.0
        self.stall = False
        self.drop_tcp_after = None
        self.status = None
        self.status_times = 0
        self.status_methods = None
