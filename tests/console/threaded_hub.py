"""The console tests' hub: the whole hub app served on loopback from a thread of the test process,
on a FakeClock standing at the instant its world was built at.

It is what ``sitegate hub`` serves (:func:`hub.cli.start`: the same app, routes, store, ingest on
the module's broker, background tasks and connection limits), minus the process around it. The
console modules do not kill or signal their hub; they read its pages. A hub process of their own
cost each module ~1 s of CPU before its first page (the interpreter and the hub's imports, which
the test process has loaded already), ~20 modules a run. The clock stands still: every request is
answered at that one instant, whatever the hour the tests run (the pages say "today", "on site
now", "the last 30 minutes", all from the hub's clock). The hub's log goes to the test's log.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from hub.app import create_app
from hub.backup.running import hub_running
from hub.cli import start
from hub.config import load_config
from sitegate.hubproc import HubAddress, wait_healthy
from sitegate.mosquitto import Mosquitto
from tests.support.clock import FakeClock

START_S = 30.0
STOP_S = 10.0
T = TypeVar("T")


@contextmanager
def threaded_hub(database: Path, broker: Mosquitto, at: datetime, *, name: str) -> Iterator[HubAddress]:
    """The hub on ``database`` (an SQLite file) and ``broker``, listening on a free loopback port,
    ready (``/healthz`` 200: store open, ingest subscribed) when the block starts; stopped the way
    SIGTERM stops a hub (its runner cleaned up: ingest, store, tasks) when it ends."""
    config = load_config(
        None,
        {
            "database_url": f"sqlite+aiosqlite:///{database}",
            "mqtt_host": broker.host,
            "mqtt_port": broker.port,
            "mqtt_client_id": f"console-{name}",
            "http_host": "127.0.0.1",
            "http_port": 0,
        },
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name=f"hub-{name}", daemon=True)
    thread.start()

    def run(coro: Coroutine[Any, Any, T], within_s: float) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(within_s)

    try:
        with hub_running(config.state_dir()):
            runner = run(start(create_app(config, clock=FakeClock(at)), config), START_S)
            try:
                served = HubAddress(runner.addresses[0][1])
                wait_healthy(served.base_url, START_S, name="the console's hub")
                yield served
            finally:
                run(runner.cleanup(), STOP_S)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(STOP_S)
        if not thread.is_alive():
            loop.close()
