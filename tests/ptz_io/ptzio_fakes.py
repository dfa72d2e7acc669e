"""A recording stand-in for a Camera: what PTZ/I-O calls would put on the wire, without a socket.

Used only for the pure request-building tests; everything else runs against the simulator.
"""

from __future__ import annotations

from collections.abc import Sequence

from multidict import CIMultiDict, CIMultiDictProxy

from ipcam_async.http.query import encode_query
from ipcam_async.http.transport import HttpResponse


class RecordingTransport:
    """Records ``path?query`` of each request exactly as the transport would encode it."""

    def __init__(self, answer: bytes = b"") -> None:
        self.answer = answer
        self.sent: list[str] = []

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        safe: str = "",
        **_kw: object,
    ) -> HttpResponse:
        query = encode_query(params, safe=safe)
        self.sent.append(f"{method} {path}?{query}" if query else f"{method} {path}")
        return HttpResponse(status=200, headers=CIMultiDictProxy(CIMultiDict()), body=self.answer)


class RecordingCamera:
    """Just enough of ``Camera`` for ``PtzApi`` / ``IoApi``."""

    def __init__(self, model: str | None = "NH720", answer: bytes = b"") -> None:
        self.model = model
        self.transport = RecordingTransport(answer)


class FakeClock:
    """A settable clock for the simulator's PTZ head: tests move time by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class WireLog:
    """Records the request target (path and raw query) of every request a session sends."""

    def __init__(self) -> None:
        import aiohttp

        self.targets: list[str] = []
        self.config = aiohttp.TraceConfig()
        self.config.on_request_start.append(self._on_start)

    async def _on_start(self, _session: object, _ctx: object, params: object) -> None:
        url = params.url  # type: ignore[attr-defined]
        self.targets.append(url.raw_path_qs)
