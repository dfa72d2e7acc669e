"""RTSP ingest cost: ipcam_async's client vs FFmpeg's (PyAV ``av.open``) on the same streams.

A 1920x1080, 30 fps, 4 Mbit/s H.264 clip (made once with PyAV, cached) is served by the simulated
camera's RTSP server in its own process. Each client runs in its own process too and receives
N concurrent streams over TCP and then UDP; we measure that process's CPU time over a fixed
window after a warm-up (process CPU time, user + kernel, of the client process only), and report
CPU seconds per stream-second, frames, bitrate and loss. ipcam_async consumes depacketized frames
(``RtspStream.frames()``); FFmpeg demuxes packets (``container.demux()``, one thread per stream,
as an application using PyAV would). Clients run one after the other, rounds alternating, and the
table shows medians over rounds, so a load change on the machine hits every client alike.
"lost" is RTP packets lost plus frames dropped by ipcam_async; a run whose frame rate falls
more than 3 % short of the source's also counts as a loss (paced reads move a window's edges by
up to one interval, so a few frames either way are expected).

ipcam_async runs four ways: reading as data arrives (``read_interval=0``, the RtspStream default)
and paced (``read_interval=0.1``: every stream's sockets read together ten times a second, up to
0.1 s of added latency; the Recorder's default), each on asyncio's own loop and on uvloop.

    python3 benchmarks/ingest.py            # 8 and 64 streams, 2 rounds of 5 s (about 10 min)
    python3 benchmarks/ingest.py --quick    # 2 streams, 1 round of 3 s windows
    python3 benchmarks/ingest.py --streams 16 --window 10 --rounds 3 --transports tcp
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLIP_FRAMES = 60
NAMES = {
    "ffmpeg": "FFmpeg (PyAV av.open, demux)",
    "ours": "ipcam_async RtspStream",
    "uvloop": "ipcam_async + uvloop",
    "paced": "ipcam_async read_interval=0.1",
    "paced-uvloop": "ipcam_async 0.1 + uvloop",
}
PACED_INTERVAL = 0.1
WIDTH, HEIGHT, FPS, BITRATE = 1920, 1080, 30, 4_000_000


def make_clip(path: Path) -> None:
    """Encode 2 s of moving noise at 1080p30 and ~4 Mbit/s (GOP 30, no B-frames)."""
    import av
    import numpy as np

    rng = np.random.default_rng(1)
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    codec.time_base = Fraction(1, FPS)
    codec.framerate = Fraction(FPS, 1)
    codec.bit_rate = BITRATE
    codec.gop_size = FPS
    kbps = BITRATE // 1000
    codec.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "x264-params": f"keyint={FPS}:min-keyint={FPS}:scenecut=0:bframes=0:repeat-headers=1:"
        f"vbv-maxrate={kbps}:vbv-bufsize={kbps}:nal-hrd=cbr",
    }
    base = rng.integers(0, 255, (HEIGHT // 8, WIDTH // 8), dtype=np.uint8)
    with path.open("wb") as out:
        for i in range(CLIP_FRAMES):
            small = np.roll(base, i * 3, axis=1) ^ rng.integers(0, 40, base.shape, dtype=np.uint8)
            luma = np.kron(small, np.ones((8, 8), dtype=np.uint8))
            yuv = np.concatenate([luma, np.full((HEIGHT // 2, WIDTH), 128, dtype=np.uint8)], axis=0)
            frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            frame.pts = i
            for packet in codec.encode(frame):
                out.write(bytes(packet))
        for packet in codec.encode(None):
            out.write(bytes(packet))


def clip_path() -> Path:
    cache = Path(tempfile.gettempdir()) / "ipcam_async_bench"
    cache.mkdir(exist_ok=True)
    path = cache / f"noise_{WIDTH}x{HEIGHT}_{FPS}_{BITRATE}.264"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        make_clip(tmp)
        tmp.replace(path)
    return path


# ------------------------------------------------------------------------------ roles


async def serve(clip: str) -> None:
    from ipcam_async.sim.rtsp import RtspServer, StreamSource, load_h264

    source = StreamSource(video=load_h264(clip, fps=FPS))
    async with RtspServer(streams={"h264": source}, max_sessions=4096) as server:
        print(f"PORT {server.port}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


async def run_ours(
    url: str, n: int, transport: str, warmup: float, window: float, read_interval: float = 0.0
) -> dict[str, Any]:
    from ipcam_async.rtsp import RtspStream

    frames = [0] * n
    nbytes = [0] * n
    streams = [
        RtspStream(
            url,
            transport=transport,  # type: ignore[arg-type]
            max_queue=1024,
            read_interval=read_interval,
        )
        for _ in range(n)
    ]

    async def consume(i: int, stream: RtspStream) -> None:
        async for frame in stream.frames():
            frames[i] += 1
            nbytes[i] += len(frame.data)

    for stream in streams:
        await stream.start()
    tasks = [asyncio.create_task(consume(i, s)) for i, s in enumerate(streams)]
    await asyncio.sleep(warmup)
    lost0 = sum(t.lost for s in streams for t in s.stats.tracks.values())
    f0, b0, c0, t0 = sum(frames), sum(nbytes), time.process_time(), time.monotonic()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.sleep(window)
    c1, t1 = time.process_time(), time.monotonic()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    f1, b1 = sum(frames), sum(nbytes)
    lost1 = sum(t.lost for s in streams for t in s.stats.tracks.values())
    dropped = sum(
        s.stats.dropped_frames + sum(t.dropped_frames for t in s.stats.tracks.values())
        for s in streams
    )
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for stream in streams:
        await stream.close()
    return {
        "cpu": c1 - c0,
        "elapsed": t1 - t0,
        "frames": f1 - f0,
        "bytes": b1 - b0,
        "lost": lost1 - lost0,
        "dropped": dropped,
        "sys": r1.ru_stime - r0.ru_stime,
    }


def run_ffmpeg(url: str, n: int, transport: str, warmup: float, window: float) -> dict[str, Any]:
    import av

    counters = [[0, 0] for _ in range(n)]
    stop = threading.Event()
    errors: list[str] = []

    def worker(i: int) -> None:
        try:
            with av.open(url, options={"rtsp_transport": transport, "stimeout": "5000000"}) as c:
                for packet in c.demux(video=0):
                    if packet.size:
                        counters[i][0] += 1
                        counters[i][1] += packet.size
                    if stop.is_set():
                        break
        except Exception as exc:  # reported in the table, not fatal for the benchmark
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    time.sleep(warmup)
    f0 = sum(c[0] for c in counters)
    b0 = sum(c[1] for c in counters)
    c0, t0 = time.process_time(), time.monotonic()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    time.sleep(window)
    c1, t1 = time.process_time(), time.monotonic()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    f1 = sum(c[0] for c in counters)
    b1 = sum(c[1] for c in counters)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    return {
        "cpu": c1 - c0,
        "elapsed": t1 - t0,
        "frames": f1 - f0,
        "bytes": b1 - b0,
        "lost": None,
        "dropped": None,
        "sys": r1.ru_stime - r0.ru_stime,
        "errors": errors[:3],
    }


# ------------------------------------------------------------------------------ driver

TARGETS = {"tcp": 0.3, "udp": 0.5}


def summarize(runs: list[dict[str, Any]], n: int) -> dict[str, Any]:
    """Medians over rounds of the per-stream figures; losses are summed."""
    pers = [r["cpu"] / (n * r["elapsed"]) for r in runs]
    lost: int | None = None
    if runs[0]["lost"] is not None:
        lost = sum(int(r["lost"]) + int(r["dropped"] or 0) for r in runs)
    errors: list[str] = []
    for r in runs:
        errors += r.get("errors") or []
    return {
        "per": statistics.median(pers),
        "fps": statistics.median(r["frames"] / (n * r["elapsed"]) for r in runs),
        "mbps": statistics.median(r["bytes"] * 8 / (n * r["elapsed"]) / 1e6 for r in runs),
        "kernel": statistics.median(r["sys"] / r["cpu"] if r["cpu"] else 0.0 for r in runs),
        "lost": lost,
        "errors": errors[:3],
    }


def client(
    role: str, url: str, n: int, transport: str, warmup: float, window: float
) -> dict[str, Any]:
    uvloop = role.endswith("uvloop")
    interval = PACED_INTERVAL if role.startswith("paced") else 0.0
    role = "ffmpeg" if role == "ffmpeg" else "ours"
    cmd = [
        sys.executable,
        __file__,
        "--role",
        role,
        "--url",
        url,
        "--streams",
        str(n),
        "--transports",
        transport,
        "--warmup",
        str(warmup),
        "--window",
        str(window),
    ]
    if uvloop:
        cmd.append("--uvloop")
    if interval:
        cmd += ["--read-interval", str(interval)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=warmup + window + 60)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{role} failed: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2 streams, 3 s windows")
    parser.add_argument(
        "--streams", default="8,64", help="concurrent streams; a comma list runs each count"
    )
    parser.add_argument("--window", type=float, default=5.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2, help="runs per client (medians)")
    parser.add_argument("--transports", default="tcp,udp")
    parser.add_argument(
        "--no-uvloop", action="store_true", help="skip the ipcam_async-on-uvloop runs"
    )
    parser.add_argument("--uvloop", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--read-interval", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--role", choices=("ours", "ffmpeg"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        asyncio.run(serve(args.serve))
        return
    if args.role == "ours":
        if args.uvloop:
            import uvloop

            uvloop.install()
        result = asyncio.run(
            run_ours(
                args.url,
                int(args.streams),
                args.transports,
                args.warmup,
                args.window,
                args.read_interval,
            )
        )
        print(json.dumps(result), flush=True)
        return
    if args.role == "ffmpeg":
        result = run_ffmpeg(args.url, int(args.streams), args.transports, args.warmup, args.window)
        print(json.dumps(result), flush=True)
        os._exit(0)  # FFmpeg threads blocked in a read must not hold the process

    if args.quick:
        args.streams, args.window, args.warmup, args.rounds = "2", 3.0, 1.0, 1
    if importlib.util.find_spec("uvloop") is None:
        args.no_uvloop = True
    counts = [int(c) for c in str(args.streams).split(",")]
    roles: tuple[str, ...] = ("ffmpeg", "ours", "paced")
    if not args.no_uvloop:
        roles = ("ffmpeg", "ours", "uvloop", "paced", "paced-uvloop")
    clip = clip_path()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(clip)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    rows = []
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().split()[1])
        url = f"rtsp://127.0.0.1:{port}/h264"
        for n in counts:
            for transport in args.transports.split(","):
                runs: dict[str, list[dict[str, Any]]] = {role: [] for role in roles}
                for _ in range(args.rounds):
                    for role in roles:
                        runs[role].append(client(role, url, n, transport, args.warmup, args.window))
                results = {role: summarize(runs[role], n) for role in roles}
                base = results["ffmpeg"]["per"]
                for role in roles:
                    r = results[role]
                    per = r["per"]
                    lost = r["lost"]
                    if lost is not None and r["fps"] < FPS * 0.97:
                        lost = f"{lost}+short"
                    rows.append(
                        (
                            transport,
                            role,
                            n,
                            per,
                            per / base if base else float("nan"),
                            r["fps"],
                            r["mbps"],
                            "-" if lost is None else str(lost),
                            r["kernel"],
                            (1.0 / per) if per else float("inf"),
                            r["errors"],
                        )
                    )
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=10)

    print(
        f"\nRTSP ingest, {WIDTH}x{HEIGHT} {FPS} fps ~{BITRATE / 1e6:g} Mbit/s H.264, "
        f"{args.window:g} s windows, median of {args.rounds} round(s), "
        f"Python {sys.version.split()[0]}\n"
    )
    header = (
        f"{'transport':9} {'client':30} {'streams':>7} {'CPU s / stream-s':>17} "
        f"{'vs FFmpeg':>9} {'frames/s':>9} {'Mbit/s':>7} {'lost':>5} {'kernel':>7} "
        f"{'streams/core':>12}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        transport, role, n, per, ratio, fps, mbps, lost, kernel, per_core, errors = row
        print(
            f"{transport:9} {NAMES[role]:30} {n:>7} {per:>17.5f} {ratio:>8.2f}x {fps:>9.1f} "
            f"{mbps:>7.2f} {lost:>5} {kernel:>7.0%} {per_core:>12.0f}"
        )
        for error in errors:
            print(f"    error: {error}")
    print()
    for row in rows:
        target = TARGETS.get(row[0])
        if row[1] == "ffmpeg" or target is None:
            continue
        verdict = "met" if row[4] <= target and row[7] == "0" else "NOT met"
        print(
            f"target {row[0]} <= {target:g}x FFmpeg, no loss, {row[2]} streams, "
            f"{NAMES[row[1]]}: {verdict} ({row[4]:.2f}x, lost {row[7]})"
        )


if __name__ == "__main__":
    main()
