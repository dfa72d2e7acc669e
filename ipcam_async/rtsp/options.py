"""Named policies for the choices real cameras force on an RTSP client.

Each field is one decision with a safe default; pass ``RtspQuirks(...)`` to
:class:`~ipcam_async.rtsp.RtspClient` or :class:`~ipcam_async.rtsp.RtspStream`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import attrs

from ..errors import InvalidArgument

__all__ = ["RtspQuirks"]


def _one_of(*allowed: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(_inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in allowed:
            raise InvalidArgument(attribute.name, " | ".join(allowed), value)

    return check


@attrs.frozen(slots=True)
class RtspQuirks:
    """Policies for non-conforming servers.

    - ``rtp_info_seq``: how to use ``RTP-Info`` ``seq``/``rtptime`` from PLAY. ``"auto"`` seeds the
      depacketizers but ignores obviously bogus values (the fake ``seq=0``, and ``rtptime=0``
      with it, that some cameras always send); ``"use"`` trusts every value; ``"ignore"`` never
      seeds, and the first packet defines the sequence.
    - ``keepalive``: ``"auto"`` (GET_PARAMETER when ``Public`` lists it, else OPTIONS, switching
      when the server rejects one), ``"options"``, ``"get_parameter"`` or ``"none"``.
    - ``session_timeout``: overrides the ``Session: ...;timeout=`` value (seconds).
    - ``receiver_reports`` / ``rr_interval``: send RTCP receiver reports every ``rr_interval``
      seconds over every transport (some servers drop clients that send none).
    - ``stray_payload_types``: ``"drop"`` RTP packets whose payload type differs from the SDP's
      (counted as ``wrong_payload_type``), or ``"accept"`` them as the track's payload type
      (cameras whose RTP disagrees with their own SDP).
    - ``unknown_rtcp_ssrc``: ``"ignore"`` sender reports from an SSRC other than the media's, or
      ``"accept"`` them for the track's clock (cameras that use a separate SSRC for RTCP).
    - ``ssrc_change``: ``"probation"`` (RFC 3550: a new SSRC is believed after two packets in
      sequence) or ``"follow"`` (switch at the first packet; cameras that change SSRC every GOP).
    - ``annexb_in_payload``: split single-NAL payloads that carry Annex B start codes (several
      NAL units glued together, or a leading start code) into proper NAL units.

    Always handled, no option needed: access units without marker bits (split on timestamp
    change), FU-A packets with both start and end bits, missing or wrong ``server_port``,
    responses without ``CSeq``, a ``Content-Base`` without a scheme.
    """

    rtp_info_seq: Literal["auto", "use", "ignore"] = attrs.field(
        default="auto", validator=_one_of("auto", "use", "ignore")
    )
    keepalive: Literal["auto", "options", "get_parameter", "none"] = attrs.field(
        default="auto", validator=_one_of("auto", "options", "get_parameter", "none")
    )
    session_timeout: float | None = None
    receiver_reports: bool = True
    rr_interval: float = 5.0
    stray_payload_types: Literal["drop", "accept"] = attrs.field(
        default="drop", validator=_one_of("drop", "accept")
    )
    unknown_rtcp_ssrc: Literal["ignore", "accept"] = attrs.field(
        default="ignore", validator=_one_of("ignore", "accept")
    )
    ssrc_change: Literal["probation", "follow"] = attrs.field(
        default="probation", validator=_one_of("probation", "follow")
    )
    annexb_in_payload: bool = False
