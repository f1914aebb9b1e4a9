"""Mosquitto.start returns once the broker can take a reload, not merely once it listens.

mosquitto listens before it installs its signal handlers, and a SIGHUP in between ends it (the
signal's default action): a registrar that reloads the broker right after it started lost it on a
loaded machine. A stand-in broker on PATH makes that window as wide as a test needs: it listens on
the configured port at once and takes SIGHUP only 0.5 s later.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sitegate.mosquitto import Mosquitto, catches_signal

LATE_HANDLER = """\
import re, signal, socket, sys, time
config = open(sys.argv[sys.argv.index("-c") + 1]).read()
port, host = re.search(r"^listener (\\d+) (\\S+)", config, re.M).groups()
server = socket.create_server((host, int(port)))
time.sleep(0.5)  # listening, SIGHUP still the default: the window mosquitto has
signal.signal(signal.SIGHUP, lambda *_: None)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    server.settimeout(0.1)
    try:
        server.accept()[0].close()
    except OSError:
        pass
"""


@pytest.fixture
def slow_handler_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "mosquitto"
    fake.write_text(f"#!{sys.executable}\n{LATE_HANDLER}")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return fake


def test_a_reload_right_after_the_start_does_not_end_the_broker(slow_handler_broker: Path) -> None:
    with Mosquitto() as broker:
        assert broker.pid is not None
        broker.reload()
        time.sleep(0.2)
        assert broker._proc is not None and broker._proc.poll() is None, "the SIGHUP ended the broker"


def test_catches_signal_reads_the_process_s_own_handlers() -> None:
    late = subprocess.Popen(
        [sys.executable, "-c", "import signal, time; time.sleep(0.3); "
         "signal.signal(signal.SIGHUP, lambda *_: None); time.sleep(30)"]
    )  # fmt: skip
    try:
        assert not catches_signal(late.pid, signal.SIGHUP)
        deadline = time.monotonic() + 10
        while not catches_signal(late.pid, signal.SIGHUP):
            assert time.monotonic() < deadline, "the handler never showed in /proc"
            time.sleep(0.01)
        assert not catches_signal(late.pid, signal.SIGUSR2)
    finally:
        late.kill()
        late.wait()
    assert not catches_signal(late.pid, signal.SIGHUP)  # gone: False, not an error
