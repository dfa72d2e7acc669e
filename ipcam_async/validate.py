"""Argument checkers shared by the API groups.

Every checker validates one caller argument against the spec's range or character set and
returns the (possibly normalised) value, or raises :class:`~ipcam_async.errors.InvalidArgument`
naming the argument and what the spec allows. They run before anything is sent, so a bad
argument never reaches the device.

Secrets (passwords) are never echoed back in the exception: pass ``secret=True``.
"""

from __future__ import annotations

import string
from collections.abc import Collection, Iterable

from .errors import InvalidArgument

__all__ = [
    "ALNUM",
    "check_alnum",
    "check_charset",
    "check_choice",
    "check_choices",
    "check_forbidden_chars",
    "check_int",
    "check_text",
]

#: Letters a-z, A-Z and digits 0-9: the spec's charset for user names and passwords (5.1.2).
ALNUM = frozenset(string.ascii_letters + string.digits)

_CONTROL = frozenset(chr(c) for c in range(0x20)) | {"\x7f"}


def _shown(value: object, secret: bool) -> object:
    return "<hidden>" if secret else value


def check_int(name: str, value: object, low: int, high: int) -> int:
    """Return ``value`` if it is an ``int`` (not a ``bool``) with ``low <= value <= high``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(name, f"an integer {low}..{high}", value)
    if not low <= value <= high:
        raise InvalidArgument(name, f"{low}..{high}", value)
    return value


def check_text(
    name: str,
    value: object,
    *,
    min_len: int = 1,
    max_len: int | None = None,
    secret: bool = False,
) -> str:
    """Return ``value`` if it is a ``str`` of ``min_len..max_len`` characters, no control character.

    Control characters (CR, LF, NUL...) are refused everywhere: they would corrupt a request
    line or a line-based answer.
    """
    if not isinstance(value, str):
        raise InvalidArgument(name, "a string", _shown(value, secret))
    if len(value) < min_len or (max_len is not None and len(value) > max_len):
        upper = "" if max_len is None else str(max_len)
        raise InvalidArgument(name, f"{min_len}..{upper} characters", _shown(value, secret))
    if any(ch in _CONTROL for ch in value):
        raise InvalidArgument(name, "no control characters", _shown(value, secret))
    return value


def check_charset(
    name: str,
    value: object,
    allowed: Collection[str],
    description: str,
    *,
    min_len: int = 1,
    max_len: int | None = None,
    secret: bool = False,
) -> str:
    """Return ``value`` if every character is in ``allowed``; ``description`` names the set."""
    text = check_text(name, value, min_len=min_len, max_len=max_len, secret=secret)
    bad = next((ch for ch in text if ch not in allowed), None)
    if bad is not None:
        raise InvalidArgument(name, description, _shown(value, secret))
    return text


def check_alnum(
    name: str, value: object, *, max_len: int | None = None, secret: bool = False
) -> str:
    """Return ``value`` if it is non-empty and made only of a-z, A-Z and 0-9 (spec 5.1.2)."""
    return check_charset(
        name, value, ALNUM, "characters a-z, A-Z, 0-9", max_len=max_len, secret=secret
    )


def check_forbidden_chars(
    name: str,
    value: object,
    forbidden: Collection[str],
    *,
    min_len: int = 1,
    max_len: int | None = None,
) -> str:
    """Return ``value`` if it holds none of the ``forbidden`` characters nor control ones."""
    text = check_text(name, value, min_len=min_len, max_len=max_len)
    if any(ch in forbidden for ch in text):
        listed = " ".join(repr(ch) for ch in sorted(forbidden))
        raise InvalidArgument(name, f"text without {listed}", value)
    return text


def check_choice(name: str, value: object, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices`` (compared exactly)."""
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise InvalidArgument(name, "one of " + ", ".join(options), value)
    return value


def check_choices(
    name: str, values: Iterable[object], choices: Iterable[str], *, unique: bool = True
) -> tuple[str, ...]:
    """Return ``values`` as a tuple if each is in ``choices`` (duplicates dropped, order kept)."""
    options = tuple(choices)
    if isinstance(values, str):
        # A bare string would be iterated per character: accept it as a single choice instead.
        values = (values,)
    seen: list[str] = []
    for value in values:
        checked = check_choice(name, value, options)
        if unique and checked in seen:
            continue
        seen.append(checked)
    return tuple(seen)
