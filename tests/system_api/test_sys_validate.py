"""Unit tests of the shared argument checkers (ipcam_async.validate)."""

from __future__ import annotations

import pytest

from ipcam_async.errors import InvalidArgument
from ipcam_async.validate import (
    check_alnum,
    check_charset,
    check_choice,
    check_choices,
    check_forbidden_chars,
    check_int,
    check_text,
)


def test_check_int_accepts_bounds_and_refuses_outside() -> None:
    assert check_int("year", 2007, 2007, 2099) == 2007
    assert check_int("year", 2099, 2007, 2099) == 2099
    with pytest.raises(InvalidArgument) as info:
        check_int("year", 2100, 2007, 2099)
    assert info.value.argument == "year"
    assert info.value.allowed == "2007..2099"
    assert info.value.value == 2100
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("bad", [True, 1.0, "5", None])
def test_check_int_refuses_non_integers(bad: object) -> None:
    with pytest.raises(InvalidArgument):
        check_int("n", bad, 0, 10)


def test_alnum_charset() -> None:
    assert check_alnum("user", "joe42AZ") == "joe42AZ"
    for bad in ("", "jo e", "joé", "a_b", "a:b", "x\r\ny"):
        with pytest.raises(InvalidArgument):
            check_alnum("user", bad)
    with pytest.raises(InvalidArgument):
        check_alnum("user", "a" * 65, max_len=64)


def test_secret_values_are_not_echoed() -> None:
    with pytest.raises(InvalidArgument) as info:
        check_alnum("password", "s3cret!", secret=True)
    assert "s3cret" not in str(info.value)
    assert info.value.value == "<hidden>"


def test_text_refuses_control_characters_and_length() -> None:
    assert check_text("f", "A_1.avi") == "A_1.avi"
    for bad in ("a\x00b", "a\nb", "\x7f", ""):
        with pytest.raises(InvalidArgument):
            check_text("f", bad)
    with pytest.raises(InvalidArgument):
        check_text("f", 12)


def test_charset_and_forbidden() -> None:
    assert check_charset("p", "abc", "abc", "a, b or c") == "abc"
    with pytest.raises(InvalidArgument) as info:
        check_charset("p", "abd", "abc", "a, b or c")
    assert info.value.allowed == "a, b or c"
    assert check_forbidden_chars("name", "Door 1", "~", max_len=31) == "Door 1"
    with pytest.raises(InvalidArgument):
        check_forbidden_chars("name", "a~b", "~")
    with pytest.raises(InvalidArgument):
        check_forbidden_chars("name", "x" * 32, "~", max_len=31)


def test_choices() -> None:
    assert check_choice("kind", "var", ["var", "uImage"]) == "var"
    with pytest.raises(InvalidArgument):
        check_choice("kind", "VAR", ["var"])
    assert check_choices("g", ["talk", "dido", "talk"], ["dido", "talk"]) == ("talk", "dido")
    assert check_choices("g", "dido", ["dido"]) == ("dido",)
    with pytest.raises(InvalidArgument):
        check_choices("g", ["dido", "admin"], ["dido"])
