"""User accounts: ``pwdgrp.cgi``, ``privacy.cgi`` and ``userinfo.cgi`` (spec 5.1.2, 5.1.3).

Requests that carry a password are sent as ``POST`` with the parameters in a form body (the
spec allows GET or POST), so a password never lands in a URL, an access log or a proxy log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..errors import InvalidArgument
from ..http.query import encode_query
from ..validate import check_alnum, check_choices
from .system_models import (
    GroupMembership,
    SecondaryGroup,
    UserInfo,
    UserRights,
    parse_group_membership,
    parse_privacy,
    parse_userinfo,
)

if TYPE_CHECKING:
    from ..camera import Camera

__all__ = [
    "MAX_NAME_LENGTH",
    "PRIVACY_PATH",
    "PWDGRP_PATH",
    "USERINFO_PATH",
    "UsersApi",
    "build_pwdgrp",
]

log = logging.getLogger(__name__)

PWDGRP_PATH = "/cgi-bin/admin/pwdgrp.cgi"
PRIVACY_PATH = "/cgi-bin/admin/privacy.cgi"
USERINFO_PATH = "/cgi-bin/admin/userinfo.cgi"

#: Longest user name or password accepted (the spec gives no limit; devices store short ones).
MAX_NAME_LENGTH = 64

_GROUP_NAMES = tuple(g.value for g in SecondaryGroup)
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _groups(groups: Iterable[SecondaryGroup | str]) -> str:
    values = [g.value if isinstance(g, SecondaryGroup) else g for g in groups]
    return ":".join(check_choices("groups", values, _GROUP_NAMES))


def build_pwdgrp(
    action: str,
    user: str | None = None,
    *,
    password: str | None = None,
    groups: Iterable[SecondaryGroup | str] | None = None,
) -> list[tuple[str, str]]:
    """Validated ``pwdgrp.cgi`` parameters in the spec's order: action, user, pwd, sgrp.

    ``groups`` joins to ``sgrp=dido:camctrl:talk:listen``; the caller encodes with ``safe=":"``.
    Raises :class:`~ipcam_async.errors.InvalidArgument` on a name or password outside a-z A-Z 0-9
    or an unknown group.
    """
    params = [("action", action)]
    if user is not None:
        params.append(("user", check_alnum("user", user, max_len=MAX_NAME_LENGTH)))
    if password is not None:
        pwd = check_alnum("password", password, max_len=MAX_NAME_LENGTH, secret=True)
        params.append(("pwd", pwd))
    if groups is not None:
        params.append(("sgrp", _groups(groups)))
    return params


class UsersApi:
    """``cam.users``: add, update, remove and list user accounts and their rights.

    Adding, updating and removing need root access on the camera.
    """

    def __init__(self, camera: Camera) -> None:
        self._camera = camera

    async def _pwdgrp_post(self, params: list[tuple[str, str]]) -> None:
        body = encode_query(params, safe=":").encode("ascii")
        # The account's new password must not come back in an error text either.
        secrets = [value for name, value in params if name == "pwd"]
        await self._camera.transport.request(
            "POST", PWDGRP_PATH, data=body, headers=_FORM, secrets=secrets
        )

    async def add(
        self,
        user: str,
        password: str,
        groups: Iterable[SecondaryGroup | str] = (),
    ) -> None:
        """Create account ``user`` with ``password`` and secondary ``groups``.

        ``groups`` are :class:`SecondaryGroup` members or their names (``"dido"``, ``"camctrl"``,
        ``"talk"``, ``"listen"``). The spec's administrator example gives all four.
        """
        groups = tuple(groups)
        params = build_pwdgrp("add", user, password=password, groups=groups or None)
        await self._pwdgrp_post(params)
        log.info("user %s added", user)

    async def update(
        self,
        user: str,
        *,
        password: str | None = None,
        groups: Iterable[SecondaryGroup | str] | None = None,
    ) -> None:
        """Change the password and/or the secondary groups of an existing account.

        ``groups=()`` clears every secondary group; ``None`` leaves them as they are.
        """
        if password is None and groups is None:
            raise InvalidArgument("update", "a password and/or groups to change", None)
        await self._pwdgrp_post(build_pwdgrp("update", user, password=password, groups=groups))
        log.info("user %s updated", user)

    async def remove(self, user: str) -> None:
        """Remove account ``user``."""
        await self._pwdgrp_post(build_pwdgrp("remove", user))
        log.info("user %s removed", user)

    async def groups(self) -> GroupMembership:
        """The users of each group (``pwdgrp.cgi?action=get``)."""
        response = await self._camera.transport.request(
            "GET", PWDGRP_PATH, params=build_pwdgrp("get")
        )
        return parse_group_membership(response.text)

    async def rights(self) -> tuple[UserRights, ...]:
        """Per-user rights from ``privacy.cgi`` (Dido, Camset, Talk, Listen)."""
        response = await self._camera.transport.request("GET", PRIVACY_PATH)
        return parse_privacy(response.text)

    async def userinfo(self) -> UserInfo:
        """User names and passwords from ``userinfo.cgi`` (the result's ``repr`` hides them)."""
        response = await self._camera.transport.request("GET", USERINFO_PATH)
        return parse_userinfo(response.text)
