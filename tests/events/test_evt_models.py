"""Event-data text (spec 5.4.2): every example of the spec parsed byte for byte, IO decoding."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipcam_async.api.event_models import (
    ChangeKind,
    EventData,
    IoStatus,
    MotionStatus,
    TamperingStatus,
    diff_event_data,
    format_event_data,
    parse_event_data,
)
from ipcam_async.errors import ProtocolError

# Bodies of the spec's action=get examples, exactly as printed (trailing spaces, blank lines).
GET_MOTION = b"Motion:Enabled=0;\r\n"
GET_MOTION_MOTION2 = (
    b"Motion:Enabled=0;\r\nMotion2:Enabled=1;Level=15;Sensitivity=80;Triggered=0;\r\n"
)
GET_MOTION_MOTION1_IO = (
    b"Motion:Enabled=1;Level=0;Sensitivity=80;Triggered=0;\r\n"
    b"Motion1:Enabled=0; \r\n"
    b"IO:Status=00000100000000;\r\n"
    b"\r\n"
)
GET_FILTERED = b"Motion:Enabled=1;Triggered=0; \r\nMotion1:Enabled=0; \r\n\r\n"


def test_spec_get_motion() -> None:
    data = parse_event_data(GET_MOTION)
    assert data.motion == (MotionStatus("Motion", enabled=False),)
    assert data.io is None and data.tampering is None
    assert data.groups == ("Motion",)


def test_spec_get_motion_motion2() -> None:
    data = parse_event_data(GET_MOTION_MOTION2)
    assert data.motion_window("Motion") == MotionStatus("Motion", enabled=False)
    assert data.motion_window("Motion2") == MotionStatus(
        "Motion2", enabled=True, level=15, sensitivity=80, triggered=False
    )
    assert data.motion_window("Motion1") is None


def test_spec_get_motion_motion1_io() -> None:
    data = parse_event_data(GET_MOTION_MOTION1_IO)
    assert data.motion == (
        MotionStatus("Motion", True, 0, 80, False),
        MotionStatus("Motion1", enabled=False),
    )
    assert data.io is not None
    # 00 00 01 00 00 00 00: only XX2 bit 0 is set, i.e. Output1 is closed.
    assert data.io.outputs_closed == (True,) + (False,) * 7
    assert data.io.output(1).closed is True
    assert not any(data.io.inputs_enabled + data.io.inputs_closed + data.io.outputs_active)
    assert data.io.to_hex() == "00000100000000"
    assert data.groups == ("Motion", "Motion1", "IO")


def test_spec_get_filtered_by_motion_param() -> None:
    data = parse_event_data(GET_FILTERED)
    assert data.motion == (
        MotionStatus("Motion", enabled=True, triggered=False),
        MotionStatus("Motion1", enabled=False),
    )
    # Level and Sensitivity were filtered out: unknown, not zero.
    assert data.motion[0].level is None


def test_spec_monitor_part_bodies() -> None:
    # The two parts of the monitor example, as cut by their Content-Length (74 and 75).
    first = parse_event_data(
        b"Motion:Enabled=1;Level=0;Sensitivity=80;Triggered=0; \r\nMotion1:Enabled=0; ",
        received=12.5,
    )
    second = parse_event_data(
        b"Motion:Enabled=1;Level=15;Sensitivity=80;Triggered=0; \r\nMotion1:Enabled=0; \r\n\r\n"
    )
    assert first.motion_window() == MotionStatus("Motion", True, 0, 80, False)
    assert second.motion_window() == MotionStatus("Motion", True, 15, 80, False)
    assert first.received == 12.5


def test_io_status_bit_order_matches_spec_text() -> None:
    # "a2 => 10100010 means Input8, 6, and 2 are enabled. Input7, 5, 4, 3 and 1 are disabled."
    io = IoStatus.from_hex("a2000000000000")
    enabled = [line.number for line in io.inputs if line.enabled]
    assert enabled == [2, 6, 8]
    io = IoStatus.from_hex("0102040810204F")
    assert io.input(1).enabled and io.input(2).closed
    assert io.output(3).closed and io.input(4).normally_closed
    assert io.output(5).active_when_closed and io.input(6).active
    assert [o.number for o in io.outputs if o.active] == [1, 2, 3, 4, 7]
    assert IoStatus.from_hex(io.to_hex()) == io


@pytest.mark.parametrize("bad", ["", "0000", "000001000000000", "zz000100000000", "0x0001000000"])
def test_io_status_malformed(bad: str) -> None:
    with pytest.raises(ProtocolError):
        IoStatus.from_hex(bad)


@pytest.mark.parametrize(
    "text",
    [
        "Motion Enabled=1;",
        "Motion:Enabled;",
        "Motion:Enabled=2;",
        "Motion:Level=101;",
        "Motion:Level=-1;",
        "IO:Status=123;",
        "T0:Triggered=yes;",
    ],
)
def test_malformed_lines(text: str) -> None:
    with pytest.raises(ProtocolError):
        parse_event_data(text)


def test_tampering_both_spellings_and_unknown_group_kept() -> None:
    data = parse_event_data("T0:Enable=1;Triggered=1;\nX9:Foo=bar;\n")
    assert data.tampering == TamperingStatus(enabled=True, triggered=True)
    assert dict(data.extra["X9"]) == {"Foo": "bar"}
    assert parse_event_data("T0:Enabled=0;").tampering == TamperingStatus(enabled=False)


def test_format_round_trip_and_spec_bytes() -> None:
    for body in (GET_MOTION, GET_MOTION_MOTION2):
        assert format_event_data(parse_event_data(body)).encode() == body
    data = parse_event_data(GET_MOTION_MOTION1_IO)
    text = format_event_data(data, trailing_space=True)
    assert text.startswith("Motion:Enabled=1;Level=0;Sensitivity=80;Triggered=0; \r\n")
    assert parse_event_data(text) == data


def test_diff_transitions() -> None:
    before = EventData(
        motion=(MotionStatus("Motion1", True, 0, 80, False),),
        io=IoStatus.from_hex("00000000000000"),
        tampering=TamperingStatus(True, False),
    )
    after = EventData(
        motion=(MotionStatus("Motion1", True, 42, 80, True),),
        io=IoStatus.from_hex("00040000000401"),
        tampering=TamperingStatus(True, True),
        received=5.0,
    )
    changes = diff_event_data(before, after)
    assert [(c.kind, c.source, c.line, c.level) for c in changes] == [
        (ChangeKind.MOTION_TRIGGERED, "Motion1", None, 42),
        (ChangeKind.INPUT_CLOSED, "Input3", 3, None),
        (ChangeKind.INPUT_ACTIVE, "Input3", 3, None),
        (ChangeKind.OUTPUT_ACTIVE, "Output1", 1, None),
        (ChangeKind.TAMPERING_TRIGGERED, "T0", None, None),
    ]
    assert all(c.received == 5.0 for c in changes)
    back = [(c.kind, c.source) for c in diff_event_data(after, before)]
    assert back == [
        (ChangeKind.MOTION_CLEARED, "Motion1"),
        (ChangeKind.INPUT_OPENED, "Input3"),
        (ChangeKind.INPUT_INACTIVE, "Input3"),
        (ChangeKind.OUTPUT_INACTIVE, "Output1"),
        (ChangeKind.TAMPERING_CLEARED, "T0"),
    ]
    assert changes[0].describe() == "Motion1 motion-triggered level=42"
    # Groups missing on one side produce nothing.
    assert diff_event_data(EventData(), after) == []
    # A disabled window ("Enabled=0" only) that comes up triggered is a trigger.
    disabled = EventData(motion=(MotionStatus("Motion", enabled=False),))
    up = EventData(motion=(MotionStatus("Motion", True, 50, 80, True),))
    assert [c.kind for c in diff_event_data(disabled, up)] == [ChangeKind.MOTION_TRIGGERED]
    filtered = EventData(motion=(MotionStatus("Motion", level=3),))
    assert diff_event_data(filtered, up) == []


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.lists(
            st.sampled_from(
                ["Motion", "Motion1", "IO", "T0", ":", ";", "=", "Enabled", "Level", "Status",
                 "Triggered", "0", "1", "100", "101", "00000100000000", " ", "\r\n", "\n", "x"]
            ),
            max_size=40,
        ).map("".join),
    )
)  # fmt: skip
def test_fuzz_event_text_gives_data_or_protocol_error(data: bytes | str) -> None:
    try:
        parsed = parse_event_data(data)
    except ProtocolError:
        return
    assert isinstance(parsed, EventData)
    # Whatever parsed, re-encoded, parses to the same data.
    assert parse_event_data(format_event_data(parsed)).motion == parsed.motion
