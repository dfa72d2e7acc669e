"""Arbitrary packets into every depacketizer and the RTCP parser: only frames, counted drops or
ProtocolError, and memory that stays bounded."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipcam_async.errors import ProtocolError
from ipcam_async.rtp import AudioFrame, RtpOptions, TrackReceiver, VideoFrame
from ipcam_async.rtp.clock import MediaClock
from ipcam_async.rtp.h264 import H264Depacketizer
from ipcam_async.rtp.jpeg import JpegDepacketizer
from ipcam_async.rtp.packet import RtpPacket, build_rtp_header
from ipcam_async.rtp.pcmu import PcmuDepacketizer
from ipcam_async.rtp.rtcp import ReceiverReport, parse_rtcp

MAX_FRAME = 4096
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def h264_payload() -> st.SearchStrategy[bytes]:
    """Payloads biased towards the interesting NAL types: FU-A, STAP-A, IDR, SPS, PPS, reserved."""
    header = st.sampled_from(
        [0x7C, 0x5C, 0x78, 0x18, 0x65, 0x41, 0x67, 0x68, 0x19, 0x1A, 0x1D, 0x00, 0x1F]
    )
    fu = st.sampled_from([0x85, 0x05, 0x45, 0xC5, 0x81, 0x87, 0x88, 0x80, 0x9C, 0x00])
    return st.one_of(
        st.builds(lambda h, f, b: bytes((h, f)) + b, header, fu, st.binary(max_size=600)),
        st.builds(
            lambda sizes, b: (
                b"\x18"
                + b"".join(
                    struct.pack("!H", s) + bytes((0x65,)) + b[: max(s - 1, 0)] for s in sizes
                )
            ),
            st.lists(st.integers(0, 40), max_size=4),
            st.binary(max_size=40),
        ),
        st.binary(max_size=64),
    )


def jpeg_payload() -> st.SearchStrategy[bytes]:
    main = st.builds(
        lambda off, kind, q, w, h: struct.pack("!I", off) + bytes((kind, q, w, h)),
        st.sampled_from([0, 8, 100, 1000, 0xFFFFFF]),
        st.sampled_from([0, 1, 2, 64, 65, 127, 200]),
        st.sampled_from([0, 1, 50, 99, 100, 128, 200, 255]),
        st.integers(0, 255),
        st.integers(0, 255),
    )
    qt = st.builds(
        lambda p, length, body: bytes((0, p)) + struct.pack("!H", length) + body,
        st.integers(0, 3),
        st.sampled_from([0, 64, 128, 192, 256, 7]),
        st.binary(max_size=300),
    )
    return st.one_of(
        st.builds(
            lambda m, q, b: m + q + b, main, st.one_of(st.just(b""), qt), st.binary(max_size=300)
        ),
        st.binary(max_size=40),
    )


def packets(
    payloads: st.SearchStrategy[bytes],
) -> st.SearchStrategy[list[tuple[int, int, bool, bytes]]]:
    return st.lists(
        st.tuples(st.integers(0, 0xFFFF), st.integers(0, 4), st.booleans(), payloads), max_size=60
    )


def check_frames(frames: list[VideoFrame | AudioFrame]) -> None:
    for f in frames:
        assert isinstance(f, VideoFrame | AudioFrame)
        assert isinstance(f.data, bytes)
        assert len(f.data) <= MAX_FRAME + 2048  # a rebuilt JPEG header is on top of the scan


@FUZZ
@given(packets(h264_payload()), st.booleans(), st.sampled_from(["annexb", "avcc"]))
def test_fuzz_h264_depacketizer(
    pkts: list[tuple[int, int, bool, bytes]], lost_mode: bool, output: str
) -> None:
    dep = H264Depacketizer(
        clock=MediaClock(90000),
        max_frame_size=MAX_FRAME,
        output=output,
        drop_until_keyframe=lost_mode,
    )
    out: list[VideoFrame | AudioFrame] = []
    for i, (seq, ts, marker, payload) in enumerate(pkts):
        raw = build_rtp_header(payload_type=96, sequence=seq, timestamp=ts, ssrc=1, marker=marker)
        dep.push(RtpPacket.parse(raw + payload), lost_mode and i % 7 == 3, out)
        assert dep.buffered <= MAX_FRAME
    dep.flush(out)
    check_frames(out)
    assert dep.stats.frames == len(out)


@FUZZ
@given(packets(jpeg_payload()))
def test_fuzz_jpeg_depacketizer(pkts: list[tuple[int, int, bool, bytes]]) -> None:
    dep = JpegDepacketizer(clock=MediaClock(90000), max_frame_size=MAX_FRAME)
    out: list[VideoFrame | AudioFrame] = []
    for seq, ts, marker, payload in pkts:
        raw = build_rtp_header(payload_type=26, sequence=seq, timestamp=ts, ssrc=1, marker=marker)
        dep.push(RtpPacket.parse(raw + payload), False, out)
        assert dep.buffered <= MAX_FRAME
    dep.flush(out)
    check_frames(out)
    for f in out:
        assert f.data.startswith(b"\xff\xd8") and f.data.endswith(b"\xff\xd9")


@FUZZ
@given(packets(st.binary(max_size=400)))
def test_fuzz_pcmu_depacketizer(pkts: list[tuple[int, int, bool, bytes]]) -> None:
    dep = PcmuDepacketizer(clock=MediaClock(8000))
    out: list[VideoFrame | AudioFrame] = []
    for seq, ts, marker, payload in pkts:
        raw = build_rtp_header(payload_type=0, sequence=seq, timestamp=ts, ssrc=1, marker=marker)
        dep.push(RtpPacket.parse(raw + payload), False, out)
    assert [f.data for f in out] == [p for *_, p in pkts if p]


@FUZZ
@given(
    st.sampled_from([("H264", 96), ("JPEG", 26), ("PCMU", 0)]),
    st.booleans(),
    st.lists(
        st.one_of(
            st.binary(max_size=80),
            st.binary(min_size=12, max_size=80).map(lambda b: b"\x80" + b[1:]),
        ),
        max_size=80,
    ),
)
def test_fuzz_track_receiver_with_raw_bytes(
    codec: tuple[str, int], reorder: bool, datagrams: list[bytes]
) -> None:
    name, pt = codec
    track = TrackReceiver(
        track=0,
        codec=name,
        clock_rate=90000,
        payload_type=pt,
        reorder=reorder,
        options=RtpOptions(max_frame_size=MAX_FRAME, reorder_window=8),
    )
    frames: list[VideoFrame | AudioFrame] = []
    for i, data in enumerate(datagrams):
        frames += track.feed_rtp(data, i * 0.01)
        track.feed_rtcp(data, i * 0.01)
        held_packets, held_bytes = track.buffered
        assert held_packets <= 8 and held_bytes <= MAX_FRAME
    frames += track.tick(100.0)
    frames += track.flush()
    check_frames(frames)
    s = track.stats
    # every datagram is accounted for at most once
    accounted = s.malformed + s.packets + s.wrong_payload_type + s.duplicated + s.late + s.discarded
    assert accounted <= len(datagrams)
    rr = parse_rtcp(track.build_receiver_report(1.0, 7))
    assert rr


@FUZZ
@given(st.binary(max_size=400))
def test_fuzz_rtcp_parser_never_raises_anything_else(raw: bytes) -> None:
    try:
        packets = parse_rtcp(b"\x80\xc9\x00\x01\x00\x00\x00\x01" + raw)
    except ProtocolError:
        return
    assert packets[0] == ReceiverReport(ssrc=1, reports=())
