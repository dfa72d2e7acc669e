"""The in-place path for TCP interleaved media gives exactly what the per-packet path gives."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable

import pytest
from rtsp_media import h264_access_units, video_packets

from ipcam_async.rtp import TrackReceiver
from ipcam_async.rtp.frames import Frame
from ipcam_async.rtsp.message import RtspReader, RunResult, encode_interleaved

RESPONSE = b"RTSP/1.0 200 OK\r\nCSeq: 9\r\nContent-Length: 2\r\n\r\nok"
SENDER_REPORT = struct.pack("!BBHIIIIII", 0x80, 200, 6, 0x11223344, 1, 2, 3, 4, 5)


def receiver() -> TrackReceiver:
    return TrackReceiver(track=0, codec="H264", clock_rate=90000, payload_type=99)


def damaged(seed: int) -> list[bytes]:
    """Packets with loss, duplicates, a stray payload type, header extensions, a restart."""
    units = h264_access_units(30, 10, 640, 368)
    packets = video_packets(units[:15], mtu=200) + video_packets(
        units[15:], ssrc=0xBEEF, seq=65500, mtu=200
    )
    rng = random.Random(seed)
    out: list[bytes] = []
    for raw in packets:
        roll = rng.random()
        if roll < 0.02:
            continue  # lost
        if roll < 0.04:
            out.append(raw)  # duplicated below
        if 0.50 < roll < 0.52:
            b0, _, seq, ts, ssrc = struct.unpack_from("!BBHII", raw)
            out.append(struct.pack("!BBHII", b0, 13, seq, ts, ssrc) + b"xx")
        if 0.60 < roll < 0.64:
            # the same packet with a one-word header extension (X bit)
            ext = struct.pack("!HH", 0xABAC, 1) + b"\x00" * 4
            raw = bytes([raw[0] | 0x10]) + raw[1:12] + ext + raw[12:]
        out.append(raw)
    return out


def stream_bytes(packets: list[bytes], seed: int) -> bytes:
    """The packets on channel 0 mixed with RTCP, a response, unknown channels and a tiny frame."""
    rng = random.Random(seed)
    parts: list[bytes] = []
    for raw in packets:
        roll = rng.random()
        if roll < 0.03:
            parts.append(encode_interleaved(1, SENDER_REPORT))
        elif roll < 0.04:
            parts.append(RESPONSE)
        elif roll < 0.05:
            parts.append(encode_interleaved(6, b"not ours"))
        elif roll < 0.055:
            parts.append(encode_interleaved(0, b"\x80"))
        parts.append(encode_interleaved(0, raw))
    return b"".join(parts)


def feed_in_chunks(
    data: bytes,
    seed: int,
    wire: Callable[[RtspReader, list[float]], None],
) -> tuple[RtspReader, int]:
    """Feed ``data`` in random chunks to a reader wired by ``wire``; each chunk has its arrival."""
    rng = random.Random(seed)
    arrival = [0.0]
    reader = RtspReader(channels={0, 1})
    wire(reader, arrival)
    buf = bytearray(len(data))
    view = memoryview(buf)
    start = end = responses = 0
    while end < len(data):
        step = rng.choice((1, 7, 300, 1500, 4000, 20000))
        arrival[0] += rng.choice((0.001, 0.033, 0.1))
        buf[end : end + step] = data[end : end + step]
        end = min(len(data), end + step)
        events, start = reader.scan(buf, start, end, view)
        responses += len(events)
    assert start == end
    return reader, responses


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_in_place_runs_match_the_per_packet_path(seed: int) -> None:
    data = stream_bytes(damaged(seed), seed)

    reference = receiver()
    ref_frames: list[Frame] = []

    def per_packet(reader: RtspReader, arrival: list[float]) -> None:
        def on_frames(channel: int, packets: list[memoryview]) -> None:
            for packet in packets:
                if channel == 0:
                    ref_frames.extend(reference.feed_rtp(bytes(packet), arrival[0]))
                else:
                    reference.feed_rtcp(bytes(packet), arrival[0])

        reader.on_frames = on_frames

    in_place = receiver()
    frames: list[Frame] = []
    runs_taken = [0]
    batched = [0]

    def runs(reader: RtspReader, arrival: list[float]) -> None:
        def on_frames(channel: int, packets: list[memoryview]) -> None:
            if channel == 0:
                batched[0] += len(packets)
                frames.extend(in_place.feed_rtp_batch(packets, arrival[0]))
            else:
                for packet in packets:
                    in_place.feed_rtcp(packet, arrival[0])

        def run(buf: bytes | bytearray, view: memoryview, pos: int, end: int) -> RunResult:
            result = in_place.feed_interleaved(buf, view, pos, end, 0, arrival[0], frames)
            runs_taken[0] += result[1]
            return result

        reader.on_frames = on_frames
        reader.runs = [None] * 256
        reader.runs[0] = run

    ref_reader, ref_events = feed_in_chunks(data, seed, per_packet)
    reader, events = feed_in_chunks(data, seed, runs)
    ref_frames += reference.flush()
    frames += in_place.flush()

    def summary(items: list[Frame]) -> list[object]:
        return [(f.timestamp, f.keyframe, f.lost, bytes(f.data)) for f in items]

    assert summary(frames) == summary(ref_frames)
    assert in_place.stats == reference.stats
    assert reader.stats == ref_reader.stats and events == ref_events
    # Both paths were exercised: most packets in place, the damaged ones the batched way.
    assert runs_taken[0] > len(damaged(seed)) // 4 and batched[0] > 10
    stats = reference.stats
    assert stats.lost > 0 and stats.ssrc_changes + stats.resyncs > 0 and stats.frames > 15


def test_in_place_run_stops_at_an_incomplete_frame_and_resumes() -> None:
    packets = video_packets(h264_access_units()[:5], mtu=200)
    data = b"".join(encode_interleaved(0, p) for p in packets)
    rx, ref = receiver(), receiver()
    expected = [f for p in packets for f in ref.feed_rtp(p, 1.0)]
    rx.feed_rtp(packets[0], 1.0)  # the source is known from here on
    got: list[Frame] = []
    buf = bytearray(data)
    first = len(encode_interleaved(0, packets[0]))
    cut = first + (len(data) - first) // 2 + 3  # inside some frame
    pos, units, nbytes = rx.feed_interleaved(buf, memoryview(buf), first, cut, 0, 1.0, got)
    assert first < pos < cut and units > 0 and nbytes == pos - first - 4 * units
    pos, more, _ = rx.feed_interleaved(buf, memoryview(buf), pos, len(data), 0, 1.0, got)
    assert pos == len(data) and units + more == len(packets) - 1
    got += rx.flush()
    expected += ref.flush()
    assert [bytes(f.data) for f in got] == [bytes(f.data) for f in expected]
    assert rx.stats == ref.stats


def test_in_place_run_declines_before_the_source_is_known() -> None:
    packets = video_packets(h264_access_units()[:2], mtu=200)
    buf = bytearray(b"".join(encode_interleaved(0, p) for p in packets))
    out: list[Frame] = []
    assert receiver().feed_interleaved(buf, memoryview(buf), 0, len(buf), 0, 1.0, out) == (
        0,
        0,
        0,
    )
    assert out == []
