"""``ipcam demo`` end to end: the simulated tour's numbers, the printed table, the formats."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sys
from pathlib import Path

import av
import pytest
from PIL import Image

from ipcam_async import demo
from ipcam_async.cli import main
from ipcam_async.demo import DEMO_PARAMETER, run_simulated_demo, verify_mp4

STEPS = ["parameters", "ptz", "io+events", "snapshot", "record"]


def _json_run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    status = main(["demo", "--json", *args])
    captured = capsys.readouterr()
    return status, json.loads(captured.out)


def test_default_tour_records_five_seconds_and_checks_every_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, report = _json_run(["--out", str(tmp_path)], capsys)
    assert status == 0, report
    assert report["ok"] is True and report["failed"] == []
    steps = {s["name"]: s for s in report["steps"]}  # type: ignore[attr-defined]
    assert list(steps) == STEPS
    assert all(s["result"] == "ok" for s in steps.values())

    params = steps["parameters"]["data"]
    assert params["read_back"] == "Demo camera & tour" and params["parameter"] == DEMO_PARAMETER
    assert params["count"] > params["in_group"] > 0

    ptz = steps["ptz"]["data"]
    assert (ptz["pan"], ptz["tilt"], ptz["zoom"]) == (45.0, 10.0, 2000)
    # The head travels: positions between the start and the target were seen on the way.
    assert ptz["pan_trail"][0] == 0.0 and ptz["pan_trail"][-1] == 45.0
    assert any(0 < p < 45 for p in ptz["pan_trail"])

    assert steps["io+events"]["data"]["change"] == "output-active"
    assert 0 <= steps["io+events"]["data"]["latency"] < 5

    snap = steps["snapshot"]["data"]
    with Image.open(snap["path"]) as image:
        image.load()
        assert image.size == (snap["width"], snap["height"]) == (640, 360)

    record = steps["record"]["data"]
    assert record["expected_frames"] == 150
    assert record["video_frames"] == 150 and record["lost_frames"] == 0
    assert record["keyframes"] == 5  # GOP 30 at 30 fps
    assert (record["width"], record["height"]) == (1920, 1080)
    assert record["stream_fps"] == 30.0
    assert abs(record["audio_samples"] - 40000) <= 320  # 5 s of 8 kHz µ-law, 2 packets slack
    check = record["check"]
    assert check["video_frames"] == check["decoded_frames"] == 150
    assert abs(check["duration"] - 5.0) < 0.05 and abs(check["audio_seconds"] - 5.0) < 0.05
    assert check["decoder"].startswith("PyAV")
    # Independently of the demo's own checks, FFmpeg's demuxer agrees about the file.
    with av.open(record["path"]) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.audio[0].rate == 8000
        assert sum(1 for _ in container.decode(video=0)) == 150


def test_printed_table_and_temporary_output_directory(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["demo", "--seconds", "1", "--mjpeg"])
    out = capsys.readouterr().out
    assert status == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("ipcam demo: simulated camera NH720 at 127.0.0.1 (HTTP port ")
    assert "MJPEG port" in lines[0]
    match = re.fullmatch(r"files in (.+)", lines[1])
    assert match is not None
    out_dir = Path(match.group(1))
    try:
        assert out_dir.name.startswith("ipcam-demo-")
        assert lines[2].split() == ["step", "time", "numbers"]
        for name in [*STEPS[:-1], "mjpeg", "record"]:
            row = next(line for line in lines if line.startswith(f"  ok   {name} "))
            assert re.search(r" \d+\.\d\d s  \S", row), row
        assert "30 frames (expected 30)" in out
        assert re.search(r"all 6 steps passed in \d+\.\d s; files in ", lines[-1])
        assert lines[-1].endswith(str(out_dir))
        assert sorted(p.name for p in out_dir.iterdir()) == [
            "h264.mp4",
            "mjpeg.jpg",
            "snapshot.jpg",
        ]
        with Image.open(out_dir / "mjpeg.jpg") as image:
            assert image.size == (640, 360)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


def test_raw_h264_over_udp(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, report = _json_run(
        [
            "--out",
            str(tmp_path),
            "--seconds",
            "1",
            "--format",
            "h264",
            "--transport",
            "udp",
            "--stream",
            "h264_2",
        ],
        capsys,
    )
    assert status == 0, report
    record = report["steps"][-1]  # type: ignore[index]
    data = record["data"]
    assert data["container"] == "h264" and data["path"].endswith("h264_2.h264")
    assert data["video_frames"] == 30 and data["check"]["decoded_frames"] == 30
    assert (data["check"]["width"], data["check"]["height"]) == (1280, 720)
    assert data["check"]["keyframes"] == 1
    # µ-law is one byte per sample at 8 kHz.
    assert abs((tmp_path / "h264_2.ulaw").stat().st_size - 8000) <= 320
    assert any("no timestamps" in note for note in record["notes"])
    with av.open(data["path"], format="h264") as container:
        assert sum(1 for _ in container.decode(video=0)) == 30


def test_without_pyav_the_builtin_parser_verifies_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # "import av" now fails
    status, report = _json_run(["--out", str(tmp_path), "--seconds", "1"], capsys)
    assert status == 0, report
    record = report["steps"][-1]  # type: ignore[index]
    check = record["data"]["check"]
    assert check["decoded_frames"] is None
    assert check["decoder"] == "built-in MP4 parser (PyAV not installed)"
    assert check["video_frames"] == 30 and check["keyframes"] == 1 and check["fragments"] == 1
    assert (check["width"], check["height"]) == (1920, 1080)
    assert abs(check["duration"] - 1.0) < 0.05 and abs(check["audio_seconds"] - 1.0) < 0.05
    assert any("pip install av" in note for note in record["notes"])
    monkeypatch.delitem(sys.modules, "av")
    # The built-in numbers are those PyAV finds in the same file.
    full = verify_mp4(tmp_path / "h264.mp4")
    assert full.decoded_frames == check["video_frames"]
    assert abs(full.audio_seconds - check["audio_seconds"]) < 0.02


async def test_in_process_tour_restores_state_and_leaks_nothing(tmp_path: Path) -> None:
    seen: list[str] = []
    sims: list[object] = []
    report = await run_simulated_demo(
        out_dir=tmp_path,
        seconds=1,
        mjpeg=True,
        step_progress=lambda step: seen.append(step.name),
        on_started=sims.append,
    )
    assert report.ok, report.to_text()
    assert seen == [*STEPS[:-1], "mjpeg", "record"]
    sim = sims[0]
    state = sim.state  # type: ignore[attr-defined]
    assert state.params[DEMO_PARAMETER] == "Camera 1"  # restored
    assert not state.outputs[0].active  # restored
    assert report.to_text().endswith(report.verdict())
    await asyncio.sleep(0)
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_without_the_record_module_it_falls_back_to_annexb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "_record_module_available", lambda: False)
    report = await run_simulated_demo(out_dir=tmp_path, seconds=0.5, stream="h264_3")
    assert report.ok, report.to_text()
    record = report.step("record")
    assert record.data["container"] == "h264" and record.data["video_frames"] == 15
    assert record.data["check"]["decoded_frames"] == 15
    assert "recorded raw Annex B H.264" in record.notes[0]
    assert not (tmp_path / "h264_3.mp4").exists()
    assert (tmp_path / "h264_3.h264").stat().st_size > 0
