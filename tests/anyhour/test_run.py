"""The any-hour check and make test's main run split the clock-sensitive tests between them."""

from __future__ import annotations

import re
from pathlib import Path

from tests.anyhour.run import CLOCK_SENSITIVE

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"


def test_the_main_run_leaves_to_the_pins_exactly_what_they_run() -> None:
    # A test the main run leaves out and the pins do not select would run nowhere.
    found = re.search(r'^LEFT_TO_ANYHOUR\s*:=\s*-m\s+"(.+)"\s*$', MAKEFILE.read_text(), re.MULTILINE)
    assert found, "the Makefile defines LEFT_TO_ANYHOUR as one -m expression"
    assert CLOCK_SENSITIVE[0] == "-m"
    assert found.group(1) == f"not ({CLOCK_SENSITIVE[1]})"


def test_make_test_passes_the_selection_to_the_main_run_only() -> None:
    text = MAKEFILE.read_text()
    assert "pytest PYTEST_SELECT='$(LEFT_TO_ANYHOUR)'" in text
    assert "$(PYTEST_SELECT) $(PYTEST_ARGS)" in text
