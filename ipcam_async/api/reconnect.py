"""Long-lived ``multipart/x-mixed-replace`` streams that reconnect instead of dying silently.

Used by the event monitor (:mod:`ipcam_async.api.events`) and MJPEG over HTTP
(:mod:`ipcam_async.api.mjpeg`). :func:`reconnecting_parts` opens the stream through the camera's
:class:`~ipcam_async.http.transport.HttpTransport`, feeds the socket's chunks to the sans-io
:class:`~ipcam_async.http.multipart.MultipartParser` and yields parts. When the stream breaks
(connection reset, end of stream, a silent server past ``idle_timeout``, an HTTP error on
reconnect, malformed bytes) it:

* reports the disconnect once to the log (a warning for the first failure of an outage, debug
  lines for the retries, an info line when the stream is back) and to ``on_disconnect``;
* waits with exponential backoff and jitter, then reconnects;
* raises the last typed error (a subclass of :class:`~ipcam_async.errors.IpCamError`) after
  ``max_failures`` consecutive failures.

A device that answers the spec's ``# Error: ...`` text instead of a stream raises
:class:`~ipcam_async.errors.ParameterError` at once: another attempt would get the same answer.

It runs in the consumer's task: there is no background task that could die unnoticed, and
cancelling the consumer (or closing the iterator) closes the connection at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any

import aiohttp
import attrs

from ..errors import (
    ConnectError,
    InvalidArgument,
    IpCamError,
    ParameterError,
    ProtocolError,
    StreamClosed,
    StreamTimeout,
)
from ..http.multipart import MultipartParser, Part, boundary_from_content_type
from ..reconnect import ReconnectPolicy

__all__ = [
    "Disconnect",
    "ReconnectPolicy",
    "StreamStats",
    "reconnecting_parts",
]

log = logging.getLogger(__name__)

_READ_CHUNK = 64 << 10


@attrs.frozen(slots=True)
class Disconnect:
    """What ``on_disconnect`` receives: the error, the count of consecutive failures, and the
    wait before the next attempt (``None`` when the stream gives up and raises ``error``)."""

    error: IpCamError
    failures: int
    retry_in: float | None


@attrs.define(slots=True)
class StreamStats:
    """Counters of a reconnecting stream (they only grow, except ``failures``)."""

    connects: int = 0
    """Successful connections (the first one included)."""
    disconnects: int = 0
    """Failures: broken or ended streams and failed connection attempts."""
    failures: int = 0
    """Current run of consecutive failures (0 while the stream is healthy)."""
    parts: int = 0
    bytes_in: int = 0
    resyncs: int = 0
    """Parser resynchronisations (stray bytes between parts)."""
    last_error: str | None = None


#: Errors that another attempt cannot fix: the request itself is wrong.
_FATAL = (ParameterError, InvalidArgument)


async def _refuse(response: Any, content_type: str, what: str) -> None:
    """A stream answered with a plain body: the spec's ``# Error:`` text, or not a stream."""
    try:
        body: bytes = await asyncio.wait_for(response.content.read(4096), 5.0)
    except (TimeoutError, aiohttp.ClientError, OSError):
        body = b""
    text = body.decode("utf-8", errors="replace").strip()
    if text.startswith("# Error:"):
        raise ParameterError(text[len("# Error:") :].strip().splitlines()[0][:200])
    raise ProtocolError(
        f"{what}: expected a multipart/x-mixed-replace stream, got {content_type[:60]!r}"
    )


def _typed(exc: BaseException, what: str) -> IpCamError:
    if isinstance(exc, IpCamError):
        return exc
    if isinstance(exc, TimeoutError):
        return StreamTimeout(f"{what}: timed out")
    return ConnectError(f"{what}: {type(exc).__name__}")


async def reconnecting_parts(
    transport: Any,
    path: str,
    *,
    params: Sequence[tuple[str, str]] = (),
    safe: str = "",
    port: int | None = None,
    policy: ReconnectPolicy | None = None,
    stats: StreamStats | None = None,
    on_disconnect: Callable[[Disconnect], object] | None = None,
    max_part_size: int = 8 << 20,
    what: str = "stream",
) -> AsyncGenerator[tuple[Part, float], None]:
    """Yield ``(part, arrival_time)`` from a multipart stream, reconnecting as the policy says.

    ``arrival_time`` is UNIX time. ``transport`` is an
    :class:`~ipcam_async.http.transport.HttpTransport`. Raises the last :class:`IpCamError`
    after ``policy.max_failures`` consecutive failures; never retries on cancellation.
    """
    policy = policy or ReconnectPolicy()
    stats = stats if stats is not None else StreamStats()
    failures = 0
    while True:
        delivered = False
        try:
            async with contextlib.AsyncExitStack() as stack:
                # The transport's own limit covers connecting and each read; ours are tighter.
                opening = transport.stream(
                    "GET",
                    path,
                    params=params,
                    safe=safe,
                    port=port,
                    timeout=max(policy.connect_timeout, policy.idle_timeout) + 1.0,
                )
                try:
                    async with asyncio.timeout(policy.connect_timeout):
                        response = await stack.enter_async_context(opening)
                except TimeoutError:
                    raise StreamTimeout(
                        f"{what}: not connected within {policy.connect_timeout:g} s"
                    ) from None
                content_type = response.headers.get("Content-Type", "")
                if not content_type.strip().lower().startswith("multipart/"):
                    await _refuse(response, content_type, what)
                parser = MultipartParser(
                    boundary_from_content_type(content_type), max_part_size=max_part_size
                )
                stats.connects += 1
                if failures:
                    log.info("%s: connected again after %d failure(s)", what, failures)
                content = response.content
                while True:
                    try:
                        async with asyncio.timeout(policy.idle_timeout):
                            chunk = await content.readany()
                    except TimeoutError:
                        raise StreamTimeout(
                            f"{what}: no data for {policy.idle_timeout:g} s"
                        ) from None
                    except (aiohttp.ClientError, OSError) as exc:
                        raise ConnectError(
                            f"{what}: connection broke ({type(exc).__name__})"
                        ) from None
                    if not chunk:
                        cut = parser.feed_eof()
                        raise StreamClosed(
                            f"{what}: the device ended the stream"
                            + (" in the middle of a part" if cut else "")
                        )
                    stats.bytes_in += len(chunk)
                    before = parser.stats.resyncs
                    parts = parser.feed(chunk)
                    stats.resyncs += parser.stats.resyncs - before
                    if parts:
                        now = time.time()
                        if not delivered:
                            delivered = True
                            failures = 0
                            stats.failures = 0
                        for part in parts:
                            stats.parts += 1
                            yield part, now
        except _FATAL:
            raise
        except (IpCamError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            error = _typed(exc, what)
        failures += 1
        stats.failures = failures
        stats.disconnects += 1
        stats.last_error = f"{type(error).__name__}: {error}"
        give_up = policy.max_failures is not None and failures >= policy.max_failures
        retry_in = None if give_up else policy.delay(failures)
        if give_up:
            log.error("%s: giving up after %d consecutive failures: %s", what, failures, error)
        elif failures == 1:
            log.warning("%s: disconnected (%s); reconnecting", what, error)
        else:
            log.debug("%s: attempt %d failed (%s); next in %.2f s", what, failures, error, retry_in)
        if on_disconnect is not None:
            try:
                on_disconnect(Disconnect(error, failures, retry_in))
            except Exception:  # a faulty callback must not kill the stream
                log.exception("%s: on_disconnect callback failed", what)
        if retry_in is None:
            error.add_note(f"{what}: gave up after {failures} consecutive failures")
            raise error
        await asyncio.sleep(retry_in)
