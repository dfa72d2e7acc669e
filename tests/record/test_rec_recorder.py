"""Recorder: supervised cameras, reconnects, per-camera failures, clean stop, triggered mode."""

from __future__ import annotations

import asyncio
import errno
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from rec_helpers import ScriptedCamera, ScriptedSource, clip_frames, encode_h264, probe

from ipcam_async.errors import ConnectError, InvalidArgument, RecorderError
from ipcam_async.record import Recorder, RecordingTrigger, SegmentInfo


@pytest.fixture(scope="module")
def clip() -> list[tuple[bytes, bool]]:
    return encode_h264(90, width=320, height=240, gop=30)


async def wait_for(condition: Any, limit: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


def no_recorder_tasks() -> bool:
    return not [t for t in asyncio.all_tasks() if t.get_name().startswith("ipcam-record")]


async def test_records_several_cameras_into_rotating_segments(
    tmp_path: Path, clip: list[tuple[bytes, bool]]
) -> None:
    done: list[SegmentInfo] = []
    async with Recorder(tmp_path, segment=1.0, on_segment=done.append) as rec:
        for n in range(3):
            cam = ScriptedCamera([ScriptedSource(clip_frames(clip), pace=0.001)])
            rec.add(None, name=f"cam{n}", source=cam)
        await wait_for(
            lambda: all(s.written_frames == s.audio_frames == 90 for s in rec.stats.values())
        )
        stats = rec.stats["cam1"]
        assert stats.state == "recording"
        assert stats.current_file is not None and stats.current_file.exists()
        assert (stats.frames, stats.audio_frames, stats.lost, stats.errors) == (90, 90, 0, 0)
    # Leaving the block flushed and closed each camera's last segment.
    assert no_recorder_tasks()
    assert rec.stats["cam1"].state == "stopped"
    for n in range(3):
        paths = sorted((tmp_path / f"cam{n}").glob("*.mp4"))
        assert [p.name for p in paths] == [
            f"cam{n}_20251125T022250Z.mp4",
            f"cam{n}_20251125T022251Z.mp4",
            f"cam{n}_20251125T022252Z.mp4",
        ]
        for path in paths:
            info = probe(path)
            assert (info["codec"], info["width"], info["height"]) == ("h264", 320, 240)
            assert info["frames"] == 30 and info["errors"] == 0
            assert info["audio_codec"] == "pcm_mulaw"
    assert sorted(d.reason for d in done) == ["rotate"] * 6 + ["stop"] * 3
    assert rec.stats["cam2"].segments == 3
    assert rec.stats["cam2"].bytes == sum(p.stat().st_size for p in (tmp_path / "cam2").iterdir())


async def test_reconnect_with_backoff_starts_a_new_segment(
    tmp_path: Path, clip: list[tuple[bytes, bool]]
) -> None:
    camera = ScriptedCamera(
        [
            ScriptedSource(clip_frames(clip[:45]), then="fail"),  # drops mid-GOP
            ConnectError("refused"),
            ConnectError("refused"),
            ScriptedSource(clip_frames(clip[:30], start=100, ts0=5_000_000)),
        ]
    )
    async with Recorder(tmp_path, segment=60, backoff_initial=0.01, backoff_max=0.05) as rec:
        cam = rec.add(None, name="flaky", source=camera)
        await wait_for(lambda: cam.stats.written_frames == 75)
        assert cam.stats.reconnects == 3
        assert cam.stats.errors == 3
        assert cam.stats.last_error == "ConnectError: refused"
        assert cam.stats.state == "recording"
    infos = [probe(p) for p in sorted((tmp_path / "flaky").glob("*.mp4"))]
    assert [i["frames"] for i in infos] == [45, 30]
    assert all(i["errors"] == 0 for i in infos)


async def test_one_failing_camera_does_not_disturb_the_others(
    tmp_path: Path, clip: list[tuple[bytes, bool]]
) -> None:
    (tmp_path / "blocked").write_bytes(b"a file where the camera's directory should be")
    async with Recorder(tmp_path, segment=60, backoff_initial=0.01, backoff_max=0.02) as rec:
        down = rec.add(None, name="down", source=ScriptedCamera([ConnectError("no route")]))
        blocked = rec.add(
            None, name="blocked", source=ScriptedCamera([ScriptedSource(clip_frames(clip))])
        )
        good = rec.add(
            None,
            name="good",
            source=ScriptedCamera([ScriptedSource(clip_frames(clip), pace=0.001)]),
        )
        await wait_for(lambda: good.stats.written_frames == 90 and blocked.stats.errors >= 2)
        assert down.stats.reconnects >= 1 and down.stats.written_frames == 0
        assert blocked.stats.last_error is not None
        assert "cannot create directory" in blocked.stats.last_error
        assert good.stats.errors == 0 and good.stats.reconnects == 0
    (path,) = (tmp_path / "good").glob("*.mp4")
    assert probe(path)["frames"] == 90


async def test_cancel_mid_segment_flushes_the_last_fragment(
    tmp_path: Path, clip: list[tuple[bytes, bool]]
) -> None:
    rec = Recorder(tmp_path, segment=60)
    cam = rec.add(None, name="c", source=ScriptedCamera([ScriptedSource(clip_frames(clip[:40]))]))
    await wait_for(lambda: cam.stats.frames == 40)
    # Cancelling the camera task (what Ctrl-C does to the CLI) flushes frames 30..39 too.
    assert cam.task is not None
    cam.task.cancel()
    await rec.close()
    assert cam.task.cancelled()
    (path,) = (tmp_path / "c").glob("*.mp4")
    info = probe(path)
    assert info["frames"] == 40 and info["errors"] == 0
    assert path.read_bytes()[-16:-8] == b"\x00\x00\x00\x10mfro"  # closed properly: index written
    assert no_recorder_tasks()


async def test_triggered_recording_with_pre_roll_and_post_roll(
    tmp_path: Path, clip: list[tuple[bytes, bool]]
) -> None:
    trigger = RecordingTrigger()

    def script(i: int, frame: Any) -> None:
        # Frames are video/audio pairs: picture n is entry 2n. Motion during pictures 45..59.
        if i == 2 * 45:
            trigger.set()
        elif i == 2 * 60:
            trigger.clear()

    source = ScriptedSource(clip_frames(clip), on_frame=script)
    async with Recorder(tmp_path, post_roll=0.5) as rec:
        cam = rec.add(None, name="t", trigger=trigger, source=ScriptedCamera([source]))
        await wait_for(lambda: cam.stats.frames == 90)
        assert cam.stats.state == "idle"
    (path,) = (tmp_path / "t").glob("*.mp4")
    info = probe(path)
    # Pre-roll from the GOP's keyframe (30), the event (45..59), then 0.5 s of post-roll.
    assert info["frames"] == 44
    assert path.name == "t_20251125T022251Z.mp4"  # starts with picture 30, at WALL0 + 1 s
    assert rec.stats["t"].segments == 1


async def test_add_validates_its_arguments(tmp_path: Path) -> None:
    async with Recorder(tmp_path) as rec:
        rec.add(None, name="x", source=ScriptedCamera([ConnectError("down")]))
        with pytest.raises(InvalidArgument):
            rec.add(None, name="x", source=ScriptedCamera([ConnectError("down")]))
        with pytest.raises(InvalidArgument):
            rec.add(12345)
        await rec.remove("x")
        assert rec.cameras == {}
    with pytest.raises(InvalidArgument):
        Recorder(tmp_path, segment=0)


async def test_disk_full_on_one_camera_is_reported_and_retried(
    tmp_path: Path, clip: list[tuple[bytes, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ipcam_async.record import segments
    from ipcam_async.record.mp4 import FragmentedMp4Writer

    class FullDisk(FragmentedMp4Writer):
        """Writes of camera 'full' fail with ENOSPC, as on a full file system."""

        def _write_now(self, data: bytes) -> None:
            if self.path is not None and "/full/" in self.path:
                self._file.write(data[:7])  # a torn first write, then the error
                enospc = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                self._broken = True
                raise RecorderError(f"write failed: {enospc}") from enospc
            super()._write_now(data)

    monkeypatch.setattr(segments, "FragmentedMp4Writer", FullDisk)
    async with Recorder(tmp_path, segment=60, backoff_initial=0.01, backoff_max=0.02) as rec:
        full = rec.add(
            None, name="full", source=ScriptedCamera([ScriptedSource(clip_frames(clip))])
        )
        ok = rec.add(
            None, name="ok", source=ScriptedCamera([ScriptedSource(clip_frames(clip), pace=0.001)])
        )
        await wait_for(lambda: ok.stats.written_frames == 90 and full.stats.errors >= 3)
        assert full.stats.last_error is not None
        assert "No space left on device" in full.stats.last_error
        assert full.stats.state in {"backoff", "connecting", "recording"}
        assert ok.stats.errors == 0
    # Every failed attempt removed its header-less file; the other camera's file is whole.
    assert list((tmp_path / "full").iterdir()) == []
    (path,) = (tmp_path / "ok").glob("*.mp4")
    assert probe(path)["frames"] == 90


async def test_a_stalled_disk_write_does_not_stall_other_cameras(
    tmp_path: Path, clip: list[tuple[bytes, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ipcam_async.record import segments
    from ipcam_async.record.mp4 import FragmentedMp4Writer

    release = threading.Event()

    class StallingDisk(FragmentedMp4Writer):
        """Camera 'slow' writes to a disk that hangs until the test releases it."""

        def _write_now(self, data: bytes) -> None:
            if self.path is not None and "/slow/" in self.path:
                release.wait(20)
            super()._write_now(data)

    monkeypatch.setattr(segments, "FragmentedMp4Writer", StallingDisk)
    async with Recorder(tmp_path, segment=60, io_threads=2) as rec:
        slow = rec.add(
            None, name="slow", source=ScriptedCamera([ScriptedSource(clip_frames(clip))])
        )
        fast = rec.add(
            None,
            name="fast",
            source=ScriptedCamera([ScriptedSource(clip_frames(clip), pace=0.001)]),
        )
        # The event loop keeps serving the other camera while 'slow' is stuck in its first write.
        await wait_for(lambda: fast.stats.written_frames == 90)
        assert slow.stats.frames == 1 and slow.stats.errors == 0  # stuck in its header write
        release.set()
        await wait_for(lambda: slow.stats.written_frames == 90)
    for name in ("slow", "fast"):
        (path,) = (tmp_path / name).glob("*.mp4")
        assert probe(path)["frames"] == 90
