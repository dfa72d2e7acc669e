"""Server-side HTTP authentication of the simulated camera: Basic and Digest (RFC 7616).

Digest offers ``qop=auth`` with MD5 or SHA-256 and accepts answers computed with either.  Nonces
are stateless (a timestamp signed with a per-instance secret); an expired nonce with an otherwise
correct answer gets a fresh challenge with ``stale=true``, as RFC 7616 section 3.3 asks.  Nonce
counts are tracked per nonce (bounded) to refuse replays.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Final, Literal

import attrs
from aiohttp import web

from ..state import AccessLevel, CameraState

__all__ = ["AuthMode", "AuthResult", "Authenticator", "parse_auth_params"]

AuthMode = Literal["any", "basic", "digest"]

_HASHES: Final[Mapping[str, Callable[[bytes], str]]] = {
    "MD5": lambda data: hashlib.md5(data).hexdigest(),
    "SHA-256": lambda data: hashlib.sha256(data).hexdigest(),
    "SHA256": lambda data: hashlib.sha256(data).hexdigest(),
}
_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)')
#: Bound of remembered nonce counts.
_MAX_NONCES: Final = 4096
#: Requests one nonce may authorise before it is answered with ``stale=true``.
_MAX_USES_PER_NONCE: Final = 10_000


def parse_auth_params(text: str) -> dict[str, str]:
    """Parse ``k=v, k="quoted"`` pairs of an ``Authorization``/``WWW-Authenticate`` header."""
    params: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        match = _PARAM.match(text, pos)
        if match is None or match.end() == pos:
            break
        quoted, bare = match.group(2), match.group(3)
        value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else (bare or "")
        params[match.group(1).lower()] = value
        pos = match.end()
    return params


@attrs.frozen
class AuthResult:
    """Outcome of checking one request: the user name, or why not (``stale`` nonce)."""

    user: str | None
    stale: bool = False


class Authenticator:
    """Checks requests against :attr:`CameraState.users` and builds 401 challenges."""

    def __init__(
        self,
        state: CameraState,
        *,
        mode: AuthMode = "any",
        realm: str = "IPCam",
        digest_algorithm: Literal["MD5", "SHA-256"] = "MD5",
        nonce_lifetime: float = 300.0,
    ) -> None:
        if mode not in ("any", "basic", "digest"):
            raise ValueError(f"auth mode must be any, basic or digest, not {mode!r}")
        if digest_algorithm not in ("MD5", "SHA-256"):
            raise ValueError("digest_algorithm must be MD5 or SHA-256")
        self.state = state
        self.mode = mode
        self.realm = realm
        self.digest_algorithm = digest_algorithm
        self.nonce_lifetime = nonce_lifetime
        self._secret = secrets.token_bytes(32)
        self._opaque = secrets.token_hex(16)
        self._nonce_counts: OrderedDict[str, set[int]] = OrderedDict()
        #: Counters for tests: accepted Basic / Digest requests, stale nonces answered.
        self.basic_ok = 0
        self.digest_ok = 0
        self.stale_count = 0

    # -- nonces ----------------------------------------------------------------------------

    def _sign(self, stamp: str) -> str:
        return hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:32]

    def new_nonce(self, now: float | None = None) -> str:
        """A fresh nonce: ``<monotonic ms hex>.<random>.<signature>``."""
        moment = time.monotonic() if now is None else now
        stamp = f"{int(moment * 1000):x}.{secrets.token_hex(4)}"
        return f"{stamp}.{self._sign(stamp)}"

    def _nonce_age(self, nonce: str) -> float | None:
        """Age in seconds of a nonce we issued, ``None`` if it is not ours."""
        stamp, _, signature = nonce.rpartition(".")
        if not stamp or not hmac.compare_digest(signature, self._sign(stamp)):
            return None
        try:
            issued = int(stamp.partition(".")[0], 16) / 1000
        except ValueError:
            return None
        return time.monotonic() - issued

    # -- challenges ------------------------------------------------------------------------

    def challenges(self, *, stale: bool = False) -> list[str]:
        """``WWW-Authenticate`` values, Digest first (clients take the first one they know)."""
        values: list[str] = []
        if self.mode in ("any", "digest"):
            value = (
                f'Digest realm="{self.realm}", qop="auth", algorithm={self.digest_algorithm}, '
                f'nonce="{self.new_nonce()}", opaque="{self._opaque}"'
            )
            if stale:
                value += ", stale=true"
            values.append(value)
        if self.mode in ("any", "basic"):
            values.append(f'Basic realm="{self.realm}"')
        return values

    def unauthorized(self, *, stale: bool = False) -> web.Response:
        """The 401 answer with challenges."""
        response = web.Response(status=401, body=b"401 Unauthorized\r\n", content_type="text/plain")
        for value in self.challenges(stale=stale):
            response.headers.add("WWW-Authenticate", value)
        return response

    # -- checking --------------------------------------------------------------------------

    def check(self, request: web.Request) -> AuthResult:
        """Return who sent ``request`` (``user=None`` when unauthenticated or refused)."""
        header = request.headers.get("Authorization", "")
        scheme, _, rest = header.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "basic" and self.mode in ("any", "basic"):
            return AuthResult(self._check_basic(rest.strip()))
        if scheme == "digest" and self.mode in ("any", "digest"):
            return self._check_digest(request, parse_auth_params(rest))
        return AuthResult(None)

    def _check_basic(self, token: str) -> str | None:
        try:
            decoded = base64.b64decode(token.encode("ascii"), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeError, ValueError):
            return None
        name, sep, password = decoded.partition(":")
        user = self.state.users.get(name)
        if not sep or user is None:
            return None
        if not hmac.compare_digest(user.password.encode(), password.encode()):
            return None
        self.basic_ok += 1
        return name

    def _check_digest(self, request: web.Request, p: dict[str, str]) -> AuthResult:
        name = p.get("username", "")
        user = self.state.users.get(name)
        nonce = p.get("nonce", "")
        algorithm = p.get("algorithm", "MD5").upper()
        digest = _HASHES.get(algorithm)
        if user is None or digest is None or p.get("realm") != self.realm:
            return AuthResult(None)
        if p.get("opaque", self._opaque) != self._opaque:
            return AuthResult(None)
        if p.get("uri") != request.raw_path:
            return AuthResult(None)
        qop = p.get("qop")
        if qop != "auth":
            return AuthResult(None)
        nc_text, cnonce = p.get("nc", ""), p.get("cnonce", "")
        try:
            nc = int(nc_text, 16)
        except ValueError:
            return AuthResult(None)
        ha1 = digest(f"{name}:{self.realm}:{user.password}".encode())
        ha2 = digest(f"{request.method}:{p['uri']}".encode())
        expected = digest(f"{ha1}:{nonce}:{nc_text}:{cnonce}:{qop}:{ha2}".encode())
        if not hmac.compare_digest(expected, p.get("response", "")):
            return AuthResult(None)
        age = self._nonce_age(nonce)
        if age is None:
            return AuthResult(None)
        if age > self.nonce_lifetime:
            self.stale_count += 1
            return AuthResult(None, stale=True)
        # Concurrent requests may arrive out of nonce-count order: refuse only a count seen
        # before (a replay); a nonce used too often is retired with stale=true.
        seen = self._nonce_counts.setdefault(nonce, set())
        if nc in seen:
            return AuthResult(None)
        if len(seen) >= _MAX_USES_PER_NONCE:
            self.stale_count += 1
            return AuthResult(None, stale=True)
        seen.add(nc)
        self._nonce_counts.move_to_end(nonce)
        while len(self._nonce_counts) > _MAX_NONCES:
            self._nonce_counts.popitem(last=False)
        self.digest_ok += 1
        return AuthResult(name)

    def authorize(self, request: web.Request, level: AccessLevel) -> str | web.Response:
        """The user name when it may use a CGI of ``level``, else the 401 response to send."""
        result = self.check(request)
        if result.user is None:
            return self.unauthorized(stale=result.stale)
        user = self.state.users.get(result.user)
        if user is None or not user.allows(level):
            return self.unauthorized()
        return result.user
