"""The hub stays cheap to start: every ``sitegate`` command and every hub process imports its
configuration first, and the test suite starts well over a hundred hubs. A settings module that
drags in the store (SQLAlchemy's engine, the purge, the migrations) cost each command about a second
of CPU before it did anything (it happened once, through a package's re-exports); openpyxl and
weasyprint at the app's import cost each hub about 0.5 s for spreadsheets and PDFs most never make."""

from __future__ import annotations

import subprocess
import sys


def loaded_by(module: str, *packages: str) -> list[str]:
    """The modules of ``packages`` that importing ``module`` loads, in a fresh interpreter."""
    probe = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    names = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    return [name for name in names if any(name == p or name.startswith(p + ".") for p in packages)]


def test_importing_the_hub_configuration_imports_no_store_or_web_stack() -> None:
    assert (
        loaded_by("hub.config", "sqlalchemy", "alembic", "aiohttp", "asyncpg", "hub.store", "hub.app") == []
    )


def test_the_hub_app_imports_the_spreadsheet_and_pdf_libraries_only_when_asked() -> None:
    assert loaded_by("hub.app", "openpyxl", "weasyprint") == []
