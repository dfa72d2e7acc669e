"""``eventdata.cgi`` of the simulated camera (spec 5.4.2): ``action=get`` and ``action=monitor``.

The event data is read from :class:`~ipcam_async.sim.state.CameraState` (motion windows, the
8 inputs and 8 outputs, tampering), so a change made by any CGI (``io/output.cgi``) or by the
test API (:meth:`CameraState.set_motion`, :meth:`~CameraState.set_input`,
:meth:`~CameraState.set_tampering`) shows in the next answer.

The monitor answers ``multipart/x-mixed-replace`` and writes a part at once, then one on every
change of the requested event data (it waits on :meth:`CameraState.wait_changed`) and one every
``state.monitor_interval`` seconds even without change. Parts use the spec's layout (a trailing
space after each line, a blank line at the end) with an exact ``Content-Length``.

Tests reach the open monitor connections through :func:`monitor_hub`: count them, pause them
(a silent server), or cut them (optionally in the middle of a part).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Callable, Sequence
from typing import Final

import attrs
from aiohttp import web

from ...api.event_models import (
    EVENT_GROUPS,
    IO_PARAMS,
    MOTION_GROUPS,
    MOTION_PARAMS,
    EventData,
    IoStatus,
    MotionStatus,
    TamperingStatus,
    format_event_data,
)
from ..state import CameraState
from .app import CgiRouter, text_response
from .cgi_params import request_pairs

__all__ = [
    "BOUNDARY",
    "EVENTDATA_PATH",
    "MonitorHub",
    "event_data",
    "monitor_hub",
    "register",
    "render_part",
]

EVENTDATA_PATH: Final = "/cgi-bin/admin/eventdata.cgi"
BOUNDARY: Final = "ipcam-eventdata"
_TAMPERING_KEYS: Final = ("Enabled", "Enable", "Triggered")
_PAUSE_POLL: Final = 0.1


@attrs.define(eq=False)
class MonitorHub:
    """The open monitor connections of one simulated camera, and controls for tests."""

    connections: int = 0
    """Monitor responses being served now."""
    parts_sent: int = 0
    paused: bool = False
    """While true, monitors send nothing (a silent device that keeps the connection open)."""
    _open: dict[web.StreamResponse, asyncio.Transport] = attrs.Factory(dict)

    async def cut(self, *, mid_part: bool = False) -> int:
        """Abort every open monitor connection; return how many were cut.

        With ``mid_part`` each connection first sends the headers and part of the body of a
        part (a complete HTTP chunk, so only the multipart layer is cut short).
        """
        count = 0
        for response, transport in list(self._open.items()):
            if mid_part:
                head = (
                    f"--{BOUNDARY}\r\nContent-Type: text/plain\r\nContent-Length: 60\r\n\r\n"
                    "Motion:Enabled=1;Level=5"
                )
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await response.write(head.encode())
            transport.abort()
            count += 1
        return count

    def pause(self, paused: bool = True) -> None:
        """Stop (or resume) sending parts; connections stay open."""
        self.paused = paused


_HUBS: weakref.WeakKeyDictionary[CameraState, MonitorHub] = weakref.WeakKeyDictionary()


def monitor_hub(state: CameraState) -> MonitorHub:
    """The :class:`MonitorHub` of ``state`` (created on first use)."""
    hub = _HUBS.get(state)
    if hub is None:
        hub = _HUBS[state] = MonitorHub()
    return hub


def event_data(
    state: CameraState,
    groups: Sequence[str] = EVENT_GROUPS,
    *,
    motion_params: Sequence[str] = MOTION_PARAMS,
    io_params: Sequence[str] = IO_PARAMS,
    tampering_params: Sequence[str] = ("Enabled", "Triggered"),
) -> EventData:
    """The event data of ``state`` for ``groups``, keeping only the requested parameters.

    A disabled motion window or tampering alarm reports ``Enabled=0`` only, as in the spec.
    """
    motion: list[MotionStatus] = []
    for name in groups:
        if name not in MOTION_GROUPS:
            continue
        window = state.motion[name]
        shown = {k for k in motion_params if window.enabled or k == "Enabled"}
        motion.append(
            MotionStatus(
                name,
                enabled=window.enabled if "Enabled" in shown else None,
                level=window.level if "Level" in shown else None,
                sensitivity=window.sensitivity if "Sensitivity" in shown else None,
                triggered=window.triggered if "Triggered" in shown else None,
            )
        )
    io = _io_status(state) if "IO" in groups and "Status" in io_params else None
    tampering = None
    if "T0" in groups:
        t = state.tampering
        show_enabled = "Enabled" in tampering_params or "Enable" in tampering_params
        tampering = TamperingStatus(
            enabled=t.enabled if show_enabled else None,
            triggered=t.triggered if "Triggered" in tampering_params and t.enabled else None,
        )
    return EventData(motion=tuple(motion), io=io, tampering=tampering)


def _io_status(state: CameraState) -> IoStatus:
    inputs, outputs = state.inputs[:8], state.outputs[:8]
    return IoStatus(
        inputs_enabled=[i.enabled for i in inputs],
        inputs_closed=[i.closed for i in inputs],
        outputs_closed=[o.closed for o in outputs],
        inputs_normally_closed=[i.normally_closed for i in inputs],
        outputs_active_closed=[o.active_state == "closed" for o in outputs],
        # An input is active when its contact is away from its normal state.
        inputs_active=[i.enabled and i.closed != i.normally_closed for i in inputs],
        outputs_active=[o.active for o in outputs],
    )


def render_part(text: str) -> bytes:
    """One monitor part (delimiter, headers, body) with an exact ``Content-Length``."""
    body = text.encode("latin-1")
    head = f"--{BOUNDARY}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode("ascii") + body + b"\r\n"


class _BadRequest(Exception):
    pass


def _split(value: str, allowed: Sequence[str], name: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        raise _BadRequest(f"invalid {name} value {value!r}")
    return items


async def eventdata_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """``action=get|monitor`` with ``group``, ``MotionParam``, ``IOParam``, ``TamperingParam``."""
    pairs = dict(await request_pairs(request))
    action = pairs.get("action")
    try:
        groups = _split(pairs["group"], EVENT_GROUPS, "group") if "group" in pairs else None
        kwargs: dict[str, Sequence[str]] = {
            "motion_params": _split(pairs["MotionParam"], MOTION_PARAMS, "MotionParam")
            if "MotionParam" in pairs
            else MOTION_PARAMS,
            "io_params": _split(pairs["IOParam"], IO_PARAMS, "IOParam")
            if "IOParam" in pairs
            else IO_PARAMS,
            "tampering_params": _split(pairs["TamperingParam"], _TAMPERING_KEYS, "TamperingParam")
            if "TamperingParam" in pairs
            else ("Enabled", "Triggered"),
        }
        if action not in ("get", "monitor"):
            raise _BadRequest(f"invalid action {action!r}")
    except _BadRequest as exc:
        return text_response(f"# Error: {exc}\r\n")
    selected = tuple(groups) if groups is not None else EVENT_GROUPS

    def render(trailing_space: bool) -> str:
        data = event_data(state, selected, **kwargs)
        return format_event_data(data, trailing_space=trailing_space)

    if action == "get":
        return text_response(render(False))
    return await _monitor(request, state, lambda: render(True) + "\r\n")


async def _monitor(
    request: web.Request, state: CameraState, render: Callable[[], str]
) -> web.StreamResponse:
    hub = monitor_hub(state)
    response = web.StreamResponse(
        headers={"Content-Type": f"multipart/x-mixed-replace;boundary={BOUNDARY}"}
    )
    await response.prepare(request)
    hub.connections += 1
    if isinstance(request.transport, asyncio.Transport):
        hub._open[response] = request.transport
    try:
        interval = max(0.05, float(getattr(state, "monitor_interval", 10.0)))
        loop = asyncio.get_running_loop()
        last_text: str | None = None
        last_sent = 0.0
        version = state.version
        while True:
            if not hub.paused:
                text = render()
                now = loop.time()
                if text != last_text or now - last_sent >= interval:
                    await response.write(render_part(text))
                    hub.parts_sent += 1
                    last_text, last_sent = text, now
            # While paused, poll the flag; otherwise sleep until a change or the next beat.
            wait = _PAUSE_POLL if hub.paused else interval - (loop.time() - last_sent)
            version = await state.wait_changed(version, max(0.01, wait))
    except (ConnectionResetError, ConnectionError):
        pass
    finally:
        hub.connections -= 1
        hub._open.pop(response, None)
    return response


def register(router: CgiRouter) -> None:
    """Add ``eventdata.cgi`` (administrator access)."""
    router.add("GET", EVENTDATA_PATH, eventdata_cgi, "admin")
