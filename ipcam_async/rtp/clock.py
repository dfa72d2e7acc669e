"""RTP media clock: 32-bit timestamp extension and RTP → wall-clock mapping from Sender Reports."""

from __future__ import annotations

__all__ = ["NTP_UNIX_OFFSET", "MediaClock", "ntp_to_unix", "unix_to_ntp"]

#: Seconds between the NTP epoch (1900) and the UNIX epoch (1970).
NTP_UNIX_OFFSET = 2_208_988_800


def ntp_to_unix(ntp: int) -> float:
    """Convert a 64-bit NTP timestamp (32.32 fixed point) to UNIX seconds."""
    return (ntp >> 32) - NTP_UNIX_OFFSET + (ntp & 0xFFFFFFFF) / 4294967296.0


def unix_to_ntp(seconds: float) -> int:
    """Convert UNIX seconds to a 64-bit NTP timestamp (32.32 fixed point)."""
    whole = int(seconds // 1)
    frac = int((seconds - whole) * 4294967296.0) & 0xFFFFFFFF
    return (((whole + NTP_UNIX_OFFSET) & 0xFFFFFFFF) << 32) | frac


class MediaClock:
    """Extends 32-bit RTP timestamps and maps them to wall-clock time.

    ``extend`` unwraps each timestamp against the previous one with a signed 32-bit
    difference, so the extended value keeps growing across wrap-around and tolerates
    timestamps that step back (B-frames). The first extended timestamp equals the first
    32-bit value (or the ``RTP-Info`` ``rtptime`` given to :meth:`seed`).

    After a Sender Report (``on_sender_report``) each extended timestamp maps to UNIX time:
    SR's NTP time plus the signed RTP distance from the SR's RTP timestamp over the clock rate.
    """

    __slots__ = ("_last_ext", "_last_ts", "_max_ext", "_sr_rtp", "_sr_unix", "clock_rate")

    def __init__(self, clock_rate: int) -> None:
        if clock_rate <= 0:
            raise ValueError("clock_rate must be positive")
        self.clock_rate = clock_rate
        self._last_ts: int | None = None
        self._last_ext = 0
        self._max_ext = 0
        self._sr_unix: float | None = None
        self._sr_rtp = 0

    def seed(self, rtptime: int) -> None:
        """Start the extended timeline at ``rtptime`` (from RTSP ``RTP-Info``)."""
        if self._last_ts is None:
            self._last_ts = rtptime & 0xFFFFFFFF
            self._last_ext = self._max_ext = self._last_ts

    def extend(self, ts: int) -> int:
        """Return the extended (unwrapped) value of 32-bit timestamp ``ts``."""
        last = self._last_ts
        if last is None:
            self._last_ts = ts
            self._last_ext = self._max_ext = ts
            return ts
        delta = ((ts - last + 0x80000000) & 0xFFFFFFFF) - 0x80000000
        ext = self._last_ext + delta
        self._last_ts = ts
        self._last_ext = ext
        if ext > self._max_ext:
            self._max_ext = ext
        return ext

    def restart(self, ts: int) -> None:
        """A new source starts at 32-bit ``ts``: keep the extended timeline moving forward.

        The next extended timestamp is the first value above everything handed out so far
        whose low 32 bits equal ``ts``.
        """
        self._sr_unix = None
        if self._last_ts is None:
            return
        top = self._max_ext
        ext = top - (top & 0xFFFFFFFF) + (ts & 0xFFFFFFFF)
        if ext <= top:
            ext += 1 << 32
        self._last_ts = ts & 0xFFFFFFFF
        self._last_ext = self._max_ext = ext
        self._sr_unix = None

    def on_sender_report(self, ntp_unix: float, rtp_timestamp: int) -> None:
        """Record the (wall clock, RTP timestamp) pair of a Sender Report."""
        self._sr_unix = ntp_unix
        self._sr_rtp = rtp_timestamp & 0xFFFFFFFF

    def forget_sender_report(self) -> None:
        """Drop the wall-clock mapping (it came from another source)."""
        self._sr_unix = None

    @property
    def synchronized(self) -> bool:
        """True once a Sender Report has given the wall-clock mapping."""
        return self._sr_unix is not None

    def wallclock(self, ext_timestamp: int) -> float | None:
        """UNIX time of ``ext_timestamp``, or None before the first Sender Report."""
        sr_unix = self._sr_unix
        if sr_unix is None:
            return None
        delta = (((ext_timestamp & 0xFFFFFFFF) - self._sr_rtp + 0x80000000) & 0xFFFFFFFF) - (
            0x80000000
        )
        return sr_unix + delta / self.clock_rate

    def reset(self) -> None:
        """Forget everything (a new session)."""
        self._last_ts = None
        self._last_ext = self._max_ext = 0
        self._sr_unix = None
        self._sr_rtp = 0
