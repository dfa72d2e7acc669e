"""Authentication over loopback: Digest (MD5, SHA-256, stale nonces), Basic, auto, levels, TLS."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import subprocess
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from conftest import require_tool

from ipcam_async.camera import Camera
from ipcam_async.errors import AuthError, ConnectError
from ipcam_async.sim import SimulatedCamera
from ipcam_async.sim.http.app import CgiRouter, current_user, text_response
from ipcam_async.sim.http.auth import parse_auth_params
from ipcam_async.sim.state import CameraState

PARAMS = "/cgi-bin/admin/param.cgi?action=list&group=Network"


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
@pytest.mark.parametrize("client_auth", ["auto", "digest"])
async def test_digest(algorithm: str, client_auth: str) -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False, digest_algorithm=algorithm) as sim:  # type: ignore[arg-type]
        async with sim.camera(auth=client_auth) as cam:
            for _ in range(3):
                tree = await cam.params.list("Network")
                assert tree["Network.HTTPPort"] == str(sim.http_port)
        assert sim.authenticator.digest_ok == 3
        assert sim.authenticator.basic_ok == 0


async def test_basic_and_auto_picks_basic_when_only_basic_is_offered() -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False, auth="basic") as sim:
        for auth in ("auto", "basic"):
            async with sim.camera(auth=auth) as cam:
                await cam.params.list("Network")
                assert cam.transport._auth[sim.http_port].mode == "basic"
        assert sim.authenticator.basic_ok == 2
        async with sim.camera(auth="digest") as cam:
            with pytest.raises(AuthError):
                await cam.params.list("Network")


async def test_digest_only_camera_refuses_basic() -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False, auth="digest") as sim:
        async with sim.camera(auth="basic") as cam:
            with pytest.raises(AuthError):
                await cam.params.list("Network")
        async with sim.camera(auth="auto") as cam:
            await cam.params.list("Network")
        assert sim.authenticator.basic_ok == 0 and sim.authenticator.digest_ok == 1


@pytest.mark.parametrize("auth", ["auto", "digest", "basic"])
async def test_wrong_credentials_and_no_credentials(auth: str) -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim:
        for kw in ({"password": "nope"}, {"username": "nobody"}):
            async with sim.camera(auth=auth, **kw) as cam:
                with pytest.raises(AuthError):
                    await cam.params.list("Network")
        async with Camera("127.0.0.1", sim.http_port) as anonymous:
            with pytest.raises(AuthError):
                await anonymous.params.list("Network")
        assert sim.authenticator.digest_ok == sim.authenticator.basic_ok == 0


async def test_stale_nonce_is_renewed_transparently() -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False, nonce_lifetime=0.3) as sim:
        async with sim.camera(auth="digest") as cam:
            await cam.params.list("Network")
            await asyncio.sleep(0.5)
            await cam.params.list("Network")  # preemptive answer with the old nonce → stale
        assert sim.authenticator.stale_count >= 1
        assert sim.authenticator.digest_ok == 2


async def test_stale_flag_in_the_challenge() -> None:
    async with (
        SimulatedCamera(rtsp=False, mjpeg=False, nonce_lifetime=0.2) as sim,
        aiohttp.ClientSession() as session,
    ):
        url = f"{sim.http_url}{PARAMS}"
        async with session.get(url) as first:
            assert first.status == 401
            challenges = first.headers.getall("WWW-Authenticate")
        assert challenges[0].startswith("Digest ") and challenges[1].startswith("Basic ")
        params = parse_auth_params(challenges[0][7:])
        assert params["qop"] == "auth" and params["algorithm"] == "MD5"
        await asyncio.sleep(0.3)
        header = _digest_header("admin", "1234", "GET", PARAMS, params, nc=1)
        async with session.get(url, headers={"Authorization": header}) as stale:
            assert stale.status == 401
            assert "stale=true" in stale.headers.getall("WWW-Authenticate")[0]


def _digest_header(
    user: str, password: str, method: str, uri: str, challenge: dict[str, str], nc: int
) -> str:
    """An RFC 7616 answer computed independently of aiohttp (checks the server side)."""

    def h(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    nc_text, cnonce = f"{nc:08x}", "0a4f113b"
    ha1 = h(f"{user}:{challenge['realm']}:{password}")
    ha2 = h(f"{method}:{uri}")
    response = h(f"{ha1}:{challenge['nonce']}:{nc_text}:{cnonce}:auth:{ha2}")
    return (
        f'Digest username="{user}", realm="{challenge["realm"]}", nonce="{challenge["nonce"]}", '
        f'uri="{uri}", algorithm=MD5, qop=auth, nc={nc_text}, cnonce="{cnonce}", '
        f'response="{response}", opaque="{challenge["opaque"]}"'
    )


async def test_replayed_digest_answer_is_refused() -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim, aiohttp.ClientSession() as session:
        url = f"{sim.http_url}{PARAMS}"
        async with session.get(url) as first:
            challenge = parse_auth_params(first.headers["WWW-Authenticate"][7:])
        header = _digest_header("admin", "1234", "GET", PARAMS, challenge, nc=1)
        async with session.get(url, headers={"Authorization": header}) as ok:
            assert ok.status == 200
            assert "root.Network.IPAddress=192.168.0.250\n" in await ok.text()
        async with session.get(url, headers={"Authorization": header}) as replay:
            assert replay.status == 401
        other_uri = _digest_header(
            "admin", "1234", "GET", "/cgi-bin/admin/param.cgi", challenge, nc=2
        )
        async with session.get(url, headers={"Authorization": other_uri}) as wrong_uri:
            assert wrong_uri.status == 401
        bad = _digest_header("admin", "12345", "GET", PARAMS, challenge, nc=3)
        async with session.get(url, headers={"Authorization": bad}) as refused:
            assert refused.status == 401


async def test_many_concurrent_digest_requests() -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim, sim.camera(auth="digest") as cam:
        await cam.params.list("Network")
        trees = await asyncio.gather(*(cam.params.list("Network") for _ in range(40)))
        assert all(t["Network.IPAddress"] == "192.168.0.250" for t in trees)
        assert sim.authenticator.digest_ok == 41


def _level_cgis(router: CgiRouter) -> None:
    async def whoami(request: web.Request, state: CameraState) -> web.Response:
        return text_response(f"{current_user(request)}\r\n")

    router.add("GET", "/cgi-bin/view/whoami.cgi", whoami, "view")
    router.add("GET", "/cgi-bin/admin/whoami.cgi", whoami, "admin")
    router.add("GET", "/cgi-bin/root/whoami.cgi", whoami, "root")


@pytest.mark.parametrize("auth", ["digest", "basic"])
async def test_access_levels(auth: str) -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False, extra_cgis=[_level_cgis]) as sim:
        sim.state.add_user("viewer", "v1ew", "viewer")
        sim.state.add_user("oper", "0per", "operator", ["camctrl"])
        allowed = {
            "viewer": {"view"},
            "oper": {"view", "admin"},
            "admin": {"view", "admin", "root"},
        }
        passwords = {"viewer": "v1ew", "oper": "0per", "admin": "1234"}
        for user, levels in allowed.items():
            async with sim.camera(auth=auth, username=user, password=passwords[user]) as cam:
                for level in ("view", "admin", "root"):
                    path = f"/cgi-bin/{level}/whoami.cgi"
                    if level in levels:
                        response = await cam.transport.request("GET", path)
                        assert response.text == f"{user}\r\n"
                    else:
                        with pytest.raises(AuthError):
                            await cam.transport.request("GET", path)
                if "admin" not in levels:
                    with pytest.raises(AuthError):  # param.cgi needs administrator access
                        await cam.params.list("Network")
                else:
                    await cam.params.list("Network")


async def test_unknown_method_is_405_after_auth() -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim, aiohttp.ClientSession() as s:
        async with s.delete(f"{sim.http_url}/cgi-bin/admin/param.cgi") as anonymous:
            assert anonymous.status == 401
        basic = {"Authorization": aiohttp.encode_basic_auth("admin", "1234")}
        async with s.delete(f"{sim.http_url}/cgi-bin/admin/param.cgi", headers=basic) as response:
            assert response.status == 405
            assert response.headers["Allow"] == "GET, POST"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = require_tool("openssl")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


async def test_https_verifies_certificates(tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    async with SimulatedCamera(rtsp=False, mjpeg=False, ssl_context=server_ctx) as sim:
        assert sim.http_url.startswith("https://")
        async with sim.camera() as cam:  # self-signed: refused by default
            with pytest.raises(ConnectError):
                await cam.params.list("Network")
        async with sim.camera(verify_ssl=False) as cam:
            await cam.params.list("Network")
        trusting = ssl.create_default_context(cafile=str(cert))
        async with sim.camera(ssl_context=trusting) as cam:
            assert (await cam.params.list("Network"))["Network.BootProto"] == "none"


async def test_auto_with_basic_listed_first_uses_basic() -> None:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        seen.append(header.partition(" ")[0])
        if header == aiohttp.encode_basic_auth("admin", "1234"):
            return web.Response(text="root.Network.BootProto=none\n")
        response = web.Response(status=401, text="401 Unauthorized\r\n")
        response.headers.add("WWW-Authenticate", 'Basic realm="x"')
        response.headers.add("WWW-Authenticate", 'Digest realm="x", nonce="abc", qop="auth"')
        return response

    app = web.Application()
    app.router.add_get("/cgi-bin/admin/param.cgi", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        async with Camera("127.0.0.1", port, username="admin", password="1234") as cam:
            assert (await cam.params.list("Network"))["Network.BootProto"] == "none"
        assert seen == ["", "Basic"]
    finally:
        await runner.cleanup()
