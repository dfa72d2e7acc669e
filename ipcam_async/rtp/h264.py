"""H.264 over RTP (RFC 6184): Annex B helpers, SPS parsing, packetizer and depacketizer."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Iterable, Sequence

import attrs

from ..errors import InvalidArgument, ProtocolError
from .bits import BitReader, unescape_rbsp
from .clock import MediaClock
from .depacketizer import DepacketizerBase, DepacketizerStats
from .frames import AudioFrame, VideoFrame
from .packetizer import PacketizerBase

__all__ = [
    "NAL_FU_A",
    "NAL_FU_B",
    "NAL_IDR",
    "NAL_MTAP16",
    "NAL_MTAP24",
    "NAL_PPS",
    "NAL_SPS",
    "NAL_STAP_A",
    "NAL_STAP_B",
    "H264Depacketizer",
    "H264Packetizer",
    "H264Parameters",
    "SpsInfo",
    "annexb_from_nals",
    "parse_sprop_parameter_sets",
    "parse_sps",
    "split_annexb",
]

log = logging.getLogger(__name__)

NAL_SLICE = 1
NAL_IDR = 5
NAL_SEI = 6
NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9
NAL_STAP_A = 24
NAL_STAP_B = 25
NAL_MTAP16 = 26
NAL_MTAP24 = 27
NAL_FU_A = 28
NAL_FU_B = 29

START_CODE = b"\x00\x00\x00\x01"

# Profiles whose SPS carries chroma format, bit depths and scaling matrices (H.264 7.3.2.1.1).
_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})


def split_annexb(data: bytes | bytearray | memoryview) -> list[memoryview]:
    """Split an Annex B byte stream into NAL units (views into ``data``, start codes removed).

    Accepts 3- and 4-byte start codes; trailing zero bytes before a start code belong to the
    byte stream (``trailing_zero_8bits``), not to the NAL unit, and are dropped. Bytes before
    the first start code are ignored. Empty NAL units are skipped.
    """
    view = memoryview(data)
    raw = data if isinstance(data, bytes) else view.tobytes()
    nals: list[memoryview] = []
    pos = raw.find(b"\x00\x00\x01")
    while pos >= 0:
        start = pos + 3
        nxt = raw.find(b"\x00\x00\x01", start)
        end = len(raw) if nxt < 0 else nxt
        while end > start and raw[end - 1] == 0:
            end -= 1
        if end > start:
            nals.append(view[start:end])
        pos = nxt
    return nals


def annexb_from_nals(nals: Iterable[bytes | memoryview]) -> bytes:
    """Join NAL units into an Annex B stream with 4-byte start codes."""
    parts: list[bytes | memoryview] = []
    for nal in nals:
        parts.append(START_CODE)
        parts.append(nal)
    return b"".join(parts)


@attrs.frozen(slots=True)
class SpsInfo:
    """The fields of a sequence parameter set that a client needs."""

    profile_idc: int
    constraint_flags: int
    level_idc: int
    sps_id: int
    chroma_format_idc: int
    bit_depth_luma: int
    bit_depth_chroma: int
    width: int
    height: int
    frame_mbs_only: bool
    max_num_ref_frames: int
    fps: float | None

    @property
    def profile_level_id(self) -> str:
        """The six hex digits of SDP ``profile-level-id`` (profile, constraints, level)."""
        return f"{self.profile_idc:02X}{self.constraint_flags:02X}{self.level_idc:02X}"

    @property
    def codec_string(self) -> str:
        """RFC 6381 codec string such as ``avc1.4D0029``."""
        return f"avc1.{self.profile_level_id}"


def _skip_scaling_list(r: BitReader, size: int) -> None:
    last = 8
    nxt = 8
    for _ in range(size):
        if nxt != 0:
            delta = r.se()
            nxt = (last + delta + 256) % 256
        last = last if nxt == 0 else nxt


def parse_sps(sps: bytes | memoryview) -> SpsInfo:
    """Parse an SPS NAL unit (NAL header byte included) into :class:`SpsInfo`.

    Raises :class:`ProtocolError` when it is not an SPS or is truncated or inconsistent.
    """
    raw = bytes(sps)
    if len(raw) < 4 or raw[0] & 0x1F != NAL_SPS:
        raise ProtocolError("not an H.264 sequence parameter set")
    r = BitReader(unescape_rbsp(raw[1:]))
    profile_idc = r.u(8)
    constraint_flags = r.u(8)
    level_idc = r.u(8)
    sps_id = r.ue()
    if sps_id > 31:
        raise ProtocolError(f"SPS id {sps_id} out of range")
    chroma_format_idc = 1
    separate_colour_plane = False
    bit_depth_luma = bit_depth_chroma = 8
    if profile_idc in _HIGH_PROFILES:
        chroma_format_idc = r.ue()
        if chroma_format_idc > 3:
            raise ProtocolError(f"chroma_format_idc {chroma_format_idc} out of range")
        if chroma_format_idc == 3:
            separate_colour_plane = r.flag()
        bit_depth_luma = r.ue() + 8
        bit_depth_chroma = r.ue() + 8
        r.u(1)  # qpprime_y_zero_transform_bypass_flag
        if r.flag():  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma_format_idc != 3 else 12):
                if r.flag():
                    _skip_scaling_list(r, 16 if i < 6 else 64)
    r.ue()  # log2_max_frame_num_minus4
    poc_type = r.ue()
    if poc_type == 0:
        r.ue()  # log2_max_pic_order_cnt_lsb_minus4
    elif poc_type == 1:
        r.u(1)
        r.se()
        r.se()
        cycle = r.ue()
        if cycle > 255:
            raise ProtocolError("num_ref_frames_in_pic_order_cnt_cycle out of range")
        for _ in range(cycle):
            r.se()
    elif poc_type != 2:
        raise ProtocolError(f"pic_order_cnt_type {poc_type} out of range")
    max_num_ref_frames = r.ue()
    r.u(1)  # gaps_in_frame_num_value_allowed_flag
    width_mbs = r.ue() + 1
    height_map_units = r.ue() + 1
    frame_mbs_only = r.flag()
    if not frame_mbs_only:
        r.u(1)  # mb_adaptive_frame_field_flag
    r.u(1)  # direct_8x8_inference_flag
    crop_left = crop_right = crop_top = crop_bottom = 0
    if r.flag():
        crop_left, crop_right, crop_top, crop_bottom = r.ue(), r.ue(), r.ue(), r.ue()
    chroma_array_type = 0 if separate_colour_plane else chroma_format_idc
    if chroma_array_type == 0:
        crop_x, crop_y = 1, 2 - frame_mbs_only
    else:
        sub_w = 1 if chroma_format_idc == 3 else 2
        sub_h = 2 if chroma_format_idc == 1 else 1
        crop_x, crop_y = sub_w, sub_h * (2 - frame_mbs_only)
    width = width_mbs * 16 - crop_x * (crop_left + crop_right)
    height = (2 - frame_mbs_only) * height_map_units * 16 - crop_y * (crop_top + crop_bottom)
    if width <= 0 or height <= 0 or width > 16384 or height > 16384:
        raise ProtocolError(f"SPS describes an impossible picture size {width}x{height}")
    fps = _parse_vui_fps(r)
    return SpsInfo(
        profile_idc=profile_idc,
        constraint_flags=constraint_flags,
        level_idc=level_idc,
        sps_id=sps_id,
        chroma_format_idc=chroma_format_idc,
        bit_depth_luma=bit_depth_luma,
        bit_depth_chroma=bit_depth_chroma,
        width=width,
        height=height,
        frame_mbs_only=frame_mbs_only,
        max_num_ref_frames=max_num_ref_frames,
        fps=fps,
    )


def _parse_vui_fps(r: BitReader) -> float | None:
    """Frame rate from the VUI timing info, when present; None when absent or unreadable."""
    try:
        if not r.flag():  # vui_parameters_present_flag
            return None
        if r.flag() and r.u(8) == 255:  # aspect_ratio_info_present_flag, Extended_SAR
            r.u(32)
        if r.flag():  # overscan_info_present_flag
            r.u(1)
        if r.flag():  # video_signal_type_present_flag
            r.u(4)
            if r.flag():
                r.u(24)
        if r.flag():  # chroma_loc_info_present_flag
            r.ue()
            r.ue()
        if not r.flag():  # timing_info_present_flag
            return None
        num_units = r.u(32)
        time_scale = r.u(32)
    except ProtocolError:
        return None
    if num_units == 0 or time_scale == 0:
        return None
    return time_scale / (2 * num_units)


def parse_sprop_parameter_sets(value: str) -> list[bytes]:
    """Decode SDP ``sprop-parameter-sets`` (comma-separated base64 NAL units).

    Tolerates whitespace and missing base64 padding; raises :class:`ProtocolError` on garbage.
    """
    nals: list[bytes] = []
    for item in value.split(","):
        text = "".join(item.split())
        if not text:
            continue
        text += "=" * (-len(text) % 4)
        try:
            nal = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ProtocolError("sprop-parameter-sets is not valid base64") from exc
        if nal:
            nals.append(nal)
    return nals


@attrs.frozen(slots=True)
class H264Parameters:
    """The stream's current SPS and PPS and what the SPS says."""

    sps: bytes
    pps: bytes
    width: int
    height: int
    profile: int
    level: int
    info: SpsInfo

    @classmethod
    def from_nals(cls, sps: bytes, pps: bytes) -> H264Parameters:
        """Build from one SPS and one PPS NAL unit; :class:`ProtocolError` if the SPS is bad."""
        info = parse_sps(sps)
        return cls(
            sps=sps,
            pps=pps,
            width=info.width,
            height=info.height,
            profile=info.profile_idc,
            level=info.level_idc,
            info=info,
        )

    @property
    def codec_string(self) -> str:
        """RFC 6381 codec string such as ``avc1.4D0029``."""
        return self.info.codec_string

    def avc_decoder_configuration(self) -> bytes:
        """The ``avcC`` box payload (ISO/IEC 14496-15 AVCDecoderConfigurationRecord)."""
        out = bytearray(
            (1, self.sps[1], self.sps[2], self.sps[3], 0xFF, 0xE1)
        )  # version, profile, compat, level, 4-byte lengths, 1 SPS
        out += len(self.sps).to_bytes(2, "big") + self.sps
        out += b"\x01" + len(self.pps).to_bytes(2, "big") + self.pps
        if self.profile in _HIGH_PROFILES:
            info = self.info
            out += bytes(
                (
                    0xFC | info.chroma_format_idc,
                    0xF8 | (info.bit_depth_luma - 8),
                    0xF8 | (info.bit_depth_chroma - 8),
                    0,
                )
            )
        return bytes(out)


class H264Packetizer(PacketizerBase):
    """Turn H.264 access units into RTP packets (RFC 6184 packetization-mode 1).

    NAL units that fit go out as single NAL unit packets, consecutive small ones are
    aggregated into STAP-A (``aggregate=True``), large ones are fragmented into FU-A.
    ``mtu`` bounds the whole RTP packet (12-byte header included). The last packet of an
    access unit carries the marker bit.
    """

    __slots__ = ("aggregate",)

    def __init__(
        self,
        payload_type: int = 99,
        ssrc: int | None = None,
        mtu: int = 1400,
        seq: int | None = None,
        *,
        aggregate: bool = True,
    ) -> None:
        super().__init__(payload_type=payload_type, ssrc=ssrc, mtu=mtu, seq=seq)
        self.aggregate = aggregate

    def packetize(self, access_unit_annexb: bytes | memoryview, timestamp: int) -> list[bytes]:
        """Packetize one access unit given as Annex B bytes; all packets share ``timestamp``."""
        return self.packetize_nals(split_annexb(access_unit_annexb), timestamp)

    def packetize_nals(
        self, nals: Sequence[bytes | memoryview], timestamp: int, *, marker: bool = True
    ) -> list[bytes]:
        """Packetize one access unit given as NAL units (no start codes).

        ``marker=False`` leaves the marker bit clear on the last packet (to imitate cameras
        that omit it).
        """
        if not nals:
            raise InvalidArgument("access_unit", "at least one NAL unit", 0)
        budget = self.mtu - 12
        payloads: list[bytes] = []
        i = 0
        count = len(nals)
        while i < count:
            nal = nals[i]
            size = len(nal)
            if size == 0:
                i += 1
                continue
            if size > budget:
                payloads.extend(self._fragment(nal, budget))
                i += 1
                continue
            if self.aggregate:
                j = i
                total = 1
                while j < count and len(nals[j]) > 0 and total + 2 + len(nals[j]) <= budget:
                    total += 2 + len(nals[j])
                    j += 1
                if j - i >= 2:
                    payloads.append(self._stap_a(nals[i:j]))
                    i = j
                    continue
            payloads.append(bytes(nal))
            i += 1
        last = len(payloads) - 1
        packets = [
            self._header(marker and k == last, timestamp) + p for k, p in enumerate(payloads)
        ]
        return self._account(packets)

    @staticmethod
    def _stap_a(nals: Sequence[bytes | memoryview]) -> bytes:
        f = 0
        nri = 0
        parts: list[bytes | memoryview] = [b""]
        for nal in nals:
            f |= nal[0] & 0x80
            nri = max(nri, nal[0] & 0x60)
            parts.append(len(nal).to_bytes(2, "big"))
            parts.append(nal)
        parts[0] = bytes((f | nri | NAL_STAP_A,))
        return b"".join(parts)

    @staticmethod
    def _fragment(nal: bytes | memoryview, budget: int) -> list[bytes]:
        header = nal[0]
        indicator = bytes(((header & 0xE0) | NAL_FU_A,))
        nal_type = header & 0x1F
        body = memoryview(nal)[1:]
        chunk = budget - 2
        out: list[bytes] = []
        total = len(body)
        for off in range(0, total, chunk):
            fu = nal_type
            if off == 0:
                fu |= 0x80
            if off + chunk >= total:
                fu |= 0x40
            out.append(b"".join((indicator, bytes((fu,)), body[off : off + chunk])))
        return out


_BYTES = [bytes((i,)) for i in range(256)]


class H264Depacketizer(DepacketizerBase):
    """Rebuild H.264 access units from RTP packets in sequence order (RFC 6184).

    Handles single NAL unit packets, STAP-A and FU-A. An access unit ends at the marker bit,
    or when the RTP timestamp changes (cameras that never set the marker). STAP-B, MTAP16,
    MTAP24 and FU-B (interleaved mode) are refused: the packet is counted in
    ``stats.unsupported_packets`` and its access unit dropped. NAL types 0, 30 and 31 are
    ignored as RFC 6184 asks.

    ``push(packet, lost, out)`` appends finished :class:`VideoFrame` objects to ``out``;
    ``lost`` says packets are missing right before this one. An access unit that lost a
    packet, holds a fragment that never ended, or grows past ``max_frame_size`` is dropped
    and counted in ``stats.dropped_frames``; with ``drop_until_keyframe`` every access unit
    up to the next IDR is dropped too. The next frame handed out carries ``lost=True``.

    SPS and PPS known from ``sprop-parameter-sets`` (or seen in-band) are put in front of
    an IDR access unit that lacks them when the decoder has not been given them yet: the
    first IDR, and after a parameter-set change or a dropped access unit that carried them.
    """

    __slots__ = (
        "_au_pps",
        "_au_sps",
        "_broken",
        "_fu_index",
        "_fu_open",
        "_keyframe",
        "_oversized",
        "_parts",
        "_pps",
        "_pps_sent",
        "_size",
        "_sps",
        "_sps_sent",
        "_ts",
        "_waiting",
        "avcc",
        "clock",
        "drop_until_keyframe",
        "max_frame_size",
        "parameters",
        "stats",
        "track",
        "writev",
    )

    codec = "H264"

    def __init__(
        self,
        *,
        clock: MediaClock,
        track: int = 0,
        sprop: Sequence[bytes] = (),
        output: str = "annexb",
        writev: bool = False,
        drop_until_keyframe: bool = False,
        max_frame_size: int = 8 << 20,
    ) -> None:
        if output not in ("annexb", "avcc"):
            raise InvalidArgument("output", "'annexb' or 'avcc'", output)
        self.clock = clock
        self.track = track
        self.avcc = output == "avcc"
        self.writev = writev
        self.drop_until_keyframe = drop_until_keyframe
        self.max_frame_size = max_frame_size
        self.stats = DepacketizerStats()
        self.parameters: H264Parameters | None = None
        self._sps: bytes | None = None
        self._pps: bytes | None = None
        self._sps_sent = False
        self._pps_sent = False
        self._pending_loss = False
        self._waiting = drop_until_keyframe
        self._new_au(None)
        self.set_parameter_sets(sprop)

    def set_parameter_sets(self, nals: Sequence[bytes]) -> None:
        """Adopt SPS/PPS NAL units (from ``sprop-parameter-sets``); other NAL types are ignored."""
        for nal in nals:
            if nal:
                self._param_nal(bytes(nal))

    def _param_nal(self, nal: bytes) -> None:
        kind = nal[0] & 0x1F
        if kind == NAL_SPS:
            if nal != self._sps:
                self._sps = nal
                self._sps_sent = False
                self._update_parameters()
        elif kind == NAL_PPS and nal != self._pps:
            self._pps = nal
            self._pps_sent = False
            self._update_parameters()

    def _update_parameters(self) -> None:
        if self._sps is None or self._pps is None:
            return
        try:
            self.parameters = H264Parameters.from_nals(self._sps, self._pps)
        except ProtocolError as exc:
            log.warning("H.264 track %d: unreadable SPS (%s)", self.track, exc)

    def _new_au(self, ts: int | None) -> None:
        self._ts = ts
        self._parts: list[bytes | memoryview] = []
        self._size = 0
        self._broken = False
        self._keyframe = False
        self._au_sps = False
        self._au_pps = False
        self._fu_open = False
        self._fu_index = 0
        self._oversized = False

    @property
    def buffered(self) -> int:
        """Bytes of payload held for the access unit being assembled."""
        return sum(len(p) for p in self._parts)

    def reset(self) -> None:
        """Drop any partial access unit (a new source or session starts).

        The next frame handed out carries ``lost=True``.
        """
        if self._parts:
            self._drop()
        self._pending_loss = True
        self._new_au(None)
        self._sps_sent = False
        self._pps_sent = False
        self._waiting = self.drop_until_keyframe

    def flush(self, out: list[VideoFrame | AudioFrame]) -> None:
        """Hand out the access unit still open (end of stream, when no marker closed it)."""
        if self._parts:
            self._finish(out)

    def push_payload(
        self,
        buf: memoryview,
        start: int,
        ts: int,
        marker: bool,
        lost: bool,
        out: list[VideoFrame | AudioFrame],
    ) -> None:
        """:meth:`push` for an already split packet: the payload is ``buf[start:]``."""
        if lost:
            # the missing packets belong to the open access unit or to the one this packet
            # belongs to; both are unusable
            self._broken = True
            self._pending_loss = True
        if ts != self._ts:
            if self._parts:
                self._finish(out)
            self._new_au(ts)
            self._broken = lost
        n = len(buf) - start
        # hot path: the middle or end of a fragmented NAL unit (most packets of a video stream)
        if self._fu_open and n > 2 and buf[start] & 0x1F == 28 and not buf[start + 1] & 0x80:
            self._parts.append(buf[start + 2 :])
            size = self._size + n
            self._size = size
            if size > self.max_frame_size:
                self._oversize()
            elif buf[start + 1] & 0x40:
                self._fu_end(buf[start + 1] & 0x1F)
        elif n <= 0:
            self.stats.malformed_packets += 1
            self._broken = True
        else:
            payload = buf[start:] if start else buf
            kind = payload[0] & 0x1F
            if kind == NAL_FU_A:
                self._fu_a(payload, n)
            elif 0 < kind < 24:
                self._nal(payload, kind)
            elif kind == NAL_STAP_A:
                self._stap_a(payload, n)
            elif kind in (NAL_STAP_B, NAL_MTAP16, NAL_MTAP24, NAL_FU_B):
                self.stats.unsupported_packets += 1
                self._broken = True
            else:
                self.stats.ignored_packets += 1
        if marker:
            self._finish(out)

    def _nal(self, nal: memoryview, kind: int) -> None:
        if self._fu_open:
            self._fu_abort()
        size = len(nal)
        self._size += size + 4
        if self._size > self.max_frame_size:
            self._oversize()
            return
        if kind == NAL_IDR:
            self._keyframe = True
        elif kind in (NAL_SPS, NAL_PPS):
            if kind == NAL_SPS:
                self._au_sps = True
            else:
                self._au_pps = True
            self._param_nal(bytes(nal))
        parts = self._parts
        parts.append(size.to_bytes(4, "big") if self.avcc else START_CODE)
        parts.append(nal)

    def _stap_a(self, payload: memoryview, n: int) -> None:
        pos = 1
        if n < 3:
            self.stats.malformed_packets += 1
            self._broken = True
            return
        while pos < n:
            if pos + 2 > n:
                self.stats.malformed_packets += 1
                self._broken = True
                return
            size = (payload[pos] << 8) | payload[pos + 1]
            pos += 2
            end = pos + size
            if size == 0 or end > n:
                self.stats.malformed_packets += 1
                self._broken = True
                return
            kind = payload[pos] & 0x1F
            if 0 < kind < 24:
                self._nal(payload[pos:end], kind)
            else:
                self.stats.malformed_packets += 1
                self._broken = True
            pos = end

    def _fu_a(self, payload: memoryview, n: int) -> None:
        if n < 3:
            self.stats.malformed_packets += 1
            self._broken = True
            return
        fu = payload[1]
        if not fu & 0x80:
            # continuation of a fragment whose start was lost
            self._broken = True
            return
        if self._fu_open:
            self._fu_abort()
        kind = fu & 0x1F
        if kind == 0 or kind > 23:
            self.stats.malformed_packets += 1
            self._broken = True
            return
        parts = self._parts
        self._fu_open = True
        self._fu_index = len(parts)
        parts.append(START_CODE)
        parts.append(_BYTES[(payload[0] & 0xE0) | kind])
        parts.append(payload[2:])
        if kind == NAL_IDR:
            self._keyframe = True
        self._size += n + 3
        if self._size > self.max_frame_size:
            self._oversize()
        elif fu & 0x40:
            self._fu_end(kind)

    def _fu_end(self, kind: int) -> None:
        self._fu_open = False
        index = self._fu_index
        parts = self._parts
        if self.avcc:
            size = sum(len(p) for p in parts[index + 1 :])
            parts[index] = size.to_bytes(4, "big")
        if kind in (NAL_SPS, NAL_PPS):
            nal = b"".join(parts[index + 1 :])
            if kind == NAL_SPS:
                self._au_sps = True
            else:
                self._au_pps = True
            self._param_nal(nal)

    def _fu_abort(self) -> None:
        # a fragmented NAL unit never got its end bit: the access unit is broken
        del self._parts[self._fu_index :]
        self._fu_open = False
        self._broken = True

    def _oversize(self) -> None:
        if not self._oversized:
            self._oversized = True
            self.stats.oversize_frames += 1
            log.warning(
                "H.264 track %d: access unit larger than %d bytes dropped",
                self.track,
                self.max_frame_size,
            )
        self._parts = []
        self._fu_open = False
        self._size = 0
        self._broken = True

    def _drop(self) -> None:
        self.stats.dropped_frames += 1
        self._pending_loss = True
        if self._au_sps:
            self._sps_sent = False
        if self._au_pps:
            self._pps_sent = False
        if self.drop_until_keyframe:
            self._waiting = True

    def _finish(self, out: list[VideoFrame | AudioFrame]) -> None:
        parts = self._parts
        if self._fu_open:
            self._fu_abort()
        if self._broken or not parts:
            if parts or self._broken:
                self._drop()
            self._new_au(self._ts)
            return
        keyframe = self._keyframe
        if self._waiting:
            if not keyframe:
                self.stats.waiting_keyframe_drops += 1
                self.stats.dropped_frames += 1
                self._pending_loss = True
                self._new_au(self._ts)
                return
            self._waiting = False
        if self._au_sps:
            self._sps_sent = True
        if self._au_pps:
            self._pps_sent = True
        if keyframe and not (self._sps_sent and self._pps_sent):
            head: list[bytes | memoryview] = []
            if not self._au_sps and self._sps is not None:
                head += (self._prefix(self._sps), self._sps)
            if not self._au_pps and self._pps is not None:
                head += (self._prefix(self._pps), self._pps)
            if head:
                parts = head + parts
            self._sps_sent = self._sps is not None
            self._pps_sent = self._pps is not None
        ts = self._ts
        assert ts is not None
        params = self.parameters
        width, height = (None, None) if params is None else (params.width, params.height)
        self._emit_video("H264", parts, ts, keyframe, width, height, out)
        self._new_au(ts)

    def _prefix(self, nal: bytes) -> bytes:
        return len(nal).to_bytes(4, "big") if self.avcc else START_CODE
