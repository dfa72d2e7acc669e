"""Tolerant SDP parser (RFC 4566) for the session descriptions cameras send in DESCRIBE responses.

Real cameras send missing ``o=`` lines, odd ``fmtp`` spacing, bogus ``sprop-parameter-sets`` and
unknown attributes; the parser keeps what it understands and ignores the rest, raising
:class:`~ipcam_async.errors.ProtocolError` only for input that cannot be an SDP at all.
Also here: base-URL selection from DESCRIBE headers and ``a=control`` resolution.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Mapping

import attrs
from yarl import URL

from ..errors import ProtocolError

__all__ = [
    "STATIC_PAYLOAD_TYPES",
    "ConnectionInfo",
    "MediaDescription",
    "RtpMap",
    "SessionDescription",
    "base_url",
    "parse_fmtp",
    "parse_sdp",
    "parse_sprop_parameter_sets",
    "resolve_control",
    "sanitize_h264_fmtp",
]

log = logging.getLogger(__name__)

MAX_SDP_BYTES = 256 * 1024
MAX_MEDIA = 32
MAX_ATTRIBUTES = 1024


@attrs.frozen(slots=True)
class RtpMap:
    """``a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]``."""

    payload_type: int
    encoding: str
    clock_rate: int
    channels: int | None = None


# RFC 3551 static payload types that cameras commonly use without an rtpmap line.
STATIC_PAYLOAD_TYPES: Mapping[int, RtpMap] = {
    0: RtpMap(0, "PCMU", 8000, 1),
    3: RtpMap(3, "GSM", 8000, 1),
    8: RtpMap(8, "PCMA", 8000, 1),
    14: RtpMap(14, "MPA", 90000, None),
    26: RtpMap(26, "JPEG", 90000, None),
    32: RtpMap(32, "MPV", 90000, None),
    33: RtpMap(33, "MP2T", 90000, None),
}


@attrs.frozen(slots=True)
class ConnectionInfo:
    """``c=<nettype> <addrtype> <address>[/ttl][/count]``."""

    net_type: str
    address_type: str
    address: str
    ttl: int | None = None


@attrs.frozen(slots=True)
class MediaDescription:
    """One ``m=`` section."""

    media: str
    port: int
    proto: str
    formats: tuple[str, ...]
    rtpmaps: Mapping[int, RtpMap]
    fmtps: Mapping[int, Mapping[str, str]]
    control: str | None
    connection: ConnectionInfo | None
    attributes: tuple[tuple[str, str | None], ...]
    bandwidth: Mapping[str, int]
    framerate: float | None = None
    cliprect: tuple[int, int, int, int] | None = None
    title: str | None = None

    @property
    def payload_types(self) -> tuple[int, ...]:
        """Numeric formats of the ``m=`` line, in preference order."""
        return tuple(int(f) for f in self.formats if f.isdigit() and int(f) < 128)

    @property
    def payload_type(self) -> int | None:
        """The first (preferred) payload type."""
        pts = self.payload_types
        return pts[0] if pts else None

    @property
    def rtpmap(self) -> RtpMap | None:
        """The rtpmap of the preferred payload type (static table when the SDP has none)."""
        pt = self.payload_type
        if pt is None:
            return None
        return self.rtpmaps.get(pt) or STATIC_PAYLOAD_TYPES.get(pt)

    @property
    def encoding(self) -> str | None:
        """Upper-case encoding name of the preferred payload type (``H264``, ``JPEG``, ``PCMU``)."""
        rtpmap = self.rtpmap
        return rtpmap.encoding.upper() if rtpmap is not None else None

    @property
    def clock_rate(self) -> int | None:
        """Clock rate of the preferred payload type."""
        rtpmap = self.rtpmap
        return rtpmap.clock_rate if rtpmap is not None else None

    @property
    def fmtp(self) -> Mapping[str, str]:
        """``fmtp`` parameters (keys lower-cased) of the preferred payload type."""
        pt = self.payload_type
        return self.fmtps.get(pt, {}) if pt is not None else {}

    def attribute(self, name: str) -> str | None:
        """Value of the first ``a=<name>`` attribute (``""`` for a flag), or None."""
        for key, value in self.attributes:
            if key == name:
                return value if value is not None else ""
        return None


@attrs.frozen(slots=True)
class SessionDescription:
    """A parsed SDP. ``unknown_lines`` counts lines that were skipped."""

    version: int | None
    origin: str | None
    session_name: str | None
    connection: ConnectionInfo | None
    attributes: tuple[tuple[str, str | None], ...]
    media: tuple[MediaDescription, ...]
    control: str | None = None
    range: str | None = None
    unknown_lines: int = 0
    raw: str = ""

    def attribute(self, name: str) -> str | None:
        """Value of the first session-level ``a=<name>`` attribute, or None."""
        for key, value in self.attributes:
            if key == name:
                return value if value is not None else ""
        return None

    def find(self, media: str) -> MediaDescription | None:
        """The first media section of kind ``media`` (``"video"``, ``"audio"``)."""
        return next((m for m in self.media if m.media == media), None)


_LINE = re.compile(r"^([a-z])\s*=\s?(.*)$")


def parse_sdp(data: bytes | str) -> SessionDescription:
    """Parse an SDP body. Raises :class:`ProtocolError` when it has no ``v=``/``m=``/``s=`` line."""
    if isinstance(data, bytes):
        if len(data) > MAX_SDP_BYTES:
            raise ProtocolError(f"SDP larger than {MAX_SDP_BYTES} bytes")
        text = data.decode("utf-8", errors="replace")
    else:
        if len(data) > MAX_SDP_BYTES:
            raise ProtocolError(f"SDP larger than {MAX_SDP_BYTES} bytes")
        text = data
    text = text.lstrip("\ufeff")
    session: dict[str, object] = {"attributes": []}
    sess_attrs: list[tuple[str, str | None]] = []
    media: list[dict[str, object]] = []
    unknown = 0
    seen_any = False
    for raw_line in re.split(r"\r\n|\r|\n", text):
        line = raw_line.strip()
        if not line:
            continue
        match = _LINE.match(line)
        if match is None:
            unknown += 1
            continue
        kind, value = match.group(1), match.group(2).strip()
        if kind in "vsm":
            seen_any = True
        if kind == "m":
            if len(media) >= MAX_MEDIA:
                raise ProtocolError(f"SDP has more than {MAX_MEDIA} media sections")
            parsed = _parse_m(value)
            if parsed is None:
                unknown += 1
                # Keep a placeholder so the following a= lines do not land on the previous media.
                media.append({"invalid": True, "attributes": []})
            else:
                media.append(parsed)
            continue
        target_attrs = media[-1]["attributes"] if media else sess_attrs
        assert isinstance(target_attrs, list)
        if kind == "a":
            if len(target_attrs) >= MAX_ATTRIBUTES:
                unknown += 1
                continue
            name, sep, attr_value = value.partition(":")
            target_attrs.append((name.strip(), attr_value.strip() if sep else None))
        elif kind == "c":
            conn = _parse_c(value)
            if conn is None:
                unknown += 1
            elif media:
                media[-1]["connection"] = conn
            else:
                session["connection"] = conn
        elif kind == "b":
            bw_type, _, bw_value = value.partition(":")
            if bw_value.strip().isdigit():
                target = media[-1] if media else session
                bw = target.setdefault("bandwidth", {})
                assert isinstance(bw, dict)
                bw[bw_type.strip().upper()] = int(bw_value.strip()[:12])
        elif media:
            if kind == "i":
                media[-1]["title"] = value
            # other media-level lines (k=) are not needed by a client
        elif kind == "v":
            session["version"] = int(value) if value.isdigit() and len(value) < 6 else None
        elif kind == "o":
            session["origin"] = value
        elif kind == "s":
            session["session_name"] = value
        elif kind not in "iuepztrk":
            unknown += 1
    if not seen_any:
        raise ProtocolError("not an SDP: no v=, s= or m= line")
    descriptions = tuple(_build_media(m) for m in media if not m.get("invalid"))
    sess_attr_tuple = tuple(sess_attrs)
    control = next((v if v is not None else "" for k, v in sess_attr_tuple if k == "control"), None)
    rng = next((v for k, v in sess_attr_tuple if k == "range" and v is not None), None)
    version = session.get("version")
    origin = session.get("origin")
    name = session.get("session_name")
    sess_conn = session.get("connection")
    return SessionDescription(
        version=version if isinstance(version, int) else None,
        origin=origin if isinstance(origin, str) else None,
        session_name=name if isinstance(name, str) else None,
        connection=sess_conn if isinstance(sess_conn, ConnectionInfo) else None,
        attributes=sess_attr_tuple,
        media=descriptions,
        control=control,
        range=rng,
        unknown_lines=unknown,
        raw=text,
    )


def _parse_m(value: str) -> dict[str, object] | None:
    parts = value.split()
    if len(parts) < 3:
        return None
    port_text = parts[1].partition("/")[0]
    if not port_text.isdigit() or len(port_text) > 5:
        return None
    return {
        "media": parts[0].lower(),
        "port": int(port_text),
        "proto": parts[2],
        "formats": tuple(parts[3:64]),
        "attributes": [],
    }


def _parse_c(value: str) -> ConnectionInfo | None:
    parts = value.split()
    if len(parts) != 3:
        return None
    address, _, rest = parts[2].partition("/")
    ttl_text = rest.partition("/")[0]
    ttl = int(ttl_text) if ttl_text.isdigit() and len(ttl_text) <= 3 else None
    return ConnectionInfo(parts[0], parts[1], address, ttl)


def _build_media(m: dict[str, object]) -> MediaDescription:
    attributes = m["attributes"]
    assert isinstance(attributes, list)
    rtpmaps: dict[int, RtpMap] = {}
    fmtps: dict[int, dict[str, str]] = {}
    control: str | None = None
    framerate: float | None = None
    cliprect: tuple[int, int, int, int] | None = None
    for name, value in attributes:
        if value is None:
            if name == "control":
                control = control if control is not None else ""
            continue
        if name == "rtpmap":
            parsed = _parse_rtpmap(value)
            if parsed is not None:
                rtpmaps.setdefault(parsed.payload_type, parsed)
        elif name == "fmtp":
            pt_text, _, params = value.partition(" ")
            pt_text = pt_text.strip()
            if pt_text.isdigit() and len(pt_text) <= 3:
                fmtps.setdefault(int(pt_text), dict(parse_fmtp(params)))
        elif name == "control" and control is None:
            control = value
        elif name in ("framerate", "x-framerate"):
            try:
                rate = float(value)
            except ValueError:
                continue
            if 0.0 < rate < 10000.0:
                framerate = rate
        elif name == "cliprect":
            nums = value.split(",")
            if len(nums) == 4 and all(n.strip().lstrip("-").isdigit() for n in nums):
                a, b, c, d = (int(n.strip()[:9]) for n in nums)
                cliprect = (a, b, c, d)
    formats = m["formats"]
    assert isinstance(formats, tuple)
    conn = m.get("connection")
    bandwidth = m.get("bandwidth", {})
    title = m.get("title")
    media, port, proto = m["media"], m["port"], m["proto"]
    assert isinstance(media, str) and isinstance(port, int) and isinstance(proto, str)
    assert isinstance(bandwidth, dict)
    return MediaDescription(
        media=media,
        port=port,
        proto=proto,
        formats=formats,
        rtpmaps=rtpmaps,
        fmtps=fmtps,
        control=control,
        connection=conn if isinstance(conn, ConnectionInfo) else None,
        attributes=tuple(attributes),
        bandwidth=bandwidth,
        framerate=framerate,
        cliprect=cliprect,
        title=title if isinstance(title, str) else None,
    )


def _parse_rtpmap(value: str) -> RtpMap | None:
    pt_text, _, rest = value.strip().partition(" ")
    if not pt_text.isdigit() or len(pt_text) > 3:
        return None
    pieces = rest.strip().split("/")
    if not pieces[0]:
        return None
    rate_text = pieces[1].strip() if len(pieces) > 1 else ""
    clock_rate = int(rate_text) if rate_text.isdigit() and len(rate_text) <= 9 else 0
    if clock_rate == 0:
        static = STATIC_PAYLOAD_TYPES.get(int(pt_text))
        clock_rate = static.clock_rate if static else 90000
    chan_text = pieces[2].strip() if len(pieces) > 2 else ""
    channels = int(chan_text) if chan_text.isdigit() and len(chan_text) <= 3 else None
    return RtpMap(int(pt_text), pieces[0].strip(), clock_rate, channels)


def parse_fmtp(params: str) -> list[tuple[str, str]]:
    """Split ``key=value; key2=value2`` tolerating spaces, empty values and trailing ``;``.

    Keys are lower-cased (RFC 6184 parameter names are case-insensitive); values keep their case.
    """
    out: list[tuple[str, str]] = []
    for item in params.split(";"):
        item = item.strip()
        if not item:
            continue
        key, _, value = item.partition("=")
        key = key.strip().lower()
        if key:
            out.append((key, value.strip()))
    return out


def parse_sprop_parameter_sets(value: str) -> list[bytes] | None:
    """Decode ``sprop-parameter-sets`` into raw NAL units, or None when it is unusable.

    Unusable means: not base64, empty, a NAL with the forbidden bit set, an Annex B start code in
    the decoded bytes, or no SPS (type 7) and PPS (type 8) among the units. The caller then relies
    on the parameter sets the camera sends in-band.
    """
    units: list[bytes] = []
    for piece in value.split(","):
        piece = piece.strip()
        if not piece:
            continue
        try:
            nal = base64.b64decode(piece + "=" * (-len(piece) % 4), validate=True)
        except (binascii.Error, ValueError):
            return None
        if not nal or nal[0] & 0x80:
            return None
        if nal.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01")):
            return None
        units.append(nal)
    types = {u[0] & 0x1F for u in units}
    if 7 not in types or 8 not in types:
        return None
    return units


def sanitize_h264_fmtp(fmtp: Mapping[str, str]) -> dict[str, str]:
    """Return ``fmtp`` without an unusable ``sprop-parameter-sets`` (fall back to in-band sets)."""
    out = dict(fmtp)
    sprop = out.get("sprop-parameter-sets")
    if sprop is not None and parse_sprop_parameter_sets(sprop) is None:
        log.info("ignoring unusable sprop-parameter-sets; relying on in-band SPS/PPS")
        del out["sprop-parameter-sets"]
    return out


def base_url(request_url: str, headers: Mapping[str, str]) -> str:
    """Base URL for relative ``a=control`` values (RFC 2326 C.1.1).

    ``Content-Base``, else ``Content-Location``, else the request URL. A base without a scheme
    (``host/path``, ``//host/path`` or ``/path``) is repaired from the request URL.
    """
    for name in ("Content-Base", "Content-Location"):
        value = headers.get(name)
        if value and value.strip():
            return _repair(request_url, value.strip())
    return request_url


def _repair(request_url: str, value: str) -> str:
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value):
        return value
    req = URL(request_url)
    scheme = req.scheme or "rtsp"
    if value.startswith("//"):
        return f"{scheme}:{value}"
    authority = req.raw_authority
    if value.startswith("/"):
        return f"{scheme}://{authority}{value}"
    return f"{scheme}://{value}"


def resolve_control(base: str, control: str | None) -> str:
    """URL for a control attribute: absolute as is; ``*``, empty or missing → ``base``.

    A relative value is appended to the base with one ``/`` (what cameras expect even when the
    base lacks the trailing slash); one starting with ``/`` replaces the base's path.
    """
    if control is None:
        return base
    control = control.strip()
    if not control or control == "*":
        return base
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", control):
        return control
    if control.startswith("/"):
        req = URL(base)
        return f"{req.scheme}://{req.raw_authority}{control}"
    if base.endswith("/"):
        return base + control
    return base + "/" + control
