"""The event monitor over loopback: spec example, transitions, and every way a stream dies.

Each resilience test checks that no task and no socket is left behind.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web
from evt_helpers import SPEC_MONITOR, no_leaks, raw_server, wait_for

from ipcam_async.api.event_models import ChangeKind, EventData, MotionStatus
from ipcam_async.api.events import EventStream
from ipcam_async.api.reconnect import Disconnect, ReconnectPolicy
from ipcam_async.camera import Camera
from ipcam_async.errors import (
    AuthError,
    ConnectError,
    ParameterError,
    StreamClosed,
    StreamTimeout,
)
from ipcam_async.sim import SimulatedCamera
from ipcam_async.sim.http.cgi_events import monitor_hub

FAST = ReconnectPolicy(initial_delay=0.02, max_delay=0.05, max_failures=3, idle_timeout=2.0)


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedCamera]:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as camera:
        camera.state.monitor_interval = 1.0
        yield camera


async def test_spec_monitor_example_over_loopback() -> None:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(request.raw_path)
        response = web.StreamResponse(
            headers={"Content-type": "multipart/x-mixed-replace;boundary=<boundary>"}
        )
        await response.prepare(request)
        for i in range(0, len(SPEC_MONITOR), 50):  # arbitrary TCP segments
            await response.write(SPEC_MONITOR[i : i + 50])
            await asyncio.sleep(0.001)
        await asyncio.sleep(10)
        return response

    async with no_leaks(), raw_server(handler) as port, Camera("127.0.0.1", port) as cam:
        snaps: list[EventData] = []
        async with cam.events.monitor(("Motion", "Motion1"), policy=FAST) as monitor:
            async for snap in monitor:
                snaps.append(snap)
                if len(snaps) == 2:
                    break
        assert seen == ["/cgi-bin/admin/eventdata.cgi?action=monitor&group=Motion,Motion1"]
        assert [s.motion for s in snaps] == [
            (MotionStatus("Motion", True, 0, 80, False), MotionStatus("Motion1", enabled=False)),
            (MotionStatus("Motion", True, 15, 80, False), MotionStatus("Motion1", enabled=False)),
        ]
        assert all(s.received is not None for s in snaps)
        assert monitor.stats.resyncs == 0


async def test_changes_follow_state_including_outputs(sim: SimulatedCamera) -> None:
    state = sim.state
    state.set_motion("Motion", enabled=True, sensitivity=80, level=0)
    async with no_leaks(), sim.camera() as cam:
        got: list[tuple[ChangeKind, str, int | None]] = []

        async def act() -> None:
            # The connection opens on first iteration; act once the baseline part went out,
            # then one change per part (changes within one part would be coalesced).
            hub = monitor_hub(state)
            await wait_for(lambda: hub.parts_sent >= 1)

            async def output_on() -> None:
                # Through the PTZ-IO owner's io/output.cgi: its state change reaches the monitor.
                await cam.io.set_output(1, True)

            async def sync(change: Callable[[], object]) -> None:
                change()

            steps = [
                sync(lambda: state.set_motion("Motion", level=35)),  # >= 100 - 80: triggers
                sync(lambda: state.flip_input(4)),
                output_on(),
                sync(lambda: state.set_tampering(True, enabled=True)),
                sync(lambda: state.set_motion("Motion", level=3)),
            ]
            for step in steps:
                sent = hub.parts_sent
                await step
                await wait_for(lambda: hub.parts_sent > sent)  # noqa: B023

        actor = asyncio.create_task(act())
        async with cam.events.changes(policy=FAST) as changes:
            async for change in changes:
                got.append((change.kind, change.source, change.level))
                if len(got) == 6:
                    break
        await actor
        assert got == [
            (ChangeKind.MOTION_TRIGGERED, "Motion", 35),
            (ChangeKind.INPUT_CLOSED, "Input4", None),
            (ChangeKind.INPUT_ACTIVE, "Input4", None),
            (ChangeKind.OUTPUT_ACTIVE, "Output1", None),
            (ChangeKind.TAMPERING_TRIGGERED, "T0", None),
            (ChangeKind.MOTION_CLEARED, "Motion", 3),
        ]
    await wait_for(lambda: monitor_hub(state).connections == 0)


async def test_periodic_parts_without_changes(sim: SimulatedCamera) -> None:
    sim.state.monitor_interval = 0.1
    async with no_leaks(), sim.camera() as cam:
        count = 0
        async with cam.events.monitor(["IO"], policy=FAST) as monitor:
            async for snap in monitor:
                assert snap.io is not None and snap.motion == ()
                count += 1
                if count == 3:
                    break
        assert monitor.stats.connects == 1


async def test_stream_cut_mid_part_reconnects(sim: SimulatedCamera) -> None:
    disconnects: list[Disconnect] = []
    hub = monitor_hub(sim.state)
    async with no_leaks(), sim.camera() as cam:
        async with cam.events.monitor(
            ["Motion"], policy=FAST, on_disconnect=disconnects.append
        ) as monitor:
            first = await monitor.__anext__()
            assert first.motion_window() == MotionStatus("Motion", enabled=False)
            assert await hub.cut(mid_part=True) == 1
            sim.state.set_motion("Motion", enabled=True, level=1)
            second = await monitor.__anext__()
            assert second.motion_window() == MotionStatus("Motion", True, 1, 80, False)
            assert monitor.stats.connects == 2
            assert monitor.stats.failures == 0
        assert len(disconnects) == 1
        assert disconnects[0].failures == 1 and disconnects[0].retry_in is not None
    await wait_for(lambda: hub.connections == 0)


async def test_server_restart_reconnects(sim: SimulatedCamera) -> None:
    disconnects: list[Disconnect] = []
    async with no_leaks(), sim.camera() as cam:
        async with cam.events.monitor(
            ["IO"], policy=FAST, on_disconnect=disconnects.append
        ) as monitor:
            await monitor.__anext__()
            await sim.stop()
            sim.state.set_input(1, True)
            await sim.start()
            # A periodic part sent during the graceful shutdown may still be buffered first.
            for _ in range(3):
                snap = await monitor.__anext__()
                assert snap.io is not None
                if snap.io.input(1).closed:
                    break
            assert snap.io is not None and snap.io.input(1).closed
            assert monitor.stats.connects == 2
        assert len(disconnects) >= 1
        assert isinstance(disconnects[0].error, StreamClosed | ConnectError)


async def test_silent_server_times_out_then_gives_up(
    sim: SimulatedCamera, caplog: pytest.LogCaptureFixture
) -> None:
    policy = ReconnectPolicy(initial_delay=0.02, max_delay=0.02, max_failures=2, idle_timeout=0.3)
    hub = monitor_hub(sim.state)
    disconnects: list[Disconnect] = []
    async with no_leaks(), sim.camera() as cam:
        async with cam.events.monitor(
            ["T0"], policy=policy, on_disconnect=disconnects.append
        ) as monitor:
            await monitor.__anext__()
            hub.pause()
            with pytest.raises(StreamTimeout) as info:
                await monitor.__anext__()
        assert [d.failures for d in disconnects] == [1, 2]
        assert disconnects[-1].retry_in is None
        assert any("gave up after 2" in note for note in info.value.__notes__)
    # One warning for the outage, one error for giving up: the log is not flooded.
    levels = [r.levelname for r in caplog.records if r.name == "ipcam_async.api.reconnect"]
    assert levels.count("WARNING") == 1 and levels.count("ERROR") == 1
    await wait_for(lambda: hub.connections == 0)


async def test_silent_server_recovers_when_it_speaks_again(sim: SimulatedCamera) -> None:
    policy = ReconnectPolicy(initial_delay=0.02, max_delay=0.02, max_failures=5, idle_timeout=0.3)
    hub = monitor_hub(sim.state)
    async with no_leaks(), sim.camera() as cam, cam.events.monitor(["T0"], policy=policy) as mon:
        await mon.__anext__()
        hub.pause()
        pending = asyncio.create_task(mon.__anext__())
        await wait_for(lambda: mon.stats.disconnects >= 1)
        assert not pending.done()
        hub.pause(False)
        await pending
        assert mon.stats.failures == 0


async def test_401_halfway_ends_with_auth_error_after_n_failures(sim: SimulatedCamera) -> None:
    disconnects: list[Disconnect] = []
    hub = monitor_hub(sim.state)
    async with no_leaks(), sim.camera(auth="basic") as cam:
        async with cam.events.monitor(
            ["Motion"], policy=FAST, on_disconnect=disconnects.append
        ) as monitor:
            await monitor.__anext__()
            sim.faults.fail_next(401, times=100)
            await hub.cut()
            with pytest.raises(AuthError):
                await monitor.__anext__()
        assert len(disconnects) == FAST.max_failures
        assert all(isinstance(d.error, AuthError) for d in disconnects[1:])
    await wait_for(lambda: hub.connections == 0)


async def test_401_once_then_recovers(sim: SimulatedCamera) -> None:
    hub = monitor_hub(sim.state)
    async with (
        no_leaks(),
        sim.camera(auth="basic") as cam,
        cam.events.monitor(["Motion"], policy=FAST) as monitor,
    ):
        await monitor.__anext__()
        sim.faults.fail_next(401, times=1)
        await hub.cut()
        await monitor.__anext__()
        assert monitor.stats.connects == 2


async def test_cancelling_the_consumer_closes_the_connection_at_once(
    sim: SimulatedCamera,
) -> None:
    hub = monitor_hub(sim.state)
    async with no_leaks(), sim.camera() as cam:
        started = asyncio.Event()

        async def consume() -> None:
            async for _ in cam.events.monitor(["Motion"], policy=FAST):
                started.set()

        task = asyncio.create_task(consume())
        await started.wait()
        assert hub.connections == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await wait_for(lambda: hub.connections == 0, limit=1.0)


async def test_breaking_out_of_a_bare_loop_closes_the_connection(sim: SimulatedCamera) -> None:
    hub = monitor_hub(sim.state)
    async with no_leaks(), sim.camera() as cam:
        async for _ in cam.events.monitor(["Motion"], policy=FAST):
            break
        gc.collect()
        await wait_for(lambda: hub.connections == 0, limit=1.0)


async def test_not_multipart_is_a_typed_failure() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="Motion:Enabled=0;\r\n")

    policy = ReconnectPolicy(initial_delay=0.01, max_delay=0.01, max_failures=2)
    async with no_leaks(), raw_server(handler) as port, Camera("127.0.0.1", port) as cam:
        monitor = cam.events.monitor(["Motion"], policy=policy)
        with pytest.raises(Exception) as info:
            await monitor.__anext__()
        await monitor.aclose()
    assert type(info.value).__name__ == "ProtocolError"


async def test_error_text_instead_of_stream_is_raised_at_once(sim: SimulatedCamera) -> None:
    async with no_leaks(), sim.camera() as cam:
        monitor = cam.events.monitor(["Motion"], policy=FAST)
        # Reach the simulator with a group it refuses, bypassing the client's validation.
        monitor = EventStream(
            cam.events._snapshots(
                [("action", "monitor"), ("group", "Motion7")], FAST, monitor.stats, None
            ),
            monitor.stats,
        )
        with pytest.raises(ParameterError, match="group"):
            await monitor.__anext__()
        assert monitor.stats.connects == 0 and monitor.stats.disconnects == 0


def test_backoff_grows_with_jitter_and_cap() -> None:
    policy = ReconnectPolicy(initial_delay=1.0, max_delay=8.0, multiplier=2.0, jitter=0.5)
    assert [policy.delay(n, rand=lambda: 0.0) for n in (1, 2, 3, 4, 5, 50)] == [
        1.0,
        2.0,
        4.0,
        8.0,
        8.0,
        8.0,
    ]
    assert policy.delay(3, rand=lambda: 1.0) == 2.0
    with pytest.raises(ValueError):
        ReconnectPolicy(max_failures=0)
    with pytest.raises(ValueError):
        ReconnectPolicy(jitter=1.5)


async def test_server_that_never_answers_hits_the_connect_timeout() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # reads nothing, answers nothing

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    policy = ReconnectPolicy(
        initial_delay=0.01, max_delay=0.01, max_failures=2, connect_timeout=0.2, idle_timeout=5.0
    )
    try:
        async with no_leaks(), Camera("127.0.0.1", port) as cam:
            with pytest.raises(StreamTimeout, match="not connected"):
                async with cam.events.monitor(["IO"], policy=policy) as monitor:
                    await monitor.__anext__()
            for writer in accepted:
                writer.close()
    finally:
        server.close()
        await server.wait_closed()
    assert len(accepted) == 2
