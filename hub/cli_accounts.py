"""``sitegate hub account create`` and ``sitegate hub account list``: the hub's accounts from the
command line, chiefly the first city account, without which nobody can use the API.

The password comes from a file (``-`` for stdin), never from a flag, so it does not show in the
process list or the shell's history; nothing secret is printed, the list shows no password hash.
Both commands work on an existing hub database only (:mod:`hub.cli_database`): a mistyped
``--database-url`` is refused, not made into a new database, unless ``create --create-database``
asks for one. Messages are Chinese first, then English, and name no Python exception.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import make_url, select

from hub.auth import audit
from hub.auth.accounts import insert_account
from hub.auth.principal import Role
from hub.cli_database import DatabaseState, probe, shown
from hub.config import HubConfig, load_config
from hub.console.labels import ROLE
from hub.errors import ConfigError, HubError, StoreError
from hub.store import Store
from hub.store.schema import accounts
from sitegate.clitext import plain_error
from wire.clock import SITE_ZONE, Clock, SystemClock

ACTOR = "<command line>"
"""How an account made here appears in the audit log."""
PROG = "sitegate hub account"
CREATE_DATABASE = "--create-database"
TIME_FORMAT = "%Y-%m-%d %H:%M"
"""Beijing time, as the site office writes it."""


class Refused(Exception):
    """A command refused before it changed anything; the message says why and what to do."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="管理 hub 账号 / Manage the hub's accounts (create, list)."
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="{create,list}")
    create = actions.add_parser(
        "create",
        help="新建账号 / create an account (e.g. the first city account)",
        description="新建账号 / Create an account (the first one: --role city).",
    )
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--username", required=True)
    create.add_argument(
        "--password-file", required=True, metavar="FILE", help="file holding the password ('-': stdin)"
    )
    create.add_argument("--display-name", help="shown in the console (default: the username)")
    create.add_argument("--district", help="district code (district accounts)")
    create.add_argument("--enterprise-id", help="enterprise id (enterprise and project accounts)")
    create.add_argument("--project-id", help="project id (project accounts)")
    create.add_argument(
        CREATE_DATABASE,
        action="store_true",
        help="新建 hub 数据库 / make a new hub database at this URL if there is none "
        "(SQLite: a new file; PostgreSQL: the hub's tables in an existing, empty database)",
    )
    listing = actions.add_parser(
        "list",
        help="列出账号 / list the accounts",
        description="列出账号（不显示密码）/ List the accounts (never their passwords).",
    )
    for action in (create, listing):
        action.add_argument("--config", type=Path, metavar="FILE", help="the hub's TOML settings")
        action.add_argument(
            "--database-url", help="the hub's database (default: from --config or the default)"
        )
    return parser


def main(argv: list[str], *, clock: Clock | None = None) -> int:
    """``clock`` dates the account and its audit line (the system's when not given)."""
    clock = clock or SystemClock()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        config = load_config(args.config, {"database_url": args.database_url})
        password = _read_password(args.password_file) if args.action == "create" else ""
    except (HubError, OSError) as err:
        return _failed("读不到设置或密码文件 / cannot read the settings or the password file", err, 2)
    try:
        if args.action == "list":
            print(asyncio.run(_list(config, clock)))
            return 0
        asyncio.run(_create(config, args, password, clock))
    except Refused as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 2
    except ConfigError as err:
        return _failed("设置有误 / bad settings", err, 2)
    except StoreError as err:
        if not err.transient:
            return _failed("未能完成 / failed", err, 1)
        where = shown(config.database_url)
        what = f"连不上数据库 / cannot reach the database {where}"
        return _failed(
            f"{what} (请检查它是否在运行及 --database-url / check that it runs, and --database-url)", err, 1
        )
    except (ValueError, HubError) as err:  # AccountExists and a weak password are ValueErrors
        return _failed("未能完成 / failed", err, 1)
    print(f"已创建账号 / account created: {args.username} ({ROLE[args.role].zh} / {args.role})")
    return 0


def _failed(what: str, err: BaseException, code: int) -> int:
    print(f"{PROG}: {what}: {plain_error(err)}", file=sys.stderr)
    return code


def _read_password(name: str) -> str:
    text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    return text.rstrip("\r\n")


async def _existing_database(url: str, *, may_create: bool) -> None:
    """Refused unless ``url`` holds a hub database, or ``may_create`` and one can be made there."""
    state = await probe(url)
    if state is DatabaseState.HUB:
        return
    where = shown(url)
    postgres = make_url(url).get_backend_name() == "postgresql"
    if state is DatabaseState.MISSING and postgres:
        raise Refused(
            f"PostgreSQL 数据库不存在：{where}。请检查 --database-url；新的数据库请先用 createdb 建好。"
            f" / no such PostgreSQL database: {where}. Check --database-url; create a new database "
            f"first (createdb), then {CREATE_DATABASE} makes the hub's tables in it."
        )
    if may_create:
        return
    if state is DatabaseState.MISSING:
        raise Refused(
            f"数据库不存在：{where}。请检查 --database-url 或 --config；确实要新建 hub 数据库时加 "
            f"{CREATE_DATABASE}。 / no hub database at {where}: check --database-url or --config, or "
            f"add {CREATE_DATABASE} to make a new one."
        )
    raise Refused(
        f"数据库 {where} 中没有 hub 的数据表。请检查 --database-url 或 --config；确实要在其中新建时加 "
        f"{CREATE_DATABASE}。 / {where} holds no hub database: check --database-url or --config, or "
        f"add {CREATE_DATABASE} to make the hub's tables there."
    )


async def _create(config: HubConfig, args: argparse.Namespace, password: str, clock: Clock) -> None:
    await _existing_database(config.database_url, may_create=args.create_database)
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


HEADERS = ("用户名 username", "角色 role", "范围 scope", "状态 status", "创建于 created")


async def _list(config: HubConfig, clock: Clock) -> str:
    """Every account as a table, sorted by username; never a password hash."""
    await _existing_database(config.database_url, may_create=False)
    a = accounts.c
    query = select(
        a.username,
        a.role,
        a.district,
        a.enterprise_id,
        a.project_id,
        a.disabled,
        a.locked_until,
        a.created_at,
    ).order_by(a.username)
    async with (
        await Store.open(config.database_url, clock=clock) as store,
        store.read("list accounts") as conn,
    ):
        rows = (await conn.execute(query)).all()
    now = clock.wall()
    lines = [
        (
            row.username,
            ROLE[row.role].zh if row.role in ROLE else row.role,
            _scope(row.district, row.enterprise_id, row.project_id),
            _status(row.disabled, row.locked_until, now),
            _beijing(row.created_at),
        )
        for row in rows
    ]
    if not lines:
        return "还没有账号 / no accounts yet"
    return _table([HEADERS, *lines])


def _scope(district: str | None, enterprise_id: str | None, project_id: str | None) -> str:
    if project_id:
        return f"项目 project {project_id}"
    if enterprise_id:
        return f"企业 enterprise {enterprise_id}"
    if district:
        return f"区 district {district}"
    return "全市 city-wide"


def _status(disabled: bool, locked_until: datetime | None, now: datetime) -> str:
    if disabled:
        return "已停用 disabled"
    if locked_until is not None and locked_until > now:
        return f"锁定至 locked until {_beijing(locked_until)}"
    return "正常 active"


def _beijing(moment: datetime) -> str:
    return moment.astimezone(SITE_ZONE).strftime(TIME_FORMAT)


def _table(rows: Sequence[Sequence[str]]) -> str:
    """Columns aligned on a terminal, where a Chinese character takes two cells."""
    widths = [max(_cells(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            text + " " * (width - _cells(text)) for text, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    )


def _cells(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
