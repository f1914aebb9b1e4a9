"""What one client may cost the API (issue 13): who the client is, how often it may try, how many
connections it may hold, and how long it may take to send a request.

- :func:`client_address`: the peer's address, or behind a configured reverse proxy the address
  that proxy saw (X-Forwarded-For is believed from ``[http] trusted_proxies`` only: from anyone
  else it is a header a client wrote itself).
- the answer to a try refused by a :class:`hub.auth.throttle.RateLimit` or the login throttle is a
  429 with Retry-After (:func:`too_many`).
- :class:`ConnectionCap`: at most so many open connections in all and per peer; one over is closed
  as soon as it is accepted, so a flood of idle sockets cannot take every file descriptor and
  starve ``/healthz``. A request head must arrive within ``header_timeout_s`` (aiohttp's keep-alive
  timer, armed at connect: :func:`server_options`).
- :func:`form_deadline`: a console form's body must arrive within ``body_timeout_s``; JSON bodies
  have the same bound where they are read (:mod:`hub.api.body`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import resource
import time
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestHandler

from hub.api.error_responses import error_response
from hub.api.keys import CLOCK, CONFIG
from hub.auth.login import LoginPolicy
from hub.auth.throttle import LoginThrottle, RateLimit
from hub.config import HttpLimits

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parsed(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: str | None, proxies: Iterable[Network]) -> bool:
    parsed = _parsed(address) if address else None
    return parsed is not None and any(parsed in network for network in proxies)


def peer_address(request: web.BaseRequest) -> str | None:
    """The address of the socket's other end, whatever any header says."""
    transport = request.transport
    peer = transport.get_extra_info("peername") if transport is not None else None
    return str(peer[0]) if isinstance(peer, (tuple, list)) and peer else None


def client_address(request: web.BaseRequest, proxies: Iterable[Network]) -> str:
    """The client's address: from a trusted proxy, the rightmost X-Forwarded-For entry that is
    not itself a trusted proxy (entries to its left were written by whoever the client is)."""
    proxies = tuple(proxies)
    peer = peer_address(request) or "unknown"
    if not _trusted(peer, proxies):
        return peer
    hops = [
        hop.strip() for header in request.headers.getall("X-Forwarded-For", ()) for hop in header.split(",")
    ]
    for hop in reversed(hops):
        parsed = _parsed(hop)
        if parsed is None:
            return peer  # a malformed chain: believe nothing in it
        if not _trusted(hop, proxies):
            return str(parsed)
    return peer


def from_trusted_proxy(request: web.Request) -> bool:
    """Whether the request came through one of the app's ``[http] trusted_proxies``, whose
    forwarding headers may then be believed."""
    return _trusted(peer_address(request), request.app[CONFIG].http.trusted_proxies)


def client_of(request: web.Request) -> str:
    """The client's address by the app's ``[http] trusted_proxies``."""
    return client_address(request, request.app[CONFIG].http.trusted_proxies)


TOO_MANY_MESSAGE = "请求过于频繁，请稍后再试 (too many tries; try again in {seconds} s)"


def too_many(retry_after_s: float, what: str = "too_many_requests") -> web.Response:
    """429 with Retry-After in whole seconds (at least 1); the message Chinese first, as the
    console's users read it, then English."""
    seconds = max(1, math.ceil(retry_after_s))
    message = TOO_MANY_MESSAGE.format(seconds=seconds)
    return error_response(429, what, message, {"Retry-After": str(seconds)})


def server_options(limits: HttpLimits) -> dict[str, Any]:
    """aiohttp's own knobs, for :class:`aiohttp.web.AppRunner`. Its keep-alive timer starts when a
    connection opens and restarts after each answer, and closes a connection still waiting for a
    whole request head: that is the header timeout (aiohttp 3.14, web_protocol.connection_made)."""
    return {
        "keepalive_timeout": limits.header_timeout_s,
        "max_field_size": 8190,
        "max_line_size": 8190,
        # After an answer sent before its request's body was read whole (a 408, a 413), aiohttp
        # keeps reading that body this long (10 s by default): a trickled body's connection is
        # held no longer than the body timeout allows.
        "lingering_time": min(limits.body_timeout_s, 2.0),
    }


FD_HEADROOM = 256
"""File descriptors kept for everything but client connections: the database pool, the broker
link, log files, the keys read at start."""


def connection_limit(wanted: int, soft_fd_limit: int | None = None) -> int:
    """``wanted``, or fewer when the process may not open that many files: past the limit each
    accept fails with EMFILE and asyncio logs a traceback for each (the issue's 181 MB a minute),
    while the cap refuses quietly."""
    if soft_fd_limit is None:
        soft_fd_limit, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft_fd_limit == resource.RLIM_INFINITY:
        return wanted
    usable = max(16, soft_fd_limit - FD_HEADROOM)
    if wanted > usable:
        log.warning(
            "[http] max_connections %d is more than this process may open (RLIMIT_NOFILE %d): capped at %d;"
            " raise LimitNOFILE to allow more",
            wanted,
            soft_fd_limit,
            usable,
        )
        return usable
    return wanted


class ConnectionCap:
    """Closes a connection accepted beyond ``total`` open ones, or beyond ``per_client`` from one
    peer address (trusted proxies exempt from the latter). Installed on an aiohttp
    :class:`~aiohttp.web.Server` by wrapping its connection callbacks (:meth:`install`).

    A refused connection is not logged one by one: at most one warning a minute says how many."""

    def __init__(self, total: int, per_client: int, proxies: Iterable[Network] = ()) -> None:
        self._total = total
        self._per_client = per_client
        self._proxies = tuple(proxies)
        self._peers: dict[RequestHandler, str] = {}
        self._per_peer: dict[str, int] = {}
        self.refused = 0
        self._refused_since_log = 0
        self._logged_at = -math.inf

    @property
    def open(self) -> int:
        return len(self._peers)

    def install(self, server: web.Server) -> None:
        made, lost = server.connection_made, server.connection_lost

        def connection_made(handler: RequestHandler, transport: asyncio.Transport) -> None:
            made(handler, transport)
            self.admit(handler, transport)

        def connection_lost(handler: RequestHandler, exc: BaseException | None = None) -> None:
            self.release(handler)
            lost(handler, exc)

        server.connection_made = connection_made  # type: ignore[method-assign]
        server.connection_lost = connection_lost  # type: ignore[method-assign]

    def admit(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, (tuple, list)) and peer else "unknown"
        over_client = self._per_peer.get(address, 0) >= self._per_client and not _trusted(
            address, self._proxies
        )
        if self.open >= self._total or over_client:
            self._refuse(handler, "per-client" if over_client else "total")
            return
        self._peers[handler] = address
        self._per_peer[address] = self._per_peer.get(address, 0) + 1

    def release(self, handler: RequestHandler) -> None:
        address = self._peers.pop(handler, None)
        if address is None:
            return
        left = self._per_peer[address] - 1
        if left:
            self._per_peer[address] = left
        else:
            del self._per_peer[address]

    def _refuse(self, handler: RequestHandler, which: str) -> None:
        # On the loop's next turn: the handler's own task, created once this callback returns,
        # must start before the connection is lost (it asserts its server is still there).
        asyncio.get_running_loop().call_soon(handler.force_close)
        self.refused += 1
        self._refused_since_log += 1
        now = time.monotonic()
        if now - self._logged_at >= 60:
            log.warning(
                "HTTP connection cap (%s) reached: %d connection(s) refused since the last warning",
                which,
                self._refused_since_log,
            )
            self._logged_at, self._refused_since_log = now, 0


_FORM = "application/x-www-form-urlencoded"


@web.middleware
async def form_deadline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A form body (the console's) read whole within ``body_timeout_s``, else 408; the handler's
    ``request.post()`` then parses what was read."""
    if request.body_exists and request.content_type == _FORM:
        try:
            async with asyncio.timeout(request.app[CONFIG].http.body_timeout_s):
                await request.read()
        except TimeoutError:
            return error_response(408, "request_timeout", "the request body did not arrive in time")
    return await handler(request)


LOGIN_THROTTLE = web.AppKey("login_throttle", LoginThrottle)
"""Wrong passwords per (typed name, client) and logins per client: the API's and the console's."""
LOOKUP_LIMIT = web.AppKey("lookup_limit", RateLimit)
"""Person lookups by ID number per account (``[http] lookups_per_account_per_min``)."""


def install(app: web.Application) -> None:
    """The app's throttles, from its config, and the form-body deadline (after the middlewares
    already there: a console page's redirect comes before its body is read)."""
    config, clock = app[CONFIG], app[CLOCK]
    app[LOGIN_THROTTLE] = LoginPolicy.of(config).throttle(config.http.logins_per_client_per_min, clock)
    app[LOOKUP_LIMIT] = RateLimit(
        config.http.lookups_per_account_per_min, clock=lambda: clock.mono_ns() / 1e9
    )
    app.middlewares.append(form_deadline)


CONNECTION_CAP = web.AppKey("connection_cap", ConnectionCap)
"""The serving runner's cap (set by hub.cli.start; its counts are what a test reads)."""
