"""``ipcam demo``: the tour against the in-process simulator, a "real" camera URL, and failures."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import av
import pytest

from ipcam_async.cli import main
from ipcam_async.demo import DEMO_PARAMETER, run_tour, verify_mp4
from ipcam_async.sim import SimulatedCamera

STEPS = ["parameters", "ptz", "io+events", "snapshot", "record"]


def test_demo_runs_the_whole_tour_on_a_simulated_camera(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["demo", "--out", str(tmp_path), "--seconds", "2"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.startswith("ipcam demo: simulated camera NH720 at 127.0.0.1")
    for name in STEPS:
        assert f"  ok   {name}" in out
    assert "all 5 steps passed" in out
    assert (tmp_path / "snapshot.jpg").read_bytes()[:2] == b"\xff\xd8"
    with av.open(str(tmp_path / "h264.mp4")) as container:
        video = container.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (1920, 1080)
        assert container.streams.audio[0].rate == 8000
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == 60


def test_demo_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["demo", "--out", str(tmp_path), "--seconds", "1", "--json", "--transport", "udp"]
    )
    report = json.loads(capsys.readouterr().out)
    assert status == 0 and report["ok"] is True
    assert [s["name"] for s in report["steps"]] == STEPS
    record = report["steps"][-1]["data"]
    assert record["video_frames"] == 30 and record["check"]["decoded_frames"] == 30
    assert record["keyframes"] == 1 and record["lost_frames"] == 0


async def test_demo_against_a_camera_url_is_read_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with SimulatedCamera(mjpeg=False) as sim:
        before = sim.state.params[DEMO_PARAMETER]
        url = f"http://admin:1234@127.0.0.1:{sim.http_port}"
        args = ["demo", "--camera", url, "--rtsp-port", str(sim.rtsp_port)]
        args += ["--out", str(tmp_path), "--seconds", "1"]
        status = await asyncio.to_thread(main, args)
        out = capsys.readouterr().out
        assert status == 0, out
        assert "1234" not in out
        assert "(read-only)" in out.splitlines()[0]
        assert "  skip ptz" in out and "  skip io+events" in out
        assert "  ok   record" in out
        assert sim.state.params[DEMO_PARAMETER] == before
        assert (sim.state.ptz.pan, sim.state.ptz.tilt) == (0.0, 0.0)
        assert not sim.state.outputs[0].active


async def test_a_failing_step_is_named(tmp_path: Path) -> None:
    async with SimulatedCamera(mjpeg=False) as sim, sim.camera() as cam:
        sim.faults.rtsp.fail_next(503, times=1000, methods=("DESCRIBE",))
        report = await run_tour(cam, out_dir=tmp_path, target="sim", seconds=1)
    assert report.failed == ("record",)
    assert not report.ok
    assert "FAILED: record" in report.to_text()
    assert "503" in report.steps[-1].summary


def test_verify_mp4_counts_what_was_written(tmp_path: Path) -> None:
    status = main(["demo", "--out", str(tmp_path), "--seconds", "1", "--stream", "h264_3"])
    assert status == 0
    check = verify_mp4(tmp_path / "h264_3.mp4")
    assert check is not None
    assert (check.width, check.height) == (640, 360)
    assert check.decoded_frames == check.video_frames == 30
    assert abs(check.duration - 1.0) < 0.05 and abs(check.audio_seconds - 1.0) < 0.1
