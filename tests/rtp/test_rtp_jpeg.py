"""JPEG over RTP (RFC 2435): packetizer and JFIF-rebuilding depacketizer."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image
from rtp_testmedia import decode_jpeg, jpeg_frames

from ipcam_async.errors import InvalidArgument, ProtocolError
from ipcam_async.rtp.clock import MediaClock
from ipcam_async.rtp.frames import AudioFrame, VideoFrame
from ipcam_async.rtp.jpeg import (
    JpegDepacketizer,
    JpegPacketizer,
    build_jfif_header,
    parse_jfif,
    rfc2435_tables,
)
from ipcam_async.rtp.packet import RtpPacket


def run(
    packets: list[bytes], dep: JpegDepacketizer, lost: frozenset[int] | set[int] = frozenset()
) -> list[VideoFrame]:
    out: list[VideoFrame | AudioFrame] = []
    for i, raw in enumerate(packets):
        dep.push(RtpPacket.parse(raw), i in lost, out)
    return [f for f in out if isinstance(f, VideoFrame)]


@pytest.mark.parametrize(
    ("subsampling", "restart_rows", "q", "kind"),
    [(2, 0, 255, 1), (1, 0, 255, 0), (2, 2, 255, 65), (1, 1, 200, 64), (2, 0, 75, 1)],
)
def test_round_trip_decodes_to_the_same_pixels(
    subsampling: int, restart_rows: int, q: int, kind: int
) -> None:
    pictures = jpeg_frames(subsampling=subsampling, restart_rows=restart_rows, quality=75)
    pk = JpegPacketizer(ssrc=5, mtu=1000, seq=65530, q=q)
    packets = [p for i, jpg in enumerate(pictures) for p in pk.packetize(jpg, i * 3600)]
    parsed = [RtpPacket.parse(p) for p in packets]
    assert all(len(p) <= 1000 for p in packets)
    assert {p.payload[4] for p in parsed} == {kind}
    assert {p.payload[5] for p in parsed} == {q}
    dep = JpegDepacketizer(clock=MediaClock(90000))
    frames = run(packets, dep)
    assert len(frames) == len(pictures)
    for jpg, frame in zip(pictures, frames, strict=True):
        assert frame.keyframe and not frame.lost
        assert (frame.width, frame.height) == (320, 240)
        assert Image.open(io.BytesIO(frame.data)).size == (320, 240)
        np.testing.assert_array_equal(decode_jpeg(frame.data), decode_jpeg(jpg))
        assert frame.data.endswith(b"\xff\xd9")
        if restart_rows:
            assert b"\xff\xdd\x00\x04" in frame.data
    assert [f.timestamp for f in frames] == [3600 * i for i in range(len(pictures))]
    assert dep.stats.dropped_frames == 0


def test_standard_tables_match_libjpeg_quality() -> None:
    for quality in (10, 50, 75, 90):
        (jpg,) = jpeg_frames(frames=1, quality=quality)
        assert parse_jfif(jpg).tables == rfc2435_tables(quality)
    with pytest.raises(InvalidArgument):
        JpegPacketizer(q=60).packetize(jpeg_frames(frames=1, quality=75)[0], 0)


def test_q_128_to_254_tables_sent_once_are_reused() -> None:
    pictures = jpeg_frames()
    pk = JpegPacketizer(ssrc=1, seq=0, q=130)
    first = pk.packetize(pictures[0], 0)
    second = [bytearray(p) for p in pk.packetize(pictures[1], 3600)]
    # rewrite the second frame's table header as "length 0: use the tables you have"
    head = second[0]
    precision_len = head[12 + 8 : 12 + 12]
    assert struct.unpack("!BBH", precision_len)[2] == 128
    second[0] = head[: 12 + 8] + b"\x00\x00\x00\x00" + head[12 + 12 + 128 :]
    dep = JpegDepacketizer(clock=MediaClock(90000))
    frames = run(first + [bytes(p) for p in second], dep)
    assert len(frames) == 2
    np.testing.assert_array_equal(decode_jpeg(frames[1].data), decode_jpeg(pictures[1]))


def test_lost_fragment_and_missing_marker_drop_the_frame() -> None:
    pictures = jpeg_frames()
    pk = JpegPacketizer(ssrc=1, seq=0, mtu=600)
    groups = [pk.packetize(jpg, i * 3600) for i, jpg in enumerate(pictures)]
    packets = [p for g in groups for p in g]
    lose_middle = len(groups[0]) + 2  # inside frame 1
    lose_last = sum(len(g) for g in groups[:3]) - 1  # marker packet of frame 2
    kept = [p for i, p in enumerate(packets) if i not in (lose_middle, lose_last)]
    lost_flags = {lose_middle, lose_last - 1}
    dep = JpegDepacketizer(clock=MediaClock(90000))
    frames = run(kept, dep, lost=lost_flags)
    assert [f.timestamp for f in frames] == [0, 3 * 3600, 4 * 3600]
    assert [f.lost for f in frames] == [False, True, False]
    assert dep.stats.dropped_frames == 2


def test_size_not_multiple_of_eight_is_rounded_up() -> None:
    (jpg,) = jpeg_frames(width=100, height=75, frames=1)
    frames = run(
        JpegPacketizer(ssrc=1, seq=0).packetize(jpg, 0), JpegDepacketizer(clock=MediaClock(90000))
    )
    assert (frames[0].width, frames[0].height) == (104, 80)
    decoded = decode_jpeg(frames[0].data)
    # identical away from the right/bottom edge, where chroma upsampling sees the padding
    np.testing.assert_array_equal(decoded[:72, :96], decode_jpeg(jpg)[:72, :96])


def test_unsupported_pictures_are_refused() -> None:
    image = Image.new("RGB", (64, 64), (1, 2, 3))
    for kwargs in ({"progressive": True}, {"subsampling": 0}, {"optimize": True}):
        buf = io.BytesIO()
        image.save(buf, "JPEG", **kwargs)
        with pytest.raises(ProtocolError):
            JpegPacketizer().packetize(buf.getvalue(), 0)
    buf = io.BytesIO()
    image.convert("L").save(buf, "JPEG")
    with pytest.raises(ProtocolError):
        parse_jfif(buf.getvalue())
    with pytest.raises(ProtocolError):
        parse_jfif(b"not a jpeg")


def test_unknown_type_and_reserved_q_are_counted() -> None:
    dep = JpegDepacketizer(clock=MediaClock(90000))
    header = RtpPacket(payload_type=26, sequence=0, timestamp=0, ssrc=1, payload=b"", marker=True)
    out: list[VideoFrame | AudioFrame] = []
    for seq, (kind, q) in enumerate(((3, 50), (1, 0), (1, 110), (130, 50))):
        pkt = RtpPacket(
            payload_type=26,
            sequence=seq,
            timestamp=seq,
            ssrc=1,
            payload=bytes((0, 0, 0, 0, kind, q, 8, 8)) + b"\x00" * 20,
            marker=True,
        )
        dep.push(RtpPacket.parse(pkt.to_bytes()), False, out)
    dep.push(RtpPacket.parse(header.to_bytes()), False, out)
    assert out == []
    assert dep.stats.unsupported_packets == 4
    assert dep.stats.malformed_packets == 1
    assert dep.stats.dropped_frames == 5


def test_header_builder_is_decodable_structure() -> None:
    header = build_jfif_header(1, 64, 48, rfc2435_tables(50), 4)
    assert header.startswith(b"\xff\xd8\xff\xdb")
    assert header.endswith(b"\xff\xda\x00\x0c\x03\x00\x00\x01\x11\x02\x11\x00\x3f\x00")
    with pytest.raises(InvalidArgument):
        build_jfif_header(2, 64, 48, rfc2435_tables(50))
