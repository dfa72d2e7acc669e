"""Every response parser of the HTTP side on hostile input: a result or ProtocolError only."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipcam_async.api.io import parse_port_states
from ipcam_async.api.ptz import (
    parse_info,
    parse_position,
    parse_presets,
    parse_sequence_lines,
)
from ipcam_async.api.system_models import (
    local_filename,
    parse_device_date,
    parse_group_membership,
    parse_jpeg,
    parse_privacy,
    parse_snapshot_path,
    parse_storage_list,
    parse_userinfo,
)
from ipcam_async.api.transfer import content_disposition_filename
from ipcam_async.errors import ProtocolError
from ipcam_async.http.transport import parse_retry_after
from ipcam_async.params import parse_param_list

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text shaped like the camera's answers (names, '=', ':', digits, line ends) plus anything at all.
_ALPHABET = st.sampled_from([*list("=:,.&# \t\r\n\"'{}01azAZ_-\\/"), "\x00", "ÿ", "é", "\u2028"])
HOSTILE_TEXT = st.one_of(st.text(_ALPHABET, max_size=200), st.text(max_size=200))
HOSTILE_BYTES = st.one_of(st.binary(max_size=300), HOSTILE_TEXT.map(lambda t: t.encode()))

TEXT_PARSERS: dict[str, Callable[[str], object]] = {
    "group membership": parse_group_membership,
    "privacy": parse_privacy,
    "userinfo": parse_userinfo,
    "snapshot path": parse_snapshot_path,
    "device date": parse_device_date,
    "storage list": parse_storage_list,
    "local filename": local_filename,
    "ptz position": parse_position,
    "ptz info": parse_info,
    "input check": lambda t: parse_port_states(t, "input", "check", [1, 2]),
    "output checkactive": lambda t: parse_port_states(t, "output", "checkactive"),
    "param list": parse_param_list,
}


@pytest.mark.parametrize("name", sorted(TEXT_PARSERS))
@FUZZ
@given(text=HOSTILE_TEXT)
def test_text_parsers_raise_only_protocol_error(name: str, text: str) -> None:
    with contextlib.suppress(ProtocolError):
        TEXT_PARSERS[name](text)


@FUZZ
@given(data=HOSTILE_BYTES)
def test_byte_parsers_raise_only_protocol_error(data: bytes) -> None:
    for parse in (parse_param_list, parse_jpeg):
        with contextlib.suppress(ProtocolError):
            parse(data)
    # Headers and JPEG segments built to look almost right.
    with contextlib.suppress(ProtocolError):
        parse_jpeg(b"\xff\xd8\xff" + data + b"\xff\xd9")


@FUZZ
@given(st.dictionaries(HOSTILE_TEXT, HOSTILE_TEXT, max_size=12))
def test_tree_parsers_raise_only_protocol_error(tree: dict[str, str]) -> None:
    keys = ["PTZ.Preset.P1.Pan", "GuardTour.G1.Tour.T1.PresetNbr", "G2.Running", "P3.Name"]
    shaped = {**tree, **{k: v for k, v in zip(keys, tree.values(), strict=False)}}
    for parse in (parse_presets, parse_sequence_lines):
        with contextlib.suppress(ProtocolError):
            parse(shaped)


@FUZZ
@given(value=HOSTILE_TEXT)
def test_header_parsers_never_raise(value: str) -> None:
    name = content_disposition_filename(value)
    assert name is None or ("/" not in name and "\\" not in name and name not in {".", ".."})
    seconds = parse_retry_after(value, now=0.0)
    assert seconds is None or seconds >= 0.0


def test_param_list_is_bounded() -> None:
    with pytest.raises(ProtocolError):
        parse_param_list("A.B=1\n" * 100_001)


def test_jpeg_with_overrunning_segment() -> None:
    with pytest.raises(ProtocolError):
        parse_jpeg(b"\xff\xd8\xff\xe0\xff\xff" + b"\x00" * 10 + b"\xff\xd9")
