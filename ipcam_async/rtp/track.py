"""One media track's receive path: parse → reorder → depacketize, plus RTCP and statistics."""

from __future__ import annotations

import logging
import struct
from collections.abc import Mapping, Sequence

import attrs

from ..errors import InvalidArgument, ProtocolError
from .clock import MediaClock
from .depacketizer import Depacketizer
from .frames import AudioFrame, VideoFrame
from .h264 import H264Depacketizer, H264Parameters, parse_sprop_parameter_sets
from .jpeg import JpegDepacketizer
from .options import RtpOptions
from .packet import RtpPacket
from .pcmu import PcmuDepacketizer
from .reorder import RESYNC, ReorderBuffer
from .rtcp import Bye, ReportBlock, SenderReport, build_receiver_report, parse_rtcp

__all__ = ["SUPPORTED_CODECS", "TrackReceiver", "TrackStats"]

log = logging.getLogger(__name__)

#: Codec names (SDP ``rtpmap`` encoding names, upper case) a :class:`TrackReceiver` accepts.
SUPPORTED_CODECS = ("H264", "JPEG", "PCMU")

Frame = VideoFrame | AudioFrame
_HEADER = struct.Struct("!BBHII")
# An RTSP interleaved frame header ('$', channel, length) followed by the RTP header.
_INTERLEAVED_HEADER = struct.Struct("!BBHBBHII")
# _SAME_TRANSIT: packets of one read share its arrival time, so a packet with the timestamp of
# the one before has the same transit time: the RFC 3550 update with d = 0 is jitter -= jitter/16,
# which is exactly jitter * 0.9375 in floating point (15/16 rounded once either way).


@attrs.frozen(slots=True)
class TrackStats:
    """A snapshot of one track's counters.

    Packet level: ``packets`` / ``bytes`` (payload bytes) of RTP packets handed to the
    depacketizer, ``received`` (valid packets of the source, duplicates and late ones
    included, as RFC 3550 counts them), ``lost``,
    ``duplicated``, ``reordered`` (put back in order), ``late`` (arrived after being given
    up), ``discarded`` (failed probation), ``malformed`` (unparseable RTP),
    ``wrong_payload_type``, ``resyncs`` (sequence or SSRC restarts), ``ssrc_changes``,
    ``jitter`` (seconds, RFC 3550 A.8). Frame level: ``frames`` handed out,
    ``dropped_frames`` (broken or incomplete, plus those skipped while waiting for a
    keyframe), ``unsupported_packets`` (STAP-B, MTAP, FU-B, unknown JPEG types...),
    ``oversize_frames``. RTCP: ``sender_reports``, ``rtcp_errors``, ``byes``.
    """

    packets: int = 0
    bytes: int = 0
    received: int = 0
    lost: int = 0
    duplicated: int = 0
    reordered: int = 0
    late: int = 0
    discarded: int = 0
    malformed: int = 0
    wrong_payload_type: int = 0
    resyncs: int = 0
    ssrc_changes: int = 0
    jitter: float = 0.0
    frames: int = 0
    dropped_frames: int = 0
    unsupported_packets: int = 0
    malformed_payloads: int = 0
    oversize_frames: int = 0
    waiting_keyframe_drops: int = 0
    sender_reports: int = 0
    rtcp_errors: int = 0
    byes: int = 0
    ssrc: int | None = None
    highest_seq: int = 0


class TrackReceiver:
    """The receive path of one media track; the RTSP layer feeds it bytes.

    ``codec`` is the SDP encoding name (``H264``, ``JPEG``, ``PCMU``); ``fmtp`` the parsed
    ``a=fmtp`` parameters (``sprop-parameter-sets`` is used; any ``packetization-mode`` is
    tolerated). ``reorder=True`` for UDP (reorder window), ``False`` for TCP interleaved
    (pass-through). ``arrival`` / ``now`` arguments are seconds from one monotonic clock of
    the caller's choosing; nothing here reads a clock.
    """

    __slots__ = (
        "_byes",
        "_carry_loss",
        "_dep",
        "_malformed",
        "_reorder",
        "_rtcp_errors",
        "_sender_reports",
        "_sr_arrival",
        "_sr_lsr",
        "_sr_ssrc",
        "_wrong_pt",
        "bytes",
        "clock",
        "clock_rate",
        "codec",
        "options",
        "packets",
        "payload_type",
        "track",
    )

    def __init__(
        self,
        *,
        track: int,
        codec: str,
        clock_rate: int,
        payload_type: int,
        fmtp: Mapping[str, str] | None = None,
        reorder: bool = False,
        options: RtpOptions | None = None,
    ) -> None:
        opts = options if options is not None else RtpOptions()
        name = codec.upper()
        if name not in SUPPORTED_CODECS:
            raise InvalidArgument("codec", ", ".join(SUPPORTED_CODECS), codec)
        if clock_rate <= 0:
            raise InvalidArgument("clock_rate", "a positive number", clock_rate)
        self.track = track
        self.codec = name
        self.clock_rate = clock_rate
        self.payload_type = payload_type
        self.options = opts
        self.clock = MediaClock(clock_rate)
        self._reorder = ReorderBuffer(
            clock_rate=clock_rate,
            reorder=reorder,
            window=opts.reorder_window,
            delay=opts.reorder_delay,
            max_dropout=opts.max_dropout,
            max_misorder=opts.max_misorder,
            min_sequential=opts.min_sequential,
        )
        self._dep: Depacketizer
        if name == "H264":
            sprop: list[bytes] = []
            fmtp_ci = {k.lower(): v for k, v in (fmtp or {}).items()}
            text = fmtp_ci.get("sprop-parameter-sets")
            if text:
                try:
                    sprop = parse_sprop_parameter_sets(text)
                except ProtocolError as exc:
                    log.warning("track %d: ignoring bad sprop-parameter-sets (%s)", track, exc)
            self._dep = H264Depacketizer(
                clock=self.clock,
                track=track,
                sprop=sprop,
                output=opts.output,
                writev=opts.writev,
                drop_until_keyframe=opts.drop_until_keyframe,
                max_frame_size=opts.max_frame_size,
            )
        elif name == "JPEG":
            self._dep = JpegDepacketizer(
                clock=self.clock,
                track=track,
                writev=opts.writev,
                max_frame_size=opts.max_frame_size,
            )
        else:
            self._dep = PcmuDepacketizer(
                clock=self.clock, track=track, sample_rate=clock_rate, writev=opts.writev
            )
        self.packets = 0
        self.bytes = 0
        self._malformed = 0
        self._wrong_pt = 0
        self._carry_loss = False
        self._sender_reports = 0
        self._rtcp_errors = 0
        self._byes = 0
        self._sr_lsr = 0
        self._sr_arrival: float | None = None
        self._sr_ssrc: int | None = None

    # -- RTP --------------------------------------------------------------------------

    def feed_rtp(self, data: memoryview | bytes | bytearray, arrival: float) -> list[Frame]:
        """Feed one RTP packet; return the frames it completed (often none).

        A malformed packet is counted and dropped, or raises :class:`ProtocolError` with
        ``options.strict``. Frames keep views into ``data`` only in ``writev`` mode.
        """
        view = data if type(data) is memoryview else memoryview(data)
        if len(view) > 12:
            # hot path: a plain header (version 2, no padding, extension or CSRC) carrying the
            # next expected packet of the current source; equivalent to the general path below
            b0, b1, seq, ts, ssrc = _HEADER.unpack_from(view)
            if (
                b0 == 0x80
                and b1 & 0x7F == self.payload_type
                and not self._carry_loss
                and self._reorder.accept_in_order(ssrc, seq, ts, arrival)
            ):
                self.packets += 1
                self.bytes += len(view) - 12
                out: list[Frame] = []
                self._dep.push_payload(view, 12, ts, b1 > 127, False, out)
                return out
        try:
            pkt = RtpPacket.parse(view)
        except ProtocolError:
            if self.options.strict:
                raise
            self._malformed += 1
            return []
        out = []
        gap = self._reorder.push(pkt, arrival)
        if self._sr_ssrc is not None and self._sr_ssrc != self._reorder.ssrc:
            # a Sender Report taken before the first packet came from another source
            self._forget_sender_report()
        if gap >= 0:
            self._deliver(pkt, gap, out)
        elif self._reorder.ready:
            self._drain(out)
        return out

    def feed_rtp_batch(
        self, packets: Sequence[memoryview | bytes | bytearray], arrival: float
    ) -> list[Frame]:
        """Feed packets that arrived together (one socket read); same as :meth:`feed_rtp`
        on each in turn, with the frames of all of them returned in order.

        One call per read instead of one per packet: the common case (a plain header carrying
        the next packet of the current source, nothing held for reordering) runs in one loop
        with the sequence and jitter state in local variables; anything else goes through
        :meth:`feed_rtp`.
        """
        out: list[Frame] = []
        r = self._reorder
        push = self._dep.push_payload
        h264 = self._dep if type(self._dep) is H264Depacketizer else None
        unpack = _HEADER.unpack_from
        pt = self.payload_type
        scaled_arrival = arrival * r._rate
        total = len(packets)
        count = octets = 0
        i = 0
        try:
            while i < total:
                ssrc0 = r._ssrc
                if ssrc0 is None or r._held or r._probe or self._carry_loss:
                    out += self.feed_rtp(packets[i], arrival)
                    i += 1
                    continue
                # Same arithmetic as ReorderBuffer.accept_in_order, state kept in locals and
                # written back below (also when the depacketizer raises in strict mode).
                nxt = first = r._next
                last = r._transit
                last_ts = -1  # the first packet of the read always computes its transit
                jitter = r._jitter
                try:
                    while i < total:
                        data = packets[i]
                        view = data if type(data) is memoryview else memoryview(data)
                        size = len(view)
                        if size <= 12:
                            break
                        b0, b1, seq, ts, ssrc = unpack(view)
                        if b0 != 0x80 or b1 & 0x7F != pt or ssrc != ssrc0 or seq != nxt & 0xFFFF:
                            break
                        if ts != last_ts:
                            transit = scaled_arrival - ts
                            if last is not None:
                                d = transit - last
                                if d < 0:
                                    d = -d
                                if d > 2147483648.0:
                                    d = 4294967296.0 - d
                                jitter += (d - jitter) * 0.0625
                            last = transit
                            last_ts = ts
                        else:
                            jitter *= 0.9375  # see _SAME_TRANSIT
                        nxt += 1
                        i += 1
                        count += 1
                        octets += size - 12
                        if (
                            h264 is not None
                            and b1 < 128
                            and size > 14
                            and h264._fu_open
                            and ts == h264._ts
                            and view[12] & 0x1F == 28
                            and not view[13] & 0xC0
                        ):
                            # The middle of a fragmented NAL unit, most packets of a video
                            # stream: what push_payload does for it, without the call.
                            grown = h264._size + size - 12
                            if grown <= h264.max_frame_size:
                                h264._size = grown
                                h264._parts.append(view[14:])
                                continue
                        push(view, 12, ts, b1 > 127, False, out)
                finally:
                    if nxt != first:
                        r.received += nxt - first
                        r._next = nxt
                        r._transit = last
                        r._jitter = jitter
                        if nxt - 1 > r._max_seen:
                            r._max_seen = nxt - 1
                if i < total:
                    out += self.feed_rtp(packets[i], arrival)
                    i += 1
        finally:
            self.packets += count
            self.bytes += octets
        return out

    def feed_interleaved(
        self,
        buf: bytes | bytearray,
        view: memoryview,
        pos: int,
        end: int,
        channel: int,
        arrival: float,
        out: list[Frame],
    ) -> tuple[int, int, int]:
        """Consume the run of RTSP interleaved frames on ``channel`` that starts at ``buf[pos]``.

        For TCP interleaved media: the frames are read straight from the connection's buffer
        (``view`` is ``memoryview(buf)``, ``end`` the end of the received bytes) in one loop,
        without first splitting them into a list. The run stops before the first unit that is
        incomplete, on another channel, not an interleaved frame, or not the next packet of the
        current source in its plain form; the caller handles that unit its usual way (e.g.
        :meth:`feed_rtp_batch`). Nothing is consumed while the receiver is not in its steady
        state (no source yet, packets held, probation, a loss to carry).

        Completed frames are appended to ``out``. Returns ``(position after the run, frames
        consumed, their payload bytes)``. Results are those of :meth:`feed_rtp` on each packet.
        """
        r = self._reorder
        ssrc0 = r._ssrc
        if ssrc0 is None or r._held or r._probe or self._carry_loss:
            return pos, 0, 0
        unpack = _INTERLEAVED_HEADER.unpack_from
        push = self._dep.push_payload
        h264 = self._dep if type(self._dep) is H264Depacketizer else None
        pt = self.payload_type
        scaled_arrival = arrival * r._rate
        nxt = first = r._next
        last = r._transit
        last_ts = -1  # the first packet of the read always computes its transit
        jitter = r._jitter
        start = pos
        units = octets = 0
        try:
            while end - pos >= 16:
                dollar, ch, length, b0, b1, seq, ts, ssrc = unpack(buf, pos)
                stop = pos + 4 + length
                if (
                    dollar != 0x24
                    or ch != channel
                    or stop > end
                    or length <= 12
                    or b1 & 0x7F != pt
                    or ssrc != ssrc0
                    or seq != nxt & 0xFFFF
                ):
                    break
                if b0 == 0x80:
                    header = 12
                elif b0 == 0x90 and length > 16:
                    # A header extension (many cameras add one to every packet): skip it.
                    header = 16 + 4 * ((buf[pos + 18] << 8) | buf[pos + 19])
                    if header >= length:
                        break
                else:
                    break
                if ts != last_ts:
                    transit = scaled_arrival - ts
                    if last is not None:
                        d = transit - last
                        if d < 0:
                            d = -d
                        if d > 2147483648.0:
                            d = 4294967296.0 - d
                        jitter += (d - jitter) * 0.0625
                    last = transit
                    last_ts = ts
                else:
                    jitter *= 0.9375  # see _SAME_TRANSIT
                nxt += 1
                units += 1
                size = length - header
                octets += size
                payload = pos + 4 + header
                if (
                    h264 is not None
                    and b1 < 128
                    and size > 2
                    and h264._fu_open
                    and ts == h264._ts
                    and buf[payload] & 0x1F == 28
                    and not buf[payload + 1] & 0xC0
                ):
                    # The middle of a fragmented NAL unit (see feed_rtp_batch).
                    grown = h264._size + size
                    if grown <= h264.max_frame_size:
                        h264._size = grown
                        h264._parts.append(view[payload + 2 : stop])
                        pos = stop
                        continue
                push(view[pos + 4 : stop], header, ts, b1 > 127, False, out)
                pos = stop
        finally:
            if nxt != first:
                r.received += nxt - first
                r._next = nxt
                r._transit = last
                r._jitter = jitter
                if nxt - 1 > r._max_seen:
                    r._max_seen = nxt - 1
            self.packets += units
            self.bytes += octets
        return pos, units, pos - start - 4 * units

    def _deliver(self, pkt: RtpPacket, gap: int, out: list[Frame]) -> None:
        if gap == RESYNC:
            self._dep.reset()
            self.clock.restart(pkt.timestamp)
            self._forget_sender_report()
            gap = 0  # the new source starts clean; reset() flags the next frame as lost
        if pkt.payload_type != self.payload_type:
            # another payload type on this source (comfort noise, FEC...): not ours
            self._wrong_pt += 1
            if gap:
                self._carry_loss = True
            return
        lost = gap > 0 or self._carry_loss
        self._carry_loss = False
        self.packets += 1
        self.bytes += len(pkt.payload)
        self._dep.push(pkt, lost, out)

    def _forget_sender_report(self) -> None:
        self.clock.forget_sender_report()
        self._sr_arrival = None
        self._sr_ssrc = None

    def _drain(self, out: list[Frame]) -> None:
        for pkt, gap in self._reorder.take():
            self._deliver(pkt, gap, out)

    def tick(self, now: float) -> list[Frame]:
        """Release packets the reorder window held longer than ``reorder_delay``."""
        self._reorder.tick(now)
        out: list[Frame] = []
        if self._reorder.ready:
            self._drain(out)
        return out

    def flush(self) -> list[Frame]:
        """End of stream: release held packets and any access unit still open."""
        self._reorder.flush()
        out: list[Frame] = []
        self._drain(out)
        self._dep.flush(out)
        return out

    def seed(self, seq: int | None, rtptime: int | None) -> None:
        """Starting sequence number and RTP time from the RTSP ``RTP-Info`` header."""
        if seq is not None:
            self._reorder.seed(seq)
        if rtptime is not None:
            self.clock.seed(rtptime)

    def reset(self) -> None:
        """A new session (reconnect): forget the source and partial frames; keep counters."""
        self._reorder.reset()
        self._dep.reset()
        self.clock.reset()
        self._carry_loss = False
        self._forget_sender_report()

    # -- RTCP -------------------------------------------------------------------------

    def feed_rtcp(self, data: memoryview | bytes | bytearray, arrival: float) -> None:
        """Feed one (compound) RTCP packet: Sender Reports give the wall-clock mapping."""
        try:
            packets = parse_rtcp(data)
        except ProtocolError:
            if self.options.strict:
                raise
            self._rtcp_errors += 1
            return
        current = self._reorder.ssrc
        for packet in packets:
            if isinstance(packet, SenderReport):
                if current is not None and packet.ssrc != current:
                    continue
                self._sender_reports += 1
                self.clock.on_sender_report(packet.ntp_time, packet.rtp_timestamp)
                self._sr_lsr = packet.lsr
                self._sr_arrival = arrival
                self._sr_ssrc = packet.ssrc
            elif isinstance(packet, Bye) and (current is None or current in packet.ssrcs):
                self._byes += 1

    def report_block(self, now: float) -> ReportBlock | None:
        """The reception report block for the current source (None before any packet)."""
        ssrc = self._reorder.ssrc
        if ssrc is None:
            return None
        fraction, cumulative, highest, jitter = self._reorder.report_numbers()
        lsr = dlsr = 0
        if self._sr_arrival is not None:
            lsr = self._sr_lsr
            dlsr = max(0, int((now - self._sr_arrival) * 65536))
        return ReportBlock(
            ssrc=ssrc,
            fraction_lost=fraction,
            cumulative_lost=cumulative,
            highest_seq=highest,
            jitter=jitter,
            lsr=lsr,
            dlsr=dlsr,
        )

    def build_receiver_report(
        self, now: float, receiver_ssrc: int, *, cname: str | None = None
    ) -> bytes:
        """Compound RR + SDES CNAME for this track (``cname`` defaults to one from the SSRC)."""
        block = self.report_block(now)
        return build_receiver_report(
            ssrc=receiver_ssrc,
            reports=() if block is None else (block,),
            cname=cname if cname is not None else f"ipcam_async-{receiver_ssrc:08x}",
        )

    # -- state ------------------------------------------------------------------------

    @property
    def ssrc(self) -> int | None:
        """SSRC of the source being received."""
        return self._reorder.ssrc

    @property
    def parameters(self) -> H264Parameters | None:
        """Current H.264 SPS/PPS and picture size (None for other codecs or when unknown)."""
        if isinstance(self._dep, H264Depacketizer):
            return self._dep.parameters
        return None

    @property
    def buffered(self) -> tuple[int, int]:
        """(packets held by the reorder window, payload bytes held for the current frame)."""
        return self._reorder.held, self._dep.buffered

    @property
    def bye_received(self) -> bool:
        """True once the source said BYE."""
        return self._byes > 0

    @property
    def stats(self) -> TrackStats:
        """A snapshot of the counters."""
        r = self._reorder
        d = self._dep.stats
        return TrackStats(
            packets=self.packets,
            bytes=self.bytes,
            received=r.received,
            lost=r.lost,
            duplicated=r.duplicated,
            reordered=r.reordered,
            late=r.late,
            discarded=r.discarded,
            malformed=self._malformed,
            wrong_payload_type=self._wrong_pt,
            resyncs=r.resyncs,
            ssrc_changes=r.ssrc_changes,
            jitter=r.jitter / self.clock_rate,
            frames=d.frames,
            dropped_frames=d.dropped_frames,
            unsupported_packets=d.unsupported_packets,
            malformed_payloads=d.malformed_packets,
            oversize_frames=d.oversize_frames,
            waiting_keyframe_drops=d.waiting_keyframe_drops,
            sender_reports=self._sender_reports,
            rtcp_errors=self._rtcp_errors,
            byes=self._byes,
            ssrc=r.ssrc,
            highest_seq=r.highest_seq,
        )
