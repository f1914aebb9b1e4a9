"""The hub as a child process (``sitegate hub``), for the demo, the tests and the benchmarks.

Its own process, so it can be killed with SIGKILL and restarted on the same database the way a
production hub can; stopped with SIGTERM (and killed if it ignores that) when the block ends. It
leads a process group of its own (:func:`sitegate.netutil.spawn`): stopping or killing it stops
anything it started too, and a watchdog stops it if the process that launched it dies first.
One launcher serves the demo, the tests and the benchmarks (which add a share group, cProfile,
a working directory of their own and SIGKILL).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sitegate.netutil import free_port, kill_group, spawn, stop_group


@dataclass(frozen=True, slots=True)
class HubAddress:
    """Where a hub serving on loopback answers (a process of its own, or one in a thread)."""

    http_port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


@dataclass(frozen=True, slots=True)
class HubProcess(HubAddress):
    proc: subprocess.Popen[bytes]


def _database_url(database: Path | str) -> str:
    """A Path is an SQLite file; a str is any database URL the hub takes (e.g. PostgreSQL)."""
    return database if isinstance(database, str) else f"sqlite+aiosqlite:///{database}"


def create_account(database: Path | str, username: str, password: str, *, role: str = "city") -> None:
    """An account in the hub's database (made and migrated if new), the way an administrator makes
    the first one: ``sitegate hub account create``, the password on stdin."""
    args = [sys.executable, "-m", "sitegate.cli", "hub", "account", "create", "--role", role]
    args += ["--username", username, "--password-file", "-", "--database-url", _database_url(database)]
    args.append("--create-database")
    proc = spawn(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _, errors = proc.communicate(password.encode(), timeout=60)
    finally:
        stop_group(proc)
    if proc.returncode != 0:
        raise RuntimeError(f"creating account {username!r} failed: {errors.decode(errors='replace')[-500:]}")


def wait_healthy(
    base_url: str, within_s: float, *, name: str = "hub", check: Callable[[], None] = lambda: None
) -> None:
    """Returns once ``base_url``'s ``/healthz`` answers 200 (database reachable, ingest subscribed);
    ``check`` runs before each try and raises if waiting is pointless (the hub process exited)."""
    deadline = time.monotonic() + within_s
    last = "no answer"
    while True:
        check()
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except urllib.error.HTTPError as err:
            last = f"HTTP {err.code}"
        except OSError as err:
            last = str(err)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} not ready within {within_s:.0f} s ({last})")
        time.sleep(0.05)


class HubLauncher:
    """``sitegate hub`` as a child process: :meth:`start` returns once ``/healthz`` answers 200
    (database reachable, ingest subscribed), :meth:`stop` sends SIGTERM (the hub finishes its
    batch and closes the store) and SIGKILL if it hangs, :meth:`kill` is SIGKILL straight away
    (no last batch, no final acks), the way a production hub can die.

    ``database`` is an SQLite file (a Path) or any database URL; ``cwd`` is where a hub on
    PostgreSQL keeps its keys (``./var``); ``python`` runs it (e.g. under cProfile); ``extra``
    are more ``sitegate hub`` flags.
    """

    START_S = 30.0
    STOP_S = 10.0

    def __init__(
        self,
        database: Path | str,
        broker_host: str,
        broker_port: int,
        *,
        config: Path | None = None,
        log: Path | None = None,
        http_port: int | None = None,
        share_group: str | None = None,
        cwd: Path | None = None,
        python: Sequence[str] = (sys.executable,),
        extra: Sequence[str] = (),
        name: str = "hub",
    ) -> None:
        self.name = name
        self.log = log
        self.cwd = cwd
        self.http_port = http_port or free_port()
        self.args = [
            *python, "-m", "sitegate.cli", "hub",
            *(["--config", str(config)] if config is not None else []),
            "--database-url", _database_url(database),
            "--mqtt-host", broker_host,
            "--mqtt-port", str(broker_port),
            "--http-host", "127.0.0.1",
            "--http-port", str(self.http_port),
            *(["--share-group", share_group] if share_group else []),
            *extra,
        ]  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def process(self) -> HubProcess:
        assert self.proc is not None, "the hub is not started"
        return HubProcess(http_port=self.http_port, proc=self.proc)

    def start(self, within_s: float = START_S) -> HubProcess:
        with contextlib.ExitStack() as files:
            output = files.enter_context(open(self.log, "ab")) if self.log is not None else subprocess.DEVNULL
            self.proc = spawn(self.args, stdout=output, stderr=subprocess.STDOUT, cwd=self.cwd)
        try:
            self._wait_ready(within_s)
        except BaseException:
            self.kill()
            raise
        return self.process

    def _log_tail(self, lines: int = 12) -> str:
        """The log's last lines, for the error: the log often goes with a temporary directory
        before anyone reads it (a bench's, a test's)."""
        try:
            assert self.log is not None
            tail = self.log.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return "; it ended:\n" + "\n".join(f"  {line}" for line in tail) if tail else ""

    def _wait_ready(self, within_s: float) -> None:
        def still_running() -> None:
            assert self.proc is not None
            if self.proc.poll() is not None:
                where = f"; see {self.log}{self._log_tail()}" if self.log else ""
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode} before it was ready{where}"
                )

        wait_healthy(self.process.base_url, within_s, name=self.name, check=still_running)

    def kill(self) -> None:
        """SIGKILL to the hub's whole process group at once."""
        if self.proc is not None:
            kill_group(self.proc)

    def stop(self) -> None:
        """SIGTERM to the hub's process group, SIGKILL after ``STOP_S``; also after :meth:`kill` or
        an exit of its own (whatever it left behind in its group goes too). Safe to call again."""
        if self.proc is not None:
            stop_group(self.proc, grace=self.STOP_S)

    def __enter__(self) -> HubProcess:
        """Started and ready for the block; stopped (SIGTERM) when it ends."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
