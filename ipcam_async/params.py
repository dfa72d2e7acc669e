"""Parameter lists of ``param.cgi`` (spec 5.1.1.3): a sans-io parser and :class:`ParamTree`.

The parser takes the response body (bytes or text) and returns the ``name=value`` pairs; it
accepts ``\\n`` and ``\\r\\n`` line ends, blank lines and ``=`` inside values, collects
``# Error: ...`` lines separately, and raises :class:`~ipcam_async.errors.ProtocolError` for
anything else that is not a ``name=value`` line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Final

import attrs

from .errors import ProtocolError

__all__ = [
    "ParamList",
    "ParamTree",
    "is_param_name",
    "param_float",
    "param_int",
    "parse_param_list",
    "strip_root",
]

_NAME: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_][A-Za-z0-9_\-]*)*\Z")
#: Most lines a listing may have (a real device has a few thousand parameters).
MAX_PARAMS: Final = 100_000
_TRUE: Final = frozenset({"yes", "true", "on", "1", "enabled"})
_FALSE: Final = frozenset({"no", "false", "off", "0", "disabled"})


def strip_root(name: str) -> str:
    """``root.Network.IPAddress`` → ``Network.IPAddress`` (other names unchanged)."""
    return name[5:] if name.startswith("root.") else name


def _not_a(key: str, kind: str, value: str) -> ProtocolError:
    return ProtocolError(f"parameter {key} is not {kind}: {value[:40]!r}")


def param_int(key: str, value: str) -> int:
    """Parameter ``key``'s ``value`` as an int (:class:`ProtocolError` naming ``key`` if not)."""
    try:
        return int(value.strip())
    except ValueError:
        raise _not_a(key, "an integer", value) from None


def param_float(key: str, value: str) -> float:
    """Parameter ``key``'s ``value`` as a float (:class:`ProtocolError` naming ``key`` if not)."""
    try:
        return float(value.strip())
    except ValueError:
        raise _not_a(key, "a number", value) from None


def is_param_name(name: str) -> bool:
    """Whether ``name`` is a dotted parameter or group name (``root.`` allowed)."""
    return bool(_NAME.match(strip_root(name)))


@attrs.frozen
class ParamList:
    """Result of :func:`parse_param_list`: pairs in order (names without ``root.``), errors."""

    pairs: tuple[tuple[str, str], ...]
    errors: tuple[str, ...] = ()


def parse_param_list(data: bytes | str) -> ParamList:
    """Parse a ``param.cgi`` listing.  Raises :class:`ProtocolError` on a malformed line."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    else:
        text = data
    pairs: list[tuple[str, str]] = []
    errors: list[str] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if not line.strip():
            continue
        stripped = line.strip()
        if stripped.startswith("#"):
            body = stripped[1:].strip()
            if body.startswith("Error:"):
                errors.append(body[len("Error:") :].strip())
                continue
            raise ProtocolError(f"line {number}: unexpected comment in parameter list")
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep:
            raise ProtocolError(f"line {number}: no '=' in parameter line")
        if not _NAME.match(name):
            raise ProtocolError(f"line {number}: malformed parameter name {name[:80]!r}")
        if len(pairs) >= MAX_PARAMS:
            raise ProtocolError(f"parameter list longer than {MAX_PARAMS} lines")
        pairs.append((strip_root(name), value))
    return ParamList(tuple(pairs), tuple(errors))


class ParamTree(Mapping[str, str]):
    """Parameters as a read-only mapping of full names (``Network.IPAddress``).

    Lookups accept names with or without ``root.``.  :meth:`group` returns a view of one group
    whose keys are relative (``tree.group("Network")["IPAddress"]``).  Typed getters convert the
    device's text (``get_int``, ``get_float``, ``get_bool``, ``get_list``).
    """

    __slots__ = ("_prefix", "_values")

    def __init__(
        self, pairs: Iterable[tuple[str, str]] | Mapping[str, str] = (), *, _prefix: str = ""
    ) -> None:
        items = pairs.items() if isinstance(pairs, Mapping) else pairs
        self._values: dict[str, str] = {strip_root(k): v for k, v in items}
        self._prefix = _prefix

    @property
    def prefix(self) -> str:
        """The group this view shows (``""`` for the whole tree, else e.g. ``"Network."``)."""
        return self._prefix

    def _key(self, name: str) -> str:
        return self._prefix + (strip_root(name) if not self._prefix else name)

    def __getitem__(self, name: str) -> str:
        return self._values[self._key(name)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._key(name) in self._values

    def __iter__(self) -> Iterator[str]:
        size = len(self._prefix)
        return (k[size:] for k in self._values if k.startswith(self._prefix))

    def __len__(self) -> int:
        if not self._prefix:
            return len(self._values)
        return sum(1 for k in self._values if k.startswith(self._prefix))

    def __repr__(self) -> str:
        where = f" {self._prefix.rstrip('.')}" if self._prefix else ""
        return f"<ParamTree{where} {len(self)} parameters>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def group(self, name: str) -> ParamTree:
        """A view of group ``name`` (e.g. ``"ImageSource.I0"``) with relative keys.

        Raises :class:`KeyError` when no parameter lies in that group.
        """
        view = ParamTree((), _prefix=self._key(name).rstrip(".") + ".")
        view._values = self._values
        if not len(view):
            raise KeyError(name)
        return view

    def groups(self) -> list[str]:
        """Names of the direct sub-groups, in order (``["Network", "Event", ...]``)."""
        seen: dict[str, None] = {}
        for key in self:
            head, dot, _ = key.partition(".")
            if dot:
                seen.setdefault(head, None)
        return list(seen)

    def to_dict(self) -> dict[str, str]:
        """A plain ``dict`` of this tree or view (keys as iterated)."""
        return dict(self.items())

    def get_int(self, name: str, default: int | None = None) -> int | None:
        """``name`` as an integer, ``default`` when missing."""
        if name not in self:
            return default
        return param_int(self._key(name), self[name])

    def get_float(self, name: str, default: float | None = None) -> float | None:
        """``name`` as a float, ``default`` when missing."""
        if name not in self:
            return default
        return param_float(self._key(name), self[name])

    def get_bool(self, name: str, default: bool | None = None) -> bool | None:
        """``name`` as a bool (yes/no, true/false, on/off, 1/0), ``default`` when missing."""
        if name not in self:
            return default
        value = self[name]
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise _not_a(self._key(name), "a yes/no value", value)

    def get_list(self, name: str, sep: str = ",") -> list[str]:
        """``name`` split on ``sep`` (empty list when missing or empty)."""
        value = self.get(name)
        if not value:
            return []
        return [part.strip() for part in value.split(sep) if part.strip()]
