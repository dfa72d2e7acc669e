"""``ipcam users ...``: accounts, groups and rights (pwdgrp.cgi, privacy.cgi, userinfo.cgi).

A new account's password is read from ``--new-password``, the ``IPCAM_NEW_PASSWORD``
environment variable, or a prompt, in that order; passwords are never printed unless
``users passwords --show`` is asked for.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from ..api.system_models import SecondaryGroup
from .common import CliError, add_leaf, emit, open_camera

__all__ = ["ENV_NEW_PASSWORD", "register"]

ENV_NEW_PASSWORD = "IPCAM_NEW_PASSWORD"


def _groups(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [g.strip() for g in value.split(",") if g.strip()]


def _new_password(args: argparse.Namespace, *, required: bool) -> str | None:
    if args.new_password is not None:
        return str(args.new_password)
    env = os.environ.get(ENV_NEW_PASSWORD)
    if env:
        return env
    if required:
        if not sys.stdin.isatty():
            raise CliError(f"give the new password with --new-password or {ENV_NEW_PASSWORD}")
        return getpass.getpass(f"password for {args.name}: ")
    return None


async def run_list(args: argparse.Namespace) -> int:
    """Print each user with its groups and rights."""
    async with open_camera(args) as cam:
        groups = await cam.users.groups()
        rights = {r.user: r for r in await cam.users.rights()}
    data = []
    for user in groups.users or tuple(rights):
        r = rights.get(user)
        data.append(
            {
                "user": user,
                "groups": list(groups.groups_of(user)),
                "rights": sorted(g.value for g in r.groups) if r else [],
            }
        )
    emit(
        args,
        data,
        lambda: "".join(
            f"{d['user']}: groups={','.join(d['groups']) or '-'} "
            f"rights={','.join(d['rights']) or '-'}\n"
            for d in data
        ),
    )
    return 0


async def run_rights(args: argparse.Namespace) -> int:
    """Print the privacy table (Dido, Camset, Talk, Listen)."""
    async with open_camera(args) as cam:
        rights = await cam.users.rights()
    data = [
        {"user": r.user, "dido": r.dido, "camset": r.camset, "talk": r.talk, "listen": r.listen}
        for r in rights
    ]
    emit(
        args,
        data,
        lambda: (
            "user dido camset talk listen\n"
            + "".join(
                f"{r.user} {int(r.dido)} {int(r.camset)} {int(r.talk)} {int(r.listen)}\n"
                for r in rights
            )
        ),
    )
    return 0


async def run_passwords(args: argparse.Namespace) -> int:
    """Print the user names (and, with --show, the passwords) from userinfo.cgi."""
    async with open_camera(args) as cam:
        info = await cam.users.userinfo()
    if args.show:
        data = [{"user": c.user, "password": c.password} for c in info]
        emit(args, data, lambda: "".join(f"{c.user}:{c.password}\n" for c in info))
    else:
        emit(args, list(info.users), lambda: "".join(f"{u}:***\n" for u in info.users))
    return 0


async def run_add(args: argparse.Namespace) -> int:
    """Create an account."""
    password = _new_password(args, required=True)
    assert password is not None
    async with open_camera(args) as cam:
        await cam.users.add(args.name, password, _groups(args.groups) or ())
    emit(args, {"added": args.name}, f"user {args.name} added")
    return 0


async def run_update(args: argparse.Namespace) -> int:
    """Change an account's password and/or groups."""
    password = _new_password(args, required=False)
    async with open_camera(args) as cam:
        await cam.users.update(args.name, password=password, groups=_groups(args.groups))
    emit(args, {"updated": args.name}, f"user {args.name} updated")
    return 0


async def run_remove(args: argparse.Namespace) -> int:
    """Remove an account."""
    async with open_camera(args) as cam:
        await cam.users.remove(args.name)
    emit(args, {"removed": args.name}, f"user {args.name} removed")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``users`` command group."""
    groups_help = "comma-separated secondary groups: " + ",".join(g.value for g in SecondaryGroup)
    parser = subparsers.add_parser("users", help="user accounts, groups and rights")
    actions = parser.add_subparsers(dest="users_action", metavar="ACTION", required=True)
    add_leaf(actions, "list", run_list, help="users with their groups and rights")
    add_leaf(actions, "rights", run_rights, help="the privacy table")
    p = add_leaf(actions, "passwords", run_passwords, help="users from userinfo.cgi")
    p.add_argument("--show", action="store_true", help="print the passwords too")
    for name, handler, text in (
        ("add", run_add, "create an account"),
        ("update", run_update, "change an account's password and/or groups"),
    ):
        p = add_leaf(actions, name, handler, help=text)
        p.add_argument("name", metavar="USER")
        p.add_argument(
            "--new-password", help=f"the account's password (better: env {ENV_NEW_PASSWORD})"
        )
        p.add_argument("--groups", help=groups_help)
    p = add_leaf(actions, "remove", run_remove, help="remove an account")
    p.add_argument("name", metavar="USER")
