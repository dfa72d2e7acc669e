"""The RTSP server as a service of SimulatedCamera: ports, accounts, faults, clean shutdown."""

from __future__ import annotations

import asyncio
import os

from simrtsp_helpers import RawRtsp, basic_header, digest_header

from ipcam_async.sim import SimulatedCamera
from ipcam_async.sim.rtsp import RtspFaults


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_simulated_camera_serves_rtsp_with_its_accounts_and_faults() -> None:
    async with SimulatedCamera(auth="any", mjpeg=False) as sim:
        assert "rtsp" in sim.services and sim.rtsp_port > 0
        assert isinstance(sim.faults.rtsp, RtspFaults)
        sim.state.add_user("watcher", "secret", group="viewer")
        cam = sim.camera()
        assert cam.rtsp_url("h264") == f"rtsp://127.0.0.1:{sim.rtsp_port}/h264"
        async with RawRtsp("127.0.0.1", sim.rtsp_port) as c:
            url = c.url("h264")
            challenge = await c.request("DESCRIBE", url)
            assert challenge.status == 401
            digest = challenge.headers["www-authenticate"][0]
            assert digest.startswith('Digest realm="IPCam"')
            c.auth = digest_header("admin", "1234", "DESCRIBE", url, digest)
            assert (await c.request("DESCRIBE", url)).status == 200
            c.auth = basic_header("watcher", "secret")
            assert (await c.request("DESCRIBE", url)).status == 200
            sim.state.users.pop("watcher")
            assert (await c.request("DESCRIBE", url)).status == 401
            sim.faults.rtsp.fail_next(503, retry_after=5)
            busy = await c.request("OPTIONS", "*")
            assert busy.status == 503 and busy.get("Retry-After") == "5"
        await cam.close()


async def test_stop_releases_every_socket_and_timer() -> None:
    await asyncio.sleep(0)
    before = _open_fds()
    tasks_before = asyncio.all_tasks()
    sim = SimulatedCamera(mjpeg=False)
    await sim.start()
    c = await RawRtsp("127.0.0.1", sim.rtsp_port).connect()
    c.auth = basic_header("admin", "1234")
    resp = await c.request(
        "SETUP", c.url("h264/track1"), {"Transport": "RTP/AVP;unicast;client_port=41000-41001"}
    )
    assert resp.status == 200
    sim.faults.rtsp.delay = 0.5  # leaves delayed sends pending at stop
    await c.request("PLAY", c.url("h264"), {"Session": resp.session or ""})
    await asyncio.sleep(0.2)
    loop = asyncio.get_running_loop()

    def server_timers() -> list[asyncio.TimerHandle]:
        handles: list[asyncio.TimerHandle] = getattr(loop, "_scheduled", [])
        return [h for h in handles if not h.cancelled() and "sim/rtsp" in repr(h)]

    assert server_timers(), "the check below must be able to see the server's timers"
    await sim.stop()
    await c.close()
    for _ in range(1000):  # closed transports finish on later loop turns (10 s at most)
        if _open_fds() == before:
            break
        await asyncio.sleep(0.01)
    assert _open_fds() == before
    assert asyncio.all_tasks() == tasks_before
    # No timer of the server is left on the loop (pacing, expiry, delayed sends).
    assert server_timers() == []
