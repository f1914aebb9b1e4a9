"""``sitegate hub project complete``: the completion date retention counts from, set and withdrawn
from the command line, audited; an unknown project or a database that is no hub's is refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.cli import main
from hub.retention.completion import AUDIT_ACTION
from hub.store import Store
from hub.store.schema import audit_log, projects
from tests.support.clock import FakeClock
from tests.support.registry_rows import contractor_with_projects

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


async def _hub(url: str) -> None:
    async with await Store.open(url) as store, store.write("test") as conn:
        await contractor_with_projects(
            conn, ["proj-1"], district="330106", district_name="西湖区", gc_number="91330100GC", now=NOW
        )


async def _state(url: str) -> tuple[date | None, list[object]]:
    async with await Store.open(url) as store, store.read("test") as conn:
        completed = await conn.scalar(select(projects.c.completed_on))
        lines = (
            await conn.execute(
                select(audit_log.c.target, audit_log.c.detail).where(audit_log.c.action == AUDIT_ACTION)
            )
        ).all()
    return completed, [tuple(line) for line in lines]


def test_a_completion_date_is_set_and_withdrawn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    asyncio.run(_hub(url))
    clock = FakeClock(NOW)
    args = ["project", "complete", "--database-url", url, "--project", "proj-1"]
    assert main([*args, "--on", "2024-02-29"], clock=clock) == 0
    assert "2024-02-29" in capsys.readouterr().out
    assert asyncio.run(_state(url)) == (date(2024, 2, 29), [("proj-1", {"completed_on": "2024-02-29"})])
    assert main([*args, "--clear"], clock=clock) == 0
    assert asyncio.run(_state(url))[0] is None
    # 03:00 UTC is 11:00 on 7 December in Beijing: the 7th is today, the 8th is refused as at the API.
    assert main([*args, "--on", "2026-12-08"], clock=clock) == 1
    assert "竣工日期不能晚于今天 2026-12-07" in capsys.readouterr().err
    assert asyncio.run(_state(url))[0] is None
    assert main([*args, "--on", "2026-12-07"], clock=clock) == 0
    assert asyncio.run(_state(url))[0] == date(2026, 12, 7)
    assert (
        main(
            ["project", "complete", "--database-url", url, "--project", "nope", "--on", "2024-01-01"],
            clock=clock,
        )
        == 1
    )
    assert "nope" in capsys.readouterr().err
    missing = f"sqlite+aiosqlite:///{tmp_path / 'none.db'}"
    assert (
        main(["project", "complete", "--database-url", missing, "--project", "proj-1", "--on", "2024-01-01"])
        == 1
    )
    assert not (tmp_path / "none.db").exists()
