"""``ipcam rtsp describe|probe|dump`` against the simulated camera."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import av
import pytest

from ipcam_async.cli import main
from ipcam_async.sim import SimulatedCamera


async def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = await asyncio.to_thread(main, argv)
    return status, capsys.readouterr().out


async def test_describe_probe_dump(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with SimulatedCamera(mjpeg=False, auth="digest") as sim:
        url = f"rtsp://127.0.0.1:{sim.rtsp_port}/h264_3"
        creds = ["--user", "admin", "--password", sim.password]

        status, out = await run(["rtsp", "describe", url, *creds, "--json"], capsys)
        assert status == 0
        info = json.loads(out)
        assert [t["codec"] for t in info["tracks"]] == ["H264", "PCMU"]
        assert sim.password not in out

        status, out = await run(
            [
                "rtsp",
                "probe",
                "h264_3",
                "--host",
                "127.0.0.1",
                "--rtsp-port",
                str(sim.rtsp_port),
                *creds,
                "--seconds",
                "1",
                "--json",
            ],
            capsys,
        )
        assert status == 0
        probe = json.loads(out)
        video = probe["tracks"][0]
        assert (video["codec"], video["width"], video["height"]) == ("H264", 640, 360)
        assert 15 <= video["fps"] <= 40 and video["bitrate_kbps"] > 0
        assert probe["tracks"][1]["sample_rate"] == 8000

        out_file = tmp_path / "clip.h264"
        status, out = await run(
            ["rtsp", "dump", url, *creds, "--seconds", "1", "--out", str(out_file)], capsys
        )
        assert status == 0 and "wrote" in out
    with av.open(str(out_file), format="h264") as container:
        decoded = sum(1 for _ in container.decode(video=0))
    assert decoded >= 15


async def test_bad_url_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = await run(["rtsp", "describe", "mpeg4"], capsys)
    assert status == 2
