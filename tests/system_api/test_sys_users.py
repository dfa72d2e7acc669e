"""cam.users against the simulated camera: pwdgrp.cgi, privacy.cgi, userinfo.cgi."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from ipcam_async.api.system_models import SecondaryGroup, UserRights
from ipcam_async.errors import AuthError, ConflictError, InvalidArgument, NotFoundError
from ipcam_async.sim import SimulatedCamera


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedCamera]:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim:
        yield sim


async def test_add_update_remove_round_trip(sim: SimulatedCamera) -> None:
    async with sim.camera() as cam:
        await cam.users.add("joe", "foo", [SecondaryGroup.DIDO, "listen"])
        assert sim.state.users["joe"].password == "foo"
        rights = {r.user: r for r in await cam.users.rights()}
        assert rights["joe"] == UserRights("joe", dido=True, camset=False, talk=False, listen=True)
        assert rights["admin"].groups == frozenset(SecondaryGroup)

        await cam.users.update("joe", password="bar", groups=["camctrl", "talk"])
        info = await cam.users.userinfo()
        assert info.password("joe") == "bar"
        assert "bar" not in repr(info) and "1234" not in repr(info)
        groups = await cam.users.groups()
        assert groups.groups_of("joe") == ("operator", "camctrl", "talk")
        assert groups.members("admin") == ("admin",)

        await cam.users.update("joe", groups=())
        assert (await cam.users.groups()).groups_of("joe") == ("viewer",)

        await cam.users.remove("joe")
        assert "joe" not in await cam.users.userinfo()
        assert "joe" not in sim.state.users


async def test_new_user_can_log_in_with_its_rights(sim: SimulatedCamera) -> None:
    async with sim.camera() as cam:
        await cam.users.add("viewer1", "pw1")
        await cam.users.add("oper1", "pw2", ["dido", "camctrl", "talk", "listen"])
    async with sim.camera(username="viewer1", password="pw1") as viewer:
        assert (await viewer.image.snapshot()).width == 640
        with pytest.raises(AuthError):
            await viewer.system.date()
    async with sim.camera(username="oper1", password="pw2") as oper:
        await oper.system.date()  # administrator access
        with pytest.raises(AuthError):  # root access only
            await oper.users.userinfo()


async def test_device_errors_map_to_exceptions(sim: SimulatedCamera) -> None:
    async with sim.camera() as cam:
        await cam.users.add("joe", "foo")
        with pytest.raises(ConflictError):
            await cam.users.add("joe", "foo")
        with pytest.raises(NotFoundError):
            await cam.users.remove("nobody")
        with pytest.raises(NotFoundError):
            await cam.users.update("nobody", password="x")
        with pytest.raises(ConflictError):  # the only root account cannot go
            await cam.users.remove("admin")


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda u: u.add("jo e", "foo"), "user"),
        (lambda u: u.add("joe", "p@ss"), "password"),
        (lambda u: u.add("joe", "foo", ["admin"]), "groups"),
        (lambda u: u.add("x" * 65, "foo"), "user"),
        (lambda u: u.update("joe"), "update"),
        (lambda u: u.update("joe", password=""), "password"),
        (lambda u: u.remove("../joe"), "user"),
    ],
)
async def test_bad_arguments_raise_before_sending(sim: SimulatedCamera, call, argument) -> None:  # type: ignore[no-untyped-def]
    async with sim.camera() as cam:
        await cam.users.rights()  # one request: the session is set up and counted
        before = sim.faults.http_requests
        with pytest.raises(InvalidArgument) as info:
            await call(cam.users)
        assert info.value.argument == argument
        assert sim.faults.http_requests == before


async def test_password_never_logged(
    sim: SimulatedCamera, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with sim.camera() as cam:
        await cam.users.add("joe", "Zq9secretPw")
        await cam.users.update("joe", password="Zq9otherPw")
        with pytest.raises(InvalidArgument) as info:
            await cam.users.add("ann", "Zq9bad!Pw")
    assert "Zq9bad" not in str(info.value)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "joe" in text  # the operations were logged...
    assert "Zq9" not in text  # ...without any password
