"""The exact ptz.cgi / ptzconfig.cgi requests, the spec's examples, and the answer parsers."""

from __future__ import annotations

import pytest
from ptzio_fakes import RecordingCamera

from ipcam_async.api.ptz import PtzApi, PtzPosition, parse_info, parse_position
from ipcam_async.api.ptz_models import PtzModelClass
from ipcam_async.errors import InvalidArgument, ProtocolError


def api(model: str | None = "NH720", answer: bytes = b"") -> tuple[PtzApi, list[str]]:
    camera = RecordingCamera(model, answer)
    return PtzApi(camera), camera.transport.sent  # type: ignore[arg-type]


async def test_spec_example_center_mode() -> None:
    ptz, sent = api()
    await ptz.center(2, 4, image_width=722, image_height=578, stream="h264")
    # http://myserver/cgi-bin/com/ptz.cgi?center=2,4&imageheight=578&imagewidth=722&stream=h264
    assert sent == [
        "GET /cgi-bin/com/ptz.cgi?center=2,4&imageheight=578&imagewidth=722&stream=h264"
    ]


async def test_spec_example_info() -> None:
    answer = b"Available commands:\r\nmove={home|up}\r\npan=[-180.0 ... 180.0]\r\ninfo={1}\r\n"
    ptz, sent = api(answer=answer)
    info = await ptz.info()
    assert sent == ["GET /cgi-bin/com/ptz.cgi?info=1"]
    assert info.names == ("move", "pan", "info")
    assert info.supports("PAN") and not info.supports("tilt")


@pytest.mark.parametrize(
    ("call", "query"),
    [
        (lambda p: p.move("up"), "move=up"),
        (lambda p: p.home(), "move=home"),
        (lambda p: p.pan(-180), "pan=-180"),
        (lambda p: p.tilt(190.0), "tilt=190"),
        (lambda p: p.zoom(9999), "zoom=9999"),
        (lambda p: p.focus(0), "focus=0"),
        (lambda p: p.goto(pan=12.25, tilt=-3.5, zoom=10), "pan=12.25&tilt=-3.5&zoom=10"),
        (
            lambda p: p.relative(pan=-360, tilt=5, zoom=-9999, focus=1),
            "rpan=-360&rtilt=5&rzoom=-9999&rfocus=1",
        ),
        (lambda p: p.autofocus(True), "autofocus=on"),
        (lambda p: p.autofocus("off"), "autofocus=off"),
        (lambda p: p.goto_preset(256), "gotoserverpresetno=256"),
        (lambda p: p.run_autopan(4), "gotoserverautopanno=4"),
        (lambda p: p.run_cruise(8), "gotoservercruiseno=8"),
        (lambda p: p.run_sequence(1), "gotoserversequenceno=1"),
    ],
)
async def test_ptz_commands_of_the_full_hd_ip_ptz(call, query: str) -> None:  # type: ignore[no-untyped-def]
    ptz, sent = api()
    await call(ptz)
    assert sent == [f"GET /cgi-bin/com/ptz.cgi?{query}"]


@pytest.mark.parametrize(
    ("call", "query"),
    [
        (lambda p: p.set_preset(3), "setserverpresetno=3"),
        (lambda p: p.set_preset(3, "My camera"), "setserverpresetname=3,My%20camera"),
        (lambda p: p.set_preset(4, "a&b=c/d?"), "setserverpresetname=4,a%26b%3Dc%2Fd%3F"),
        (lambda p: p.remove_preset("My camera"), "removeserverpresetname=My%20camera"),
        (lambda p: p.remove_preset("a,b"), "removeserverpresetname=a%2Cb"),
        (lambda p: p.remove_preset(7), "removeserverpresetno=7"),
        (lambda p: p.set_autopan(1, "start"), "setserverautopan=1,start"),
        (lambda p: p.set_autopan_direction(2, "left", 3), "setserverautopandirspeed=2,left,3"),
        (lambda p: p.set_cruise(8, "end"), "setservercruise=8,end"),
        (lambda p: p.set_home(), "home=yes"),
    ],
)
async def test_ptzconfig_requests(call, query: str) -> None:  # type: ignore[no-untyped-def]
    ptz, sent = api()
    await call(ptz)
    assert sent == [f"GET /cgi-bin/com/ptzconfig.cgi?{query}"]


async def test_continuous_moves_per_class() -> None:
    ptz, sent = api("NH073-18x")
    await ptz.continuous_pan_tilt(-100, 50)
    await ptz.stop()
    assert sent == [
        "GET /cgi-bin/com/ptz.cgi?continuouspantiltmove=-100,50",
        "GET /cgi-bin/com/ptz.cgi?continuouspantiltmove=0,0",
    ]
    ptz, sent = api("NH223")
    await ptz.continuous_zoom(-100)
    await ptz.continuous_focus(100)
    await ptz.zoom_steps(-128)
    await ptz.focus_steps(64)
    await ptz.autofocus("focusreset")
    await ptz.stop()
    assert sent == [
        "GET /cgi-bin/com/ptz.cgi?continuouszoommove=-100",
        "GET /cgi-bin/com/ptz.cgi?continuousfocusmove=100",
        "GET /cgi-bin/com/ptz.cgi?zoomsteps=-128",
        "GET /cgi-bin/com/ptz.cgi?focusteps=64",
        "GET /cgi-bin/com/ptz.cgi?autofocus=focusreset",
        "GET /cgi-bin/com/ptz.cgi?continuouszoommove=0&continuousfocusmove=0",
    ]
    ptz, sent = api("NH063")
    await ptz.continuous_iris("open")
    assert sent == ["GET /cgi-bin/com/ptz.cgi?continuousirismove=open"]


@pytest.mark.parametrize(
    "call",
    [
        lambda p: p.pan(180.5),
        lambda p: p.tilt(-10.1),
        lambda p: p.zoom(10000),
        lambda p: p.focus(-1),
        lambda p: p.relative(pan=360.1),
        lambda p: p.relative(zoom=-10000),
        lambda p: p.relative(),
        lambda p: p.goto(),
        lambda p: p.move("forward"),
        lambda p: p.autofocus("pushaf"),  # not a Full HD IP PTZ keyword
        lambda p: p.goto_preset(0),
        lambda p: p.goto_preset(257),
        lambda p: p.run_autopan(5),
        lambda p: p.run_cruise(0),
        lambda p: p.run_sequence(9),
        lambda p: p.center(723, 4, image_width=722, image_height=578),
        lambda p: p.center(2, 4, image_width=0, image_height=578),
        lambda p: p.center(2, 4, image_width=722, image_height=578, stream="mjpeg"),
        lambda p: p.continuous_pan_tilt(10, 0),  # the Full HD IP PTZ row does not list it
        lambda p: p.continuous_zoom(10),
        lambda p: p.zoom_steps(3),
        lambda p: p.stop(),
        lambda p: p.set_preset(257),
        lambda p: p.set_preset(1, "x" * 32),
        lambda p: p.set_preset(1, "no~tilde"),
        lambda p: p.set_preset(1, ""),
        lambda p: p.remove_preset(0),
        lambda p: p.remove_preset("bad~name"),
        lambda p: p.set_autopan(5, "start"),
        lambda p: p.set_autopan(1, "begin"),
        lambda p: p.set_autopan_direction(1, "up", 1),
        lambda p: p.set_autopan_direction(1, "left", 4),
        lambda p: p.set_cruise(9, "start"),
        lambda p: p.set_cruise(1, "pause"),
    ],
)
async def test_bad_arguments_raise_before_sending(call) -> None:  # type: ignore[no-untyped-def]
    ptz, sent = api()
    with pytest.raises(InvalidArgument):
        await call(ptz)
    assert sent == []


async def test_model_class_can_be_given_by_the_caller() -> None:
    camera = RecordingCamera(model="NH720")
    ptz = PtzApi(camera, model_class=PtzModelClass.FULL_HD_MULTI_STREAM_ZOOM)  # type: ignore[arg-type]
    assert await ptz.model_class() is PtzModelClass.FULL_HD_MULTI_STREAM_ZOOM
    await ptz.continuous_pan_tilt(1, 2)
    with pytest.raises(InvalidArgument):
        await ptz.pan(10)
    ptz.use_model_class(PtzModelClass.GENERIC)
    await ptz.pan(10)
    await ptz.zoom_steps(2)
    ptz.use_model_class(None)
    assert await ptz.model_class() is PtzModelClass.FULL_HD_IP_PTZ
    assert len(camera.transport.sent) == 3


def test_parse_position_canonical_and_tolerant_forms() -> None:
    assert parse_position("pan=12.5\r\ntilt=-3\r\nzoom=100\r\nfocus=7\r\n") == PtzPosition(
        pan=12.5, tilt=-3.0, zoom=100, focus=7
    )
    position = parse_position("\n  PAN = 1.0 \nTilt=2\n\nzoom=3.6\nautofocus=on\niris=50\n")
    assert (position.pan, position.tilt, position.zoom, position.focus) == (1.0, 2.0, 4, None)
    assert position.iris == 50.0
    assert position.get("autofocus") == "on"
    assert parse_position("pan=1&tilt=2").tilt == 2.0
    assert parse_position("root.PTZ.Position.zoom=5").zoom == 5


@pytest.mark.parametrize(
    "text", ["", "OK", "pan=abc", "pan=nan", "autofocus=on", "garbage line", "=5", "pan=1\nhello"]
)
def test_parse_position_refuses_what_is_not_a_position(text: str) -> None:
    with pytest.raises(ProtocolError):
        parse_position(text)


def test_parse_info_forms() -> None:
    info = parse_info("{camera=[n]}\nmove={home|up}\n\nQuery={position}\nnot a command line\nzoom")
    assert info.names == ("camera", "move", "query", "zoom")
    assert info.commands[1].values == "{home|up}"
    assert len(info) == 4 and [c.name for c in info] == list(info.names)
    with pytest.raises(ProtocolError):
        parse_info("Available commands:\n\n")


async def test_position_query_parses_the_answer() -> None:
    ptz, sent = api(answer=b"pan=-90.5\r\ntilt=45\r\nzoom=0\r\nfocus=9999\r\n")
    position = await ptz.position()
    assert sent == ["GET /cgi-bin/com/ptz.cgi?query=position"]
    assert position == PtzPosition(pan=-90.5, tilt=45.0, zoom=0, focus=9999)
