"""Authentication of every API request: a bearer token in, a Principal on the request out.

Everything under ``/api/`` needs a valid token except the route table's open rows
(:data:`PUBLIC_PATHS`, put on the app by :func:`hub.api.routes.setup_routes`); ``/healthz`` and
anything outside ``/api/`` and ``/console/`` are left alone. The path is judged by the route the request
matched (its pattern), so a path that routes nowhere under ``/api/`` is a 401, not a 404: without
a token nobody learns which endpoints exist.

One indexed lookup per request, no cache: logging out or disabling an account ends its sessions on
every hub instance at once. Wrong passwords never end or refuse a session (issue 13: no lock that
a stranger could set; :mod:`hub.auth.login`).
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from hub.api.error_responses import error_response
from hub.api.keys import CLOCK, STORE
from hub.api.principal import PRINCIPAL_KEY
from hub.auth.login import authenticate
from hub.auth.tokens import Session

API_PREFIX = "/api/"
PUBLIC_PATHS = web.AppKey("public_paths", frozenset)
"""The paths of the route table's open rows: reachable without a token or a console session (any
method; a wrong method still gets its 405). Under /api/: the login, the document, and an
enrolment, authorised by the one-time enrolment token in its body instead (hub.api.enrolment)."""

SESSION_KEY = web.RequestKey("session", Session)
"""The whole session (the token's digest for logout, its expiry, the account's display name)."""

_CHALLENGE = 'Bearer realm="sitegate"'


def _needs_token(request: web.Request) -> bool:
    resource = request.match_info.route.resource
    where = resource.canonical if resource is not None else request.path
    return where.startswith(API_PREFIX) and where not in request.app[PUBLIC_PATHS]


def _unauthenticated(code: str, message: str, error: str | None = None) -> web.Response:
    challenge = _CHALLENGE if error is None else f'{_CHALLENGE}, error="{error}"'
    return error_response(401, code, message, {"WWW-Authenticate": challenge})


def bearer_token(request: web.Request) -> str | None:
    """The token of ``Authorization: Bearer <token>``; None when the header is absent; "" when it
    is there but not a bearer token."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


CONSOLE_PREFIX = "/console/"
CONSOLE_COOKIE = "sitegate_console"
"""The web console (hub.console) authenticates from its HttpOnly cookie instead of the header;
without a valid session a page (but the open ones: the sign-in form, the stylesheet) redirects to
the login form."""


def _console_page(request: web.Request) -> bool:
    resource = request.match_info.route.resource
    where = resource.canonical if resource is not None else request.path
    return where.startswith(CONSOLE_PREFIX) and where not in request.app[PUBLIC_PATHS]


async def _console_session(request: web.Request) -> Session | None:
    token = request.cookies.get(CONSOLE_COOKIE)
    session = await authenticate(request.app[STORE], token) if token else None
    now = request.app[CLOCK].wall()
    if session is None or session.expires_at <= now or session.disabled:
        return None
    return session


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if _console_page(request):
        session = await _console_session(request)
        if session is None:
            raise web.HTTPSeeOther("/console/login")
        request[PRINCIPAL_KEY] = session.principal
        request[SESSION_KEY] = session
        return await handler(request)
    if not _needs_token(request):
        return await handler(request)
    token = bearer_token(request)
    if token is None:
        return _unauthenticated("unauthenticated", "log in first: send 'Authorization: Bearer <token>'")
    if not token:
        return _unauthenticated(
            "unauthenticated", "the Authorization header must be 'Bearer <token>'", "invalid_request"
        )
    session = await authenticate(request.app[STORE], token)
    now = request.app[CLOCK].wall()
    if session is None:
        message = "the token is not valid (unknown, or logged out); log in again"
        return _unauthenticated("unauthenticated", message, "invalid_token")
    if session.expires_at <= now:
        return _unauthenticated(
            "token_expired",
            f"the token expired at {session.expires_at.isoformat()}; log in again",
            "invalid_token",
        )
    if session.disabled:
        return _unauthenticated("account_disabled", "the account is disabled", "invalid_token")
    request[PRINCIPAL_KEY] = session.principal
    request[SESSION_KEY] = session
    return await handler(request)
