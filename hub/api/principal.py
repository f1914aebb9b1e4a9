"""The account behind a request, for handlers: set by the authentication middleware, read here.

Handlers never parse tokens themselves. ``principal_of`` answers 401 when no one is logged in;
``require`` answers 403 when the account's role may not use the endpoint at all (scope inside
an allowed endpoint is the queries' job: hub.auth.scope).
"""

from __future__ import annotations

from aiohttp import web

from hub.api.errors import ApiError
from hub.auth.principal import Principal, Role

PRINCIPAL_KEY = web.RequestKey("principal", Principal)
"""Where the middleware leaves the request's Principal (``request[PRINCIPAL_KEY]``)."""


def principal_of(request: web.Request) -> Principal:
    principal = request.get(PRINCIPAL_KEY)
    if not isinstance(principal, Principal):
        raise ApiError(401, "unauthenticated", "log in first: send 'Authorization: Bearer <token>'")
    return principal


def require(request: web.Request, *roles: Role) -> Principal:
    """The request's principal, if its role is one of ``roles``; else 403 naming who may."""
    principal = principal_of(request)
    if principal.role not in roles:
        allowed = ", ".join(role.value for role in roles)
        raise ApiError(
            403, "forbidden", f"a {principal.role.value} account may not do this (allowed: {allowed})"
        )
    return principal
