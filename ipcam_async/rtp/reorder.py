"""Sequence tracking for one RTP source: wrap-around, reorder window, loss counters, jitter.

RFC 3550 A.1 (sequence validation, probation), A.3 (expected / lost for reports) and A.8
(interarrival jitter), adapted to a client that must also put UDP packets back in order.
"""

from __future__ import annotations

import logging
from collections import deque

from .packet import RtpPacket

__all__ = ["RESYNC", "ReorderBuffer"]

log = logging.getLogger(__name__)

#: ``gap`` value in :attr:`ReorderBuffer.ready` meaning "a new source starts at this packet".
RESYNC = -1

_LOST_MEMORY = 1024


class ReorderBuffer:
    """Puts one source's packets in sequence order and counts what went wrong.

    :meth:`push` returns the number of packets missing right before the packet when it can
    be handed on at once (the common, in-order case, at no cost). It returns ``-1`` when the
    packet was held, dropped, or released together with others; what is ready then sits in
    :attr:`ready` as ``(packet, gap)`` pairs in sequence order, where ``gap`` is the number
    of packets lost before it, or :data:`RESYNC` when a new source (SSRC or sequence restart)
    starts with that packet.

    With ``reorder=True`` (UDP) a packet arriving after a hole is held until the hole is
    filled, until more than ``window`` packets are held, or until it has waited ``delay``
    seconds (checked on each push and by :meth:`tick`); then the missing packets are counted
    lost. With ``reorder=False`` (TCP) packets pass through: a hole is counted lost at once
    and a packet arriving behind is dropped as late (or duplicate).

    A jump of more than ``max_dropout`` ahead or ``max_misorder`` behind, or a new SSRC,
    is only believed after ``min_sequential`` consecutive packets confirm it (probation);
    then the new source replaces the old one. Packets that never get confirmed are counted
    in ``discarded``.

    Counters (cumulative over resyncs): ``received`` (valid packets of the current source,
    duplicates and late ones included, as RFC 3550 counts), ``lost``, ``duplicated``,
    ``reordered`` (arrived out of order but put back in place), ``late`` (arrived after
    its slot was given up; dropped), ``discarded``, ``resyncs``, ``ssrc_changes``.
    """

    __slots__ = (
        "_base",
        "_delay",
        "_expected_prior",
        "_held",
        "_jitter",
        "_lost_order",
        "_lost_seqs",
        "_max_dropout",
        "_max_misorder",
        "_max_seen",
        "_min_sequential",
        "_next",
        "_probe",
        "_rate",
        "_received_base",
        "_received_prior",
        "_reorder",
        "_seed",
        "_ssrc",
        "_transit",
        "_window",
        "discarded",
        "duplicated",
        "late",
        "lost",
        "ready",
        "received",
        "reordered",
        "resyncs",
        "ssrc_changes",
    )

    def __init__(
        self,
        *,
        clock_rate: int,
        reorder: bool,
        window: int = 64,
        delay: float = 0.1,
        max_dropout: int = 3000,
        max_misorder: int = 100,
        min_sequential: int = 2,
    ) -> None:
        self._rate = float(clock_rate)
        self._reorder = reorder
        self._window = window
        self._delay = delay
        self._max_dropout = max_dropout
        self._max_misorder = max_misorder
        self._min_sequential = max(1, min_sequential)
        self.ready: list[tuple[RtpPacket, int]] = []
        self.received = 0
        self.lost = 0
        self.duplicated = 0
        self.reordered = 0
        self.late = 0
        self.discarded = 0
        self.resyncs = 0
        self.ssrc_changes = 0
        self._seed: int | None = None
        self._start_state()

    def _start_state(self) -> None:
        self._ssrc: int | None = None
        self._next = 0  # extended sequence number expected next
        self._base = 0
        self._max_seen = 0
        self._held: dict[int, tuple[RtpPacket, float]] = {}
        self._probe: list[RtpPacket] = []
        self._lost_seqs: set[int] = set()
        self._lost_order: deque[int] = deque()
        self._received_base = self.received  # received counts from here for this source
        self._expected_prior = 0
        self._received_prior = 0
        self._transit: float | None = None
        self._jitter = 0.0

    # -- public -------------------------------------------------------------------------

    @property
    def ssrc(self) -> int | None:
        """The SSRC of the current source (None before the first packet)."""
        return self._ssrc

    @property
    def jitter(self) -> float:
        """Interarrival jitter (RFC 3550 A.8) in timestamp units."""
        return self._jitter

    @property
    def highest_seq(self) -> int:
        """Extended highest sequence number received (RFC 3550 A.3)."""
        return self._max_seen

    @property
    def held(self) -> int:
        """Packets currently held by the reorder window."""
        return len(self._held)

    def seed(self, seq: int) -> None:
        """Expect the first packet to carry sequence number ``seq`` (RTSP ``RTP-Info``)."""
        if self._ssrc is None:
            self._seed = seq & 0xFFFF

    def reset(self) -> None:
        """Forget the source (a new session); counters are kept. Held packets are dropped."""
        self.discarded += len(self._held) + len(self._probe)
        self._seed = None
        self.ready = []
        self._start_state()

    def push(self, pkt: RtpPacket, arrival: float) -> int:
        """Account for one packet; see the class docstring for the return value."""
        if pkt.ssrc != self._ssrc:
            return self._other_source(pkt, arrival)
        self.received += 1
        transit = arrival * self._rate - pkt.timestamp
        last = self._transit
        if last is not None:
            d = transit - last
            if d < 0:
                d = -d
            if d > 2147483648.0:
                d = 4294967296.0 - d  # the RTP timestamp wrapped
            self._jitter += (d - self._jitter) * 0.0625
        self._transit = transit
        nxt = self._next
        delta = ((pkt.sequence - nxt + 0x8000) & 0xFFFF) - 0x8000
        if delta == 0 and not self._held:
            self._next = nxt + 1
            if nxt >= self._max_seen:
                self._max_seen = nxt
            if self._probe:
                self._abandon_probe()
            return 0
        return self._slow(pkt, arrival, nxt, delta)

    def accept_in_order(self, ssrc: int, seq: int, timestamp: int, arrival: float) -> bool:
        """Fast path: account for the packet expected next, if it is that one.

        Returns False, changing nothing, for anything else (another source, a gap, packets
        held or on probation); the caller then builds an :class:`RtpPacket` for :meth:`push`.
        """
        nxt = self._next
        if ssrc != self._ssrc or seq != nxt & 0xFFFF or self._held or self._probe:
            return False
        self.received += 1
        transit = arrival * self._rate - timestamp
        last = self._transit
        if last is not None:
            d = transit - last
            if d < 0:
                d = -d
            if d > 2147483648.0:
                d = 4294967296.0 - d
            self._jitter += (d - self._jitter) * 0.0625
        self._transit = transit
        self._next = nxt + 1
        if nxt >= self._max_seen:
            self._max_seen = nxt
        return True

    def tick(self, now: float) -> None:
        """Give up on holes whose next packet has waited ``delay`` seconds (into ``ready``)."""
        held = self._held
        while held:
            first = min(held)
            if held[first][1] + self._delay > now:
                return
            self._skip_hole(first)

    def flush(self) -> None:
        """Release everything held (end of stream): holes count as lost."""
        held = self._held
        while held:
            self._skip_hole(min(held))

    def take(self) -> list[tuple[RtpPacket, int]]:
        """Return and clear :attr:`ready`."""
        ready = self.ready
        self.ready = []
        return ready

    def report_numbers(self) -> tuple[int, int, int, int]:
        """(fraction_lost, cumulative_lost, extended_highest_seq, jitter) for a report block.

        Updates the interval state, as RFC 3550 A.3 does when a report is sent.
        """
        expected = self._max_seen - self._base + 1
        received = self.received - self._received_base
        cumulative = expected - received
        expected_interval = expected - self._expected_prior
        received_interval = received - self._received_prior
        self._expected_prior = expected
        self._received_prior = received
        lost_interval = expected_interval - received_interval
        if expected_interval <= 0 or lost_interval <= 0:
            fraction = 0
        else:
            fraction = min((lost_interval << 8) // expected_interval, 255)
        return fraction, cumulative, self._max_seen & 0xFFFFFFFF, int(self._jitter)

    # -- internals ----------------------------------------------------------------------

    def _begin(self, pkt: RtpPacket, gap: int, base: int | None = None) -> None:
        """Make ``pkt`` the first packet of the current source and deliver it.

        ``base`` is the sequence number the source was expected to start at (RTP-Info),
        when packets before ``pkt`` went missing.
        """
        self._ssrc = pkt.ssrc
        start = pkt.sequence if base is None else base
        ext = start + max(gap, 0)
        self._base = start
        self._next = ext + 1
        self._max_seen = ext
        self._received_base = self.received - 1
        self._expected_prior = self._received_prior = 0
        self._lost_seqs.clear()
        self._lost_order.clear()
        self.ready.append((pkt, gap))

    def _other_source(self, pkt: RtpPacket, arrival: float) -> int:
        if self._ssrc is None:
            # first packet of the session: no probation, so no start-up latency
            self.received += 1
            self._transit = arrival * self._rate - pkt.timestamp
            seed = self._seed
            if seed is not None:
                delta = ((pkt.sequence - seed + 0x8000) & 0xFFFF) - 0x8000
                if -self._max_misorder <= delta < 0:
                    # sent before the PLAY point (RTP-Info): stale
                    self.late += 1
                    return -1
                if 0 < delta <= self._max_dropout:
                    self._begin(pkt, delta, base=seed)
                    self._mark_lost(seed, seed + delta)
                    return -1
            self._begin(pkt, 0)
            return -1
        return self._probation(pkt, arrival)

    def _probation(self, pkt: RtpPacket, arrival: float) -> int:
        probe = self._probe
        if probe:
            last = probe[-1]
            if last.ssrc == pkt.ssrc and pkt.sequence == (last.sequence + 1) & 0xFFFF:
                probe.append(pkt)
            else:
                self.discarded += len(probe)
                probe[:] = [pkt]
        else:
            probe.append(pkt)
        if len(probe) < self._min_sequential:
            return -1
        # confirmed: a new source replaces the old one
        if probe[0].ssrc != self._ssrc:
            self.ssrc_changes += 1
            log.info("RTP source changed SSRC %s -> %#010x", self._ssrc, probe[0].ssrc)
        else:
            log.info("RTP source restarted its sequence at %d", probe[0].sequence)
        self.resyncs += 1
        self.flush()
        packets = list(probe)
        counters = self.received
        self._start_state()
        self.received = counters + len(packets)
        self._transit = arrival * self._rate - pkt.timestamp
        self._begin(packets[0], RESYNC)
        for extra in packets[1:]:
            self._next += 1
            self._max_seen += 1
            self.ready.append((extra, 0))
        self._received_base = counters
        return -1

    def _abandon_probe(self) -> None:
        self.discarded += len(self._probe)
        self._probe.clear()

    def _slow(self, pkt: RtpPacket, arrival: float, nxt: int, delta: int) -> int:
        if delta > self._max_dropout or delta < -self._max_misorder:
            self.received -= 1
            return self._probation(pkt, arrival)
        if self._probe:
            self._abandon_probe()
        ext = nxt + delta
        if delta < 0:
            if ext in self._lost_seqs:
                self._lost_seqs.discard(ext)
                self.late += 1
            else:
                self.duplicated += 1
            return -1
        if ext > self._max_seen:
            self._max_seen = ext
        if not self._reorder:
            # pass-through: the hole is lost now
            self._mark_lost(nxt, ext)
            self._next = ext + 1
            return delta
        held = self._held
        if delta == 0:
            # fills the first hole: deliver it and what follows
            self.reordered += 1
            self._next = ext + 1
            self.ready.append((pkt, 0))
            self._drain()
        elif ext in held:
            self.duplicated += 1
            return -1
        else:
            held[ext] = (pkt, arrival)
            if ext < self._max_seen:
                self.reordered += 1
        while len(held) > self._window:
            self._skip_hole(min(held))
        if held:
            self.tick(arrival)
        return -1

    def _mark_lost(self, first: int, end: int) -> None:
        count = end - first
        self.lost += count
        if count > _LOST_MEMORY:
            first = end - _LOST_MEMORY
        lost_seqs = self._lost_seqs
        order = self._lost_order
        for ext in range(first, end):
            lost_seqs.add(ext)
            order.append(ext)
        while len(order) > _LOST_MEMORY:
            lost_seqs.discard(order.popleft())

    def _skip_hole(self, first: int) -> None:
        """Declare the packets before held packet ``first`` lost and release from there."""
        gap = first - self._next
        self._mark_lost(self._next, first)
        pkt, _ = self._held.pop(first)
        self._next = first + 1
        self.ready.append((pkt, gap))
        self._drain()

    def _drain(self) -> None:
        held = self._held
        nxt = self._next
        ready = self.ready
        while nxt in held:
            ready.append((held.pop(nxt)[0], 0))
            nxt += 1
        self._next = nxt
