"""A simulated camera: the spec's CGIs over HTTP (and RTSP / MJPEG when those parts are present).

``async with SimulatedCamera() as sim:`` starts it on loopback with free ports;
``sim.camera()`` returns a client :class:`~ipcam_async.camera.Camera` pointed at it.

Extra services: when ``rtsp=True`` (``mjpeg=True``) and module ``ipcam_async.sim.rtsp``
(``ipcam_async.sim.mjpeg``) defines ``async def start_rtsp_server(sim) -> server``
(``start_mjpeg_server``), it is awaited after the HTTP side is up.  The starter reads the wanted
port from ``sim.rtsp_port`` (``sim.mjpeg_port``; 0 = any free port), binds on ``sim.host``, stores
the bound port back into that attribute, and returns an object with ``async close()``, called on
stop (in reverse start order).  See :data:`SERVICE_STARTERS`.
"""

from __future__ import annotations

import importlib
import logging
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

from aiohttp import web

from ..camera import Camera
from .faults import Faults
from .http.app import AUTHENTICATOR_KEY, CgiRouter, build_app
from .http.auth import Authenticator, AuthMode
from .state import CameraState

if TYPE_CHECKING:
    # Imported for typing only: the RTSP server (and its media) loads when it is started.
    from .rtsp.media import StreamSource

__all__ = ["SERVICE_STARTERS", "ClosableService", "SimulatedCamera"]

_log = logging.getLogger(__name__)


class ClosableService(Protocol):
    """What a service starter returns."""

    async def close(self) -> None:
        """Stop serving and release sockets and tasks."""


#: flag name → (module, starter function). A flag is a constructor argument of
#: :class:`SimulatedCamera`; missing modules or functions are skipped.
SERVICE_STARTERS: Final[dict[str, tuple[str, str]]] = {
    "rtsp": ("ipcam_async.sim.rtsp", "start_rtsp_server"),
    "mjpeg": ("ipcam_async.sim.mjpeg", "start_mjpeg_server"),
}


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=128)


class SimulatedCamera:
    """An in-process simulated camera (async context manager; or :meth:`start`/:meth:`stop`).

    ``auth``: ``"any"`` (Digest and Basic offered), ``"basic"`` or ``"digest"``;
    ``digest_algorithm``: ``"MD5"`` or ``"SHA-256"`` in the challenge (both are accepted);
    ``nonce_lifetime``: seconds before a Digest nonce is answered with ``stale=true``;
    ``ssl_context``: serve HTTPS; ``extra_cgis``: more ``register(router)`` functions.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        http_port: int = 0,
        rtsp_port: int = 0,
        mjpeg_port: int = 0,
        username: str = "admin",
        password: str = "1234",
        auth: AuthMode = "any",
        digest_algorithm: Literal["MD5", "SHA-256"] = "MD5",
        nonce_lifetime: float = 300.0,
        model: str = "NH720",
        rtsp: bool = True,
        mjpeg: bool = True,
        state: CameraState | None = None,
        faults: Faults | None = None,
        shutdown_timeout: float = 1.0,
        ssl_context: ssl.SSLContext | None = None,
        extra_cgis: Sequence[Callable[[CgiRouter], None]] = (),
        rtsp_streams: Mapping[str, StreamSource] | None = None,
    ) -> None:
        self.host = host
        self.http_port = http_port
        self.rtsp_port = rtsp_port
        self.mjpeg_port = mjpeg_port
        self.username = username
        self._password = password
        self.auth = auth
        self.model = model
        self.state = state or CameraState(model=model, username=username, password=password)
        self.faults = faults or Faults()
        self.app: web.Application = build_app(
            self.state,
            self.faults,
            auth=auth,
            digest_algorithm=digest_algorithm,
            nonce_lifetime=nonce_lifetime,
            extra=extra_cgis,
        )
        self._ssl_context = ssl_context
        self._enabled = {"rtsp": rtsp, "mjpeg": mjpeg}
        # RTSP paths and the media they serve; None = the packaged clips on the spec's paths.
        self.rtsp_streams = rtsp_streams
        self._shutdown_timeout = shutdown_timeout
        self._runner: web.AppRunner | None = None
        self._services: list[tuple[str, ClosableService]] = []

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<SimulatedCamera {self.host}:{self.http_port} {self.model} {state}>"

    @property
    def running(self) -> bool:
        """Whether the HTTP side is serving."""
        return self._runner is not None

    @property
    def password(self) -> str:
        """The admin password (the simulator is a test tool; it is never logged)."""
        return self._password

    @property
    def authenticator(self) -> Authenticator:
        """The HTTP authenticator (counters of Basic/Digest/stale answers)."""
        return self.app[AUTHENTICATOR_KEY]

    @property
    def services(self) -> list[str]:
        """Names of the extra services (rtsp, mjpeg) that were started."""
        return [name for name, _ in self._services]

    @property
    def http_url(self) -> str:
        """Base URL of the HTTP side (no credentials)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://{host}:{self.http_port}"

    async def start(self) -> None:
        """Bind and serve HTTP, then start the enabled extra services."""
        if self._runner is not None:
            return
        runner = web.AppRunner(
            self.app,
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=self._shutdown_timeout,
        )
        await runner.setup()
        try:
            sock = _bind(self.host, self.http_port)
            site = web.SockSite(runner, sock, ssl_context=self._ssl_context)
            await site.start()
            self.http_port = sock.getsockname()[1]
            self._runner = runner
            for flag, (module_name, function_name) in SERVICE_STARTERS.items():
                if not self._enabled.get(flag):
                    continue
                starter = _find_starter(module_name, function_name)
                if starter is None:
                    continue
                service: ClosableService = await starter(self)
                self._services.append((flag, service))
            self._announce_ports()
        except BaseException:
            await self._stop_services()
            self._runner = None
            await runner.cleanup()
            raise
        _log.info("simulated camera %s serving on %s", self.model, self.http_url)

    def _announce_ports(self) -> None:
        """Publish the ports actually bound in ``Network.*Port``, as a camera reports its own."""
        ports = {"Network.HTTPPort": self.http_port}
        if "rtsp" in self.services:
            ports["Network.RTSPPort"] = self.rtsp_port
        if "mjpeg" in self.services:
            ports["Network.MJPEGPort"] = self.mjpeg_port
        # Factory values too: after a (hard) factory default the device still serves there.
        for name, port in ports.items():
            self.state.params.set_factory(name, str(port))

    async def _stop_services(self) -> None:
        while self._services:
            name, service = self._services.pop()
            try:
                await service.close()
            except Exception:
                _log.exception("closing simulated %s service failed", name)

    async def stop(self) -> None:
        """Stop the extra services, then the HTTP side."""
        await self._stop_services()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> SimulatedCamera:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def camera(self, **kw: Any) -> Camera:
        """A client :class:`~ipcam_async.camera.Camera` for this simulator (admin account).

        Keyword arguments override the defaults (e.g. ``auth="basic"``, ``username=...``).
        """
        options: dict[str, Any] = {
            "port": self.http_port,
            "username": self.username,
            "password": self._password,
            "model": self.model,
        }
        if self._ssl_context is not None:
            options["https"] = True
        if self.rtsp_port:
            options["rtsp_port"] = self.rtsp_port
        if self.mjpeg_port:
            options["mjpeg_port"] = self.mjpeg_port
        options.update(kw)
        return Camera(self.host, **options)


def _find_starter(module_name: str, function_name: str) -> Any:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return None
    return getattr(module, function_name, None)
