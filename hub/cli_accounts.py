"""``sitegate hub account create``: make an account from the command line, chiefly the first city
account, without which nobody can use the API.

The password comes from a file (``-`` for stdin), never from a flag, so it does not show in the
process list or the shell's history; nothing secret is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from hub.auth import audit
from hub.auth.accounts import insert_account
from hub.auth.principal import Role
from hub.config import HubConfig, load_config
from hub.errors import HubError
from hub.store import Store
from wire.clock import Clock, SystemClock

ACTOR = "<command line>"
"""How an account made here appears in the audit log."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sitegate hub account", description="Manage hub accounts.")
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create an account (e.g. the first city account)")
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--username", required=True)
    create.add_argument(
        "--password-file", required=True, metavar="FILE", help="file holding the password ('-': stdin)"
    )
    create.add_argument("--display-name", help="shown in the console (default: the username)")
    create.add_argument("--district", help="district code (district accounts)")
    create.add_argument("--enterprise-id", help="enterprise id (enterprise and project accounts)")
    create.add_argument("--project-id", help="project id (project accounts)")
    create.add_argument("--config", type=Path, metavar="FILE", help="the hub's TOML settings")
    create.add_argument("--database-url", help="the hub's database (default: from --config or the default)")
    return parser


def main(argv: list[str], *, clock: Clock | None = None) -> int:
    """``clock`` dates the account and its audit line (the system's when not given)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        config = load_config(args.config, {"database_url": args.database_url})
        password = _read_password(args.password_file)
    except (HubError, OSError) as err:
        print(f"sitegate hub account: {err}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_create(config, args, password, clock or SystemClock()))
    except (ValueError, HubError) as err:  # AccountExists and a weak password are ValueErrors
        print(f"sitegate hub account: {err}", file=sys.stderr)
        return 1
    print(f"account {args.username!r} ({args.role}) created")
    return 0


def _read_password(name: str) -> str:
    text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    return text.rstrip("\r\n")


async def _create(config: HubConfig, args: argparse.Namespace, password: str, clock: Clock) -> None:
    store = await Store.open(config.database_url, clock=clock)
    async with store, store.write("create account") as conn:
        now = clock.wall()
        principal = await insert_account(
            conn,
            username=args.username,
            password=password,
            role=Role(args.role),
            display_name=args.display_name or args.username,
            now=now,
            district=args.district,
            enterprise_id=args.enterprise_id,
            project_id=args.project_id,
        )
        detail = {"role": principal.role.value, "district": principal.district}
        detail |= {"enterprise_id": principal.enterprise_id, "project_id": principal.project_id}
        await audit.record(
            conn,
            None,
            "account.create",
            at=now,
            username=ACTOR,
            target=f"account:{principal.username}",
            detail={k: v for k, v in detail.items() if v is not None},
        )
