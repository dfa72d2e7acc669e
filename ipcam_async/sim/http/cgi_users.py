"""``pwdgrp.cgi``, ``privacy.cgi`` and ``userinfo.cgi`` of the simulated camera (spec 5.1.2, 5.1.3).

The spec's ``pwdgrp.cgi`` has no primary-group parameter; the simulator derives the access
level of an account it creates from its secondary groups: ``camctrl`` (camera settings, shown
as ``Camset``) gives administrator access, as in the spec's "create a new administrator
account" example, anything else gives view access. The initial account keeps root access.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

from ...api.system_models import (
    UserRights,
    format_group_membership,
    format_privacy,
    format_userinfo,
)
from ...validate import ALNUM
from ..state import SECONDARY_GROUPS, CameraState, User, UserGroup
from .app import CgiRouter, current_user, error_response, text_response
from .cgi_params import request_pairs

__all__ = ["PRIVACY_PATH", "PWDGRP_PATH", "USERINFO_PATH", "register"]

PWDGRP_PATH: Final = "/cgi-bin/admin/pwdgrp.cgi"
PRIVACY_PATH: Final = "/cgi-bin/admin/privacy.cgi"
USERINFO_PATH: Final = "/cgi-bin/admin/userinfo.cgi"

_MAX_NAME: Final = 64
_MAX_USERS: Final = 64


def _valid_name(value: str) -> bool:
    return 0 < len(value) <= _MAX_NAME and all(ch in ALNUM for ch in value)


def _parse_sgrp(value: str) -> set[str] | None:
    groups = {g.strip() for g in value.split(":") if g.strip()}
    return groups if groups <= set(SECONDARY_GROUPS) else None


def _group_for(sgroups: set[str]) -> UserGroup:
    return "operator" if "camctrl" in sgroups else "viewer"


async def pwdgrp_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """add / update / remove / get (root access)."""
    pairs = dict(await request_pairs(request))
    action = pairs.get("action")
    if action == "get":
        groups: dict[str, list[str]] = {g: [] for g in ("admin", "operator", "viewer")}
        groups.update({g: [] for g in SECONDARY_GROUPS})
        for name, user in state.users.items():
            groups[user.group].append(name)
            for sgroup in SECONDARY_GROUPS:
                if sgroup in user.sgroups:
                    groups[sgroup].append(name)
        return text_response(format_group_membership(groups))
    if action not in ("add", "update", "remove"):
        return error_response(f"invalid action '{action}'" if action else "no action given")
    name = pairs.get("user", "")
    if not _valid_name(name):
        return error_response("user: valid characters are a-z, A-Z and 0-9")
    password = pairs.get("pwd")
    if password is not None and not _valid_name(password):
        return error_response("pwd: valid characters are a-z, A-Z and 0-9")
    sgroups: set[str] | None = None
    if "sgrp" in pairs:
        sgroups = _parse_sgrp(pairs["sgrp"])
        if sgroups is None:
            return error_response("sgrp: existing groups are " + ", ".join(SECONDARY_GROUPS))
    existing = state.users.get(name)
    actor = current_user(request)
    if action == "add":
        if existing is not None:
            return text_response(f"409 Conflict: user {name} exists\r\n", status=409)
        if password is None:
            return error_response("pwd is required to add a user")
        if len(state.users) >= _MAX_USERS:
            return error_response(f"at most {_MAX_USERS} users")
        sgroups = sgroups or set()
        state.users[name] = User(password, _group_for(sgroups), sgroups)
        state.log(f"pwdgrp.cgi: {actor} added user {name}")
    elif existing is None:
        return text_response(f"404 Not Found: no user {name}\r\n", status=404)
    elif action == "update":
        if password is None and sgroups is None:
            return error_response("nothing to update")
        if password is not None:
            existing.password = password
        if sgroups is not None:
            existing.sgroups = sgroups
            if existing.group != "admin":
                existing.group = _group_for(sgroups)
        state.log(f"pwdgrp.cgi: {actor} updated user {name}")
    else:
        roots = [n for n, u in state.users.items() if u.group == "admin"]
        if existing.group == "admin" and roots == [name]:
            return text_response("409 Conflict: cannot remove the last root user\r\n", status=409)
        del state.users[name]
        state.log(f"pwdgrp.cgi: {actor} removed user {name}")
    state.changed()
    return text_response("OK\r\n")


def _rights(name: str, user: User) -> UserRights:
    return UserRights(
        user=name,
        dido="dido" in user.sgroups,
        camset="camctrl" in user.sgroups,
        talk="talk" in user.sgroups,
        listen="listen" in user.sgroups,
    )


async def privacy_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """Per-user rights in the spec's ``Username:Dido:Camset:Talk:Listen`` table."""
    return text_response(format_privacy([_rights(n, u) for n, u in state.users.items()]))


async def userinfo_cgi(request: web.Request, state: CameraState) -> web.StreamResponse:
    """User names with their passwords (root access: it discloses every password)."""
    return text_response(format_userinfo({n: u.password for n, u in state.users.items()}))


def register(router: CgiRouter) -> None:
    """Add the three user CGIs."""
    router.add(("GET", "POST"), PWDGRP_PATH, pwdgrp_cgi, "root")
    router.add("GET", PRIVACY_PATH, privacy_cgi, "admin")
    router.add("GET", USERINFO_PATH, userinfo_cgi, "root")
