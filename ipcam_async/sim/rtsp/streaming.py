"""The simulator's sending side: pre-packetized clips, per-session senders and one pacer.

Cost model (the simulator is the load generator of the ingest benchmarks): each clip is
packetized once per server into RTP payloads; a sender keeps only counters and writes a fresh
12-byte header per packet (one ``struct.pack``) in front of the shared payload. UDP packets go
out with one ``sendmsg`` each (header and payload as two buffers, no copy); TCP-interleaved
frames are joined into one ``write`` per frame. One :class:`Pacer` per server wakes up at the
earliest due frame of all senders and sends everything due within the batch window, so the
event loop sees one callback per batch, not one per packet.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import random
import secrets
import socket
import struct
import time
from collections.abc import Callable
from typing import Protocol

import attrs

from ...rtp.h264 import H264Packetizer
from ...rtp.pcmu import PcmuPacketizer
from ...rtp.rtcp import build_bye, build_sender_report
from .faults import RtspFaults
from .media import AudioClip, VideoClip

__all__ = [
    "Pacer",
    "PacerStats",
    "PacketizedTrack",
    "Sink",
    "TcpSink",
    "TrackSender",
    "UdpSink",
    "packetize_audio",
    "packetize_video",
]

log = logging.getLogger(__name__)

_RTP = struct.Struct("!BBHII")
_TCP_RTP = struct.Struct("!BBHBBHII")  # '$', channel, length, then the RTP header
# A sender more than this far behind skips ahead instead of bursting the backlog out.
_MAX_BACKLOG = 1.0
_LAG_BUCKET = 0.0005
_LAG_BUCKETS = 400


@attrs.frozen(slots=True)
class PacketizedTrack:
    """A clip cut into RTP payloads once, shared by every session that plays it.

    ``units[i]`` holds the packets of frame ``i`` (video) or of one 20 ms packet (audio) as
    ``(second header byte: marker | payload type, payload)`` pairs; ``offsets[i]`` is its RTP
    time within the loop; ``loop_ticks`` the loop length in RTP clock ticks.
    """

    kind: str
    payload_type: int
    clock_rate: int
    units: tuple[tuple[tuple[int, bytes], ...], ...]
    offsets: tuple[int, ...]
    loop_ticks: int

    @property
    def packets_per_loop(self) -> int:
        """RTP packets in one loop of the clip."""
        return sum(len(u) for u in self.units)

    @property
    def bytes_per_loop(self) -> int:
        """RTP payload bytes in one loop of the clip."""
        return sum(len(p) for u in self.units for _, p in u)


def _strip(packets: list[bytes]) -> tuple[tuple[int, bytes], ...]:
    return tuple((p[1], p[12:]) for p in packets)


def packetize_video(clip: VideoClip, *, mtu: int = 1400) -> PacketizedTrack:
    """Packetize every frame of ``clip`` (H.264 as RFC 6184 mode 1, JPEG as RFC 2435)."""
    ticks_per_frame = 90000 / clip.fps
    offsets = tuple(round(i * ticks_per_frame) for i in range(len(clip.frames)))
    units: list[tuple[tuple[int, bytes], ...]] = []
    if clip.codec == "H264":
        h264 = H264Packetizer(payload_type=99, ssrc=0, mtu=mtu, seq=0)
        for frame, ts in zip(clip.frames, offsets, strict=True):
            units.append(_strip(h264.packetize_nals(frame, ts)))
        payload_type = 99
    elif clip.codec == "JPEG":
        from ...rtp.jpeg import JpegPacketizer

        jpeg = JpegPacketizer(payload_type=26, ssrc=0, mtu=mtu)
        for frame, ts in zip(clip.frames, offsets, strict=True):
            units.append(_strip(jpeg.packetize(frame[0], ts)))
        payload_type = 26
    else:
        raise ValueError(f"unsupported video codec {clip.codec}")
    return PacketizedTrack(
        kind="video",
        payload_type=payload_type,
        clock_rate=90000,
        units=tuple(units),
        offsets=offsets,
        loop_ticks=round(len(clip.frames) * ticks_per_frame),
    )


def packetize_audio(clip: AudioClip, *, samples_per_packet: int = 160) -> PacketizedTrack:
    """Packetize ``clip`` into packets of ``samples_per_packet`` µ-law samples (20 ms)."""
    usable = len(clip.data) - len(clip.data) % samples_per_packet
    pcmu = PcmuPacketizer(payload_type=0, ssrc=0, samples_per_packet=samples_per_packet, seq=0)
    packets = pcmu.packetize(clip.data[:usable], 0)
    return PacketizedTrack(
        kind="audio",
        payload_type=0,
        clock_rate=clip.sample_rate,
        units=tuple(((p[1], p[12:]),) for p in packets),
        offsets=tuple(range(0, usable, samples_per_packet)),
        loop_ticks=usable,
    )


@attrs.define
class PacerStats:
    """Counters of one server's sending side (read them, don't write them)."""

    packets: int = 0
    octets: int = 0
    frames: int = 0
    dropped: int = 0
    send_errors: int = 0
    skipped: int = 0
    batches: int = 0
    lag_max: float = 0.0
    lag_histogram: list[int] = attrs.field(factory=lambda: [0] * (_LAG_BUCKETS + 1))

    def lag_percentile(self, q: float) -> float:
        """The ``q`` (0..1) quantile of batch lateness in seconds, at 0.5 ms resolution."""
        total = sum(self.lag_histogram)
        if total == 0:
            return 0.0
        target = q * total
        seen = 0
        for i, count in enumerate(self.lag_histogram):
            seen += count
            if seen >= target:
                return i * _LAG_BUCKET
        return _LAG_BUCKETS * _LAG_BUCKET

    def reset_lag(self) -> None:
        """Forget the lateness record (a benchmark's warm-up)."""
        self.lag_max = 0.0
        self.lag_histogram = [0] * (_LAG_BUCKETS + 1)


class Sink(Protocol):
    """Where one sender's packets go."""

    def send_unit(
        self,
        unit: tuple[tuple[int, bytes], ...],
        seq: int,
        ts: int,
        ssrc: int,
        stats: PacerStats,
    ) -> int:
        """Send one frame's packets with consecutive sequence numbers from ``seq``; return count."""

    def send_packets(self, packets: list[bytes], stats: PacerStats) -> None:
        """Send complete RTP packets (the fault-injection path)."""

    def send_rtcp(self, data: bytes, stats: PacerStats) -> None:
        """Send an RTCP compound packet."""

    @property
    def closed(self) -> bool:
        """True when nothing can be sent any more."""


class UdpSink:
    """Unicast or multicast UDP: RTP and RTCP from the server's shared sockets of the track."""

    __slots__ = ("closed", "rtcp_addr", "rtcp_sock", "rtp_addr", "rtp_sock")

    def __init__(
        self,
        rtp_sock: socket.socket,
        rtcp_sock: socket.socket,
        rtp_addr: tuple[str, int],
        rtcp_addr: tuple[str, int],
    ) -> None:
        self.rtp_sock = rtp_sock
        self.rtcp_sock = rtcp_sock
        self.rtp_addr = rtp_addr
        self.rtcp_addr = rtcp_addr
        self.closed = False

    def send_unit(
        self,
        unit: tuple[tuple[int, bytes], ...],
        seq: int,
        ts: int,
        ssrc: int,
        stats: PacerStats,
    ) -> int:
        """Send one frame: one ``sendmsg`` per packet (header + shared payload)."""
        pack = _RTP.pack
        sendmsg = self.rtp_sock.sendmsg
        addr = self.rtp_addr
        octets = 0
        for b1, payload in unit:
            try:
                sendmsg((pack(0x80, b1, seq, ts, ssrc), payload), (), 0, addr)
            except BlockingIOError:
                stats.dropped += 1
            except OSError:
                stats.send_errors += 1
            seq = (seq + 1) & 0xFFFF
            octets += len(payload)
        stats.packets += len(unit)
        stats.octets += octets
        return len(unit)

    def send_packets(self, packets: list[bytes], stats: PacerStats) -> None:
        """Send complete RTP packets one by one."""
        for packet in packets:
            try:
                self.rtp_sock.sendto(packet, self.rtp_addr)
            except BlockingIOError:
                stats.dropped += 1
            except OSError:
                stats.send_errors += 1
            stats.packets += 1
            stats.octets += len(packet) - 12

    def send_rtcp(self, data: bytes, stats: PacerStats) -> None:
        """Send RTCP to the client's RTCP port."""
        try:
            self.rtcp_sock.sendto(data, self.rtcp_addr)
        except OSError:
            stats.send_errors += 1


class TcpSink:
    """RTP and RTCP ``$``-interleaved on the RTSP connection.

    When the client does not read and the transport's buffer exceeds ``max_buffer`` bytes,
    whole frames are dropped (counted) instead of buffering without limit.
    """

    __slots__ = ("max_buffer", "rtcp_channel", "rtp_channel", "transport")

    def __init__(
        self,
        transport: asyncio.Transport,
        rtp_channel: int,
        rtcp_channel: int,
        *,
        max_buffer: int = 2 * 1024 * 1024,
    ) -> None:
        self.transport = transport
        self.rtp_channel = rtp_channel
        self.rtcp_channel = rtcp_channel
        self.max_buffer = max_buffer

    @property
    def closed(self) -> bool:
        """True once the RTSP connection is closing."""
        return self.transport.is_closing()

    def send_unit(
        self,
        unit: tuple[tuple[int, bytes], ...],
        seq: int,
        ts: int,
        ssrc: int,
        stats: PacerStats,
    ) -> int:
        """Send one frame as one write of all its interleaved packets."""
        transport = self.transport
        if transport.get_write_buffer_size() > self.max_buffer:
            stats.dropped += len(unit)
            return len(unit)
        pack = _TCP_RTP.pack
        channel = self.rtp_channel
        parts: list[bytes] = []
        octets = 0
        for b1, payload in unit:
            parts.append(pack(0x24, channel, len(payload) + 12, 0x80, b1, seq, ts, ssrc))
            parts.append(payload)
            seq = (seq + 1) & 0xFFFF
            octets += len(payload)
        transport.write(b"".join(parts))
        stats.packets += len(unit)
        stats.octets += octets
        return len(unit)

    def send_packets(self, packets: list[bytes], stats: PacerStats) -> None:
        """Send complete RTP packets, interleaved."""
        if self.transport.is_closing():
            return
        parts: list[bytes] = []
        for packet in packets:
            parts.append(struct.pack("!BBH", 0x24, self.rtp_channel, len(packet)))
            parts.append(packet)
            stats.packets += 1
            stats.octets += len(packet) - 12
        self.transport.write(b"".join(parts))

    def send_rtcp(self, data: bytes, stats: PacerStats) -> None:
        """Send RTCP on the odd interleaved channel."""
        if not self.transport.is_closing():
            self.transport.write(struct.pack("!BBH", 0x24, self.rtcp_channel, len(data)) + data)


class TrackSender:
    """Plays one packetized track to one sink with its own SSRC, sequence and time base.

    Frame ``k`` (counting from PLAY, across loops) is due at ``t0 + ticks(k) / clock_rate`` on
    the event loop's clock and carries RTP time ``ts_base + ticks(k)``.
    """

    __slots__ = (
        "_rng",
        "active",
        "cname",
        "faults",
        "generation",
        "k",
        "next_due",
        "next_sr",
        "octets",
        "packets",
        "paused_at",
        "pending",
        "schedule_token",
        "seq",
        "sink",
        "ssrc",
        "t0",
        "track",
        "ts_base",
    )

    sr_interval = 5.0

    def __init__(
        self,
        track: PacketizedTrack,
        sink: Sink,
        *,
        faults: RtspFaults | None = None,
        rng: random.Random | None = None,
        cname: str = "ipcam-sim",
    ) -> None:
        self.track = track
        self.sink = sink
        self.faults = faults
        self._rng = rng or random.Random()
        self.cname = cname
        self.ssrc = secrets.randbits(32)
        self.seq = secrets.randbits(16)
        self.ts_base = secrets.randbits(32)
        self.k = 0
        self.t0 = 0.0
        self.next_due = 0.0
        self.next_sr = 0.0
        self.packets = 0
        self.octets = 0
        self.active = False
        self.schedule_token = -1
        self.pending: set[asyncio.TimerHandle] = set()
        self.paused_at: float | None = None
        self.generation = faults.restart_generation if faults is not None else 0

    def _ticks(self, k: int) -> int:
        track = self.track
        loops, i = divmod(k, len(track.units))
        return loops * track.loop_ticks + track.offsets[i]

    def rtp_time_at(self, now: float) -> int:
        """The RTP timestamp that corresponds to event-loop time ``now``."""
        return (self.ts_base + round((now - self.t0) * self.track.clock_rate)) & 0xFFFFFFFF

    def start(self, now: float) -> None:
        """Begin (or resume after PAUSE) at ``now``; a resume keeps the clock running."""
        if self.paused_at is not None:
            gap = now - self.paused_at
            self.ts_base = (self.ts_base + round(gap * self.track.clock_rate)) & 0xFFFFFFFF
            self.t0 += gap
            self.paused_at = None
        elif not self.active and self.k == 0:
            self.t0 = now
        self.active = True
        self.next_due = self.t0 + self._ticks(self.k) / self.track.clock_rate
        self.next_sr = now

    def pause(self, now: float) -> None:
        """Stop sending; :meth:`start` resumes."""
        if self.active:
            self.active = False
            self.paused_at = now

    def stop(self, stats: PacerStats | None = None) -> None:
        """Stop for good, sending an RTCP BYE when anything was sent."""
        was_active = self.active or self.paused_at is not None
        for handle in self.pending:
            handle.cancel()
        self.pending.clear()
        self.active = False
        self.paused_at = None
        if was_active and self.packets and stats is not None and not self.sink.closed:
            self.sink.send_rtcp(self._report() + build_bye([self.ssrc]), stats)

    def _report(self, now: float | None = None) -> bytes:
        if now is None:
            now = self.t0 if self.paused_at is None else self.paused_at
            with contextlib.suppress(RuntimeError):
                now = asyncio.get_running_loop().time()
        return build_sender_report(
            ssrc=self.ssrc,
            ntp_time=time.time(),
            rtp_timestamp=self.rtp_time_at(now),
            packet_count=self.packets,
            octet_count=self.octets,
            cname=self.cname,
        )

    def restart(self) -> None:
        """New SSRC, sequence base and timestamp base (an encoder restart)."""
        self.ssrc = secrets.randbits(32)
        self.seq = secrets.randbits(16)
        self.ts_base = secrets.randbits(32)
        self.packets = 0
        self.octets = 0
        self.next_sr = 0.0

    def pump(self, now: float, horizon: float, stats: PacerStats) -> None:
        """Send every frame due up to ``horizon``; then send an SR if one is due."""
        sink = self.sink
        if sink.closed:
            self.active = False
            return
        track = self.track
        clock = track.clock_rate
        units = track.units
        offsets = track.offsets
        n = len(units)
        loop_ticks = track.loop_ticks
        faults = self.faults
        if faults is not None and faults.restart_generation != self.generation:
            self.generation = faults.restart_generation
            self.restart()
        stalled = faults is not None and faults.stall
        slow = faults is not None and faults.packet_faults
        if now - self.next_due > _MAX_BACKLOG:
            behind = int((now - self.next_due) * clock / max(1, loop_ticks / n))
            self.k += behind
            stats.skipped += behind
        k = self.k
        t0 = self.t0
        ts_base = self.ts_base
        loops, i = divmod(k, n)
        base_ticks = loops * loop_ticks
        seq = self.seq
        ssrc = self.ssrc
        sent = 0
        octets = 0
        while True:
            ticks = base_ticks + offsets[i]
            due = t0 + ticks / clock
            if due > horizon:
                break
            unit = units[i]
            if not stalled:
                ts = (ts_base + ticks) & 0xFFFFFFFF
                if slow:
                    assert faults is not None
                    self._send_faulty(unit, seq, ts, faults, stats)
                else:
                    sink.send_unit(unit, seq, ts, ssrc, stats)
                seq = (seq + len(unit)) & 0xFFFF
                sent += len(unit)
                for _, payload in unit:
                    octets += len(payload)
                stats.frames += 1
            k += 1
            i += 1
            if i == n:
                i = 0
                base_ticks += loop_ticks
        self.k = k
        self.seq = seq
        self.packets += sent
        self.octets += octets
        self.next_due = t0 + (base_ticks + offsets[i]) / clock
        if now >= self.next_sr and not stalled and self.packets:
            self.next_sr = now + self.sr_interval
            report = self._report(now)
            if faults is not None and faults.delay > 0:
                self._later(faults.delay, report, stats)
            else:
                sink.send_rtcp(report, stats)

    def _send_faulty(
        self,
        unit: tuple[tuple[int, bytes], ...],
        seq: int,
        ts: int,
        faults: RtspFaults,
        stats: PacerStats,
    ) -> None:
        rng = self._rng
        packets: list[bytes] = []
        for n, (b1, payload) in enumerate(unit):
            packet = _RTP.pack(0x80, b1, (seq + n) & 0xFFFF, ts, self.ssrc) + payload
            if faults.loss and rng.random() < faults.loss:
                faults.packets_lost += 1
                continue
            packets.append(packet)
            if faults.duplicate and rng.random() < faults.duplicate:
                faults.packets_duplicated += 1
                packets.append(packet)
        if faults.reorder:
            for j in range(len(packets) - 1):
                if rng.random() < faults.reorder:
                    packets[j], packets[j + 1] = packets[j + 1], packets[j]
                    faults.packets_reordered += 1
        if not packets:
            return
        if faults.delay > 0:
            self._later(faults.delay, packets, stats)
        else:
            self.sink.send_packets(packets, stats)

    def _later(self, delay: float, data: bytes | list[bytes], stats: PacerStats) -> None:
        """Send RTCP (bytes) or RTP packets (list) after ``delay`` seconds.

        The timer handles are kept so :meth:`stop` can cancel what is still pending.
        """
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle | None = None

        def fire() -> None:
            assert handle is not None
            self.pending.discard(handle)
            if self.sink.closed:
                return
            if isinstance(data, bytes):
                self.sink.send_rtcp(data, stats)
            else:
                self.sink.send_packets(data, stats)

        handle = loop.call_later(delay, fire)
        self.pending.add(handle)


class Pacer:
    """Schedules every active :class:`TrackSender` of a server on one timer.

    ``batch`` is the window in seconds: frames due within it are sent in the same wake-up.
    Lateness (how long after its due time a batch ran) is recorded in :attr:`stats`.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, *, batch: float = 0.002) -> None:
        self._loop = loop
        self.batch = batch
        self._heap: list[tuple[float, int, TrackSender]] = []
        self._counter = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self.stats = PacerStats()
        self.on_error: Callable[[TrackSender, BaseException], None] | None = None

    def add(self, sender: TrackSender) -> None:
        """Schedule an active sender at its next due time."""
        token = next(self._counter)
        sender.schedule_token = token
        heapq.heappush(self._heap, (sender.next_due, token, sender))
        self._arm()

    def _arm(self) -> None:
        if not self._heap:
            return
        when = self._heap[0][0]
        if self._timer is not None:
            if self._timer_at <= when:
                return
            self._timer.cancel()
        self._timer_at = when
        self._timer = self._loop.call_at(max(when - self.batch / 2, self._loop.time()), self._run)

    def _run(self) -> None:
        self._timer = None
        now = self._loop.time()
        horizon = now + self.batch
        heap = self._heap
        stats = self.stats
        stats.batches += 1
        first = True
        while heap and heap[0][0] <= horizon:
            due, token, sender = heapq.heappop(heap)
            if not sender.active or sender.schedule_token != token:
                continue
            if first:
                lag = now - due
                if lag > 0:
                    if lag > stats.lag_max:
                        stats.lag_max = lag
                    stats.lag_histogram[min(int(lag / _LAG_BUCKET), _LAG_BUCKETS)] += 1
                else:
                    stats.lag_histogram[0] += 1
                first = False
            try:
                sender.pump(now, horizon, stats)
            except Exception as exc:  # one broken sink must not stop every other stream
                sender.active = False
                log.exception("RTP sender failed; its stream stops")
                if self.on_error is not None:
                    self.on_error(sender, exc)
                continue
            if sender.active:
                token = next(self._counter)
                sender.schedule_token = token
                heapq.heappush(heap, (sender.next_due, token, sender))
        self._arm()

    def close(self) -> None:
        """Cancel the timer and forget every sender."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._heap.clear()

    @property
    def scheduled(self) -> int:
        """Senders currently in the schedule (inactive ones leave at their next due time)."""
        return sum(1 for _, t, s in self._heap if s.active and s.schedule_token == t)
