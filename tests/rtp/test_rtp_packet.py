"""RTP fixed header parsing over memoryviews (RFC 3550 5.1)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ipcam_async.errors import ProtocolError
from ipcam_async.rtp.packet import RtpPacket, build_rtp_header


def test_parse_fixed_header() -> None:
    raw = bytes.fromhex("80e1ffff 12345678 deadbeef") + b"payload"
    pkt = RtpPacket.parse(raw)
    assert pkt.version == 2
    assert not pkt.padding and not pkt.extension
    assert pkt.marker is True
    assert pkt.payload_type == 97
    assert pkt.sequence == 0xFFFF
    assert pkt.timestamp == 0x12345678
    assert pkt.ssrc == 0xDEADBEEF
    assert pkt.csrcs == ()
    assert pkt.extension_profile is None and pkt.extension_data is None
    assert bytes(pkt.payload) == b"payload"


def test_payload_is_a_view_not_a_copy() -> None:
    buf = bytearray(build_rtp_header(payload_type=96, sequence=1, timestamp=2, ssrc=3) + b"abcd")
    pkt = RtpPacket.parse(buf)
    buf[12] = ord("X")
    assert bytes(pkt.payload) == b"Xbcd"
    assert pkt.payload.obj is buf


def test_csrcs_extension_and_padding() -> None:
    header = build_rtp_header(
        payload_type=0,
        sequence=7,
        timestamp=8,
        ssrc=9,
        csrcs=(1, 2),
        extension_profile=0xBEDE,
        extension_data=b"\x10\xaa\x00\x00",
        padding=True,
    )
    raw = header + b"xyz" + b"\x00\x00\x03"
    pkt = RtpPacket.parse(raw)
    assert pkt.csrcs == (1, 2)
    assert pkt.extension and pkt.padding
    assert pkt.extension_profile == 0xBEDE
    assert pkt.extension_data is not None and bytes(pkt.extension_data) == b"\x10\xaa\x00\x00"
    assert bytes(pkt.payload) == b"xyz"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\x80\x60\x00", "shorter"),
        (bytes.fromhex("40600001000000020000000300"), "version"),
        (bytes.fromhex("82600001000000020000000300"), "CSRC"),
        (bytes.fromhex("906000010000000200000003beef"), "extension"),
        (bytes.fromhex("90600001000000020000000300010005") + b"\0" * 4, "extension"),
        (bytes.fromhex("a0600001000000020000000300"), "padding"),
        (bytes.fromhex("a060000100000002000000030009"), "padding"),
    ],
)
def test_malformed_packets_raise(raw: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        RtpPacket.parse(raw)


def test_to_bytes_round_trip_with_padding() -> None:
    pkt = RtpPacket(
        payload_type=26, sequence=100, timestamp=5, ssrc=6, payload=b"hello", marker=True
    )
    again = RtpPacket.parse(pkt.to_bytes(padding=3))
    assert again.padding
    assert bytes(again.payload) == b"hello"
    assert (again.sequence, again.timestamp, again.ssrc, again.marker) == (100, 5, 6, True)


@given(
    pt=st.integers(0, 127),
    seq=st.integers(0, 0xFFFF),
    ts=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    marker=st.booleans(),
    csrcs=st.lists(st.integers(0, 0xFFFFFFFF), max_size=15).map(tuple),
    ext=st.one_of(st.none(), st.binary(max_size=40).map(lambda b: b + bytes(-len(b) % 4))),
    payload=st.binary(max_size=200),
    pad=st.integers(0, 255),
)
def test_header_round_trip(
    pt: int,
    seq: int,
    ts: int,
    ssrc: int,
    marker: bool,
    csrcs: tuple[int, ...],
    ext: bytes | None,
    payload: bytes,
    pad: int,
) -> None:
    header = build_rtp_header(
        payload_type=pt,
        sequence=seq,
        timestamp=ts,
        ssrc=ssrc,
        marker=marker,
        csrcs=csrcs,
        extension_profile=None if ext is None else 0x1000,
        extension_data=ext,
        padding=pad > 0,
    )
    raw = header + payload + (bytes(pad - 1) + struct.pack("B", pad) if pad else b"")
    pkt = RtpPacket.parse(memoryview(raw))
    assert (pkt.payload_type, pkt.sequence, pkt.timestamp, pkt.ssrc) == (pt, seq, ts, ssrc)
    assert pkt.marker is marker
    assert pkt.csrcs == csrcs
    assert pkt.extension_data is None if ext is None else bytes(pkt.extension_data or b"") == ext
    assert bytes(pkt.payload) == payload


@given(st.binary(max_size=64))
def test_arbitrary_bytes_parse_or_protocol_error(raw: bytes) -> None:
    try:
        pkt = RtpPacket.parse(raw)
    except ProtocolError:
        return
    assert len(pkt.payload) <= len(raw) - 12
