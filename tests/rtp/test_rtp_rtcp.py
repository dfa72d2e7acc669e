"""RTCP compound packets (RFC 3550 section 6) and the RTP clock helpers."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ipcam_async.errors import ProtocolError
from ipcam_async.rtp.clock import MediaClock, ntp_to_unix, unix_to_ntp
from ipcam_async.rtp.rtcp import (
    App,
    Bye,
    ReceiverReport,
    ReportBlock,
    SenderReport,
    SourceDescription,
    UnknownRtcp,
    build_bye,
    build_receiver_report,
    build_sender_report,
    is_rtcp,
    parse_rtcp,
)


def test_sender_report_with_cname_round_trip() -> None:
    block = ReportBlock(
        ssrc=0xAABBCCDD,
        fraction_lost=25,
        cumulative_lost=-3,
        highest_seq=0x1_0005,
        jitter=120,
        lsr=0x12345678,
        dlsr=65536,
    )
    raw = build_sender_report(
        ssrc=0x01020304,
        ntp_time=1_700_000_000.25,
        rtp_timestamp=0xFFFFFFF0,
        packet_count=10,
        octet_count=12000,
        reports=[block],
        cname="cam@example",
    )
    # SR: header (4) + sender info (24) + one block (24), padded SDES after it
    assert raw[:4] == bytes((0x81, 200, 0, 12))
    packets = parse_rtcp(raw)
    assert len(packets) == 2
    sr, sdes = packets
    assert isinstance(sr, SenderReport) and isinstance(sdes, SourceDescription)
    assert sr.ssrc == 0x01020304
    assert sr.ntp_time == pytest.approx(1_700_000_000.25, abs=1e-6)
    assert sr.ntp_timestamp >> 32 == 1_700_000_000 + 2_208_988_800
    assert (sr.rtp_timestamp, sr.packet_count, sr.octet_count) == (0xFFFFFFF0, 10, 12000)
    assert sr.reports == (block,)
    assert sr.lsr == (sr.ntp_timestamp >> 16) & 0xFFFFFFFF
    assert sdes.chunks[0].ssrc == 0x01020304 and sdes.chunks[0].cname == "cam@example"
    assert len(raw) % 4 == 0


def test_receiver_report_and_bye_and_unknown_types_in_one_compound() -> None:
    rr = build_receiver_report(ssrc=7, reports=[], cname="me")
    xr = struct.pack("!BBH", 0x80, 207, 1) + b"\x00\x00\x00\x07"  # XR: skipped, kept raw
    app = struct.pack("!BBH", 0x81, 204, 3) + b"\x00\x00\x00\x07NAME" + b"data"
    padded_bye = struct.pack("!BBH", 0xA1, 203, 2) + b"\x00\x00\x00\x09" + b"\x00\x00\x00\x04"
    packets = parse_rtcp(rr + xr + app + build_bye([9, 10], reason="bye now") + padded_bye)
    assert isinstance(packets[0], ReceiverReport) and packets[0].ssrc == 7
    assert isinstance(packets[2], UnknownRtcp) and packets[2].packet_type == 207
    assert packets[3] == App(subtype=1, ssrc=7, name=b"NAME", data=b"data")
    assert packets[4] == Bye(ssrcs=(9, 10), reason="bye now")
    assert packets[5] == Bye(ssrcs=(9,), reason=None)
    assert is_rtcp(rr) and not is_rtcp(b"\x80\x60\x00\x01")


@pytest.mark.parametrize(
    "raw",
    [
        b"\x80\xc8\x00",  # shorter than a header
        b"\x40\xc9\x00\x01\x00\x00\x00\x01",  # version 1
        b"\x80\xc9\x00\x05\x00\x00\x00\x01",  # length past the datagram
        b"\x81\xc9\x00\x01\x00\x00\x00\x01",  # one report block announced, none present
        b"\x80\xc8\x00\x01\x00\x00\x00\x01",  # SR without sender info
        b"\x81\xca\x00\x01\x00\x00\x00\x01",  # SDES chunk without end
        b"\xa0\xc9\x00\x01\x00\x00\x00\x09",  # padding count past the packet
        b"\x80\xc9\x00\x01\x00\x00\x00\x01\x80",  # trailing byte
    ],
)
def test_malformed_rtcp_raises(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_rtcp(raw)


@given(st.binary(max_size=300))
def test_fuzz_rtcp_parser(raw: bytes) -> None:
    try:
        packets = parse_rtcp(raw)
    except ProtocolError:
        return
    assert packets
    total = sum(len(p.data) if isinstance(p, UnknownRtcp | App) else 0 for p in packets)
    assert total <= len(raw)


@given(st.binary(min_size=4, max_size=300))
def test_fuzz_rtcp_parser_with_valid_headers(body: bytes) -> None:
    words = len(body) // 4
    raw = bytes((0x80 | (body[0] & 0x1F), 200 + body[1] % 6)) + struct.pack("!H", words - 1)
    raw += body[4 : 4 * words]
    try:
        packets = parse_rtcp(raw)
    except ProtocolError:
        return
    assert len(packets) == 1
    kinds = (SenderReport, ReceiverReport, SourceDescription, Bye, App, UnknownRtcp)
    assert isinstance(packets[0], kinds)


def test_ntp_conversions() -> None:
    assert ntp_to_unix(unix_to_ntp(1234.5)) == pytest.approx(1234.5)
    assert unix_to_ntp(0) == 2_208_988_800 << 32


def test_media_clock_extends_and_maps_wallclock() -> None:
    clock = MediaClock(90000)
    assert clock.extend(0xFFFF0000) == 0xFFFF0000
    assert clock.extend(0x00001000) == 0x1_0000_1000  # wrapped
    assert clock.extend(0xFFFFF000) == 0xFFFFF000  # stepped back across the wrap (B-frame)
    assert clock.wallclock(0x1_0000_1000) is None
    clock.on_sender_report(1000.0, 0xFFFFFFFF - 89999)  # 1 s before the wrap
    assert clock.synchronized
    assert clock.wallclock(0x1_0000_0000) == pytest.approx(1001.0)
    assert clock.wallclock(0x1_0000_0000 + 45000) == pytest.approx(1001.5)
    assert clock.wallclock(0xFFFFFFFF - 179999) == pytest.approx(999.0)
    clock.restart(5)
    assert clock.extend(5) > 0x1_0000_1000
    assert not clock.synchronized
