"""Helpers of the recorder tests: H.264 made with libx264 (PyAV), files read back with PyAV."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

CLOCK = 90000


def encode_h264(
    frames: int = 60,
    *,
    width: int = 320,
    height: int = 240,
    fps: int = 30,
    gop: int = 30,
    profile: str = "high",
    preset: str = "ultrafast",
) -> list[tuple[bytes, bool]]:
    """Encode a moving test pattern: a list of (Annex B access unit, keyframe) in decode order."""
    codec = av.CodecContext.create("libx264", "w")
    codec.width = width
    codec.height = height
    codec.pix_fmt = "yuv420p"
    codec.time_base = Fraction(1, fps)
    codec.framerate = Fraction(fps, 1)
    codec.options = {
        "bframes": "0",
        "g": str(gop),
        "keyint_min": str(gop),
        "sc_threshold": "0",
        "preset": preset,
        "profile": profile,
    }
    out: list[tuple[bytes, bool]] = []
    ys, xs = np.mgrid[0:height, 0:width]
    for i in range(frames):
        img = np.zeros((height, width, 3), np.uint8)
        img[..., 0] = (xs + i * 4) % 256
        img[..., 1] = (ys + i * 2) % 256
        img[..., 2] = (xs + ys + i) % 256
        frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        for packet in codec.encode(frame):
            out.append((bytes(packet), bool(packet.is_keyframe)))
    for packet in codec.encode(None):
        out.append((bytes(packet), bool(packet.is_keyframe)))
    assert len(out) == frames
    return out


def probe(path: Path | str) -> dict[str, Any]:
    """Open ``path`` with PyAV and decode everything: codec, size, frame counts, times, tags.

    A packet the decoder refuses is counted in ``errors`` (a file cut mid-fragment ends with a
    partial sample, which a player skips); ``frames_before_error`` counts the pictures decoded
    before the first such packet.
    """
    with av.open(str(path)) as container:
        info: dict[str, Any] = {"metadata": dict(container.metadata)}
        video = container.streams.video[0]
        info["codec"] = video.codec_context.name
        info["width"] = video.codec_context.width
        info["height"] = video.codec_context.height
        audio = container.streams.audio[0] if container.streams.audio else None
        info["audio_codec"] = audio.codec_context.name if audio is not None else None
        info["audio_rate"] = audio.codec_context.sample_rate if audio is not None else None
        pts: list[float] = []
        audio_samples = 0
        audio_end = 0.0
        errors = 0
        before_error: int | None = None
        for packet in container.demux():
            # Empty packets at the end flush the decoders: decode them too.
            try:
                decoded = packet.decode()
            except av.error.InvalidDataError:
                errors += 1
                if before_error is None:
                    before_error = len(pts)
                continue
            for frame in decoded:
                if packet.stream.type == "video":
                    pts.append(float(frame.pts * frame.time_base))
                else:
                    audio_samples += frame.samples
                    start = float(frame.pts * frame.time_base)
                    audio_end = start + frame.samples / frame.sample_rate
        info["frames"] = len(pts)
        info["pts"] = pts
        info["errors"] = errors
        info["frames_before_error"] = len(pts) if before_error is None else before_error
        info["audio_samples"] = audio_samples
        info["audio_end"] = audio_end
        return info


def top_level_boxes(data: bytes) -> list[tuple[int, bytes, int]]:
    """(offset, type, size) of the top-level boxes of an MP4 file (stops at a truncated one)."""
    boxes = []
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, offset)
        if size < 8:
            break
        boxes.append((offset, kind, size))
        offset += size
    return boxes


def video_samples_in_moof(moof: bytes) -> int:
    """Number of track-1 samples a ``moof`` box (its bytes, header included) describes."""
    count = 0
    pos = 8
    while pos + 8 <= len(moof):
        size, kind = struct.unpack_from(">I4s", moof, pos)
        if kind == b"traf":
            track_id = struct.unpack_from(">I", moof, pos + 8 + 12)[0]  # tfhd after its header
            inner = pos + 8
            while inner < pos + size:
                isize, ikind = struct.unpack_from(">I4s", moof, inner)
                if ikind == b"trun" and track_id == 1:
                    count += struct.unpack_from(">I", moof, inner + 12)[0]
                inner += isize
        pos += size
    return count


def complete_video_frames(data: bytes) -> int:
    """Video frames in the fragments whose moof and mdat are entirely inside ``data``."""
    frames = 0
    boxes = top_level_boxes(data)
    for i, (offset, kind, size) in enumerate(boxes):
        if kind != b"moof" or i + 1 >= len(boxes):
            continue
        mdat_offset, mdat_kind, mdat_size = boxes[i + 1]
        if mdat_kind == b"mdat" and mdat_offset + mdat_size <= len(data):
            frames += video_samples_in_moof(data[offset : offset + size])
    return frames


WALL0 = 1764037370.0


def video_frame(au: bytes, key: bool, ts: int, *, wallclock: float | None = None, **kw: Any) -> Any:
    """A ``VideoFrame`` as the RTP layer hands it out."""
    from ipcam_async.rtp.frames import VideoFrame

    return VideoFrame(
        track=0,
        codec="H264",
        timestamp=ts & 0xFFFFFFFF,
        ext_timestamp=ts,
        wallclock=wallclock,
        keyframe=key,
        lost=kw.pop("lost", False),
        data=au,
        **kw,
    )


def audio_frame(ts: int, samples: int = 267, *, wallclock: float | None = None) -> Any:
    """A PCMU ``AudioFrame`` of ``samples`` bytes."""
    from ipcam_async.rtp.frames import AudioFrame

    return AudioFrame(
        track=1,
        codec="PCMU",
        timestamp=ts & 0xFFFFFFFF,
        ext_timestamp=ts,
        wallclock=wallclock,
        lost=False,
        data=b"\xff" * samples,
        sample_rate=8000,
    )


def clip_frames(
    clip: list[tuple[bytes, bool]],
    *,
    start: int = 0,
    ts0: int = 1000,
    wall0: float = WALL0,
    audio: bool = True,
) -> list[Any]:
    """The clip as frames (video, then one audio packet per picture), index ``start`` onwards."""
    frames = []
    for i, (au, key) in enumerate(clip):
        n = start + i
        wall = wall0 + n / 30
        frames.append(video_frame(au, key, ts0 + n * 3000, wallclock=wall))
        if audio:
            frames.append(audio_frame(500 + n * 267, wallclock=wall))
    return frames


class ScriptedSource:
    """A frame source for the recorder: plays frames, then ends, fails or blocks as scripted."""

    def __init__(
        self, frames: list[Any], *, then: str = "block", pace: float = 0.0, on_frame: Any = None
    ) -> None:
        self._frames = frames
        self._then = then
        self._pace = pace
        self._on_frame = on_frame
        self.parameters = None

    async def __aenter__(self) -> ScriptedSource:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def frames(self) -> Any:
        import asyncio

        from ipcam_async.errors import ConnectError

        for i, frame in enumerate(self._frames):
            if self._on_frame is not None:
                self._on_frame(i, frame)
            yield frame
            await asyncio.sleep(self._pace)
        if self._then == "fail":
            raise ConnectError("connection reset by the test")
        if self._then == "block":
            await asyncio.Event().wait()


class ScriptedCamera:
    """A source factory: connection *n* follows ``plan[n]`` (a ScriptedSource, or an exception)."""

    def __init__(self, plan: list[Any]) -> None:
        self.plan = plan
        self.connections = 0

    def __call__(self) -> Any:
        step = self.plan[min(self.connections, len(self.plan) - 1)]
        self.connections += 1
        if isinstance(step, BaseException):
            raise step
        return step
