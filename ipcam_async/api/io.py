"""Digital inputs and outputs (``input.cgi`` / ``output.cgi``, spec 5.4.1).

Reached as ``cam.io``::

    states = await cam.io.inputs(1, 2)        # PortStates: states[1] -> False, states[2] -> True
    await cam.io.set_output(1, True)          # output.cgi?action=1:/
    await cam.io.set_output(1, False)         # output.cgi?action=1:%5C  (decoded: 1:\\)

``check`` reports the line's level (1 or 0), ``checkactive`` whether it is in its active state.

Wire form of the action: ``:`` and ``/`` are the spec's own syntax and go literally, exactly as the
spec's example writes them (``action=1:/``); the backslash is an "unwise" character that RFC 2396
(section 2.4.3, which the spec cites) says must always be escaped, so it goes as ``%5C``
(``action=1:%5C``), which the camera decodes to ``1:\\``.  Sent raw it also breaks Digest
authentication: the request URI is repeated inside the quoted ``uri="..."`` of the
``Authorization`` header, where a backslash is an escape character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Literal

import attrs

from ..errors import InvalidArgument, ProtocolError
from ..validate import check_int

if TYPE_CHECKING:
    from ..camera import Camera

__all__ = [
    "INPUT_PATH",
    "MAX_PORTS",
    "OUTPUT_PATH",
    "IoApi",
    "PortStates",
    "build_check",
    "output_action",
    "parse_port_states",
]

INPUT_PATH = "/cgi-bin/io/input.cgi"
OUTPUT_PATH = "/cgi-bin/io/output.cgi"
#: Port numbers run 1..MAX_PORTS: the event data of 5.4.2 has room for 8 inputs and 8 outputs.
MAX_PORTS = 8
_MAX_ANSWER = 16 * 1024

PortKind = Literal["input", "output"]
Query = Literal["check", "checkactive"]


@attrs.frozen
class PortStates(Mapping[int, bool]):
    """The answer to ``check`` / ``checkactive``: port number → state, in the device's order.

    For ``check`` the state is the line's level (``True`` for 1); for ``checkactive`` it is
    ``True`` when the port is active.  Also a read-only mapping: ``states[1]``, ``dict(states)``.
    """

    kind: PortKind
    query: Query
    states: tuple[tuple[int, bool], ...]

    def __getitem__(self, port: int) -> bool:
        for number, state in self.states:
            if number == port:
                return state
        raise KeyError(port)

    def __iter__(self) -> Iterator[int]:
        return (number for number, _state in self.states)

    def __len__(self) -> int:
        return len(self.states)


def _ids(ports: Iterable[object]) -> tuple[int, ...]:
    """Port numbers 1..8, duplicates dropped, order kept."""
    seen: list[int] = []
    for port in ports:
        number = check_int("port", port, 1, MAX_PORTS)
        if number not in seen:
            seen.append(number)
    if not seen:
        raise InvalidArgument("ports", f"at least one port number 1..{MAX_PORTS}", ())
    return tuple(seen)


def build_check(query: Query, ports: Iterable[object]) -> list[tuple[str, str]]:
    """Query pairs of ``check=1,2`` / ``checkactive=1`` (send with ``safe=","``)."""
    return [(query, ",".join(str(p) for p in _ids(ports)))]


def output_action(port: int, active: bool) -> str:
    """The ``action`` value: ``<id>:/`` to activate, ``<id>:\\`` to deactivate."""
    number = check_int("port", port, 1, MAX_PORTS)
    return f"{number}:{'/' if active else chr(92)}"


_LINE = re.compile(r"(?i)(input|output)\s*(\d{1,3})\s*=\s*(\S+)")
_LEVEL = {"1": True, "0": False}
_ACTIVE = {"active": True, "inactive": False, "1": True, "0": False}


def parse_port_states(
    text: str, kind: PortKind, query: Query, expected: Iterable[int] | None = None
) -> PortStates:
    """Parse ``Input1=0`` / ``Output2=active`` lines (``\\n`` or ``\\r\\n``, blank lines allowed).

    ``check`` answers must be ``0``/``1``, ``checkactive`` answers ``active``/``inactive``.
    Lines naming the other kind of port, an unknown value, or (with ``expected``) a missing port
    raise :class:`ProtocolError`.
    """
    values = _LEVEL if query == "check" else _ACTIVE
    states: list[tuple[int, bool]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        match = _LINE.fullmatch(line)
        if match is None or match.group(1).lower() != kind:
            raise ProtocolError(f"unexpected line in an {kind} {query} answer: {line[:80]!r}")
        value = values.get(match.group(3).lower())
        if value is None:
            raise ProtocolError(f"unexpected {kind} state {match.group(3)[:20]!r}")
        number = int(match.group(2))
        if all(number != seen for seen, _state in states):
            states.append((number, value))
        if len(states) > 64:
            raise ProtocolError(f"{kind} {query} answer with too many ports")
    if expected is not None:
        missing = [p for p in expected if all(p != seen for seen, _state in states)]
        if missing:
            raise ProtocolError(f"{kind} {query} answer lacks port(s) {missing}")
    return PortStates(kind=kind, query=query, states=tuple(states))


class IoApi:
    """Inputs and outputs of one camera (``cam.io``); both CGIs need administrator rights."""

    def __init__(self, camera: Camera) -> None:
        self._camera = camera

    async def _check(self, kind: PortKind, query: Query, ports: tuple[object, ...]) -> PortStates:
        pairs = build_check(query, ports)
        wanted = [int(p) for p in pairs[0][1].split(",")]
        path = INPUT_PATH if kind == "input" else OUTPUT_PATH
        response = await self._camera.transport.request(
            "GET", path, params=pairs, safe=",", max_body=_MAX_ANSWER
        )
        return parse_port_states(response.text, kind, query, wanted)

    async def inputs(self, *ports: int) -> PortStates:
        """Levels of the given inputs (``input.cgi?check=1,2``): ``True`` for 1."""
        return await self._check("input", "check", ports)

    async def inputs_active(self, *ports: int) -> PortStates:
        """Whether the given inputs are active (``input.cgi?checkactive=1,2``)."""
        return await self._check("input", "checkactive", ports)

    async def outputs(self, *ports: int) -> PortStates:
        """Levels of the given outputs (``output.cgi?check=1,2``): ``True`` for 1."""
        return await self._check("output", "check", ports)

    async def outputs_active(self, *ports: int) -> PortStates:
        """Whether the given outputs are active (``output.cgi?checkactive=1,2``)."""
        return await self._check("output", "checkactive", ports)

    async def set_output(self, port: int, active: bool) -> None:
        """Make output ``port`` active (``action=<id>:/``) or inactive (``action=<id>:\\``).

        Sent as ``action=1:/`` and ``action=1:%5C`` (see the module text for why).
        """
        action = output_action(port, active)
        response = await self._camera.transport.request(
            "GET", OUTPUT_PATH, params=[("action", action)], safe=":/", max_body=_MAX_ANSWER
        )
        answer = response.text.strip()
        if answer and answer.upper() != "OK":
            raise ProtocolError(f"unexpected answer to an output action: {answer[:80]!r}")

    async def activate(self, port: int = 1) -> None:
        """Make output ``port`` active."""
        await self.set_output(port, True)

    async def deactivate(self, port: int = 1) -> None:
        """Make output ``port`` inactive."""
        await self.set_output(port, False)
