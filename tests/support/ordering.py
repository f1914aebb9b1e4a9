"""The order pytest-xdist hands out work in: the longest test modules first, those that mostly
wait interleaved with those that mostly compute.

xdist gives each worker a few tests at a time, in collection order. A slow module late in that order
(tests/test_benches.py sorts after nearly everything) keeps one worker busy for minutes after the
other has run out of work. So every run records how long each test module took, in total, and the
next parallel run puts the modules in order of those times, longest first (longest-processing-time
first: the idle tail shrinks to about one test). A module's tests stay together and in pytest's
order: module-scoped fixtures are made once per worker, not on every return to the module. Modules
without a recorded time (new ones) go first; with no record at all, the order is pytest's.

Each run also records each module's CPU (its test process's, threads included, and the children
it reaped). A module whose CPU is under ``WAITING_SHARE`` of its time mostly waits: a serial line's
byte time, a retry's pause, the demo's paced swipes, a browser. Ordered by time alone, the waiting
modules of 10-40 s came together after the any-hour check had ended, one module's tests spread over
several workers, and all four workers waited at once: the two cores stood a fifth idle for half a
minute (vmstat: 34-43 idle core-seconds in runs of 4:57-5:11). Now the waiting and the computing
modules are two lists, each longest first, merged so that both advance through their total time
together; each waiting module is an xdist group of its own (one worker at a time, see
:func:`waiting_group`); and xdist's own reordering of groups ahead of everything else is off. Three
runs: 4:30, 4:41, 4:46, 18-25 idle core-seconds.

Where the times are kept: the file ``$SITEGATE_TEST_DURATIONS`` names (the Makefile puts it in
.venv/, which CI keeps warm), else pytest's cache (.pytest_cache), else nowhere. The xdist
controller reads them once and hands them to its workers, which must all collect the same order.
"""

from __future__ import annotations

import functools
import json
import os
import resource
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

DURATIONS_ENV = "SITEGATE_TEST_DURATIONS"
CACHE_KEY = "sitegate/module-durations"
WORKERINPUT_KEY = "sitegate_module_durations"
PLUGIN_NAME = "sitegate-module-order"

CPU_PROPERTY = "sitegate_cpu_s"
SESSION_END_PROPERTY = "sitegate_session_end"
"""On a worker's last teardown report: it tore down the session's fixtures too (a PostgreSQL server
and its backends, Chromium and its renderers: up to 75 CPU-s and 8 s, which the module that
happened to run last was charged, and the next run put first among the computing ones)."""
WAITING_SHARE = 0.3
"""A module whose CPU is under this share of its time mostly waits. In ``make test`` (six processes
on two cores) a module that only computes shows a third or more (the scope matrix 0.35, the hub's
API tests 0.33-0.4 without the PostgreSQL backends' CPU); the serial and PC/SC readers' tests
0.02-0.03, the browser's 0.1-0.15, the demo's and the uploader's 0.2-0.26."""

Record = dict[str, list[float]]  # module path -> [seconds, tests, CPU seconds (absent in old records)]


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def waits(entry: list[float]) -> bool:
    return len(entry) > 2 and entry[0] > 0 and entry[2] < WAITING_SHARE * entry[0]


def module_order(record: Record, modules: list[str]) -> list[str]:
    """``modules`` in the order to hand them out: those without a record first (in the order
    given), then the waiting and the computing ones, each longest first, merged by how far
    through its side's total time each one starts (a waiting one first on a tie)."""
    new = [m for m in modules if m not in record]
    known = sorted((m for m in modules if m in record), key=lambda m: -record[m][0])
    starts: dict[str, tuple[float, int]] = {}
    for side, queue in enumerate(
        ([m for m in known if waits(record[m])], [m for m in known if not waits(record[m])])
    ):
        total, done = sum(record[m][0] for m in queue) or 1.0, 0.0
        for module in queue:
            starts[module] = (done / total, side)
            done += record[module][0]
    return new + sorted(starts, key=starts.__getitem__)


def process_cpu_s() -> float:
    """CPU of this process (all its threads) and of the children it has reaped, user and system."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class ModuleOrder:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.worker = hasattr(config, "workerinput")
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.tests: defaultdict[str, set[str]] = defaultdict(set)
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self._cpu_at_start = 0.0
        self._last = False

    @functools.cached_property
    def record(self) -> Record:
        """The record as this session started (a worker's: as the controller read it)."""
        return self.load()

    # --- where the record lives ----------------------------------------------------------------

    def _path(self) -> Path | None:
        configured = os.environ.get(DURATIONS_ENV)
        return Path(configured) if configured else None

    def load(self) -> Record:
        if self.worker:
            return dict(getattr(self.config, "workerinput", {}).get(WORKERINPUT_KEY, {}))
        path = self._path()
        try:
            if path is not None:
                loaded: Any = json.loads(path.read_text())
            elif self.config.cache is not None:
                loaded = self.config.cache.get(CACHE_KEY, {})
            else:
                return {}
        except (OSError, ValueError, AttributeError):
            return {}
        return (
            {str(k): [float(x) for x in v[:3]] for k, v in loaded.items()} if isinstance(loaded, dict) else {}
        )

    def save(self, record: Record) -> None:
        path = self._path()
        if path is not None:
            temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            try:
                temporary.write_text(json.dumps(record, indent=0, sort_keys=True))
                temporary.replace(path)
            except OSError:
                temporary.unlink(missing_ok=True)
        elif getattr(self.config, "cache", None) is not None:
            self.config.cache.set(CACHE_KEY, record)

    # --- hooks ---------------------------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist controller: the record, read once, goes to every worker."""
        node.workerinput[WORKERINPUT_KEY] = self.record

    @pytest.hookimpl(trylast=True)  # after pytest's own reordering by fixture parameters
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if not self.worker:
            return  # one process: pytest's order is as good as any
        record = self.record
        if not record:
            return
        modules = list(dict.fromkeys(module_of(item.nodeid) for item in items))
        position = {module: index for index, module in enumerate(module_order(record, modules))}
        items.sort(key=lambda item: position[module_of(item.nodeid)])

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Any:
        self._cpu_at_start = process_cpu_s()
        self._last = nextitem is None  # xdist holds a worker's last test back until it has no more
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        """A worker's test's CPU, on its teardown report (the last: the module's fixtures are torn
        down in its last test's) for the controller, which sees only reports."""
        outcome = yield
        if call.when == "teardown":
            properties = outcome.get_result().user_properties
            properties.append((CPU_PROPERTY, process_cpu_s() - self._cpu_at_start))
            if self._last:
                properties.append((SESSION_END_PROPERTY, True))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.worker:
            return
        module = module_of(report.nodeid)
        self.tests[module].add(report.nodeid)
        properties = dict(report.user_properties)
        if properties.get(SESSION_END_PROPERTY):
            return  # the session's teardown, not the module's: its time and CPU are nobody's
        self.seconds[module] += report.duration
        cpu = properties.get(CPU_PROPERTY)
        if isinstance(cpu, (int, float)):
            self.cpu[module] += cpu

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.worker or not self.seconds:
            return
        record = self.load()
        for module, seconds in self.seconds.items():
            tests = len(self.tests[module])
            previous = record.get(module)
            # A run of part of a module (-k, a failure with -x) does not say how long all of it takes.
            if previous is None or tests >= 0.9 * previous[1]:
                record[module] = [round(seconds, 2), tests, round(self.cpu[module], 2)]
        self.save(record)


def waiting_group(config: pytest.Config, nodeid: str) -> str | None:
    """Under ``--dist loadgroup`` in a worker, the xdist group for a test of a module that mostly
    waits: one of the module's own, so that its tests run one after another on one worker rather
    than wait side by side on several (the uploader's nine retry tests took two workers at once,
    the revocation tests three, while the demo waited on the fourth: the cores stood idle)."""
    order = config.pluginmanager.get_plugin(PLUGIN_NAME)
    if not isinstance(order, ModuleOrder) or not order.worker or not config.getvalue("loadgroup"):
        return None
    module = module_of(nodeid)
    entry = order.record.get(module)
    return f"waits:{module}" if entry is not None and waits(entry) else None


def register(config: pytest.Config) -> None:
    order = ModuleOrder(config)
    config.pluginmanager.register(order, PLUGIN_NAME)
    if not order.worker and order.record:
        # xdist would hand out the groups first, largest first, before every test of no group:
        # the order above is the one wanted.
        config.option.loadscopereorder = False
