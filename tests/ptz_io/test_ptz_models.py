"""The spec's PTZ tables (5.3.1): model → class, per-class ranges, the generic union."""

from __future__ import annotations

import math

import pytest

from ipcam_async.api.ptz_models import (
    SEQUENCE_LINE_SPECS,
    STEP_VALUES,
    PtzModelClass,
    capabilities_for,
    capabilities_for_model,
    classify_model,
    describe_commands,
    format_number,
    supports_sequence_lines,
)
from ipcam_async.errors import InvalidArgument

PTZ = capabilities_for(PtzModelClass.FULL_HD_IP_PTZ)
ZOOM = capabilities_for(PtzModelClass.FULL_HD_MULTI_STREAM_ZOOM)
MOTOR = capabilities_for(PtzModelClass.FULL_HD_MULTI_STREAM_MOTORIZED)
RS485 = capabilities_for(PtzModelClass.FULL_HD_MULTI_STREAM_RS485)
GENERIC = capabilities_for(PtzModelClass.GENERIC)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("NH720", PtzModelClass.FULL_HD_IP_PTZ),
        ("nh820", PtzModelClass.FULL_HD_IP_PTZ),
        ("NH720-E", PtzModelClass.FULL_HD_IP_PTZ),
        ("NH073-10x", PtzModelClass.FULL_HD_MULTI_STREAM_ZOOM),
        ("NH073-18X", PtzModelClass.FULL_HD_MULTI_STREAM_ZOOM),
        ("NH073-3x", PtzModelClass.FULL_HD_MULTI_STREAM_ZOOM),
        ("X0S6-7", PtzModelClass.FULL_HD_MULTI_STREAM_ZOOM),
        ("X0S7-7", PtzModelClass.FULL_HD_MULTI_STREAM_ZOOM),
        ("NH223", PtzModelClass.FULL_HD_MULTI_STREAM_MOTORIZED),
        ("W2 (NV223)", PtzModelClass.FULL_HD_MULTI_STREAM_MOTORIZED),
        ("NV323", PtzModelClass.FULL_HD_MULTI_STREAM_MOTORIZED),
        ("W5", PtzModelClass.FULL_HD_MULTI_STREAM_MOTORIZED),
        ("NH063", PtzModelClass.FULL_HD_MULTI_STREAM_RS485),
        ("X0S6-6", PtzModelClass.FULL_HD_MULTI_STREAM_RS485),
        ("W6 (NV063)", PtzModelClass.FULL_HD_MULTI_STREAM_RS485),
    ],
)
def test_classify_model_names_of_the_tables(name: str, expected: PtzModelClass) -> None:
    assert classify_model(name) is expected


@pytest.mark.parametrize("name", ["", "NH999", "AXIS Q6055", "NH7200", "W22"])
def test_unknown_models_have_no_class_and_get_the_generic_table(name: str) -> None:
    assert classify_model(name) is None
    assert capabilities_for_model(name).model_class is PtzModelClass.GENERIC
    assert capabilities_for_model(None).model_class is PtzModelClass.GENERIC


@pytest.mark.parametrize(
    ("param", "good", "bad"),
    [
        ("pan", [-180.0, 0, 179.5, 180], [-180.01, 180.5, math.nan, math.inf, "10", True]),
        ("tilt", [-10, 0.0, 190], [-10.5, 190.1]),
        ("zoom", [0, 9999], [-1, 10000, 1.5]),
        ("focus", [0, 9999], [-1, 10000]),
        ("rpan", [-360, 360.0], [-360.1, 361]),
        ("rtilt", [-360, 360], [-361, 360.5]),
        ("rzoom", [-9999, 9999], [-10000, 10000]),
        ("rfocus", [-9999, 9999], [-10000, 10000]),
        ("move", ["home", "up", "downright"], ["UP", "forward", 1]),
        ("autofocus", ["on", "off"], ["pushaf", "zoomtrigger", "reset"]),
        ("gotoserverpresetno", [1, 256], [0, 257]),
        ("gotoserverautopanno", [1, 4], [0, 5]),
        ("gotoservercruiseno", [1, 8], [0, 9]),
        ("gotoserversequenceno", [1, 8], [0, 9]),
        ("query", ["position"], ["presetposall"]),
        ("info", ["1"], ["2"]),
        ("stream", ["h264", "h264_2", "jpeg"], ["mjpeg"]),
        ("imagewidth", [1, 1920], [0, -1]),
    ],
)
def test_full_hd_ip_ptz_ranges(param: str, good: list[object], bad: list[object]) -> None:
    for value in good:
        PTZ.check_command(param, value)
    for value in bad:
        with pytest.raises(InvalidArgument) as info:
            PTZ.check_command(param, value)
        assert info.value.argument.startswith(param)


def test_autofocus_keywords_depend_on_the_class() -> None:
    for value in ("on", "off", "zoomtrigger", "pushaf"):
        ZOOM.check_command("autofocus", value)
    with pytest.raises(InvalidArgument):
        ZOOM.check_command("autofocus", "zoomreset")
    for value in ("pushaf", "zoomreset", "focusreset", "reset"):
        MOTOR.check_command("autofocus", value)
    with pytest.raises(InvalidArgument):
        MOTOR.check_command("autofocus", "on")
    for value in ("on", "off", "zoomtrigger", "pushaf", "zoomreset", "focusreset", "reset"):
        GENERIC.check_command("autofocus", value)


def test_commands_a_class_lacks_are_refused_with_the_class_named() -> None:
    with pytest.raises(InvalidArgument, match="Full HD IP PTZ"):
        PTZ.check_command("continuouszoommove", 10)
    with pytest.raises(InvalidArgument, match="Motorized"):
        MOTOR.check_command("pan", 10)
    with pytest.raises(InvalidArgument):
        ZOOM.check_config("removeserverpresetno", 1)
    assert ZOOM.supports("setserverpresetno") and not ZOOM.supports("setserverpresetname")
    assert RS485.supports("continuousirismove") and not PTZ.supports("continuousirismove")
    for caps in (PTZ, ZOOM, MOTOR, RS485):
        # Parameters whose cell names no class belong to every class.
        assert caps.supports("center") and caps.supports("info") and caps.supports("home")


def test_continuous_moves() -> None:
    assert ZOOM.check_command("continuouspantiltmove", (-100, 100)) == "-100,100"
    assert ZOOM.check_command("continuouspantiltmove", [0, 0]) == "0,0"
    for bad in [(101, 0), (0, -101), (1,), (1, 2, 3), "1,2", (1.5, 0)]:
        with pytest.raises(InvalidArgument):
            ZOOM.check_command("continuouspantiltmove", bad)
    assert MOTOR.check_command("continuouszoommove", -100) == "-100"
    assert MOTOR.check_command("continuousfocusmove", 100) == "100"
    with pytest.raises(InvalidArgument):
        MOTOR.check_command("continuouszoommove", 101)
    for value in ("stop", "open", "close"):
        RS485.check_command("continuousirismove", value)
    with pytest.raises(InvalidArgument):
        RS485.check_command("continuousirismove", "half")


def test_zoomsteps_and_focusteps_take_only_the_listed_values() -> None:
    assert set(STEP_VALUES) == {2**k for k in range(8)} | {-(2**k) for k in range(8)}
    for value in STEP_VALUES:
        assert MOTOR.check_command("zoomsteps", value) == str(value)
        assert MOTOR.check_command("focusteps", value) == str(value)
    for bad in (0, 3, 256, -3, 129):
        with pytest.raises(InvalidArgument):
            MOTOR.check_command("zoomsteps", bad)


def test_ptzconfig_compound_values() -> None:
    assert PTZ.check_config("setserverpresetname", (3, "Door, left")) == "3,Door, left"
    assert PTZ.check_config("setserverpresetname", (256, "x" * 31)) == "256," + "x" * 31
    for bad in [(3, "x" * 32), (3, "a~b"), (3, ""), (0, "a"), (3, "a\r\nb")]:
        with pytest.raises(InvalidArgument):
            PTZ.check_config("setserverpresetname", bad)
    assert PTZ.check_config("setserverautopan", (4, "end")) == "4,end"
    assert PTZ.check_config("setserverautopandirspeed", (1, "left", 3)) == "1,left,3"
    for bad in [(1, "up", 1), (1, "left", 4), (5, "left", 0), (1, "left", -1)]:
        with pytest.raises(InvalidArgument):
            PTZ.check_config("setserverautopandirspeed", bad)
    assert PTZ.check_config("setservercruise", (8, "start")) == "8,start"
    with pytest.raises(InvalidArgument):
        PTZ.check_config("setservercruise", (9, "start"))
    assert PTZ.check_config("home", "yes") == "yes"


def test_parse_is_the_inverse_of_check() -> None:
    assert PTZ.parse_command("pan", "-12.5") == -12.5
    assert PTZ.parse_command("zoom", "9999") == 9999
    assert ZOOM.parse_command("continuouspantiltmove", "-5,7") == (-5, 7)
    assert PTZ.parse_config("setserverpresetname", "3,a,b") == (3, "a,b")
    assert PTZ.parse_config("setserverautopandirspeed", "2,right,0") == (2, "right", 0)
    for param, text in [("pan", "abc"), ("pan", "181"), ("zoom", "1e3"), ("zoom", "")]:
        with pytest.raises(InvalidArgument):
            PTZ.parse_command(param, text)
    with pytest.raises(InvalidArgument):
        PTZ.parse_config("setserverautopan", "1")


def test_sequence_line_tables() -> None:
    assert supports_sequence_lines(PtzModelClass.FULL_HD_IP_PTZ)
    assert supports_sequence_lines(PtzModelClass.FULL_HD_MULTI_STREAM_ZOOM)
    assert supports_sequence_lines(PtzModelClass.FULL_HD_MULTI_STREAM_RS485)
    assert not supports_sequence_lines(PtzModelClass.FULL_HD_MULTI_STREAM_MOTORIZED)
    limits = {name: (spec.low, spec.high) for name, spec in SEQUENCE_LINE_SPECS.items()}
    assert limits == {"PresetNbr": (1, 256), "MoveSpeed": (0, 14), "WaitTime": (0, 255)}


def test_format_number_never_uses_an_exponent() -> None:
    assert format_number(12) == "12"
    assert format_number(12.5) == "12.5"
    assert format_number(-0.0001) == "0"
    assert format_number(1e-5) == "0"
    assert format_number(179.9999) == "180"
    assert format_number(-180.0) == "-180"


def test_describe_lists_every_command_of_the_class() -> None:
    described = dict(describe_commands(PTZ))
    assert described["pan"] == "[-180.0 ... 180.0]"
    assert described["move"].startswith("{home|up|down")
    assert "continuouspantiltmove" not in described
    assert dict(describe_commands(ZOOM))["continuouspantiltmove"] == "[-100 ... 100],[-100 ... 100]"
