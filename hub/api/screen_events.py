"""The live screen's event stream (server-sent events, aiohttp-sse), served under /console for the
screen's script (hub/console/static/screen.js) with the session cookie: ``changed`` each time a
batch stored by this hub may have changed the figures (at most once a second, :mod:`hub.changes`),
a keep-alive otherwise. The route table admits the authorities only (the screen is theirs); the
stream carries no figures, so it says nothing that the figures' JSON does not guard by scope."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

from aiohttp import web
from aiohttp_sse import sse_response

from hub.changes import CHANGES

KEEPALIVE_S: Final = 25.0
"""A keep-alive this often keeps proxies from closing an idle stream."""


async def screen_events(request: web.Request) -> web.StreamResponse:
    """Until the client leaves or the hub stops: ``ready`` at once, then ``changed`` or ``keepalive``."""
    changes = request.app[CHANGES]
    with changes.subscription() as changed:
        async with sse_response(request, headers={"Cache-Control": "no-store"}) as stream:
            await stream.send("ready", event="ready")
            while stream.is_connected() and not changes.closed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), KEEPALIVE_S)
                if changes.closed:
                    break  # the hub is stopping: the page reconnects to whichever hub answers
                if changed.is_set():
                    changed.clear()
                    await stream.send("changed", event="changed")
                else:
                    await stream.send("keep-alive", event="keepalive")
        return stream
