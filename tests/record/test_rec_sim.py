"""The recorder against the simulated camera's RTSP server, over real loopback sockets."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rec_helpers import complete_video_frames, probe

from ipcam_async.cli import main
from ipcam_async.record import Recorder, SegmentInfo
from ipcam_async.sim import SimulatedCamera

ROOT = Path(__file__).resolve().parents[2]


def check_segment(info: SegmentInfo) -> None:
    """A finished segment as FFmpeg sees it: H.264 1080p + PCMU, every frame, evenly timed."""
    data = probe(info.path)
    assert (data["codec"], data["width"], data["height"]) == ("h264", 1920, 1080)
    assert data["audio_codec"] == "pcm_mulaw"
    assert data["errors"] == 0
    assert data["frames"] == info.video_frames
    # 30 fps: the duration and the frame count agree within one frame.
    assert abs(data["frames"] - info.duration * 30) <= 1
    gaps = [b - a for a, b in zip(data["pts"], data["pts"][1:], strict=False)]
    assert all(abs(g - 1 / 30) < 0.002 for g in gaps)


def mp4_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*/*.mp4"))


def fragments_written(directory: Path, frames: int = 45) -> bool:
    files = mp4_files(directory)
    return bool(files) and complete_video_frames(files[0].read_bytes()) >= frames


async def wait_for(condition: object, limit: float = 15.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def test_records_the_simulator_into_segments_ffmpeg_reads(tmp_path: Path) -> None:
    async with SimulatedCamera(mjpeg=False) as sim, sim.camera() as cam:
        async with Recorder(tmp_path, segment=1.0) as rec:
            recording = rec.add(cam, "h264", name="sim")
            await wait_for(lambda: recording.stats.segments >= 2)
            assert recording.stats.lag is not None and recording.stats.lag < 2.0
        assert recording.stats.state == "stopped"
    finished = list(rec.finished)
    assert len(finished) >= 3  # two rotations, then the segment closed at shutdown
    assert [f.reason for f in finished[:2]] == ["rotate", "rotate"]
    for info in finished:
        check_segment(info)
    assert all(abs(f.duration - 1.0) < 0.05 for f in finished[:2])
    assert recording.stats.written_frames == sum(f.video_frames for f in finished)
    assert recording.stats.lost == 0 and recording.stats.errors == 0


async def test_a_camera_that_drops_and_comes_back_gets_new_segments(tmp_path: Path) -> None:
    async with SimulatedCamera(mjpeg=False) as sim, sim.camera() as cam:
        sim.faults.rtsp.drop_tcp_after = 1.2
        async with Recorder(tmp_path, segment=60, backoff_initial=0.05, backoff_max=0.2) as rec:
            recording = rec.add(cam, "h264", name="flaky")
            # Two connections recorded and cut by the camera, then a third one under way.
            await wait_for(
                lambda: recording.stats.segments >= 2 and recording.stats.current_file is not None
            )
            assert recording.stats.reconnects >= 2 and recording.stats.errors >= 2
    finished = list(rec.finished)
    assert len(finished) >= 3
    assert [f.reason for f in finished[:2]] == ["disconnect", "disconnect"]
    assert len({f.path for f in finished}) == len(finished)
    for info in finished:
        check_segment(info)


async def test_one_camera_down_does_not_disturb_the_others(tmp_path: Path) -> None:
    async with (
        SimulatedCamera(mjpeg=False) as good_sim,
        SimulatedCamera(mjpeg=False) as bad_sim,
        good_sim.camera() as good_cam,
        bad_sim.camera() as bad_cam,
    ):
        bad_sim.faults.rtsp.fail_next(503, times=1000)  # the second camera refuses to stream
        async with Recorder(tmp_path, segment=60, backoff_initial=0.05, backoff_max=0.1) as rec:
            good = rec.add(good_cam, "h264", name="good")
            bad = rec.add(bad_cam, "h264", name="bad")
            await wait_for(lambda: good.stats.frames >= 45 and bad.stats.errors >= 3)
            assert good.stats.errors == 0 and good.stats.reconnects == 0
            assert bad.stats.written_frames == 0
            assert bad.stats.last_error is not None and "503" in bad.stats.last_error
    (info,) = rec.finished
    check_segment(info)
    assert not (tmp_path / "bad").exists() or not list((tmp_path / "bad").iterdir())


async def test_cli_records_and_flushes_on_sigint_and_survives_sigkill(tmp_path: Path) -> None:
    """`ipcam record` in a child process: SIGINT closes cleanly, SIGKILL leaves a playable file."""
    async with SimulatedCamera(mjpeg=False) as sim:
        url = f"rtsp://admin:{sim.password}@127.0.0.1:{sim.rtsp_port}/h264"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        results = {}
        for how in (signal.SIGINT, signal.SIGKILL):
            out = tmp_path / how.name
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                "import sys; from ipcam_async.cli import main; sys.exit(main(sys.argv[1:]))",
                "record",
                "--camera",
                url,
                "--out",
                str(out),
                "--segment",
                "60",
                "--status-interval",
                "0.3",
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            try:
                await wait_for(
                    lambda o=out, p=proc: fragments_written(o) or p.returncode is not None, 20
                )
                if proc.returncode is not None:  # died early: say why instead of timing out
                    stdout, stderr = await proc.communicate()
                    pytest.fail(f"ipcam record exited with {proc.returncode}: {stderr.decode()}")
                await asyncio.sleep(0.4)  # mid-GOP
                proc.send_signal(how)
                stdout, stderr = await asyncio.wait_for(proc.communicate(), 20)
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
            (path,) = mp4_files(out)
            results[how] = (proc.returncode, stdout.decode(), stderr.decode(), path)
    code, stdout, stderr, path = results[signal.SIGINT]
    assert code == 0, stderr
    assert "1 file(s) written" in stdout
    assert "cameras=1 recording=1" in stdout  # the status line (plain lines when not a tty)
    assert f":{sim.password}@" not in stdout + stderr
    data = probe(path)
    assert data["errors"] == 0 and data["frames"] >= 57  # the last partial GOP was flushed too
    assert path.read_bytes()[-16:-8] == b"\x00\x00\x00\x10mfro"
    code, _, _, path = results[signal.SIGKILL]
    assert code == -signal.SIGKILL
    raw = path.read_bytes()
    expected = complete_video_frames(raw)
    data = probe(path)
    assert data["codec"] == "h264" and expected >= 30
    assert data["frames_before_error"] >= expected


async def test_cli_on_motion_records_only_around_motion(tmp_path: Path) -> None:
    async with SimulatedCamera(mjpeg=False) as sim:
        sim.state.motion["Motion1"].enabled = True
        url = f"rtsp://admin:{sim.password}@127.0.0.1:{sim.rtsp_port}/h264"
        args = [
            "record",
            "--camera",
            url,
            "--http-port",
            str(sim.http_port),
            "--out",
            str(tmp_path),
            "--on-motion",
            "--post-roll",
            "0.5",
            "--seconds",
            "6",
            "--quiet",
            "--json",
        ]
        task = asyncio.create_task(asyncio.to_thread(main, args))
        # Once the stream plays (DESCRIBE, 2 x SETUP, PLAY) and the event monitor is connected,
        # give the recorder a GOP of pre-roll, then raise motion for one second.
        await wait_for(lambda: sim.faults.rtsp.rtsp_requests >= 4 and sim.faults.http_requests >= 1)
        await asyncio.sleep(1.2)
        sim.state.motion["Motion1"].triggered = True
        sim.state.changed()
        await asyncio.sleep(1.0)
        sim.state.motion["Motion1"].triggered = False
        sim.state.changed()
        assert await task == 0
    (path,) = mp4_files(tmp_path)
    data = probe(path)
    # ~1 s of motion + 0.5 s post-roll + up to one GOP (1 s) of pre-roll.
    assert 30 <= data["frames"] <= 100, data["frames"]
    assert data["errors"] == 0


@pytest.mark.parametrize("explicit_rtsp_port", [True, False])
async def test_cli_records_the_host_camera_and_reports_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], explicit_rtsp_port: bool
) -> None:
    async with SimulatedCamera(mjpeg=False) as sim:
        # Without --rtsp-port the CLI reads the port the camera announces in Network.RTSPPort.
        port_args = ["--rtsp-port", str(sim.rtsp_port)] if explicit_rtsp_port else []
        args = [
            "record",
            "--host",
            "127.0.0.1",
            "--port",
            str(sim.http_port),
            *port_args,
            "--user",
            "admin",
            "--password",
            sim.password,
            "--out",
            str(tmp_path),
            "--seconds",
            "2",
            "--segment",
            "1",
            "--no-audio",
            "--quiet",
            "--json",
        ]
        assert await asyncio.to_thread(main, args) == 0
    report = json.loads(capsys.readouterr().out)
    (camera,) = report["cameras"].values()
    assert camera["errors"] == 0 and camera["written_frames"] >= 30
    assert len(report["files"]) >= 2
    for entry in report["files"]:
        data = probe(entry["path"])
        assert data["audio_codec"] is None  # --no-audio
        assert data["frames"] == entry["frames"]


async def test_cli_exits_1_when_no_camera_delivers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with SimulatedCamera(mjpeg=False) as sim:
        sim.faults.rtsp.fail_next(404, times=1000)
        url = f"rtsp://admin:{sim.password}@127.0.0.1:{sim.rtsp_port}/h264"
        args = ["record", "--camera", url, "--out", str(tmp_path), "--seconds", "1", "--quiet"]
        assert await asyncio.to_thread(main, args) == 1
    assert "0 file(s) written" in capsys.readouterr().out
    assert mp4_files(tmp_path) == []


async def test_on_motion_closes_a_camera_nobody_opened(tmp_path: Path) -> None:
    async with SimulatedCamera(mjpeg=False) as sim:
        opened = sim.camera()
        unopened = sim.camera()
        async with opened:
            async with Recorder(tmp_path, segment=5) as rec:
                rec.add(opened, name="opened", on_motion=True)
                rec.add(unopened, name="unopened", on_motion=True)
                await wait_for(lambda: unopened.transport._session is not None)
            # The recorder closed the camera it found unopened (no leaked aiohttp session) and
            # left the caller's open camera alone.
            assert unopened.closed
            assert opened.opened and not opened.closed
