"""Tuning knobs of the RTP receive path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import attrs

from ..errors import InvalidArgument

__all__ = ["RtpOptions"]


def _positive(name: str) -> Callable[[Any, Any, Any], None]:
    def check(_inst: Any, _attr: Any, value: Any) -> None:
        if value <= 0:
            raise InvalidArgument(name, "a positive number", value)

    return check


@attrs.frozen(slots=True)
class RtpOptions:
    """Options shared by the reorder stage and the depacketizers.

    - ``output``: H.264 byte format, ``"annexb"`` (start codes) or ``"avcc"`` (4-byte lengths).
    - ``writev``: hand frames out as ``views`` (list of payload slices) instead of joined ``data``.
    - ``drop_until_keyframe``: after a dropped access unit (and at start), drop H.264 frames
      until the next IDR, so a decoder never sees a frame whose references are missing.
    - ``max_frame_size``: bytes; a frame growing past it (an FU-A that never ends, a JPEG
      without marker) is dropped and counted.
    - ``reorder_window`` (packets) and ``reorder_delay`` (seconds): how long UDP packets are
      held while a hole in the sequence may still be filled.
    - ``strict``: raise :class:`~ipcam_async.errors.ProtocolError` on a malformed RTP packet
      instead of counting and dropping it.
    - ``max_dropout`` / ``max_misorder`` / ``min_sequential``: RFC 3550 A.1 limits for a jump
      in sequence numbers and for accepting a new source (probation).
    """

    output: Literal["annexb", "avcc"] = attrs.field(
        default="annexb", validator=attrs.validators.in_(("annexb", "avcc"))
    )
    writev: bool = False
    drop_until_keyframe: bool = False
    max_frame_size: int = attrs.field(default=8 << 20, validator=_positive("max_frame_size"))
    reorder_window: int = attrs.field(default=64, validator=_positive("reorder_window"))
    reorder_delay: float = 0.1
    strict: bool = False
    max_dropout: int = attrs.field(default=3000, validator=_positive("max_dropout"))
    max_misorder: int = attrs.field(default=100, validator=_positive("max_misorder"))
    min_sequential: int = attrs.field(default=2, validator=_positive("min_sequential"))
