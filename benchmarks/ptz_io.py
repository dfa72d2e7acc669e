"""Cost of the PTZ and I/O client: validation, answer parsing, and loopback round trips.

- "build": validating and encoding one ``goto(pan, tilt, zoom)`` request through ``PtzApi`` (a
  recording transport, no socket), beside a baseline that formats the same query with an
  f-string and no checks, measured in the same run;
- "parse": ``parse_position`` of the simulator's 5-line answer, ``parse_port_states`` of an
  8-port answer;
- "loopback": request latency against the simulated camera on 127.0.0.1 (Digest auth, one
  keep-alive session): ``position()``, ``goto()``, ``io.set_output()``; and the rate of
  ``position()`` calls with 8 in flight.

Figures are medians over rounds (latencies also p95).  Usage:
``python3 benchmarks/ptz_io.py [--quick] [--rounds N]``
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "ptz_io"))

from ptzio_fakes import RecordingCamera

from ipcam_async.api.io import parse_port_states
from ipcam_async.api.ptz import PtzApi, parse_position
from ipcam_async.sim import SimulatedCamera

POSITION = "pan=-12.50\r\ntilt=45.00\r\nzoom=1200\r\nfocus=800\r\niris=50\r\n"
PORTS = "\r\n".join(f"Input{i}={i % 2}" for i in range(1, 9))


def _per_call(fn: Callable[[], object], count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        fn()
    return (time.perf_counter() - start) / count


async def _per_call_async(fn: Callable[[], Awaitable[object]], count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        await fn()
    return (time.perf_counter() - start) / count


async def _pure(rounds: int, count: int) -> dict[str, list[float]]:
    camera = RecordingCamera("NH720")
    ptz = PtzApi(camera)  # type: ignore[arg-type]
    await ptz.capabilities()
    results: dict[str, list[float]] = {"build": [], "baseline": [], "position": [], "ports": []}
    sent: list[str] = []

    async def naive() -> None:
        sent.append(f"GET /cgi-bin/com/ptz.cgi?pan={-12.5}&tilt={45.0}&zoom={1200}")

    for _ in range(rounds):
        camera.transport.sent.clear()
        results["build"].append(
            await _per_call_async(lambda: ptz.goto(pan=-12.5, tilt=45.0, zoom=1200), count)
        )
        sent.clear()
        results["baseline"].append(await _per_call_async(naive, count))
        results["position"].append(_per_call(lambda: parse_position(POSITION), count))
        results["ports"].append(
            _per_call(lambda: parse_port_states(PORTS, "input", "check"), count)
        )
    return results


async def _loopback(rounds: int, count: int) -> dict[str, list[float]]:
    latencies: dict[str, list[float]] = {"position": [], "goto": [], "output": []}
    rates: list[float] = []
    async with (
        SimulatedCamera(rtsp=False, mjpeg=False) as sim,
        sim.camera(auth="digest") as cam,
    ):
        await cam.ptz.position()
        for _ in range(rounds):
            for _ in range(count):
                start = time.perf_counter()
                await cam.ptz.position()
                latencies["position"].append(time.perf_counter() - start)
                start = time.perf_counter()
                await cam.ptz.goto(pan=10.0, tilt=5.0)
                latencies["goto"].append(time.perf_counter() - start)
                start = time.perf_counter()
                await cam.io.set_output(1, True)
                latencies["output"].append(time.perf_counter() - start)
            start = time.perf_counter()
            for _ in range(count // 8 or 1):
                await asyncio.gather(*(cam.ptz.position() for _ in range(8)))
            rates.append((count // 8 or 1) * 8 / (time.perf_counter() - start))
    latencies["rate"] = rates
    return latencies


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


async def _main(args: argparse.Namespace) -> None:
    rounds = args.rounds or (3 if args.quick else 7)
    pure_count = 2000 if args.quick else 20000
    loop_count = 40 if args.quick else 200
    pure = await _pure(rounds, pure_count)
    loop = await _loopback(rounds, loop_count)
    med = statistics.median
    print(f"# ptz_io benchmark, Python {platform.python_version()}, {rounds} rounds")
    print()
    print("| what | median | other |")
    print("|---|---|---|")
    build, base = med(pure["build"]), med(pure["baseline"])
    print(
        f"| build goto(pan, tilt, zoom), validated | {build * 1e6:.1f} µs "
        f"| unchecked f-string {base * 1e6:.2f} µs ({build / base:.0f}x) |"
    )
    print(f"| parse_position (5 lines) | {med(pure['position']) * 1e6:.1f} µs | |")
    print(f"| parse_port_states (8 ports) | {med(pure['ports']) * 1e6:.1f} µs | |")
    for name, label in (
        ("position", "position() round trip, Digest, loopback"),
        ("goto", "goto() round trip"),
        ("output", "io.set_output() round trip"),
    ):
        values = loop[name]
        print(f"| {label} | {med(values) * 1e3:.2f} ms | p95 {_p95(values) * 1e3:.2f} ms |")
    print(f"| position() with 8 in flight | {med(loop['rate']):.0f} req/s | |")


def main() -> None:
    """Run the benchmark and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds' run")
    parser.add_argument("--rounds", type=int, default=0)
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
