"""``/cgi-bin/admin/param.cgi`` (spec 5.1.1): list, options, update, add and remove parameters."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from aiohttp import web

from ...http.query import decode_query
from ..state import CameraState, ParamStoreError
from .app import CgiRouter, current_user, text_response

__all__ = ["MAX_FORM_BODY", "PARAM_PATH", "register", "request_pairs"]

PARAM_PATH: Final = "/cgi-bin/admin/param.cgi"
#: Largest form body :func:`request_pairs` accepts (bigger requests get 400).
MAX_FORM_BODY: Final = 1 << 20

#: Event.E<n> → motion window fed by that event's parameters (spec 5.4.2).
_MOTION_EVENTS: Final = {1: "Motion", 10: "Motion1", 11: "Motion2", 12: "Motion3"}
_EVENT_PARAM = re.compile(r"Event\.E(\d+)\.(Enabled|Sensitivity)\Z")
_INPUT_PARAM = re.compile(r"IO\.Input\.I(\d+)\.(Enabled|Trig)\Z")
_OUTPUT_PARAM = re.compile(r"IO\.Output\.O(\d+)\.Active\Z")


async def request_pairs(request: web.Request) -> list[tuple[str, str]]:
    """The request's parameters in order: the query, then a form body for POST.

    Decoded from the raw query (``+`` stays a plus: the spec writes it as ``%2B``).
    """
    _, _, raw_query = request.raw_path.partition("?")
    pairs = decode_query(raw_query)
    if request.method == "POST" and request.can_read_body:
        if (request.content_length or 0) > MAX_FORM_BODY:
            raise web.HTTPBadRequest(text="400 Bad Request\r\n")
        chunks: list[bytes] = []
        size = 0
        while chunk := await request.content.read(64 * 1024):
            size += len(chunk)
            if size > MAX_FORM_BODY:
                raise web.HTTPBadRequest(text="400 Bad Request\r\n")
            chunks.append(chunk)
        body = b"".join(chunks)
        pairs += decode_query(body.decode("utf-8", errors="replace").strip())
    return pairs


def _error(message: str) -> web.Response:
    return text_response(f"# Error: {message}\n")


def _listing(pairs: Sequence[tuple[str, str]]) -> web.Response:
    return text_response("".join(f"root.{name}={value}\n" for name, value in pairs))


def _groups(pairs: Sequence[tuple[str, str]]) -> list[str]:
    groups: list[str] = []
    for name, value in pairs:
        if name == "group":
            groups += [g.strip() for g in value.split(",") if g.strip()]
    return groups


def _sync_state(state: CameraState, names: Sequence[str]) -> None:
    """Mirror parameters that drive live behaviour into the device state."""
    params = state.params
    for name in names:
        value = params[name]
        if match := _EVENT_PARAM.match(name):
            index, field = int(match.group(1)), match.group(2)
            window = state.motion.get(_MOTION_EVENTS.get(index, ""))
            if window is not None and field == "Enabled":
                window.enabled = value == "yes"
            elif window is not None:
                window.sensitivity = int(value)
            elif index == 2 and field == "Enabled":
                state.tampering.enabled = value == "yes"
        elif (match := _INPUT_PARAM.match(name)) and int(match.group(1)) < len(state.inputs):
            line = state.inputs[int(match.group(1))]
            if match.group(2) == "Enabled":
                line.enabled = value == "yes"
            else:
                line.normally_closed = value == "open"
        elif (match := _OUTPUT_PARAM.match(name)) and int(match.group(1)) < len(state.outputs):
            state.outputs[int(match.group(1))].active_state = (
                "closed" if value == "closed" else "open"
            )


async def param_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """Handle every ``action`` of param.cgi."""
    pairs = await request_pairs(request)
    action = next((value for name, value in pairs if name == "action"), None)
    rest = [(name, value) for name, value in pairs if name != "action"]
    try:
        if action == "list":
            return _listing(state.params.select(_groups(rest)))
        if action == "options":
            return _listing(state.params.options(_groups(rest)))
        if action == "update":
            if not rest:
                return _error("No parameters to update")
            changed = state.params.update(rest)
            _sync_state(state, changed)
            state.log(f"param.cgi: {current_user(request)} updated {len(changed)} parameter(s)")
            state.changed()
            return text_response("OK\n")
        if action == "add":
            groups = _groups(rest)
            if len(groups) != 1:
                return _error("Exactly one group must be given to add")
            values = [(name, value) for name, value in rest if name != "group"]
            child = state.params.add(groups[0], values)
            state.log(f"param.cgi: {current_user(request)} added {child}")
            state.changed()
            return text_response(f"{child.rsplit('.', 1)[1]} OK\n")
        if action == "remove":
            groups = _groups(rest)
            if not groups:
                return _error("No group given to remove")
            for group in groups:
                state.params.remove(group)
            state.log(f"param.cgi: {current_user(request)} removed {', '.join(groups)}")
            state.changed()
            return text_response("OK\n")
    except ParamStoreError as exc:
        return _error(str(exc))
    return _error(f"Invalid action '{action}'" if action else "No action given")


def register(router: CgiRouter) -> None:
    """Add param.cgi (administrator access, GET and POST)."""
    router.add(("GET", "POST"), PARAM_PATH, param_cgi, "admin")
