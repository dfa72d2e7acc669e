"""Streaming uploads: a big firmware image leaves client memory flat, goes out once under Digest."""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sysapi_helpers import CountingProxy, rss_bytes

from ipcam_async.camera import Camera
from ipcam_async.errors import BadRequestError
from ipcam_async.sim import SimulatedCamera
from ipcam_async.sim.http.cgi_system import system_records

MiB = 1 << 20


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedCamera]:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim:
        yield sim


def _make_image(path: Path, size: int) -> str:
    """A sparse file of ``size`` bytes with random data at both ends; returns its SHA-256."""
    head, tail = os.urandom(MiB), os.urandom(MiB)
    with path.open("wb") as fh:
        fh.write(head)
        fh.truncate(size)
        fh.seek(size - len(tail))
        fh.write(tail)
    digest = hashlib.sha256(head)
    zeros = bytes(MiB)
    for _ in range((size - 2 * MiB) // MiB):
        digest.update(zeros)
    digest.update(tail)
    return digest.hexdigest()


async def test_256_mib_firmware_streams_from_disk(sim: SimulatedCamera, tmp_path: Path) -> None:
    size = 256 * MiB
    image = tmp_path / "uImage"
    sha = _make_image(image, size)
    calls: list[tuple[int, int]] = []
    peak = 0

    def progress(sent: int, total: int) -> None:
        nonlocal peak
        calls.append((sent, total))
        peak = max(peak, rss_bytes())

    async with sim.camera(auth="digest") as cam:
        await cam.system.date()  # session, auth and code paths warmed up before measuring
        baseline = rss_bytes()
        await cam.system.upgrade(image, progress=progress, prepare=False)
    growth = peak - baseline
    assert growth < 16 * MiB, f"client RSS grew by {growth / MiB:.1f} MiB"
    (record,) = system_records(sim.state).uploads
    assert record.size == size
    assert record.sha256 == sha
    assert record.filename == "uImage"
    # Progress: starts at 0, never goes back, ends at the file size, reports as it goes.
    assert calls[0] == (0, size)
    assert calls[-1] == (size, size)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(calls))
    assert len(calls) > 100


@pytest.mark.parametrize("auth", ["digest", "auto", "basic"])
async def test_body_sent_exactly_once(sim: SimulatedCamera, tmp_path: Path, auth: str) -> None:
    size = 4 * MiB
    image = tmp_path / "var"
    sha = _make_image(image, size)
    async with CountingProxy(sim.http_port) as proxy:
        cam = Camera(
            "127.0.0.1",
            port=proxy.port,
            username="admin",
            password="1234",
            auth=auth,  # type: ignore[arg-type]
        )
        async with cam:
            await cam.system.upgrade(image)
    (record,) = system_records(sim.state).uploads
    assert record.size == size and record.sha256 == sha
    # Request heads, the multipart framing and the small GETs fit well within 64 KiB; a second
    # copy of the body would add 4 MiB.
    assert size <= proxy.upstream_bytes < size + 64 * 1024


async def test_upload_progress_with_bytes_source(sim: SimulatedCamera) -> None:
    seen: list[tuple[int, int]] = []
    data = os.urandom(40_000)
    async with sim.camera() as cam:
        await cam.system.upload_certificate(
            "client_certificate", data, progress=lambda s, t: seen.append((s, t))
        )
    assert seen[0] == (0, len(data))
    assert seen[-1] == (len(data), len(data))
    assert system_records(sim.state).certificates == {"client_certificate": data}


async def test_oversized_certificate_is_refused_by_the_device(sim: SimulatedCamera) -> None:
    async with sim.camera() as cam:
        with pytest.raises(BadRequestError, match="larger than"):
            await cam.system.upload_certificate("private_key", os.urandom(600_000))
    assert system_records(sim.state).certificates == {}
