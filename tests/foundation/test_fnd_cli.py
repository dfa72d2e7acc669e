"""The ``ipcam`` command line: params list/set with plain and JSON output, errors, ``ipcam sim``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from ipcam_async.cli import COMMANDS, build_parser, main
from ipcam_async.sim import SimulatedCamera

ROOT = Path(__file__).resolve().parents[2]


async def _run(argv: list[str]) -> int:
    return await asyncio.to_thread(main, argv)


async def test_params_list_and_set(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False, password="pw42") as sim:
        base = ["--port", str(sim.http_port), "--user", "admin", "--password", "pw42"]
        assert await _run([*base, "params", "list", "Network"]) == 0
        out = capsys.readouterr().out
        assert "Network.IPAddress=192.168.0.250\n" in out
        assert all(line.startswith("Network.") for line in out.splitlines())

        assert (
            await _run(
                [*base, "params", "set", "ImageSource.I0.Name=My camera", "Event.E1.Enabled=yes"]
            )
            == 0
        )
        assert "updated 2 parameter(s)" in capsys.readouterr().out
        assert sim.state.params["ImageSource.I0.Name"] == "My camera"
        assert sim.state.motion["Motion"].enabled

        # Global options may also follow the sub-command; the password may come from the env.
        monkeypatch.setenv("IPCAM_PASSWORD", "pw42")
        assert (
            await _run(
                ["params", "list", "ImageSource.I0.Name", "--json", "--port", str(sim.http_port)]
            )
            == 0
        )
        assert json.loads(capsys.readouterr().out) == {"ImageSource.I0.Name": "My camera"}

        assert (
            await _run(["--port", str(sim.http_port), "params", "add", "GuardTour", "Name=Night"])
            == 0
        )
        assert capsys.readouterr().out == "GuardTour.G1\n"
        assert (
            await _run(["--port", str(sim.http_port), "--json", "params", "remove", "GuardTour.G1"])
            == 0
        )
        assert json.loads(capsys.readouterr().out) == {"removed": "GuardTour.G1"}
        assert (
            await _run(
                [
                    "--port",
                    str(sim.http_port),
                    "params",
                    "options",
                    "ImageSource.I0.Sensor.Exposure",
                ]
            )
            == 0
        )
        assert capsys.readouterr().out == (
            "ImageSource.I0.Sensor.Exposure=auto,flickerfree50,flickerfree60,hold\n"
        )


async def test_errors_are_one_line_and_non_zero(capsys: pytest.CaptureFixture[str]) -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False, password="pw42") as sim:
        port = str(sim.http_port)
        assert await _run(["--port", port, "--password", "wrong-pw", "params", "list"]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("ipcam: error: AuthError")
        assert "wrong-pw" not in err
        assert await _run(["--port", port, "--password", "pw42", "params", "list", "Nope"]) == 1
        assert "ParameterError" in capsys.readouterr().err
        assert await _run(["--port", port, "--password", "pw42", "params", "set", "novalue"]) == 2
        assert "NAME=VALUE" in capsys.readouterr().err
        assert await _run(["--port", port, "--user", "admin", "params", "list"]) == 2
        assert "password" in capsys.readouterr().err
    assert await _run(["--port", port, "--password", "x", "params", "list"]) == 1
    assert "ConnectError" in capsys.readouterr().err
    assert await _run([]) == 2
    with pytest.raises(SystemExit):
        build_parser().parse_args(["params", "frobnicate"])


def test_registry_lists_foundation_commands() -> None:
    assert {"params", "sim"} <= set(COMMANDS)
    help_text = build_parser().format_help()
    assert "params" in help_text and "sim" in help_text


async def test_ipcam_sim_runs_until_interrupted(capsys: pytest.CaptureFixture[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "IPCAM_PASSWORD": "TopSecret7"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ipcam_async",
        "--json",
        "sim",
        "--http-port",
        "0",
        "--no-rtsp",
        "--no-mjpeg",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        text = ""
        info = None
        while info is None:
            line = await asyncio.wait_for(proc.stdout.readline(), 30)
            assert line, "ipcam sim exited early"
            text += line.decode()
            try:
                info = json.loads(text)
            except json.JSONDecodeError:
                continue
        url = info["urls"]["http"]
        assert url.startswith("http://127.0.0.1:") and info["user"] == "admin"
        port = url.rstrip("/").rsplit(":", 1)[1]
        args = ["--port", port, "--password", "TopSecret7"]
        assert await _run([*args, "params", "set", "Network.HostName=roundtrip"]) == 0
        capsys.readouterr()
        assert await _run([*args, "--json", "params", "list", "Network.HostName"]) == 0
        assert json.loads(capsys.readouterr().out) == {"Network.HostName": "roundtrip"}
        assert proc.returncode is None  # still serving
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert b"TopSecret7" not in out + err + text.encode()


async def test_sim_reports_a_taken_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        status = await _run(["sim", "--http-port", port, "--no-rtsp", "--no-mjpeg"])
    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith("ipcam: error: ") and err.count("\n") == 1
