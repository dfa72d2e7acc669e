"""param.cgi round trips against the simulator over loopback, with Digest and Basic."""

from __future__ import annotations

import pytest

from ipcam_async.errors import AuthError, ParameterError
from ipcam_async.sim import SimulatedCamera


@pytest.mark.parametrize("auth", ["auto", "digest", "basic"])
async def test_list_update_add_remove(auth: str) -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim, sim.camera(auth=auth) as cam:
        tree = await cam.params.list("Network")
        assert tree["Network.IPAddress"] == "192.168.0.250"
        assert tree["root.Network.SubnetMask"] == "255.255.255.0"
        assert tree.group("Network")["BootProto"] == "none"
        assert all(name.startswith("Network.") for name in tree)

        await cam.params.update({"ImageSource.I0.Name": "My camera, #1 & more"})
        assert await cam.params.get("ImageSource.I0.Name") == "My camera, #1 & more"
        assert sim.state.params["ImageSource.I0.Name"] == "My camera, #1 & more"

        group = await cam.params.add("GuardTour")
        assert group == "GuardTour.G1"
        point = await cam.params.add(f"{group}.Tour", {"PresetNbr": 3, "WaitTime": 5})
        assert point == "GuardTour.G1.Tour.T1"
        listed = await cam.params.list(point)
        assert listed.get_int(f"{point}.PresetNbr") == 3
        assert listed.get_int(f"{point}.WaitTime") == 5
        await cam.params.remove(group)
        with pytest.raises(ParameterError):
            await cam.params.list(group)
    expected = "basic_ok" if auth == "basic" else "digest_ok"
    assert getattr(sim.authenticator, expected) > 0


async def test_wrong_password_raises_auth_error() -> None:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim:
        for auth in ("auto", "digest", "basic"):
            async with sim.camera(auth=auth, password="wrong") as cam:
                with pytest.raises(AuthError):
                    await cam.params.list("Network")
