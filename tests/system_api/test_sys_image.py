"""cam.image against the simulated camera (spec 5.2.1)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from PIL import Image

from ipcam_async.sim import SimulatedCamera


async def test_snapshot_is_a_decodable_jpeg(tmp_path: Path) -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim, sim.camera() as cam:
        first = await cam.image.snapshot()
        await asyncio.sleep(0.1)  # three frames at 30 fps: the live picture moves on
        path = tmp_path / "snap.jpg"
        second = await cam.image.save_snapshot(path)
    assert (first.width, first.height) == (640, 360)
    assert first.content_type == "image/jpeg"
    with Image.open(io.BytesIO(first.data)) as decoded:
        assert decoded.size == (640, 360)
        decoded.load()
    assert path.read_bytes() == second.data
    assert second.data != first.data


async def test_snapshot_needs_only_view_access() -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim:
        sim.state.add_user("guest", "guest1")
        async with sim.camera(username="guest", password="guest1") as cam:
            assert (await cam.image.snapshot()).width == 640
