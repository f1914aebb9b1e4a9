"""The cache tests/conftest.py empties after each module (``forget_finished_apps``): still there in
this aiohttp, still holding the app of a request served, and emptied by the conftest's function.
If aiohttp drops or renames it, this fails: then the conftest's function is to go."""

from __future__ import annotations

import gc
from typing import Any

from aiohttp import web, web_app
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import forget_finished_apps


def _apps_alive() -> int:
    return sum(isinstance(o, web.Application) for o in gc.get_objects())


async def test_a_served_app_outlives_its_server_until_the_cache_is_emptied() -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    @web.middleware
    async def passing(request: web.Request, handler: Any) -> web.StreamResponse:
        return await handler(request)  # the hub's app has middlewares: the cache is used then

    forget_finished_apps()
    gc.collect()
    before = _apps_alive()
    app = web.Application(middlewares=[passing])
    app.router.add_get("/", hello)
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/")).status == 200
    assert web_app._cached_build_middleware.cache_info().currsize >= 1
    del app, client
    gc.collect()
    assert _apps_alive() == before + 1, "aiohttp's middleware cache keeps the app a request reached"
    forget_finished_apps()
    gc.collect()
    assert web_app._cached_build_middleware.cache_info().currsize == 0
    assert _apps_alive() == before
