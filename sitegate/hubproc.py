"""The hub as a child process (``sitegate hub``), for the demo, the tests and the benchmarks.

Its own process, so it can be killed with SIGKILL and restarted on the same database the way a
production hub can; stopped with SIGTERM (and killed if it ignores that) when the block ends.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sitegate.netutil import free_port, wait_for_port


@dataclass(frozen=True, slots=True)
class HubProcess:
    proc: subprocess.Popen[bytes]
    http_port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


def _database_url(database: Path | str) -> str:
    """A Path is an SQLite file; a str is any database URL the hub takes (e.g. PostgreSQL)."""
    return database if isinstance(database, str) else f"sqlite+aiosqlite:///{database}"


def create_account(database: Path | str, username: str, password: str, *, role: str = "city") -> None:
    """An account in the hub's database (made and migrated if new), the way an administrator makes
    the first one: ``sitegate hub account create``, the password on stdin."""
    args = [sys.executable, "-m", "sitegate.cli", "hub", "account", "create", "--role", role]
    args += ["--username", username, "--password-file", "-", "--database-url", _database_url(database)]
    done = subprocess.run(args, input=password.encode(), capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"creating account {username!r} failed: {done.stderr.decode(errors='replace')[-500:]}"
        )


def _wait_listening(proc: subprocess.Popen[bytes], port: int, within_s: float, log: Path | None) -> None:
    deadline = time.monotonic() + within_s
    while True:
        if proc.poll() is not None:
            where = f"; see {log}" if log else ""
            raise RuntimeError(f"the hub exited with {proc.returncode} before listening{where}")
        try:
            wait_for_port("127.0.0.1", port, timeout=0.2)
            return
        except TimeoutError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the hub did not listen on port {port} within {within_s:.0f} s") from None


@contextlib.contextmanager
def hub_process(
    database: Path | str,
    broker_host: str,
    broker_port: int,
    *,
    config: Path | None = None,
    log: Path | None = None,
    http_port: int | None = None,
    within_s: float = 30.0,
) -> Iterator[HubProcess]:
    """A running hub on the SQLite file ``database``; ``config`` is a hub TOML (e.g. its TLS files);
    output goes to ``log`` (or nowhere)."""
    port = http_port or free_port()
    args = [sys.executable, "-m", "sitegate.cli", "hub"]
    if config is not None:
        args += ["--config", str(config)]
    args += [
        "--database-url", _database_url(database),
        "--mqtt-host", broker_host,
        "--mqtt-port", str(broker_port),
        "--http-host", "127.0.0.1",
        "--http-port", str(port),
    ]  # fmt: skip
    with contextlib.ExitStack() as stack:
        output = stack.enter_context(open(log, "wb")) if log is not None else subprocess.DEVNULL
        proc = subprocess.Popen(args, stdout=output, stderr=subprocess.STDOUT)
        try:
            _wait_listening(proc, port, within_s, log)
            yield HubProcess(proc, port)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
