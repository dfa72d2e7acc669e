"""Pure parsers, formatters and request builders of the users / system / storage / image groups.

Each spec example of sections 5.1.2-5.1.15 and 5.2.1 is checked here at the sans-io level (the
request's query string and the parsed example answer); test_sys_spec_examples.py repeats them over
a loopback socket through the real client.
"""

from __future__ import annotations

import contextlib
import io
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from ipcam_async.api.storage import build_storage
from ipcam_async.api.system import (
    build_date_set,
    check_firmware_filename,
    check_snapshot_path,
    format_timezone,
)
from ipcam_async.api.system_models import (
    GroupMembership,
    SecondaryGroup,
    StorageEntry,
    UserRights,
    format_device_date,
    format_group_membership,
    format_privacy,
    format_userinfo,
    local_filename,
    parse_device_date,
    parse_group_membership,
    parse_jpeg,
    parse_privacy,
    parse_snapshot_path,
    parse_storage_list,
    parse_userinfo,
)
from ipcam_async.api.transfer import content_disposition_filename
from ipcam_async.api.users import build_pwdgrp
from ipcam_async.errors import InvalidArgument, ProtocolError
from ipcam_async.http.query import encode_query

# -- 5.1.2 pwdgrp.cgi ---------------------------------------------------------------------------


def test_spec_pwdgrp_add_administrator() -> None:
    params = build_pwdgrp(
        "add", "joe", password="foo", groups=["dido", "camctrl", "talk", "listen"]
    )
    assert (
        encode_query(params, safe=":")
        == "action=add&user=joe&pwd=foo&sgrp=dido:camctrl:talk:listen"
    )


def test_spec_pwdgrp_update_remove_get() -> None:
    assert encode_query(build_pwdgrp("update", "joe", password="bar")) == (
        "action=update&user=joe&pwd=bar"
    )
    assert encode_query(build_pwdgrp("remove", "joe")) == "action=remove&user=joe"
    assert encode_query(build_pwdgrp("get")) == "action=get"


def test_pwdgrp_groups_accept_enum_and_drop_duplicates() -> None:
    params = build_pwdgrp("update", "joe", groups=[SecondaryGroup.TALK, "talk", "dido"])
    assert params[-1] == ("sgrp", "talk:dido")
    assert build_pwdgrp("update", "joe", groups=[])[-1] == ("sgrp", "")


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"user": "jo e", "password": "foo"}, "user"),
        ({"user": "joe_1", "password": "foo"}, "user"),
        ({"user": "joe", "password": "f@o"}, "password"),
        ({"user": "joe", "password": ""}, "password"),
        ({"user": "", "password": "foo"}, "user"),
        ({"user": "joe", "password": "foo", "groups": ["admin"]}, "groups"),
    ],
)
def test_pwdgrp_refuses_bad_arguments(kwargs: dict[str, object], argument: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        build_pwdgrp("add", **kwargs)  # type: ignore[arg-type]
    assert info.value.argument == argument


def test_group_membership_round_trip() -> None:
    text = format_group_membership({"admin": ["Admin"], "viewer": [], "dido": ["Admin", "joe"]})
    assert text == 'admin="Admin"\r\nviewer=""\r\ndido="Admin,joe"\r\n'
    groups = parse_group_membership(text)
    assert groups.members("dido") == ("Admin", "joe")
    assert groups.members("viewer") == ()
    assert groups.groups_of("joe") == ("dido",)
    assert groups.users == ("Admin", "joe")
    assert parse_group_membership("admin = root , joe \n\n").as_dict() == {"admin": ("root", "joe")}
    with pytest.raises(ProtocolError):
        parse_group_membership("garbage line\n")


# -- 5.1.3 privacy.cgi / userinfo.cgi ------------------------------------------------------------

SPEC_PRIVACY = "Username:Dido:Camset:Talk:Listen \nAdmin:1:1:1:1\n"
SPEC_USERINFO = "List username and password\r\nAdmin:1234\r\n"


def test_spec_privacy_example() -> None:
    (row,) = parse_privacy(SPEC_PRIVACY)
    assert row == UserRights("Admin", dido=True, camset=True, talk=True, listen=True)
    assert row.groups == frozenset(SecondaryGroup)


def test_privacy_columns_by_name_and_errors() -> None:
    rows = parse_privacy("Username:Listen:Talk:Camset:Dido\r\njoe:1:0:0:1\r\n\r\n")
    assert rows == (UserRights("joe", dido=True, camset=False, talk=False, listen=True),)
    assert rows[0].groups == {SecondaryGroup.DIDO, SecondaryGroup.LISTEN}
    for bad in ("", "User:Dido\n", SPEC_PRIVACY + "joe:1:1\n", SPEC_PRIVACY + "joe:1:2:0:0\n"):
        with pytest.raises(ProtocolError):
            parse_privacy(bad)
    rights = [
        UserRights("Admin", True, True, True, True),
        UserRights("joe", False, True, False, True),
    ]
    assert format_privacy(rights).startswith(SPEC_PRIVACY)
    assert parse_privacy(format_privacy(rights)) == tuple(rights)


def test_spec_userinfo_example_and_hidden_repr() -> None:
    info = parse_userinfo(SPEC_USERINFO)
    assert info.users == ("Admin",)
    assert info.password("Admin") == "1234"
    assert "Admin" in info and "joe" not in info
    assert len(info) == 1
    for text in (repr(info), str(info), repr(info.credentials), repr(list(info))):
        assert "1234" not in text
    assert "Admin" in repr(info)
    with pytest.raises(KeyError):
        info.password("joe")
    assert format_userinfo({"Admin": "1234"}) == SPEC_USERINFO


def test_userinfo_error_does_not_echo_password() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_userinfo("List username and password\r\n:hunter2\r\n")
    assert "hunter2" not in str(info.value)


# -- 5.1.4 snapshot.cgi -------------------------------------------------------------------------


def test_spec_snapshot_path_example() -> None:
    path = check_snapshot_path("C:\\capture")
    assert encode_query([("action", "set"), ("path", path)]) == "action=set&path=C%3A%5Ccapture"


def test_snapshot_path_charset() -> None:
    assert check_snapshot_path("/mnt/a_b~!@#$%^&+-:") == "/mnt/a_b~!@#$%^&+-:"
    for bad in ("C:\\my capture", "a*b", "é", "", "x" * 256, "a\r\nb", "a.b"):
        with pytest.raises(InvalidArgument):
            check_snapshot_path(bad)


def test_snapshot_path_answer() -> None:
    assert parse_snapshot_path("C:\\capture\r\n") == "C:\\capture"
    assert parse_snapshot_path("path=C:\\capture\n") == "C:\\capture"
    with pytest.raises(ProtocolError):
        parse_snapshot_path("")


# -- 5.1.5 storagemanagement.cgi ----------------------------------------------------------------


def test_spec_storage_requests() -> None:
    assert encode_query(build_storage("format")) == "action=format"
    assert encode_query(build_storage("list")) == "action=list"
    name = "A_20110101_010101.avi"
    assert encode_query(build_storage("remove", name)) == "action=remove&filename=" + name
    assert encode_query(build_storage("download", name)) == "action=download&filename=" + name
    with pytest.raises(InvalidArgument):
        build_storage("remove", "a\r\nHost: evil")


def test_storage_list_parser() -> None:
    text = "A_20110101_010101.avi 1048576\r\nM_20240229_235959.jpg,2048\r\nnotes file.txt\r\n\r\n"
    a, m, n = parse_storage_list(text)
    assert a == StorageEntry("A_20110101_010101.avi", 1048576)
    assert a.recorded_at == datetime(2011, 1, 1, 1, 1, 1)
    assert a.kind == "A"
    assert m.size == 2048 and m.recorded_at == datetime(2024, 2, 29, 23, 59, 59)
    assert n == StorageEntry("notes file.txt", None)
    assert n.recorded_at is None and n.kind is None
    assert StorageEntry("A_20110231_010101.avi").recorded_at is None
    assert parse_storage_list("") == ()


@pytest.mark.parametrize(
    ("device", "local"),
    [
        ("A_20110101_010101.avi", "A_20110101_010101.avi"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\win.ini", "win.ini"),
        ("/abs/path/x.avi", "x.avi"),
        ("C:evil.avi", "C_evil.avi"),
        ("a\x00b", "a_b"),
    ],
)
def test_local_filename_stays_a_single_component(device: str, local: str) -> None:
    assert local_filename(device) == local


@pytest.mark.parametrize("device", ["", "..", ".", "a/..", "dir/", "x" * 300])
def test_local_filename_refuses_unusable(device: str) -> None:
    with pytest.raises(ProtocolError):
        local_filename(device)


@given(st.text(max_size=80))
def test_local_filename_never_escapes(name: str) -> None:
    try:
        result = local_filename(name)
    except ProtocolError:
        return
    assert "/" not in result and "\\" not in result
    assert result not in ("", ".", "..")


# -- 5.1.8 backup: Content-Disposition ------------------------------------------------------------


def test_spec_backup_disposition() -> None:
    assert content_disposition_filename("attachment; filename=config_file.bin") == "config_file.bin"
    assert content_disposition_filename('attachment; filename="../x/c.bin"') == "c.bin"
    assert content_disposition_filename("attachment") is None
    assert content_disposition_filename(None) is None


# -- 5.1.10 firmware filenames ---------------------------------------------------------------


def test_firmware_filenames() -> None:
    assert check_firmware_filename("userland.jffs2") == "userland.jffs2"
    for name in (
        "uImage",
        "userland.img",
        "var",
        "uImage_userland",
        "mcu.bin",
        "switch.bin",
        "main.bin",
        "module.bin",
        "uImage.img",
        "uboot",
    ):
        assert check_firmware_filename(name) == name
    assert check_firmware_filename("main.bin", "Full HD IP PTZ") == "main.bin"
    with pytest.raises(InvalidArgument):
        check_firmware_filename("main.bin", "Full HD WDR IP Camera")
    with pytest.raises(InvalidArgument):
        check_firmware_filename("firmware.bin")
    with pytest.raises(InvalidArgument):
        check_firmware_filename("var", "No such family")


# -- 5.1.14 date.cgi --------------------------------------------------------------------------


def test_spec_date_get_example() -> None:
    assert parse_device_date("Apr 03, 2003 15:16:04\r\n") == datetime(2003, 4, 3, 15, 16, 4)
    assert format_device_date(datetime(2003, 4, 3, 15, 16, 4)) == "Apr 03, 2003 15:16:04"


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1)))
def test_device_date_round_trip(when: datetime) -> None:
    when = when.replace(microsecond=0)
    assert parse_device_date(format_device_date(when) + "\r\n") == when


@pytest.mark.parametrize(
    "bad", ["", "Foo 03, 2003 15:16:04", "Apr 31, 2003 15:16:04", "2003-04-03 15:16:04", "a\nb"]
)
def test_device_date_malformed(bad: str) -> None:
    with pytest.raises(ProtocolError):
        parse_device_date(bad)


def test_spec_date_set_example_shape() -> None:
    # The spec's example uses year=2005, below its own table's range (2007-2099): the table wins,
    # and the same request shape is built with an in-range year.
    assert encode_query(build_date_set(year=2009, month=4, day=3)) == (
        "action=set&year=2009&month=4&day=3"
    )
    with pytest.raises(InvalidArgument) as info:
        build_date_set(year=2005, month=4, day=3)
    assert info.value.argument == "year"


def test_date_set_full_and_timezone() -> None:
    params = build_date_set(datetime(2024, 2, 29, 23, 5, 9), timezone="GMT+8")
    assert encode_query(params) == (
        "action=set&year=2024&month=2&day=29&hour=23&minute=5&second=9&timezone=GMT%2B8"
    )
    aware = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5)))
    assert build_date_set(aware)[-1] == ("timezone", "GMT-5")
    assert build_date_set(timezone=13) == [("action", "set"), ("timezone", "GMT+13")]
    assert build_date_set(hour=0, minute=0, second=0)[1:] == [
        ("hour", "0"),
        ("minute", "0"),
        ("second", "0"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"year": 2100}, "year"),
        ({"year": 2006}, "year"),
        ({"month": 0}, "month"),
        ({"month": 13}, "month"),
        ({"day": 32}, "day"),
        ({"day": 0}, "day"),
        ({"hour": 24}, "hour"),
        ({"minute": 60}, "minute"),
        ({"second": -1}, "second"),
        ({"year": 2023, "month": 2, "day": 29}, "day"),
        ({"timezone": "GMT+14"}, "timezone"),
        ({"timezone": -13}, "timezone"),
        ({"timezone": "UTC+1"}, "timezone"),
        ({}, "date"),
    ],
)
def test_date_set_ranges(kwargs: dict[str, object], argument: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        build_date_set(**kwargs)  # type: ignore[arg-type]
    assert info.value.argument == argument


def test_date_set_refuses_both_forms() -> None:
    with pytest.raises(InvalidArgument):
        build_date_set(datetime(2020, 1, 1), year=2020)


def test_format_timezone() -> None:
    assert format_timezone("GMT") == "GMT+0"
    assert format_timezone("gmt-05") == "GMT-5"
    assert format_timezone("GMT+05:00") == "GMT+5"
    assert format_timezone(-12) == "GMT-12"
    with pytest.raises(InvalidArgument):
        format_timezone(True)


# -- 5.2.1 image.cgi -----------------------------------------------------------------------------


def _jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "JPEG", quality=80)
    return out.getvalue()


def test_jpeg_parser_reads_size_and_tolerates_trailing_crlf() -> None:
    data = _jpeg(320, 240)
    image = parse_jpeg(data + b"\r\n")
    assert (image.width, image.height) == (320, 240)
    assert image.data == data
    assert len(image) == len(data)
    assert "bytes>" in repr(image)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d[:-2],  # no EOI
        lambda d: d[2:],  # no SOI
        lambda d: b"# Error: no image\n",
        lambda d: b"",
        lambda d: d[:20] + b"\x00" + d[21:],  # a marker byte clobbered inside the headers
    ],
)
def test_jpeg_parser_refuses_broken_images(mutate) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ProtocolError):
        parse_jpeg(mutate(_jpeg(16, 16)))


@given(st.binary(max_size=300))
def test_jpeg_parser_fuzz(data: bytes) -> None:
    try:
        image = parse_jpeg(b"\xff\xd8\xff" + data + b"\xff\xd9")
    except ProtocolError:
        return
    assert image.data.startswith(b"\xff\xd8")


def test_group_membership_empty() -> None:
    assert parse_group_membership("") == GroupMembership(())


@pytest.mark.parametrize(
    "parser",
    [
        parse_group_membership,
        parse_privacy,
        parse_userinfo,
        parse_snapshot_path,
        parse_storage_list,
        parse_device_date,
    ],
)
@given(text=st.text(max_size=200))
def test_text_parsers_raise_only_protocol_error(parser, text: str) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(ProtocolError):
        parser(text)
