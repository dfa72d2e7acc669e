"""CR/LF/NUL in any caller string is refused with InvalidArgument before a single byte is sent.

The table below covers every public method of the HTTP API groups that takes text; a guard test
fails when a new method with a text parameter is added without an entry here.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import listing
from hypothesis import given, settings
from hypothesis import strategies as st

from ipcam_async.camera import Camera
from ipcam_async.errors import InvalidArgument
from ipcam_async.http.query import decode_query, encode_query
from ipcam_async.sim import SimulatedCamera

GROUPS = {
    "params": "ParamsApi",
    "users": "UsersApi",
    "system": "SystemApi",
    "storage": "StorageApi",
    "image": "ImageApi",
    "ptz": "PtzApi",
    "io": "IoApi",
}

Inject = Callable[[Camera, str], Any]

#: "group.method" → calls with the bad text ``b`` put in each text parameter in turn.
INJECTIONS: dict[str, list[Inject]] = {
    "params.list": [lambda c, b: c.params.list(b), lambda c, b: c.params.list("Network", b)],
    "params.get": [lambda c, b: c.params.get(b)],
    "params.options": [lambda c, b: c.params.options(b)],
    "params.update": [
        lambda c, b: c.params.update({"Network.HostName": b}),
        lambda c, b: c.params.update({b: "x"}),
        lambda c, b: c.params.update([("Image.I0.Text", "long " * 500 + b)]),  # POST body path
    ],
    "params.add": [
        lambda c, b: c.params.add(b),
        lambda c, b: c.params.add("GuardTour", {"Name": b}),
        lambda c, b: c.params.add("GuardTour", {b: "x"}),
    ],
    "params.remove": [lambda c, b: c.params.remove(b)],
    "users.add": [
        lambda c, b: c.users.add(b, "pass1"),
        lambda c, b: c.users.add("joe", b),
        lambda c, b: c.users.add("joe", "pass1", [b]),
    ],
    "users.update": [
        lambda c, b: c.users.update(b, password="x1"),
        lambda c, b: c.users.update("joe", password=b),
        lambda c, b: c.users.update("joe", groups=[b]),
    ],
    "users.remove": [lambda c, b: c.users.remove(b)],
    "system.set_snapshot_path": [lambda c, b: c.system.set_snapshot_path(b)],
    "system.set_date": [lambda c, b: c.system.set_date(timezone=b)],
    "system.upgrade": [
        lambda c, b: c.system.upgrade(__file__, filename=b),
        lambda c, b: c.system.upgrade(__file__, filename="uImage", family=b),
        lambda c, b: c.system.upgrade(b),
    ],
    "system.upload_certificate": [
        lambda c, b: c.system.upload_certificate(b, b"cert"),
        lambda c, b: c.system.upload_certificate("ca_certificate", b),
    ],
    "system.restore": [lambda c, b: c.system.restore(b)],
    "storage.remove": [lambda c, b: c.storage.remove(b)],
    "storage.download": [lambda c, b: c.storage.download(b, "/nonexistent-dir")],
    "storage.iter_download": [lambda c, b: c.storage.iter_download(b)],
    "storage.open": [lambda c, b: c.storage.open(b)],
    "ptz.add_sequence_line": [lambda c, b: c.ptz.add_sequence_line(b)],
    "ptz.add_sequence_point": [lambda c, b: c.ptz.add_sequence_point(b, 1)],
    "ptz.update_sequence_point": [lambda c, b: c.ptz.update_sequence_point(b, 1, preset=1)],
    "ptz.remove_sequence_line": [lambda c, b: c.ptz.remove_sequence_line(b)],
    "ptz.remove_sequence_point": [lambda c, b: c.ptz.remove_sequence_point(b, 1)],
    "ptz.autofocus": [lambda c, b: c.ptz.autofocus(b)],
    "ptz.center": [lambda c, b: c.ptz.center(1, 1, image_width=10, image_height=10, stream=b)],
    "ptz.continuous_iris": [lambda c, b: c.ptz.continuous_iris(b)],
    "ptz.move": [lambda c, b: c.ptz.move(b)],
    "ptz.remove_preset": [lambda c, b: c.ptz.remove_preset(b)],
    "ptz.set_autopan": [lambda c, b: c.ptz.set_autopan(1, b)],
    "ptz.set_autopan_direction": [lambda c, b: c.ptz.set_autopan_direction(1, b, 1)],
    "ptz.set_cruise": [lambda c, b: c.ptz.set_cruise(1, b)],
    "ptz.set_preset": [lambda c, b: c.ptz.set_preset(1, b)],
}

#: Text parameters that never reach the device, with the reason.
EXEMPT = {
    "system.backup": "local destination path",
    "storage.download_all": "local destination directory",
    "image.save_snapshot": "local destination path",
}

#: The transport and the Camera itself: host, credentials, method, path, query, headers, upload.
TRANSPORT_INJECTIONS: list[Inject] = [
    lambda c, b: c.transport.request("GET" + b, "/x"),
    lambda c, b: c.transport.request("GET", "/x" + b),
    lambda c, b: c.transport.request("GET", "/x", params=[("a", b)]),
    lambda c, b: c.transport.request("GET", "/x", params=[(b, "a")]),
    lambda c, b: c.transport.request("GET", "/x", headers={"X-A": b}),
    lambda c, b: c.transport.request("GET", "/x", headers={"X-A" + b: "1"}),
    lambda c, b: c.transport.request("POST", "/x", data=b"1", headers={"Content-Type": b}),
    lambda c, b: c.transport.stream("GET", "/x" + b),
    lambda c, b: c.transport.stream("GET", "/x", headers={"X-A": b}),
    lambda c, b: c.transport.stream("GET", "/x", params=[("a", b)]),
    lambda c, b: c.transport.upload("/x", file=b"1", field_name=b, filename="f"),
    lambda c, b: c.transport.upload("/x", file=b"1", field_name="f", filename=b),
    lambda c, b: c.transport.upload("/x", file=b"1", field_name="f", filename="f", content_type=b),
    lambda c, b: c.transport.upload("/x" + b, file=b"1", field_name="f", filename="f"),
    lambda c, b: c.transport.upload(
        "/x", params=[("a", b)], file=b"1", field_name="f", filename="f"
    ),
]

BAD = ["\r\n", "\n", "\r", "\x00"]


def _text_methods() -> set[str]:
    found = set()
    for attribute, class_name in GROUPS.items():
        cls = getattr(importlib.import_module(f"ipcam_async.api.{attribute}"), class_name)
        for name, function in inspect.getmembers(cls, inspect.isfunction):
            if name.startswith("_"):
                continue
            for parameter in list(inspect.signature(function).parameters.values())[1:]:
                annotation = str(parameter.annotation)
                if (
                    "str" in annotation
                    or "Literal" in annotation
                    or annotation
                    in (
                        "Direction",
                        "Stream",
                    )
                ):
                    found.add(f"{attribute}.{name}")
    return found


def test_every_text_method_is_covered() -> None:
    missing = _text_methods() - INJECTIONS.keys() - EXEMPT.keys()
    assert not missing, f"add these methods to INJECTIONS: {sorted(missing)}"


async def _drive(result: Any) -> None:
    if inspect.isawaitable(result):
        await result
    elif hasattr(result, "__aenter__"):
        async with result:
            pass
    elif hasattr(result, "__aiter__"):
        async for _ in result:
            pass


@pytest.fixture
async def sim() -> Any:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim:
        yield sim


@pytest.mark.parametrize("bad", BAD, ids=["crlf", "lf", "cr", "nul"])
async def test_api_methods_refuse_line_breaks_before_sending(
    sim: SimulatedCamera, bad: str, tmp_path: Path
) -> None:
    calls = [(name, call) for name, calls in INJECTIONS.items() for call in calls]
    calls += [(f"transport #{i}", call) for i, call in enumerate(TRANSPORT_INJECTIONS)]
    for name, call in calls:
        # A fresh camera each time: no model given (PTZ would look it up first), auth unprimed
        # (an upload would send a priming request first).
        async with sim.camera(model=None) as cam:
            before = sim.faults.http_requests
            with pytest.raises(InvalidArgument):
                await _drive(call(cam, bad))
            assert sim.faults.http_requests == before, f"{name} sent a request"
    assert listing(tmp_path) == []


@pytest.mark.parametrize("bad", BAD, ids=["crlf", "lf", "cr", "nul"])
def test_camera_refuses_line_breaks_in_host_and_credentials(bad: str) -> None:
    for kw in (
        {"host": "cam" + bad},
        {"host": "cam", "username": "admin" + bad, "password": "x"},
        {"host": "cam", "username": "admin", "password": "x" + bad},
    ):
        with pytest.raises(InvalidArgument) as info:
            Camera(**kw)
        assert bad not in str(info.value)
    with pytest.raises(InvalidArgument):
        Camera("cam").rtsp_url("h264" + bad)


def test_query_encoding_refuses_line_breaks_and_encodes_reserved() -> None:
    # Spec 5.1.1: reserved characters and the space are percent-encoded inside names and values.
    assert encode_query([("A B", ";/?:@&=+,$ x")]) == "A%20B=%3B%2F%3F%3A%40%26%3D%2B%2C%24%20x"
    for bad in BAD:
        with pytest.raises(InvalidArgument) as info:
            encode_query([("pwd", "secret" + bad)])
        assert "secret" not in str(info.value)


async def test_reserved_characters_reach_the_camera_encoded(sim: SimulatedCamera) -> None:
    # The wire form is checked at the simulator: what it decodes is what was given.
    async with sim.camera() as cam:
        value = "My cam; a/b?c:d@e&f=g+h,i$j %k é"
        await cam.params.update({"Network.HostName": value})
        assert (await cam.params.get("Network.HostName")) == value


def test_exempt_parameters_are_local_paths() -> None:
    for name in EXEMPT:
        group, method = name.split(".")
        cls = getattr(importlib.import_module(f"ipcam_async.api.{group}"), GROUPS[group])
        parameters = list(inspect.signature(getattr(cls, method)).parameters.values())[1:]
        texts = [p for p in parameters if "str" in str(p.annotation)]
        assert texts and all("PathLike" in str(p.annotation) for p in texts), name


_PLAIN = st.text(st.characters(blacklist_characters="\r\n\x00", blacklist_categories=("Cs",)))


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(st.tuples(_PLAIN, _PLAIN), max_size=5))
def test_query_encoding_is_spec_shaped_and_lossless(pairs: list[tuple[str, str]]) -> None:
    encoded = encode_query(pairs)
    # Only unreserved characters, '%XX' escapes and the structure's own '&' and '='.
    assert re.fullmatch(r"(?:[A-Za-z0-9\-._~&=]|%[0-9A-F]{2})*", encoded)
    assert decode_query(encoded) == pairs
