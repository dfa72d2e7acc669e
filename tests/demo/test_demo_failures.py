"""``ipcam demo`` failure reporting, ``--camera URL`` (read-only and ``--write``), secrets."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from ipcam_async.api.ptz import PTZ_PATH
from ipcam_async.cli import main
from ipcam_async.demo import DEMO_PARAMETER, run_tour, verify_mp4
from ipcam_async.errors import ProtocolError
from ipcam_async.sim import SimulatedCamera

PASSWORD = "Pw-9f3Kq-never-shown"


def _url(sim: SimulatedCamera) -> str:
    return f"http://admin:{PASSWORD}@127.0.0.1:{sim.http_port}"


async def test_failing_steps_are_named_and_the_others_still_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with SimulatedCamera(password=PASSWORD, mjpeg=False) as sim:
        before = sim.state.params[DEMO_PARAMETER]
        sim.faults.fail_next(500, times=1000, path=PTZ_PATH)
        sim.faults.rtsp.fail_next(503, times=1000, methods=("DESCRIBE",))
        args = ["demo", "--camera", _url(sim), "--rtsp-port", str(sim.rtsp_port), "--write"]
        args += ["--out", str(tmp_path), "--seconds", "1"]
        status = await asyncio.to_thread(main, args)
        captured = capsys.readouterr()
        assert status == 1
        lines = captured.out.splitlines()
        assert lines[0] == f"ipcam demo: camera http://***@127.0.0.1:{sim.http_port}"
        for name in ("parameters", "io+events", "snapshot"):
            assert any(line.startswith(f"  ok   {name} ") for line in lines), captured.out
        ptz_row = next(line for line in lines if line.startswith("  FAIL ptz "))
        assert "InternalServerError" in ptz_row
        assert any(line.startswith("  FAIL record ") for line in lines)
        assert lines[-1].startswith("FAILED: ptz, record")
        assert captured.err.startswith("ipcam demo: failed: ptz, record (ptz: ")
        assert "503" in captured.err
        assert PASSWORD not in captured.out + captured.err
        # --write restored what it changed, even though other steps failed.
        assert sim.state.params[DEMO_PARAMETER] == before
        assert not sim.state.outputs[0].active


async def test_read_only_tour_of_a_camera_url_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with SimulatedCamera(password=PASSWORD) as sim:
        args = ["demo", "--camera", _url(sim), "--rtsp-port", str(sim.rtsp_port)]
        args += ["--mjpeg-port", str(sim.mjpeg_port), "--mjpeg", "--json"]
        args += ["--out", str(tmp_path), "--seconds", "1", "--transport", "udp"]
        requests_before = sim.faults.http_requests
        status = await asyncio.to_thread(main, args)
        captured = capsys.readouterr()
        assert PASSWORD not in captured.out + captured.err
        report = json.loads(captured.out)
        assert status == 0, report
        assert report["target"].endswith("(read-only)")
        results = {s["name"]: s["result"] for s in report["steps"]}
        assert results == {
            "parameters": "ok",
            "ptz": "skip",
            "io+events": "skip",
            "snapshot": "ok",
            "mjpeg": "ok",
            "record": "ok",
        }
        record = report["steps"][-1]["data"]
        # Against a "real" camera the expected count comes from the camera's own SDP framerate.
        assert record["stream_fps"] == 30.0 and record["expected_frames"] == 30
        assert record["video_frames"] == 30
        assert sim.faults.http_requests > requests_before
        assert sim.state.params[DEMO_PARAMETER] == "Camera 1"
        assert (sim.state.ptz.pan, sim.state.ptz.tilt) == (0.0, 0.0)
        assert not sim.state.outputs[0].active


async def test_wrong_password_fails_every_step_without_printing_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with SimulatedCamera(mjpeg=False) as sim:
        url = f"http://admin:{PASSWORD}@127.0.0.1:{sim.http_port}"
        args = ["demo", "--camera", url, "--rtsp-port", str(sim.rtsp_port), "--json"]
        args += ["--out", str(tmp_path), "--seconds", "1"]
        status = await asyncio.to_thread(main, args)
        captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert status == 1
    assert report["failed"] == ["parameters", "ptz", "io+events", "snapshot", "record"]
    assert all("AuthError" in s["summary"] for s in report["steps"]), report
    assert PASSWORD not in captured.out + captured.err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--write"]) == 2
    assert "go with --camera" in capsys.readouterr().err
    assert main(["demo", "--camera", "ftp://cam.example/"]) == 2
    assert "--camera wants a URL" in capsys.readouterr().err
    assert main(["demo", "--seconds", "0"]) == 2
    assert "--seconds" in capsys.readouterr().err


async def test_a_corrupted_recording_fails_verification(tmp_path: Path) -> None:
    async with SimulatedCamera(mjpeg=False) as sim, sim.camera() as cam:
        report = await run_tour(cam, out_dir=tmp_path, target="sim", seconds=1)
    assert report.ok, report.to_text()
    good = tmp_path / "h264.mp4"
    assert verify_mp4(good).video_frames == 30
    data = bytearray(good.read_bytes())
    mdat = data.index(b"mdat")
    # The first sample's first NAL length now runs past its sample.
    data[mdat + 4 : mdat + 8] = b"\x7f\xff\xff\xff"
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(bytes(data))
    with pytest.raises(ProtocolError, match="runs past its sample"):
        verify_mp4(bad)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(good.read_bytes()[: len(data) // 2])
    with pytest.raises(ProtocolError):
        verify_mp4(truncated)


async def test_a_ptz_head_that_stops_short_fails_the_ptz_step_only(tmp_path: Path) -> None:
    async with SimulatedCamera(mjpeg=False) as sim, sim.camera() as cam:
        frozen = sim.state.ptz.clock()
        sim.state.ptz.clock = lambda: frozen  # the motors never get anywhere
        report = await run_tour(cam, out_dir=tmp_path, target="sim", seconds=0.5)
    assert report.failed == ("ptz",), report.to_text()
    ptz = report.step("ptz")
    assert ptz.summary.startswith("the head stopped at pan 0 tilt 0 zoom 0, short of pan 45")
    assert 2.0 < ptz.seconds < 10
