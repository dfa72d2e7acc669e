"""cam.system against the simulated camera (spec 5.1.4, 5.1.6-5.1.15)."""

from __future__ import annotations

import asyncio
import os
import tarfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ipcam_async.errors import (
    BadRequestError,
    InvalidArgument,
    ParameterError,
    RequestFailed,
    StreamTimeout,
)
from ipcam_async.sim import SimulatedCamera
from ipcam_async.sim.http.cgi_system import system_records

ADMIN = "/cgi-bin/admin/"


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedCamera]:
    async with SimulatedCamera(rtsp=False, mjpeg=False) as sim:
        yield sim


async def test_snapshot_path_round_trip(sim: SimulatedCamera) -> None:
    async with sim.camera() as cam:
        await cam.system.set_snapshot_path("C:\\capture")
        assert sim.state.snapshot_path == "C:\\capture"
        assert await cam.system.snapshot_path() == "C:\\capture"
        await cam.system.set_snapshot_path("/mnt/sd/snap_~!@#$%^&+-:")
        assert await cam.system.snapshot_path() == "/mnt/sd/snap_~!@#$%^&+-:"
        # The device refuses a bad path too (sent raw, past the client's own check).
        with pytest.raises(ParameterError):
            await cam.transport.request(
                "GET", ADMIN + "snapshot.cgi", params=[("action", "set"), ("path", "a b")]
            )


async def test_factory_default_keeps_network_settings(sim: SimulatedCamera) -> None:
    kept = {
        "Network.BootProto": "dhcp",
        "Network.IPAddress": "10.1.2.3",
        "Network.SubnetMask": "255.0.0.0",
        "Network.Broadcast": "10.255.255.255",
        "Network.DefaultRouter": "10.0.0.1",
        "Network.HTTPPort": "8080",
    }
    reset = {"Network.HostName": "door-cam", "ImageSource.I0.Sensor.Brightness": "77"}
    async with sim.camera() as cam:
        factory = await cam.params.list("Network", "ImageSource")
        await cam.params.update({**kept, **reset})
        await cam.system.set_snapshot_path("C:\\capture")
        await cam.system.factory_default()
        after = await cam.params.list("Network", "ImageSource")
        for name, value in kept.items():
            assert after[name] == value
        for name in reset:
            assert after[name] == factory[name]
        assert await cam.system.snapshot_path() != "C:\\capture"

        await cam.system.hard_factory_default()
        after = await cam.params.list("Network", "ImageSource")
        for name in (*kept, *reset):
            assert after[name] == factory[name]


async def test_backup_and_restore_round_trip(sim: SimulatedCamera, tmp_path: Path) -> None:
    async with sim.camera() as cam:
        await cam.params.update({"Network.HostName": "before-backup"})
        await cam.users.add("joe", "foo", ["dido"])
        saved = await cam.system.backup(tmp_path)
        assert saved == tmp_path / "config_file.bin"
        assert saved.stat().st_mode & 0o777 == 0o600  # it holds the accounts
        with tarfile.open(saved) as tar:  # the spec's "tar of /etc"
            assert "etc/param.conf" in tar.getnames()
        chunks = [chunk async for chunk in cam.system.iter_backup(chunk_size=1024)]
        assert len(chunks) > 1
        assert b"".join(chunks) == saved.read_bytes()

        await cam.params.update({"Network.HostName": "after-backup"})
        await cam.users.remove("joe")
        progress: list[tuple[int, int]] = []
        await cam.system.restore(saved, progress=lambda s, t: progress.append((s, t)))
        assert (await cam.params.list("Network"))["Network.HostName"] == "before-backup"
        assert sim.state.users["joe"].sgroups == {"dido"}
        assert progress[-1] == (saved.stat().st_size, saved.stat().st_size)
        assert system_records(sim.state).restores == 1

        with pytest.raises(BadRequestError, match="not a backup archive"):
            await cam.system.restore(b"this is not a tar archive" * 40)
        assert (await cam.params.list("Network"))["Network.HostName"] == "before-backup"


async def test_backup_to_file_path_and_interrupted_download(
    sim: SimulatedCamera, tmp_path: Path
) -> None:
    async with sim.camera() as cam:
        target = tmp_path / "mine.tar"
        seen: list[int] = []
        assert await cam.system.backup(target, progress=lambda n, _t: seen.append(n)) == target
        assert seen[-1] == target.stat().st_size
        async with cam.system.open_backup() as download:
            assert download.size == target.stat().st_size
            assert download.filename == "config_file.bin"
    assert await asyncio.to_thread(os.listdir, tmp_path) == ["mine.tar"]  # no .part left


async def test_date_get_and_set(sim: SimulatedCamera) -> None:
    async with sim.camera() as cam:
        now = datetime.now(UTC).replace(tzinfo=None)
        assert abs(await cam.system.date() - now) < timedelta(seconds=5)

        await cam.system.set_date(datetime(2030, 2, 28, 23, 59, 50))
        got = await cam.system.date()
        assert timedelta(0) <= got - datetime(2030, 2, 28, 23, 59, 50) < timedelta(seconds=3)

        await cam.system.set_date(timezone="GMT+8")  # same instant, local clock +8 h
        shifted = await cam.system.date()
        assert timedelta(hours=8) <= shifted - got < timedelta(hours=8, seconds=3)
        assert sim.state.timezone == "GMT+8"

        await cam.system.set_date(hour=6, minute=30, second=0)
        assert (await cam.system.date()).strftime("%Y-%m-%d %H:%M") == "2030-03-01 06:30"

        # The device's own range check: sent raw, past the client's validation.
        with pytest.raises(RequestFailed) as info:
            await cam.transport.request(
                "GET", ADMIN + "date.cgi", params=[("action", "set"), ("year", "2005")]
            )
        assert "year" in info.value.description
        with pytest.raises(RequestFailed):
            await cam.transport.request(
                "GET",
                ADMIN + "date.cgi",
                params=[("action", "set"), ("month", "2"), ("day", "30")],
            )


async def test_restart_goes_away_and_comes_back(sim: SimulatedCamera) -> None:
    system_records(sim.state).restart_downtime = 0.4
    async with sim.camera(timeout=2.0) as cam:
        elapsed = await cam.system.restart(wait=True, timeout=10)
        assert elapsed is not None and elapsed >= 0.3
        assert sim.state.restart.count == 1
        assert not sim.state.restart.pending
        await cam.system.date()  # answering again

        assert await cam.system.restart() is None
        assert sim.state.restart.pending
        waited = await cam.system.wait_until_up(timeout=10, interval=0.1)
        assert waited > 0.1
        assert not sim.state.restart.pending
        assert sim.state.restart.count == 2


async def test_wait_until_up_times_out(sim: SimulatedCamera) -> None:
    sim.faults.drop_connection = True
    async with sim.camera(timeout=1.0) as cam:
        with pytest.raises(StreamTimeout):
            await cam.system.wait_until_up(timeout=0.6, interval=0.1)


async def test_server_report_and_system_log(sim: SimulatedCamera) -> None:
    async with sim.camera() as cam:
        await cam.users.add("joe", "foo")
        await cam.system.set_snapshot_path("C:\\capture")
        log = await cam.system.system_log()
        report = await cam.system.server_report()
    assert any("added user joe" in line for line in log.lines)
    assert any("snapshot path" in line for line in log.lines)
    assert "NH720" in report.text
    assert "root.Network.IPAddress=192.168.0.250" in report.lines
    assert any("added user joe" in line for line in report.lines)


async def test_certificate_upload(sim: SimulatedCamera, tmp_path: Path) -> None:
    key = tmp_path / "client.key"
    key.write_bytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    async with sim.camera(auth="digest") as cam:
        await cam.system.upload_certificate("ca_certificate", b"CA PEM")
        await cam.system.upload_certificate("client_certificate", b"CLIENT PEM")
        await cam.system.upload_certificate("private_key", key)
    certs = system_records(sim.state).certificates
    assert certs == {
        "ca_certificate": b"CA PEM",
        "client_certificate": b"CLIENT PEM",
        "private_key": key.read_bytes(),
    }


async def test_firmware_upgrade_small(sim: SimulatedCamera, tmp_path: Path) -> None:
    image = tmp_path / "fw.bin"
    image.write_bytes(b"\x01\x02" * 70000)
    async with sim.camera() as cam:
        await cam.system.upgrade(image, filename="main.bin", family="Full HD IP PTZ")
    (record,) = system_records(sim.state).uploads
    assert (record.cgi, record.field_name, record.filename) == (
        "firmwareupgrade.cgi",
        "main.bin",
        "main.bin",
    )
    assert record.size == 140000
    assert any("beforeupgrade.cgi" in line for line in sim.state.syslog)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda s, p: s.set_snapshot_path("C:\\my capture"), "path"),
        (lambda s, p: s.set_snapshot_path(""), "path"),
        (lambda s, p: s.set_date(year=2100), "year"),
        (lambda s, p: s.set_date(year=2006), "year"),
        (lambda s, p: s.set_date(month=13), "month"),
        (lambda s, p: s.set_date(day=32), "day"),
        (lambda s, p: s.set_date(hour=24), "hour"),
        (lambda s, p: s.set_date(minute=60), "minute"),
        (lambda s, p: s.set_date(second=60), "second"),
        (lambda s, p: s.set_date(timezone="GMT+14"), "timezone"),
        (lambda s, p: s.set_date(timezone="GMT-13"), "timezone"),
        (lambda s, p: s.set_date(), "date"),
        (lambda s, p: s.upgrade(p), "filename"),  # local name "fw.bin" is not a spec name
        (lambda s, p: s.upgrade(p, filename="uboot", family="Full HD IP PTZ"), "filename"),
        (lambda s, p: s.upload_certificate("server_certificate", b"x"), "kind"),
    ],
)
async def test_bad_arguments_raise_before_sending(  # type: ignore[no-untyped-def]
    sim: SimulatedCamera, tmp_path: Path, call, argument
) -> None:
    image = tmp_path / "fw.bin"
    image.write_bytes(b"x")
    async with sim.camera() as cam:
        await cam.system.date()
        before = sim.faults.http_requests
        with pytest.raises(InvalidArgument) as info:
            await call(cam.system, image)
        assert info.value.argument == argument
        assert sim.faults.http_requests == before
