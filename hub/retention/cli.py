"""``sitegate hub project complete``: a project's completion date (竣工), from which its records'
retention period runs (hub.retention), set by the hub's operator; ``--clear`` withdraws it.

Works on an existing hub database only (hub.cli_database); audited as ``project.completion`` by the
command line. Messages are Chinese first, then English.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path

from hub.cli_database import DatabaseState, probe, shown
from hub.config import load_config
from hub.errors import HubError
from hub.retention.completion import set_completion
from hub.store import Store
from sitegate.clitext import plain_error
from wire.clock import Clock, SystemClock

PROG = "sitegate hub project complete"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="登记项目竣工日期（其记录自该日起保留 [retention] years 年）/ "
        "Record a project's completion date (its records are kept [retention] years from it).",
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="TOML file with hub settings")
    parser.add_argument("--database-url", help="SQLAlchemy async URL of the hub's database")
    parser.add_argument("--project", required=True, help="the project's id")
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--on", type=date.fromisoformat, metavar="YYYY-MM-DD", help="竣工日期 / completed on")
    when.add_argument("--clear", action="store_true", help="撤销竣工日期 / withdraw the completion date")
    return parser


async def _complete(url: str, project_id: str, completed_on: date | None, clock: Clock) -> None:
    if await probe(url) is not DatabaseState.HUB:
        raise HubError(f"{shown(url)} 中没有 hub 数据库 / holds no hub database: check --database-url")
    async with await Store.open(url, clock=clock) as store:
        await set_completion(store, None, project_id, completed_on, at=clock.wall())


def main(argv: list[str], *, clock: Clock | None = None) -> int:
    clock = clock or SystemClock()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        config = load_config(args.config, {"database_url": args.database_url})
        asyncio.run(_complete(config.database_url, args.project, None if args.clear else args.on, clock))
    except HubError as err:
        print(f"{PROG}: 未能完成 / failed: {plain_error(err)}", file=sys.stderr)
        return 1
    done = "已撤销 / withdrawn" if args.clear else f"{args.on.isoformat()}"
    print(f"项目竣工日期 / completion date of {args.project}: {done}")
    return 0
