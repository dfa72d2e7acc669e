"""Event data (spec 5.4.2, ``eventdata.cgi``): current status, the live monitor, transitions.

``await cam.events.get(groups=("Motion", "IO"))`` returns one :class:`EventData` snapshot.
``async for snap in cam.events.monitor(...)`` yields a snapshot per part of the device's
``multipart/x-mixed-replace`` stream and reconnects on its own (see
:mod:`ipcam_async.api.reconnect`); ``async for change in cam.events.changes(...)`` yields the
transitions between snapshots (motion triggered / cleared, input closed / opened, output
active / inactive, tampering).

Both iterators are best used as ``async with``::

    async with cam.events.changes(groups=("Motion", "IO")) as changes:
        async for change in changes:
            print(change.describe())

Leaving the block, breaking out of the loop or cancelling the task closes the connection.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Generic, TypeVar

from ..errors import InvalidArgument, ProtocolError
from ..validate import check_choices
from .event_models import (
    EVENT_GROUPS,
    IO_PARAMS,
    MOTION_PARAMS,
    TAMPERING_PARAMS,
    EventChange,
    EventData,
    diff_event_data,
    parse_event_data,
)
from .reconnect import Disconnect, ReconnectPolicy, StreamStats, reconnecting_parts

if TYPE_CHECKING:
    from ..camera import Camera

__all__ = ["EVENTDATA_PATH", "EventStream", "EventsApi"]

log = logging.getLogger(__name__)

#: The CGI path. The spec prints it as ``/cgi-bin/admin eventdata.cgi``, a typo for the slash.
EVENTDATA_PATH = "/cgi-bin/admin/eventdata.cgi"
#: Event-data parts are a few hundred bytes; anything far larger is not event data.
MAX_EVENT_PART = 16 << 10

_T = TypeVar("_T")


class EventStream(Generic[_T]):
    """An async iterator over a reconnecting event stream, with its counters in :attr:`stats`.

    Use it in ``async with`` (or call :meth:`aclose`) so the connection is closed as soon as
    you stop; a plain ``async for`` that breaks out also closes it, when the iterator is
    garbage-collected.
    """

    def __init__(self, generator: AsyncGenerator[_T, None], stats: StreamStats) -> None:
        self._gen = generator
        self.stats = stats

    def __aiter__(self) -> EventStream[_T]:
        return self

    async def __anext__(self) -> _T:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        """Close the connection and end the iteration."""
        await self._gen.aclose()

    async def __aenter__(self) -> EventStream[_T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _joined(name: str, values: Iterable[str] | None, choices: Sequence[str]) -> str | None:
    if values is None:
        return None
    checked = check_choices(name, values, choices)
    if not checked:
        raise InvalidArgument(name, "at least one of " + ", ".join(choices), ())
    return ",".join(checked)


class EventsApi:
    """``eventdata.cgi``: motion windows, digital I/O and tampering (spec 5.4.2)."""

    def __init__(self, camera: Camera) -> None:
        self._camera = camera

    @staticmethod
    def build_params(
        action: str,
        groups: Iterable[str] | None = None,
        *,
        motion_params: Iterable[str] | None = None,
        io_params: Iterable[str] | None = None,
        tampering_params: Iterable[str] | None = None,
    ) -> list[tuple[str, str]]:
        """The query pairs of a request; validates every argument (nothing is sent here).

        ``groups`` ⊆ Motion, Motion1..3, IO, T0 (``None``: the device's default, all groups);
        ``motion_params`` ⊆ Enabled, Level, Sensitivity, Triggered; ``io_params`` ⊆ Status;
        ``tampering_params`` ⊆ Enabled, Triggered. ``None`` omits the filter (all values).
        """
        pairs = [("action", action)]
        for name, value in (
            ("group", _joined("groups", groups, EVENT_GROUPS)),
            ("MotionParam", _joined("motion_params", motion_params, MOTION_PARAMS)),
            ("IOParam", _joined("io_params", io_params, IO_PARAMS)),
            ("TamperingParam", _joined("tampering_params", tampering_params, TAMPERING_PARAMS)),
        ):
            if value is not None:
                pairs.append((name, value))
        return pairs

    async def get(
        self,
        groups: Iterable[str] | None = None,
        *,
        motion_params: Iterable[str] | None = None,
        io_params: Iterable[str] | None = None,
        tampering_params: Iterable[str] | None = None,
    ) -> EventData:
        """Current event data (``action=get``) of ``groups``, filtered by the ``*_params``.

        Raises :class:`~ipcam_async.errors.InvalidArgument` before sending for an unknown
        group or parameter, and :class:`~ipcam_async.errors.ProtocolError` for a malformed
        answer.
        """
        params = self.build_params(
            "get",
            groups,
            motion_params=motion_params,
            io_params=io_params,
            tampering_params=tampering_params,
        )
        response = await self._camera.transport.request(
            "GET", EVENTDATA_PATH, params=params, safe=",", max_body=MAX_EVENT_PART
        )
        return parse_event_data(response.body)

    def monitor(
        self,
        groups: Iterable[str] | None = ("Motion", "Motion1", "Motion2", "Motion3", "IO", "T0"),
        *,
        motion_params: Iterable[str] | None = None,
        io_params: Iterable[str] | None = None,
        tampering_params: Iterable[str] | None = None,
        policy: ReconnectPolicy | None = None,
        on_disconnect: Callable[[Disconnect], object] | None = None,
    ) -> EventStream[EventData]:
        """Live snapshots (``action=monitor``): one :class:`EventData` per part, with
        ``received`` set to its arrival time (UNIX seconds).

        The stream reconnects after any failure (connection lost, end of stream, no data for
        ``policy.idle_timeout`` seconds, HTTP error, malformed part) with exponential backoff
        and jitter; each failure is passed to ``on_disconnect`` and logged once. After
        ``policy.max_failures`` consecutive failures the last typed error is raised. Arguments
        are validated here, before anything is sent.
        """
        params = self.build_params(
            "monitor",
            groups,
            motion_params=motion_params,
            io_params=io_params,
            tampering_params=tampering_params,
        )
        stats = StreamStats()
        return EventStream(self._snapshots(params, policy, stats, on_disconnect), stats)

    def changes(
        self,
        groups: Iterable[str] | None = ("Motion", "Motion1", "Motion2", "Motion3", "IO", "T0"),
        *,
        policy: ReconnectPolicy | None = None,
        on_disconnect: Callable[[Disconnect], object] | None = None,
    ) -> EventStream[EventChange]:
        """Transitions between consecutive monitor snapshots (see :class:`EventChange`).

        The first snapshot sets the baseline and yields nothing. After a reconnection the new
        snapshot is compared with the last one before the outage, so a change that happened
        while disconnected is still reported. Reconnection as in :meth:`monitor`.
        """
        params = self.build_params("monitor", groups)
        stats = StreamStats()
        snapshots = self._snapshots(params, policy, stats, on_disconnect)
        return EventStream(self._transitions(snapshots), stats)

    async def _snapshots(
        self,
        params: list[tuple[str, str]],
        policy: ReconnectPolicy | None,
        stats: StreamStats,
        on_disconnect: Callable[[Disconnect], object] | None,
    ) -> AsyncGenerator[EventData, None]:
        camera = self._camera
        parts = reconnecting_parts(
            camera.transport,
            EVENTDATA_PATH,
            params=params,
            safe=",",
            policy=policy,
            stats=stats,
            on_disconnect=on_disconnect,
            max_part_size=MAX_EVENT_PART,
            what=f"event monitor {camera.host}:{camera.port}",
        )
        try:
            async for part, received in parts:
                try:
                    snapshot = parse_event_data(part.body, received=received)
                except ProtocolError as exc:
                    # One bad part does not end the stream; the next part supersedes it.
                    log.warning("event monitor %s: skipped a malformed part: %s", camera.host, exc)
                    continue
                yield snapshot
        finally:
            await parts.aclose()

    @staticmethod
    async def _transitions(
        snapshots: AsyncGenerator[EventData, None],
    ) -> AsyncGenerator[EventChange, None]:
        previous: EventData | None = None
        try:
            async for snapshot in snapshots:
                if previous is not None:
                    for change in diff_event_data(previous, snapshot):
                        yield change
                previous = snapshot
        finally:
            await snapshots.aclose()
