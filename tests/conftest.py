"""Fixtures that start real parts on loopback, and how a session runs them.

Each test gets what it asks for, nothing shared by accident: a private mosquitto (``broker``), a
hub database on each backend (``database_url``), pcscd with its vpcd slots (``vpcd``).

Parallel runs (``make test`` runs pytest-xdist with ``--dist loadgroup``): tests run on several
worker processes, each with its own PostgreSQL and brokers. pcscd is one per machine (it
hard-codes /run/pcscd), so every test marked ``pcscd`` or taking the ``pcscd``/``vpcd`` fixtures
is put into one xdist group, ``pcscd``, which runs on one worker, one test after the other; a test
that must not run alongside some others marks itself ``@pytest.mark.xdist_group("<name>")`` with
the same name as those.

Processes: every helper starts its children in process groups of their own
(:func:`sitegate.netutil.spawn`) and stops the whole group. A SIGTERM to pytest (or to an xdist
worker) becomes a KeyboardInterrupt, so the running test and every fixture tear down as after
Ctrl-C (tests/support/termination.py: the xdist controller passes it on to its workers; a signal
that arrives during a teardown waits for its end; another SIGTERM more than 5 s later cuts a hung
teardown short). At the end of the session any group still running is stopped and named on
stderr. If pytest dies without a teardown (SIGKILL), a watchdog process stops the groups it had
started.
"""

from __future__ import annotations

import gc
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from hub.auth import passwords
from sitegate import netutil
from sitegate.mosquitto import Mosquitto
from tests.support import ordering, termination
from tests.support.pcscd import pcscd, vpcd  # noqa: F401 - fixtures shared by reader and lane tests
from tests.support.postgres import migrate, postgres_server, postgres_url, run_in_thread  # noqa: F401

# No per-example deadline: speed is measured by the benchmarks, never by a timed assertion, and on a
# loaded 2-core machine a 7 ms example once took 430 ms and failed a property that held.
settings.register_profile("sitegate", deadline=None)
settings.load_profile("sitegate")

PCSCD_GROUP = "pcscd"
_PCSCD_FIXTURES = frozenset({"pcscd", "vpcd"})
_WORLD_PER_MODULE = frozenset({"console", "desk"})
"""Module-scoped fixtures that cost seconds (a world, a broker, a hub process and Chromium: the
console's, the registration desk's): a module's tests that take one run on one worker, so the world
is made once, not once on each worker the module's tests were spread over (test_wide's was made
three times). tests/console in 3 workers: 234 s, 5.1 min of CPU before; 184 s, 3.8 min after."""


# --- the session's rules ---------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that needs pcscd into the one xdist group that runs on one worker; a console
    module's tests into a group of the module's own; a module's that mostly waits, too
    (tests/support/ordering.py)."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("pcscd") is not None or fixtures & _PCSCD_FIXTURES:
            item.add_marker(pytest.mark.xdist_group(PCSCD_GROUP), append=False)  # wins over another group
        elif item.get_closest_marker("xdist_group") is not None:
            continue
        elif fixtures & _WORLD_PER_MODULE:
            item.add_marker(pytest.mark.xdist_group(f"world:{item.nodeid.split('::', 1)[0]}"))
        elif waiting := ordering.waiting_group(config, item.nodeid):
            item.add_marker(pytest.mark.xdist_group(waiting))


_groups_lost = ""


@pytest.hookimpl(trylast=True)  # after xdist's hook has (or has not) put the groups into the node ids
def pytest_collection_finish(session: pytest.Session) -> None:
    _check_groups(session)
    _collect_less()


def _check_groups(session: pytest.Session) -> None:
    """In an xdist worker under ``--dist loadgroup``: whether the groups took.

    xdist hands the scheduler each test's group as a suffix of its node id (``…@pcscd``); pytest
    9.2 made that a no-op (pytest-xdist#1386), and the pcscd tests then ran on two workers at once.
    Then every grouped test fails, saying so, rather than pass or fail by chance.
    """
    global _groups_lost
    config = session.config
    if not hasattr(config, "workerinput") or not config.getvalue("loadgroup"):
        return
    lost = [i.nodeid for i in session.items if i.get_closest_marker("xdist_group") and "@" not in i.nodeid]
    if lost:
        _groups_lost = (
            f"--dist loadgroup did not group {len(lost)} tests: this pytest and pytest-xdist disagree "
            "on node ids (pytest-xdist#1386), see the pin in pyproject.toml; or run with -p no:xdist"
        )


def _collect_less() -> None:
    """The test process's collected suite (modules, items, the hub's and SQLAlchemy's tables:
    objects that live as long as the process) frozen out of the cyclic collector, and
    its youngest generation collected after 20,000 allocations instead of 700: every full
    collection walked all of them, and the tests allocate fast. Measured on tests/hub's API,
    oversight, registry and workflows modules (SQLite, one process, three pairs back to back):
    35.6 → 30.1 user CPU-s, the same memory. Garbage is still collected, less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _groups_lost and item.get_closest_marker("xdist_group"):
        pytest.fail(_groups_lost, pytrace=False)


@pytest.hookimpl(trylast=True)  # after the module's fixtures are torn down
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if nextitem is None or getattr(nextitem, "module", None) is not getattr(item, "module", None):
        forget_finished_apps()


def forget_finished_apps() -> None:
    """aiohttp keeps each handler's middleware chain, keyed by the handler and its app, in a
    module-level cache of 1,024 entries (``aiohttp.web_app._cached_build_middleware``): every app a
    test made stayed alive with its routes, store and tables until the process ended. In a test
    process that is hundreds of apps: emptied after each module, a run of tests/hub's API,
    oversight, registry, workflows and scope-matrix modules (one process) ended with 0.8 million
    objects tracked instead of 1.5 million and 367 MB instead of 465, and its end (the collections
    pytest and the interpreter make, then freeing the heap) took 1.9 s instead of 6.3: make test
    waits for its four workers' ends before it reports. The hub makes one app and never leaves
    this cache's bounds. tests/test_aiohttp_cache.py fails if aiohttp drops or renames it."""
    web_app = sys.modules.get("aiohttp.web_app")
    cache = getattr(web_app, "_cached_build_middleware", None)
    if cache is not None:
        cache.cache_clear()


def pytest_configure(config: pytest.Config) -> None:
    termination.register(config)  # SIGTERM: an orderly teardown (tests/support/termination.py)
    ordering.register(config)  # under xdist: the longest test modules first (tests/support/ordering.py)
    # The in-process hubs hold accounts to argon2's cheap cost, the one tests make them at: no
    # rehash at a first login, no standard-cost verification at every later one. The hubs tests
    # start as processes, and the tests that take ``standard_argon2``, hold them to the standard.
    passwords.hold_accounts_to(passwords.CHEAP)


def pytest_unconfigure(config: pytest.Config) -> None:
    left = netutil.stop_all_groups(grace=2.0)
    if left:
        lines = "\n".join(f"  {command}" for command in left)
        sys.stderr.write(f"\nprocess groups left running at the end of the session, stopped now:\n{lines}\n")


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def standard_argon2() -> Iterator[passwords.Argon2Cost]:
    """This test's in-process hubs hold accounts to the standard argon2 cost, as production's do."""
    before = passwords.hold_accounts_to(passwords.STANDARD)
    try:
        yield passwords.STANDARD
    finally:
        passwords.hold_accounts_to(before)


@pytest.fixture
def broker() -> Iterator[Mosquitto]:
    """A private mosquitto on a free loopback port, stopped after the test: the one to take for a
    test that restarts, kills or reloads the broker, or whose topics and client ids are not its own."""
    with Mosquitto() as mosq:
        yield mosq


@pytest.fixture(scope="session")
def shared_broker() -> Iterator[Mosquitto]:
    """One mosquitto for the whole session (one per xdist worker), for tests that neither restart,
    kill nor reload it and use topics and client ids no other test uses (e.g. with the test's name
    in them), and no retained messages or persistent sessions another test could meet."""
    with Mosquitto() as mosq:
        yield mosq


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to the hub's schema once per session; ``database_url`` copies it."""
    path = tmp_path_factory.mktemp("hub-template") / "hub.db"
    run_in_thread(migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The hub's database at the hub's schema, once per backend: a SQLite file (the embedded default),
    then PostgreSQL. Both are copies of a database migrated once per session (a file copy; a
    database cloned from a template), not migrated per test.

    A test that takes this (or the hub's ``store``) runs on both; ``-m "not postgres"`` leaves
    PostgreSQL out.
    """
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    database = tmp_path / "hub.db"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), database)
    return f"sqlite+aiosqlite:///{database}"
