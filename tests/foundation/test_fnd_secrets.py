"""The password never shows up in a log record, a repr or an exception text."""

from __future__ import annotations

import logging
import traceback

import pytest

from ipcam_async.errors import AuthError, IpCamError
from ipcam_async.sim import SimulatedCamera

GOOD = "G00dSecretPw"
BAD = "BadSecretPw9"


def _texts_of(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), *traceback.format_exception(exc), *map(str, exc.args)]


@pytest.mark.parametrize("auth", ["auto", "digest", "basic"])
async def test_password_never_leaks(auth: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("aiohttp", "aiohttp.client", "aiohttp.server", "aiohttp.access", "ipcam_async"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    texts: list[str] = []
    async with SimulatedCamera(rtsp=False, mjpeg=False, password=GOOD) as sim:
        texts.append(repr(sim))
        # Successful login; the password also goes through pwd-like query values and errors.
        async with sim.camera(auth=auth) as cam:
            texts += [repr(cam), repr(cam.transport), str(cam.transport.url("/x.cgi"))]
            tree = await cam.params.list("Network")
            texts += [
                repr(tree),
                repr(
                    await cam.transport.request(
                        "GET", "/cgi-bin/admin/param.cgi", params=[("action", "list")]
                    )
                ),
            ]
            texts += [repr(a) for a in cam.transport._auth.values()]
            try:
                await cam.params.update({"Network.NoSuch": GOOD})
            except IpCamError as exc:
                texts += _texts_of(exc)
            else:
                pytest.fail("update of an unknown parameter succeeded")
        # Failed login.
        async with sim.camera(auth=auth, password=BAD) as cam:
            texts += [repr(cam), repr(cam.transport)]
            with pytest.raises(AuthError) as info:
                await cam.params.list("Network")
            texts += _texts_of(info.value)
    records = caplog.records
    assert records, "debug logging produced no records: the test would prove nothing"
    for record in records:
        texts.append(record.getMessage())
        texts.append(repr(record.args))
        if record.exc_info and record.exc_info[1] is not None:
            texts += _texts_of(record.exc_info[1])
    joined = "\n".join(texts)
    assert "param.cgi" in joined  # the texts are about the requests made
    assert GOOD not in joined
    assert BAD not in joined
