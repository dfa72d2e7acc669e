#!/usr/bin/env python3
"""Parameter listing and HTTP request cost: sans-io parser, auth modes, many cameras on one pool.

Measures, in one run:

* ``parse_param_list`` + ``ParamTree`` on a realistic listing (the simulator's whole tree
  repeated to ~3,000 lines), in lines per second;
* ``cam.params.list("Network")`` round trips over loopback against the in-process simulator,
  sequential and with 32 in flight, under Basic, Digest and ``auth="auto"`` (Digest picked from
  the challenge), with raw aiohttp (Basic header, no library) as the baseline;
* one ``params.list`` on each of N simulated cameras at once, every camera with its own session
  vs all cameras sharing one ``aiohttp.ClientSession``.

Prints medians over the repetitions and ratios measured in the same run.
Usage: ``python3 benchmarks/params_http.py [--quick]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ipcam_async.params import ParamTree, parse_param_list
from ipcam_async.sim import SimulatedCamera
from ipcam_async.sim.state import CameraState

PARAMS = "/cgi-bin/admin/param.cgi?action=list&group=Network"


def listing(lines: int) -> bytes:
    """The simulator's full tree, repeated under renamed groups to about ``lines`` lines."""
    pairs = CameraState().params.items()
    out: list[str] = []
    copy = 0
    while len(out) < lines:
        out += [f"root.{name.replace('.', f'{copy}.', 1)}={value}\n" for name, value in pairs]
        copy += 1
    return "".join(out[:lines]).encode()


def interleaved(fns: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median seconds of each function, run in alternation so load drifts hit all alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


async def interleaved_async(
    fns: dict[str, Callable[[], Awaitable[object]]], rounds: int
) -> dict[str, float]:
    """Async twin of :func:`interleaved`."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            await fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


async def bench_requests(sequential: int, concurrent: int, rounds: int) -> list[tuple[str, ...]]:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim, aiohttp.ClientSession() as raw:
        header = {"Authorization": aiohttp.encode_basic_auth("admin", "1234")}
        url = f"{sim.http_url}{PARAMS}"

        async def raw_one() -> None:
            async with raw.get(url, headers=header) as response:
                parse_param_list(await response.read())

        cams = {auth: sim.camera(auth=auth) for auth in ("basic", "digest", "auto")}
        one: dict[str, Callable[[], Awaitable[object]]] = {"raw aiohttp + parser": raw_one}
        for auth, cam in cams.items():
            one[f"Camera params.list, auth={auth}"] = lambda cam=cam: cam.params.list("Network")

        def batch(fn: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
            async def run() -> None:
                for _ in range(sequential):
                    await fn()

            return run

        def burst(fn: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
            async def run() -> None:
                await asyncio.gather(*(fn() for _ in range(concurrent)))

            return run

        for fn in one.values():  # warm up: connections, auth handshakes
            await batch(fn)()
        seq = await interleaved_async({k: batch(f) for k, f in one.items()}, rounds)
        par = await interleaved_async({k: burst(f) for k, f in one.items()}, rounds)
        for cam in cams.values():
            await cam.close()
    base = seq["raw aiohttp + parser"]
    return [
        (
            name,
            f"{seq[name] / sequential * 1e3:.2f}",
            f"{concurrent / par[name]:,.0f}",
            f"{seq[name] / base:.2f}",
        )
        for name in one
    ]


async def bench_pool(cameras: int, rounds: int) -> list[tuple[str, ...]]:
    sims = [SimulatedCamera(rtsp=False, mjpeg=False) for _ in range(cameras)]
    for sim in sims:
        await sim.start()
    try:

        async def own_sessions() -> None:
            cams = [sim.camera(auth="digest") for sim in sims]
            try:
                await asyncio.gather(*(cam.params.list("Network") for cam in cams))
            finally:
                await asyncio.gather(*(cam.close() for cam in cams))

        async def shared_session() -> None:
            async with aiohttp.ClientSession() as session:
                cams = [sim.camera(auth="digest", session=session) for sim in sims]
                await asyncio.gather(*(cam.params.list("Network") for cam in cams))

        await shared_session()
        result = await interleaved_async({"own": own_sessions, "shared": shared_session}, rounds)
    finally:
        for sim in sims:
            await sim.stop()
    own, shared = result["own"], result["shared"]
    return [
        (f"{cameras} cameras, one session each", f"{own * 1e3:.1f}", "1.00"),
        (f"{cameras} cameras, one shared session", f"{shared * 1e3:.1f}", f"{shared / own:.2f}"),
    ]


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return "\n".join([line, sep, *body])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds' run")
    args = parser.parse_args()
    quick = args.quick
    lines = 3000
    data = listing(lines)
    repeat = 5 if quick else 61

    result = interleaved(
        {
            "parse": lambda: parse_param_list(data),
            "tree": lambda: ParamTree(parse_param_list(data).pairs),
        },
        repeat,
    )
    parse, tree_time = result["parse"], result["tree"]
    print(f"param list parser ({lines} lines, {len(data) / 1024:.0f} KiB), median of {repeat}")
    print(
        table(
            ("step", "ms", "lines/s"),
            [
                ("parse_param_list", f"{parse * 1e3:.2f}", f"{lines / parse:,.0f}"),
                ("parse + ParamTree", f"{tree_time * 1e3:.2f}", f"{lines / tree_time:,.0f}"),
            ],
        )
    )
    print()

    sequential, concurrent = (20, 16) if quick else (100, 32)
    rows = asyncio.run(bench_requests(sequential, concurrent, 3 if quick else 15))
    print(
        f"params.list('Network') over loopback ({sequential} sequential, {concurrent} in "
        "flight); ratio = sequential latency / raw aiohttp"
    )
    print(table(("client", "ms/request", "req/s in flight", "ratio"), rows))
    print()

    cameras = 10 if quick else 50
    pool = asyncio.run(bench_pool(cameras, 3 if quick else 15))
    print(f"one params.list on each of {cameras} simulated cameras at once (Digest)")
    print(table(("pool", "ms total", "ratio"), pool))


if __name__ == "__main__":
    main()
