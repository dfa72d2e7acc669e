"""Every spec example of sections 5.1.2-5.1.15 and 5.2.1, over a loopback socket.

A replay server answers with the exact bytes the spec shows and records the request the client
built; each test compares that request with the spec's example and checks the parsed answer.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from sysapi_helpers import ReplayServer, multipart_parts

from ipcam_async.camera import Camera
from ipcam_async.errors import ParameterError, ProtocolError, RequestFailed

ADMIN = "/cgi-bin/admin/"


def _cam(server: ReplayServer, **kw: object) -> Camera:
    return Camera("127.0.0.1", port=server.port, **kw)  # type: ignore[arg-type]


# -- 5.1.2 ------------------------------------------------------------------------------------


async def test_spec_5_1_2_pwdgrp_examples() -> None:
    async with ReplayServer() as server, _cam(server) as cam:
        await cam.users.add("joe", "foo", ["dido", "camctrl", "talk", "listen"])
        await cam.users.update("joe", password="bar")
        await cam.users.remove("joe")
        server.answers[ADMIN + "pwdgrp.cgi"] = (
            b'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nadmin="Admin"\r\ndido="Admin"\r\n'
        )
        groups = await cam.users.groups()
    assert groups.members("dido") == ("Admin",)
    add, update, remove, get = server.requests
    # Password-bearing requests go as POST with the example's query as the form body.
    assert (add.method, add.path) == ("POST", ADMIN + "pwdgrp.cgi")
    assert add.body == b"action=add&user=joe&pwd=foo&sgrp=dido:camctrl:talk:listen"
    assert add.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "foo" not in add.target
    assert update.body == b"action=update&user=joe&pwd=bar"
    assert remove.body == b"action=remove&user=joe"
    assert (get.method, get.target) == ("GET", ADMIN + "pwdgrp.cgi?action=get")


# -- 5.1.3 ------------------------------------------------------------------------------------

PRIVACY = (
    b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\n\n"
    b"Username:Dido:Camset:Talk:Listen \nAdmin:1:1:1:1\n"
)
USERINFO = (
    b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"
    b"List username and password\r\nAdmin:1234\r\n"
)


async def test_spec_5_1_3_privacy_and_userinfo() -> None:
    answers = {ADMIN + "privacy.cgi": PRIVACY, ADMIN + "userinfo.cgi": USERINFO}
    async with ReplayServer(answers) as server, _cam(server) as cam:
        (rights,) = await cam.users.rights()
        info = await cam.users.userinfo()
    assert [r.target for r in server.requests] == [ADMIN + "privacy.cgi", ADMIN + "userinfo.cgi"]
    assert rights.user == "Admin"
    assert (rights.dido, rights.camset, rights.talk, rights.listen) == (True, True, True, True)
    assert info.users == ("Admin",)
    assert info.password("Admin") == "1234"
    assert "1234" not in repr(info)


# -- 5.1.4 ------------------------------------------------------------------------------------


async def test_spec_5_1_4_snapshot_path() -> None:
    async with ReplayServer() as server, _cam(server) as cam:
        await cam.system.set_snapshot_path("C:\\capture")
    (request,) = server.requests
    assert request.target == ADMIN + "snapshot.cgi?action=set&path=C%3A%5Ccapture"


async def test_snapshot_set_unexpected_answer_is_protocol_error() -> None:
    weird = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nmaybe\r\n"
    async with ReplayServer(default=weird) as server, _cam(server) as cam:
        with pytest.raises(ProtocolError):
            await cam.system.set_snapshot_path("C:\\capture")


# -- 5.1.5 ------------------------------------------------------------------------------------


async def test_spec_5_1_5_storage_examples(tmp_path: Path) -> None:
    listing = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nA_20110101_010101.avi 5\r\n"
    avi = (
        b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 5\r\n"
        b"Content-Disposition: attachment; filename=A_20110101_010101.avi\r\n\r\nRIFF!"
    )
    path = ADMIN + "storagemanagement.cgi"
    async with ReplayServer({path: listing}) as server, _cam(server) as cam:
        await cam.storage.format()
        (entry,) = await cam.storage.list()
        await cam.storage.remove("A_20110101_010101.avi")
        server.answers[path] = avi
        saved = await cam.storage.download("A_20110101_010101.avi", tmp_path)
    assert [r.target for r in server.requests] == [
        path + "?action=format",
        path + "?action=list",
        path + "?action=remove&filename=A_20110101_010101.avi",
        path + "?action=download&filename=A_20110101_010101.avi",
    ]
    assert entry.name == "A_20110101_010101.avi" and entry.size == 5
    assert entry.recorded_at == datetime(2011, 1, 1, 1, 1, 1)
    assert saved == tmp_path / "A_20110101_010101.avi"
    assert saved.read_bytes() == b"RIFF!"


# -- 5.1.6 / 5.1.7 / 5.1.10.1 / 5.1.11 / 5.1.12 / 5.1.13: plain GETs -----------------------------


async def test_spec_plain_gets() -> None:
    log = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nline one\r\nline two\r\n"
    answers = {ADMIN + "systemlog.cgi": log, ADMIN + "serverreport.cgi": log}
    async with ReplayServer(answers) as server, _cam(server) as cam:
        await cam.system.factory_default()
        await cam.system.hard_factory_default()
        await cam.system.before_upgrade()
        await cam.system.restart()
        report = await cam.system.server_report()
        syslog = await cam.system.system_log()
    assert [(r.method, r.target) for r in server.requests] == [
        ("GET", ADMIN + "factorydefault.cgi"),
        ("GET", ADMIN + "hardfactorydefault.cgi"),
        ("GET", ADMIN + "beforeupgrade.cgi"),
        ("GET", ADMIN + "restart.cgi"),
        ("GET", ADMIN + "serverreport.cgi"),
        ("GET", ADMIN + "systemlog.cgi"),
    ]
    assert report.lines == syslog.lines == ("line one", "line two")


# -- 5.1.8 / 5.1.9 ----------------------------------------------------------------------------


async def test_spec_5_1_8_backup_response(tmp_path: Path) -> None:
    content = bytes(range(256)) * 62 + b"x" * 27  # the spec's Content-length: 15899
    assert len(content) == 15899
    answer = (
        b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n"
        b"Content-length: 15899\r\n"
        b"Content-Disposition: attachment; filename=config_file.bin\r\n\r\n" + content
    )
    async with ReplayServer({ADMIN + "backup.cgi": answer}) as server, _cam(server) as cam:
        async with cam.system.open_backup() as download:
            assert download.filename == "config_file.bin"
            assert download.size == 15899
            streamed = b"".join([chunk async for chunk in download])
        written = await cam.system.backup(tmp_path)
    assert streamed == content
    assert written == tmp_path / "config_file.bin"
    assert written.read_bytes() == content
    assert [r.target for r in server.requests] == [ADMIN + "backup.cgi"] * 2


async def test_spec_5_1_9_restore_upload(tmp_path: Path) -> None:
    backup = tmp_path / "saved.bin"
    backup.write_bytes(b"tar archive bytes\r\n--not-a-boundary")
    async with ReplayServer() as server, _cam(server) as cam:
        await cam.system.restore(backup)
    (request,) = server.requests
    assert (request.method, request.target) == ("POST", ADMIN + "restore.cgi")
    ((headers, content),) = multipart_parts(request.headers["content-type"], request.body)
    assert headers["content-disposition"] == (
        'form-data; name="config_file.bin"; filename="config_file.bin"'
    )
    assert headers["content-type"] == "application/octet-stream"
    assert content == backup.read_bytes()
    assert int(request.headers["content-length"]) == len(request.body)


# -- 5.1.10.2 ---------------------------------------------------------------------------------


async def test_spec_5_1_10_firmware_upgrade_example(tmp_path: Path) -> None:
    image = tmp_path / "userland.jffs2"
    image.write_bytes(b"\x85\x19" * 5000)
    seen: list[tuple[int, int]] = []
    async with (
        ReplayServer() as server,
        _cam(server, username="Admin", password="1234", auth="basic") as cam,
    ):
        await cam.system.upgrade(image, progress=lambda sent, total: seen.append((sent, total)))
    before, upload = server.requests
    assert before.target == ADMIN + "beforeupgrade.cgi"
    assert (upload.method, upload.target) == (
        "POST",
        ADMIN + "firmwareupgrade.cgi?filename=userland.jffs2",
    )
    # The spec's example shows exactly this header for Admin:1234.
    assert upload.headers["authorization"] == "Basic QWRtaW46MTIzNA=="
    ((headers, content),) = multipart_parts(upload.headers["content-type"], upload.body)
    assert (
        headers["content-disposition"]
        == 'form-data; name="userland.jffs2"; filename="userland.jffs2"'
    )
    assert headers["content-type"] == "application/octet-stream"
    assert content == image.read_bytes()
    assert seen[-1] == (10000, 10000)


# -- 5.1.14 -----------------------------------------------------------------------------------

DATE = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nApr 03, 2003 15:16:04\r\n"
DATE_FAILED = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nRequest failed: invalid date\r\n"


async def test_spec_5_1_14_date_get_and_set() -> None:
    async with ReplayServer({ADMIN + "date.cgi": DATE}) as server, _cam(server) as cam:
        assert await cam.system.date() == datetime(2003, 4, 3, 15, 16, 4)
        server.answers.clear()  # the default answer is the spec's "OK\r\n"
        await cam.system.set_date(year=2009, month=4, day=3)
        server.answers[ADMIN + "date.cgi"] = DATE_FAILED
        with pytest.raises(RequestFailed) as info:
            await cam.system.set_date(year=2009, month=4, day=3)
    assert info.value.description == "invalid date"
    assert [r.target for r in server.requests] == [
        ADMIN + "date.cgi?action=get",
        ADMIN + "date.cgi?action=set&year=2009&month=4&day=3",
        ADMIN + "date.cgi?action=set&year=2009&month=4&day=3",
    ]


# -- 5.1.15 -----------------------------------------------------------------------------------


async def test_spec_5_1_15_certificate_upload() -> None:
    pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    async with (
        ReplayServer() as server,
        _cam(server, username="Admin", password="1234", auth="basic") as cam,
    ):
        await cam.system.upload_certificate("ca_certificate", pem)
    (request,) = server.requests
    assert request.target == ADMIN + "upload_certificate.cgi?type=ca_certificate"
    assert request.headers["authorization"] == "Basic QWRtaW46MTIzNA=="
    ((headers, content),) = multipart_parts(request.headers["content-type"], request.body)
    assert headers["content-disposition"] == (
        'form-data; name="ca_certificate"; filename="ca_certificate"'
    )
    assert content == pem


# -- 5.2.1 ------------------------------------------------------------------------------------


def _jpeg(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "JPEG")
    return out.getvalue()


async def test_spec_5_2_1_snapshot() -> None:
    data = _jpeg((176, 144))
    answer = (
        b"HTTP/1.0 200 OK\r\nContent-Type: image/jpeg\r\n"
        + f"Content-Length: {len(data) + 2}\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    async with ReplayServer({"/cgi-bin/jpg/image.cgi": answer}) as server, _cam(server) as cam:
        image = await cam.image.snapshot()
    assert server.requests[0].target == "/cgi-bin/jpg/image.cgi"
    assert image.data == data
    assert (image.width, image.height) == (176, 144)


@pytest.mark.parametrize(
    "body",
    [b"<html>login</html>", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00truncated", b""],
)
async def test_snapshot_that_is_not_a_jpeg(body: bytes) -> None:
    answer = (
        b"HTTP/1.0 200 OK\r\nContent-Type: image/jpeg\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    async with ReplayServer({"/cgi-bin/jpg/image.cgi": answer}) as server, _cam(server) as cam:
        with pytest.raises(ProtocolError):
            await cam.image.snapshot()


async def test_snapshot_error_body_is_parameter_error() -> None:
    answer = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n# Error: no video source\r\n"
    async with ReplayServer({"/cgi-bin/jpg/image.cgi": answer}) as server, _cam(server) as cam:
        with pytest.raises(ParameterError):
            await cam.image.snapshot()
