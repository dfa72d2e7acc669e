"""``ipcam rtsp``: describe a presentation, probe its tracks, dump the elementary streams.

``URL`` is a full ``rtsp://`` URL, or a stream name (``h264``, ``h264_2``, ``h264_3``,
``h264_4``, ``jpeg``) on the camera given by ``--host`` and ``--rtsp-port``. Credentials come
from ``--user``/``--password`` (or the environment), or the URL's userinfo; they are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from pathlib import Path
from typing import Any

from ..redact import redact_url
from ..rtp.frames import AudioFrame, VideoFrame
from ..rtsp.client import RtspClient
from ..rtsp.stream import STREAM_NAMES, RtspStream
from .common import ENV_HOST, ENV_PASSWORD, ENV_USER, CliError, add_leaf, emit

__all__ = ["register"]


def _target(args: argparse.Namespace) -> tuple[str, str | None, str | None]:
    url: str = args.url
    if not url.startswith(("rtsp://", "rtsps://")):
        if url.strip("/") not in STREAM_NAMES:
            raise CliError(f"URL must be rtsp://... or one of {', '.join(STREAM_NAMES)}")
        host = args.host or os.environ.get(ENV_HOST) or "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        url = f"rtsp://{host}:{args.rtsp_port}/{url.strip('/')}"
    user = args.user or os.environ.get(ENV_USER)
    password = args.password if args.password is not None else os.environ.get(ENV_PASSWORD)
    if password is not None and user is None:
        user = "admin"
    return url, user, password


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="rtsp:// URL or stream name (h264, h264_2..4, jpeg)")
    parser.add_argument("--rtsp-port", type=int, default=554, help="with a stream name (554)")
    parser.add_argument(
        "--transport",
        choices=("tcp", "udp", "multicast", "auto"),
        default="tcp",
        help="media transport (default tcp)",
    )


async def run_describe(args: argparse.Namespace) -> int:
    """DESCRIBE and print the tracks (``--raw`` prints the SDP itself)."""
    url, user, password = _target(args)
    async with RtspClient(url, username=user, password=password, timeout=args.timeout) as client:
        sdp = await client.describe()
    tracks = [
        {
            "media": m.media,
            "codec": m.encoding,
            "payload_type": m.payload_type,
            "clock_rate": m.clock_rate,
            "control": m.control,
            "framerate": m.framerate,
            "fmtp": dict(m.fmtp),
        }
        for m in sdp.media
    ]
    data = {"url": redact_url(client.url), "base": client.base_url, "tracks": tracks}
    if args.raw:
        emit(args, {**data, "sdp": sdp.raw}, sdp.raw)
        return 0
    lines = [f"{redact_url(client.url)} (base {client.base_url})"]
    for i, t in enumerate(tracks):
        extra = f" {t['framerate']:g} fps" if t["framerate"] else ""
        lines.append(
            f"  track {i}: {t['media']} {t['codec']}/{t['clock_rate']} pt {t['payload_type']}"
            f"{extra} control {t['control']!r}"
        )
    emit(args, data, "\n".join(lines))
    return 0


def _stream(args: argparse.Namespace, *, audio: bool) -> RtspStream:
    url, user, password = _target(args)
    return RtspStream(
        url,
        username=user,
        password=password,
        transport=args.transport,
        audio=audio,
        timeout=args.timeout,
        max_queue=4096,
    )


async def run_probe(args: argparse.Namespace) -> int:
    """Stream for ``--seconds`` and report per track: codec, resolution, fps, bitrate, loss."""
    seconds = float(args.seconds)
    per_track: dict[int, dict[str, Any]] = {}
    async with _stream(args, audio=True) as stream:
        started = time.monotonic()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                async for frame in stream.frames():
                    info = per_track.setdefault(
                        frame.track, {"frames": 0, "bytes": 0, "keyframes": 0}
                    )
                    info["frames"] += 1
                    info["bytes"] += frame.size if isinstance(frame, VideoFrame) else frame.samples
                    if isinstance(frame, VideoFrame):
                        info["keyframes"] += int(frame.keyframe)
                        info["codec"] = frame.codec
                        if frame.width:
                            info["width"], info["height"] = frame.width, frame.height
                    else:
                        info["codec"] = frame.codec
                        info["sample_rate"] = frame.sample_rate
        elapsed = max(time.monotonic() - started, 1e-6)
        stats = stream.stats
        params = stream.parameters
    tracks = []
    for index, st in sorted(stats.tracks.items()):
        info = per_track.get(index, {"frames": 0, "bytes": 0})
        entry: dict[str, Any] = {
            "track": index,
            "media": st.media,
            "codec": info.get("codec", st.codec),
            "frames": info["frames"],
            "fps": round(info["frames"] / elapsed, 2) if st.media == "video" else None,
            "bitrate_kbps": round(st.bytes * 8 / elapsed / 1000, 1),
            "packets": st.packets,
            "lost": st.lost,
        }
        if st.media == "video":
            width = info.get("width") or getattr(params, "width", None)
            height = info.get("height") or getattr(params, "height", None)
            entry.update(width=width, height=height, keyframes=info.get("keyframes", 0))
        else:
            entry["sample_rate"] = info.get("sample_rate")
        tracks.append(entry)
    data = {"seconds": round(elapsed, 2), "transport": stats.transport, "tracks": tracks}

    def text() -> str:
        lines = [f"probed {elapsed:.1f}s over {stats.transport}"]
        for t in tracks:
            if t["media"] == "video":
                lines.append(
                    f"  track {t['track']}: video {t['codec']} {t['width']}x{t['height']} "
                    f"{t['fps']} fps {t['bitrate_kbps']} kbit/s, {t['lost']} lost"
                )
            else:
                lines.append(
                    f"  track {t['track']}: audio {t['codec']} {t['sample_rate']} Hz "
                    f"{t['bitrate_kbps']} kbit/s, {t['lost']} lost"
                )
        return "\n".join(lines)

    emit(args, data, text)
    return 0


async def run_dump(args: argparse.Namespace) -> int:
    """Write the video elementary stream (Annex B H.264 or concatenated JPEG) to ``--out``."""
    out = Path(args.out)
    audio_out = Path(args.audio_out) if args.audio_out else None
    frames = audio_frames = 0
    written = 0
    with contextlib.ExitStack() as files:
        video_file = files.enter_context(await asyncio.to_thread(out.open, "wb"))
        audio_file = (
            files.enter_context(await asyncio.to_thread(audio_out.open, "wb"))
            if audio_out
            else None
        )
        async with _stream(args, audio=audio_file is not None) as stream:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(float(args.seconds)):
                    async for frame in stream.frames():
                        if isinstance(frame, AudioFrame):
                            if audio_file is not None:
                                audio_file.write(frame.data)
                                audio_frames += 1
                            continue
                        video_file.write(frame.data)
                        written += len(frame.data)
                        frames += 1
    data = {"out": str(out), "frames": frames, "bytes": written, "audio_frames": audio_frames}
    text = f"wrote {frames} frames ({written} bytes) to {out}"
    if audio_out is not None:
        text += f" and {audio_frames} audio frames to {audio_out}"
    emit(args, data, text)
    return 0 if frames else 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``ipcam rtsp describe|probe|dump``."""
    parser = subparsers.add_parser("rtsp", help="RTSP: describe, probe, dump streams")
    sub = parser.add_subparsers(dest="rtsp_action", metavar="ACTION", required=True)
    describe = add_leaf(sub, "describe", run_describe, help="DESCRIBE and list the tracks")
    _common(describe)
    describe.add_argument("--raw", action="store_true", help="print the SDP as received")
    probe = add_leaf(sub, "probe", run_probe, help="tracks, codec, resolution, fps, bitrate")
    _common(probe)
    probe.add_argument("--seconds", type=float, default=5.0, help="how long to measure (5)")
    dump = add_leaf(sub, "dump", run_dump, help="save the video (and audio) elementary streams")
    _common(dump)
    dump.add_argument("--seconds", type=float, default=10.0, help="how long to record (10)")
    dump.add_argument("--out", required=True, help="video output file (.h264 or .mjpeg)")
    dump.add_argument("--audio-out", help="also write the µ-law audio to this file")
