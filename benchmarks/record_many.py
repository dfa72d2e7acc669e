"""Record N simulated 1080p30 4 Mbit/s H.264 streams at once over RTSP/TCP, in one process.

The simulated camera's RTSP server runs in a child process (its own core, its own CPU account);
this process runs the :class:`~ipcam_async.record.Recorder` with N cameras and measures, per N,
over a steady-state window after every camera is recording:

* client CPU seconds per stream-second (user + system of this process / (N x window)),
* frames received (against 30 fps x N x window: below 100 % means late, see the lag) and frames
  lost (over TCP every loss leaves a trace: the frame after an RTP gap is flagged, a frame a
  stream's queue drops because the recorder fell behind is counted),
* RSS growth per stream (MiB), and the write rate to disk (MB/s),
* the server's CPU share, to show whether the load generator itself kept up,
* the RTP packets the streams saw lost (the server drops what a full TCP socket cannot take,
  like a camera), the capture-to-write lag (RTCP wall clock), and reconnects.

    python benchmarks/record_many.py            # N = 10, 50, 100, 150, 200 (about 1.5 min)
    python benchmarks/record_many.py --quick    # N = 5, 20, a few seconds each
    python benchmarks/record_many.py --sizes 1 300 --window 10

The clip (2 s, 1920x1080, GOP 30, about 4 Mbit/s) is encoded once with PyAV's libx264 and cached.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ipcam_async.record import Recorder  # noqa: E402

FPS = 30
CLIP = Path(tempfile.gettempdir()) / "ipcam_bench_1080p30_4M.264"


def make_clip(path: Path, *, seconds: float = 2.0, bitrate: int = 3_200_000) -> None:
    """Encode a 1080p30 clip of about 4 Mbit/s (moving noise; x264 overshoots ``bitrate``)."""
    import av
    import numpy as np

    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height = 1920, 1080
    codec.pix_fmt = "yuv420p"
    codec.time_base = Fraction(1, FPS)
    codec.framerate = Fraction(FPS, 1)
    codec.bit_rate = bitrate
    codec.options = {
        "preset": "ultrafast",
        "bframes": "0",
        "g": "30",
        "keyint_min": "30",
        "sc_threshold": "0",
        "x264-params": f"vbv-maxrate={bitrate // 1000}:vbv-bufsize={bitrate // 1000}:nal-hrd=cbr",
    }
    rng = np.random.default_rng(1)
    base = rng.integers(0, 256, (1080 // 8, 1920 // 8), dtype=np.uint8)
    chunks = []
    for i in range(int(seconds * FPS)):
        # A scrolling noise texture: costly to code, like a busy street scene.
        luma = np.kron(np.roll(base, i * 3, axis=1), np.ones((8, 8), np.uint8))
        frame = av.VideoFrame.from_ndarray(
            np.stack([luma, np.roll(luma, i, 0), luma[::-1]], axis=-1), format="rgb24"
        ).reformat(format="yuv420p")
        frame.pts = i
        chunks += [bytes(p) for p in codec.encode(frame)]
    chunks += [bytes(p) for p in codec.encode(None)]
    path.write_bytes(b"".join(chunks))


async def serve(clip: Path) -> None:
    """Child process: serve ``clip`` on /h264 until stdin closes; print the port first."""
    from ipcam_async.sim.rtsp.media import StreamSource, load_h264
    from ipcam_async.sim.rtsp.server import RtspServer

    streams = {"h264": StreamSource(load_h264(clip, fps=FPS))}
    async with RtspServer(streams=streams, max_connections=4096) as server:
        print(server.port, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def measure(
    n: int,
    port: int,
    server_pid: int,
    out_root: Path,
    window: float,
    io_threads: int,
    rss0: float,
) -> dict[str, float]:
    """One row. ``rss0`` is the process's RSS before any recording: memory freed by a smaller
    row stays in the allocator's pools and is reused, so growth over that baseline (not over
    the previous row) is what N streams cost."""
    out = out_root / f"n{n}"
    url = f"rtsp://127.0.0.1:{port}/h264"
    recorder = Recorder(out, segment=60, audio=False, backoff_initial=0.5, io_threads=io_threads)
    async with recorder as rec:
        for i in range(n):
            rec.add(url, name=f"cam{i:03d}", timeout=30.0)
        # Steady state: every camera has written its first fragment (one GOP).
        deadline = time.monotonic() + 10 + n / 10
        while any(s.bytes == 0 for s in rec.stats.values()):
            if time.monotonic() > deadline:
                break  # measure anyway: the cameras that never started count as lost frames
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)
        stats = rec.stats.values()
        frames0 = sum(s.frames for s in stats)
        lost0 = sum(s.lost for s in stats)
        bytes0 = sum(s.bytes for s in stats)
        packets0 = sum(s.packets_lost for s in stats)
        reconnects0 = sum(s.reconnects for s in stats)
        dropped0 = sum(s.dropped_frames for s in stats)
        cpu0, server0, t0 = cpu_seconds(), child_cpu_seconds(server_pid), time.monotonic()
        await asyncio.sleep(window)
        cpu1, server1, t1 = cpu_seconds(), child_cpu_seconds(server_pid), time.monotonic()
        stats = rec.stats.values()
        frames = sum(s.frames for s in stats) - frames0
        lost = sum(s.lost for s in stats) - lost0
        written = sum(s.bytes for s in stats) - bytes0
        packets_lost = sum(s.packets_lost for s in stats) - packets0
        dropped = sum(s.dropped_frames for s in stats) - dropped0
        lags = [s.lag for s in stats if s.lag is not None]
        rss = rss_mib()
        reconnects = sum(s.reconnects for s in stats) - reconnects0
    shutil.rmtree(out, ignore_errors=True)
    elapsed = t1 - t0
    # Over TCP a frame is either delivered (maybe late: see the lag), or lost with a trace: the
    # frame after a gap is flagged, a frame the stream's queue drops is counted.
    expected = n * FPS * elapsed
    return {
        "n": n,
        "cpu_per_stream_s": (cpu1 - cpu0) / (n * elapsed),
        "client_cpu_pct": 100 * (cpu1 - cpu0) / elapsed,
        "server_cpu_pct": 100 * (server1 - server0) / elapsed,
        "frames": frames,
        "lost": lost + dropped,
        "lost_pct": 100 * (lost + dropped) / expected,
        "received_pct": 100 * frames / expected,
        "rss_per_stream_mib": (rss - rss0) / n,
        "write_mb_s": written / elapsed / 1e6,
        "max_lag": max(lags) if lags else float("nan"),
        "median_lag": statistics.median(lags) if lags else float("nan"),
        "reconnects": reconnects,
        "packets_lost": packets_lost,
        "dropped": dropped,
        "flagged": lost,
    }


async def run(sizes: list[int], window: float, io_threads: int) -> None:
    if not CLIP.exists():
        print(f"encoding the 1080p30 4 Mbit/s clip into {CLIP} ...", flush=True)
        make_clip(CLIP)
    bitrate = CLIP.stat().st_size * 8 / 2.0 / 1e6
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve",
        str(CLIP),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdin is not None
    port = int((await proc.stdout.readline()).decode())
    loop_name = type(asyncio.get_running_loop()).__module__.split(".")[0]
    print(
        f"clip {bitrate:.1f} Mbit/s 1920x1080 {FPS} fps; server pid {proc.pid}; "
        f"client loop {loop_name}; io_threads {io_threads}; window {window:.0f} s; "
        f"{os.cpu_count()} cores (shared)\n"
    )
    header = (
        f"{'N':>5} {'CPU s/stream-s':>15} {'client CPU':>10} {'server CPU':>10} "
        f"{'frames':>8} {'recv %':>7} {'lost':>6} {'RSS MiB/str':>11} {'write MB/s':>10} "
        f"{'lag med/max s':>14} {'pkt lost':>8} {'reconn':>6}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    rss_baseline = rss_mib()
    try:
        with tempfile.TemporaryDirectory(prefix="ipcam-bench-") as tmp:
            for n in sizes:
                row = await measure(n, port, proc.pid, Path(tmp), window, io_threads, rss_baseline)
                rows.append(row)
                print(
                    f"{n:5d} {row['cpu_per_stream_s']:15.4f} {row['client_cpu_pct']:9.0f}% "
                    f"{row['server_cpu_pct']:9.0f}% {row['frames']:8.0f} "
                    f"{row['received_pct']:6.1f}% {row['lost']:6.0f} "
                    f"{row['rss_per_stream_mib']:11.2f} {row['write_mb_s']:10.1f} "
                    f"{row['median_lag']:6.2f}/{row['max_lag']:<6.2f} "
                    f"{row['packets_lost']:9.0f} {row['reconnects']:6.0f}",
                    flush=True,
                )
    finally:
        proc.stdin.close()
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        await proc.wait()
    costs = [r["cpu_per_stream_s"] for r in rows if r["lost"] == 0 and r["max_lag"] < 1.0]
    if costs:
        per_core = 1 / statistics.median(costs)
        print(
            f"\nmedian client cost {statistics.median(costs):.4f} CPU-s per stream-second "
            f"(rows without loss, lag < 1 s) -> about {per_core:.0f} streams per core"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 5, 20 and a 2 s window")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 100, 150, 200])
    parser.add_argument("--window", type=float, default=5.0, help="seconds measured per N")
    parser.add_argument(
        "--io-threads", type=int, default=4, help="Recorder io_threads (0: writes in the loop)"
    )
    parser.add_argument("--uvloop", action="store_true", help="run both sides on uvloop")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    runner = asyncio.run
    if args.uvloop or os.environ.get("IPCAM_BENCH_UVLOOP"):
        import uvloop

        os.environ["IPCAM_BENCH_UVLOOP"] = "1"  # the server child too
        runner = uvloop.run
    if args.serve is not None:
        runner(serve(args.serve))
        return
    if args.quick:
        args.sizes, args.window = [5, 20], 2.0
    runner(run(args.sizes, args.window, args.io_threads))


if __name__ == "__main__":
    main()
