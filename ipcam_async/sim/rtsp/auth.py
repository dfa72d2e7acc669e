"""Server side of RTSP Basic and Digest authentication (RFC 2617, as RTSP clients use it).

Nonces are stateless: a timestamp signed with a per-server secret, so the server keeps nothing
per client and an expired nonce is answered with ``stale=true``. Digest is accepted both in the
RFC 2069 form (no ``qop``, what most RTSP clients send) and with ``qop=auth``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Literal

import attrs

__all__ = ["AuthMode", "AuthResult", "RtspAuthenticator", "parse_auth_params"]

AuthMode = Literal["none", "any", "basic", "digest"]


@attrs.frozen(slots=True)
class AuthResult:
    """Outcome of :meth:`RtspAuthenticator.check`: ``user`` when accepted; ``stale`` nonce."""

    ok: bool
    user: str | None = None
    stale: bool = False


def parse_auth_params(text: str) -> dict[str, str]:
    """Parse ``k=v, k="v"`` pairs of an Authorization header (quoted strings may hold commas)."""
    params: dict[str, str] = {}
    i = 0
    n = len(text)
    while i < n:
        while i < n and text[i] in " ,\t":
            i += 1
        eq = text.find("=", i)
        if eq < 0:
            break
        key = text[i:eq].strip().lower()
        j = eq + 1
        while j < n and text[j] == " ":
            j += 1
        if j < n and text[j] == '"':
            j += 1
            out = []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                out.append(text[j])
                j += 1
            value = "".join(out)
            j += 1
        else:
            end = text.find(",", j)
            end = n if end < 0 else end
            value = text[j:end].strip()
            j = end
        params[key] = value
        i = j
    return params


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


class RtspAuthenticator:
    """Checks ``Authorization`` headers against a password lookup.

    ``passwords(user)`` returns the user's password, or None when the user does not exist or may
    not view video. ``mode`` ``"any"`` accepts Basic and Digest and challenges with both
    (Digest first); ``"none"`` accepts every request.
    """

    def __init__(
        self,
        mode: AuthMode,
        passwords: Callable[[str], str | None],
        *,
        realm: str = "IP Camera",
        nonce_lifetime: float = 300.0,
    ) -> None:
        self.mode = mode
        self.realm = realm
        self.nonce_lifetime = nonce_lifetime
        self._passwords = passwords
        self._secret = secrets.token_bytes(16)

    @property
    def required(self) -> bool:
        """False when the server accepts every request without credentials."""
        return self.mode != "none"

    def _sign(self, stamp: str) -> str:
        return hmac.new(self._secret, stamp.encode(), "sha256").hexdigest()[:24]

    def make_nonce(self, now: float) -> str:
        """A fresh nonce for ``now`` (seconds on any monotonic clock)."""
        stamp = f"{int(now * 1000):x}"
        return f"{stamp}{self._sign(stamp)}"

    def _nonce_state(self, nonce: str, now: float) -> Literal["ok", "stale", "bad"]:
        stamp, sig = nonce[:-24], nonce[-24:]
        if not stamp or not hmac.compare_digest(sig, self._sign(stamp)):
            return "bad"
        try:
            issued = int(stamp, 16) / 1000
        except ValueError:
            return "bad"
        if now - issued > self.nonce_lifetime or issued - now > 5:
            return "stale"
        return "ok"

    def challenges(self, now: float, *, stale: bool = False) -> list[str]:
        """``WWW-Authenticate`` values for a 401 response."""
        out: list[str] = []
        if self.mode in ("any", "digest"):
            extra = ', stale="true"' if stale else ""
            out.append(f'Digest realm="{self.realm}", nonce="{self.make_nonce(now)}"{extra}')
        if self.mode in ("any", "basic"):
            out.append(f'Basic realm="{self.realm}"')
        return out

    def check(self, method: str, authorization: str | None, now: float) -> AuthResult:
        """Validate the ``Authorization`` header of a request made with ``method``."""
        if self.mode == "none":
            return AuthResult(True)
        if not authorization:
            return AuthResult(False)
        scheme, _, rest = authorization.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "basic" and self.mode in ("any", "basic"):
            try:
                decoded = base64.b64decode(rest.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return AuthResult(False)
            user, colon, password = decoded.partition(":")
            expected = self._passwords(user) if colon else None
            if expected is not None and hmac.compare_digest(
                expected.encode("utf-8"), password.encode("utf-8")
            ):
                return AuthResult(True, user)
            return AuthResult(False)
        if scheme == "digest" and self.mode in ("any", "digest"):
            return self._check_digest(method, parse_auth_params(rest), now)
        return AuthResult(False)

    def _check_digest(self, method: str, params: dict[str, str], now: float) -> AuthResult:
        user = params.get("username")
        nonce = params.get("nonce", "")
        uri = params.get("uri")
        response = params.get("response", "").lower()
        if user is None or uri is None or params.get("realm") != self.realm:
            return AuthResult(False)
        algorithm = params.get("algorithm", "MD5").upper()
        if algorithm != "MD5":
            return AuthResult(False)
        password = self._passwords(user)
        if password is None:
            return AuthResult(False)
        ha1 = _md5(f"{user}:{self.realm}:{password}")
        ha2 = _md5(f"{method}:{uri}")
        qop = params.get("qop")
        if qop is None:
            expected = _md5(f"{ha1}:{nonce}:{ha2}")
        elif qop == "auth":
            nc = params.get("nc", "")
            cnonce = params.get("cnonce", "")
            expected = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
        else:
            return AuthResult(False)
        if not hmac.compare_digest(expected, response):
            return AuthResult(False)
        state = self._nonce_state(nonce, now)
        if state == "ok":
            return AuthResult(True, user)
        return AuthResult(False, stale=state == "stale")
