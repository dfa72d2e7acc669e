"""RTSP authentication: Basic and Digest (RFC 7616, RFC 2617 and the RFC 2069 form), sans-io.

:class:`RtspAuth` holds the credentials and the chosen challenge; the client asks it for an
``Authorization`` value per request and tells it about every 401. Several challenges → the
strongest (Digest SHA-256, then Digest MD5, then Basic); ``stale=true`` → retry with the new nonce
without failing; the nonce count is kept per nonce.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterable

import attrs

from ..errors import AuthError

__all__ = ["Challenge", "RtspAuth", "parse_challenges"]

log = logging.getLogger(__name__)

MAX_CHALLENGE_LEN = 8192

_ALGORITHMS: dict[str, Callable[[bytes], hashlib._Hash]] = {
    "MD5": hashlib.md5,
    "MD5-SESS": hashlib.md5,
    "SHA-256": hashlib.sha256,
    "SHA-256-SESS": hashlib.sha256,
}
# Higher wins when a server offers several challenges.
_STRENGTH = {"SHA-256": 4, "SHA-256-SESS": 4, "MD5": 2, "MD5-SESS": 2}


@attrs.frozen(slots=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: scheme (lower-case) and parameters (keys lower-case)."""

    scheme: str
    params: dict[str, str]

    @property
    def algorithm(self) -> str:
        """Digest algorithm, upper-case (``MD5`` when absent)."""
        return self.params.get("algorithm", "MD5").upper()

    @property
    def strength(self) -> int:
        """Ordering key: Digest SHA-256 > Digest MD5 > Basic > unsupported (0)."""
        if self.scheme == "digest":
            return _STRENGTH.get(self.algorithm, 0)
        if self.scheme == "basic":
            return 1
        return 0


_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM = re.compile(rf'\s*({_TOKEN})\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]*)\s*,?')
_SCHEME = re.compile(rf"\s*({_TOKEN})(?:\s+|$)")


def parse_challenges(values: Iterable[str]) -> list[Challenge]:
    """Parse ``WWW-Authenticate`` header values (each may hold several challenges)."""
    out: list[Challenge] = []
    for value in values:
        value = value[:MAX_CHALLENGE_LEN]
        pos = 0
        current: Challenge | None = None
        while pos < len(value):
            if value[pos] in ", \t":
                pos += 1
                continue
            param = _PARAM.match(value, pos)
            if param is not None and current is not None:
                raw = param.group(3)
                text = (
                    re.sub(r"\\(.)", r"\1", raw) if raw is not None else param.group(2).strip('"')
                )
                current.params.setdefault(param.group(1).lower(), text)
                pos = param.end()
                continue
            scheme = _SCHEME.match(value, pos)
            if scheme is None:
                break
            current = Challenge(scheme.group(1).lower(), {})
            out.append(current)
            pos = scheme.end()
    return out


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class RtspAuth:
    """Credentials plus the state of the negotiated scheme for one RTSP client.

    ``cnonce`` supplies client nonces (random by default; tests pass a fixed one).
    """

    def __init__(
        self,
        username: str | None,
        password: str | None,
        *,
        cnonce: Callable[[], str] | None = None,
    ) -> None:
        self._username = username
        self._password = password
        self._cnonce = cnonce or (lambda: os.urandom(8).hex())
        self._challenge: Challenge | None = None
        self._nc = 0
        self._sent_with_challenge = False
        self.stale_retries = 0

    def __repr__(self) -> str:
        scheme = self._challenge.scheme if self._challenge else None
        return f"RtspAuth(username={self._username!r}, scheme={scheme!r})"

    @property
    def has_credentials(self) -> bool:
        """True when a user name was given."""
        return self._username is not None

    @property
    def scheme(self) -> str | None:
        """The scheme in use (``basic``/``digest``), None before the first challenge."""
        return self._challenge.scheme if self._challenge else None

    def handle_401(self, challenge_values: Iterable[str], *, method: str, url: str) -> None:
        """Digest the challenges of a 401. Return normally when a retry makes sense.

        Raises :class:`AuthError` when there are no credentials, no supported challenge, or the
        credentials were already refused for a fresh (non-stale) nonce.
        """
        challenges = [c for c in parse_challenges(challenge_values) if c.strength > 0]
        if self._username is None:
            raise AuthError(f"RTSP {method} {url}: authentication required, no credentials given")
        if not challenges:
            raise AuthError(f"RTSP {method} {url}: no supported authentication scheme offered")
        best = max(challenges, key=lambda c: c.strength)
        previous = self._challenge
        if previous is not None and self._sent_with_challenge:
            stale = best.params.get("stale", "").lower() == "true"
            same_nonce = best.params.get("nonce") == previous.params.get("nonce")
            if not stale or (best.scheme == "digest" and same_nonce):
                raise AuthError(f"RTSP {method} {url}: credentials refused")
            self.stale_retries += 1
            log.debug("RTSP digest nonce stale; retrying with the new nonce")
        self._challenge = best
        self._nc = 0
        self._sent_with_challenge = False

    def authorization(self, method: str, url: str) -> str | None:
        """``Authorization`` value for a request, or None before any challenge."""
        challenge = self._challenge
        if challenge is None or self._username is None:
            return None
        self._sent_with_challenge = True
        password = self._password or ""
        if challenge.scheme == "basic":
            token = base64.b64encode(f"{self._username}:{password}".encode()).decode("ascii")
            return f"Basic {token}"
        return self._digest(challenge, method, url, password)

    def accepted(self) -> None:
        """The last authorised request succeeded: a later 401 is a new challenge, not a refusal."""
        self._sent_with_challenge = False

    def _digest(self, challenge: Challenge, method: str, url: str, password: str) -> str:
        params = challenge.params
        algorithm = challenge.algorithm
        hash_fn = _ALGORITHMS.get(algorithm, hashlib.md5)

        def h(text: str) -> str:
            return hash_fn(text.encode("utf-8")).hexdigest()

        realm = params.get("realm", "")
        nonce = params.get("nonce", "")
        assert self._username is not None
        ha1 = h(f"{self._username}:{realm}:{password}")
        qops = [q.strip().lower() for q in params.get("qop", "").split(",") if q.strip()]
        cnonce = ""
        if algorithm.endswith("-SESS") or "auth" in qops:
            cnonce = self._cnonce()
        if algorithm.endswith("-SESS"):
            ha1 = h(f"{ha1}:{nonce}:{cnonce}")
        ha2 = h(f"{method}:{url}")
        fields = [
            f"username={_quote(self._username)}",
            f"realm={_quote(realm)}",
            f"nonce={_quote(nonce)}",
            f"uri={_quote(url)}",
        ]
        if "auth" in qops:
            self._nc += 1
            nc = f"{self._nc:08x}"
            response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
            fields += [f"response={_quote(response)}", "qop=auth", f"nc={nc}"]
            fields.append(f"cnonce={_quote(cnonce)}")
        else:
            # RFC 2069 form, still what many cameras (and gst-rtsp-server) use.
            response = h(f"{ha1}:{nonce}:{ha2}")
            fields.append(f"response={_quote(response)}")
            if algorithm.endswith("-SESS"):
                fields.append(f"cnonce={_quote(cnonce)}")
        if "algorithm" in params:
            fields.append(f"algorithm={params['algorithm']}")
        if "opaque" in params:
            fields.append(f"opaque={_quote(params['opaque'])}")
        return "Digest " + ", ".join(fields)
