"""Fault injection for the simulated camera: tests set these fields to make the device misbehave."""

from __future__ import annotations

import attrs

from .rtsp.faults import RtspFaults

__all__ = ["Faults"]


@attrs.define
class Faults:
    """What the simulator should do wrong, checked on every HTTP request.

    * ``http_status_once``: answer the next ``http_status_times`` requests with this status
      (e.g. 401, 500, 503) instead of running the CGI; ``retry_after`` (seconds) is sent with it
      as ``Retry-After``; ``http_status_path`` limits it to one path (``None``: any path).
    * ``drop_connection``: close the connection without an answer while true.
    * ``delay``: seconds to wait before handling each request.
    * ``http_requests``: counter of HTTP requests seen (after faults), for assertions.

    Other parts of the simulator (RTSP/RTP) extend this class with their own fields.
    * ``rtsp``: RTSP/RTP faults (loss, duplication, reordering, delay, dropped connections,
      401/503 on demand, sequence/SSRC restarts), see :class:`~ipcam_async.sim.rtsp.RtspFaults`.
    """

    http_status_once: int | None = None
    http_status_times: int = 1
    http_status_path: str | None = None
    retry_after: float | None = None
    drop_connection: bool = False
    delay: float = 0.0
    http_requests: int = 0
    rtsp: RtspFaults = attrs.Factory(RtspFaults)

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: float | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests (to ``path`` if given) with ``status``."""
        self.http_status_once = status
        self.http_status_times = times
        self.retry_after = retry_after
        self.http_status_path = path

    def take_http_status(self, path: str) -> tuple[int, float | None] | None:
        """Consume one pending injected status for a request to ``path`` (simulator side)."""
        status = self.http_status_once
        if status is None or self.http_status_times <= 0:
            return None
        if self.http_status_path is not None and self.http_status_path != path:
            return None
        self.http_status_times -= 1
        if self.http_status_times <= 0:
            self.http_status_once = None
        return status, self.retry_after
