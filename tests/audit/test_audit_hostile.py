"""Client methods against a camera that misbehaves: typed errors, bounded time, bounded memory."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import RawCamera, answer, http_response, listing, never_answer, no_leaks

from ipcam_async.camera import Camera
from ipcam_async.errors import (
    AuthError,
    ConnectError,
    InvalidArgument,
    IpCamError,
    ProtocolError,
    StreamTimeout,
)

Call = Callable[[Camera], Awaitable[Any]]

#: One call per client method that parses an answer (the model is given: no discovery).
PARSING_CALLS: dict[str, Call] = {
    "params.list": lambda c: c.params.list("Network"),
    "params.get": lambda c: c.params.get("Network.IPAddress"),
    "params.options": lambda c: c.params.options("Network"),
    "params.add": lambda c: c.params.add("GuardTour"),
    "users.groups": lambda c: c.users.groups(),
    "users.rights": lambda c: c.users.rights(),
    "users.userinfo": lambda c: c.users.userinfo(),
    "system.snapshot_path": lambda c: c.system.snapshot_path(),
    "system.set_snapshot_path": lambda c: c.system.set_snapshot_path("C:\\x"),
    "system.date": lambda c: c.system.date(),
    "system.set_date": lambda c: c.system.set_date(year=2020),
    "storage.list": lambda c: c.storage.list(),
    "image.snapshot": lambda c: c.image.snapshot(),
    "ptz.position": lambda c: c.ptz.position(),
    "ptz.info": lambda c: c.ptz.info(),
    "ptz.presets": lambda c: c.ptz.presets(),
    "ptz.sequence_lines": lambda c: c.ptz.sequence_lines(),
    "io.inputs": lambda c: c.io.inputs(1, 2),
    "io.outputs_active": lambda c: c.io.outputs_active(1),
    "io.set_output": lambda c: c.io.set_output(1, True),
}

HOSTILE_BODIES = {
    "non-utf8": b"\xff\xfe\x00\x81garbage=\xc3(\r\n\x80\x80",
    "html": b"<html><body>Login</body></html>",
    "binary": bytes(range(256)) * 4,
    "lines": b"=\r\n" * 5000,
    "huge": b"Network.A=" + b"x" * (17 << 20),  # over every per-call cap (16 MiB at most)
}


@pytest.mark.parametrize("body", sorted(HOSTILE_BODIES))
async def test_every_parsing_method_types_its_failure(body: str) -> None:
    content = HOSTILE_BODIES[body]
    async with (
        RawCamera(answer(content, content_type="text/html")) as raw,
        Camera("127.0.0.1", raw.port, timeout=2, model="NH720") as cam,
    ):
        for name, call in PARSING_CALLS.items():
            try:
                await call(cam)
            except IpCamError:
                continue
            except Exception as exc:  # pragma: no cover - the failure being tested for
                pytest.fail(f"{name} on a {body} body raised {type(exc).__name__}: {exc}")


async def test_server_that_never_answers_times_out() -> None:
    async with (
        RawCamera(never_answer) as raw,
        Camera("127.0.0.1", raw.port, timeout=0.3) as cam,
        no_leaks(lambda: raw.port),
    ):
        for call in (
            cam.params.list(),
            cam.image.snapshot(),
            cam.system.restore(b"backup"),
            cam.system.backup(Path("/nonexistent-dir/never-written")),
        ):
            with pytest.raises(StreamTimeout):
                await asyncio.wait_for(call, 5)


async def _trickle(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
    while True:
        writer.write(b"a=b\n")
        await writer.drain()
        await asyncio.sleep(0.01)


async def test_trickling_body_is_cut_by_timeout_or_cap() -> None:
    async with RawCamera(_trickle) as raw, Camera("127.0.0.1", raw.port, timeout=0.3) as cam:
        with pytest.raises(StreamTimeout):
            await asyncio.wait_for(cam.params.list(), 5)
        with pytest.raises(ProtocolError, match="exceeds"):
            await asyncio.wait_for(cam.transport.request("GET", "/x", max_body=64), 5)


async def test_huge_announced_body_is_refused_before_reading() -> None:
    huge = http_response(b"x" * 10, length=1 << 40)

    async def behaviour(
        head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(huge)
        await writer.drain()

    async with RawCamera(behaviour) as raw, Camera("127.0.0.1", raw.port, timeout=2) as cam:
        with pytest.raises(ProtocolError, match="exceeds"):
            await cam.image.snapshot()


async def test_truncated_answer_is_a_typed_error() -> None:
    async def behaviour(
        head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(http_response(b"Network.IPAddress=1", length=500))
        await writer.drain()
        writer.transport.abort()

    async with RawCamera(behaviour) as raw, Camera("127.0.0.1", raw.port, timeout=2) as cam:
        with pytest.raises((ConnectError, ProtocolError)):
            await cam.params.list()


async def test_oversized_headers_and_garbage_status_are_protocol_errors() -> None:
    for reply in (
        b"HTTP/1.1 200 OK\r\nX: " + b"a" * 100_000 + b"\r\n\r\n",
        b"\x00\x01junk\r\n\r\n",
    ):

        async def behaviour(
            head: bytes,
            reader: asyncio.StreamReader,
            writer: asyncio.StreamWriter,
            reply: bytes = reply,
        ) -> None:
            writer.write(reply)
            await writer.drain()

        async with RawCamera(behaviour) as raw, Camera("127.0.0.1", raw.port, timeout=2) as cam:
            with pytest.raises(ProtocolError):
                await cam.params.list()


def _download(length: int | None, sent: bytes, *, then: str) -> Any:
    async def behaviour(
        head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        size = f"Content-Length: {length}\r\n" if length is not None else ""
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Disposition: attachment; filename=config_file.bin\r\n"
            + size.encode()
            + b"\r\n"
            + sent
        )
        await writer.drain()
        if then == "cut":
            writer.transport.abort()
        elif then == "stall":
            await asyncio.Event().wait()
        elif then == "trickle":
            while True:
                writer.write(b"z" * 1024)
                await writer.drain()
                await asyncio.sleep(0.001)

    return behaviour


@pytest.mark.parametrize(
    ("case", "behaviour", "error"),
    [
        ("cut", _download(1 << 20, b"a" * 5000, then="cut"), ProtocolError),
        ("stall", _download(1 << 20, b"a" * 5000, then="stall"), StreamTimeout),
        ("stall-no-length", _download(None, b"a" * 5000, then="stall"), StreamTimeout),
    ],
)
async def test_broken_download_leaves_no_file(
    tmp_path: Path, case: str, behaviour: Any, error: type[Exception]
) -> None:
    async with (
        RawCamera(behaviour) as raw,
        Camera("127.0.0.1", raw.port, timeout=0.3) as cam,
        no_leaks(lambda: raw.port),
    ):
        with pytest.raises(error):
            await asyncio.wait_for(cam.system.backup(tmp_path), 5)
        with pytest.raises(error):
            await asyncio.wait_for(cam.storage.download("A.avi", tmp_path), 5)
    assert listing(tmp_path) == []


async def test_endless_backup_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A device streaming without end never fills the disk: the backup limit stops it.
    monkeypatch.setattr("ipcam_async.api.system.MAX_BACKUP", 256 * 1024)
    behaviour = _download(None, b"", then="trickle")
    async with RawCamera(behaviour) as raw, Camera("127.0.0.1", raw.port, timeout=2) as cam:
        with pytest.raises(ProtocolError, match="limit"):
            await asyncio.wait_for(cam.system.backup(tmp_path), 10)
        with pytest.raises(ProtocolError, match="limit"):
            await asyncio.wait_for(cam.storage.download("A.avi", tmp_path, max_size=128 * 1024), 10)
    assert listing(tmp_path) == []


async def test_announced_size_over_the_cap_is_refused_at_once(tmp_path: Path) -> None:
    behaviour = _download(1 << 40, b"", then="stall")
    async with RawCamera(behaviour) as raw, Camera("127.0.0.1", raw.port, timeout=5) as cam:
        with pytest.raises(ProtocolError, match="exceeds"):
            await asyncio.wait_for(cam.system.backup(tmp_path), 2)
    assert listing(tmp_path) == []


async def _trickled_headers(
    head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\n")
    while True:  # one short header line at a time: every idle timer keeps being reset
        writer.write(b"X-A: b\r\n")
        await writer.drain()
        await asyncio.sleep(0.05)


async def test_trickled_headers_cannot_outlast_the_timeout(tmp_path: Path) -> None:
    async with (
        RawCamera(_trickled_headers) as raw,
        Camera("127.0.0.1", raw.port, timeout=0.4) as cam,
        no_leaks(lambda: raw.port),
    ):

        async def open_stream() -> None:
            async with cam.transport.stream("GET", "/cgi-bin/admin/backup.cgi"):
                pass

        # Without the bound, wait_for's plain TimeoutError (not StreamTimeout) would come out.
        for call in (cam.params.list(), open_stream(), cam.system.backup(tmp_path)):
            with pytest.raises(StreamTimeout):
                await asyncio.wait_for(call, 5)
    assert listing(tmp_path) == []


def _upload_reader(*, stop_after: int | None) -> Any:
    """Reads an upload steadily (64 KiB per 10 ms), or stops reading after ``stop_after``."""

    async def behaviour(
        head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        received = 0
        while received < length:
            if stop_after is not None and received >= stop_after:
                await asyncio.Event().wait()
            received += len(await reader.readexactly(min(64 * 1024, length - received)))
            await asyncio.sleep(0.01)
        writer.write(http_response(b"OK\r\n"))
        await writer.drain()

    return behaviour


async def test_big_upload_is_bounded_by_stalls_not_by_its_duration(tmp_path: Path) -> None:
    firmware = tmp_path / "uImage"
    firmware.write_bytes(b"\x00" * (8 << 20))  # 1.3 s or more at the reader's pace
    async with (
        RawCamera(_upload_reader(stop_after=None), rcvbuf=64 * 1024) as raw,
        Camera("127.0.0.1", raw.port, timeout=1.0) as cam,
    ):
        await cam.system.upgrade(firmware, prepare=False)
    async with (
        RawCamera(_upload_reader(stop_after=1 << 20), rcvbuf=64 * 1024) as raw,
        Camera("127.0.0.1", raw.port, timeout=1.0) as cam,
        no_leaks(lambda: raw.port),
    ):
        with pytest.raises(StreamTimeout):
            await asyncio.wait_for(cam.system.upgrade(firmware, prepare=False), 10)
        # An explicit timeout bounds the whole upload, however steady the camera is.
        with pytest.raises(StreamTimeout):
            await asyncio.wait_for(cam.system.upgrade(firmware, prepare=False, timeout=0.2), 10)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), True])
async def test_timeouts_that_would_disable_the_limit_are_refused(bad: float) -> None:
    async with RawCamera(never_answer) as raw, Camera("127.0.0.1", raw.port) as cam:
        calls = [
            lambda: cam.transport.request("GET", "/x", timeout=bad),
            lambda: cam.system.upgrade(__file__, filename="uImage", prepare=False, timeout=bad),
        ]
        for call in calls:
            with pytest.raises(InvalidArgument):
                await call()
        with pytest.raises(InvalidArgument):
            async with cam.transport.stream("GET", "/x", timeout=bad):
                pass
        assert raw.connections == 0
    with pytest.raises(InvalidArgument):
        Camera("127.0.0.1", timeout=bad)


CHALLENGES = {
    'Digest realm="x"': ProtocolError,  # no nonce
    'Digest realm="x", nonce="n", algorithm=FOO': ProtocolError,
    'Digest realm="x", nonce="n", qop="weird"': ProtocolError,
    'Digest realm="x", nonce="n", algorithm=SHA-512-256': ProtocolError,
    'Digest realm="x", nonce="n", stale=true': AuthError,  # stale forever: no endless retry
    'Digest realm="' + "a" * 7000 + '", nonce="n"': AuthError,
    "Digest": AuthError,
    "Basic": AuthError,
    "Negotiate abc": AuthError,
}


@pytest.mark.parametrize("challenge", sorted(CHALLENGES))
async def test_hostile_auth_challenges(challenge: str) -> None:
    async def behaviour(
        head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        extra = f"WWW-Authenticate: {challenge}\r\n"
        writer.write(http_response(b"no", status="401 Unauthorized", extra=extra))
        await writer.drain()

    for auth in ("auto", "digest", "basic"):
        async with (
            RawCamera(behaviour) as raw,
            Camera(
                "127.0.0.1", raw.port, username="u", password="Secret9", auth=auth, timeout=2
            ) as cam,
        ):
            expected = AuthError if auth == "basic" else CHALLENGES[challenge]
            with pytest.raises(expected) as failure:
                await asyncio.wait_for(cam.params.list(), 5)
            assert "Secret9" not in str(failure.value)
            assert len(raw.requests) <= 4


async def test_device_chosen_backup_name_never_replaces_a_file(tmp_path: Path) -> None:
    precious = tmp_path / ".bashrc"
    precious.write_text("mine")
    body = b"tar archive bytes"

    async def behaviour(
        head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        extra = "Content-Disposition: attachment; filename=../.bashrc\r\n"
        writer.write(http_response(body, content_type="application/octet-stream", extra=extra))
        await writer.drain()

    async with RawCamera(behaviour) as raw, Camera("127.0.0.1", raw.port) as cam:
        with pytest.raises(FileExistsError):
            await cam.system.backup(tmp_path)
        assert await asyncio.to_thread(precious.read_text) == "mine"
        assert listing(tmp_path) == [".bashrc"]
        # Asked for explicitly, it is replaced; a file path given by the caller always is.
        assert await cam.system.backup(tmp_path, overwrite=True) == precious
        assert await cam.system.backup(tmp_path / "b.tar") == tmp_path / "b.tar"
    assert await asyncio.to_thread(precious.read_bytes) == body
