"""eventdata.cgi?action=get over loopback: the spec's requests, validation, simulator state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from evt_helpers import raw_server

from ipcam_async.api.event_models import IoStatus, MotionStatus, TamperingStatus
from ipcam_async.api.events import EventsApi
from ipcam_async.camera import Camera
from ipcam_async.errors import InvalidArgument, ParameterError, ProtocolError
from ipcam_async.sim import SimulatedCamera

# (spec request query, spec response body) of every action=get example in 5.4.2.
SPEC_GET = [
    (("Motion",), None, "action=get&group=Motion", b"Motion:Enabled=0;\r\n"),
    (
        ("Motion", "Motion2"),
        None,
        "action=get&group=Motion,Motion2",
        b"Motion:Enabled=0;\r\nMotion2:Enabled=1;Level=15;Sensitivity=80;Triggered=0;\r\n",
    ),
    (
        ("Motion", "Motion1", "IO"),
        None,
        "action=get&group=Motion,Motion1,IO",
        b"Motion:Enabled=1;Level=0;Sensitivity=80;Triggered=0;\r\nMotion1:Enabled=0; \r\n"
        b"IO:Status=00000100000000;\r\n\r\n",
    ),
    (
        ("Motion", "Motion1"),
        ("Enabled", "Triggered"),
        "action=get&group=Motion,Motion1&MotionParam=Enabled,Triggered",
        b"Motion:Enabled=1;Triggered=0; \r\nMotion1:Enabled=0; \r\n\r\n",
    ),
]


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedCamera]:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as camera:
        yield camera


@pytest.mark.parametrize(("groups", "motion_params", "query", "body"), SPEC_GET)
async def test_spec_get_examples_request_and_response(
    groups: tuple[str, ...], motion_params: tuple[str, ...] | None, query: str, body: bytes
) -> None:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.raw_path)
        # The spec's header spelling, and its (wrong) Content-length is not reproduced:
        # aiohttp computes the real one.
        return web.Response(body=body, headers={"Content-type": "text/plain"})

    async with raw_server(handler) as port, Camera("127.0.0.1", port) as cam:
        data = await cam.events.get(groups, motion_params=motion_params)
    assert seen == ["/cgi-bin/admin/eventdata.cgi?" + query]
    assert data.groups == tuple(g for g in groups if g != "Motion2" or b"Motion2" in body)
    if query.endswith("Motion1,IO"):
        assert data.io == IoStatus.from_hex("00000100000000")
        assert data.motion[0] == MotionStatus("Motion", True, 0, 80, False)


async def test_malformed_answer_is_protocol_error() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="Motion:Enabled=7;\r\n")

    async with raw_server(handler) as port, Camera("127.0.0.1", port) as cam:
        with pytest.raises(ProtocolError):
            await cam.events.get(["Motion"])


def test_build_params_filters() -> None:
    assert EventsApi.build_params(
        "get", ["T0", "IO"], io_params=["Status"], tampering_params=("Triggered", "Enabled")
    ) == [
        ("action", "get"),
        ("group", "T0,IO"),
        ("IOParam", "Status"),
        ("TamperingParam", "Triggered,Enabled"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"groups": ["Motion4"]}, "groups"),
        ({"groups": []}, "groups"),
        ({"groups": ["Motion"], "motion_params": ["Speed"]}, "motion_params"),
        ({"groups": ["IO"], "io_params": ["status"]}, "io_params"),
        ({"groups": ["T0"], "tampering_params": ["Level"]}, "tampering_params"),
    ],
)
async def test_bad_arguments_raise_before_sending(
    sim: SimulatedCamera, kwargs: dict[str, object], argument: str
) -> None:
    async with sim.camera() as cam:
        before = sim.faults.http_requests
        with pytest.raises(InvalidArgument) as info:
            await cam.events.get(**kwargs)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument):
            cam.events.monitor(**kwargs)  # type: ignore[arg-type]
        assert sim.faults.http_requests == before
    assert info.value.argument == argument
    assert isinstance(info.value, ValueError)


async def test_simulator_state_in_get(sim: SimulatedCamera) -> None:
    state = sim.state
    state.set_motion("Motion1", enabled=True, sensitivity=70, level=40)
    state.set_input(3, True)
    state.set_input(5, enabled=False)
    state.set_input(8, False, normally_closed=True)
    state.outputs[1].active = True
    state.outputs[2].active_state = "open"
    state.set_tampering(True, enabled=True)
    async with sim.camera() as cam:
        data = await cam.events.get()
        assert data.motion_window("Motion1") == MotionStatus("Motion1", True, 40, 70, True)
        assert data.motion_window("Motion") == MotionStatus("Motion", enabled=False)
        assert data.tampering == TamperingStatus(True, True)
        io = data.io
        assert io is not None
        assert [i.number for i in io.inputs if not i.enabled] == [5]
        assert [i.number for i in io.inputs if i.closed] == [3]
        assert [i.number for i in io.inputs if i.active] == [3, 8]
        assert io.input(8).normally_closed
        assert [o.number for o in io.outputs if o.active] == [2]
        # Output 2 is active with active state "closed" → closed; output 3 idle, active "open"
        # → closed when inactive.
        assert [o.number for o in io.outputs if o.closed] == [2, 3]
        assert not io.output(3).active_when_closed
        filtered = await cam.events.get(
            ["Motion1", "T0"], motion_params=["Level"], tampering_params=["Triggered"]
        )
        assert filtered.motion == (MotionStatus("Motion1", level=40),)
        assert filtered.tampering == TamperingStatus(triggered=True)
        assert filtered.io is None


async def test_simulator_rejects_unknown_group(sim: SimulatedCamera) -> None:
    async with sim.camera() as cam:
        with pytest.raises(ParameterError, match="group"):
            await cam.transport.request(
                "GET",
                "/cgi-bin/admin/eventdata.cgi",
                params=[("action", "get"), ("group", "Motion9")],
                safe=",",
            )


@pytest.mark.parametrize("index", [2, 3])
async def test_spec_get_http_bytes_with_the_spec_content_length(index: int) -> None:
    # The spec's HTTP/1.0 answers verbatim, Content-length included (101 and 51: shorter than
    # the bodies printed, so the client reads that many bytes and the tolerant parser copes).
    groups, motion_params, _query, body = SPEC_GET[index]
    length = {2: 101, 3: 51}[index]
    raw = (
        b"HTTP/1.0 200 OK\r\nContent-type: text/plain\r\nContent-length: %d\r\n\r\n" % length + body
    )

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(raw)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with Camera("127.0.0.1", port) as cam:
            data = await cam.events.get(groups, motion_params=motion_params)
    finally:
        server.close()
        await server.wait_closed()
    assert data.motion[1] == MotionStatus("Motion1", enabled=False)
    if index == 2:
        assert data.io == IoStatus.from_hex("00000100000000")
    else:
        assert data.motion[0] == MotionStatus("Motion", enabled=True, triggered=False)
