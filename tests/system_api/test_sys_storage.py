"""cam.storage against the simulated camera (spec 5.1.5), including hostile file names."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sysapi_helpers import ReplayServer

from ipcam_async.api.system_models import StorageEntry
from ipcam_async.camera import Camera
from ipcam_async.errors import AuthError, InvalidArgument, NotFoundError, ProtocolError
from ipcam_async.sim import SimulatedCamera


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedCamera]:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim:
        sim.state.storage_files.update(
            {
                "A_20110101_010101.avi": os.urandom(700_000),
                "M_20240229_235959.jpg": b"\xff\xd8tiny\xff\xd9",
            }
        )
        yield sim


def _listdir(path: Path) -> list[str]:
    return sorted(os.listdir(path))


async def test_list_download_remove_format(sim: SimulatedCamera, tmp_path: Path) -> None:
    files = sim.state.storage_files
    async with sim.camera() as cam:
        entries = await cam.storage.list()
        assert [e.name for e in entries] == list(files)
        assert entries[0].size == 700_000
        assert entries[0].recorded_at is not None and entries[0].recorded_at.year == 2011

        seen: list[tuple[int, int | None]] = []
        path = await cam.storage.download(
            entries[0], tmp_path, progress=lambda n, t: seen.append((n, t))
        )
        assert path == tmp_path / "A_20110101_010101.avi"
        assert path.read_bytes() == files["A_20110101_010101.avi"]
        assert seen[-1] == (700_000, 700_000) and len(seen) > 1

        with pytest.raises(FileExistsError):
            await cam.storage.download(entries[0], tmp_path)
        other = await cam.storage.download(entries[0], tmp_path / "copy.avi")
        assert other.read_bytes() == path.read_bytes()

        chunks = [c async for c in cam.storage.iter_download("M_20240229_235959.jpg")]
        assert b"".join(chunks) == b"\xff\xd8tiny\xff\xd9"

        await cam.storage.remove("M_20240229_235959.jpg")
        assert [e.name for e in await cam.storage.list()] == ["A_20110101_010101.avi"]
        with pytest.raises(NotFoundError):
            await cam.storage.remove("M_20240229_235959.jpg")
        with pytest.raises(NotFoundError):
            await cam.storage.download("nope.avi", tmp_path)

        await cam.storage.format()
        assert await cam.storage.list() == ()
    assert _listdir(tmp_path) == ["A_20110101_010101.avi", "copy.avi"]


async def test_hostile_device_names_stay_inside_target(
    sim: SimulatedCamera, tmp_path: Path
) -> None:
    target = tmp_path / "downloads"
    outside = tmp_path / "outside"
    await asyncio.to_thread(outside.mkdir)
    sim.state.storage_files.clear()
    sim.state.storage_files.update(
        {
            "../outside/evil.avi": b"one",
            "..\\..\\win.ini": b"two",
            "/etc/cron.d/x": b"three",
        }
    )
    async with sim.camera() as cam:
        written = await cam.storage.download_all(target)
        sim.state.storage_files["sub/.."] = b"four"
        with pytest.raises(ProtocolError):
            await cam.storage.download("sub/..", target)
    assert sorted(p.name for p in written) == ["evil.avi", "win.ini", "x"]
    assert all(p.parent == target for p in written)
    assert _listdir(target) == ["evil.avi", "win.ini", "x"]
    assert _listdir(outside) == []
    assert (target / "win.ini").read_bytes() == b"two"


async def test_truncated_download_leaves_no_file(tmp_path: Path) -> None:
    # The device announces 100000 bytes, sends 10 and closes the connection.
    answer = (
        b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Length: 100000\r\n\r\n0123456789"
    )
    async with (
        ReplayServer(default=answer) as server,
        Camera("127.0.0.1", port=server.port) as cam,
    ):
        with pytest.raises(ProtocolError):
            await cam.storage.download("A_20110101_010101.avi", tmp_path)
        with pytest.raises(ProtocolError):
            async for _ in cam.storage.iter_download("A_20110101_010101.avi"):
                pass
    assert _listdir(tmp_path) == []


async def test_storage_needs_root(sim: SimulatedCamera) -> None:
    sim.state.add_user("oper", "pw", "operator", ["camctrl"])
    async with sim.camera(username="oper", password="pw") as cam:
        with pytest.raises(AuthError):
            await cam.storage.list()


async def test_bad_filename_raises_before_sending(sim: SimulatedCamera) -> None:
    async with sim.camera() as cam:
        await cam.storage.list()
        before = sim.faults.http_requests
        for bad in ("", "a\r\nb", "x" * 256, StorageEntry("a\x00b")):
            with pytest.raises(InvalidArgument):
                await cam.storage.remove(bad)
        assert sim.faults.http_requests == before
