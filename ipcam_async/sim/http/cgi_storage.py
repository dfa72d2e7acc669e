"""``storagemanagement.cgi`` of the simulated camera (spec 5.1.5), on ``state.storage_files``."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from ..state import CameraState
from .app import CgiRouter, current_user, error_response, text_response
from .cgi_params import request_pairs

__all__ = ["STORAGE_PATH", "register"]

STORAGE_PATH: Final = "/cgi-bin/admin/storagemanagement.cgi"
_CHUNK: Final = 256 << 10


async def storage_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """format / list / remove / download."""
    pairs = dict(await request_pairs(request))
    action = pairs.get("action")
    files = state.storage_files
    if action == "format":
        files.clear()
        state.log(f"storagemanagement.cgi: {current_user(request)} formatted the storage")
        state.changed()
        return text_response("OK\r\n")
    if action == "list":
        return text_response("".join(f"{name} {len(data)}\r\n" for name, data in files.items()))
    if action not in ("remove", "download"):
        return error_response(f"invalid action '{action}'" if action else "no action given")
    name = pairs.get("filename")
    if not name:
        return error_response("filename is required")
    data = files.get(name)
    if data is None:
        return text_response(f"404 Not Found: {name}\r\n", status=404)
    if action == "remove":
        del files[name]
        state.log(f"storagemanagement.cgi: {current_user(request)} removed {name}")
        state.changed()
        return text_response("OK\r\n")
    response = web.StreamResponse()
    response.content_type = "application/octet-stream"
    response.content_length = len(data)
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    response.headers["Content-Disposition"] = f'attachment; filename="{quoted}"'
    await response.prepare(request)
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK):
        await response.write(view[start : start + _CHUNK])
    await response.write_eof()
    return response


def register(router: CgiRouter) -> None:
    """Add storagemanagement.cgi (root access, GET and POST)."""
    router.add(("GET", "POST"), STORAGE_PATH, storage_cgi, "root")
