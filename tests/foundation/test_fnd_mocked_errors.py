"""Error paths a real server cannot easily produce, driven through aioresponses.

The simulator covers the ordinary status codes; these cover broken transports, odd headers and
every spec status code on a CGI the simulator always answers successfully.
"""

from __future__ import annotations

import re

import aiohttp
import pytest

from ipcam_async import (
    AuthError,
    BadRequestError,
    ConflictError,
    ConnectError,
    DeviceBusyError,
    HttpStatusError,
    InternalServerError,
    NotFoundError,
    ParameterError,
    ProtocolError,
    RequestFailed,
    StreamTimeout,
)
from ipcam_async.camera import Camera

PARAM_URL = re.compile(r"^http://127\.0\.0\.1:8081/cgi-bin/admin/param\.cgi.*$")
SECRET = "s3cretPass"


def camera() -> Camera:
    return Camera("127.0.0.1", port=8081, username="admin", password=SECRET, auth="basic")


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequestError),
        (401, AuthError),
        (404, NotFoundError),
        (409, ConflictError),
        (500, InternalServerError),
        (503, DeviceBusyError),
    ],
)
async def test_every_spec_status_maps_to_its_exception(mock_http, status, error) -> None:
    mock_http.get(PARAM_URL, status=status, body="nope")
    async with camera() as cam:
        with pytest.raises(error) as info:
            await cam.params.list("Network")
    assert info.value.status == status
    assert SECRET not in str(info.value)


async def test_503_http_date_retry_after_is_parsed(mock_http) -> None:
    mock_http.get(PARAM_URL, status=503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    async with camera() as cam:
        with pytest.raises(DeviceBusyError) as info:
            await cam.params.list("Network")
    # A date in the past means "now": never a negative wait.
    assert info.value.retry_after == 0.0


async def test_503_retry_then_success(mock_http) -> None:
    mock_http.get(PARAM_URL, status=503, headers={"Retry-After": "0"})
    mock_http.get(PARAM_URL, status=200, body="root.Network.IPAddress=10.0.0.9\n")
    async with Camera(
        "127.0.0.1", port=8081, username="admin", password=SECRET, auth="basic", retry_503=1
    ) as cam:
        tree = await cam.params.list("Network")
    assert tree["Network.IPAddress"] == "10.0.0.9"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("# Error: Invalid parameter value\n", ParameterError),
        ("Request failed: busy\r\n", RequestFailed),
    ],
)
async def test_error_bodies_in_200(mock_http, body, error) -> None:
    mock_http.get(PARAM_URL, status=200, body=body)
    async with camera() as cam:
        with pytest.raises(error):
            await cam.params.list("Network")


async def test_server_disconnect_is_connect_error(mock_http) -> None:
    mock_http.get(PARAM_URL, exception=aiohttp.ServerDisconnectedError())
    async with camera() as cam:
        with pytest.raises(ConnectError) as info:
            await cam.params.list("Network")
    assert SECRET not in str(info.value)


async def test_payload_error_mid_body(mock_http) -> None:
    mock_http.get(PARAM_URL, exception=aiohttp.ClientPayloadError("truncated"))
    async with camera() as cam:
        with pytest.raises((ConnectError, ProtocolError)):
            await cam.params.list("Network")


async def test_timeout_is_stream_timeout(mock_http) -> None:
    mock_http.get(PARAM_URL, exception=TimeoutError())
    async with camera() as cam:
        with pytest.raises(StreamTimeout):
            await cam.params.list("Network")


async def test_malformed_param_list_is_protocol_error(mock_http) -> None:
    mock_http.get(PARAM_URL, status=200, body="root.Network.IPAddress\nno equals sign here\n")
    async with camera() as cam:
        with pytest.raises(ProtocolError):
            await cam.params.list("Network")


async def test_redirect_is_not_followed_and_exposes_location(mock_http) -> None:
    target = "http://user:pw@192.0.2.7/cgi-bin/admin/param.cgi?action=list"
    mock_http.get(PARAM_URL, status=302, headers={"Location": target})
    async with camera() as cam:
        with pytest.raises(HttpStatusError) as info:
            await cam.params.list("Network")
    assert info.value.status == 302
    assert info.value.location == "http://***@192.0.2.7/cgi-bin/admin/param.cgi?action=list"
    assert "pw" not in str(info.value) and SECRET not in str(info.value)
    # Only the one request went out: nothing followed the redirect to the other host.
    assert sum(len(calls) for calls in mock_http.requests.values()) == 1
