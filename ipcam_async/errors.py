"""The library's exceptions: one root, :class:`IpCamError`, and a typed subclass per failure.

Messages never carry credentials: URLs are redacted before they are put into a message
(see :func:`ipcam_async.redact.redact_url`).
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "BadRequestError",
    "ConflictError",
    "ConnectError",
    "DeviceBusyError",
    "HttpStatusError",
    "InternalServerError",
    "InvalidArgument",
    "IpCamError",
    "NotFoundError",
    "ParameterError",
    "ProtocolError",
    "RecorderError",
    "RequestFailed",
    "RtspError",
    "StreamClosed",
    "StreamTimeout",
]


class IpCamError(Exception):
    """Root of every exception this library raises on purpose."""


class InvalidArgument(IpCamError, ValueError):
    """A caller's argument is outside the spec's range or character set; nothing was sent.

    ``argument`` names the argument, ``allowed`` describes what the spec accepts.
    """

    def __init__(self, argument: str, allowed: str, value: object = None) -> None:
        self.argument = argument
        self.allowed = allowed
        self.value = value
        super().__init__(f"invalid {argument}={value!r}: allowed {allowed}")


class ProtocolError(IpCamError):
    """The device sent bytes that do not follow the protocol (malformed, oversized, truncated)."""


class ConnectError(IpCamError):
    """The device could not be reached, or the connection broke mid-request."""


class StreamTimeout(IpCamError, TimeoutError):
    """No answer or no data arrived within the configured time."""


class StreamClosed(IpCamError):
    """A stream ended (closed by the device or by the caller) while data was still expected."""


class HttpStatusError(IpCamError):
    """The device answered with an HTTP error status (spec 4.1.1).

    Redirects (302 in the spec) are not followed, so credentials never travel to another host;
    ``location`` holds the redirect target (userinfo masked) for a caller who wants to follow it.
    """

    status: int = 0

    def __init__(
        self, message: str, *, status: int | None = None, location: str | None = None
    ) -> None:
        if status is not None:
            self.status = status
        self.location = location
        super().__init__(message)


class BadRequestError(HttpStatusError):
    """400: the request had bad syntax or was impossible to fulfil."""

    status = 400


class AuthError(HttpStatusError):
    """401: authentication is required, or the credentials were refused."""

    status = 401


class NotFoundError(HttpStatusError):
    """404: nothing matches the request (unknown CGI, file, user, preset...)."""

    status = 404


class ConflictError(HttpStatusError):
    """409: the request conflicts with the current state of the resource."""

    status = 409


class InternalServerError(HttpStatusError):
    """500: the device hit an unexpected condition."""

    status = 500


class DeviceBusyError(HttpStatusError):
    """503: the device is temporarily overloaded; ``retry_after`` seconds if it said so."""

    status = 503

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class ParameterError(IpCamError):
    """A ``200 OK`` whose body is ``# Error: <description>`` (spec 5.1.1.3)."""

    def __init__(self, description: str) -> None:
        self.description = description
        super().__init__(description)


class RequestFailed(IpCamError):
    """A ``200 OK`` whose body is ``Request failed: <message>`` (spec 5.1.14.2)."""

    def __init__(self, description: str) -> None:
        self.description = description
        super().__init__(description)


class RtspError(IpCamError):
    """An RTSP request was answered with a non-success status."""

    def __init__(self, status: int, reason: str, *, method: str = "", url: str = "") -> None:
        self.status = status
        self.reason = reason
        self.method = method
        self.url = url
        where = f" {method} {url}" if method else ""
        super().__init__(f"RTSP {status} {reason}{where}")


class RecorderError(IpCamError):
    """A recording could not be written (disk full, permission denied, bad stream)."""
