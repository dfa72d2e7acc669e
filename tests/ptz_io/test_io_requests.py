"""input.cgi / output.cgi requests and answers (spec 5.4.1), without a socket."""

from __future__ import annotations

import pytest
from ptzio_fakes import RecordingCamera

from ipcam_async.api.io import IoApi, PortStates, build_check, output_action, parse_port_states
from ipcam_async.errors import InvalidArgument, ProtocolError


def api(answer: bytes) -> tuple[IoApi, list[str]]:
    camera = RecordingCamera(answer=answer)
    return IoApi(camera), camera.transport.sent  # type: ignore[arg-type]


async def test_spec_example_input_check() -> None:
    io, sent = api(b"Input1=0")
    states = await io.inputs(1)
    # http://myserver/cgi-bin/io/input.cgi?check=1  →  Input1=0
    assert sent == ["GET /cgi-bin/io/input.cgi?check=1"]
    assert states == PortStates(kind="input", query="check", states=((1, False),))
    assert dict(states) == {1: False}


async def test_spec_example_output_action() -> None:
    io, sent = api(b"OK")
    await io.set_output(1, True)
    await io.set_output(1, False)
    # http://myserver/cgi-bin/io/output.cgi?action=1:/ ; the backslash escaped (RFC 2396 2.4.3).
    assert sent == [
        "GET /cgi-bin/io/output.cgi?action=1:/",
        "GET /cgi-bin/io/output.cgi?action=1:%5C",
    ]


async def test_several_ports_in_one_request() -> None:
    io, sent = api(b"Input1=active\r\nInput3=inactive\r\n")
    states = await io.inputs_active(1, 3, 1)
    assert sent == ["GET /cgi-bin/io/input.cgi?checkactive=1,3"]
    assert states[1] is True and states[3] is False and list(states) == [1, 3]
    io, sent = api(b"Output2=1\nOutput1=0\n")
    states = await io.outputs(1, 2)
    assert sent == ["GET /cgi-bin/io/output.cgi?check=1,2"]
    assert dict(states) == {2: True, 1: False}
    io, sent = api(b"Output4=active")
    assert (await io.outputs_active(4))[4] is True
    assert sent == ["GET /cgi-bin/io/output.cgi?checkactive=4"]


@pytest.mark.parametrize(
    "call",
    [
        lambda io: io.inputs(),
        lambda io: io.inputs(0),
        lambda io: io.inputs(1, 9),
        lambda io: io.outputs("1"),
        lambda io: io.outputs_active(True),
        lambda io: io.set_output(0, True),
        lambda io: io.set_output(9, False),
        lambda io: io.activate(-1),
    ],
)
async def test_bad_ports_raise_before_sending(call) -> None:  # type: ignore[no-untyped-def]
    io, sent = api(b"OK")
    with pytest.raises(InvalidArgument):
        await call(io)
    assert sent == []


@pytest.mark.parametrize(
    ("text", "kind", "query"),
    [
        ("Output1=0", "input", "check"),  # the other kind of port
        ("Input1=2", "input", "check"),
        ("Input1=active", "input", "check"),  # checkactive word to a check query
        ("Input1=on", "input", "checkactive"),
        ("Input=1", "input", "check"),
        ("hello", "output", "check"),
    ],
)
def test_parse_refuses_unexpected_answers(text: str, kind: str, query: str) -> None:
    with pytest.raises(ProtocolError):
        parse_port_states(text, kind, query)  # type: ignore[arg-type]


def test_parse_requires_every_asked_port() -> None:
    with pytest.raises(ProtocolError, match=r"\[2\]"):
        parse_port_states("Input1=1", "input", "check", [1, 2])


async def test_unexpected_action_answer_is_a_protocol_error() -> None:
    io, _sent = api(b"FAILED")
    with pytest.raises(ProtocolError):
        await io.activate(1)


def test_builders() -> None:
    assert build_check("check", [2, 1, 2]) == [("check", "2,1")]
    assert output_action(8, True) == "8:/"
    assert output_action(1, False) == "1:\\"
