"""TrackReceiver: the whole sans-io receive path with exact counters, RTCP and wall clock."""

from __future__ import annotations

import base64
import random

import pytest
from rtp_testmedia import decode_h264, h264_access_units, jpeg_frames

from ipcam_async.errors import InvalidArgument, ProtocolError
from ipcam_async.rtp import (
    AudioFrame,
    H264Packetizer,
    JpegPacketizer,
    PcmuPacketizer,
    RtpOptions,
    TrackReceiver,
    VideoFrame,
    build_sender_report,
    parse_rtcp,
    split_annexb,
)
from ipcam_async.rtp.h264 import annexb_from_nals
from ipcam_async.rtp.rtcp import ReceiverReport, SourceDescription, build_bye

FPS_STEP = 3000


def h264_packets(
    aus: tuple[bytes, ...], *, seq: int = 65500, ssrc: int = 0xCAFE, ts0: int = 0
) -> list[list[bytes]]:
    pk = H264Packetizer(payload_type=99, ssrc=ssrc, seq=seq, mtu=1400)
    return [pk.packetize(au, ts0 + i * FPS_STEP) for i, au in enumerate(aus)]


def h264_track(reorder: bool = False, **opts: object) -> TrackReceiver:
    return TrackReceiver(
        track=1,
        codec="H264",
        clock_rate=90000,
        payload_type=99,
        fmtp={"packetization-mode": "28", "profile-level-id": "4D0029"},
        reorder=reorder,
        options=RtpOptions(**opts),  # type: ignore[arg-type]
    )


def feed_all(track: TrackReceiver, packets: list[bytes], t0: float = 0.0) -> list[VideoFrame]:
    frames: list[VideoFrame] = []
    for i, raw in enumerate(packets):
        for f in track.feed_rtp(raw, t0 + i * 0.001):
            assert isinstance(f, VideoFrame)
            frames.append(f)
    return frames


def normalized(au: bytes) -> bytes:
    return annexb_from_nals(split_annexb(au))


def test_udp_reordering_and_duplicates_give_back_every_frame() -> None:
    aus = h264_access_units()
    packets = [p for g in h264_packets(aus) for p in g]
    rng = random.Random(5)
    shuffled: list[bytes] = []
    swaps = dups = 0
    i = 0
    while i < len(packets):
        if i + 1 < len(packets) and rng.random() < 0.2:
            shuffled += [packets[i + 1], packets[i]]
            swaps += 1
            i += 2
            continue
        shuffled.append(packets[i])
        if rng.random() < 0.05:
            shuffled.append(packets[i])
            dups += 1
        i += 1
    track = h264_track(reorder=True)
    frames = feed_all(track, shuffled)
    frames += [f for f in track.flush() if isinstance(f, VideoFrame)]
    assert [f.data for f in frames] == [normalized(a) for a in aus]
    assert not any(f.lost for f in frames)
    stats = track.stats
    assert swaps > 5 and dups > 2
    assert stats.reordered == swaps
    assert stats.duplicated == dups
    assert (stats.lost, stats.late, stats.dropped_frames) == (0, 0, 0)
    assert stats.packets == len(packets) == stats.highest_seq - 65500 + 1
    assert stats.received == len(shuffled)
    assert stats.frames == len(aus)
    assert decode_h264([f.data for f in frames]) == [(320, 240)] * len(aus)


def test_tcp_loss_is_counted_exactly() -> None:
    aus = h264_access_units()
    groups = h264_packets(aus)
    packets = [p for g in groups for p in g]
    first_of_5 = sum(len(g) for g in groups[:5])
    drop = {first_of_5 + 1, first_of_5 + 2, first_of_5 + len(groups[5]) + 1}  # AUs 5 and 6
    kept = [p for i, p in enumerate(packets) if i not in drop]
    track = h264_track()
    frames = feed_all(track, kept)
    assert [f.timestamp // FPS_STEP for f in frames] == [i for i in range(30) if i not in (5, 6)]
    assert [f.lost for f in frames].count(True) == 1 and frames[5].lost
    s = track.stats
    assert (s.lost, s.dropped_frames, s.frames, s.late, s.duplicated) == (3, 2, 28, 0, 0)
    # with drop_until_keyframe the decoder only resumes at the IDR (frame 10)
    track = h264_track(drop_until_keyframe=True)
    frames = feed_all(track, kept)
    assert [f.timestamp // FPS_STEP for f in frames] == [0, 1, 2, 3, 4, *range(10, 30)]
    assert track.stats.dropped_frames == 5 and track.stats.waiting_keyframe_drops == 3


def test_sender_report_gives_wallclock_and_receiver_report_is_exact() -> None:
    aus = h264_access_units()[:10]
    packets = [p for g in h264_packets(aus, ts0=0xFFFFFFFF - 2 * FPS_STEP + 1) for p in g]
    track = h264_track()
    sr = build_sender_report(
        ssrc=0xCAFE,
        ntp_time=1_700_000_000.0,
        rtp_timestamp=0xFFFFFFFF - 2 * FPS_STEP + 1,
        packet_count=0,
        octet_count=0,
        cname="cam",
    )
    track.feed_rtcp(
        build_sender_report(
            ssrc=0xBAD, ntp_time=5.0, rtp_timestamp=0, packet_count=0, octet_count=0
        ),
        0.0,
    )  # another source's SR before the first packet is taken: it is the only one known
    frames = feed_all(track, packets[:40], t0=10.0)
    # that SR came from another source: no wall clock until the camera's own SR
    assert frames and all(f.wallclock is None for f in frames)
    before = len(frames)
    track.feed_rtcp(sr, 10.5)
    frames += feed_all(track, packets[40:], t0=11.0)
    assert len(frames) == 10 and before < 10
    for f in frames[before:]:
        k = f.ext_timestamp - frames[0].ext_timestamp
        assert f.wallclock == pytest.approx(1_700_000_000.0 + k / 90000)
    # extended timestamps grow through the 32-bit wrap
    assert [f.ext_timestamp - frames[0].ext_timestamp for f in frames] == [
        FPS_STEP * i for i in range(10)
    ]
    assert frames[-1].ext_timestamp > 0xFFFFFFFF and frames[-1].timestamp < FPS_STEP * 8
    rr = parse_rtcp(track.build_receiver_report(12.0, 0x5151, cname="me"))
    assert isinstance(rr[0], ReceiverReport) and isinstance(rr[1], SourceDescription)
    (block,) = rr[0].reports
    assert rr[0].ssrc == 0x5151
    assert block.ssrc == 0xCAFE
    assert (block.fraction_lost, block.cumulative_lost) == (0, 0)
    assert block.highest_seq == 65500 + len(packets) - 1
    sr_ntp = parse_rtcp(sr)[0]
    assert block.lsr == sr_ntp.lsr  # type: ignore[union-attr]
    assert block.dlsr == int(1.5 * 65536)
    assert track.stats.sender_reports == 2
    track.feed_rtcp(build_bye([0xCAFE]), 12.0)
    assert track.bye_received


def test_encoder_restart_with_new_ssrc_and_sequence() -> None:
    aus = h264_access_units()
    first = [p for g in h264_packets(aus[:12], seq=65500, ssrc=1) for p in g]
    # the camera restarts its encoder: new SSRC, new sequence, new timestamps, starting at an IDR
    second = [p for g in h264_packets(aus[10:20], seq=3, ssrc=2, ts0=123) for p in g]
    track = h264_track()
    frames = feed_all(track, first[:-3] + second)  # the last AU of the first run is cut short
    assert len(frames) == 11 + 10
    assert frames[11].lost and frames[11].keyframe
    assert [f.data for f in frames[11:]] == [normalized(a) for a in aus[10:20]]
    ext = [f.ext_timestamp for f in frames]
    assert ext == sorted(ext) and len(set(ext)) == len(ext)
    s = track.stats
    assert (s.resyncs, s.ssrc_changes, s.lost, s.dropped_frames) == (1, 1, 0, 1)
    assert s.ssrc == 2


def test_other_payload_types_malformed_packets_and_strict_mode() -> None:
    aus = h264_access_units()[:3]
    packets = [p for g in h264_packets(aus) for p in g]
    # a comfort-noise packet (PT 13) in the same sequence space, and garbage
    cn = bytearray(packets[1])
    cn[1] = 13
    stream = [packets[0], bytes(cn), *packets[2:]]
    track = h264_track()
    out: list[VideoFrame | AudioFrame] = []
    for i, raw in enumerate(stream):
        out += track.feed_rtp(raw, float(i))
    out += track.feed_rtp(b"\x00garbage", 9.0)
    s = track.stats
    assert (s.wrong_payload_type, s.malformed, s.lost) == (1, 1, 0)
    assert s.dropped_frames == 1 and s.frames == 2
    with pytest.raises(ProtocolError):
        h264_track(strict=True).feed_rtp(b"\x00garbage", 0.0)
    track.feed_rtcp(b"\x00\x01", 0.0)
    assert track.stats.rtcp_errors == 1


def test_tick_releases_held_packets_after_the_delay() -> None:
    aus = h264_access_units()[:4]
    packets = [p for g in h264_packets(aus) for p in g]
    track = h264_track(reorder=True, reorder_delay=0.05)
    hole = len(packets) - 3
    frames: list[VideoFrame | AudioFrame] = []
    for i, raw in enumerate(packets):
        if i != hole:
            frames += track.feed_rtp(raw, 1.0)
    assert len(frames) == 3
    assert track.tick(1.01) == []
    released = track.tick(1.06)
    assert released == [] and track.stats.lost == 1 and track.stats.dropped_frames == 1


def test_sprop_parameters_from_fmtp() -> None:
    aus = h264_access_units()
    sps, pps = (bytes(n) for n in split_annexb(aus[0]) if n[0] & 0x1F in (7, 8))
    track = TrackReceiver(
        track=0,
        codec="h264",
        clock_rate=90000,
        payload_type=96,
        fmtp={
            "sprop-parameter-sets": base64.b64encode(sps).decode()
            + ","
            + base64.b64encode(pps).decode()
        },
    )
    params = track.parameters
    assert params is not None and (params.width, params.height) == (320, 240)
    with pytest.raises(InvalidArgument):
        TrackReceiver(track=0, codec="H265", clock_rate=90000, payload_type=96)


def test_jpeg_and_pcmu_tracks() -> None:
    pictures = jpeg_frames()
    pk = JpegPacketizer(ssrc=9, seq=65530)
    jt = TrackReceiver(track=0, codec="JPEG", clock_rate=90000, payload_type=26, reorder=True)
    got: list[VideoFrame | AudioFrame] = []
    for i, jpg in enumerate(pictures):
        for raw in pk.packetize(jpg, i * 3600):
            got += jt.feed_rtp(raw, i * 0.04)
    assert [(f.width, f.height, f.keyframe) for f in got if isinstance(f, VideoFrame)] == [
        (320, 240, True)
    ] * len(pictures)

    audio = bytes(range(256)) * 5
    ap = PcmuPacketizer(ssrc=4, seq=65535)
    at = TrackReceiver(track=1, codec="PCMU", clock_rate=8000, payload_type=0)
    frames = [f for raw in ap.packetize(audio, 0) for f in at.feed_rtp(raw, 0.0)]
    assert b"".join(f.data for f in frames) == audio
    assert all(isinstance(f, AudioFrame) and f.sample_rate == 8000 for f in frames)
    assert at.parameters is None


def test_packets_with_padding_extension_and_csrcs_give_the_same_frames() -> None:
    from ipcam_async.rtp.packet import RtpPacket

    aus = h264_access_units()[:5]
    plain = [p for g in h264_packets(aus) for p in g]
    decorated = []
    for i, raw in enumerate(plain):
        pkt = RtpPacket.parse(raw)
        again = RtpPacket(
            payload_type=pkt.payload_type,
            sequence=pkt.sequence,
            timestamp=pkt.timestamp,
            ssrc=pkt.ssrc,
            payload=pkt.payload,
            marker=pkt.marker,
            csrcs=(7,) if i % 3 == 0 else (),
            extension_profile=0xBEDE if i % 3 == 1 else None,
            extension_data=b"\x10\x01\x00\x00" if i % 3 == 1 else None,
        )
        decorated.append(again.to_bytes(padding=4 if i % 2 else 0))
    expected = [f.data for f in feed_all(h264_track(), plain)]
    got = feed_all(h264_track(), decorated)
    assert [f.data for f in got] == expected == [normalized(a) for a in aus]


def test_avcc_and_writev_options_through_the_receiver() -> None:
    aus = h264_access_units()[:3]
    packets = [p for g in h264_packets(aus) for p in g]
    frames = feed_all(h264_track(output="avcc", writev=True), packets)
    for au, frame in zip(aus, frames, strict=True):
        assert frame.data == b"" and frame.views is not None
        expected = b"".join(len(n).to_bytes(4, "big") + bytes(n) for n in split_annexb(au))
        assert b"".join(frame.views) == expected
