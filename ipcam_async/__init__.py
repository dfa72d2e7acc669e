"""ipcam_async: asyncio client for IP cameras speaking the IP Camera Standard API 3.0."""

from __future__ import annotations

from .errors import (
    AuthError,
    BadRequestError,
    ConflictError,
    ConnectError,
    DeviceBusyError,
    HttpStatusError,
    InternalServerError,
    InvalidArgument,
    IpCamError,
    NotFoundError,
    ParameterError,
    ProtocolError,
    RecorderError,
    RequestFailed,
    RtspError,
    StreamClosed,
    StreamTimeout,
)

__version__ = "0.1.0"

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
    "__version__",
]
