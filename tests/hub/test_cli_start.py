"""``hub.cli.start``, the server ``sitegate hub`` and the console tests' hub run: when it cannot
listen, what its startup opened is closed again (the caller holds no runner to clean up)."""

from __future__ import annotations

import socket

import pytest
from aiohttp import web

from hub.cli import start
from hub.config import HubConfig


async def test_an_address_taken_cleans_up_the_app_it_started() -> None:
    events: list[str] = []

    async def opened(app: web.Application) -> None:
        events.append("startup")

    async def closed(app: web.Application) -> None:
        events.append("cleanup")

    app = web.Application()
    app.on_startup.append(opened)
    app.on_cleanup.append(closed)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = HubConfig(database_url="sqlite+aiosqlite:///unused.db", http_port=taken.getsockname()[1])
        with pytest.raises(OSError, match="address already in use"):
            await start(app, config)
    assert events == ["startup", "cleanup"]
