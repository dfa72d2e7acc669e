"""The sans-io RTSP codec: responses, bodies, interleaved frames, bounds, and re-chunking."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipcam_async.errors import InvalidArgument, ProtocolError
from ipcam_async.rtsp.message import (
    InterleavedFrame,
    RtspReader,
    RtspRequest,
    RtspResponse,
    encode_interleaved,
    encode_request,
)

DESCRIBE_RESPONSE = (
    b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\n"
    b"Content-Length: 10\r\n\r\nv=0\r\ns=x\r\n"
)


def frames_of(events: list[object]) -> list[tuple[int, bytes]]:
    return [(e.channel, bytes(e.data)) for e in events if isinstance(e, InterleavedFrame)]


def summary(events: list[object]) -> list[object]:
    out: list[object] = []
    for e in events:
        if isinstance(e, InterleavedFrame):
            out.append(("frame", e.channel, bytes(e.data)))
        elif isinstance(e, RtspResponse):
            out.append(("response", e.status, e.reason, tuple(e.headers.items()), e.body))
        elif isinstance(e, RtspRequest):
            out.append(("request", e.method, e.url, tuple(e.headers.items()), e.body))
    return out


def test_response_with_body_and_case_insensitive_headers() -> None:
    reader = RtspReader()
    (resp,) = reader.feed(DESCRIBE_RESPONSE)
    assert isinstance(resp, RtspResponse)
    assert (resp.status, resp.reason, resp.cseq) == (200, "OK", 2)
    assert resp.headers["content-type"] == "application/sdp"
    assert resp.headers["CONTENT-LENGTH"] == "10"
    assert resp.body == b"v=0\r\ns=x\r\n"
    assert reader.buffered == 0


def test_trailing_whitespace_missing_cseq_bare_lf_and_folding() -> None:
    raw = b"RTSP/1.0 200 OK  \nSession:  1234;timeout=60   \nTransport:\n RTP/AVP;unicast\n\n"
    (resp,) = RtspReader().feed(raw)
    assert isinstance(resp, RtspResponse)
    assert resp.cseq is None
    assert resp.headers["Session"] == "1234;timeout=60"
    assert resp.headers["transport"] == "RTP/AVP;unicast"


def test_interleaved_frames_before_response_and_unknown_channels() -> None:
    reader = RtspReader(channels={0, 1})
    data = (
        encode_interleaved(0, b"rtp-1")
        + encode_interleaved(5, b"nobody")
        + DESCRIBE_RESPONSE
        + encode_interleaved(1, b"rtcp")
    )
    events = reader.feed(data)
    assert frames_of(events) == [(0, b"rtp-1"), (1, b"rtcp")]
    assert [type(e) for e in events] == [InterleavedFrame, RtspResponse, InterleavedFrame]
    assert reader.stats.unknown_channel_frames == 1
    assert reader.stats.frames == 2


def test_response_where_a_frame_was_expected_and_junk_skipped() -> None:
    reader = RtspReader()
    data = encode_interleaved(0, b"a") + b"\x00\x01junk" + DESCRIBE_RESPONSE
    events = reader.feed(data)
    assert summary(events)[0] == ("frame", 0, b"a")
    assert isinstance(events[1], RtspResponse)
    assert reader.stats.junk_bytes == 6


def test_frame_handler_receives_zero_copy_views() -> None:
    got: list[tuple[int, memoryview]] = []
    reader = RtspReader(on_frame=lambda ch, view: got.append((ch, view)))
    chunk = encode_interleaved(2, b"payload")
    assert reader.feed(chunk) == []
    assert got[0][0] == 2 and bytes(got[0][1]) == b"payload"
    assert got[0][1].obj is chunk  # a slice of the received bytes, not a copy


def test_server_request_is_reported() -> None:
    (req,) = RtspReader().feed(b"GET_PARAMETER rtsp://h/x RTSP/1.0\r\nCSeq: 9\r\n\r\n")
    assert isinstance(req, RtspRequest)
    assert (req.method, req.url, req.cseq) == ("GET_PARAMETER", "rtsp://h/x", 9)


@pytest.mark.parametrize(
    "raw",
    [
        b"RTSP/1.0 abc OK\r\n\r\n",
        b"RTSP/1.0 200 OK\r\nContent-Length: -5\r\n\r\n",
        b"RTSP/1.0 200 OK\r\nContent-Length: 99999999\r\n\r\n",
        b"OPTIONS rtsp://h/ HTTP/1.1\r\n\r\n",
    ],
)
def test_malformed_messages_raise(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        RtspReader(max_body=1000).feed(raw)


def test_header_size_is_bounded() -> None:
    reader = RtspReader(max_header=256)
    reader.feed(b"RTSP/1.0 200 OK\r\n")
    with pytest.raises(ProtocolError):
        for _ in range(20):
            reader.feed(b"X-Long: " + b"a" * 30 + b"\r\n")


def test_split_frame_is_joined_once() -> None:
    reader = RtspReader()
    frame = encode_interleaved(0, bytes(range(200)))
    assert reader.feed(frame[:3]) == []
    assert reader.feed(frame[3:50]) == []
    assert reader.buffered == 50
    events = reader.feed(frame[50:] + frame)
    assert frames_of(events) == [(0, bytes(range(200)))] * 2


def test_encode_request_refuses_crlf() -> None:
    with pytest.raises(InvalidArgument):
        encode_request("OPTIONS", "rtsp://h/", [("X", "a\r\nInjected: 1")])
    out = encode_request("DESCRIBE", "rtsp://h/x", [("CSeq", "1")], b"body")
    assert out == b"DESCRIBE rtsp://h/x RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 4\r\n\r\nbody"


def run_chunked(data: bytes, cuts: list[int]) -> tuple[list[object], bool]:
    reader = RtspReader(channels={0, 1, 2, 3}, max_header=2048, max_body=4096)
    events: list[object] = []
    points = sorted({c % (len(data) + 1) for c in cuts}) if data else []
    last = 0
    try:
        for point in [*points, len(data)]:
            events.extend(reader.feed(data[last:point]))
            last = point
    except ProtocolError:
        return summary(events), True
    return summary(events), False


units = st.one_of(
    st.builds(encode_interleaved, st.integers(0, 5), st.binary(max_size=300)),
    st.just(DESCRIBE_RESPONSE),
    st.just(b"RTSP/1.0 454 Session Not Found\r\nCSeq: 3\r\n\r\n"),
    st.just(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n"),
    st.binary(max_size=40),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(units, max_size=12), st.lists(st.integers(0, 5000), max_size=20))
def test_fuzz_any_chunking_gives_the_same_events(parts: list[bytes], cuts: list[int]) -> None:
    data = b"".join(parts)
    whole, whole_failed = run_chunked(data, [])
    chunked, chunked_failed = run_chunked(data, cuts)
    assert whole_failed == chunked_failed
    if not whole_failed:
        assert chunked == whole
    else:
        # Events delivered before the failure are a prefix of one another.
        shorter, longer = sorted((whole, chunked), key=len)
        assert longer[: len(shorter)] == shorter


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.lists(st.integers(0, 3000), max_size=10))
def test_fuzz_arbitrary_bytes_only_events_or_protocol_error(data: bytes, cuts: list[int]) -> None:
    run_chunked(data, cuts)  # any other exception fails the test
