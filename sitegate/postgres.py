"""A private, throw-away PostgreSQL for tests and benchmarks, and an empty database per caller.

The tests start it once, the first time one needs it (tests/support/postgres.py); a benchmark
starts its own. The server is made by ``initdb`` into a directory under /tmp,
then ``pg_ctl start`` on a free loopback port with its socket in that directory. fsync is off and
the cluster is thrown away at the end: it holds nothing but test data. Each test module gets a
database of its own, and every table in it is emptied before each test (TRUNCATE, ≈10 ms, where
``CREATE DATABASE`` plus the migrations take ≈0.2 s), so tests never see each other's rows.

``initdb`` refuses to run as root and the server must not run as root either: as root, the server
binaries run as the ``postgres`` user (``runuser``) while the tests themselves stay root. The
binaries come from ``$SITEGATE_PG_BIN`` if set, else the newest /usr/lib/postgresql/N/bin (Debian's
``postgresql-N``, which the Makefile installs), else ``PATH``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Final

import asyncpg

from sitegate.netutil import free_port

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


class PostgresServer:
    """One throw-away cluster; ``start``/``stop`` or ``with``."""

    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.port = 0
        self._root: Path | None = None
        self._databases: dict[str, str] = {}

    @property
    def admin_dsn(self) -> str:
        return self.dsn("postgres")

    def dsn(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{database}"

    def url(self, database: str) -> str:
        """A SQLAlchemy URL for the hub's store."""
        return f"postgresql+asyncpg://{SUPERUSER}@{HOST}:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = START_TIMEOUT_S) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", RUN_AS, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise PostgresError(
                f"{args[0]} failed ({done.returncode}): {(done.stdout + done.stderr)[-2000:]}"
            )

    def start(self) -> None:
        # Under /tmp, not pytest's tmp_path: the server's user must reach the directory and its parents.
        root = Path(tempfile.mkdtemp(prefix="sitegate-pg-", dir="/tmp"))
        self._root = root
        data = root / "data"
        if os.geteuid() == 0:
            user = pwd.getpwnam(RUN_AS)
            os.chown(root, user.pw_uid, user.pw_gid)
        root.chmod(0o700)
        try:
            # C collation, like SQLite's: listings sorted by text come out in the same order on both.
            initdb = f"-D {data} -U {SUPERUSER} -A trust --no-sync -E UTF8 --no-locale"  # no spaces in /tmp/…
            self._run("initdb", *initdb.split())
            self.port = free_port(HOST)
            # The socket goes in our own directory (-k), never /var/run/postgresql; TCP on loopback only.
            options = f"-p {self.port} -k {root} -c listen_addresses={HOST} -c fsync=off "
            options += "-c synchronous_commit=off -c full_page_writes=off"
            pg_ctl = f"-D {data} -l {root / 'server.log'} -w -t {int(START_TIMEOUT_S)}"
            self._run("pg_ctl", *pg_ctl.split(), "-o", options, "start")
        except PostgresError as err:
            log = root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            self.stop()
            raise PostgresError(f"{err}\n{tail}".strip()) from None
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        root, self._root = self._root, None
        if root is None:
            return
        try:
            if (root / "data" / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(root / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def database(self, key: str) -> str:
        """The database kept for ``key`` (a test module), created on first use and emptied since.

        Emptied, not recreated: ``CREATE DATABASE`` plus the migrations cost ≈0.2 s, a TRUNCATE of
        every table ≈10 ms. The schema (and ``alembic_version``) stays, so only a module's first
        test migrates from nothing; a test that changes the schema must take its own server.
        """
        name = self._databases.get(key)
        if name is None:
            name = self._databases[key] = f"hub_{len(self._databases) + 1}"
            admin = await asyncpg.connect(self.admin_dsn)
            try:
                await admin.execute(f'CREATE DATABASE "{name}"')  # outside a transaction, as it must be
            finally:
                await admin.close()
            return name
        conn = await asyncpg.connect(self.dsn(name))
        try:
            # A connection the last test left open would hold TRUNCATE up: end it first.
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            tables = await conn.fetch(
                "SELECT quote_ident(tablename) AS t FROM pg_tables"
                " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
            if tables:
                names = ", ".join(row["t"] for row in tables)
                await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        finally:
            await conn.close()
        return name
