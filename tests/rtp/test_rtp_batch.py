"""TrackReceiver.feed_rtp_batch gives exactly what feed_rtp gives packet by packet."""

from __future__ import annotations

import random
import struct

import pytest
from rtp_testmedia import h264_access_units

from ipcam_async.rtp import H264Packetizer, PcmuPacketizer, RtpOptions, TrackReceiver


def track(codec: str = "H264", *, reorder: bool, **opts: object) -> TrackReceiver:
    return TrackReceiver(
        track=0,
        codec=codec,
        clock_rate=8000 if codec == "PCMU" else 90000,
        payload_type=0 if codec == "PCMU" else 99,
        reorder=reorder,
        options=RtpOptions(**opts),  # type: ignore[arg-type]
    )


def damaged_stream(seed: int) -> list[bytes]:
    """H.264 packets with loss, swaps, duplicates, junk, a foreign payload type, a padded
    packet, and an encoder restart (new SSRC and sequence) half-way."""
    aus = h264_access_units()
    first = H264Packetizer(payload_type=99, ssrc=0xCAFE, seq=65500, mtu=1400)
    second = H264Packetizer(payload_type=99, ssrc=0xBEEF, seq=7, mtu=1400)
    half = len(aus) // 2
    packets = [p for i, au in enumerate(aus[:half]) for p in first.packetize(au, i * 3000)]
    packets += [
        p for i, au in enumerate(aus[half:]) for p in second.packetize(au, 90000 + i * 3000)
    ]
    rng = random.Random(seed)
    out: list[bytes] = []
    i = 0
    while i < len(packets):
        roll = rng.random()
        if roll < 0.01:
            i += 1  # lost
            continue
        if roll < 0.03 and i + 1 < len(packets):
            out += [packets[i + 1], packets[i]]
            i += 2
            continue
        out.append(packets[i])
        if roll > 0.97:
            out.append(packets[i])  # duplicate
        if 0.90 < roll < 0.91:
            out.append(b"\x00junk")
        if 0.91 < roll < 0.92:
            b0, _, seq, ts, ssrc = struct.unpack_from("!BBHII", packets[i])
            out.append(struct.pack("!BBHII", b0, 13, seq, ts, ssrc) + b"\x00" * 4)
        if 0.92 < roll < 0.93:
            raw = bytearray(packets[i])
            raw[0] |= 0x20  # padding: 3 bytes, the last one giving the count
            out.append(bytes(raw) + b"\x00\x00\x03")
        i += 1
    return out


def summary(rx: TrackReceiver, frames: list[object]) -> object:
    return (
        [
            (f.timestamp, f.ext_timestamp, f.keyframe, f.lost, f.data)  # type: ignore[attr-defined]
            for f in frames
        ],
        rx.stats,
        rx.ssrc,
    )


@pytest.mark.parametrize("reorder", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batches_of_any_size_match_single_packets(reorder: bool, seed: int) -> None:
    packets = damaged_stream(seed)
    rng = random.Random(seed)
    batches: list[list[bytes]] = []
    i = 0
    while i < len(packets):
        size = rng.choice((1, 2, 5, 17, 40))
        batches.append(packets[i : i + size])
        i += size

    single = track(reorder=reorder)
    one: list[object] = []
    for n, group in enumerate(batches):
        for raw in group:  # the packets of one read share its arrival time
            one += single.feed_rtp(raw, 10.0 + n * 0.01)
    one += single.flush()

    batched = track(reorder=reorder)
    many: list[object] = []
    for n, group in enumerate(batches):
        views = [memoryview(p) if rng.random() < 0.5 else p for p in group]
        many += batched.feed_rtp_batch(views, 10.0 + n * 0.01)
    many += batched.flush()

    assert summary(batched, many) == summary(single, one)
    stats = single.stats
    assert stats.lost > 0 and stats.malformed > 0 and stats.duplicated > 0
    assert stats.resyncs + stats.ssrc_changes > 0
    assert stats.frames > 10


def test_batch_of_a_clean_stream_keeps_jitter_and_counters() -> None:
    aus = h264_access_units()
    pk = H264Packetizer(payload_type=99, ssrc=1, seq=65530, mtu=300)
    groups = [pk.packetize(au, i * 3000) for i, au in enumerate(aus)]
    single, batched = track(reorder=False), track(reorder=False)
    a: list[object] = []
    b: list[object] = []
    for i, group in enumerate(groups):
        arrival = i / 30 + (0.004 if i % 3 else 0.0)
        for raw in group:
            a += single.feed_rtp(raw, arrival)
        b += batched.feed_rtp_batch([memoryview(p) for p in group], arrival)
    assert summary(batched, b) == summary(single, a)
    assert len(b) == len(aus)  # marker bits close every access unit
    assert (
        batched.stats.jitter > 0
        and batched.stats.highest_seq == 65530 + sum(len(g) for g in groups) - 1
    )
    assert batched.build_receiver_report(5.0, 7) == single.build_receiver_report(5.0, 7)


def test_pcmu_batches() -> None:
    packets = PcmuPacketizer(ssrc=3, seq=65535).packetize(bytes(range(256)) * 20, 0)
    single, batched = track("PCMU", reorder=True), track("PCMU", reorder=True)
    a = [f for raw in packets for f in single.feed_rtp(raw, 1.0)]
    b = batched.feed_rtp_batch(packets, 1.0)
    assert [(f.timestamp, f.data) for f in b] == [(f.timestamp, f.data) for f in a]
    assert len(b) == len(packets) and batched.stats == single.stats
