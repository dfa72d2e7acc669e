"""SDP descriptions in the shape of the spec's DESCRIBE example (5.5.3.1)."""

from __future__ import annotations

from .media import StreamSource

__all__ = ["SESSION_NAME", "build_sdp"]

SESSION_NAME = 'Session streamed by "ipcam_async simulated camera"'


def build_sdp(
    name: str, source: StreamSource, *, session_version: int, origin_host: str = "0.0.0.0"
) -> str:
    """Return the SDP for path ``name``: track1 video (H.264 PT 99 or JPEG PT 26), track2 PCMU.

    Session-level ``a=control:*`` makes the aggregate URL the ``Content-Base`` itself; media
    ports are 0 because transports are negotiated by SETUP.
    """
    video = source.video
    lines = [
        "v=0",
        f"o=- {session_version} 1 IN IP4 {origin_host}",
        f"s={SESSION_NAME}",
        f"i={name}",
        "t=0 0",
        "a=tool:ipcam_async simulated camera",
        "a=type:broadcast",
        "a=control:*",
        "a=range:npt=0-",
        f"a=x-qt-text-nam:{SESSION_NAME}",
        f"a=x-qt-text-inf:{name}",
    ]
    if video.codec == "H264":
        lines += [
            "m=video 0 RTP/AVP 99",
            "c=IN IP4 0.0.0.0",
            "a=rtpmap:99 H264/90000",
            f"a=fmtp:99 packetization-mode=1;profile-level-id={video.profile_level_id};"
            f"sprop-parameter-sets={video.sprop_parameter_sets}",
        ]
    else:
        lines += [
            "m=video 0 RTP/AVP 26",
            "c=IN IP4 0.0.0.0",
            "a=rtpmap:26 JPEG/90000",
        ]
    lines += [
        "a=control:track1",
        f"a=cliprect:0,0,{video.width},{video.height}",
        f"a=framerate:{video.fps:.6f}",
    ]
    if source.audio is not None:
        lines += [
            "m=audio 0 RTP/AVP 0",
            "c=IN IP4 0.0.0.0",
            f"a=rtpmap:0 PCMU/{source.audio.sample_rate}/1",
            "a=control:track2",
        ]
    return "\r\n".join(lines) + "\r\n"
