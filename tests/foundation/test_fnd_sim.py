"""The simulated camera's HTTP side: parameter tree, formats, state, services, clean shutdown."""

from __future__ import annotations

import asyncio
import socket
import sys
import types

import aiohttp
import pytest

import ipcam_async.sim as sim_module
from ipcam_async.errors import BadRequestError, InternalServerError, NotFoundError, ParameterError
from ipcam_async.sim import SimulatedCamera
from ipcam_async.sim.http.cgi_params import MAX_FORM_BODY
from ipcam_async.sim.state import CameraState, ParamStore, ParamStoreError


async def test_realistic_tree() -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False, model="NH820") as sim, sim.camera() as cam:
        tree = await cam.params.list()
        assert {"Network", "ImageSource", "Event", "GuardTour", "PTZ", "IO", "Properties"} <= set(
            tree.groups()
        )
        assert tree["Properties.System.Model"] == "NH820"
        assert tree["Properties.Firmware.Version"] == sim.state.firmware.version
        events = tree.group("Event")
        assert {f"E{i}" for i in range(13)} == set(events.groups())
        assert events["E1.Name"] == "Motion" and events["E2.Name"] == "Tampering"
        assert tree.group("ImageSource.I0.Sensor")["Exposure"] == "auto"
        assert len(tree.group("IO.Input").groups()) == 8
        assert tree.get_int("PTZ.Limit.MaxPan") == 180
        listed = await cam.params.list("Event", "Network")
        assert set(listed.groups()) == {"Event", "Network"}


async def test_wire_format_matches_the_spec() -> None:
    async with (
        SimulatedCamera(rtsp=False, mjpeg=False, auth="basic") as sim,
        aiohttp.ClientSession() as session,
    ):
        headers = {"Authorization": aiohttp.encode_basic_auth("admin", "1234")}
        url = f"{sim.http_url}/cgi-bin/admin/param.cgi?action=list&group=Network.IPAddress"
        async with session.get(url, headers=headers) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "text/plain"
            assert await response.read() == b"root.Network.IPAddress=192.168.0.250\n"
        url = f"{sim.http_url}/cgi-bin/admin/param.cgi?action=list&group=Nope"
        async with session.get(url, headers=headers) as response:
            assert response.status == 200
            assert await response.read() == b"# Error: Error -1 getting param in group 'Nope'\n"
        url = (
            f"{sim.http_url}/cgi-bin/admin/param.cgi?action=update"
            "&ImageSource.I0.Name=My%20camera%2C%20%2B1"
        )
        async with session.get(url, headers=headers) as response:
            assert await response.read() == b"OK\n"
        assert sim.state.params["ImageSource.I0.Name"] == "My camera, +1"
        url = f"{sim.http_url}/cgi-bin/admin/param.cgi?action=add&group=GuardTour"
        async with session.get(url, headers=headers) as response:
            assert await response.read() == b"G1 OK\n"
        # Spec 5.3.1.2: add a point and set it through the template name in one request.
        url = (
            f"{sim.http_url}/cgi-bin/admin/param.cgi?action=add&group=GuardTour.G1.Tour"
            "&GuardTour.G1.Tour.T.PresetNbr=3&GuardTour.G1.Tour.T.WaitTime=5"
        )
        async with session.get(url, headers=headers) as response:
            assert await response.read() == b"T1 OK\n"
        assert sim.state.params["GuardTour.G1.Tour.T1.PresetNbr"] == "3"
        assert sim.state.params["GuardTour.G1.Tour.T1.WaitTime"] == "5"


async def test_options_and_add_remove_errors() -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim, sim.camera() as cam:
        options = await cam.params.options("ImageSource.I0.Sensor")
        assert options["ImageSource.I0.Sensor.Exposure"] == (
            "auto",
            "flickerfree50",
            "flickerfree60",
            "hold",
        )
        assert options["ImageSource.I0.Sensor.Brightness"] == ("0...100",)
        with pytest.raises(ParameterError, match="cannot be added"):
            await cam.params.add("Network")
        with pytest.raises(ParameterError, match="cannot be removed"):
            await cam.params.remove("Network")
        with pytest.raises(ParameterError, match="No such group"):
            await cam.params.remove("GuardTour.G7")
        with pytest.raises(ParameterError, match="Valid values"):
            await cam.params.add("GuardTour.G0.Tour", {"MoveSpeed": 99})
        assert not any(n.startswith("GuardTour.G0.Tour") for n in sim.state.params)
        first = await cam.params.add("GuardTour.G0.Tour")
        second = await cam.params.add("GuardTour.G0.Tour", {"GuardTour.G0.Tour.T.PresetNbr": 9})
        assert (first, second) == ("GuardTour.G0.Tour.T1", "GuardTour.G0.Tour.T2")
        assert await cam.params.get("GuardTour.G0.Tour.T2.PresetNbr") == "9"
        await cam.params.remove(first)
        assert await cam.params.add("GuardTour.G0.Tour") == "GuardTour.G0.Tour.T3"
        event = await cam.params.add("Event", {"Name": "Door", "Enabled": True})
        assert event == "Event.E13"
        assert (await cam.params.list(event))[f"{event}.Enabled"] == "yes"


async def test_updates_drive_device_state_and_wake_waiters() -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim, sim.camera() as cam:
        state = sim.state
        version = state.version
        waiter = asyncio.create_task(state.wait_changed(version, timeout=5))
        await asyncio.sleep(0)
        await cam.params.update(
            {
                "Event.E1.Enabled": "yes",
                "Event.E11.Sensitivity": 35,
                "Event.E2.Enabled": True,
                "IO.Output.O0.Active": "open",
                "IO.Input.I3.Enabled": False,
            }
        )
        assert await asyncio.wait_for(waiter, 5) > version
        assert state.motion["Motion"].enabled and state.motion["Motion2"].sensitivity == 35
        assert state.tampering.enabled
        assert state.outputs[0].active_state == "open"
        assert not state.inputs[3].enabled
        assert await state.wait_changed(state.version, timeout=0.05) == state.version


async def test_each_instance_has_its_own_state() -> None:
    async with (
        SimulatedCamera(rtsp=False, mjpeg=False) as one,
        SimulatedCamera(rtsp=False, mjpeg=False) as two,
    ):
        async with one.camera() as cam:
            await cam.params.update({"Network.HostName": "one"})
        async with two.camera() as cam:
            assert await cam.params.get("Network.HostName") != "one"
        assert one.http_port != two.http_port


def test_param_store_factory_default_keeps_network() -> None:
    store = CameraState().params
    store.update([("Network.IPAddress", "10.1.1.1"), ("ImageSource.I0.Name", "x")])
    store.add("GuardTour")
    store.factory_default(keep=["Network.IPAddress"])
    assert store["Network.IPAddress"] == "10.1.1.1"
    assert store["ImageSource.I0.Name"] == "Camera 1"
    assert "GuardTour.G1.Name" not in store
    with pytest.raises(ParamStoreError):
        ParamStore([("A.B", "1")]).update([("A.B", "1"), ("A.C", "2")])


class _FakeService:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.closed = False

    async def close(self) -> None:
        self.sock.close()
        self.closed = True


async def test_service_hook_starts_and_stops_extra_servers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[_FakeService] = []

    async def start_fake_server(sim: SimulatedCamera) -> _FakeService:
        sock = socket.create_server((sim.host, sim.rtsp_port))
        sim.rtsp_port = sock.getsockname()[1]
        service = _FakeService(sock)
        started.append(service)
        return service

    fake = types.ModuleType("ipcam_test_fake_rtsp")
    fake.start_rtsp_server = start_fake_server  # type: ignore[attr-defined]
    empty = types.ModuleType("ipcam_test_fake_empty")
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    monkeypatch.setitem(sys.modules, empty.__name__, empty)
    monkeypatch.setattr(
        sim_module,
        "SERVICE_STARTERS",
        {
            "rtsp": (fake.__name__, "start_rtsp_server"),
            "mjpeg": (empty.__name__, "start_mjpeg_server"),
        },
    )
    async with SimulatedCamera() as sim:
        assert sim.services == ["rtsp"]
        assert sim.rtsp_port == started[0].sock.getsockname()[1] != 0
        async with sim.camera() as cam:
            assert cam.rtsp_port == sim.rtsp_port
            assert cam.rtsp_url() == f"rtsp://127.0.0.1:{sim.rtsp_port}/h264"
    assert started[0].closed and sim.services == []
    async with SimulatedCamera(rtsp=False) as sim:
        assert sim.services == []
    assert len(started) == 1


async def test_stop_leaves_no_tasks_or_listeners() -> None:
    before = asyncio.all_tasks()
    sim = SimulatedCamera(rtsp=False, mjpeg=False)
    await sim.start()
    port = sim.http_port
    async with sim.camera() as cam:
        await cam.params.list("Network")
    await sim.stop()
    assert not sim.running
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - before == set()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_unknown_cgi_oversized_form_and_path_limited_faults() -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim, sim.camera() as cam:
        with pytest.raises(NotFoundError):
            await cam.transport.request("GET", "/cgi-bin/admin/nothing.cgi")
        huge = b"action=update&ImageSource.I0.Name=" + b"x" * (MAX_FORM_BODY + 10)
        with pytest.raises(BadRequestError):
            await cam.transport.request(
                "POST",
                "/cgi-bin/admin/param.cgi",
                data=huge,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        sim.faults.fail_next(500, path="/cgi-bin/admin/other.cgi")
        await cam.params.list("Network")  # another path: not affected
        assert sim.faults.http_status_once == 500
        with pytest.raises(InternalServerError):
            await cam.transport.request("GET", "/cgi-bin/admin/other.cgi")
        assert sim.faults.http_status_once is None


async def test_simulator_announces_the_ports_it_bound() -> None:
    async with SimulatedCamera() as sim, sim.camera() as cam:
        tree = await cam.params.list("Network")
    assert tree.get_int("Network.HTTPPort") == sim.http_port
    assert tree.get_int("Network.RTSPPort") == sim.rtsp_port
    assert tree.get_int("Network.MJPEGPort") == sim.mjpeg_port
    assert 0 not in (sim.http_port, sim.rtsp_port, sim.mjpeg_port)
