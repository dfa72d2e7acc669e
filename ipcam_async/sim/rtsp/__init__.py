"""The simulated camera's RTSP server: spec paths, looped clips, RTP over UDP/multicast/TCP.

:class:`RtspServer` runs standalone (benchmarks, tests) or inside
:class:`ipcam_async.sim.SimulatedCamera`, which starts it with :func:`start_rtsp_server`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .faults import RtspFaults
from .media import (
    AudioClip,
    StreamSource,
    VideoClip,
    build_streams,
    default_streams,
    load_h264,
    load_mjpeg,
    load_ulaw,
)
from .server import PUBLIC_METHODS, RtspServer, RtspServerStats, RtspSession

if TYPE_CHECKING:
    from .. import SimulatedCamera

__all__ = [
    "PUBLIC_METHODS",
    "AudioClip",
    "RtspFaults",
    "RtspServer",
    "RtspServerStats",
    "RtspSession",
    "StreamSource",
    "VideoClip",
    "build_streams",
    "default_streams",
    "load_h264",
    "load_mjpeg",
    "load_ulaw",
    "start_rtsp_server",
]


async def start_rtsp_server(sim: SimulatedCamera) -> RtspServer:
    """Start the RTSP side of ``sim`` (called by :meth:`SimulatedCamera.start`).

    Binds on ``sim.host`` at ``sim.rtsp_port`` (0: any free port) and writes the bound port back;
    accounts are ``sim.state.users`` (any group may view video), the auth mode and realm are the
    HTTP side's, faults are ``sim.faults.rtsp``.
    """
    state = sim.state

    def passwords(user: str) -> str | None:
        account = state.users.get(user)
        return None if account is None else account.password

    faults = getattr(sim.faults, "rtsp", None)
    server = RtspServer(
        host=sim.host,
        port=sim.rtsp_port,
        auth=sim.auth,
        passwords=passwords,
        realm=sim.authenticator.realm,
        faults=faults if isinstance(faults, RtspFaults) else None,
        streams=sim.rtsp_streams,
    )
    await server.start()
    sim.rtsp_port = server.port
    return server
