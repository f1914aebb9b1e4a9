"""A private, throw-away PostgreSQL for tests and benchmarks, and an empty database per caller.

The tests start one per test process, the first time a test needs it (tests/support/postgres.py);
a benchmark starts its own. The server is made by ``initdb`` into a directory under /tmp, then
``postgres`` runs as a child process on a free loopback port with its socket in that directory, in
a process group of its own (:func:`sitegate.netutil.spawn`; not through ``pg_ctl start``, which
detaches the server into a session of its own): :meth:`PostgresServer.stop` ends the server and
its backends together, and a watchdog does if the process that started it dies first. fsync is off
and the cluster is thrown away at the end: it holds nothing but test data.

Databases: :meth:`PostgresServer.database` keeps one per key (a test module, a benchmark), made
empty and emptied on every later call (a DELETE from every table that ever held a row).
:meth:`create_template` makes a database once (the tests migrate it to the hub's schema) and
:meth:`clone` copies it (``CREATE DATABASE ... TEMPLATE``, ≈0.15-0.3 s here, where migrating an
empty one takes ≈0.4 s).

``initdb`` refuses to run as root and the server must not run as root either: as root, the server
binaries run as the ``postgres`` user while the tests themselves stay root. The binaries come from
``$SITEGATE_PG_BIN`` if set, else the newest /usr/lib/postgresql/N/bin (Debian's ``postgresql-N``,
which the Makefile installs), else ``PATH``.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Final

import asyncpg

from sitegate.netutil import free_port, spawn, stop_group

HOST: Final = "127.0.0.1"
SUPERUSER: Final = "postgres"
START_TIMEOUT_S: Final = 30.0
RUN_AS: Final = "postgres"  # when the tests run as root


class PostgresError(RuntimeError):
    pass


def _bin_dir() -> Path:
    configured = os.environ.get("SITEGATE_PG_BIN")
    if configured:
        return Path(configured)
    installed = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin/initdb") if p.parent.parent.name.isdigit()),
        key=lambda p: int(p.parent.parent.name),
    )
    if installed:
        return installed[-1].parent
    found = shutil.which("initdb")
    if found is None:
        raise PostgresError(
            "PostgreSQL's server binaries are not installed (Debian: apt-get install postgresql-15); "
            "or point SITEGATE_PG_BIN at the directory holding initdb and pg_ctl"
        )
    return Path(found).parent


# C collation, like SQLite's: listings sorted by text come out in the same order on both.
_INITDB: Final = f"-U {SUPERUSER} -A trust --no-sync -E UTF8 --no-locale"
_CLUSTER_PARTS: Final = ("PG_VERSION", "global/pg_control", "base", "postgresql.conf")


# Every table that ever held a row (its file has a page: an insert extends the file at once, even
# in a transaction that then rolls back, and nothing but a TRUNCATE or VACUUM shrinks it) emptied, FK
# triggers off; every sequence that was used restarted. A table never written is left unopened: on a
# new backend each DELETE first loads the table's and its indexes' catalog entries, and most of a
# test module's tables are never written. setval, not ALTER SEQUENCE ... RESTART, which writes the
# sequence to a new file; the same next value, and the other backends were ended first.
_EMPTY_EVERY_TABLE: Final = """
DO $$
DECLARE item record;
BEGIN
  SET LOCAL session_replication_role = replica;
  FOR item IN SELECT format('%I.%I', n.nspname, c.relname) AS name
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'alembic_version'
                AND (pg_stat_file(pg_relation_filepath(c.oid), true)).size > 0 LOOP
    EXECUTE 'DELETE FROM ' || item.name;
  END LOOP;
  PERFORM setval(format('%I.%I', schemaname, sequencename), start_value, false) FROM pg_sequences
    WHERE schemaname = 'public' AND last_value IS NOT NULL;
END $$
"""
_END_OTHER_CONNECTIONS: Final = (
    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)
"""Each other backend on the database told to end, and waited for (up to 5 s each: PostgreSQL 14's
timeout): without the wait the call returned once the signal was sent, and a backend still
rolling back could hold a lock the emptying needs, or still be listed for the next test."""


def _is_cluster(data: Path) -> bool:
    return all((data / part).exists() for part in _CLUSTER_PARTS)


def _binaries_id(bin_dir: Path) -> str:
    """Which server binaries made a cluster: a cached one is only copied for the same ones."""
    postgres = (bin_dir / "postgres").stat()
    return f"{bin_dir} {postgres.st_size} {postgres.st_mtime_ns}"


def _server_dir(prefix: str) -> Path:
    """A new directory under /tmp (not pytest's tmp_path: the server's user must reach it and its
    parents), owned by the server's user, mode 0700."""
    root = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    if os.geteuid() == 0:
        user = pwd.getpwnam(RUN_AS)
        os.chown(root, user.pw_uid, user.pw_gid)
    root.chmod(0o700)
    return root


def _as_server_user() -> dict[str, Any]:
    """Popen arguments that run a child as the ``postgres`` user when we are root."""
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam(RUN_AS)
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": [], "env": _server_env(user)}


def _server_env(user: pwd.struct_passwd) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(HOME=user.pw_dir, USER=user.pw_name, LOGNAME=user.pw_name)
    return env


class PostgresServer:
    """One throw-away cluster; ``start``/``stop`` or ``with``.

    ``settings`` are more ``-c name=value`` server settings (after the defaults, so they win).
    """

    STOP_S = 10.0

    def __init__(self, *, settings: Sequence[str] = ()) -> None:
        self.bin = _bin_dir()
        self.port = 0
        self._settings = tuple(settings)
        self._root: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._databases: dict[str, str] = {}
        self._clones = 0
        self.template: str | None = None
        """A database :meth:`database` copies its new databases from (:meth:`create_template`)."""

    @property
    def admin_dsn(self) -> str:
        return self.dsn("postgres")

    def dsn(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{database}"

    def url(self, database: str) -> str:
        """A SQLAlchemy URL for the hub's store."""
        return f"postgresql+asyncpg://{SUPERUSER}@{HOST}:{self.port}/{database}"

    @property
    def pid(self) -> int | None:
        """The postmaster's pid (and process group id) while it runs."""
        return None if self._proc is None else self._proc.pid

    @property
    def directory(self) -> Path | None:
        """The cluster's directory under /tmp (data, socket, server.log) while it exists."""
        return self._root

    def _run(self, *args: str, timeout: float = START_TIMEOUT_S) -> None:
        """A server binary to its end, in a process group of its own, as the server's user."""
        command = [str(self.bin / args[0]), *args[1:]]
        proc = spawn(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd="/", **_as_server_user())
        try:
            output, _ = proc.communicate(timeout=timeout)
        finally:
            stop_group(proc)
        if proc.returncode != 0:
            text = output.decode(errors="replace")
            raise PostgresError(f"{args[0]} failed ({proc.returncode}): {text[-2000:]}")

    def start(self) -> None:
        root = _server_dir("sitegate-pg-")
        self._root = root
        data = root / "data"
        try:
            self._make_cluster(data)
            self.port = free_port(HOST)
            self._start_server(data, root)
        except PostgresError as err:
            log = root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            self.stop()
            raise PostgresError(f"{err}\n{tail}".strip()) from None
        except BaseException:
            self.stop()
            raise

    def _make_cluster(self, data: Path) -> None:
        """A copy of the cluster ``initdb`` made for these binaries once (kept under /tmp: ≈0.4 s of
        CPU to copy, where initdb takes ≈1 s, and several seconds on a busy machine), else initdb."""
        key = hashlib.sha256(f"{_INITDB} {_binaries_id(self.bin)}".encode()).hexdigest()[:16]
        cached = Path(tempfile.gettempdir()) / f"sitegate-pg-initdb-{key}" / "data"
        if not _is_cluster(cached):
            shutil.rmtree(cached.parent, ignore_errors=True)  # damaged (a /tmp cleaner?): make it again
            made = _server_dir(f"sitegate-pg-initdb-{key}-")
            try:
                self._initdb(made / "data")
                made.rename(cached.parent)  # whole, or not at all (another process may have won)
            except OSError:
                pass
            finally:
                shutil.rmtree(made, ignore_errors=True)
        if _is_cluster(cached):
            copy = spawn(["cp", "-a", str(cached), str(data)], stderr=subprocess.DEVNULL, **_as_server_user())
            try:
                copy.wait(timeout=START_TIMEOUT_S)
            finally:
                stop_group(copy)
            if copy.returncode == 0:
                return
            shutil.rmtree(data, ignore_errors=True)
        self._initdb(data)  # no cache (it could not be made or copied): the slow way

    def _initdb(self, data: Path) -> None:
        self._run("initdb", "-D", str(data), *_INITDB.split())

    def _start_server(self, data: Path, root: Path) -> None:
        # The socket goes in our own directory (-k), never /var/run/postgresql; TCP on loopback only.
        options = f"-p {self.port} -k {root} -c listen_addresses={HOST} -c fsync=off "
        options += "-c synchronous_commit=off -c full_page_writes=off"
        settings = [arg for setting in self._settings for arg in ("-c", setting)]
        with (root / "server.log").open("ab") as log:
            self._proc = spawn(
                [str(self.bin / "postgres"), "-D", str(data), *options.split(), *settings],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=root,
                **_as_server_user(),
            )
        # Ready as pg_ctl -w sees it: postmaster.pid's status line says "ready" (listening, recovered).
        deadline = time.monotonic() + START_TIMEOUT_S
        pid_file = data / "postmaster.pid"
        while True:
            if self._proc.poll() is not None:
                raise PostgresError(f"postgres exited with {self._proc.returncode} at start")
            try:
                lines = pid_file.read_text().splitlines()
            except OSError:
                lines = []
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return
            if time.monotonic() > deadline:
                raise PostgresError(f"postgres not ready within {START_TIMEOUT_S:.0f} s")
            time.sleep(0.02)

    def stop(self) -> None:
        """Immediate shutdown (SIGQUIT to the server and its backends), SIGKILL after ``STOP_S``; the
        cluster's directory is removed. Safe to call again."""
        root, self._root = self._root, None
        proc, self._proc = self._proc, None
        try:
            if proc is not None:
                stop_group(proc, sig=signal.SIGQUIT, grace=self.STOP_S)
        finally:
            if root is not None:
                shutil.rmtree(root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.admin_dsn)

    async def create_template(self, name: str, prepare: Callable[[str], Awaitable[None]]) -> str:
        """Database ``name``, made empty and then given to ``prepare`` (with its SQLAlchemy URL, e.g.
        to migrate it), for :meth:`clone`. Nobody may stay connected to it: a template in use
        cannot be copied."""
        admin = await self._admin()
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        await prepare(self.url(name))
        return name

    async def clone(self, template: str, name: str | None = None) -> str:
        """A new database copied from ``template`` (``CREATE DATABASE ... TEMPLATE``); its name."""
        if name is None:
            self._clones += 1
            name = f"{template}_{self._clones}"
        admin = await self._admin()
        try:
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            await admin.close()
        return name

    async def drop(self, name: str) -> None:
        """Drop database ``name``, ending whatever connections it still has."""
        admin = await self._admin()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
        self._databases = {k: v for k, v in self._databases.items() if v != name}

    async def empty(self, name: str) -> None:
        """Every table of database ``name`` emptied (but ``alembic_version``), its sequences restarted,
        and the connections a last user left open ended first.

        DELETE with foreign-key triggers off (``session_replication_role = replica``), in one round
        trip, and only from the tables that ever held a row (``TRUNCATE ... RESTART IDENTITY
        CASCADE`` of every table took ≈110-135 ms: it makes new files for every table and index).
        The server's CPU per emptying, measured on a new connection: ≈24 ms with a DELETE from
        every table and an ALTER SEQUENCE ... RESTART of every sequence, ≈11 ms as now (≈4.5 ms of
        either is the connection's backend starting).

        No connection is kept from one call to the next (it would save the backend's start and its
        catalog loads): a test may count the sessions on its database, as the hub's restore does.
        """
        conn = await asyncpg.connect(self.dsn(name))
        try:
            await conn.execute(_END_OTHER_CONNECTIONS)
            await conn.execute(_EMPTY_EVERY_TABLE)
        finally:
            await conn.close()

    async def database(self, key: str) -> str:
        """The database kept for ``key`` (a test module), created on first use and emptied since.

        Created empty, or as a copy of :attr:`template` when one is set. Emptied, not recreated:
        ``CREATE DATABASE`` plus the migrations cost ≈0.4 s, emptying a few ms.
        The schema (and ``alembic_version``) stays, so only a module's first test migrates (or
        copies); a test that changes the schema must take its own server.
        """
        name = self._databases.get(key)
        if name is None:
            name = f"hub_{len(self._databases) + 1}"
            if self.template is not None:
                await self.clone(self.template, name)
            else:
                admin = await self._admin()
                try:
                    await admin.execute(f'CREATE DATABASE "{name}"')  # outside a transaction, as it must be
                finally:
                    await admin.close()
            self._databases[key] = name
            return name
        await self.empty(name)
        return name
