"""``ipcam ptz ...`` and ``ipcam io ...`` against the simulated camera."""

from __future__ import annotations

import asyncio
import json

import pytest

from ipcam_async.cli import main
from ipcam_async.sim import SimulatedCamera
from ipcam_async.sim.ptz_head import PtzHead
from ipcam_async.sim.state import CameraState


def _target(sim: SimulatedCamera) -> list[str]:
    return [
        "--host",
        sim.host,
        "--port",
        str(sim.http_port),
        "--user",
        "admin",
        "--password",
        sim.password,
    ]


async def ipcam(sim: SimulatedCamera, *argv: str) -> int:
    return await asyncio.to_thread(main, [*argv, *_target(sim)])


async def test_ptz_commands(capsys: pytest.CaptureFixture[str]) -> None:
    now = [100.0]
    state = CameraState(model="NH720")
    state.ptz = PtzHead(clock=lambda: now[0])
    async with SimulatedCamera(state=state, rtsp=False, mjpeg=False) as sim:
        assert await ipcam(sim, "ptz", "goto", "--pan", "-45", "--tilt", "10") == 0
        now[0] += 10
        assert await ipcam(sim, "ptz", "set-preset", "3", "Front door") == 0
        assert await ipcam(sim, "ptz", "move", "up") == 0
        now[0] += 10
        capsys.readouterr()
        assert await ipcam(sim, "ptz", "position") == 0
        assert capsys.readouterr().out.splitlines()[:2] == ["pan=-45", "tilt=15"]
        assert await ipcam(sim, "ptz", "goto-preset", "3") == 0
        assert capsys.readouterr().out == "going to preset 3\n"
        now[0] += 10
        assert await ipcam(sim, "ptz", "position", "--json") == 0
        data = json.loads(capsys.readouterr().out)
        assert (data["pan"], data["tilt"]) == (-45.0, 10.0)
        assert await ipcam(sim, "ptz", "presets", "--json") == 0
        assert json.loads(capsys.readouterr().out)[0]["name"] == "Front door"
        assert await ipcam(sim, "ptz", "add-sequence") == 0
        assert capsys.readouterr().out.strip() == "GuardTour.G1"
        assert await ipcam(sim, "ptz", "add-point", "1", "3", "--wait", "5") == 0
        assert await ipcam(sim, "ptz", "sequences") == 0
        assert "T1: preset 3, speed 10, wait 5 s" in capsys.readouterr().out
        # Bad input: refused locally with exit status 1 and one error line.
        assert await ipcam(sim, "ptz", "goto-preset", "300") == 1
        assert "InvalidArgument" in capsys.readouterr().err
        assert await ipcam(sim, "ptz", "add-point", "1", "9") == 1
        assert "existing preset" in capsys.readouterr().err
        assert (
            await ipcam(sim, "ptz", "continuous", "-50", "0") == 1
        )  # not a Full HD IP PTZ command
        assert await ipcam(sim, "ptz", "continuous", "-50", "0", "--class", "zoom") == 1
        assert "ParameterError" in capsys.readouterr().err  # the device refuses it too


async def test_io_commands(capsys: pytest.CaptureFixture[str]) -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim:
        sim.state.inputs[1].closed = True
        assert await ipcam(sim, "io", "input", "1", "2") == 0
        assert capsys.readouterr().out.splitlines() == ["Input1=0", "Input2=1"]
        assert await ipcam(sim, "io", "input", "2", "--active") == 0
        assert capsys.readouterr().out.strip() == "Input2=active"
        assert await ipcam(sim, "io", "output", "1", "on") == 0
        assert sim.state.outputs[0].active
        capsys.readouterr()
        assert await ipcam(sim, "io", "output", "1,2", "--json") == 0
        assert json.loads(capsys.readouterr().out) == {"1": True, "2": False}
        assert await ipcam(sim, "io", "output", "1", "off") == 0
        assert not sim.state.outputs[0].active
        assert await ipcam(sim, "io", "output", "1", "2", "--active") == 0
        assert capsys.readouterr().out.splitlines()[-2:] == ["Output1=inactive", "Output2=inactive"]
        assert await ipcam(sim, "io", "output", "9", "on") == 1
