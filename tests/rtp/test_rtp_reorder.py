"""Sequence tracking: wrap-around, reorder window, loss / duplicate / late counters, jitter."""

from __future__ import annotations

import itertools

import pytest

from ipcam_async.rtp.packet import RtpPacket, build_rtp_header
from ipcam_async.rtp.reorder import RESYNC, ReorderBuffer


def pkt(seq: int, ts: int = 0, ssrc: int = 0x1111) -> RtpPacket:
    return RtpPacket.parse(
        build_rtp_header(payload_type=96, sequence=seq & 0xFFFF, timestamp=ts, ssrc=ssrc)
    )


def feed(
    buf: ReorderBuffer, seqs: list[int], *, arrival: float = 0.0, ssrc: int = 0x1111
) -> list[tuple[int, int]]:
    """Push packets; return (seq, gap) of everything delivered, in delivery order."""
    delivered: list[tuple[int, int]] = []
    for s in seqs:
        p = pkt(s, ssrc=ssrc)
        gap = buf.push(p, arrival)
        if gap >= 0:
            delivered.append((p.sequence, gap))
        delivered.extend((q.sequence, g) for q, g in buf.take())
    return delivered


def counters(buf: ReorderBuffer) -> dict[str, int]:
    names = ("received", "lost", "duplicated", "reordered", "late", "discarded", "resyncs")
    return {n: getattr(buf, n) for n in names}


def zero(**kw: int) -> dict[str, int]:
    base = dict.fromkeys(
        ("received", "lost", "duplicated", "reordered", "late", "discarded", "resyncs"), 0
    )
    base.update(kw)
    return base


@pytest.mark.parametrize("reorder", [False, True])
def test_in_order_across_wrap_from_65500(reorder: bool) -> None:
    buf = ReorderBuffer(clock_rate=90000, reorder=reorder)
    seqs = list(range(65500, 65600))
    out = feed(buf, seqs)
    assert out == [(s & 0xFFFF, 0) for s in seqs]
    assert counters(buf) == zero(received=100)
    assert buf.highest_seq == 65599  # extended: one cycle
    assert buf.report_numbers()[:3] == (0, 0, 65599)


def test_pass_through_loss_across_wrap() -> None:
    buf = ReorderBuffer(clock_rate=90000, reorder=False)
    seqs = [65530, 65531, 65532, 65533, 1, 2, 3]  # 65534, 65535, 0 lost
    assert feed(buf, seqs) == [
        (65530, 0),
        (65531, 0),
        (65532, 0),
        (65533, 0),
        (1, 3),
        (2, 0),
        (3, 0),
    ]
    assert counters(buf) == zero(received=7, lost=3)
    fraction, cumulative, highest, _ = buf.report_numbers()
    assert (cumulative, highest) == (3, 65536 + 3)
    assert fraction == (3 << 8) // 10


def test_pass_through_reorder_and_duplicates() -> None:
    buf = ReorderBuffer(clock_rate=90000, reorder=False)
    out = feed(buf, [65500, 65501, 65503, 65502, 65504, 65504, 65501])
    assert out == [(65500, 0), (65501, 0), (65503, 1), (65504, 0)]
    assert counters(buf) == zero(received=7, lost=1, late=1, duplicated=2)
    # RFC 3550 counts late and duplicate packets as received: cumulative lost can go negative
    assert buf.report_numbers()[1] == 5 - 7


def test_window_puts_packets_back_in_order_across_wrap() -> None:
    buf = ReorderBuffer(clock_rate=90000, reorder=True, window=8)
    arrivals = [65530, 65531, 65533, 65532, 65534, 65535, 1, 0, 2, 4, 3]
    out = feed(buf, arrivals)
    assert out == [(s & 0xFFFF, 0) for s in range(65530, 65536 + 5)]
    assert counters(buf) == zero(received=11, reordered=3)
    assert buf.held == 0


def test_window_by_packet_count_gives_up_on_a_hole() -> None:
    buf = ReorderBuffer(clock_rate=90000, reorder=True, window=4, delay=10.0)
    out = feed(buf, [100, 101, 103, 104, 105, 106])
    assert out == [(100, 0), (101, 0)]
    assert buf.held == 4
    out = feed(buf, [107])  # five held: the hole at 102 is given up
    assert out == [(103, 1), (104, 0), (105, 0), (106, 0), (107, 0)]
    out = feed(buf, [102, 108, 108])
    assert out == [(108, 0)]
    assert counters(buf) == zero(received=10, lost=1, late=1, duplicated=1)


def test_window_by_time() -> None:
    buf = ReorderBuffer(clock_rate=90000, reorder=True, window=64, delay=0.05)
    assert feed(buf, [10, 12, 13], arrival=1.0) == [(10, 0)]
    buf.tick(1.049)
    assert buf.take() == []
    buf.tick(1.05)
    assert [(p.sequence, g) for p, g in buf.take()] == [(12, 1), (13, 0)]
    # a push far later releases too, without tick
    assert feed(buf, [15], arrival=2.0) == []
    assert feed(buf, [16], arrival=2.2) == [(15, 1), (16, 0)]
    assert counters(buf) == zero(received=5, lost=2)


def test_flush_releases_everything() -> None:
    buf = ReorderBuffer(clock_rate=90000, reorder=True)
    feed(buf, [1, 3, 6])
    buf.flush()
    assert [(p.sequence, g) for p, g in buf.take()] == [(3, 1), (6, 2)]
    assert buf.lost == 3


@pytest.mark.parametrize("reorder", [False, True])
def test_sequence_restart_needs_two_packets(reorder: bool) -> None:
    buf = ReorderBuffer(clock_rate=90000, reorder=reorder)
    feed(buf, [1000, 1001, 1002])
    # a single wild packet (corrupt, or another session's) is not believed
    assert feed(buf, [40000, 1003, 1004]) == [(1003, 0), (1004, 0)]
    # an encoder restart: the new numbering is confirmed by its second packet
    assert feed(buf, [7]) == []
    assert feed(buf, [8, 9]) == [(7, RESYNC), (8, 0), (9, 0)]
    assert counters(buf) == zero(received=8, discarded=1, resyncs=1)
    assert buf.highest_seq == 9


def test_restart_backwards_and_held_packets_flushed_first() -> None:
    buf = ReorderBuffer(clock_rate=90000, reorder=True)
    feed(buf, [5000, 5001, 5003])
    out = feed(buf, [10, 11])
    assert out == [(5003, 1), (10, RESYNC), (11, 0)]
    assert counters(buf) == zero(received=5, lost=1, resyncs=1)


def test_ssrc_change_is_a_new_source_after_probation() -> None:
    buf = ReorderBuffer(clock_rate=90000, reorder=False)
    feed(buf, [100, 101])
    assert feed(buf, [500], ssrc=0x2222) == []
    assert feed(buf, [102]) == [(102, 0)]  # old source still talking: probe abandoned
    assert feed(buf, [501, 502], ssrc=0x2222) == [(501, RESYNC), (502, 0)]
    assert buf.ssrc == 0x2222
    assert buf.ssrc_changes == 1 and buf.resyncs == 1 and buf.discarded == 1
    # late packets of the old source are not believed either
    assert feed(buf, [103]) == []
    assert feed(buf, [503], ssrc=0x2222) == [(503, 0)]
    assert buf.discarded == 2


def test_seed_from_rtp_info() -> None:
    buf = ReorderBuffer(clock_rate=90000, reorder=False)
    buf.seed(65535)
    assert feed(buf, [65533, 1, 2]) == [(1, 2), (2, 0)]
    assert counters(buf) == zero(received=3, late=1, lost=2)
    assert buf.report_numbers()[1:3] == (2, 65536 + 2)


def test_jitter_follows_rfc3550_a8() -> None:
    buf = ReorderBuffer(clock_rate=8000, reorder=False)
    arrivals = [0.0, 0.02, 0.04, 0.07, 0.08, 0.10]  # the fourth packet is 10 ms late
    for i, t in enumerate(arrivals):
        buf.push(pkt(i, ts=160 * i), t)
    expected = 0.0
    transits = [t * 8000 - 160 * i for i, t in enumerate(arrivals)]
    for prev, cur in itertools.pairwise(transits):
        expected += (abs(cur - prev) - expected) / 16
    assert buf.jitter == pytest.approx(expected)
    assert buf.jitter == pytest.approx((80 / 16) * (1 + 15 / 16) * 15 / 16)
