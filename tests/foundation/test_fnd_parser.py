"""The sans-io param-list parser, ParamTree and the spec's query encoding."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipcam_async.errors import InvalidArgument, ProtocolError
from ipcam_async.http.query import decode_query, encode_query, encode_value
from ipcam_async.params import ParamList, ParamTree, parse_param_list

SPEC_EXAMPLE = b"root.Network.IPAddress=192.168.0.250\nroot.Network.SubnetMask=255.255.255.0\n"


def test_parses_the_spec_example() -> None:
    parsed = parse_param_list(SPEC_EXAMPLE)
    assert parsed.pairs == (
        ("Network.IPAddress", "192.168.0.250"),
        ("Network.SubnetMask", "255.255.255.0"),
    )
    assert parsed.errors == ()


def test_crlf_blank_lines_equals_in_values_and_no_root() -> None:
    data = b"\r\nroot.A.B=x=y==\r\n\r\n\nC.D=\r\nroot.E.F= spaced value \n"
    assert parse_param_list(data).pairs == (
        ("A.B", "x=y=="),
        ("C.D", ""),
        ("E.F", " spaced value "),
    )


def test_error_lines_are_collected_not_mixed_into_pairs() -> None:
    parsed = parse_param_list(b"root.A.B=1\n# Error: Error -1 getting param in group 'X'\n")
    assert parsed.pairs == (("A.B", "1"),)
    assert parsed.errors == ("Error -1 getting param in group 'X'",)


@pytest.mark.parametrize(
    "line",
    [
        b"no equals sign",
        b"=value without name",
        b"bad name=1",
        b"a..b=1",
        b".a=1",
        b"# a comment",
        b"root.=1",
    ],
)
def test_malformed_lines_raise_protocol_error(line: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_param_list(b"root.Ok.Name=1\n" + line + b"\n")


def test_latin1_bodies_decode() -> None:
    assert parse_param_list(b"A.B=caf\xe9\n").pairs == (("A.B", "caf\u00e9"),)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=512))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    try:
        result = parse_param_list(data)
    except ProtocolError:
        return
    assert isinstance(result, ParamList)
    for name, value in result.pairs:
        assert name and not name.startswith("root.")
        assert "\n" not in value


_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,8}(\.[A-Za-z0-9_]{1,8}){0,3}", fullmatch=True)
_values = st.text(st.characters(exclude_characters="\r\n", codec="utf-8"), max_size=40)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(_names, _values), max_size=20),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
def test_round_trip_of_generated_listings(
    pairs: list[tuple[str, str]], eol: str, root: bool
) -> None:
    body = "".join(f"{'root.' if root else ''}{n}={v}{eol}" for n, v in pairs)
    parsed = parse_param_list(body.encode())
    # Values keep their whitespace; a blank-looking line can only come from an empty pair list.
    assert list(parsed.pairs) == pairs


def test_param_tree_views_and_typed_getters() -> None:
    tree = ParamTree(
        parse_param_list(
            b"root.Network.IPAddress=10.0.0.2\nroot.Network.HTTPPort=80\n"
            b"root.Event.E1.Enabled=yes\nroot.Event.E1.Sensitivity=80\nroot.PTZ.Limit.MinPan=-180.5\n"
            b"root.Properties.Image.Resolution=1920x1080, 1280x720\n"
        ).pairs
    )
    assert tree["root.Network.IPAddress"] == tree["Network.IPAddress"] == "10.0.0.2"
    assert "root.Network.HTTPPort" in tree and "Network.Nope" not in tree
    assert tree.get_int("Network.HTTPPort") == 80
    assert tree.get_int("Network.Missing", 7) == 7
    assert tree.get_float("PTZ.Limit.MinPan") == -180.5
    assert tree.get_bool("Event.E1.Enabled") is True
    assert tree.get_list("Properties.Image.Resolution") == ["1920x1080", "1280x720"]
    event = tree.group("Event.E1")
    assert dict(event) == {"Enabled": "yes", "Sensitivity": "80"}
    assert event.get_int("Sensitivity") == 80
    assert tree.group("Event").group("E1")["Enabled"] == "yes"
    assert tree.groups() == ["Network", "Event", "PTZ", "Properties"]
    assert len(tree) == 6 and len(event) == 2
    with pytest.raises(KeyError):
        tree.group("Nope")
    with pytest.raises(ProtocolError):
        tree.get_int("Network.IPAddress")
    with pytest.raises(ProtocolError):
        tree.get_bool("Network.IPAddress")


def test_query_encoding_follows_spec_5_1_1() -> None:
    assert encode_value("My camera") == "My%20camera"
    reserved = ";/?:@&=+,$"
    assert encode_value(reserved) == "%3B%2F%3F%3A%40%26%3D%2B%2C%24"
    assert encode_query([("action", "list"), ("group", "Event"), ("group", "Network")]) == (
        "action=list&group=Event&group=Network"
    )
    assert encode_query([("sgrp", "dido:camctrl")], safe=":") == "sgrp=dido:camctrl"
    assert encode_query([("group", "Motion,Motion1")], safe=",") == "group=Motion,Motion1"
    assert encode_value("\u00e9\r\n") == "%C3%A9%0D%0A"
    with pytest.raises(InvalidArgument):
        encode_query([("a", "b")], safe="&")


def test_decode_query_inverts_encode() -> None:
    pairs = [("A.B", "My camera, #1 & 2+2=4 100%"), ("x", ""), ("x", "é")]
    assert decode_query(encode_query(pairs)) == pairs
