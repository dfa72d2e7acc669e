"""SDP parsing, control URL resolution and base URL selection."""

from __future__ import annotations

import base64
import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipcam_async.errors import ProtocolError
from ipcam_async.rtsp.sdp import (
    base_url,
    parse_sdp,
    parse_sprop_parameter_sets,
    resolve_control,
    sanitize_h264_fmtp,
)

SPS = bytes.fromhex("674d0029e2900f0044fcb80b50101014000003000400000f3a0c00")
PPS = bytes.fromhex("68ee3c80")
SPROP = base64.b64encode(SPS).decode() + "," + base64.b64encode(PPS).decode()

# The spec's example (5.5.3.1), with its line breaks repaired, plus odd spacing.
SPEC_SDP = f"""v=0
o=- 1371534426547402 1 IN IP4 0.0.0.0
s=Session streamed by "nessyMediaServer"
i=h264
t=0 0
a=tool:LIVE555 Streaming Media v2010.04.09_dyno_modi_2010.05.05
a=type:broadcast
a=control:
a=range:npt=0-
x-garbage line
m=video 0 RTP/AVP 99
c=IN IP4 0.0.0.0
b=AS:4000
a=rtpmap:99 H264/90000
a=fmtp:99 packetization-mode=28;profile-level-id=4D0029;  sprop-parameter-sets={SPROP};empty=;flag
a=control:track1
a=cliprect:0,0,1920,1080
a=framerate:30.000000
m=audio 7878 RTP/AVP 0
a=control:track2
""".replace("\n", "\r\n")


def test_spec_example() -> None:
    sdp = parse_sdp(SPEC_SDP.encode())
    assert sdp.origin is not None and sdp.session_name is not None
    assert sdp.control == "" and sdp.range == "npt=0-"
    assert sdp.unknown_lines == 1
    video, audio = sdp.media
    assert (video.media, video.payload_type, video.encoding, video.clock_rate) == (
        "video",
        99,
        "H264",
        90000,
    )
    assert video.fmtp["packetization-mode"] == "28"
    assert video.fmtp["sprop-parameter-sets"] == SPROP
    assert video.fmtp["empty"] == "" and video.fmtp["flag"] == ""
    assert video.control == "track1"
    assert video.framerate == 30.0
    assert video.cliprect == (0, 0, 1920, 1080)
    assert video.bandwidth == {"AS": 4000}
    # No rtpmap for the audio: the static table supplies PCMU/8000.
    assert (audio.encoding, audio.clock_rate, audio.control) == ("PCMU", 8000, "track2")
    assert sdp.find("audio") is audio


def test_missing_origin_and_unknown_lines_tolerated() -> None:
    sdp = parse_sdp(b"v=0\nm=video 0 RTP/AVP 26\na=control:rtsp://cam/jpeg/track1\nz\n")
    assert sdp.origin is None
    assert sdp.media[0].encoding == "JPEG"
    assert sdp.media[0].control == "rtsp://cam/jpeg/track1"


def test_not_an_sdp() -> None:
    with pytest.raises(ProtocolError):
        parse_sdp(b"<html>nope</html>")


def test_sprop_variants() -> None:
    assert parse_sprop_parameter_sets(SPROP) == [SPS, PPS]
    annexb = base64.b64encode(b"\x00\x00\x00\x01" + SPS).decode()
    assert parse_sprop_parameter_sets(annexb + "," + SPROP.split(",")[1]) is None
    assert parse_sprop_parameter_sets("!!!notbase64") is None
    assert parse_sprop_parameter_sets(base64.b64encode(PPS).decode()) is None  # no SPS
    cleaned = sanitize_h264_fmtp({"sprop-parameter-sets": "Zm9v", "packetization-mode": "1"})
    assert cleaned == {"packetization-mode": "1"}
    assert sanitize_h264_fmtp({"sprop-parameter-sets": SPROP})["sprop-parameter-sets"] == SPROP


@pytest.mark.parametrize(
    ("base", "control", "expected"),
    [
        ("rtsp://h/h264/", "track1", "rtsp://h/h264/track1"),
        ("rtsp://h/h264", "track1", "rtsp://h/h264/track1"),
        ("rtsp://h/h264/", "rtsp://other/x/track1", "rtsp://other/x/track1"),
        ("rtsp://h/h264/", "*", "rtsp://h/h264/"),
        ("rtsp://h/h264/", "", "rtsp://h/h264/"),
        ("rtsp://h/h264/", None, "rtsp://h/h264/"),
        ("rtsp://h:8554/h264/", "/stream/track1", "rtsp://h:8554/stream/track1"),
    ],
)
def test_resolve_control(base: str, control: str | None, expected: str) -> None:
    assert resolve_control(base, control) == expected


def test_base_url_selection_and_repair() -> None:
    req = "rtsp://cam:554/h264"
    assert base_url(req, {"Content-Base": "rtsp://cam/h264/"}) == "rtsp://cam/h264/"
    assert base_url(req, {"Content-Location": "rtsp://cam/loc/"}) == "rtsp://cam/loc/"
    assert base_url(req, {}) == req
    assert base_url(req, {"Content-Base": "192.168.0.200/h264/"}) == "rtsp://192.168.0.200/h264/"
    assert base_url(req, {"Content-Base": "/h264/"}) == "rtsp://cam:554/h264/"
    assert base_url(req, {"Content-Base": "//cam2/x/"}) == "rtsp://cam2/x/"


sdp_lines = st.one_of(
    st.sampled_from(
        [
            "v=0",
            "m=video 0 RTP/AVP 96",
            "m=audio x RTP/AVP 0",
            "a=rtpmap:96 H264/90000",
            "a=rtpmap:abc",
            "a=fmtp:96 ;;=;a==b; sprop-parameter-sets=,,",
            "a=control:*",
            "a=framerate:nan",
            "a=cliprect:1,2,3",
            "c=IN IP4 239.0.0.1/16/2",
            "b=AS:",
        ]
    ),
    st.text(max_size=60),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(sdp_lines, max_size=30))
def test_fuzz_sdp_lines(lines: list[str]) -> None:
    try:
        sdp = parse_sdp("\r\n".join(lines).encode("utf-8", "surrogatepass"))
    except ProtocolError:
        return
    for media in sdp.media:
        _ = (media.encoding, media.clock_rate, media.fmtp, media.payload_types)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_fuzz_sdp_bytes(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        parse_sdp(data)
