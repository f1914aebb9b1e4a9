"""The app factory: routes, the error middleware, and the lifetimes of the store and the ingest.

The store opens (and migrates) before the ingest starts, and closes after it stops: aiohttp runs
``cleanup_ctx`` entries in order on startup and in reverse on cleanup.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator

from aiohttp import web

from hub.api.errors import error_middleware
from hub.api.keys import CONFIG, INGEST, STORE
from hub.api.routes import setup_routes
from hub.config import HubConfig
from hub.ingest import Ingest, RosterStatusHandler
from hub.store import Store


def create_app(config: HubConfig, *, roster_status: RosterStatusHandler | None = None) -> web.Application:
    """``roster_status``: where the lanes' roster status messages go (the roster publisher's)."""
    app = web.Application(middlewares=[error_middleware])
    app[CONFIG] = config
    setup_routes(app)
    app.cleanup_ctx.append(_store_lifetime)
    app.cleanup_ctx.append(functools.partial(_ingest_lifetime, roster_status=roster_status))
    return app


async def _store_lifetime(app: web.Application) -> AsyncIterator[None]:
    store = await Store.open(app[CONFIG].database_url)
    app[STORE] = store
    try:
        yield
    finally:
        await store.close()


async def _ingest_lifetime(
    app: web.Application, *, roster_status: RosterStatusHandler | None = None
) -> AsyncIterator[None]:
    config = app[CONFIG]
    ingest = Ingest(
        app[STORE],
        host=config.mqtt_host,
        port=config.mqtt_port,
        client_id=config.mqtt_client_id,
        share_group=config.share_group,
        batch_max=config.batch_max,
        batch_window=config.batch_window_s,
        tls_context=config.mqtt_tls_context(),
        roster_status=roster_status,
    )
    async with ingest:
        app[INGEST] = ingest
        yield
