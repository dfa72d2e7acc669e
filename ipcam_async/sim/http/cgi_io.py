"""``/cgi-bin/io/input.cgi`` and ``/cgi-bin/io/output.cgi`` of the simulated camera (spec 5.4.1).

``check=<id>[,<id>...]`` answers ``Input1=0`` (the contact: 1 closed, 0 open) and
``checkactive=...`` answers ``Input1=active`` / ``Input1=inactive``, one line per id joined by
``\\r\\n`` (a single id is answered exactly as the spec's example: ``Input1=0``).
``output.cgi?action=<id>:/`` makes an output active, ``<id>:\\`` inactive (no id: output 1), and
answers ``OK``; the change goes through :meth:`CameraState.changed` so the event stream sees it.
Both CGIs need administrator access; a refused request is answered ``# Error: <description>``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from aiohttp import web

from ..state import CameraState, InputLine, OutputLine
from .app import CgiRouter, current_user, error_response, text_response
from .cgi_params import request_pairs

__all__ = ["INPUT_PATH", "OUTPUT_PATH", "register"]

INPUT_PATH: Final = "/cgi-bin/io/input.cgi"
OUTPUT_PATH: Final = "/cgi-bin/io/output.cgi"
_IDS = re.compile(r"\d{1,3}(,\d{1,3})*")
_ACTION = re.compile(r"(?:(\d{1,3}):)?([/\\])")


class _Refused(Exception):
    """The request is refused; the text becomes ``# Error: <text>``."""


def _ids(text: str, count: int, what: str) -> list[int]:
    if not _IDS.fullmatch(text):
        raise _Refused(f"invalid {what} list {text!r}")
    ids = [int(part) for part in text.split(",")]
    bad = [i for i in ids if not 1 <= i <= count]
    if bad:
        raise _Refused(f"no {what} {bad[0]} (this device has {count})")
    return ids


def _one(pairs: Sequence[tuple[str, str]], allowed: tuple[str, ...]) -> tuple[str, str]:
    if len(pairs) != 1 or pairs[0][0] not in allowed:
        names = ", ".join(name for name, _ in pairs) or "nothing"
        raise _Refused(f"expected one of {', '.join(allowed)}, got {names}")
    return pairs[0]


def _status(
    label: str, name: str, ids: Sequence[int], lines: Sequence[InputLine] | Sequence[OutputLine]
) -> web.Response:
    """Answer ``check`` (contact: 1 closed, 0 open) or ``checkactive`` for the lines ``ids``."""
    values = []
    for number in ids:
        line = lines[number - 1]
        if name == "check":
            values.append(f"{label}{number}={'1' if line.closed else '0'}")
        else:
            values.append(f"{label}{number}={'active' if line.active else 'inactive'}")
    return text_response("\r\n".join(values))


async def input_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """``input.cgi?check=<ids>`` / ``checkactive=<ids>``."""
    try:
        name, value = _one(await request_pairs(request), ("check", "checkactive"))
        ids = _ids(value, len(state.inputs), "input")
    except _Refused as exc:
        return error_response(str(exc))
    return _status("Input", name, ids, state.inputs)


async def output_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """``output.cgi?check=<ids>`` / ``checkactive=<ids>`` / ``action=<id>:<a>``."""
    try:
        name, value = _one(await request_pairs(request), ("check", "checkactive", "action"))
        if name == "action":
            match = _ACTION.fullmatch(value)
            if match is None:
                raise _Refused(f"invalid action {value!r}: use <id>:/ or <id>:\\")
            number = _ids(match.group(1) or "1", len(state.outputs), "output")[0]
            active = match.group(2) == "/"
        else:
            ids = _ids(value, len(state.outputs), "output")
    except _Refused as exc:
        return error_response(str(exc))
    if name == "action":
        line = state.outputs[number - 1]
        if line.active != active:
            line.active = active
            state.log(
                f"output.cgi: {current_user(request)} set output {number} "
                f"{'active' if active else 'inactive'}"
            )
            state.changed()
        return text_response("OK")
    return _status("Output", name, ids, state.outputs)


def register(router: CgiRouter) -> None:
    """Add input.cgi and output.cgi (administrator access, GET as the spec says)."""
    router.add("GET", INPUT_PATH, input_cgi, "admin")
    router.add("GET", OUTPUT_PATH, output_cgi, "admin")
