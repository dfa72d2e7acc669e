"""The fragmented MP4 writer: files FFmpeg (via PyAV) reads back exactly, even when cut short."""

from __future__ import annotations

import io
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import attrs
import pytest
from rec_helpers import (
    complete_video_frames,
    encode_h264,
    probe,
    top_level_boxes,
    video_samples_in_moof,
)

from ipcam_async.errors import RecorderError
from ipcam_async.record.mp4 import (
    AudioTrackConfig,
    FragmentedMp4Writer,
    ParameterSetsChanged,
    parameters_from_access_unit,
)
from ipcam_async.rtp.h264 import H264Parameters

FPS = 30
TICKS = 90000 // FPS
WALLCLOCK = 1764037370.123


@pytest.fixture(scope="module")
def clip() -> list[tuple[bytes, bool]]:
    return encode_h264(90, width=320, height=240, gop=30)


def config_of(access_unit: bytes) -> H264Parameters:
    cfg = parameters_from_access_unit(access_unit)
    assert cfg is not None
    return cfg


def write_clip(
    path: Path,
    clip: list[tuple[bytes, bool]],
    *,
    audio: bool = True,
    skip: range = range(0),
    **kw: object,
) -> FragmentedMp4Writer:
    writer = FragmentedMp4Writer(
        path,
        config_of(clip[0][0]),
        audio=AudioTrackConfig() if audio else None,
        wallclock=WALLCLOCK,
        **kw,  # type: ignore[arg-type]
    )
    base = 123_456_789
    audio_ts = 5_000
    for i, (au, key) in enumerate(clip):
        if i not in skip:
            writer.add_video(au, base + i * TICKS, key)
        if audio:
            # 8 kHz µ-law: 266 or 267 samples per 1/30 s, two packets per picture.
            for part in (133, 134 if i % 3 else 133):
                writer.add_audio(bytes([0xFF - (i % 40)]) * part, audio_ts)
                audio_ts += part
    writer.close()
    return writer


def test_round_trip_video_and_audio(tmp_path: Path, clip: list[tuple[bytes, bool]]) -> None:
    path = tmp_path / "a.mp4"
    writer = write_clip(path, clip)
    assert writer.stats.video_frames == 90
    assert writer.stats.fragments == 3  # one per GOP
    info = probe(path)
    assert info["codec"] == "h264"
    assert (info["width"], info["height"]) == (320, 240)
    assert info["frames"] == 90
    assert info["errors"] == 0
    assert info["pts"] == pytest.approx([i / FPS for i in range(90)])
    assert info["audio_codec"] == "pcm_mulaw"
    assert info["audio_rate"] == 8000
    total_audio = sum(133 + (134 if i % 3 else 133) for i in range(90))
    # The last audio packet waits for a successor to learn its duration; close() still writes it.
    assert info["audio_samples"] == total_audio
    assert info["audio_end"] == pytest.approx(3.0, abs=0.05)
    # Wall-clock start: whole seconds in creation_time, milliseconds in the date tag.
    assert info["metadata"]["creation_time"].startswith("2025-11-25T02:22:50")
    assert info["metadata"]["date"] == "2025-11-25T02:22:50.123Z"
    with __import__("av").open(str(path)) as container:
        assert float(container.duration / 1_000_000) == pytest.approx(3.0, abs=0.04)


def test_one_fragment_per_gop_and_by_duration(
    tmp_path: Path, clip: list[tuple[bytes, bool]]
) -> None:
    data_gop = (tmp_path / "gop.mp4", None)
    data_dur = (tmp_path / "dur.mp4", 0.25)
    for path, fragment in (data_gop, data_dur):
        write_clip(path, clip, audio=False, fragment_duration=fragment)
    gop_boxes = top_level_boxes(data_gop[0].read_bytes())
    moofs = [b for b in gop_boxes if b[1] == b"moof"]
    raw = data_gop[0].read_bytes()
    assert [video_samples_in_moof(raw[o : o + s]) for o, _, s in moofs] == [30, 30, 30]
    # By duration, with GOP 30 (1 s): no keyframe before 2 x 0.25 s, so cuts every 15 frames.
    raw = data_dur[0].read_bytes()
    counts = [
        video_samples_in_moof(raw[o : o + s]) for o, k, s in top_level_boxes(raw) if k == b"moof"
    ]
    assert counts == [15] * 6
    assert probe(data_dur[0])["frames"] == 90


def test_lost_frames_leave_an_honest_gap(tmp_path: Path, clip: list[tuple[bytes, bool]]) -> None:
    path = tmp_path / "gap.mp4"
    # Loss mid-GOP: the receiver drops everything up to the next IDR (frame 60).
    write_clip(path, clip, audio=False, skip=range(40, 60))
    info = probe(path)
    assert info["frames"] == 70
    assert info["errors"] == 0
    # Frame 39 lasts 21 frame times; frame 60 plays at 60/30 s, not 40/30 s.
    assert info["pts"][39] == pytest.approx(39 / FPS)
    assert info["pts"][40] == pytest.approx(60 / FPS)
    assert info["pts"][-1] == pytest.approx(89 / FPS)


def test_timestamp_jump_backwards_is_a_counted_discontinuity(
    tmp_path: Path, clip: list[tuple[bytes, bool]]
) -> None:
    path = tmp_path / "disc.mp4"
    writer = FragmentedMp4Writer(path, config_of(clip[0][0]), wallclock=WALLCLOCK)
    for i, (au, key) in enumerate(clip[:60]):
        ts = i * TICKS if i < 30 else 10 + (i - 30) * TICKS  # encoder restart at frame 30
        writer.add_video(au, ts, key)
    writer.close()
    assert writer.stats.discontinuities == 1
    info = probe(path)
    assert info["frames"] == 60
    assert info["pts"] == pytest.approx([i / FPS for i in range(60)])


def test_high_profile_avcc_extension(tmp_path: Path) -> None:
    clip = encode_h264(20, width=352, height=288, gop=10, profile="high", preset="veryfast")
    cfg = config_of(clip[0][0])
    assert cfg.sps[1] == 100
    avcc = cfg.avc_decoder_configuration()
    # After SPS and PPS: chroma_format 1 (4:2:0), 8-bit luma and chroma, no SPS extensions.
    assert avcc[-4:] == bytes((0xFC | 1, 0xF8, 0xF8, 0))
    path = tmp_path / "high.mp4"
    writer = FragmentedMp4Writer(path, cfg, wallclock=WALLCLOCK)
    for i, (au, key) in enumerate(clip):
        writer.add_video(au, i * TICKS, key)
    writer.close()
    info = probe(path)
    assert (info["width"], info["height"], info["frames"], info["errors"]) == (352, 288, 20, 0)


def test_parameter_set_change_raises_before_writing(
    tmp_path: Path, clip: list[tuple[bytes, bool]]
) -> None:
    other = encode_h264(2, width=160, height=128, gop=30)
    path = tmp_path / "ps.mp4"
    writer = FragmentedMp4Writer(path, config_of(clip[0][0]), wallclock=WALLCLOCK)
    for i, (au, key) in enumerate(clip[:10]):
        writer.add_video(au, i * TICKS, key)
    with pytest.raises(ParameterSetsChanged) as caught:
        writer.add_video(other[0][0], 10 * TICKS, True)
    assert (caught.value.parameters.width, caught.value.parameters.height) == (160, 128)
    # The repeated, identical parameter sets of the next GOP are fine.
    writer.add_video(clip[30][0], 10 * TICKS, True)
    writer.close()
    assert writer.stats.video_frames == 11
    assert probe(path)["frames"] == 11


def test_first_frame_must_be_a_keyframe_and_early_audio_is_dropped(
    tmp_path: Path, clip: list[tuple[bytes, bool]]
) -> None:
    path = tmp_path / "k.mp4"
    writer = FragmentedMp4Writer(
        path, config_of(clip[0][0]), audio=AudioTrackConfig(), wallclock=WALLCLOCK
    )
    writer.add_audio(b"\xff" * 160, 0)
    assert writer.stats.dropped_audio == 1
    with pytest.raises(RecorderError):
        writer.add_video(clip[1][0], 0, False)
    writer.close()
    with pytest.raises(RecorderError):
        writer.add_video(clip[0][0], 0, True)
    # Nothing was ever written: an empty file, not a broken one.
    assert path.stat().st_size == 0


def test_existing_file_is_never_overwritten(tmp_path: Path, clip: list[tuple[bytes, bool]]) -> None:
    path = tmp_path / "exists.mp4"
    path.write_bytes(b"keep me")
    with pytest.raises(RecorderError, match="cannot create"):
        FragmentedMp4Writer(path, config_of(clip[0][0]))
    assert path.read_bytes() == b"keep me"


def test_disk_full_is_a_recorder_error(clip: list[tuple[bytes, bool]]) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("/dev/full is not available on this system")
    with open("/dev/full", "wb", buffering=0) as full:
        writer = FragmentedMp4Writer(full, config_of(clip[0][0]), wallclock=WALLCLOCK)
        with pytest.raises(RecorderError, match="write failed"):
            writer.add_video(clip[0][0], 0, True)


class JournalFile(io.RawIOBase):
    """A seekable in-memory file that records every write, to replay a crash at any moment."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.pos = 0
        self.ops: list[tuple[int, bytes]] = []

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = offset if whence == 0 else len(self.data) + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.ops.append((self.pos, chunk))
        self.data[self.pos : self.pos + len(chunk)] = chunk
        self.pos += len(chunk)
        return len(chunk)


def file_after(ops: list[tuple[int, bytes]], count: int, partial: int) -> bytes:
    """The file after ``count`` complete writes and ``partial`` bytes of the next one."""
    data = bytearray()
    for offset, chunk in ops[:count]:
        data[offset : offset + len(chunk)] = chunk
    if partial and count < len(ops):
        offset, chunk = ops[count]
        data[offset : offset + partial] = chunk[:partial]
    return bytes(data)


def test_a_crash_at_any_moment_leaves_every_complete_fragment_playable(
    tmp_path: Path, clip: list[tuple[bytes, bool]]
) -> None:
    journal = JournalFile()
    writer = FragmentedMp4Writer(
        journal,
        config_of(clip[0][0]),
        audio=AudioTrackConfig(),
        wallclock=WALLCLOCK,
        fragment_duration=0.2,
    )
    for i, (au, key) in enumerate(clip[:60]):
        writer.add_video(au, i * TICKS, key)
        writer.add_audio(b"\xff" * 267, i * 267)
    writer.close()
    ops = journal.ops
    assert len(ops) > 10
    cut = tmp_path / "crash.mp4"
    states = 0
    for count in range(len(ops) + 1):
        size = len(ops[count][1]) if count < len(ops) else 0
        # Every boundary of the next write, a byte either side, and points in between.
        partials = {0, 1, 4, 7, 8, 9, 31, 33, size - 1} | set(range(0, size, max(1, size // 12)))
        for partial in sorted(p for p in partials if 0 <= p < max(size, 1)):
            if count == 0:
                continue  # the header itself is being written: nothing to play yet
            data = file_after(ops, count, partial)
            expected = complete_video_frames(data)
            cut.write_bytes(data)
            info = probe(cut)
            assert info["frames_before_error"] >= expected, (count, partial)
            states += 1
    assert states > 100
    # The finished file plays in full.
    cut.write_bytes(bytes(journal.data))
    assert probe(cut)["frames"] == 60


def test_a_finished_file_cut_anywhere_outside_a_moof_plays_its_complete_fragments(
    tmp_path: Path, clip: list[tuple[bytes, bool]]
) -> None:
    """Cuts of a finished file (a copy interrupted, a full disk on another writer...).

    FFmpeg's seekable-input demuxer scans every top-level box at open and refuses a file that
    ends inside a ``moof``; the writer never leaves one (a moof becomes one only once its mdat is
    complete, see the crash test above), so those offsets are skipped here.
    """
    path = tmp_path / "full.mp4"
    write_clip(path, clip, fragment_duration=0.2)  # many small fragments
    data = path.read_bytes()
    boxes = top_level_boxes(data)
    moov_end = next(o + s for o, k, s in boxes if k == b"moov")
    inside_moof = [(o, o + s) for o, k, s in boxes if k == b"moof"]
    offsets = set(range(moov_end, len(data), max(1, len(data) // 60)))
    for offset, _, size in boxes:  # every boundary, and just around it
        offsets.update({offset - 1, offset, offset + 1, offset + 9, offset + size - 1})
    cut = tmp_path / "cut.mp4"
    checked = 0
    for offset in sorted(o for o in offsets if moov_end <= o <= len(data)):
        if any(start < offset < end for start, end in inside_moof):
            continue
        cut.write_bytes(data[:offset])
        expected = complete_video_frames(data[:offset])
        info = probe(cut)
        assert info["frames_before_error"] >= expected, offset
        assert info["frames"] <= 90
        checked += 1
    assert checked > 60


WRITER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    sys.path[:0] = [{root!r}, {tests!r}]
    from rec_helpers import encode_h264
    from ipcam_async.record.mp4 import FragmentedMp4Writer, parameters_from_access_unit
    clip = encode_h264(300, width=320, height=240, gop=15)
    writer = FragmentedMp4Writer({path!r}, parameters_from_access_unit(clip[0][0]))
    print("ready", flush=True)
    for i, (au, key) in enumerate(clip * 100):
        writer.add_video(au, i * 3000, key)
        time.sleep(0.002)
    """
)


def test_sigkill_mid_segment_leaves_a_playable_file(tmp_path: Path) -> None:
    path = tmp_path / "killed.mp4"
    script = WRITER_SCRIPT.format(
        root=str(Path(__file__).resolve().parents[2]),
        tests=str(Path(__file__).resolve().parent),
        path=str(path),
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        deadline = time.monotonic() + 20
        # Kill after a few fragments, mid-GOP (the writer never stops between fragments).
        while complete_video_frames(path.read_bytes()) < 60:
            assert time.monotonic() < deadline, "the writer produced no fragments"
            time.sleep(0.05)
        time.sleep(0.013)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    data = path.read_bytes()
    expected = complete_video_frames(data)
    assert expected >= 60
    info = probe(path)
    assert info["codec"] == "h264"
    assert info["frames"] >= expected
    assert info["frames_before_error"] >= expected
    assert info["pts"][:expected] == pytest.approx([i / FPS for i in range(expected)])


class PipeLike(io.RawIOBase):
    """A write-only, non-seekable sink (a pipe, a socket): the writer streams plain moofs."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.chunks.append(bytes(data))
        return len(data)


def test_non_seekable_output_streams_complete_fragments(
    tmp_path: Path, clip: list[tuple[bytes, bool]]
) -> None:
    sink = PipeLike()
    writer = FragmentedMp4Writer(sink, config_of(clip[0][0]), wallclock=WALLCLOCK)
    for i, (au, key) in enumerate(clip):
        writer.add_video(au, i * TICKS, key)
    writer.close()
    data = b"".join(sink.chunks)
    kinds = [k for _, k, _ in top_level_boxes(data)]
    assert kinds.count(b"moof") == 3 and b"free" not in kinds
    path = tmp_path / "piped.mp4"
    path.write_bytes(data)
    assert probe(path)["frames"] == 90


def test_fsync_views_and_the_producer_reference_time(
    tmp_path: Path, clip: list[tuple[bytes, bool]]
) -> None:
    from rec_helpers import video_frame

    path = tmp_path / "synced.mp4"
    writer = FragmentedMp4Writer(path, config_of(clip[0][0]), fsync=True)
    for i, (au, key) in enumerate(clip[:60]):
        # Frames in writev mode (data empty, pieces in views) with RTCP wall-clock times.
        # The camera's clock steps 0.25 s at picture 30 (RTCP): prft follows the capture time.
        wall = WALLCLOCK + i / FPS + (0.25 if i >= 30 else 0.0)
        frame = video_frame(b"", key, 1000 + i * TICKS, wallclock=wall)
        frame = attrs.evolve(frame, views=(memoryview(au)[:5], memoryview(au)[5:]))
        writer.write_frame(frame)
    writer.close()
    assert probe(path)["frames"] == 60
    data = path.read_bytes()
    prfts = [o for o, k, _ in top_level_boxes(data) if k == b"prft"]
    assert len(prfts) == 2
    # prft v1: track 1, NTP time of the fragment's first picture, its media time (90 kHz).
    track, seconds, fraction, media = struct.unpack_from(">IIIQ", data, prfts[1] + 12)
    assert (track, media) == (1, 30 * TICKS)
    unix = seconds + fraction / 2**32 - 2208988800
    assert unix == pytest.approx(WALLCLOCK + 1.25, abs=1e-6)
    track, seconds, fraction, media = struct.unpack_from(">IIIQ", data, prfts[0] + 12)
    assert media == 0
    assert seconds + fraction / 2**32 - 2208988800 == pytest.approx(WALLCLOCK, abs=1e-6)
