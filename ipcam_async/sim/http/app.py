"""The simulated camera's HTTP side: an aiohttp.web application serving the spec's CGIs.

Each module named in :data:`CGI_MODULES` has ``register(router: CgiRouter) -> None`` and adds its
CGIs with ``router.add(method, path, handler, level)``.  A handler is
``async def handler(request: web.Request, state: CameraState) -> web.StreamResponse``; the
application has already checked that the caller may use a CGI of ``level`` (``"view"``,
``"admin"`` or ``"root"``), so handlers hold only behaviour.  The authenticated user name is
``request[USER_KEY]`` (see :func:`current_user`).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, Literal

from aiohttp import web

from ..faults import Faults
from ..state import ACCESS_LEVELS, AccessLevel, CameraState
from .auth import Authenticator, AuthMode

__all__ = [
    "AUTHENTICATOR_KEY",
    "CGI_MODULES",
    "FAULTS_KEY",
    "STATE_KEY",
    "USER_KEY",
    "CgiHandler",
    "CgiRouter",
    "build_app",
    "current_user",
    "error_response",
    "text_response",
]

_log = logging.getLogger(__name__)

#: Modules of ``ipcam_async.sim.http`` that register CGIs (one line per module).
CGI_MODULES: list[str] = [
    "cgi_params",
    "cgi_events",
    "cgi_users",
    "cgi_system",
    "cgi_storage",
    "cgi_image",
    "cgi_ptz",
    "cgi_io",
]

CgiHandler = Callable[[web.Request, CameraState], Awaitable[web.StreamResponse]]

STATE_KEY: Final = web.AppKey("ipcam_state", CameraState)
FAULTS_KEY: Final = web.AppKey("ipcam_faults", Faults)
AUTHENTICATOR_KEY: Final = web.AppKey("ipcam_authenticator", Authenticator)
#: Request key holding the authenticated user name.
USER_KEY: Final = web.RequestKey("ipcam_user", str)

_REASONS: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Error",
    503: "Service Unavailable",
}


def text_response(
    body: str, *, status: int = 200, content_type: str = "text/plain"
) -> web.Response:
    """A response whose body is exactly ``body`` (UTF-8), ``Content-Type: text/plain``.

    Write ``\\r\\n`` in ``body`` where the spec shows ``\\r\\n`` and ``\\n`` where it shows ``\\n``.
    """
    return web.Response(body=body.encode("utf-8"), status=status, content_type=content_type)


def error_response(message: str) -> web.Response:
    """The spec's refusal of a CGI request: ``# Error: <message>\\r\\n`` with status 200."""
    return text_response(f"# Error: {message}\r\n")


def current_user(request: web.Request) -> str:
    """The name of the authenticated user of ``request``."""
    return request[USER_KEY]


class CgiRouter:
    """Collects CGIs: path → method → (handler, access level)."""

    def __init__(self) -> None:
        self.routes: dict[str, dict[str, tuple[CgiHandler, AccessLevel]]] = {}

    def add(
        self,
        method: str | tuple[str, ...],
        path: str,
        handler: CgiHandler,
        level: AccessLevel = "admin",
    ) -> None:
        """Serve ``path`` for ``method`` (one or a tuple) with ``handler`` at ``level``."""
        if level not in ACCESS_LEVELS:
            raise ValueError(f"level must be one of {ACCESS_LEVELS}, not {level!r}")
        if not path.startswith("/"):
            raise ValueError(f"path must be absolute: {path!r}")
        methods = (method,) if isinstance(method, str) else method
        table = self.routes.setdefault(path, {})
        for name in methods:
            name = name.upper()
            if name in table:
                raise ValueError(f"{name} {path} is registered twice")
            table[name] = (handler, level)


def _dispatcher(
    table: dict[str, tuple[CgiHandler, AccessLevel]],
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    weakest = min((lvl for _, lvl in table.values()), key=ACCESS_LEVELS.index)

    async def dispatch(request: web.Request) -> web.StreamResponse:
        entry = table.get(request.method)
        if entry is None and request.method == "HEAD":
            entry = table.get("GET")
        level = entry[1] if entry is not None else weakest
        auth = request.app[AUTHENTICATOR_KEY]
        verdict = auth.authorize(request, level)
        if isinstance(verdict, web.Response):
            return verdict
        if entry is None:
            allowed = ", ".join(sorted(table))
            response = text_response("405 Method Not Allowed\r\n", status=405)
            response.headers["Allow"] = allowed
            return response
        request[USER_KEY] = verdict
        return await entry[0](request, request.app[STATE_KEY])

    return dispatch


@web.middleware
async def _fault_middleware(
    request: web.Request,
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> web.StreamResponse:
    faults = request.app[FAULTS_KEY]
    if faults.delay > 0:
        await asyncio.sleep(faults.delay)
    if faults.drop_connection:
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError
    faults.http_requests += 1
    injected = faults.take_http_status(request.path)
    if injected is not None:
        status, retry_after = injected
        reason = _REASONS.get(status, "Error")
        if status == 401:
            return request.app[AUTHENTICATOR_KEY].unauthorized()
        response = text_response(f"{status} {reason}\r\n", status=status)
        if retry_after is not None:
            response.headers["Retry-After"] = f"{retry_after:g}"
        return response
    return await handler(request)


def build_app(
    state: CameraState,
    faults: Faults,
    *,
    auth: AuthMode = "any",
    realm: str = "IPCam",
    digest_algorithm: Literal["MD5", "SHA-256"] = "MD5",
    nonce_lifetime: float = 300.0,
    modules: Sequence[str] | None = None,
    extra: Sequence[Callable[[CgiRouter], None]] = (),
    client_max_size: int = 64 * 1024 * 1024,
) -> web.Application:
    """Build the CGI application for ``state`` from :data:`CGI_MODULES` (or ``modules``).

    ``extra`` are more ``register(router)`` functions (tests add their own CGIs this way).
    ``client_max_size`` caps request bodies read whole (``request.read()``/``post()``).
    """
    app = web.Application(middlewares=[_fault_middleware], client_max_size=client_max_size)
    app[STATE_KEY] = state
    app[FAULTS_KEY] = faults
    app[AUTHENTICATOR_KEY] = Authenticator(
        state,
        mode=auth,
        realm=realm,
        digest_algorithm=digest_algorithm,
        nonce_lifetime=nonce_lifetime,
    )
    router = CgiRouter()
    for name in CGI_MODULES if modules is None else modules:
        module = importlib.import_module(f"{__package__}.{name}")
        module.register(router)
    for register in extra:
        register(router)
    for path, table in router.routes.items():
        app.router.add_route("*", path, _dispatcher(table))
    return app
