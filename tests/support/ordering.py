"""Longest test modules first: the order pytest-xdist hands out work in.

xdist gives each worker a few tests at a time, in collection order. A slow module late in that order
(tests/test_benches.py sorts after nearly everything) keeps one worker busy for minutes after the
other has run out of work. So every run records how long each test module took, in total, and the
next parallel run puts the modules in order of those times, longest first (longest-processing-time
first: the idle tail shrinks to about one test). A module's tests stay together and in pytest's
order: module-scoped fixtures are made once per worker, not on every return to the module. Modules
without a recorded time (new ones) go first; with no record at all, the order is pytest's.

Where the times are kept: the file ``$SITEGATE_TEST_DURATIONS`` names (the Makefile puts it in
.venv/, which CI keeps warm), else pytest's cache (.pytest_cache), else nowhere. The xdist
controller reads them once and hands them to its workers, which must all collect the same order.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

DURATIONS_ENV = "SITEGATE_TEST_DURATIONS"
CACHE_KEY = "sitegate/module-durations"
WORKERINPUT_KEY = "sitegate_module_durations"

Record = dict[str, list[float]]  # module path -> [seconds, tests]


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


class ModuleOrder:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.worker = hasattr(config, "workerinput")
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.tests: defaultdict[str, set[str]] = defaultdict(set)

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
            {str(k): [float(v[0]), float(v[1])] for k, v in loaded.items()}
            if isinstance(loaded, dict)
            else {}
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
        node.workerinput[WORKERINPUT_KEY] = self.load()

    @pytest.hookimpl(trylast=True)  # after pytest's own reordering by fixture parameters
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if not self.worker:
            return  # one process: pytest's order is as good as any
        record = self.load()
        if not record:
            return
        first_seen: dict[str, int] = {}
        for index, item in enumerate(items):
            first_seen.setdefault(module_of(item.nodeid), index)
        unknown = float("inf")
        items.sort(
            key=lambda item: (
                -record.get(module_of(item.nodeid), [unknown])[0],
                first_seen[module_of(item.nodeid)],
            )
        )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.worker:
            return
        module = module_of(report.nodeid)
        self.seconds[module] += report.duration
        self.tests[module].add(report.nodeid)

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
                record[module] = [round(seconds, 2), tests]
        self.save(record)


def register(config: pytest.Config) -> None:
    config.pluginmanager.register(ModuleOrder(config), "sitegate-module-order")
