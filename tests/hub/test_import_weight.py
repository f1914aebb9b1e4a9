"""The hub's configuration stays cheap to import: every ``sitegate`` command and every hub process
reads it first, and a settings module that drags in the store (SQLAlchemy's engine, the purge, the
migrations) costs each of them about a second of CPU before it does anything (it happened once,
through a package's re-exports)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sqlalchemy", "alembic", "aiohttp", "hub.store", "hub.app", "asyncpg")


def test_importing_the_hub_configuration_imports_no_store_or_web_stack() -> None:
    probe = "import sys, hub.config; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    heavy = [name for name in loaded if any(name == h or name.startswith(h + ".") for h in HEAVY)]
    assert not heavy, heavy
