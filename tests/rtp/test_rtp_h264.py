"""H.264 over RTP (RFC 6184): Annex B, SPS, packetizer and depacketizer."""

from __future__ import annotations

import base64

import pytest
from rtp_testmedia import decode_h264, h264_access_units, h264_with_pts

from ipcam_async.errors import InvalidArgument, ProtocolError
from ipcam_async.rtp.clock import MediaClock
from ipcam_async.rtp.frames import AudioFrame, VideoFrame
from ipcam_async.rtp.h264 import (
    NAL_FU_A,
    NAL_STAP_A,
    H264Depacketizer,
    H264Packetizer,
    H264Parameters,
    annexb_from_nals,
    parse_sprop_parameter_sets,
    parse_sps,
    split_annexb,
)
from ipcam_async.rtp.packet import RtpPacket, build_rtp_header

SPEC_SPROP = "Z00AKZpigPAET8uAtQEBAUAAAPoAADqYOhgAQAAABAAG7y40MACAAAAIAA3\neXCgA,aO48gA=="


def nal_types(data: bytes) -> list[int]:
    return [n[0] & 0x1F for n in split_annexb(data)]


def normalized(au: bytes) -> bytes:
    """The access unit with every start code rewritten to 4 bytes (what the depacketizer emits)."""
    return annexb_from_nals(split_annexb(au))


def run(
    packets: list[bytes],
    depacketizer: H264Depacketizer,
    lost_before: frozenset[int] | set[int] = frozenset(),
) -> list[VideoFrame]:
    out: list[VideoFrame | AudioFrame] = []
    for i, raw in enumerate(packets):
        depacketizer.push(RtpPacket.parse(raw), i in lost_before, out)
    frames = [f for f in out if isinstance(f, VideoFrame)]
    assert len(frames) == len(out)
    return frames


def packetize_all(
    aus: tuple[bytes, ...] | list[bytes], mtu: int = 1400, step: int = 3000, **kw: object
) -> list[list[bytes]]:
    pk = H264Packetizer(ssrc=0x1234, mtu=mtu, seq=65500, **kw)  # type: ignore[arg-type]
    return [pk.packetize(au, 1000 + i * step) for i, au in enumerate(aus)]


def test_split_annexb_handles_3_and_4_byte_start_codes_and_trailing_zeros() -> None:
    stream = b"\x00\x00\x00\x01\x67\xaa\x00\x00\x01\x68\xbb\x00\x00\x00\x00\x01\x65\xcc\xdd"
    assert [bytes(n) for n in split_annexb(stream)] == [b"\x67\xaa", b"\x68\xbb", b"\x65\xcc\xdd"]
    assert split_annexb(b"garbage without start code") == []
    assert [bytes(n) for n in split_annexb(b"\xff\x00\x00\x01\x09\xf0")] == [b"\x09\xf0"]


def test_parse_sps_of_the_spec_example() -> None:
    nals = parse_sprop_parameter_sets(SPEC_SPROP)
    assert [n[0] & 0x1F for n in nals] == [7, 8]
    info = parse_sps(nals[0])
    assert (info.width, info.height) == (1920, 1080)
    assert (info.profile_idc, info.level_idc) == (77, 41)
    assert info.profile_level_id == "4D0029"
    params = H264Parameters.from_nals(nals[0], nals[1])
    assert params.codec_string == "avc1.4D0029"
    assert params.avc_decoder_configuration()[:4] == bytes((1, 0x4D, 0x00, 0x29))


@pytest.mark.parametrize(("width", "height"), [(320, 240), (322, 182), (176, 144)])
def test_parse_sps_matches_decoder(width: int, height: int) -> None:
    aus = h264_access_units(width=width, height=height, frames=2, gop=2)
    sps = next(bytes(n) for n in split_annexb(aus[0]) if n[0] & 0x1F == 7)
    info = parse_sps(sps)
    assert (info.width, info.height) == (width, height)
    assert decode_h264(list(aus))[0] == (width, height)
    assert info.fps == pytest.approx(30.0)


@pytest.mark.parametrize(
    "bad", [b"", b"\x67", b"\x68\x00\x00\x00", b"\x67\x42\x00\x1e", b"\x67" + b"\xff" * 3]
)
def test_parse_sps_rejects_garbage(bad: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_sps(bad)


def test_sprop_rejects_garbage() -> None:
    with pytest.raises(ProtocolError):
        parse_sprop_parameter_sets("!!!notbase64")
    assert parse_sprop_parameter_sets("Z0IA,aM4=") == [base64.b64decode("Z0IA"), b"\x68\xce"]


def test_packetizer_modes_mtu_marker_and_sequence_wrap() -> None:
    aus = h264_access_units()
    pk = H264Packetizer(ssrc=7, mtu=600, seq=65534)
    packets = pk.packetize(aus[0], 90000)
    parsed = [RtpPacket.parse(p) for p in packets]
    assert all(len(p) <= 600 for p in packets)
    assert [p.sequence for p in parsed[:4]] == [65534, 65535, 0, 1]
    assert [p.marker for p in parsed] == [False] * (len(parsed) - 1) + [True]
    assert {p.timestamp for p in parsed} == {90000}
    assert {p.ssrc for p in parsed} == {7}
    kinds = [p.payload[0] & 0x1F for p in parsed]
    # SPS + PPS + SEI are small: aggregated into one STAP-A; slices are fragmented.
    assert kinds[0] == NAL_STAP_A
    assert NAL_FU_A in kinds
    fu = [p for p in parsed if p.payload[0] & 0x1F == NAL_FU_A]
    assert fu[0].payload[1] & 0x80 and not fu[0].payload[1] & 0x40
    assert pk.packet_count == len(packets)
    assert pk.octet_count == sum(len(p) - 12 for p in packets)
    assert pk.seq == (65534 + len(packets)) & 0xFFFF


def test_packetizer_without_aggregation_sends_single_nal_units() -> None:
    pk = H264Packetizer(ssrc=1, seq=0, aggregate=False)
    packets = pk.packetize(b"\x00\x00\x00\x01\x67\x42\x00\x1e\x00\x00\x01\x68\xce\x38\x80", 0)
    assert [bytes(RtpPacket.parse(p).payload) for p in packets] == [
        b"\x67\x42\x00\x1e",
        b"\x68\xce\x38\x80",
    ]
    with pytest.raises(InvalidArgument):
        pk.packetize(b"no nal units", 0)
    with pytest.raises(InvalidArgument):
        H264Packetizer(mtu=10)


@pytest.mark.parametrize("output", ["annexb", "avcc"])
@pytest.mark.parametrize("mtu", [1400, 200])
def test_round_trip_is_bit_exact_and_decodes(output: str, mtu: int) -> None:
    aus = h264_access_units()
    dep = H264Depacketizer(clock=MediaClock(90000), output=output)
    frames = run([p for group in packetize_all(aus, mtu=mtu) for p in group], dep)
    assert len(frames) == len(aus)
    for au, frame in zip(aus, frames, strict=True):
        nals = split_annexb(au)
        if output == "annexb":
            assert frame.data == normalized(au)
        else:
            expected = b"".join(len(n).to_bytes(4, "big") + bytes(n) for n in nals)
            assert frame.data == expected
        assert frame.keyframe == (5 in [n[0] & 0x1F for n in nals])
        assert not frame.lost
        assert (frame.width, frame.height) == (320, 240)
    assert [f.timestamp for f in frames] == [1000 + 3000 * i for i in range(len(aus))]
    if output == "annexb":
        assert decode_h264([f.data for f in frames]) == [(320, 240)] * len(aus)
    assert dep.stats.frames == len(aus) and dep.stats.dropped_frames == 0


def test_access_units_split_on_timestamp_when_marker_is_missing() -> None:
    aus = h264_access_units()[:6]
    pk = H264Packetizer(ssrc=1, seq=10)
    packets = [
        p
        for i, au in enumerate(aus)
        for p in pk.packetize_nals(split_annexb(au), i * 3000, marker=False)
    ]
    dep = H264Depacketizer(clock=MediaClock(90000))
    frames = run(packets, dep)
    # the last access unit is only known complete at end of stream
    assert len(frames) == 5
    out: list[VideoFrame | AudioFrame] = []
    dep.flush(out)
    assert [f.data for f in frames + out] == [normalized(a) for a in aus]


def test_sprop_parameter_sets_are_prepended_to_the_first_idr() -> None:
    aus = h264_access_units()
    first = split_annexb(aus[0])
    sps, pps = (bytes(n) for n in first if n[0] & 0x1F in (7, 8))
    # a camera that sends parameter sets only out of band
    stripped = [
        annexb_from_nals([n for n in split_annexb(a) if n[0] & 0x1F not in (7, 8)]) for a in aus
    ]
    dep = H264Depacketizer(clock=MediaClock(90000), sprop=[sps, pps])
    assert dep.parameters is not None and dep.parameters.width == 320
    frames = run([p for g in packetize_all(stripped) for p in g], dep)
    assert nal_types(frames[0].data)[:2] == [7, 8]
    # only the first IDR needs them: the decoder keeps them
    assert nal_types(frames[10].data)[:2] != [7, 8]
    assert frames[10].keyframe
    assert decode_h264([f.data for f in frames]) == [(320, 240)] * len(aus)
    # a parameter-set change (new sprop after a re-DESCRIBE) is sent again with the next IDR
    dep.set_parameter_sets([sps + b"\x00\x01", pps])
    frames = run([p for g in packetize_all(stripped) for p in g], dep)
    assert nal_types(frames[0].data)[:2] == [7, 8]
    assert frames[0].data.startswith(b"\x00\x00\x00\x01" + sps + b"\x00\x01")


def test_loss_drops_the_broken_access_unit_and_flags_the_next_frame() -> None:
    aus = h264_access_units()[:12]
    groups = packetize_all(aus)
    packets = [p for g in groups for p in g]
    # lose the second packet of access unit 3 (a multi-packet P frame)
    start3 = sum(len(g) for g in groups[:3])
    assert len(groups[3]) > 2
    lost_index = start3 + 1
    del packets[lost_index]
    dep = H264Depacketizer(clock=MediaClock(90000))
    frames = run(packets, dep, lost_before={lost_index})
    assert [f.timestamp for f in frames] == [1000 + 3000 * i for i in range(12) if i != 3]
    assert [f.lost for f in frames] == [i == 3 for i in range(11)]
    assert dep.stats.dropped_frames == 1

    dep = H264Depacketizer(clock=MediaClock(90000), drop_until_keyframe=True)
    frames = run(packets, dep, lost_before={lost_index})
    # frames 4..9 depend on the lost one: dropped until the IDR at 10
    assert [f.timestamp for f in frames] == [1000 + 3000 * i for i in (0, 1, 2, 10, 11)]
    assert frames[3].lost and frames[3].keyframe
    assert dep.stats.dropped_frames == 7
    assert dep.stats.waiting_keyframe_drops == 6


def _pkt(seq: int, ts: int, payload: bytes, marker: bool = False) -> bytes:
    return (
        build_rtp_header(payload_type=96, sequence=seq, timestamp=ts, ssrc=1, marker=marker)
        + payload
    )


def test_fu_a_without_start_or_end_is_dropped() -> None:
    dep = H264Depacketizer(clock=MediaClock(90000))
    out: list[VideoFrame | AudioFrame] = []
    for raw in (
        _pkt(1, 0, b"\x7c\x05" + b"a" * 10),  # middle fragment, start never seen
        _pkt(2, 0, b"\x7c\x45" + b"b" * 10, marker=True),
        _pkt(3, 10, b"\x7c\x85" + b"c" * 10),  # start, then the AU ends without end bit
        _pkt(4, 10, b"\x65\x88", marker=True),
        _pkt(5, 20, b"\x65\x99", marker=True),
    ):
        dep.push(RtpPacket.parse(raw), False, out)
    assert [(f.timestamp, f.data) for f in out if isinstance(f, VideoFrame)] == [
        (20, b"\x00\x00\x00\x01\x65\x99")
    ]
    assert dep.stats.dropped_frames == 2


def test_interleaved_mode_packets_are_refused_and_counted() -> None:
    dep = H264Depacketizer(clock=MediaClock(90000))
    out: list[VideoFrame | AudioFrame] = []
    for seq, header in enumerate((0x19, 0x1A, 0x1B, 0x1D)):  # STAP-B, MTAP16, MTAP24, FU-B
        dep.push(
            RtpPacket.parse(_pkt(seq, seq, bytes((header,)) + b"\x00" * 8, marker=True)), False, out
        )
    dep.push(RtpPacket.parse(_pkt(9, 9, b"\x1e\x00", marker=True)), False, out)  # type 30: ignore
    dep.push(RtpPacket.parse(_pkt(10, 10, b"\x65\x01", marker=True)), False, out)
    assert dep.stats.unsupported_packets == 4
    assert dep.stats.ignored_packets == 1
    assert dep.stats.dropped_frames == 4
    assert len(out) == 1 and out[0].lost


def test_oversize_access_unit_is_dropped() -> None:
    dep = H264Depacketizer(clock=MediaClock(90000), max_frame_size=10_000)
    out: list[VideoFrame | AudioFrame] = []
    dep.push(RtpPacket.parse(_pkt(0, 0, b"\x7c\x85" + b"x" * 1000)), False, out)
    for seq in range(1, 40):  # an FU-A that never ends
        dep.push(RtpPacket.parse(_pkt(seq, 0, b"\x7c\x05" + b"x" * 1000)), False, out)
    dep.push(RtpPacket.parse(_pkt(40, 0, b"\x7c\x45" + b"x" * 10, marker=True)), False, out)
    dep.push(RtpPacket.parse(_pkt(41, 3000, b"\x65\x01", marker=True)), False, out)
    assert dep.stats.oversize_frames == 1
    assert dep.stats.dropped_frames == 1
    assert [f.timestamp for f in out] == [3000]


def test_writev_mode_hands_out_views() -> None:
    aus = h264_access_units()[:3]
    dep = H264Depacketizer(clock=MediaClock(90000), writev=True)
    frames = run([p for g in packetize_all(aus) for p in g], dep)
    for au, frame in zip(aus, frames, strict=True):
        assert frame.data == b"" and frame.views is not None
        assert b"".join(frame.views) == normalized(au)
        assert frame.size == len(normalized(au))


def test_b_frames_with_presentation_timestamps() -> None:
    units = h264_with_pts()
    pts = [p for p, _ in units]
    assert pts != sorted(pts)  # B-frames: decode order differs from presentation order
    pk = H264Packetizer(ssrc=3, seq=65530)
    base = 0xFFFFFFFF - 5 * 3000  # wrap inside the clip
    packets = [p for when, au in units for p in pk.packetize(au, (base + when * 3000) & 0xFFFFFFFF)]
    dep = H264Depacketizer(clock=MediaClock(90000))
    frames = run(packets, dep)
    assert [f.ext_timestamp for f in frames] == [base + p * 3000 for p in pts]
    assert [f.data for f in frames] == [normalized(au) for _, au in units]
    assert len(decode_h264([f.data for f in frames])) == len(units)


def test_drop_until_keyframe_when_joining_mid_gop() -> None:
    aus = h264_access_units()
    groups = packetize_all(aus)
    packets = [p for g in groups[3:] for p in g]  # the camera was already streaming
    dep = H264Depacketizer(clock=MediaClock(90000), drop_until_keyframe=True)
    frames = run(packets, dep)
    assert frames[0].keyframe and frames[0].timestamp == 1000 + 10 * 3000
    assert len(frames) == 20
    assert dep.stats.waiting_keyframe_drops == 7
    assert decode_h264([f.data for f in frames]) == [(320, 240)] * 20
