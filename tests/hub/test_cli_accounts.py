"""The ``sitegate`` command as an administrator runs it: a mistyped database is refused rather than
made, accounts are listed without their hashes, messages are Chinese first and name no Python
exception, ``--version`` answers and ``--help`` carries no reST markup.

The command's logic runs in this process (``sitegate.cli.main`` with its own argv, stdin, stdout
and stderr): a process for each of the ~30 commands cost a second of imports apiece. The installed
entry point is proven by the few runs that spawn it (``spawned``): its exit codes, its stdin and
that no traceback reaches its stderr, where an in-process run cannot tell.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import make_url, update

from hub.auth.principal import Role
from hub.store import Store
from hub.store.schema import accounts
from sitegate.cli import main as sitegate_main
from sitegate.netutil import free_port
from sitegate.postgres import PostgresServer
from tests.support.accounts import create_account
from tests.support.registry_rows import GC, contractor_with_projects

SITEGATE = str(Path(sys.executable).parent / "sitegate")
PASSWORD = "a long enough city password"
PYTHON_NAME = re.compile(r"\b\w*(Error|Exception)\b|Traceback|AccountExists")
"""What an administrator must never read: Python's names for what went wrong."""


def sitegate(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``sitegate *args`` in this process: its exit code and what it wrote to stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    real_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = sitegate_main(list(args))
    except SystemExit as exit_:  # argparse's --help in the parts that let it end the process
        code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    finally:
        sys.stdin = real_stdin
    return subprocess.CompletedProcess([SITEGATE, *args], code, out.getvalue(), err.getvalue())


def spawned(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``sitegate *args`` as an administrator runs it: the installed command, in a process."""
    return subprocess.run(
        [SITEGATE, *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def create_args(url: str, *extra: str, username: str = "station") -> list[str]:
    args = ["hub", "account", "create", "--role", "city", "--username", username, "--password-file", "-"]
    return [*args, "--database-url", url, *extra]


def create(url: str, *extra: str, username: str = "station") -> subprocess.CompletedProcess[str]:
    return sitegate(*create_args(url, *extra, username=username), stdin=PASSWORD + "\n")


def test_a_missing_sqlite_file_is_refused_unless_asked_to_create_one(tmp_path: Path) -> None:
    typo = tmp_path / "hbu.db"
    url = f"sqlite+aiosqlite:///{typo}"
    refused = create(url)
    assert refused.returncode == 2
    assert refused.stderr.startswith("sitegate hub account: 数据库不存在：")
    assert (
        url in refused.stderr
        and "--create-database" in refused.stderr
        and "no hub database" in refused.stderr
    )
    assert not typo.exists()  # nothing made, not even an empty file
    made = create(url, "--create-database")
    assert made.returncode == 0, made.stderr
    assert "station" in made.stdout and PASSWORD not in made.stdout + made.stderr
    again = create(url, username="station-2")  # now it is a hub database: no flag needed
    assert again.returncode == 0, again.stderr


def test_an_sqlite_file_without_the_hub_schema_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "other.db"
    empty.touch()
    url = f"sqlite+aiosqlite:///{empty}"
    for command in (create(url), sitegate("hub", "account", "list", "--database-url", url)):
        assert command.returncode == 2
        assert "中没有 hub 的数据表" in command.stderr and "holds no hub database" in command.stderr
    assert empty.stat().st_size == 0
    assert create(url, "--create-database").returncode == 0


@pytest.mark.postgres
def test_postgres_a_missing_or_empty_database_is_refused(postgres_server: PostgresServer) -> None:
    missing = make_url(postgres_server.url("no_such_hub")).set(password="pw-in-url").render_as_string(False)
    for extra in ((), ("--create-database",)):
        refused = create(missing, *extra)
        assert refused.returncode == 2
        assert "PostgreSQL 数据库不存在" in refused.stderr and "createdb" in refused.stderr
        assert "pw-in-url" not in refused.stderr and ":***@" in refused.stderr
    asyncio.run(_create_database(postgres_server, "empty_hub"))
    empty = postgres_server.url("empty_hub")
    refused = create(empty)
    assert refused.returncode == 2 and "中没有 hub 的数据表" in refused.stderr and empty in refused.stderr
    made = create(empty, "--create-database")
    assert made.returncode == 0, made.stderr
    assert "station" in sitegate("hub", "account", "list", "--database-url", empty).stdout


async def _create_database(server: PostgresServer, name: str) -> None:
    admin = await asyncpg.connect(server.admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


def test_list_shows_each_account_in_words_and_no_hash(database_url: str) -> None:
    asyncio.run(_accounts(database_url))
    listed = sitegate("hub", "account", "list", "--database-url", database_url)
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split() == [
        "用户名",
        "username",
        "角色",
        "role",
        "范围",
        "scope",
        "状态",
        "status",
        "创建于",
        "created",
    ]
    by_name = {row.split()[0]: row for row in rows}
    assert list(by_name) == ["gc-p1", "ops", "station", "xihu"]
    assert (
        "市建管站" in by_name["station"]
        and "全市" in by_name["station"]
        and "正常 active" in by_name["station"]
    )
    assert "2026-03-01 08:30" in by_name["station"]  # 00:30 UTC, in Beijing time
    assert "区住建局" in by_name["xihu"] and "区 district 330106" in by_name["xihu"]
    assert "总包项目部" in by_name["gc-p1"] and "项目 project P-1" in by_name["gc-p1"]
    assert "锁定至 locked until" in by_name["gc-p1"]
    assert "系统运维" in by_name["ops"] and "已停用 disabled" in by_name["ops"]
    assert "argon2" not in listed.stdout and "gc_project" not in listed.stdout


async def _accounts(url: str) -> None:
    async with await Store.open(url) as store:
        async with store.write("test: the registry rows") as conn:
            at = datetime(2026, 3, 1, tzinfo=UTC)
            await contractor_with_projects(
                conn,
                ["P-1"],
                district="330106",
                district_name="西湖区",
                gc_number="91330106MA0000001X",
                now=at,
            )
        await create_account(store, role=Role.CITY, username="station")
        await create_account(store, role=Role.DISTRICT, username="xihu", district="330106")
        await create_account(
            store, role=Role.GC_PROJECT, username="gc-p1", enterprise_id=GC, project_id="P-1"
        )
        await create_account(store, role=Role.OPERATOR, username="ops")
        a = accounts.c
        async with store.write("test: disable, lock, date") as conn:
            await conn.execute(update(accounts).where(a.username == "ops").values(disabled=True))
            locked = datetime.now(UTC) + timedelta(minutes=10)
            await conn.execute(update(accounts).where(a.username == "gc-p1").values(locked_until=locked))
            created = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
            await conn.execute(update(accounts).where(a.username == "station").values(created_at=created))


def test_failures_say_what_to_do_and_name_no_python_exception(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    assert create(url, "--create-database").returncode == 0
    taken = create(url)
    assert taken.returncode == 1 and "already exists" in taken.stderr
    unreachable = f"postgresql+asyncpg://sitegate:secret-pw@127.0.0.1:{free_port()}/hub"
    down = sitegate("hub", "account", "list", "--database-url", unreachable)
    assert down.returncode == 1 and "连不上数据库" in down.stderr and "--database-url" in down.stderr
    assert "secret-pw" not in down.stderr
    weak = sitegate(
        "hub", "account", "create", "--role", "city", "--username", "x-1", "--password-file", "-",
        "--database-url", url, stdin="short",
    )  # fmt: skip
    assert weak.returncode == 1 and "characters" in weak.stderr
    nonsense = sitegate("hub", "account", "list", "--database-url", "not a url")
    assert nonsense.returncode == 2 and "not a database URL" in nonsense.stderr
    for answer in (taken, down, weak, nonsense):
        assert not PYTHON_NAME.search(answer.stderr), answer.stderr


def test_the_installed_command_reads_stdin_and_exits_with_the_code_and_no_traceback(tmp_path: Path) -> None:
    """The entry point itself, in a process: the password from its stdin, 0 for a made account, 1
    for a database it cannot reach, and nothing on stderr that names a Python exception."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    made = spawned(*create_args(url, "--create-database"), stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    assert "station" in made.stdout and PASSWORD not in made.stdout + made.stderr
    unreachable = f"postgresql+asyncpg://sitegate:secret-pw@127.0.0.1:{free_port()}/hub"
    down = spawned("hub", "account", "list", "--database-url", unreachable)
    assert down.returncode == 1 and "连不上数据库" in down.stderr and "secret-pw" not in down.stderr
    for answer in (made, down):
        assert not PYTHON_NAME.search(answer.stderr), answer.stderr


def test_version_comes_from_the_package() -> None:
    answer = spawned("--version")
    assert (answer.returncode, answer.stdout.strip()) == (0, f"sitegate {version('sitegate')}")


@pytest.mark.parametrize(
    "command",
    [
        *[(), ("hub",), ("hub", "account"), ("hub", "account", "create"), ("hub", "account", "list")],
        *[("controller",), ("provision",), ("demo",)],
    ],
    ids=" ".join,
)
def test_help_is_plain_text(command: tuple[str, ...]) -> None:
    answer = sitegate(*command, "--help")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip()
    assert not re.search(r"``|:(class|mod|func|meth|attr):`", answer.stdout), answer.stdout
