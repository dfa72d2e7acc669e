"""The sans-io multipart/x-mixed-replace parser: spec example, tolerance, bounds, chunking."""

from __future__ import annotations

import pytest
from evt_helpers import SPEC_MONITOR
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipcam_async.errors import ProtocolError
from ipcam_async.http.multipart import MultipartParser, Part, boundary_from_content_type


def feed_chunked(parser: MultipartParser, data: bytes, size: int) -> list[Part]:
    out: list[Part] = []
    for i in range(0, len(data), size):
        out.extend(parser.feed(data[i : i + size]))
    return out


def parse(data: bytes, boundary: str = "<boundary>", size: int = 1 << 20, **kw: int) -> list[Part]:
    return feed_chunked(MultipartParser(boundary, **kw), data, size)


def test_spec_monitor_example_parts_and_immediate_delivery() -> None:
    parser = MultipartParser("<boundary>")
    first_end = SPEC_MONITOR.index(b"Motion1:Enabled=0; ") + len(b"Motion1:Enabled=0; ")
    # A sized part is handed out as soon as its last byte arrives, before any next delimiter.
    parts = parser.feed(SPEC_MONITOR[:first_end])
    assert [p.body for p in parts] == [
        b"Motion:Enabled=1;Level=0;Sensitivity=80;Triggered=0; \r\nMotion1:Enabled=0; "
    ]
    assert parts[0].headers["content-type"] == "text/plain"
    assert parts[0].content_type == "text/plain"
    parts = parser.feed(SPEC_MONITOR[first_end:])
    assert [p.body for p in parts] == [
        b"Motion:Enabled=1;Level=15;Sensitivity=80;Triggered=0; \r\nMotion1:Enabled=0; "
    ]
    assert parser.stats.parts == 2
    assert parser.stats.resyncs == 0
    assert parser.feed_eof() is False


@pytest.mark.parametrize("size", [1, 2, 3, 5, 13, 64, 1000, 1 << 16, 1 << 20])
def test_same_parts_for_every_chunk_size(size: int) -> None:
    data = SPEC_MONITOR * 50
    whole = parse(data)
    assert len(whole) == 100
    assert parse(data, size=size) == whole


@pytest.mark.parametrize(
    "header",
    [
        "multipart/x-mixed-replace;boundary=myboundary",
        'multipart/x-mixed-replace; boundary="myboundary"',
        "multipart/x-mixed-replace; boundary=--myboundary",
        'Multipart/X-Mixed-Replace;charset=x; BOUNDARY="--myboundary"',
    ],
)
@pytest.mark.parametrize("written", [b"--myboundary", b"----myboundary"])
def test_boundary_forms(header: str, written: bytes) -> None:
    boundary = boundary_from_content_type(header)
    assert boundary.lstrip("-") == "myboundary"
    body = b"\xff\xd8jpeg--bytes\r\n\xff\xd9"
    data = (
        written + b"\r\ncontent-type: image/jpeg\r\n\r\n" + body + b"\r\n"
        + written + b"  \r\nCONTENT-TYPE: image/jpeg\r\n\r\n" + body + b"\r\n"
        + written + b"--\r\n"
    )  # fmt: skip
    parser = MultipartParser(boundary)
    parts = feed_chunked(parser, data, 7)
    assert [p.body for p in parts] == [body, body]
    assert all(p.content_type == "image/jpeg" for p in parts)
    assert parser.done


@pytest.mark.parametrize(
    "header", ["text/plain", "multipart/x-mixed-replace", "multipart/x-mixed-replace;boundary="]
)
def test_bad_content_type(header: str) -> None:
    with pytest.raises(ProtocolError):
        boundary_from_content_type(header)


def test_scanned_parts_lf_only_and_missing_final_crlf() -> None:
    data = (
        b"preamble\n--b\nContent-type: text/plain\n\nMotion:Enabled=0;\n"
        b"--b\nContent-type: text/plain\n\nMotion:Enabled=1;"
        b"--b\n\nIO:Status=00000000000000;\r\n--b--"
    )
    parser = MultipartParser("b")
    parts = feed_chunked(parser, data, 3)
    assert [p.body for p in parts] == [
        b"Motion:Enabled=0;",
        b"Motion:Enabled=1;",
        b"IO:Status=00000000000000;",
    ]
    assert parts[2].headers == {}
    assert parser.stats.preamble_bytes == len(b"preamble\n")


def test_scanned_part_waits_for_the_delimiter_and_ignores_lookalikes() -> None:
    parser = MultipartParser("frame")
    assert parser.feed(b"--frame\r\n\r\nabc--frameX--frame") == []  # undecided: line not complete
    assert parser.in_part
    parts = parser.feed(b"\r\n")
    assert [p.body for p in parts] == [b"abc--frameX"]
    assert parser.feed_eof() is False


def test_content_length_too_long_for_data_resyncs() -> None:
    data = b"--b\r\nContent-Length: 3\r\n\r\nabcJUNK\r\n--b\r\nContent-Length: 2\r\n\r\nok\r\n"
    parser = MultipartParser("b")
    parts = feed_chunked(parser, data, 1)
    assert [p.body for p in parts] == [b"abc", b"ok"]
    assert parser.stats.resyncs == 1
    assert parser.stats.resync_bytes == len(b"JUNK\r\n")


def test_oversized_sized_part_is_refused_before_buffering() -> None:
    parser = MultipartParser("b", max_part_size=1000)
    with pytest.raises(ProtocolError, match="exceeds"):
        parser.feed(b"--b\r\nContent-Length: 1001\r\n\r\n")


def test_oversized_scanned_part_is_refused_with_bounded_buffer() -> None:
    parser = MultipartParser("b", max_part_size=1000)
    parser.feed(b"--b\r\n\r\n")
    with pytest.raises(ProtocolError, match="exceeds"):
        for _ in range(100):
            parser.feed(b"x" * 100)
    assert parser.buffered < 1200


def test_headers_and_preamble_are_bounded() -> None:
    parser = MultipartParser("b", max_header_size=100)
    with pytest.raises(ProtocolError, match="headers"):
        parser.feed(b"--b\r\nX-A: " + b"a" * 200)
    parser = MultipartParser("b", max_resync=50)
    with pytest.raises(ProtocolError, match="preamble"):
        parser.feed(b"z" * 100)


@pytest.mark.parametrize(
    "data",
    [
        b"--b\r\nno colon here\r\n\r\n",
        b"--b\r\nContent-Length: -1\r\n\r\n",
        b"--b\r\nContent-Length: 1x\r\n\r\n",
        b"--b\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    ],
)
def test_malformed_headers(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        MultipartParser("b").feed(data)


def test_eof_mid_part_is_reported() -> None:
    parser = MultipartParser("b")
    parser.feed(b"--b\r\nContent-Length: 10\r\n\r\n12345")
    assert parser.in_part
    assert parser.feed_eof() is True
    assert parser.feed(b"more") == []


def test_parts_before_a_fault_are_returned_then_the_fault_raised() -> None:
    parser = MultipartParser("b")
    parts = parser.feed(b"--b\r\nContent-Length: 1\r\n\r\nx\r\n--b\r\nbad header\r\n\r\n")
    assert [p.body for p in parts] == [b"x"]
    with pytest.raises(ProtocolError, match="malformed"):
        parser.feed(b"")
    with pytest.raises(ProtocolError, match="malformed"):
        parser.feed_eof()


def test_epilogue_ignored() -> None:
    parser = MultipartParser("b")
    parts = parser.feed(b"--b\r\nContent-Length: 1\r\n\r\nx\r\n--b--\r\ntrailing garbage")
    assert [p.body for p in parts] == [b"x"]
    assert parser.done
    assert parser.feed(b"--b\r\nContent-Length: 1\r\n\r\ny") == []
    assert parser.stats.epilogue_bytes > 0


def run_all(data: bytes, cuts: list[int]) -> tuple[list[Part], str]:
    parser = MultipartParser("xb", max_part_size=300, max_header_size=120, max_resync=400)
    parts: list[Part] = []
    prev = 0
    try:
        for cut in [*sorted(cuts), len(data)]:
            parts.extend(parser.feed(data[prev:cut]))
            prev = cut
        truncated = parser.feed_eof()
    except ProtocolError as exc:
        return parts, str(exc)
    return parts, f"truncated={truncated}"


_NOISE = st.sampled_from(
    [b"--xb", b"--xb--", b"\r\n", b"\n", b" ", b"-", b"Content-Length: 3", b":", b"abc", b"\xff"]
)


@st.composite
def _structured(draw: st.DrawFn) -> bytes:
    """A plausible stream (sized and scanned parts, odd line ends), then lightly corrupted."""
    out = [draw(st.sampled_from([b"", b"\r\n", b"junk"]))]
    for _ in range(draw(st.integers(0, 6))):
        body = draw(st.binary(max_size=40) | st.sampled_from([b"--xb", b"a\r\n--xbz", b""]))
        eol = draw(st.sampled_from([b"\r\n", b"\n"]))
        out.append(b"--xb" + draw(st.sampled_from([b"", b" ", b"\t "])) + eol)
        out.append(draw(st.sampled_from([b"", b"Content-type: t/p" + eol])))
        if draw(st.booleans()):
            delta = draw(st.sampled_from([0, 0, 0, -2, 3]))
            out.append(b"Content-Length: %d" % max(0, len(body) + delta) + eol)
        out.append(eol + body + draw(st.sampled_from([b"\r\n", b"", b"\r\n\r\n", b" "])))
    out.append(draw(st.sampled_from([b"", b"--xb--", b"--xb--\r\n"])))
    data = bytearray(b"".join(out))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(_NOISE)
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(st.binary(max_size=600), st.lists(_NOISE, max_size=40).map(b"".join), _structured()),
    st.lists(st.integers(min_value=0, max_value=600), max_size=30),
)
def test_fuzz_only_parts_or_protocol_error_and_chunking_invariant(
    data: bytes, cuts: list[int]
) -> None:
    cuts = [c for c in cuts if c <= len(data)]
    whole = run_all(data, [])
    chunked = run_all(data, cuts)
    bytewise = run_all(data, list(range(len(data))))
    assert chunked == whole
    assert bytewise == whole
    for part in whole[0]:
        assert isinstance(part, Part)
        assert len(part.body) <= 300
