"""What the command line prints: reST markup and Python's exception names taken off, the rest kept."""

from __future__ import annotations

import pytest

from sitegate.clitext import plain_error, plain_help


def test_help_reads_without_rest_markup() -> None:
    doc = "``sitegate demo``: see :mod:`sitegate.demo_lanes` and :class:`~hub.config.HubConfig`.\n"
    assert plain_help(doc) == "sitegate demo: see sitegate.demo_lanes and HubConfig."
    assert plain_help(None) == ""


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        ("open: OperationalError: (sqlite3.OperationalError) unable to open database file", "open: unable to open database file"),
        ("create account: AccountExists: an account named 'x' already exists", "create account: an account named 'x' already exists"),
        ("ConnectionRefusedError: [Errno 111] Connect call failed", "[Errno 111] Connect call failed"),
        ("InvalidCatalogNameError", "no detail"),
        ("Hangzhou: the Error of ways, kept", "Hangzhou: the Error of ways, kept"),
    ],
)  # fmt: skip
def test_errors_read_without_python_names(said: str, shown: str) -> None:
    assert plain_error(RuntimeError(said)) == shown
