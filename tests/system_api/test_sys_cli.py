"""The ``ipcam users|system|storage|image`` commands against the simulated camera."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ipcam_async.cli import main
from ipcam_async.sim import SimulatedCamera
from ipcam_async.sim.http.cgi_system import system_records


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedCamera]:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim:
        yield sim


async def ipcam(sim: SimulatedCamera, *argv: str) -> int:
    conn = ["--host", "127.0.0.1", "--port", str(sim.http_port), "--user", "admin"]
    conn += ["--password", sim.password]
    return await asyncio.to_thread(main, [*conn, *argv])


async def test_system_date_and_set_date(
    sim: SimulatedCamera, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await ipcam(sim, "system", "set-date", "2031-05-06T07:08:09", "--timezone", "GMT+2") == 0
    assert "camera time is now 2031-05-06 07:08" in capsys.readouterr().out
    assert await ipcam(sim, "--json", "system", "date") == 0
    assert json.loads(capsys.readouterr().out)["date"].startswith("2031-05-06T07:08")
    assert sim.state.timezone == "GMT+2"
    assert await ipcam(sim, "system", "set-date", "--timezone", "GMT+14") == 1
    assert "InvalidArgument" in capsys.readouterr().err


async def test_system_upgrade_shows_progress(
    sim: SimulatedCamera, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = tmp_path / "userland.img"
    await asyncio.to_thread(image.write_bytes, os.urandom(3 << 20))
    assert await ipcam(sim, "system", "upgrade", str(image)) == 0
    captured = capsys.readouterr()
    assert "firmware" in captured.out and "uploaded" in captured.out
    assert "upgrade [" in captured.err and "100%" in captured.err
    (record,) = system_records(sim.state).uploads
    assert (record.filename, record.size) == ("userland.img", 3 << 20)


async def test_system_backup_restore_report_log_restart(
    sim: SimulatedCamera, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    system_records(sim.state).restart_downtime = 0.2
    assert await ipcam(sim, "system", "backup", str(tmp_path), "--no-progress") == 0
    assert "config_file.bin" in capsys.readouterr().out
    backup = str(tmp_path / "config_file.bin")
    assert await ipcam(sim, "system", "restore", backup, "--no-progress") == 0
    assert system_records(sim.state).restores == 1
    assert await ipcam(sim, "system", "report") == 0
    assert "root.Network.IPAddress=" in capsys.readouterr().out
    assert await ipcam(sim, "--timeout", "2", "system", "restart", "--wait") == 0
    assert "back after" in capsys.readouterr().out
    assert await ipcam(sim, "system", "log") == 0
    assert "restarted the server" in capsys.readouterr().out
    assert await ipcam(sim, "system", "snapshot-path", "C:\\capture") == 0
    assert capsys.readouterr().out.strip() == "C:\\capture"
    assert await ipcam(sim, "system", "factory-default") == 2  # needs --yes
    assert await ipcam(sim, "system", "factory-default", "--yes") == 0
    assert sim.state.snapshot_path != "C:\\capture"
    cert = tmp_path / "ca.pem"
    await asyncio.to_thread(cert.write_bytes, b"PEM")
    assert await ipcam(sim, "system", "certificate", "ca_certificate", str(cert)) == 0
    assert system_records(sim.state).certificates["ca_certificate"] == b"PEM"


async def test_users_commands(
    sim: SimulatedCamera, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IPCAM_NEW_PASSWORD", "Secret42")
    assert await ipcam(sim, "users", "add", "joe", "--groups", "dido,listen") == 0
    assert sim.state.users["joe"].password == "Secret42"
    assert await ipcam(sim, "users", "list") == 0
    assert "joe: groups=viewer,dido,listen rights=dido,listen" in capsys.readouterr().out
    assert await ipcam(sim, "users", "passwords") == 0
    out = capsys.readouterr().out
    assert "joe:***" in out and "Secret42" not in out
    assert await ipcam(sim, "users", "passwords", "--show") == 0
    assert "joe:Secret42" in capsys.readouterr().out
    assert await ipcam(sim, "users", "update", "joe", "--new-password", "Other7") == 0
    assert sim.state.users["joe"].password == "Other7"
    assert "user joe updated" in capsys.readouterr().out
    assert await ipcam(sim, "--json", "users", "rights") == 0
    rows = {r["user"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["joe"]["listen"] is True and rows["joe"]["camset"] is False
    assert await ipcam(sim, "users", "remove", "joe") == 0
    assert "joe" not in sim.state.users
    assert await ipcam(sim, "users", "add", "bad name") == 1
    assert "InvalidArgument" in capsys.readouterr().err


async def test_storage_and_image_commands(
    sim: SimulatedCamera, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim.state.storage_files["A_20110101_010101.avi"] = b"x" * 5000
    assert await ipcam(sim, "storage", "list") == 0
    assert "A_20110101_010101.avi\t5000\t2011-01-01 01:01:01" in capsys.readouterr().out
    out_dir = str(tmp_path)
    assert await ipcam(sim, "storage", "download", "A_20110101_010101.avi", "--out", out_dir) == 0
    assert (tmp_path / "A_20110101_010101.avi").read_bytes() == b"x" * 5000
    assert await ipcam(sim, "storage", "download", "A_20110101_010101.avi", "--out", out_dir) == 2
    assert "--force" in capsys.readouterr().err
    args = ("storage", "download", "A_20110101_010101.avi", "--out", out_dir, "--force")
    assert await ipcam(sim, *args) == 0
    assert await ipcam(sim, "storage", "remove", "A_20110101_010101.avi") == 0
    assert sim.state.storage_files == {}
    assert await ipcam(sim, "storage", "format") == 2
    assert await ipcam(sim, "storage", "format", "--yes") == 0

    snap = tmp_path / "out.jpg"
    assert await ipcam(sim, "image", "snapshot", str(snap)) == 0
    assert "saved 640x360 JPEG" in capsys.readouterr().out
    assert snap.read_bytes()[:2] == b"\xff\xd8"
