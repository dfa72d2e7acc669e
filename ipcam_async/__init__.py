"""ipcam_async: asyncio client for IP cameras speaking the IP Camera Standard API 3.0.

``Camera`` is the entry point (one per device, one attribute per CGI group); ``RtspStream`` and
``RtspClient`` work without it; ``Recorder`` records many cameras at once. The simulated camera
is in :mod:`ipcam_async.sim` (not imported here, so importing the library loads no server).
"""

from __future__ import annotations

from .api.event_models import (
    ChangeKind,
    EventChange,
    EventData,
    IoStatus,
    MotionStatus,
    TamperingStatus,
)
from .api.io import IoApi, PortStates
from .api.mjpeg import MjpegFrame
from .api.ptz import (
    PtzApi,
    PtzCommandInfo,
    PtzInfo,
    PtzPosition,
    PtzPreset,
    SequenceLine,
    SequencePoint,
)
from .api.ptz_models import PtzModelClass
from .api.reconnect import Disconnect
from .api.system_models import (
    GroupMembership,
    JpegImage,
    LogText,
    SecondaryGroup,
    StorageEntry,
    UserCredential,
    UserInfo,
    UserRights,
)
from .api.transfer import Download
from .camera import Camera
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
from .http.transport import HttpResponse, HttpTransport
from .params import ParamTree, parse_param_list
from .reconnect import ReconnectPolicy
from .record import CameraStats, FragmentedMp4Writer, Recorder, RecordingTrigger, SegmentInfo
from .rtp import AudioFrame, H264Parameters, RtpOptions, TrackReceiver, TrackStats, VideoFrame
from .rtsp import RtspClient, RtspQuirks, RtspStream, StreamStats

__version__ = "0.1.0"

__all__ = [
    "AudioFrame",
    "AuthError",
    "BadRequestError",
    "Camera",
    "CameraStats",
    "ChangeKind",
    "ConflictError",
    "ConnectError",
    "DeviceBusyError",
    "Disconnect",
    "Download",
    "EventChange",
    "EventData",
    "FragmentedMp4Writer",
    "GroupMembership",
    "H264Parameters",
    "HttpResponse",
    "HttpStatusError",
    "HttpTransport",
    "InternalServerError",
    "InvalidArgument",
    "IoApi",
    "IoStatus",
    "IpCamError",
    "JpegImage",
    "LogText",
    "MjpegFrame",
    "MotionStatus",
    "NotFoundError",
    "ParamTree",
    "ParameterError",
    "PortStates",
    "ProtocolError",
    "PtzApi",
    "PtzCommandInfo",
    "PtzInfo",
    "PtzModelClass",
    "PtzPosition",
    "PtzPreset",
    "ReconnectPolicy",
    "Recorder",
    "RecorderError",
    "RecordingTrigger",
    "RequestFailed",
    "RtpOptions",
    "RtspClient",
    "RtspError",
    "RtspQuirks",
    "RtspStream",
    "SecondaryGroup",
    "SegmentInfo",
    "SequenceLine",
    "SequencePoint",
    "StorageEntry",
    "StreamClosed",
    "StreamStats",
    "StreamTimeout",
    "TamperingStatus",
    "TrackReceiver",
    "TrackStats",
    "UserCredential",
    "UserInfo",
    "UserRights",
    "VideoFrame",
    "__version__",
    "parse_param_list",
]
