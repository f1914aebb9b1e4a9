"""``sitegate hub`` on a FakeClock: the console's hub process lives at the instant its world was
built at, whatever the hour the tests run (the browser's pages say "today", "on site now", "the
last 30 minutes", all from the hub's clock).

Run as ``python -m tests.console.pinned_hub <ISO instant> -m sitegate.cli hub ARGS...``: that is
what :class:`sitegate.hubproc.HubLauncher` runs when this module and the instant are its
``python`` prefix, so the launcher needs to know nothing about clocks. The clock stands still:
every request is answered at that one instant.
"""

from __future__ import annotations

import sys
from datetime import datetime

from hub.cli import main
from tests.support.clock import FakeClock

MODULE = "tests.console.pinned_hub"
HUB_COMMAND = ["-m", "sitegate.cli", "hub"]


def prefix(at: datetime) -> tuple[str, ...]:
    """HubLauncher's ``python`` for a hub whose clock stands at ``at`` (an aware instant)."""
    return (sys.executable, "-m", MODULE, at.isoformat())


def run(argv: list[str]) -> int:
    at, *rest = argv
    if rest[: len(HUB_COMMAND)] != HUB_COMMAND:
        print(f"usage: python -m {MODULE} INSTANT -m sitegate.cli hub [ARGS...]", file=sys.stderr)
        return 2
    return main(rest[len(HUB_COMMAND) :], clock=FakeClock(datetime.fromisoformat(at)))


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
