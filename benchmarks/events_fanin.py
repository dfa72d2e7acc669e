"""Fan-in of event monitors: one process follows the event streams of N simulated cameras.

A server process runs ``max(N)`` simulated cameras (one HTTP port each) and flips input 1 of
every camera ``--rate`` times per second, so each change is pushed to that camera's monitor as
one ``multipart/x-mixed-replace`` part. For each N a fresh client process opens N cameras over
one shared aiohttp session and runs ``cam.events.monitor(("IO",))`` on each, then measures over
``--seconds``:

- events/s handled: snapshots parsed and delivered to the consumers, per second;
- CPU ms per 1,000 events: the client process's CPU time (user + system) per 1,000 snapshots;
- RSS per monitor: resident memory of the client after all monitors are connected and have
  delivered a snapshot, minus before they were opened, divided by N. Target: <= 64 KiB.

Usage: ``python3 benchmarks/events_fanin.py [--quick] [--sizes 100,500,1000] [--seconds S]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_RSS_KIB = 64


def rss_kib() -> int:
    """Current resident set size of this process in KiB (Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("VmRSS not found")


# -- server process --------------------------------------------------------------------------


async def serve(count: int, rate: float) -> None:
    from ipcam_async.sim import SimulatedCamera

    sims = [SimulatedCamera(rtsp=False, mjpeg=False, auth="basic") for _ in range(count)]
    for sim in sims:
        await sim.start()
    print(json.dumps({"ports": [s.http_port for s in sims]}), flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_reader(sys.stdin.fileno(), stop.set)  # the parent closes stdin to stop us
    # Spread the changes over the period in small batches, as independent cameras would.
    batches = 50
    per_batch = max(1, count // batches)
    tick = 1.0 / (rate * batches)
    index = 0
    next_at = loop.time()
    while not stop.is_set():
        for _ in range(per_batch):
            sims[index % count].state.flip_input(1)
            index += 1
        next_at += tick
        await asyncio.sleep(max(0.0, next_at - loop.time()))
    loop.remove_reader(sys.stdin.fileno())
    await asyncio.gather(*(s.stop() for s in sims))


# -- client process --------------------------------------------------------------------------


async def client(ports: list[int], seconds: float) -> dict[str, Any]:
    import aiohttp

    from ipcam_async.api.reconnect import ReconnectPolicy
    from ipcam_async.camera import Camera

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    policy = ReconnectPolicy(idle_timeout=30.0, max_failures=None)
    gc.collect()
    await asyncio.sleep(0.1)
    rss_before = rss_kib()
    counts = [0] * len(ports)

    async def follow(i: int, port: int) -> None:
        cam = Camera("127.0.0.1", port, username="admin", password="1234", auth="basic",
                     session=session)  # fmt: skip
        async with cam.events.monitor(("IO",), policy=policy) as monitor:
            async for _ in monitor:
                counts[i] += 1

    tasks = [asyncio.create_task(follow(i, p)) for i, p in enumerate(ports)]
    deadline = time.monotonic() + 60
    while min(counts) == 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {sum(1 for c in counts if c)} monitors connected")
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    gc.collect()
    rss_after = rss_kib()
    cpu0, t0, n0 = time.process_time(), time.perf_counter(), sum(counts)
    await asyncio.sleep(seconds)
    cpu1, t1, n1 = time.process_time(), time.perf_counter(), sum(counts)
    failed = [t for t in tasks if t.done()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await session.close()
    events = n1 - n0
    return {
        "monitors": len(ports),
        "events_per_s": events / (t1 - t0),
        "cpu_ms_per_1000": (cpu1 - cpu0) / events * 1e6 if events else float("nan"),
        "cpu_percent": (cpu1 - cpu0) / (t1 - t0) * 100,
        "rss_per_monitor_kib": (rss_after - rss_before) / len(ports),
        "ended_early": len(failed),
    }


# -- orchestration ---------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few seconds' run")
    ap.add_argument("--sizes", default=None, help="comma-separated monitor counts")
    ap.add_argument("--seconds", type=float, default=None, help="measuring window per size")
    ap.add_argument("--rate", type=float, default=2.0, help="changes per camera per second")
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--client", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.rate))
        return
    if args.client:
        wanted = [int(p) for p in args.client.split(",")]
        print(json.dumps(asyncio.run(client(wanted, args.seconds))), flush=True)
        return

    sizes = [
        int(s) for s in (args.sizes or ("50,100" if args.quick else "100,500,1000")).split(",")
    ]
    seconds = args.seconds or (1.5 if args.quick else 5.0)
    script = str(Path(__file__).resolve())
    server = subprocess.Popen(
        [sys.executable, script, "--serve", str(max(sizes)), "--rate", str(args.rate)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        if not first:
            raise SystemExit("the simulator process failed to start (see its error above)")
        ports: list[int] = json.loads(first)["ports"]
        rows = []
        for n in sizes:
            out = subprocess.run(
                [sys.executable, script, "--client", ",".join(map(str, ports[:n])),
                 "--seconds", str(seconds)],
                capture_output=True, text=True, check=True, timeout=120,
            )  # fmt: skip
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    print(
        f"# Event monitor fan-in: simulated cameras in a separate process, input 1 flipped "
        f"{args.rate:g}/s per camera;"
    )
    print(
        f"# measured over {seconds:g} s per row; Python {platform.python_version()} on "
        f"{platform.machine()}, {os.cpu_count()} CPUs"
    )
    print()
    print(
        f"| {'monitors':>8} | {'events/s':>9} | {'CPU ms / 1000 events':>20} | "
        f"{'client CPU':>10} | {'RSS / monitor':>13} | {'ended early':>11} |"
    )
    print(f"|{'-' * 10}|{'-' * 11}|{'-' * 22}|{'-' * 12}|{'-' * 15}|{'-' * 13}|")
    for row in rows:
        print(
            f"| {row['monitors']:8d} | {row['events_per_s']:9.0f} | "
            f"{row['cpu_ms_per_1000']:20.1f} | {row['cpu_percent']:9.1f}% | "
            f"{row['rss_per_monitor_kib']:10.1f} KiB | {row['ended_early']:11d} |"
        )
    print()
    worst = max(row["rss_per_monitor_kib"] for row in rows)
    verdict = "meets" if worst <= TARGET_RSS_KIB else "MISSES"
    print(f"largest RSS per monitor {worst:.1f} KiB {verdict} the target <= {TARGET_RSS_KIB} KiB")


if __name__ == "__main__":
    main()
