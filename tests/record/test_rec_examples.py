"""Every script in examples/ runs against the in-process simulated camera and does its job."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import require_module
from rec_helpers import probe

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def run_example(name: str, *args: str, cwd: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_every_example_has_a_test() -> None:
    tested = {
        "record_many.py",
        "monitor_events.py",
        "snapshot_all.py",
        "ptz_tour.py",
        "frames_to_numpy.py",
    }
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


def test_snapshot_all(tmp_path: Path) -> None:
    out = run_example("snapshot_all.py", "--out", "shots", cwd=tmp_path)
    shots = sorted((tmp_path / "shots").glob("*.jpg"))
    assert len(shots) == 3
    for shot in shots:
        data = shot.read_bytes()
        assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
        assert f"{shot.name.split('.')[0]}" in out


def test_ptz_tour(tmp_path: Path) -> None:
    out = run_example("ptz_tour.py", "--dwell", "0", cwd=tmp_path)
    assert "presets: 1=gate, 2=yard, 3=door" in out
    assert "at preset 1 (gate): pan=-30.0 tilt=10.0 zoom=0" in out
    assert "at preset 3 (door): pan=30.0 tilt=20.0 zoom=2000" in out


def test_monitor_events(tmp_path: Path) -> None:
    out = run_example("monitor_events.py", "--seconds", "10", "--events", "4", cwd=tmp_path)
    lines = out.splitlines()
    assert lines[-1] == "4 events", out
    assert any("Motion1 motion-triggered" in line for line in lines), out
    assert any("Output1 output-active" in line for line in lines), out


def test_record_many(tmp_path: Path) -> None:
    out = run_example("record_many.py", "--seconds", "2.5", "--segment", "1", cwd=tmp_path)
    assert "sim0: recording" in out
    files = sorted((tmp_path / "recordings").glob("sim*/*.mp4"))
    assert {f.parent.name for f in files} == {"sim0", "sim1", "sim2"}
    assert len(files) >= 6
    for path in files:
        info = probe(path)
        assert info["codec"] == "h264" and info["frames"] >= 1 and info["errors"] == 0


def test_frames_to_numpy(tmp_path: Path) -> None:
    require_module("numpy")
    out = run_example("frames_to_numpy.py", "--frames", "5", cwd=tmp_path)
    lines = [line for line in out.splitlines() if line.startswith("frame ")]
    assert len(lines) == 5
    assert lines[0].startswith("frame 1: 1920x1080 key=True mean RGB=[")
