"""Sans-io parts of the simulated RTSP server: request parsing, transports, auth, media, SDP."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ipcam_async.errors import ProtocolError
from ipcam_async.sim.rtsp.auth import RtspAuthenticator, parse_auth_params
from ipcam_async.sim.rtsp.media import (
    MEDIA_DIR,
    default_streams,
    load_h264,
    load_mjpeg,
    load_ulaw,
    split_access_units,
    split_jpeg_frames,
)
from ipcam_async.sim.rtsp.protocol import (
    ClientFrame,
    Request,
    RequestReader,
    encode_response,
    parse_transport,
)
from ipcam_async.sim.rtsp.sdp import build_sdp
from ipcam_async.sim.rtsp.streaming import packetize_audio, packetize_video

STREAM = (
    b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n"
    b"$\x01\x00\x04abcd"
    b"SET_PARAMETER rtsp://h/x RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 5\r\n"
    b"Content-Type: text/parameters\r\n\r\nhello"
    b"\r\n"
    b"PLAY rtsp://h/x RTSP/1.0\r\ncseq: 3\r\nSession: 12;timeout=60\r\n"
    b"X-Folded: one\r\n two\r\n\r\n"
)


def _events(chunks: list[bytes]) -> list[Request | ClientFrame]:
    reader = RequestReader()
    out: list[Request | ClientFrame] = []
    for chunk in chunks:
        out.extend(reader.feed(chunk))
    return out


def test_reader_parses_requests_bodies_and_interleaved_frames() -> None:
    events = _events([STREAM])
    assert [type(e).__name__ for e in events] == ["Request", "ClientFrame", "Request", "Request"]
    first, frame, second, third = events
    assert isinstance(first, Request) and first.method == "OPTIONS" and first.uri == "*"
    assert frame == ClientFrame(1, b"abcd")
    assert isinstance(second, Request) and second.body == b"hello"
    assert isinstance(third, Request)
    assert third.header("CSeq") == "3" and third.header("session") == "12;timeout=60"
    assert third.header("X-Folded") == "one two"


@given(st.lists(st.integers(min_value=1, max_value=len(STREAM) - 1), max_size=12))
def test_reader_is_independent_of_chunking(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    chunks = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    assert _events(chunks) == _events([STREAM])


@pytest.mark.parametrize(
    "data",
    [
        b"OPTIONS\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\nno colon here\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\nContent-Length: -1\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\nContent-Length: 999999999\r\n\r\n",
        b"options * RTSP/1.0\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\nX: \xff\xfe\r\n\r\n",
    ],
)
def test_reader_rejects_malformed_requests(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        RequestReader().feed(data)


def test_reader_bounds_the_header() -> None:
    reader = RequestReader(max_header=1024)
    with pytest.raises(ProtocolError):
        reader.feed(b"OPTIONS * RTSP/1.0\r\nX: " + b"a" * 2000)
    many = b"".join(b"H%d: v\r\n" % i for i in range(100))
    with pytest.raises(ProtocolError):
        RequestReader().feed(b"OPTIONS * RTSP/1.0\r\n" + many + b"\r\n")


def test_encode_response_orders_headers_and_refuses_crlf() -> None:
    data = encode_response(200, "7", [("Public", "OPTIONS")], b"body")
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "RTSP/1.0 200 OK"
    assert lines[1] == "CSeq: 7"
    assert lines[2].startswith("Date: ") and lines[2].endswith(" GMT")
    assert "Content-Length: 4" in lines and body == b"body"
    assert encode_response(454, "1").startswith(b"RTSP/1.0 454 Session Not Found\r\n")
    with pytest.raises(ProtocolError):
        encode_response(200, "1", [("X", "a\r\nInjected: 1")])


def test_parse_transport_alternatives() -> None:
    specs = parse_transport(
        "RTP/AVP/TCP;unicast;interleaved=4-5, RTP/AVP;unicast;client_port=6300-6301;mode=play,"
        "RTP/AVP;multicast;client_port=7000, RTP/SAVP;unicast"
    )
    assert [(s.protocol, s.multicast) for s in specs] == [
        ("TCP", False),
        ("UDP", False),
        ("UDP", True),
    ]
    assert specs[0].interleaved == (4, 5)
    assert specs[1].client_port == (6300, 6301) and specs[1].mode == "PLAY"
    assert specs[2].client_port == (7000, 7001)
    for bad in ("RTP/AVP;client_port=a-b", "RTP/AVP/TCP;interleaved=300-301"):
        with pytest.raises(ProtocolError):
            parse_transport(bad)


def test_auth_params_with_quoted_commas() -> None:
    params = parse_auth_params('username="a,b", realm="R", nc=00000001, uri="rtsp://h/x?a=1,2"')
    assert params == {"username": "a,b", "realm": "R", "nc": "00000001", "uri": "rtsp://h/x?a=1,2"}


def test_digest_nonce_is_signed_and_expires() -> None:
    auth = RtspAuthenticator("digest", {"u": "p"}.get, realm="R", nonce_lifetime=10)
    nonce = auth.make_nonce(100.0)

    def header(nonce: str, password: str = "p") -> str:
        ha1 = hashlib.md5(f"u:R:{password}".encode()).hexdigest()
        ha2 = hashlib.md5(b"PLAY:rtsp://h/x").hexdigest()
        resp = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
        return (
            f'Digest username="u", realm="R", nonce="{nonce}", uri="rtsp://h/x", response="{resp}"'
        )

    assert auth.check("PLAY", header(nonce), 105.0).ok
    stale = auth.check("PLAY", header(nonce), 200.0)
    assert not stale.ok and stale.stale
    forged = nonce[:-1] + ("0" if nonce[-1] != "0" else "1")
    result = auth.check("PLAY", header(forged), 105.0)
    assert not result.ok and not result.stale
    assert not auth.check("PLAY", header(nonce, "wrong"), 105.0).ok
    assert not auth.check("PLAY", "Basic " + base64.b64encode(b"u:p").decode(), 105.0).ok
    assert auth.challenges(0.0)[0].startswith('Digest realm="R", nonce="')


def test_packaged_media_shapes() -> None:
    streams = default_streams()
    assert set(streams) == {"h264", "h264_2", "h264_3", "h264_4", "jpeg"}
    sizes = {n: (s.video.width, s.video.height) for n, s in streams.items()}
    assert sizes["h264"] == (1920, 1080) and sizes["h264_2"] == (1280, 720)
    assert sizes["jpeg"] == (640, 360)
    for source in streams.values():
        video = source.video
        assert video.fps == 30.0
        assert source.audio is not None and source.audio.sample_rate == 8000
        if video.codec == "H264":
            assert len(video.frames) == 120
            # GOP 30: an IDR (with SPS and PPS in front) every 30 frames, starting the loop.
            idr = [i for i, f in enumerate(video.frames) if any(n[0] & 0x1F == 5 for n in f)]
            assert idr == [0, 30, 60, 90]
            assert [n[0] & 0x1F for n in video.frames[30][:2]] == [7, 8]
    total = sum(p.stat().st_size for p in MEDIA_DIR.iterdir())
    assert total < 4 * 1024 * 1024


def test_access_unit_split_follows_first_mb_in_slice() -> None:
    sps, pps = b"\x67\x4d\x00\x1e", b"\x68\xee"
    idr_a, idr_b = b"\x65\x88\x01", b"\x65\x08\x02"  # second slice of the same picture
    p1, p2 = b"\x41\x9a\x03", b"\x41\x9a\x04"
    aud = b"\x09\xf0"
    units = split_access_units([aud, sps, pps, idr_a, idr_b, p1, aud, p2])
    assert units == [[aud, sps, pps, idr_a, idr_b], [p1], [aud, p2]]


def test_user_annexb_file_is_served(tmp_path: Path) -> None:
    clip = default_streams()["h264_3"].video
    # Strip SPS/PPS from every IDR but the first, and start the file with two P-frames.
    raw = bytearray()
    for i, frame in enumerate(list(clip.frames[1:3]) + list(clip.frames[:45])):
        for nal in frame:
            if i > 2 and nal[0] & 0x1F in (7, 8):
                continue
            raw += b"\x00\x00\x00\x01" + nal
    path = tmp_path / "mine.264"
    path.write_bytes(bytes(raw))
    loaded = load_h264(path, fps=25)
    assert len(loaded.frames) == 45  # the leading P-frames are dropped
    assert loaded.fps == 25.0 and (loaded.width, loaded.height) == (640, 360)
    assert [n[0] & 0x1F for n in loaded.frames[30][:2]] == [7, 8]  # SPS/PPS put back
    track = packetize_video(loaded)
    assert track.loop_ticks == 45 * 3600
    assert track.offsets[1] == 3600
    (tmp_path / "bad.264").write_bytes(b"\x00\x00\x01\x41\x9a")
    with pytest.raises(ProtocolError):
        load_h264(tmp_path / "bad.264")


def test_jpeg_and_audio_loaders(tmp_path: Path) -> None:
    data = (MEDIA_DIR / "jpeg_360p.mjpeg").read_bytes()
    frames = split_jpeg_frames(data)
    assert len(frames) == 60 and frames[0][1:] == (640, 360)
    assert b"".join(f for f, _, _ in frames) == data
    (tmp_path / "cut.mjpeg").write_bytes(data[: len(frames[0][0]) - 10])
    with pytest.raises(ProtocolError):
        load_mjpeg(tmp_path / "cut.mjpeg")
    audio = load_ulaw(MEDIA_DIR / "audio.ulaw")
    track = packetize_audio(audio)
    assert track.loop_ticks == 32000 and len(track.units) == 200
    assert all(len(u[0][1]) == 160 for u in track.units)
    (tmp_path / "tiny.ulaw").write_bytes(b"\xff" * 10)
    with pytest.raises(ProtocolError):
        load_ulaw(tmp_path / "tiny.ulaw")


def test_sdp_for_a_path_without_audio() -> None:
    source = default_streams()["jpeg"]
    from ipcam_async.sim.rtsp.media import StreamSource

    sdp = build_sdp("jpeg", StreamSource(source.video), session_version=5)
    assert "m=audio" not in sdp
    assert sdp.startswith("v=0\r\no=- 5 1 IN IP4 0.0.0.0\r\n")
    assert sdp.endswith("a=framerate:30.000000\r\n")


def test_packetized_h264_respects_mtu_and_marks_frame_ends() -> None:
    track = packetize_video(default_streams()["h264"].video, mtu=1000)
    assert all(len(p) + 12 <= 1000 for u in track.units for _, p in u)
    for unit in track.units:
        markers = [b1 & 0x80 for b1, _ in unit]
        assert markers[-1] and not any(markers[:-1])
        assert {b1 & 0x7F for b1, _ in unit} == {99}
