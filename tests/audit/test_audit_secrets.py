"""Credentials with awkward characters stay out of logs, reprs, errors and the CLI's output."""

from __future__ import annotations

import asyncio
import base64
import logging
import sys
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from audit_helpers import RawCamera, http_response

from ipcam_async.camera import Camera
from ipcam_async.errors import IpCamError
from ipcam_async.sim import SimulatedCamera

ROOT = Path(__file__).resolve().parents[2]
PASSWORDS = ["p%25w@:/é", "a:b@c/d%e", "Pässwörd€42", "x" * 40 + "%%@@"]
NEW_USER_PASSWORD = "Fresh9Secret1"


def _forms(password: str, user: str = "admin") -> list[str]:
    """Every shape the password could leak in: raw, percent-encoded, inside a Basic token."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return [password, quote(password), quote(password, safe=""), token]


def _exception_texts(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), *traceback.format_exception(exc)]


def _debug_everything() -> None:
    for name in [*logging.root.manager.loggerDict, "aiohttp", "asyncio", "ipcam_async", ""]:
        logging.getLogger(name).setLevel(logging.DEBUG)


@pytest.mark.parametrize("password", PASSWORDS)
async def test_special_character_passwords_never_leak(
    password: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _debug_everything()
    texts: list[str] = []
    async with SimulatedCamera(rtsp=False, mjpeg=False, password=password) as sim:
        for auth in ("auto", "basic", "digest"):
            async with sim.camera(auth=auth) as cam:
                texts += [repr(cam), repr(cam.transport), str(cam.transport.url("/x"))]
                texts += [repr(getattr(cam, g)) for g in ("params", "users", "system", "ptz")]
                assert len(await cam.params.list("Network")) > 0
                await cam.users.add("joe", NEW_USER_PASSWORD)
                try:
                    await cam.users.add("joe", NEW_USER_PASSWORD)
                except IpCamError as exc:
                    texts += _exception_texts(exc)
                info = await cam.users.userinfo()
                texts += [repr(info), str(info), repr(list(info))]
                assert info.password("joe") == NEW_USER_PASSWORD
                await cam.users.remove("joe")
            async with sim.camera(auth=auth, password=password + "x") as wrong:
                with pytest.raises(IpCamError) as failure:
                    await wrong.params.list()
                texts += _exception_texts(failure.value)
        # A URL-minded caller who put the credentials into the host.
        for host in (f"admin:{password}@127.0.0.1", f"http://admin:{password}@127.0.0.1"):
            with pytest.raises(IpCamError) as failure:
                Camera(host)
            texts += _exception_texts(failure.value)
    logs = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert logs, "DEBUG logging must have produced records for this test to mean anything"
    for secret in [*_forms(password), *_forms(NEW_USER_PASSWORD, "joe"), NEW_USER_PASSWORD]:
        assert secret not in logs
        leaking = [t for t in texts if secret in t]
        assert not leaking, leaking


async def test_camera_echoing_the_password_is_scrubbed() -> None:
    password = "Ech0:ed@pw%"
    quoted = quote(password, safe="")

    async def echo(request: object, state: object) -> object:
        from ipcam_async.sim.http.app import text_response

        return text_response(f"# Error: bad value {password} / {quoted}\r\n")

    def register(router: object) -> None:
        router.add("GET", "/cgi-bin/echo.cgi", echo, "view")  # type: ignore[attr-defined]

    async with (
        SimulatedCamera(rtsp=False, mjpeg=False, password=password, extra_cgis=[register]) as sim,
        sim.camera() as cam,
    ):
        with pytest.raises(IpCamError) as failure:
            await cam.transport.request("GET", "/cgi-bin/echo.cgi")
    for text in _exception_texts(failure.value):
        assert password not in text
        assert quoted not in text


async def test_cli_never_prints_the_password() -> None:
    password = "Cl1:p@ss/%é"
    async with SimulatedCamera(rtsp=False, mjpeg=False, password=password) as sim:
        runs = [
            ["-vv", "--port", str(sim.http_port), "--password", password, "params", "list"],
            ["-vv", "--port", str(sim.http_port), "--password", password + "!", "params", "list"],
            ["-vv", "--host", f"admin:{password}@127.0.0.1", "params", "list"],
            ["-vv", "--host", f"http://admin:{password}@127.0.0.1", "params", "list"],
        ]
        outputs = []
        for argv in runs:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                "import sys; from ipcam_async.cli import main; sys.exit(main(sys.argv[1:]))",
                *argv,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=ROOT,
            )
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            outputs.append((proc.returncode, out.decode(), err.decode()))
    assert outputs[0][0] == 0 and "Network.IPAddress" in outputs[0][1]
    assert all(code == 1 for code, _, _ in outputs[1:]), outputs
    assert "DEBUG" in outputs[0][2], "the -vv run must log at DEBUG for the check to mean anything"
    for _code, out, err in outputs:
        for secret in _forms(password):
            assert secret not in out and secret not in err, (out, err)


async def test_new_account_password_echoed_by_the_camera_is_masked() -> None:
    secret = "Echoed7Password"

    def echo(kind: str) -> Any:
        async def behaviour(
            head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            body = await reader.readexactly(length)
            if kind == "status":
                reply = http_response(b"bad request: " + body, status="400 Bad Request")
            else:
                reply = http_response(b"Request failed: cannot store " + body)
            writer.write(reply)
            await writer.drain()

        return behaviour

    for kind in ("status", "body"):
        async with RawCamera(echo(kind)) as raw, Camera("127.0.0.1", raw.port) as cam:
            with pytest.raises(IpCamError) as failure:
                await cam.users.update("joe", password=secret)
        texts = _exception_texts(failure.value)
        assert any("joe" in t for t in texts), texts  # the echo did make it into the text
        assert not [t for t in texts if secret in t]
