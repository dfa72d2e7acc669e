"""Camera construction, lazily imported API groups, RTSP delegation, argument checks."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

import ipcam_async.camera as camera_module
from ipcam_async.api.params import ParamsApi, format_value
from ipcam_async.camera import Camera
from ipcam_async.errors import InvalidArgument
from ipcam_async.sim import SimulatedCamera


async def test_groups_are_created_lazily_once(monkeypatch: pytest.MonkeyPatch) -> None:
    groups = dict(camera_module._API_GROUPS)
    groups["mjpeg"] = ("module_that_does_not_exist", "MjpegApi")
    monkeypatch.setattr(camera_module, "_API_GROUPS", groups)
    async with Camera("127.0.0.1", username="admin", password="x") as cam:
        assert isinstance(cam.params, ParamsApi)
        assert cam.params is cam.params
        with pytest.raises(ModuleNotFoundError):
            _ = cam.mjpeg


async def test_stream_delegates_to_the_rtsp_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, str, dict[str, Any]]] = []
    fake = types.ModuleType("ipcam_async.rtsp.stream")

    def open_camera_stream(cam: Camera, name: str, **kw: Any) -> str:
        calls.append((cam, name, kw))
        return "stream-object"

    fake.open_camera_stream = open_camera_stream  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ipcam_async.rtsp.stream", fake)
    async with Camera("cam.local", rtsp_port=8554, username="u", password="p") as cam:
        assert cam.stream("mjpeg", transport="udp") == "stream-object"
        assert calls == [(cam, "mjpeg", {"transport": "udp"})]
        assert cam._credentials() == ("u", "p")
        assert cam.rtsp_url() == "rtsp://cam.local:8554/h264"
    assert Camera("::1").rtsp_url("h264") == "rtsp://[::1]:554/h264"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"host": "cam\r\nX-Evil: 1"},
        {"host": "user@cam"},
        {"host": "cam", "port": 0},
        {"host": "cam", "rtsp_port": 70000},
        {"host": "cam", "auth": "ntlm"},
        {"host": "cam", "username": "a:b", "password": "x"},
        {"host": "cam", "username": "a", "password": "x\ny"},
        {"host": "cam", "username": "a"},
        {"host": "cam", "timeout": 0},
        {"host": "cam", "retry_503": -1},
    ],
)
def test_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        Camera(**kwargs)


async def test_bad_parameter_names_are_refused_before_sending() -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim, sim.camera() as cam:
        before = sim.faults.http_requests
        for bad in ("Network IPAddress", "a&b", "", "x=y", "Network..IP"):
            with pytest.raises(InvalidArgument):
                await cam.params.update({bad: "1"})
            with pytest.raises(InvalidArgument):
                await cam.params.list(bad)
        with pytest.raises(InvalidArgument):
            await cam.params.update({})
        assert sim.faults.http_requests == before


def test_value_formatting() -> None:
    assert [format_value(v) for v in (True, False, 3, 2.5, "x y")] == [
        "yes",
        "no",
        "3",
        "2.5",
        "x y",
    ]
    with pytest.raises(InvalidArgument):
        format_value(None)  # type: ignore[arg-type]
