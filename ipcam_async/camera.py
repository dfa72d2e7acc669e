"""The :class:`Camera` handle: one per device, entry point to every CGI group and to RTSP."""

from __future__ import annotations

import importlib
import ssl
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

import aiohttp

from .errors import InvalidArgument, StreamClosed
from .http.transport import AuthMode, HttpTransport
from .redact import check_header_value

if TYPE_CHECKING:
    from .api.events import EventsApi
    from .api.image import ImageApi
    from .api.io import IoApi
    from .api.mjpeg import MjpegApi
    from .api.params import ParamsApi
    from .api.ptz import PtzApi
    from .api.storage import StorageApi
    from .api.system import SystemApi
    from .api.users import UsersApi

__all__ = ["Camera"]

#: attribute → (module under ipcam_async.api, class name). Modules are imported on first access,
#: so a group whose module is missing only fails when it is used.
_API_GROUPS: Final[dict[str, tuple[str, str]]] = {
    "params": ("params", "ParamsApi"),
    "users": ("users", "UsersApi"),
    "system": ("system", "SystemApi"),
    "storage": ("storage", "StorageApi"),
    "image": ("image", "ImageApi"),
    "ptz": ("ptz", "PtzApi"),
    "io": ("io", "IoApi"),
    "events": ("events", "EventsApi"),
    "mjpeg": ("mjpeg", "MjpegApi"),
}


class Camera:
    """An IP camera speaking the IP Camera Standard API 3.0.

    ``async with Camera("192.168.0.90", username="admin", password="1234") as cam:`` then
    ``await cam.params.list("Network")``.  ``port`` defaults to 80 (443 with ``https``).
    Pass ``session`` to share one aiohttp connection pool between many cameras (the camera then
    never closes it).  The password is kept private: it appears in no ``repr``, URL, log line
    or exception text.

    ``auth`` is ``"auto"`` (choose from the camera's 401 challenge), ``"digest"`` or
    ``"basic"``; ``https`` verifies TLS certificates unless ``verify_ssl=False`` (or give an
    ``ssl_context``); ``timeout`` bounds each HTTP request; ``retry_503`` is the number of
    retries after a ``503 Service Unavailable`` (honouring ``Retry-After``, capped at
    ``max_retry_wait`` seconds each).
    """

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        auth: AuthMode = "auto",
        https: bool = False,
        verify_ssl: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        retry_503: int = 0,
        max_retry_wait: float = 30.0,
        mjpeg_port: int = 8008,
        rtsp_port: int = 554,
        model: str | None = None,
    ) -> None:
        if port is None:
            port = 443 if https else 80
        for name, value in (("port", port), ("mjpeg_port", mjpeg_port), ("rtsp_port", rtsp_port)):
            if not 0 < value < 65536:
                raise InvalidArgument(name, "1..65535", value)
        self.transport = HttpTransport(
            host,
            port,
            username=username,
            password=password,
            auth=auth,
            https=https,
            verify_ssl=verify_ssl,
            ssl_context=ssl_context,
            session=session,
            timeout=timeout,
            retry_503=retry_503,
            max_retry_wait=max_retry_wait,
        )
        self.host = self.transport.host  # normalised ("[::1]" → "::1")
        self.port = port
        self.username = username
        self.mjpeg_port = mjpeg_port
        self.rtsp_port = rtsp_port
        self.model = model
        self.timeout = timeout
        self._apis: dict[str, Any] = {}
        self._opened = False

    def __repr__(self) -> str:
        return f"<Camera {self.host}:{self.port} user={self.username!r}>"

    async def __aenter__(self) -> Camera:
        # Entering again after a close is allowed: the camera gets a new session.
        self.transport.reopen()
        self._opened = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if the camera created it (a session passed in stays open).

        Requests made afterwards raise :class:`~ipcam_async.errors.StreamClosed` (entering
        ``async with`` again reopens the camera).  Closing twice is harmless.
        """
        self._opened = False
        await self.transport.close()

    @property
    def opened(self) -> bool:
        """True between entering ``async with`` and :meth:`close`.

        A camera used without ``async with`` still works, but then its owner must call
        :meth:`close`; tools that borrow cameras (e.g. the recorder) close the ones they find
        unopened.
        """
        return self._opened

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (until ``async with`` enters again)."""
        return self.transport.closed

    def _credentials(self) -> tuple[str | None, str | None]:
        """``(username, password)`` for the RTSP layer, which authenticates on its own."""
        return self.transport.credentials()

    def _api(self, attribute: str) -> Any:
        api = self._apis.get(attribute)
        if api is None:
            module_name, class_name = _API_GROUPS[attribute]
            module = importlib.import_module(f"ipcam_async.api.{module_name}")
            api = getattr(module, class_name)(self)
            self._apis[attribute] = api
        return api

    # -- CGI groups (lazily created) ---------------------------------------------------------

    @property
    def params(self) -> ParamsApi:
        """Parameters (``param.cgi``, spec 5.1.1)."""
        api: ParamsApi = self._api("params")
        return api

    @property
    def users(self) -> UsersApi:
        """Users and groups (``pwdgrp.cgi``, ``privacy.cgi``, ``userinfo.cgi``)."""
        api: UsersApi = self._api("users")
        return api

    @property
    def system(self) -> SystemApi:
        """System: date/time, restart, logs, reports, firmware, backup/restore."""
        api: SystemApi = self._api("system")
        return api

    @property
    def storage(self) -> StorageApi:
        """Local storage management."""
        api: StorageApi = self._api("storage")
        return api

    @property
    def image(self) -> ImageApi:
        """Snapshots (JPEG images)."""
        api: ImageApi = self._api("image")
        return api

    @property
    def ptz(self) -> PtzApi:
        """Pan/tilt/zoom control and configuration."""
        api: PtzApi = self._api("ptz")
        return api

    @property
    def io(self) -> IoApi:
        """Digital inputs and outputs."""
        api: IoApi = self._api("io")
        return api

    @property
    def events(self) -> EventsApi:
        """Event data (motion, I/O, tampering), including the monitor stream."""
        api: EventsApi = self._api("events")
        return api

    @property
    def mjpeg(self) -> MjpegApi:
        """MJPEG video over HTTP."""
        api: MjpegApi = self._api("mjpeg")
        return api

    # -- RTSP --------------------------------------------------------------------------------

    def rtsp_url(self, name: str = "h264") -> str:
        """The RTSP URL of stream ``name`` (spec 5.5.3), without credentials."""
        check_header_value("name", name)
        if not name or any(c in name for c in "/?#@ "):
            raise InvalidArgument("name", "a stream name such as 'h264'", name)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"rtsp://{host}:{self.rtsp_port}/{name}"

    def stream(self, name: str = "h264", **kw: Any) -> Any:
        """Open RTSP stream ``name``; see :func:`ipcam_async.rtsp.stream.open_camera_stream`.

        Raises :class:`~ipcam_async.errors.StreamClosed` on a closed camera, like every request.
        """
        if self.closed:
            raise StreamClosed("the camera is closed; open a new one or re-enter 'async with'")
        module = importlib.import_module("ipcam_async.rtsp.stream")
        return module.open_camera_stream(self, name, **kw)
