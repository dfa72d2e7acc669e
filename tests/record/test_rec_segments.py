"""SegmentedWriter: rotation by duration and size, new files on parameter change and restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from rec_helpers import audio_frame, clip_frames, encode_h264, probe, video_frame

from ipcam_async.errors import RecorderError
from ipcam_async.record import SegmentedWriter, SegmentInfo


@pytest.fixture(scope="module")
def clip() -> list[tuple[bytes, bool]]:
    return encode_h264(90, width=320, height=240, gop=30)


def files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.mp4"))


def test_rotation_by_duration_on_keyframes(tmp_path: Path, clip: list[tuple[bytes, bool]]) -> None:
    done: list[SegmentInfo] = []
    writer = SegmentedWriter(tmp_path, "cam 1/a", segment=1.0, audio=True, on_segment=done.append)
    for frame in clip_frames(clip):
        writer.write(frame)
    writer.close()
    paths = files(tmp_path)
    # Named by camera (made file-safe) and UTC start (RTCP wall clock of the first picture).
    assert [p.name for p in paths] == [
        "cam_1_a_20251125T022250Z.mp4",
        "cam_1_a_20251125T022251Z.mp4",
        "cam_1_a_20251125T022252Z.mp4",
    ]
    assert [d.reason for d in done] == ["rotate", "rotate", "stop"]
    assert [d.video_frames for d in done] == [30, 30, 30]
    assert [d.duration for d in done] == pytest.approx([1.0, 1.0, 1.0])
    assert writer.segments == 3 and writer.video_frames == 90
    assert writer.bytes_written == sum(p.stat().st_size for p in paths)
    for path in paths:
        info = probe(path)
        assert (info["codec"], info["width"], info["height"]) == ("h264", 320, 240)
        assert info["frames"] == 30 and info["errors"] == 0
        assert info["audio_codec"] == "pcm_mulaw"
        assert info["pts"][0] == 0.0


def test_rotation_by_size(tmp_path: Path, clip: list[tuple[bytes, bool]]) -> None:
    writer = SegmentedWriter(tmp_path, "cam", segment=3600, max_bytes=10_000)
    for frame in clip_frames(clip, audio=False):
        writer.write(frame)
    writer.close()
    # Every GOP is far above 10 kB: a new file at each keyframe, never mid-GOP.
    assert [probe(p)["frames"] for p in files(tmp_path)] == [30, 30, 30]


def test_parameter_change_and_restart_start_new_files(
    tmp_path: Path, clip: list[tuple[bytes, bool]]
) -> None:
    small = encode_h264(30, width=160, height=128, gop=30)
    done: list[SegmentInfo] = []
    writer = SegmentedWriter(tmp_path, "cam", segment=3600, on_segment=done.append)
    frames = clip_frames(clip[:30], audio=False)
    frames += clip_frames(small, start=30, audio=False)  # the camera changes resolution
    # The stream restarts (reconnect): new timestamps, flagged as a discontinuity.
    restart = [
        video_frame(au, key, 777 + i * 3000, wallclock=None)
        for i, (au, key) in enumerate(clip[:30])
    ]
    restart[0] = video_frame(clip[0][0], True, 777, discontinuity=True)
    for frame in frames + restart:
        writer.write(frame)
    writer.close()
    assert [d.reason for d in done] == ["parameters", "discontinuity", "stop"]
    sizes = [
        (probe(d.path)["width"], probe(d.path)["height"], probe(d.path)["frames"]) for d in done
    ]
    assert sizes == [(320, 240, 30), (160, 128, 30), (320, 240, 30)]
    assert writer.discontinuities == 1


def test_waits_for_a_keyframe_with_parameter_sets(
    tmp_path: Path, clip: list[tuple[bytes, bool]]
) -> None:
    writer = SegmentedWriter(tmp_path, "cam", audio=True)
    # Joining mid-GOP: audio and P-frames are dropped until the next IDR.
    for frame in clip_frames(clip[10:40], start=10):
        writer.write(frame)
    writer.close()
    assert writer.waiting_dropped == 20
    (path,) = files(tmp_path)
    info = probe(path)
    assert info["frames"] == 10
    assert info["audio_samples"] == 10 * 267


def test_same_second_starts_are_numbered(tmp_path: Path, clip: list[tuple[bytes, bool]]) -> None:
    writer = SegmentedWriter(tmp_path, "cam")
    for _ in range(3):
        writer.write(video_frame(clip[0][0], True, 0, wallclock=1764037370.5, discontinuity=True))
        writer.write(video_frame(clip[1][0], False, 3000, wallclock=1764037370.5))
    writer.close()
    assert [p.name for p in files(tmp_path)] == [
        "cam_20251125T022250Z-1.mp4",
        "cam_20251125T022250Z-2.mp4",
        "cam_20251125T022250Z.mp4",
    ]


def test_unwritable_directory_is_a_recorder_error(
    tmp_path: Path, clip: list[tuple[bytes, bool]]
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_bytes(b"")
    writer = SegmentedWriter(blocker / "cam", "cam")
    with pytest.raises(RecorderError, match="cannot create directory"):
        writer.write(video_frame(clip[0][0], True, 0))
    # Audio before any segment is simply dropped; JPEG video is refused clearly.
    writer.write(audio_frame(0))
    with pytest.raises(RecorderError, match=r"H\.264 only"):
        writer.write(_jpeg())


def _jpeg() -> object:
    from ipcam_async.rtp.frames import VideoFrame

    return VideoFrame(
        track=0,
        codec="JPEG",
        timestamp=0,
        ext_timestamp=0,
        wallclock=None,
        keyframe=True,
        lost=False,
        data=b"\xff\xd8\xff\xd9",
    )
