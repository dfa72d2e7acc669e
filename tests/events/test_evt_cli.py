"""``ipcam events``, ``ipcam mjpeg`` and the event options of ``ipcam sim``, over loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from evt_helpers import wait_for

from ipcam_async.cli import build_parser, main
from ipcam_async.cli.events import sim_events
from ipcam_async.sim import SimulatedCamera
from ipcam_async.sim.http.cgi_events import monitor_hub


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedCamera]:
    camera = SimulatedCamera(rtsp=False)
    camera.state.monitor_interval = 0.2
    camera.state.mjpeg_fps = 30.0
    async with camera:
        yield camera


def _base(sim: SimulatedCamera) -> list[str]:
    return ["--port", str(sim.http_port), "--user", "admin", "--password", sim.password]


async def test_events_get_plain_and_json(
    sim: SimulatedCamera, capsys: pytest.CaptureFixture[str]
) -> None:
    sim.state.set_motion("Motion1", enabled=True, level=90)
    sim.state.set_input(2, True)
    code = await asyncio.to_thread(main, ["events", "get", "--group", "Motion1,IO", *_base(sim)])
    assert code == 0
    out = capsys.readouterr().out
    assert "Motion1: enabled=True level=90 sensitivity=80 triggered=True" in out
    assert "2:closed*" in out
    code = await asyncio.to_thread(main, ["events", "get", "--json", "--group", "T0", *_base(sim)])
    assert code == 0
    assert json.loads(capsys.readouterr().out) == {"T0": {"enabled": False}}


async def test_events_monitor_prints_changes_one_line_each(
    sim: SimulatedCamera, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = monitor_hub(sim.state)

    async def act() -> None:
        await wait_for(lambda: hub.parts_sent >= 1)
        sent = hub.parts_sent
        sim.state.flip_input(6)
        await wait_for(lambda: hub.parts_sent > sent)
        sim.state.set_tampering(True, enabled=True)

    actor = asyncio.create_task(act())
    args = ["events", "monitor", "--count", "3", "--group", "IO,T0", "--json", *_base(sim)]
    code = await asyncio.to_thread(main, args)
    await actor
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["source"], e["kind"]) for e in lines] == [
        ("Input6", "input-closed"),
        ("Input6", "input-active"),
        ("T0", "tampering-triggered"),
    ]


async def test_mjpeg_save(
    sim: SimulatedCamera, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "frames"
    args = ["mjpeg", "save", str(out), "--count", "3", "--mjpeg-port", str(sim.mjpeg_port)]
    code = await asyncio.to_thread(main, [*args, *_base(sim)])
    assert code == 0
    files = sorted(out.glob("frame_*.jpg"))
    assert len(files) == 3
    assert all(f.read_bytes()[:2] == b"\xff\xd8" for f in files)
    assert "saved 3 frames" in capsys.readouterr().out


async def test_sim_options_set_state_and_demo_changes_it() -> None:
    args = build_parser().parse_args(
        ["sim", "--motion-level", "50", "--input-closed", "3", "--tampering", "--mjpeg-fps",
         "25", "--monitor-interval", "2", "--event-demo", "0.02"]
    )  # fmt: skip
    sim = SimulatedCamera(rtsp=False, mjpeg=False)
    async with sim_events(sim, args):
        state = sim.state
        assert state.motion["Motion"].enabled and state.motion["Motion"].triggered
        assert state.inputs[2].closed and state.tampering.triggered
        assert state.mjpeg_fps == 25.0 and state.monitor_interval == 2.0
        version = state.version
        await wait_for(lambda: state.version >= version + 3)
    assert not [t for t in asyncio.all_tasks() if "coro=<_demo" in repr(t)]
