"""``param.cgi`` (spec 5.1.1): list, options, update, add and remove camera parameters."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Final

from ..errors import InvalidArgument, ParameterError, ProtocolError
from ..http.query import encode_query
from ..params import ParamTree, is_param_name, parse_param_list, strip_root

if TYPE_CHECKING:
    from ..camera import Camera
    from ..http.transport import HttpResponse

__all__ = ["PARAM_PATH", "ParamValue", "ParamsApi", "format_value"]

PARAM_PATH: Final = "/cgi-bin/admin/param.cgi"
#: Longer queries go in a POST body (spec 3.1.3), which has no URL length limit.
_MAX_QUERY: Final = 1800
_ADDED: Final = re.compile(r"\s*([A-Za-z0-9_.\-]+)\s+OK\s*\Z")

ParamValue = str | int | float | bool


def format_value(value: object) -> str:
    """The device's text for ``value``: ``True`` → ``yes``, ``False`` → ``no``, numbers as text.

    Accepts the :data:`ParamValue` types; anything else raises :class:`InvalidArgument`.
    """
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    raise InvalidArgument("value", "str, int, float or bool", type(value).__name__)


def _check_name(name: str, what: str = "parameter name") -> str:
    if not isinstance(name, str) or not is_param_name(name):
        raise InvalidArgument(what, "dotted names of letters, digits, '_' and '-'", name)
    return strip_root(name)


def _pairs(
    values: Mapping[str, object] | Iterable[tuple[str, object]],
) -> list[tuple[str, str]]:
    items = values.items() if isinstance(values, Mapping) else values
    return [(_check_name(name), format_value(value)) for name, value in items]


class ParamsApi:
    """Camera parameters: ``await cam.params.list("Network")`` → :class:`ParamTree`."""

    def __init__(self, camera: Camera) -> None:
        self._camera = camera
        self._transport = camera.transport

    async def _call(self, pairs: list[tuple[str, str]]) -> HttpResponse:
        if len(encode_query(pairs)) <= _MAX_QUERY:
            return await self._transport.request("GET", PARAM_PATH, params=pairs)
        body = encode_query(pairs).encode("ascii")
        return await self._transport.request(
            "POST",
            PARAM_PATH,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    async def _listing(self, action: str, groups: tuple[str, ...]) -> ParamTree:
        pairs = [("action", action)] + [("group", _check_name(g, "group")) for g in groups]
        response = await self._call(pairs)
        parsed = parse_param_list(response.body)
        if parsed.errors:
            raise ParameterError(self._transport.scrub("; ".join(parsed.errors)))
        return ParamTree(parsed.pairs)

    async def list(self, *groups: str) -> ParamTree:
        """All parameters, or those of ``groups`` (``"Network"``, ``"ImageSource.I0.Sensor"``).

        Raises :class:`ParameterError` for an unknown group.
        """
        return await self._listing("list", groups)

    async def get(self, name: str) -> str:
        """The value of one parameter (``"Network.IPAddress"``)."""
        tree = await self.list(name)
        try:
            return tree[name]
        except KeyError:
            raise ProtocolError(f"the camera did not list {strip_root(name)}") from None

    async def options(self, *groups: str) -> dict[str, tuple[str, ...]]:
        """The allowed values of parameters that have fixed options (spec 5.1.1.2).

        Each value is the list the camera sent, split on ``,`` (a range stays one item,
        e.g. ``("0...100",)``).
        """
        tree = await self._listing("options", groups)
        return {name: tuple(v.strip() for v in value.split(",")) for name, value in tree.items()}

    async def update(
        self,
        values: Mapping[str, object] | Iterable[tuple[str, object]] = (),
        /,
        **kw: object,
    ) -> None:
        """Set parameters: ``update({"ImageSource.I0.Sensor.Exposure": "auto"})``.

        Values are percent-encoded as spec 5.1.1 asks (``My camera`` → ``My%20camera``).
        Raises :class:`ParameterError` when the camera refuses a name or value.
        """
        pairs = _pairs(values) + _pairs(kw)
        if not pairs:
            raise InvalidArgument("values", "at least one parameter", {})
        await self._call([("action", "update"), *pairs])

    async def add(
        self,
        group: str,
        values: Mapping[str, object] | Iterable[tuple[str, object]] = (),
    ) -> str:
        """Create a new child of ``group`` and return its full name (``"GuardTour.G1"``).

        ``values`` set parameters of the new child in the same request; give them relative
        (``add("GuardTour", {"Name": "Gate"})``, ``add("GuardTour.G1.Tour", {"PresetNbr": 3})``)
        or with the spec's template index (``{"GuardTour.G1.Tour.T.PresetNbr": 3}``).
        """
        group = _check_name(group, "group")
        leaf = group.rsplit(".", 1)[-1]
        template = f"{group}.{leaf[0].upper()}"
        pairs: list[tuple[str, str]] = [("action", "add"), ("group", group)]
        for name, value in _pairs(values):
            full = name if name.startswith(group + ".") else f"{template}.{name}"
            pairs.append((full, value))
        response = await self._call(pairs)
        match = _ADDED.match(response.text)
        if match is None:
            raise ProtocolError(f"unexpected answer to param.cgi add: {response.text[:80]!r}")
        child = match.group(1)
        return child if child.startswith(group + ".") else f"{group}.{child}"

    async def remove(self, group: str) -> None:
        """Remove a group created by :meth:`add` (``"GuardTour.G1"``)."""
        await self._call([("action", "remove"), ("group", _check_name(group, "group"))])
