"""Helpers that keep credentials out of logs, reprs and exception messages."""

from __future__ import annotations

import re

from yarl import URL

__all__ = ["check_header_value", "redact_headers", "redact_url"]

_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "www-authenticate"})
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]*@")


def redact_url(url: str | URL) -> str:
    """Return ``url`` as text with any ``user:password@`` part replaced by ``***@``."""
    text = str(url)
    return _USERINFO.sub(r"\g<scheme>***@", text)


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """Return a copy of ``headers`` with authentication headers masked."""
    return {k: ("***" if k.lower() in _SECRET_HEADERS else v) for k, v in headers.items()}


def check_header_value(name: str, value: str) -> str:
    """Refuse CR, LF and NUL in anything that goes into a request line or header.

    Raises :class:`~ipcam_async.errors.InvalidArgument` (the value itself is not echoed,
    it may be a secret).
    """
    if "\r" in value or "\n" in value or "\x00" in value:
        from .errors import InvalidArgument

        raise InvalidArgument(name, "no CR, LF or NUL characters", "<refused>")
    return value
