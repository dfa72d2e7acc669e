"""RTSP Basic and Digest: challenge parsing and choice, RFC 2069/2617/7616 forms, stale nonce."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipcam_async.errors import AuthError
from ipcam_async.rtsp.auth import RtspAuth, parse_challenges


def fields(header: str) -> dict[str, str]:
    assert header.startswith("Digest ")
    out = {}
    for ch in parse_challenges([header]):
        out.update(ch.params)
    return out


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_parse_several_challenges_in_one_value() -> None:
    chs = parse_challenges(
        ['Digest realm="cam, inc", nonce="abc", qop="auth,auth-int", Basic realm="x"']
    )
    assert [c.scheme for c in chs] == ["digest", "basic"]
    assert chs[0].params == {"realm": "cam, inc", "nonce": "abc", "qop": "auth,auth-int"}


def test_rfc2617_example_digest() -> None:
    # RFC 2617 section 3.5 example, request method GET and uri /dir/index.html.
    auth = RtspAuth("Mufasa", "Circle Of Life", cnonce=lambda: "0a4f113b")
    auth.handle_401(
        [
            'Digest realm="testrealm@host.com", qop="auth,auth-int", '
            'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
        ],
        method="GET",
        url="/dir/index.html",
    )
    header = auth.authorization("GET", "/dir/index.html")
    assert header is not None
    f = fields(header)
    assert f["response"] == "6629fae49393a05397450978507c4ef1"
    assert f["nc"] == "00000001" and f["cnonce"] == "0a4f113b" and f["qop"] == "auth"
    assert f["opaque"] == "5ccc069c403ebaf9f0171e9517f40e41"
    second = auth.authorization("GET", "/dir/index.html")
    assert second is not None and fields(second)["nc"] == "00000002"


def test_rfc2069_form_and_md5_sess_and_sha256() -> None:
    auth = RtspAuth("u", "p")
    auth.handle_401(['Digest realm="r", nonce="n"'], method="DESCRIBE", url="rtsp://h/x")
    f = fields(auth.authorization("DESCRIBE", "rtsp://h/x") or "")
    ha1, ha2 = md5("u:r:p"), md5("DESCRIBE:rtsp://h/x")
    assert f["response"] == md5(f"{ha1}:n:{ha2}")
    assert "qop" not in f and "nc" not in f

    sess = RtspAuth("u", "p", cnonce=lambda: "cn")
    sess.handle_401(
        ['Digest realm="r", nonce="n", algorithm=MD5-sess, qop=auth'], method="X", url="u"
    )
    f = fields(sess.authorization("PLAY", "rtsp://h/x") or "")
    ha1s = md5(f"{md5('u:r:p')}:n:cn")
    assert f["response"] == md5(f"{ha1s}:n:00000001:cn:auth:{md5('PLAY:rtsp://h/x')}")

    sha = RtspAuth("u", "p", cnonce=lambda: "cn")
    sha.handle_401(
        [
            'Digest realm="r", nonce="n", algorithm=MD5, qop="auth"',
            'Digest realm="r", nonce="n2", algorithm=SHA-256, qop="auth"',
            'Basic realm="r"',
        ],
        method="X",
        url="u",
    )
    f = fields(sha.authorization("PLAY", "rtsp://h/x") or "")
    assert f["algorithm"] == "SHA-256" and f["nonce"] == "n2"

    def h(t: str) -> str:
        return hashlib.sha256(t.encode()).hexdigest()

    expected = h(f"{h('u:r:p')}:n2:00000001:cn:auth:{h('PLAY:rtsp://h/x')}")
    assert f["response"] == expected


def test_basic_chosen_only_when_alone() -> None:
    auth = RtspAuth("user", "pa:ss")
    auth.handle_401(['Basic realm="x"'], method="OPTIONS", url="rtsp://h/")
    assert auth.authorization("OPTIONS", "rtsp://h/") == "Basic dXNlcjpwYTpzcw=="


def test_stale_nonce_retries_then_refusal_fails() -> None:
    auth = RtspAuth("u", "p")
    auth.handle_401(['Digest realm="r", nonce="n1"'], method="PLAY", url="x")
    auth.authorization("PLAY", "x")
    auth.handle_401(['Digest realm="r", nonce="n2", stale=true'], method="PLAY", url="x")
    assert fields(auth.authorization("PLAY", "x") or "")["nonce"] == "n2"
    assert auth.stale_retries == 1
    with pytest.raises(AuthError):
        auth.handle_401(['Digest realm="r", nonce="n3"'], method="PLAY", url="x")


def test_no_credentials_or_unsupported_scheme() -> None:
    with pytest.raises(AuthError):
        RtspAuth(None, None).handle_401(['Basic realm="x"'], method="OPTIONS", url="x")
    with pytest.raises(AuthError):
        RtspAuth("u", "p").handle_401(["Negotiate abc"], method="OPTIONS", url="x")


def test_repr_has_no_password() -> None:
    assert "secret" not in repr(RtspAuth("u", "secret"))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=200), max_size=4))
def test_fuzz_challenge_parser(values: list[str]) -> None:
    for challenge in parse_challenges(values):
        assert challenge.scheme
