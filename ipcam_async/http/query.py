"""Query-string encoding as spec 5.1.1 asks for it.

Every character outside the RFC 3986 unreserved set (letters, digits, ``-._~``) is written as
``%XX`` of its UTF-8 bytes, so the spec's reserved characters ``; / ? : @ & = + , $`` and the
space (``My camera`` → ``My%20camera``) never reach the device raw.  A caller may keep some
characters literal through ``safe`` when the spec's own syntax needs them, e.g. ``:`` in
``sgrp=dido:camctrl`` or ``,`` in ``group=Motion,Motion1``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import quote, unquote

from ..errors import InvalidArgument

__all__ = ["decode_query", "encode_query", "encode_value"]

# Characters that structure the query itself: letting them through raw would change its meaning.
_NEVER_SAFE = frozenset("&=#%+ \t\r\n\x00")
# Refused in any name or value even though they could be percent-encoded: the camera decodes the
# query and stores values in line-based lists (param.cgi, pwdgrp.cgi), where a CR or LF would
# inject a line of its own.
_LINE_BREAKING = frozenset("\r\n\x00")


def _check_safe(safe: str) -> None:
    bad = _NEVER_SAFE.intersection(safe)
    if bad:
        raise InvalidArgument("safe", "characters other than & = # % + and whitespace", safe)


def _check_text(text: str, what: str) -> str:
    if not _LINE_BREAKING.isdisjoint(text):
        # The value is not echoed: it may be a password.
        raise InvalidArgument(what, "no CR, LF or NUL characters", "<refused>")
    return text


def encode_value(text: str, *, safe: str = "") -> str:
    """Percent-encode one parameter name or value (spec 5.1.1), keeping ``safe`` characters.

    A pure encoder (CR and LF become ``%0D%0A``); requests are built with :func:`encode_query`,
    which refuses them.
    """
    _check_safe(safe)
    return quote(text, safe=safe, encoding="utf-8", errors="strict")


def encode_query(params: Iterable[tuple[str, str]] | Mapping[str, str], *, safe: str = "") -> str:
    """Build ``name=value&name=value`` with every reserved character percent-encoded.

    The order of ``params`` is kept (cameras care: ``action`` first) and repeated names are
    allowed (``group=Event&group=Network``).  The result has no leading ``?``.  A CR, LF or NUL
    in a name or value raises :class:`InvalidArgument` naming the parameter.
    """
    _check_safe(safe)
    if isinstance(params, Mapping):
        params = params.items()
    parts = []
    for name, value in params:
        key = _check_text(str(name), "query parameter name")
        text = _check_text(str(value), key)
        parts.append(f"{quote(key, safe=safe)}={quote(text, safe=safe)}")
    return "&".join(parts)


def decode_query(query: str) -> list[tuple[str, str]]:
    """Split a raw query string into decoded pairs, keeping order and repeats.

    ``+`` is kept as a literal plus: the spec percent-encodes it (``%2B``) and never uses it for
    a space.  A part without ``=`` yields an empty value.
    """
    pairs: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((unquote(name, errors="replace"), unquote(value, errors="replace")))
    return pairs
