"""input.cgi / output.cgi against the simulated camera over loopback (spec 5.4.1)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from ptzio_fakes import WireLog

from ipcam_async.camera import Camera
from ipcam_async.errors import AuthError, InvalidArgument, ParameterError
from ipcam_async.sim import SimulatedCamera


@asynccontextmanager
async def wired(auth: str = "auto") -> AsyncIterator[tuple[SimulatedCamera, Camera, WireLog]]:
    wire = WireLog()
    async with (
        SimulatedCamera(rtsp=False, mjpeg=False) as sim,
        aiohttp.ClientSession(trace_configs=[wire.config]) as session,
        sim.camera(session=session, auth=auth) as cam,
    ):
        yield sim, cam, wire


async def test_spec_example_input_check_answer_bytes() -> None:
    async with wired() as (_sim, cam, wire):
        response = await cam.transport.request(
            "GET", "/cgi-bin/io/input.cgi", params=[("check", "1")]
        )
        assert response.body == b"Input1=0"
        assert response.content_type == "text/plain"
        states = await cam.io.inputs(1)
        assert wire.targets[-1] == "/cgi-bin/io/input.cgi?check=1"
        assert dict(states) == {1: False}


@pytest.mark.parametrize("auth", ["digest", "basic"])
async def test_spec_example_output_action_wire_form_and_state(auth: str) -> None:
    async with wired(auth) as (sim, cam, wire):
        version = sim.state.version
        await cam.io.set_output(1, True)
        assert wire.targets[-1] == "/cgi-bin/io/output.cgi?action=1:/"
        assert sim.state.outputs[0].active is True
        assert sim.state.version > version
        await cam.io.set_output(1, False)
        assert wire.targets[-1] == "/cgi-bin/io/output.cgi?action=1:%5C"
        assert sim.state.outputs[0].active is False
        response = await cam.transport.request(
            "GET", "/cgi-bin/io/output.cgi", params=[("action", "3:/")], safe=":/"
        )
        assert response.body == b"OK"
        assert sim.state.outputs[2].active is True


async def test_output_change_wakes_a_state_waiter() -> None:
    async with wired() as (sim, cam, _wire):
        version = sim.state.version
        waiter = asyncio.create_task(sim.state.wait_changed(version, timeout=5.0))
        await asyncio.sleep(0)
        await cam.io.activate(4)
        assert await asyncio.wait_for(waiter, 5.0) > version
        assert sim.state.outputs[3].active
        # Setting the state it already has is not a change.
        version = sim.state.version
        await cam.io.activate(4)
        assert sim.state.version == version


async def test_several_inputs_levels_and_active_states() -> None:
    async with wired() as (sim, cam, wire):
        sim.state.inputs[0].closed = True  # normally open, closed: active
        sim.state.inputs[1].normally_closed = True  # normally closed, open: active
        sim.state.inputs[2].closed = True
        sim.state.inputs[2].normally_closed = True  # closed as it normally is: inactive
        sim.state.inputs[3].closed = True
        sim.state.inputs[3].enabled = False  # disabled: never active
        levels = await cam.io.inputs(1, 2, 3, 4)
        assert wire.targets[-1] == "/cgi-bin/io/input.cgi?check=1,2,3,4"
        assert dict(levels) == {1: True, 2: False, 3: True, 4: True}
        active = await cam.io.inputs_active(4, 3, 2, 1)
        assert wire.targets[-1] == "/cgi-bin/io/input.cgi?checkactive=4,3,2,1"
        assert list(active.items()) == [(4, False), (3, False), (2, True), (1, True)]


async def test_outputs_levels_follow_the_active_state_setting() -> None:
    async with wired() as (sim, cam, _wire):
        sim.state.outputs[1].active_state = "open"  # active means the relay opens
        await cam.io.set_output(1, True)
        await cam.io.set_output(2, True)
        assert dict(await cam.io.outputs(1, 2, 3)) == {1: True, 2: False, 3: False}
        assert dict(await cam.io.outputs_active(1, 2, 3)) == {1: True, 2: True, 3: False}
        # The same setting through param.cgi (output 2 is IO.Output.O1) is mirrored by the device.
        await cam.params.update({"IO.Output.O1.Active": "closed"})
        assert dict(await cam.io.outputs(2)) == {2: True}


async def test_bad_ports_are_never_sent() -> None:
    async with wired() as (sim, cam, _wire):
        before = sim.faults.http_requests
        for call in (
            cam.io.inputs(),
            cam.io.inputs(9),
            cam.io.inputs_active(0, 1),
            cam.io.outputs(1, "2"),  # type: ignore[arg-type]
            cam.io.set_output(9, True),
            cam.io.deactivate(0),
        ):
            with pytest.raises(InvalidArgument):
                await call
        assert sim.faults.http_requests == before


async def test_device_refuses_bad_requests() -> None:
    async with wired() as (sim, cam, _wire):
        for path, params in (
            ("/cgi-bin/io/input.cgi", [("check", "9")]),
            ("/cgi-bin/io/input.cgi", [("check", "1;2")]),
            ("/cgi-bin/io/input.cgi", [("action", "1:/")]),
            ("/cgi-bin/io/output.cgi", [("action", "1:x")]),
            ("/cgi-bin/io/output.cgi", [("action", "0:/")]),
            ("/cgi-bin/io/output.cgi", []),
        ):
            with pytest.raises(ParameterError):
                await cam.transport.request("GET", path, params=params, safe=":/")
        assert not any(line.active for line in sim.state.outputs)
        # No id: output 1 (spec: "If omitted, output 1 is selected").
        await cam.transport.request("GET", "/cgi-bin/io/output.cgi", params=[("action", "/")])
        assert sim.state.outputs[0].active


async def test_io_needs_an_administrator() -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim:
        sim.state.add_user("viewer1", "pass1", "viewer")
        async with sim.camera(username="viewer1", password="pass1") as cam:
            with pytest.raises(AuthError):
                await cam.io.inputs(1)
            with pytest.raises(AuthError):
                await cam.io.activate(1)
        assert not sim.state.outputs[0].active
