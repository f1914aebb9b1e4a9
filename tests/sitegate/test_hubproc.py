"""A hub that dies before it is ready says why in the error itself: the log it names usually sits
in a temporary directory that is gone by the time anyone reads the failure (a bench's, a test's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitegate.hubproc import HubLauncher
from sitegate.netutil import free_port


def test_a_hub_that_exits_before_it_is_ready_puts_its_last_log_lines_in_the_error(tmp_path: Path) -> None:
    config = tmp_path / "hub.toml"
    config.write_text("[http]\nno_such_key = 1\n")  # the hub refuses its configuration and exits
    launcher = HubLauncher(
        tmp_path / "hub.db", "127.0.0.1", free_port(), config=config, log=tmp_path / "hub.log"
    )
    with pytest.raises(RuntimeError) as failed:
        launcher.start(within_s=60)
    message = str(failed.value)
    assert "exited with" in message and "before it was ready" in message
    assert "it ended:" in message and "no_such_key" in message, message
