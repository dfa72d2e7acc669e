"""HTTP transport shared by every CGI group: session, authentication, error mapping, body caps.

One :class:`HttpTransport` belongs to one :class:`~ipcam_async.camera.Camera`.  It either owns an
``aiohttp.ClientSession`` or borrows one from the caller (so one process can drive hundreds of
cameras over one connection pool).  Authentication is applied per request through aiohttp client
middlewares, never through the URL and never through session-wide state, so cameras sharing a
session never see each other's credentials:

* ``"digest"`` uses aiohttp's :class:`aiohttp.DigestAuthMiddleware` (MD5, SHA-256, ``qop=auth``;
  a ``stale=true`` challenge is answered with the fresh nonce);
* ``"basic"`` sends ``Authorization: Basic`` on every request;
* ``"auto"`` sends the first request bare and picks Digest when the 401 challenge offers it,
  Basic otherwise.

Status codes of spec 4.1.1 become typed exceptions (see :mod:`ipcam_async.errors`); a ``200 OK``
whose body is ``# Error: ...`` or ``Request failed: ...`` becomes :class:`ParameterError` /
:class:`RequestFailed`.  Exception texts and log lines carry the method and the path only: the
query string can hold secrets (``pwdgrp.cgi?...&pwd=...``).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import math
import os
import re
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from secrets import token_hex
from typing import Any, Final, Literal
from urllib.parse import quote, quote_plus

import aiohttp
import attrs
from aiohttp import hdrs
from aiohttp.abc import AbstractStreamWriter
from aiohttp.client_middlewares import ClientHandlerType
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ..errors import (
    AuthError,
    BadRequestError,
    ConflictError,
    ConnectError,
    DeviceBusyError,
    HttpStatusError,
    InternalServerError,
    InvalidArgument,
    NotFoundError,
    ParameterError,
    ProtocolError,
    RequestFailed,
    StreamClosed,
    StreamTimeout,
)
from ..redact import check_header_value, redact_url
from .query import encode_query

__all__ = ["AuthMode", "HttpResponse", "HttpTransport", "parse_retry_after"]

_log = logging.getLogger(__name__)

AuthMode = Literal["auto", "basic", "digest"]

#: Status code → exception class (spec 4.1.1).
_STATUS_ERRORS: Final[dict[int, type[HttpStatusError]]] = {
    400: BadRequestError,
    401: AuthError,
    404: NotFoundError,
    409: ConflictError,
    500: InternalServerError,
}
#: How much of an error response is read to describe it in the exception.
_ERROR_BODY_LIMIT: Final = 4096
#: A URL's query (it may carry ``pwd=``); kept out of exception texts.
_URL_QUERY: Final = re.compile(r"(\w+://[^\s?'\"]*)\?[^\s'\"]*")
#: Characters left as they are in a request path (RFC 3986 pchar, '/', and '%' of escapes).
_PATH_SAFE: Final = "/-._~!$&'()*+,;=:@%"
#: Upload chunk read from disk per write.
_UPLOAD_CHUNK: Final = 256 * 1024
#: Kernel send buffer asked for during an upload (see :meth:`_MultipartFilePayload.write`).
_UPLOAD_SNDBUF: Final = 256 * 1024
#: An HTTP token (RFC 9110 5.6.2): what a method or a header name may be made of.
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")


def _check_token(what: str, value: str) -> str:
    if not isinstance(value, str) or not _TOKEN.match(value):
        check_header_value(what, value if isinstance(value, str) else "")
        raise InvalidArgument(what, "an HTTP token (letters, digits, !#$%&'*+-.^_`|~)", value)
    return value


def _check_timeout(timeout: float | None) -> None:
    """A timeout must be a finite number of seconds > 0 (aiohttp reads 0 as "no limit")."""
    if timeout is None:
        return
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise InvalidArgument("timeout", "a finite number of seconds > 0", timeout)


def _shown_host(host: str) -> str:
    """``host`` fit for an error message: a ``user:password@`` part is masked."""
    return "***@" + host.rpartition("@")[2] if "@" in host else host


@attrs.frozen
class HttpResponse:
    """A complete (size-capped) HTTP response from the camera."""

    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")

    @property
    def text(self) -> str:
        """The body as text: UTF-8 when it decodes, Latin-1 otherwise (never raises)."""
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            return self.body.decode("latin-1")

    @property
    def content_type(self) -> str:
        """The media type of ``Content-Type`` in lower case, without parameters ("" if none)."""
        return self.headers.get("Content-Type", "").partition(";")[0].strip().lower()


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Parse a ``Retry-After`` header (delta seconds or HTTP date) into seconds, or ``None``."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def _first_line(body: bytes, limit: int = 200) -> str:
    text = body[:limit].decode("utf-8", errors="replace").strip()
    return text.splitlines()[0].strip() if text else ""


class _CameraAuth:
    """Per-origin authentication middleware (see the module docstring for the modes)."""

    def __init__(self, username: str, password: str, mode: AuthMode) -> None:
        self._username = username
        self._password = password
        self.mode: AuthMode = mode
        self._digest: aiohttp.DigestAuthMiddleware | None = None
        self._basic: str | None = None
        #: True once a request on this origin was answered with something else than 401.
        self.primed = False
        if mode == "digest":
            self._digest = aiohttp.DigestAuthMiddleware(username, password)
        elif mode == "basic":
            self._basic = aiohttp.encode_basic_auth(username, password)

    def __repr__(self) -> str:
        return f"<_CameraAuth mode={self.mode} user={self._username!r}>"

    async def __call__(
        self, request: aiohttp.ClientRequest, handler: ClientHandlerType
    ) -> aiohttp.ClientResponse:
        response = await self._dispatch(request, handler)
        if response.status != 401:
            self.primed = True
        return response

    async def _dispatch(
        self, request: aiohttp.ClientRequest, handler: ClientHandlerType
    ) -> aiohttp.ClientResponse:
        if self._digest is not None:
            try:
                return await self._digest(request, handler)
            except aiohttp.ClientError as exc:
                # aiohttp raises the bare base class for a challenge it cannot answer (no
                # nonce, unknown algorithm or qop): the device's fault, not the network's.
                if type(exc) is not aiohttp.ClientError:
                    raise
                raise ProtocolError(
                    f"{request.method} {request.url.path}: the camera's Digest challenge "
                    f"cannot be answered ({exc})"
                ) from None
        if self._basic is not None:
            request.headers[hdrs.AUTHORIZATION] = self._basic
            return await handler(request)
        response = await handler(request)
        if response.status != 401:
            return response
        schemes = [
            challenge.strip().partition(" ")[0].lower()
            for challenge in response.headers.getall(hdrs.WWW_AUTHENTICATE, ())
        ]
        # aiohttp's Digest middleware answers the first challenge only: Digest is chosen when it
        # comes first (the usual order) or is the only scheme offered.
        if schemes[:1] == ["digest"] or ("digest" in schemes and "basic" not in schemes):
            self.mode = "digest"
            self._digest = aiohttp.DigestAuthMiddleware(self._username, self._password)
        elif "basic" in schemes:
            if "digest" in schemes:
                _log.warning("camera lists Basic before Digest; using Basic (auth='digest' forces)")
            self.mode = "basic"
            self._basic = aiohttp.encode_basic_auth(self._username, self._password)
        else:
            return response
        _log.debug("auth=auto picked %s from the challenge", self.mode)
        response.release()
        return await self._dispatch(request, handler)


class _MultipartFilePayload(aiohttp.Payload):
    """RFC 1867 ``multipart/form-data`` body with one file part, streamed from disk.

    The file is reopened on every write, so aiohttp may send the body again (e.g. after a
    Digest ``stale=true`` challenge) without it ever being read whole into memory.
    """

    def __init__(
        self,
        source: Path | bytes,
        *,
        field_name: str,
        filename: str,
        content_type: str,
        progress: Callable[[int, int], None] | None,
        stall_timeout: float,
    ) -> None:
        boundary = "----ipcam" + token_hex(16)
        self._stall_timeout = stall_timeout
        _check_part_headers(field_name, filename, content_type)
        self._source = source
        self._file_size = source.stat().st_size if isinstance(source, Path) else len(source)
        self._head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{field_name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self._progress = progress
        super().__init__(source, content_type=f"multipart/form-data; boundary={boundary}")
        self._size = len(self._head) + self._file_size + len(self._tail)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """Not supported: the body is streamed and never held as text."""
        raise TypeError("a streamed upload body cannot be decoded")

    async def write(self, writer: AbstractStreamWriter) -> None:
        """Write the head, the file in chunks (reporting progress) and the closing boundary.

        If the body cannot be completed (cancelled, timed out, the source changed) the
        connection is aborted: a half-sent body makes it unusable, and a plain close would keep
        the socket open until a camera that stopped reading drains the send buffer.
        """
        handle = None
        # Taken now: once aiohttp closes the connection the writer no longer knows it.
        transport = getattr(writer, "transport", None)
        if isinstance(transport, asyncio.WriteTransport):
            sock = transport.get_extra_info("socket")
            if sock is not None:
                # An autotuned send buffer can hold megabytes: the body would be "sent" long
                # before the camera has it, and the wait for its answer would start too early
                # (and progress would run ahead).  A small buffer keeps both honest.
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _UPLOAD_SNDBUF)
        try:
            await writer.write(self._head)
            sent = 0
            total = self._file_size
            if self._progress is not None:
                self._progress(0, total)
            if isinstance(self._source, Path):
                # Opened without a thread hop: a cancellation cannot strand an open handle in
                # a worker thread (reads, the slow part, do go to a thread).
                handle = self._source.open("rb")
            view = memoryview(self._source) if isinstance(self._source, bytes) else None
            while True:
                if view is not None:
                    chunk = bytes(view[sent : sent + _UPLOAD_CHUNK])
                else:
                    assert handle is not None
                    chunk = await asyncio.to_thread(handle.read, _UPLOAD_CHUNK)
                if not chunk:
                    break
                if sent + len(chunk) > total:
                    raise ProtocolError("upload source grew while it was being sent")
                try:
                    # A camera that stops reading would otherwise block this write forever.
                    async with asyncio.timeout(self._stall_timeout):
                        await writer.write(chunk)
                except TimeoutError:
                    raise StreamTimeout(
                        f"the camera took no upload data for {self._stall_timeout:g} s"
                    ) from None
                sent += len(chunk)
                if self._progress is not None:
                    self._progress(sent, total)
            if sent != total:
                raise ProtocolError("upload source shrank while it was being sent")
            await writer.write(self._tail)
        except BaseException:
            if isinstance(transport, asyncio.WriteTransport):
                transport.abort()
            raise
        finally:
            if handle is not None:
                # Closed here, not by a finaliser later: no descriptor outlives the upload.
                handle.close()

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        """Write the whole body; the length is fixed up front by :attr:`size`."""
        await self.write(writer)


def _check_part_headers(field_name: str, filename: str, content_type: str) -> None:
    """Validate what goes into the header of the multipart file part."""
    for label, value in (("field_name", field_name), ("filename", filename)):
        check_header_value(label, value)
        if '"' in value or "\\" in value:
            raise InvalidArgument(label, 'no " or \\ characters', value)
    check_header_value("content_type", content_type)


class HttpTransport:
    """HTTP access to one camera: URL building, auth, timeouts, error mapping, body caps.

    Built by :class:`~ipcam_async.camera.Camera`; API groups call :meth:`request`,
    :meth:`stream` and :meth:`upload`.
    """

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        auth: AuthMode = "auto",
        https: bool = False,
        verify_ssl: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        retry_503: int = 0,
        max_retry_wait: float = 30.0,
    ) -> None:
        if auth not in ("auto", "basic", "digest"):
            raise InvalidArgument("auth", "'auto', 'basic' or 'digest'", auth)
        check_header_value("host", host)
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]  # "[::1]" as written in URLs
        if not host or any(c in host for c in "/?#@ "):
            # Never echo a "user:password@" the caller may have put in.
            raise InvalidArgument("host", "a host name or IP address", _shown_host(host))
        try:
            # yarl (IPv6 syntax, characters) and the resolver (IDNA labels) check the name only
            # when a request is made: check now, so a bad host fails here with a clear error.
            str(URL.build(scheme="http", host=host, port=80))
            if ":" not in host:
                host.encode("idna")  # what the resolver will do with it
        except (ValueError, UnicodeError):
            raise InvalidArgument(
                "host", "a host name or IP address (give the port separately)", host
            ) from None
        if username is not None:
            check_header_value("username", username)
            if ":" in username:
                raise InvalidArgument("username", "no ':' character", username)
        if password is not None:
            check_header_value("password", password)
        if (username is None) != (password is None):
            raise InvalidArgument("username/password", "both or neither", "<one missing>")
        if retry_503 < 0:
            raise InvalidArgument("retry_503", ">= 0", retry_503)
        _check_timeout(timeout)
        self.host = host
        self.port: int = port if port is not None else (443 if https else 80)
        self.username = username
        self._password = password
        self.auth_mode: AuthMode = auth
        self.scheme = "https" if https else "http"
        self._ssl: ssl.SSLContext | bool = (
            ssl_context if ssl_context is not None else bool(verify_ssl)
        )
        self._session = session
        self._own_session = session is None
        self._closed = False
        self.timeout = timeout
        self.retry_503 = retry_503
        self.max_retry_wait = max_retry_wait
        self._auth: dict[int, _CameraAuth] = {}

    def __repr__(self) -> str:
        return (
            f"<HttpTransport {self.scheme}://{self.host}:{self.port} "
            f"user={self.username!r} auth={self.auth_mode}>"
        )

    # -- session -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True after :meth:`close` (until :meth:`reopen`)."""
        return self._closed

    @property
    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session in use (created on first use when the transport owns it).

        Raises :class:`StreamClosed` after :meth:`close`, or when a borrowed session was
        closed by its owner.
        """
        if self._closed:
            raise StreamClosed("the camera is closed; open a new one or re-enter 'async with'")
        if self._session is None:
            self._session = aiohttp.ClientSession()
        elif self._session.closed:
            if not self._own_session:
                raise StreamClosed("the aiohttp session given to the camera is closed")
            self._session = aiohttp.ClientSession()
        return self._session

    def reopen(self) -> None:
        """Allow requests again after :meth:`close` (a new session is made on first use)."""
        self._closed = False

    async def close(self) -> None:
        """Close the session if this transport created it (a borrowed session stays open).

        Later requests raise :class:`StreamClosed` until :meth:`reopen`.
        """
        self._closed = True
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()

    # -- helpers -------------------------------------------------------------------------

    def url(
        self,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        safe: str = "",
        port: int | None = None,
    ) -> URL:
        """Build the request URL (no credentials; the query percent-encoded per spec 5.1.1)."""
        check_header_value("path", path)
        if not path.startswith("/") or "?" in path or "#" in path:
            raise InvalidArgument("path", "an absolute path without query", path)
        query = encode_query(params, safe=safe)
        base = URL.build(scheme=self.scheme, host=self.host, port=port or self.port)
        raw = str(base) + quote(path, safe=_PATH_SAFE) + (f"?{query}" if query else "")
        return URL(raw, encoded=True)

    def _middlewares(self, port: int) -> tuple[_CameraAuth, ...]:
        if self.username is None or self._password is None:
            return ()
        auth = self._auth.get(port)
        if auth is None:
            auth = _CameraAuth(self.username, self._password, self.auth_mode)
            self._auth[port] = auth
        return (auth,)

    def scrub(self, text: str, secrets: Sequence[str] = (), *, queries: bool = True) -> str:
        """Remove what may be secret from foreign text: the password and URL queries.

        ``secrets`` are more values to mask (e.g. a new account's password being sent);
        ``queries=False`` keeps URL queries (minus the secrets) for a URL the caller must use.
        """
        if queries:
            text = _URL_QUERY.sub(r"\1?...", text)
        forms: set[str] = set()
        for secret in (self._password, *secrets):
            if secret:
                # A device may echo a secret as it arrived: raw or percent-encoded.
                forms |= {secret, quote(secret), quote(secret, safe=""), quote_plus(secret)}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, "***")
        return text

    def _error_for(
        self,
        method: str,
        path: str,
        response: aiohttp.ClientResponse,
        body: bytes,
        secrets: Sequence[str] = (),
    ) -> HttpStatusError:
        status = response.status
        detail = self.scrub(_first_line(body), secrets)
        message = f"{method} {path}: HTTP {status} {response.reason or ''}".rstrip()
        if detail:
            message += f" ({detail})"
        if status == 503:
            retry_after = parse_retry_after(response.headers.get(hdrs.RETRY_AFTER))
            return DeviceBusyError(message, retry_after=retry_after)
        cls = _STATUS_ERRORS.get(status)
        if cls is not None:
            return cls(message)
        location = response.headers.get(hdrs.LOCATION)
        if location is not None and 300 <= status < 400:
            shown = redact_url(self.scrub(location, secrets))
            usable = redact_url(self.scrub(location, secrets, queries=False))
            return HttpStatusError(f"{message} -> {shown}", status=status, location=usable)
        return HttpStatusError(message, status=status)

    def _timeout(self, timeout: float | None, *, streaming: bool) -> aiohttp.ClientTimeout:
        _check_timeout(timeout)
        value = self.timeout if timeout is None else timeout
        if streaming:
            return aiohttp.ClientTimeout(total=None, connect=value, sock_read=value)
        return aiohttp.ClientTimeout(total=value)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]],
        safe: str,
        data: bytes | aiohttp.Payload | None,
        headers: Mapping[str, str] | None,
        port: int | None,
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109
        secrets: Sequence[str] = (),
    ) -> aiohttp.ClientResponse:
        """Send one request; return the response when the status is 2xx, else raise."""
        _check_token("method", method)
        url = self.url(path, params=params, safe=safe, port=port)
        send_headers: CIMultiDict[str] = CIMultiDict()
        for name, value in (headers or {}).items():
            send_headers[_check_token("header name", name)] = check_header_value(name, value)
        kwargs: dict[str, Any] = {}
        if data is not None:
            kwargs["data"] = data
        session = self.session
        try:
            response = await session.request(
                method,
                url,
                headers=send_headers,
                timeout=timeout,
                ssl=self._ssl,
                allow_redirects=False,
                # A borrowed session may have raise_for_status set: the mapping below is ours.
                raise_for_status=False,
                middlewares=self._middlewares(port or self.port),
                **kwargs,
            )
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise StreamTimeout(f"{method} {path}: no answer within the timeout") from None
        except aiohttp.ClientResponseError as exc:
            # Its text holds the full URL (and so the query): not chained on purpose.
            raise ProtocolError(f"{method} {path}: malformed response ({exc.message})") from None
        except aiohttp.ClientError as exc:
            raise ConnectError(
                f"{method} {path}: {type(exc).__name__}: {self.scrub(str(exc))}"
            ) from None
        _log.debug("%s %s -> %d", method, path, response.status)
        if 200 <= response.status < 300:
            return response
        try:
            body = await self._read(response, _ERROR_BODY_LIMIT, method, path, truncate=True)
        finally:
            response.release()
        raise self._error_for(method, path, response, body, secrets)

    async def _read(
        self,
        response: aiohttp.ClientResponse,
        max_body: int,
        method: str,
        path: str,
        *,
        truncate: bool = False,
    ) -> bytes:
        """Read the body, refusing (or, with ``truncate``, cutting) anything over ``max_body``."""
        length = response.content_length
        if not truncate and length is not None and length > max_body:
            raise ProtocolError(f"{method} {path}: body of {length} bytes exceeds {max_body}")
        chunks: list[bytes] = []
        total = 0
        try:
            async for chunk in response.content.iter_chunked(64 * 1024):
                if total + len(chunk) > max_body:
                    if truncate:
                        chunks.append(chunk[: max_body - total])
                        break
                    raise ProtocolError(f"{method} {path}: body exceeds {max_body} bytes")
                chunks.append(chunk)
                total += len(chunk)
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise StreamTimeout(
                f"{method} {path}: body did not arrive within the timeout"
            ) from None
        except aiohttp.ClientPayloadError:
            raise ConnectError(
                f"{method} {path}: connection broke while reading the body"
            ) from None
        except aiohttp.ClientError as exc:
            raise ConnectError(f"{method} {path}: {type(exc).__name__} while reading") from None
        return b"".join(chunks)

    async def _whole(
        self, response: aiohttp.ClientResponse, max_body: int, method: str, path: str
    ) -> HttpResponse:
        """Read all of ``response`` (at most ``max_body`` bytes), release it, return it."""
        try:
            body = await self._read(response, max_body, method, path)
        finally:
            response.release()
        return HttpResponse(
            status=response.status, headers=CIMultiDictProxy(response.headers), body=body
        )

    def _check_body(self, body: bytes, secrets: Sequence[str] = ()) -> None:
        """Raise for the spec's error bodies (the password, if echoed, is masked)."""
        head = body.lstrip()[:16]
        if head.startswith(b"# Error:"):
            text = body.decode("utf-8", errors="replace")
            lines = [
                line.strip()[len("# Error:") :].strip()
                for line in text.splitlines()
                if line.strip().startswith("# Error:")
            ]
            raise ParameterError(self.scrub("; ".join(lines), secrets))
        if head.startswith(b"Request failed:"):
            text = body.decode("utf-8", errors="replace").strip()
            raise RequestFailed(self.scrub(text[len("Request failed:") :].strip(), secrets))

    async def _retrying(self, attempt: Callable[[], Any]) -> Any:
        """Run ``attempt`` again on 503 up to ``retry_503`` times, honouring ``Retry-After``."""
        tries = 0
        while True:
            try:
                return await attempt()
            except DeviceBusyError as exc:
                if tries >= self.retry_503:
                    raise
                tries += 1
                wait = exc.retry_after if exc.retry_after is not None else 1.0
                wait = min(wait, self.max_retry_wait)
                _log.info("device busy (503), retry %d/%d in %.1f s", tries, self.retry_503, wait)
                await asyncio.sleep(wait)

    # -- public API ----------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        safe: str = "",
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        port: int | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
        max_body: int = 1 << 20,
        check_body: bool = True,
        secrets: Sequence[str] = (),
    ) -> HttpResponse:
        """Send a request and return the whole response.

        Raises the :mod:`ipcam_async.errors` class for the status (400/401/404/409/500/503,
        :class:`HttpStatusError` for other non-2xx), :class:`ParameterError` /
        :class:`RequestFailed` for the spec's error bodies (with ``check_body``),
        :class:`ProtocolError` when the body exceeds ``max_body`` bytes,
        :class:`StreamTimeout` and :class:`ConnectError` for network failures.
        ``secrets`` (e.g. a password in ``params`` or ``data``) are masked in error texts.
        """
        _check_timeout(timeout)

        async def attempt() -> HttpResponse:
            response = await self._send(
                method,
                path,
                params=params,
                safe=safe,
                data=data,
                headers=headers,
                port=port,
                timeout=self._timeout(timeout, streaming=False),
                secrets=secrets,
            )
            return await self._whole(response, max_body, method, path)

        result: HttpResponse = await self._retrying(attempt)
        if check_body:
            self._check_body(result.body, secrets)
        return result

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        safe: str = "",
        port: int | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Open a long response (MJPEG, event monitor); yields it after the status check.

        ``timeout`` bounds the time until the status line and headers are in, then each wait
        for more data (an idle limit), not the total duration.  Leaving the block closes the
        connection.
        """

        _check_timeout(timeout)
        limit = self.timeout if timeout is None else timeout

        async def attempt() -> aiohttp.ClientResponse:
            # aiohttp's idle timeout restarts with every byte: a camera trickling its header
            # lines would hold the request open far longer than ``timeout``.  The status line
            # and headers must all be in within ``timeout``.
            try:
                async with asyncio.timeout(limit):
                    return await self._send(
                        method,
                        path,
                        params=params,
                        safe=safe,
                        data=None,
                        headers=headers,
                        port=port,
                        timeout=self._timeout(timeout, streaming=True),
                    )
            except StreamTimeout:
                raise
            except TimeoutError:
                raise StreamTimeout(
                    f"{method} {path}: no complete answer within the timeout"
                ) from None

        response: aiohttp.ClientResponse = await self._retrying(attempt)
        try:
            yield response
        finally:
            if response.content.at_eof():
                response.release()
            else:
                response.close()

    async def upload(
        self,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        safe: str = "",
        file: str | os.PathLike[str] | bytes,
        field_name: str,
        filename: str,
        content_type: str = "application/octet-stream",
        progress: Callable[[int, int], None] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
        max_body: int = 1 << 20,
        check_body: bool = True,
    ) -> HttpResponse:
        """POST one file as RFC 1867 ``multipart/form-data``, streamed from disk.

        Under Digest the challenge is fetched first with a body-less ``HEAD`` so the file is
        sent once, with credentials.  ``progress(sent, total)`` is called as file bytes go out.

        ``timeout`` bounds the whole upload.  Without it a big file may take as long as it
        needs, but the connection, each wait for the camera to take more data and the wait
        for its answer are each bounded by the camera's timeout (:class:`StreamTimeout`).
        """
        _check_timeout(timeout)
        source: Path | bytes = file if isinstance(file, bytes) else Path(file)
        # Everything the caller gave is checked before the first byte goes out (the Digest
        # priming request below included).
        _check_part_headers(field_name, filename, content_type)
        self.url(path, params=params, safe=safe)
        if isinstance(source, Path) and not await asyncio.to_thread(source.is_file):
            raise InvalidArgument("file", "an existing regular file", str(source))
        auth = self._middlewares(self.port)
        if auth and not auth[0].primed and auth[0].mode != "basic":
            with contextlib.suppress(HttpStatusError):
                await self.request("HEAD", path, timeout=timeout, check_body=False)

        async def attempt() -> HttpResponse:
            payload = _MultipartFilePayload(
                source,
                field_name=field_name,
                filename=filename,
                content_type=content_type,
                progress=progress,
                stall_timeout=self.timeout if timeout is None else timeout,
            )
            response = await self._send(
                "POST",
                path,
                params=params,
                safe=safe,
                data=payload,
                headers=None,
                port=None,
                timeout=self._timeout(timeout, streaming=timeout is None),
            )
            return await self._whole(response, max_body, "POST", path)

        result: HttpResponse = await self._retrying(attempt)
        if check_body:
            self._check_body(result.body)
        return result

    def credentials(self) -> tuple[str | None, str | None]:
        """``(username, password)`` for layers that authenticate on their own (RTSP)."""
        return self.username, self._password
