"""Decode a camera's H.264 frames into numpy arrays with PyAV (``pip install av numpy``).

    python examples/frames_to_numpy.py --frames 30                       # simulated camera
    python examples/frames_to_numpy.py rtsp://admin:1234@127.0.0.1:8554/h264   # `ipcam sim`

Our RTSP client hands out whole access units (Annex B, SPS/PPS in front of every keyframe), so a
bare PyAV decoder context is all it takes: no container, no FFmpeg networking.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

import av
import numpy as np

from ipcam_async.rtp.frames import VideoFrame
from ipcam_async.rtsp.stream import RtspStream
from ipcam_async.sim import SimulatedCamera


async def main(url: str | None, count: int) -> int:
    async with contextlib.AsyncExitStack() as stack:
        if url:
            stream = RtspStream(url)
        else:
            sim = await stack.enter_async_context(SimulatedCamera(mjpeg=False))
            cam = await stack.enter_async_context(sim.camera())
            stream = cam.stream("h264")
        await stack.enter_async_context(stream)
        decoder = av.CodecContext.create("h264", "r")
        decoded = 0
        async for frame in stream.frames():
            if not isinstance(frame, VideoFrame):
                continue
            for picture in decoder.decode(av.Packet(frame.data)):
                image: np.ndarray = picture.to_ndarray(format="rgb24")  # height x width x 3
                decoded += 1
                print(
                    f"frame {decoded}: {image.shape[1]}x{image.shape[0]} "
                    f"key={frame.keyframe} mean RGB={image.mean(axis=(0, 1)).round(1).tolist()}"
                )
            if decoded >= count:
                break
    return 0 if decoded >= count else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="rtsp://user:password@host:port/h264")
    parser.add_argument("--frames", type=int, default=10, help="how many frames to decode")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.url, args.frames)))
