"""Property checks: every value the tables accept survives the wire; everything else is refused."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ipcam_async.api.io import parse_port_states
from ipcam_async.api.ptz import parse_position
from ipcam_async.api.ptz_models import (
    FloatRange,
    IntRange,
    PtzModelClass,
    capabilities_for,
)
from ipcam_async.errors import InvalidArgument

PTZ = capabilities_for(PtzModelClass.FULL_HD_IP_PTZ)
GENERIC = capabilities_for(PtzModelClass.GENERIC)
FLOATS = {n: s for n, s in GENERIC.commands.items() if isinstance(s, FloatRange)}
INTS = {n: s for n, s in GENERIC.commands.items() if isinstance(s, IntRange)}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(FLOATS)), st.floats(allow_nan=False, allow_infinity=False))
def test_float_parameters_round_trip_or_refuse(name: str, value: float) -> None:
    spec = FLOATS[name]
    if spec.low <= value <= spec.high:
        text = GENERIC.check_command(name, value)
        assert "e" not in text.lower()
        assert abs(GENERIC.parse_command(name, text) - value) <= 0.0005 + 1e-9  # type: ignore[operator]
    else:
        try:
            GENERIC.check_command(name, value)
        except InvalidArgument as exc:
            assert exc.argument == name and exc.value == value
        else:
            raise AssertionError(f"{name}={value} accepted")


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(INTS)), st.integers(-(2**40), 2**40))
def test_int_parameters_round_trip_or_refuse(name: str, value: int) -> None:
    spec = INTS[name]
    if spec.low <= value <= spec.high:
        assert GENERIC.parse_command(name, GENERIC.check_command(name, value)) == value
    else:
        try:
            GENERIC.check_command(name, value)
        except InvalidArgument:
            pass
        else:
            raise AssertionError(f"{name}={value} accepted")


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-180, 180),
    st.floats(-10, 190),
    st.integers(0, 9999),
    st.integers(0, 9999),
    st.sampled_from(["\r\n", "\n"]),
)
def test_position_answers_parse_back(
    pan: float, tilt: float, zoom: int, focus: int, eol: str
) -> None:
    text = eol.join([f"pan={pan:.2f}", f"tilt={tilt:.2f}", f"zoom={zoom}", f"focus={focus}"])
    position = parse_position(text + eol)
    assert position.pan is not None and position.tilt is not None
    assert abs(position.pan - pan) <= 0.005 + 1e-9 and abs(position.tilt - tilt) <= 0.005 + 1e-9
    assert (position.zoom, position.focus) == (zoom, focus)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.integers(1, 8), st.booleans(), min_size=1, max_size=8))
def test_port_answers_parse_back(states: dict[int, bool]) -> None:
    text = "\r\n".join(f"Output{n}={'active' if v else 'inactive'}" for n, v in states.items())
    parsed = parse_port_states(text, "output", "checkactive", states)
    assert dict(parsed) == states


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_preset_names_are_checked_as_the_spec_says(name: str) -> None:
    ok = (
        1 <= len(name) <= 31
        and "~" not in name
        and not any(ord(c) < 32 or ord(c) == 127 for c in name)
    )
    try:
        text = PTZ.check_config("setserverpresetname", (5, name))
    except InvalidArgument:
        assert not ok
    else:
        assert ok and text == f"5,{name}"
        assert PTZ.parse_config("setserverpresetname", text) == (5, name)
