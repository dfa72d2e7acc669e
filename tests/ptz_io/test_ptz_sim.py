"""PTZ against the simulated camera over loopback: moves, presets, tours, sequence lines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from ptzio_fakes import FakeClock, WireLog

from ipcam_async.api.ptz import PtzPosition
from ipcam_async.api.ptz_models import PtzModelClass
from ipcam_async.camera import Camera
from ipcam_async.errors import AuthError, InvalidArgument, ParameterError
from ipcam_async.sim import SimulatedCamera
from ipcam_async.sim.ptz_head import PtzHead
from ipcam_async.sim.state import CameraState


@asynccontextmanager
async def simulator(
    model: str = "NH720", clock: FakeClock | None = None
) -> AsyncIterator[SimulatedCamera]:
    state = CameraState(model=model)
    if clock is not None:
        state.ptz = PtzHead(clock=clock)
    async with SimulatedCamera(model=model, state=state, rtsp=False, mjpeg=False) as sim:
        yield sim


@asynccontextmanager
async def wired_camera(sim: SimulatedCamera, **kw: object) -> AsyncIterator[tuple[Camera, WireLog]]:
    wire = WireLog()
    async with (
        aiohttp.ClientSession(trace_configs=[wire.config]) as session,
        sim.camera(session=session, **kw) as cam,
    ):
        yield cam, wire


async def test_spec_example_center_mode_on_the_wire() -> None:
    clock = FakeClock()
    async with simulator(clock=clock) as sim, wired_camera(sim) as (cam, wire):
        await cam.ptz.center(722, 4, image_width=722, image_height=578, stream="h264")
        assert wire.targets[-1] == (
            "/cgi-bin/com/ptz.cgi?center=722,4&imageheight=578&imagewidth=722&stream=h264"
        )
        clock.advance(5)
        position = await cam.ptz.position()
        # Clicked at the right edge, near the top: the head turned right and up.
        assert position.pan is not None and position.pan > 20
        assert position.tilt is not None and position.tilt > 5


async def test_watch_a_goto_happen_in_real_time() -> None:
    state = CameraState(model="NH720")
    state.ptz = PtzHead(speed_scale=0.25)  # 30 deg/s: 90 degrees take 3 s of wall-clock time
    async with SimulatedCamera(state=state, rtsp=False, mjpeg=False) as sim, sim.camera() as cam:
        await cam.ptz.goto(pan=90, tilt=45)
        first = await cam.ptz.position()
        await asyncio.sleep(0.2)
        second = await cam.ptz.position()
        assert first.pan is not None and second.pan is not None
        assert 0 < first.pan < second.pan < 90  # caught in motion, twice
        assert 0 < second.tilt < 45  # type: ignore[operator]
        assert sim.state.ptz.moving(sim.state.ptz.now())


async def test_absolute_relative_and_step_moves() -> None:
    clock = FakeClock()
    async with simulator(clock=clock) as sim, sim.camera() as cam:
        await cam.ptz.goto(pan=-120.5, tilt=190, zoom=9999, focus=10)
        clock.advance(0.5)
        midway = await cam.ptz.position()
        assert midway.pan == pytest.approx(-60.0, abs=0.01)
        assert midway.zoom == 2500
        clock.advance(10)
        assert await cam.ptz.position() == PtzPosition(-120.5, 190.0, 9999, 10, 50.0)
        await cam.ptz.relative(pan=-100, tilt=-200, zoom=-9999, focus=5)
        clock.advance(10)
        position = await cam.ptz.position()
        assert (position.pan, position.tilt, position.zoom, position.focus) == (
            139.5,  # -220.5 wraps round
            -10.0,  # clamped at the lowest tilt
            0,
            15,
        )
        await cam.ptz.move("downleft")
        await cam.ptz.pan(10)  # a later command in the same moment replaces the pan part
        clock.advance(10)
        position = await cam.ptz.position()
        assert (position.pan, position.tilt) == (10.0, -10.0)
        await cam.ptz.tilt(20)
        await cam.ptz.zoom(30)
        await cam.ptz.focus(40)
        clock.advance(10)
        assert await cam.ptz.position() == PtzPosition(10.0, 20.0, 30, 40, 50.0)


async def test_home_position_and_move_home() -> None:
    clock = FakeClock()
    async with simulator(clock=clock) as sim, sim.camera() as cam:
        await cam.ptz.goto(pan=45, tilt=30, zoom=100)
        clock.advance(10)
        await cam.ptz.set_home()
        await cam.ptz.goto(pan=-45, tilt=0, zoom=0)
        clock.advance(10)
        await cam.ptz.home()
        clock.advance(10)
        position = await cam.ptz.position()
        assert (position.pan, position.tilt, position.zoom) == (45.0, 30.0, 100)


async def test_continuous_pan_tilt_on_a_zoom_class_camera() -> None:
    clock = FakeClock()
    async with simulator("NH073-18x", clock) as sim, sim.camera() as cam:
        assert await cam.ptz.model_class() is PtzModelClass.FULL_HD_MULTI_STREAM_ZOOM
        await cam.ptz.continuous_pan_tilt(50, -100)
        before = await cam.ptz.position()
        clock.advance(1.0)
        after = await cam.ptz.position()
        assert after.pan == pytest.approx(before.pan + 60.0, abs=0.01)  # type: ignore[operator]
        assert after.tilt == -10.0  # ran into the lower limit
        await cam.ptz.stop()
        stopped = await cam.ptz.position()
        clock.advance(5.0)
        assert await cam.ptz.position() == stopped
        assert sim.state.ptz.pan_speed == 0.0


async def test_motorized_lens_zoom_focus_and_autofocus() -> None:
    clock = FakeClock()
    async with simulator("NH223", clock) as sim, sim.camera() as cam:
        head = sim.state.ptz
        await cam.ptz.continuous_zoom(100)
        clock.advance(1.0)
        assert head.zoom == pytest.approx(5000.0)
        await cam.ptz.continuous_zoom(0)
        clock.advance(1.0)
        assert head.zoom == pytest.approx(5000.0)
        await cam.ptz.zoom_steps(-128)
        clock.advance(1.0)
        assert head.zoom == pytest.approx(5000.0 - 128)
        await cam.ptz.focus_steps(-64)  # negative: focus far
        clock.advance(1.0)
        assert head.focus == pytest.approx(64.0)
        await cam.ptz.continuous_focus(-50)  # far, half speed
        clock.advance(0.1)
        assert head.focus == pytest.approx(64.0 + 250.0)
        await cam.ptz.autofocus("pushaf")
        clock.advance(5.0)
        assert head.focus == pytest.approx(head.zoom) and head.autofocus_mode == "pushaf"
        await cam.ptz.autofocus("reset")
        clock.advance(5.0)
        assert (head.zoom, head.focus) == (0.0, 0.0)
        with pytest.raises(InvalidArgument):
            await cam.ptz.position()  # not in the Motorized row of the spec's table


async def test_iris_on_an_rs485_camera() -> None:
    clock = FakeClock()
    async with simulator("NH063", clock) as sim, sim.camera() as cam:
        await cam.ptz.continuous_iris("close")
        clock.advance(0.5)
        assert sim.state.ptz.iris == pytest.approx(25.0)
        await cam.ptz.continuous_iris("stop")
        clock.advance(5)
        assert sim.state.ptz.iris == pytest.approx(25.0)


async def test_presets_by_number_and_name() -> None:
    clock = FakeClock()
    async with simulator(clock=clock) as sim, sim.camera() as cam:
        await cam.ptz.goto(pan=30, tilt=10)
        clock.advance(10)
        await cam.ptz.set_preset(3)
        await cam.ptz.goto(pan=-90, tilt=80, zoom=500)
        clock.advance(10)
        await cam.ptz.set_preset(4, "Door, left~ish"[:10])
        presets = await cam.ptz.presets()
        assert [(p.number, p.name, p.pan, p.tilt) for p in presets] == [
            (3, "", 30.0, 10.0),
            (4, "Door, left", -90.0, 80.0),
        ]
        assert sim.state.presets[4].zoom == 500.0
        await cam.ptz.goto_preset(3)
        clock.advance(0.75)
        assert (await cam.ptz.position()).pan == pytest.approx(0.0)  # -90 → 30 at 120 deg/s
        clock.advance(10)
        position = await cam.ptz.position()
        assert (position.pan, position.tilt, position.zoom) == (30.0, 10.0, 0)

        await cam.ptz.remove_preset("Door, left")
        await cam.ptz.remove_preset(3)
        assert await cam.ptz.presets() == ()
        assert sim.state.presets == {}
        with pytest.raises(ParameterError, match="does not exist"):
            await cam.ptz.goto_preset(3)
        with pytest.raises(ParameterError, match="does not exist"):
            await cam.ptz.remove_preset(3)
        with pytest.raises(ParameterError, match="no preset is named"):
            await cam.ptz.remove_preset("Door, left")


async def test_preset_names_are_percent_encoded_on_the_wire() -> None:
    async with simulator() as sim, wired_camera(sim) as (cam, wire):
        await cam.ptz.set_preset(7, "Gate & yard=1/2")
        assert wire.targets[-1] == (
            "/cgi-bin/com/ptzconfig.cgi?setserverpresetname=7,Gate%20%26%20yard%3D1%2F2"
        )
        assert sim.state.presets[7].name == "Gate & yard=1/2"
        await cam.ptz.remove_preset("Gate & yard=1/2")
        assert wire.targets[-1] == (
            "/cgi-bin/com/ptzconfig.cgi?removeserverpresetname=Gate%20%26%20yard%3D1%2F2"
        )
        assert 7 not in sim.state.presets


async def test_autopan_runs_between_its_start_and_end() -> None:
    clock = FakeClock()
    async with simulator(clock=clock) as sim, sim.camera() as cam:
        await cam.ptz.pan(-30)
        clock.advance(10)
        await cam.ptz.set_autopan(2, "start")
        await cam.ptz.pan(30)
        clock.advance(10)
        await cam.ptz.set_autopan(2, "end")
        await cam.ptz.set_autopan_direction(2, "left", 1)  # half of top speed: 60 deg/s
        line = sim.state.autopan[2]
        assert (line.start, line.end, line.direction, line.speed) == (-30.0, 30.0, "left", 1)
        await cam.ptz.run_autopan(2)
        pans = []
        for _ in range(6):
            clock.advance(0.5)
            pans.append((await cam.ptz.position()).pan)
        # Left first: from 30 down to -30 in 1 s, then back up, and so on.
        assert pans == pytest.approx([0.0, -30.0, 0.0, 30.0, 0.0, -30.0])
        assert sim.state.ptz.tour_name == "autopan 2"
        with pytest.raises(ParameterError, match="autopan line 1"):
            await cam.ptz.run_autopan(1)


async def test_cruise_records_and_replays_a_path() -> None:
    clock = FakeClock()
    async with simulator(clock=clock) as sim, sim.camera() as cam:
        await cam.ptz.set_cruise(1, "start")  # at 0, 0
        await cam.ptz.goto(pan=60)
        clock.advance(10)
        await cam.ptz.goto(pan=60, tilt=45)
        clock.advance(10)
        await cam.ptz.set_cruise(1, "end")
        points = [(p.pan, p.tilt) for p in sim.state.cruise[1].points]
        assert points == [(0.0, 0.0), (60.0, 0.0), (60.0, 45.0)]
        await cam.ptz.run_cruise(1)
        # Each stop: travel at top speed (pan 120, tilt 90 deg/s), then 1 s there, looping.
        expected = {
            0.25: (30.0, 22.5),
            1.0: (0.0, 0.0),
            2.0: (60.0, 0.0),
            3.25: (60.0, 22.5),
            4.0: (60.0, 45.0),
            4.75: (30.0, 22.5),
            5.5: (0.0, 0.0),
            6.25: (30.0, 0.0),
        }
        start = clock.now
        for at, (pan, tilt) in expected.items():
            clock.now = start + at
            position = await cam.ptz.position()
            assert (position.pan, position.tilt) == (pytest.approx(pan), pytest.approx(tilt)), at
        with pytest.raises(ParameterError, match="not being recorded"):
            await cam.ptz.set_cruise(2, "end")
        with pytest.raises(ParameterError, match="cruise line 3"):
            await cam.ptz.run_cruise(3)


async def test_info_lists_the_commands_of_the_model_class() -> None:
    async with simulator("NH073-10x") as sim, sim.camera() as cam:
        info = await cam.ptz.info()
        assert info.supports("continuouspantiltmove") and info.supports("query")
        assert not info.supports("pan")
        assert dict((c.name, c.values) for c in info)["autofocus"] == "{on|off|zoomtrigger|pushaf}"


async def test_device_refuses_what_its_class_lacks() -> None:
    async with simulator() as sim, sim.camera() as cam:
        cam.ptz.use_model_class(PtzModelClass.GENERIC)  # skip the client-side table
        with pytest.raises(ParameterError, match="not supported by Full HD IP PTZ"):
            await cam.ptz.continuous_zoom(10)
        with pytest.raises(ParameterError, match="only used with center"):
            await cam.transport.request(
                "GET", "/cgi-bin/com/ptz.cgi", params=[("pan", "1"), ("stream", "h264")]
            )
        with pytest.raises(ParameterError, match="valid values"):
            await cam.transport.request("GET", "/cgi-bin/com/ptz.cgi", params=[("pan", "200")])
        assert sim.state.ptz.pan == 0.0


async def test_bad_arguments_are_never_sent() -> None:
    async with simulator() as sim, sim.camera() as cam:
        await cam.ptz.position()  # resolves the model class once (one request)
        before = sim.faults.http_requests
        calls = [
            cam.ptz.pan(180.1),
            cam.ptz.tilt(190.5),
            cam.ptz.zoom(-1),
            cam.ptz.relative(pan=400),
            cam.ptz.goto_preset(257),
            cam.ptz.run_sequence(0),
            cam.ptz.set_preset(1, "x" * 32),
            cam.ptz.set_preset(1, "til~de"),
            cam.ptz.set_autopan_direction(1, "right", 4),
            cam.ptz.continuous_pan_tilt(1, 1),  # not for a Full HD IP PTZ
            cam.ptz.add_sequence_point(1, 300),
            cam.ptz.add_sequence_point(1, 1, move_speed=15),
            cam.ptz.add_sequence_point(1, 1, wait_time=256),
            cam.ptz.update_sequence_point(1, 1),
        ]
        for call in calls:
            with pytest.raises(InvalidArgument):
                await call
        assert sim.faults.http_requests == before


async def test_model_class_comes_from_the_properties_when_not_given() -> None:
    async with simulator("NH073-18x") as sim, sim.camera(model=None) as cam:
        assert await cam.ptz.model_class() is PtzModelClass.FULL_HD_MULTI_STREAM_ZOOM
        requests = sim.faults.http_requests
        await cam.ptz.model_class()
        assert sim.faults.http_requests == requests  # read once, then cached


async def test_ptzconfig_needs_an_administrator_and_ptz_cgi_a_viewer() -> None:
    async with simulator() as sim:
        sim.state.add_user("viewer1", "pass1", "viewer")
        async with sim.camera(username="viewer1", password="pass1") as cam:
            await cam.ptz.pan(10)
            with pytest.raises(AuthError):
                await cam.ptz.set_preset(1)
        # Without the model name a viewer cannot read Properties (param.cgi is for
        # administrators): PTZ control still works, checked against the generic table.
        async with sim.camera(username="viewer1", password="pass1", model=None) as cam:
            await cam.ptz.tilt(20)
            assert await cam.ptz.model_class() is PtzModelClass.GENERIC


async def test_sequence_lines_through_param_cgi() -> None:
    clock = FakeClock()
    async with simulator(clock=clock) as sim, wired_camera(sim) as (cam, wire):
        await cam.ptz.model_class()
        await cam.ptz.goto(pan=40)
        clock.advance(10)
        await cam.ptz.set_preset(2)
        await cam.ptz.goto(pan=-40)
        clock.advance(10)
        await cam.ptz.set_preset(3)

        line = await cam.ptz.add_sequence_line()
        assert wire.targets[-1] == "/cgi-bin/admin/param.cgi?action=add&group=GuardTour"
        assert line == "GuardTour.G1"

        # The preset must exist: the presets are read, nothing is added.
        sent = len(wire.targets)
        with pytest.raises(InvalidArgument, match="the camera has: 2, 3"):
            await cam.ptz.add_sequence_point(line, 9)
        assert len(wire.targets) == sent + 1
        assert wire.targets[-1].startswith("/cgi-bin/admin/param.cgi?action=list")

        point = await cam.ptz.add_sequence_point(line, 3, wait_time=5)
        assert wire.targets[-1] == (
            "/cgi-bin/admin/param.cgi?action=add&group=GuardTour.G1.Tour"
            "&GuardTour.G1.Tour.T.PresetNbr=3&GuardTour.G1.Tour.T.WaitTime=5"
        )
        assert point == "GuardTour.G1.Tour.T1"
        await cam.ptz.update_sequence_point(1, 1, preset=2)
        assert wire.targets[-1] == (
            "/cgi-bin/admin/param.cgi?action=update&GuardTour.G1.Tour.T1.PresetNbr=2"
        )
        await cam.ptz.add_sequence_point(1, 3, move_speed=14, wait_time=0)
        lines = await cam.ptz.sequence_lines()
        assert [(sl.group, sl.number) for sl in lines] == [("GuardTour.G0", 1), ("GuardTour.G1", 2)]
        assert [(p.preset, p.move_speed, p.wait_time) for p in lines[1].points] == [
            (2, 10, 5),
            (3, 14, 0),
        ]

        await cam.ptz.run_sequence(2)
        assert sim.state.params["GuardTour.G1.Running"] == "yes"
        # MoveSpeed 10 is (10 + 1) / 15 of the top 120 deg/s: 88 deg/s from -40 towards 40.
        clock.advance(0.5)
        assert (await cam.ptz.position()).pan == pytest.approx(4.0)
        clock.advance(0.5)
        assert (await cam.ptz.position()).pan == 40.0  # waiting 5 s at preset 2
        clock.advance(5.0)
        # Arrived at 80 / 88 s, waited 5 s, now heading for preset 3 at MoveSpeed 14 (full speed).
        leaving = 6.0 - 80 / 88 - 5.0
        assert (await cam.ptz.position()).pan == pytest.approx(40.0 - 120.0 * leaving, abs=0.01)
        assert (await cam.ptz.sequence_lines())[1].running
        await cam.ptz.pan(0)  # any command ends the tour
        assert sim.state.params["GuardTour.G1.Running"] == "no"

        with pytest.raises(ParameterError, match="no point"):
            await cam.ptz.run_sequence(1)  # G0 has no points
        await cam.ptz.remove_sequence_point(1, 2)
        await cam.ptz.remove_sequence_line("GuardTour.G1")
        assert [sl.group for sl in await cam.ptz.sequence_lines()] == ["GuardTour.G0"]


async def test_sequence_lines_are_refused_for_a_motorized_camera() -> None:
    async with simulator("NH323") as sim, sim.camera() as cam:
        with pytest.raises(InvalidArgument, match=r"5\.3\.1\.2"):
            await cam.ptz.add_sequence_line()
