"""``sitegate hub account create``: the first account, from a password file, printing nothing secret."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Row, select

from hub.auth.passwords import verify_password
from hub.cli import main
from hub.store import Store
from hub.store.schema import accounts, audit_log

PASSWORD = "a long enough city password"


def create_args(secret: Path) -> list[str]:
    """A new city account ``station`` in a new database (the test's own file)."""
    args = ["account", "create", "--role", "city", "--username", "station", "--password-file", str(secret)]
    return [*args, "--create-database"]


def test_create_the_first_city_account(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    args = create_args(secret)
    assert main([*args, "--database-url", url]) == 0
    out = capsys.readouterr()
    assert "station" in out.out
    assert PASSWORD not in out.out + out.err
    account, [line] = asyncio.run(_read(url))
    assert (account.username, account.role, account.display_name) == ("station", "city", "station")
    assert verify_password(account.password_hash, PASSWORD)  # the newline is not part of it
    assert (line.action, line.target) == ("account.create", "account:station")

    assert main([*args, "--database-url", url]) == 1
    assert "already exists" in capsys.readouterr().err


async def _read(url: str) -> tuple[Row[Any], list[Row[Any]]]:
    async with await Store.open(url) as store, store.read("test") as conn:
        account = (await conn.execute(select(accounts))).one()
        lines = list((await conn.execute(select(audit_log))).all())
    return account, lines


@pytest.mark.parametrize(
    ("extra", "password", "code", "says"),
    [
        ([], "short", 1, "characters"),
        (["--district", "330102"], PASSWORD, 1, "has no district"),
        (["--role", "mayor"], PASSWORD, 2, "invalid choice"),
    ],
)
def test_bad_accounts_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], password: str, code: int, says: str
) -> None:
    secret = tmp_path / "password"
    secret.write_text(password)
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    args = create_args(secret)
    assert main([*args, "--database-url", url, *extra]) == code
    assert says in capsys.readouterr().err


def test_a_missing_password_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "nope")
    assert (
        main(["account", "create", "--role", "city", "--username", "station", "--password-file", missing])
        == 2
    )
    assert "nope" in capsys.readouterr().err
