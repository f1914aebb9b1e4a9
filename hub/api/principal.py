"""The account behind a request, for handlers: set by the authentication middleware, read here.

Handlers never parse tokens themselves, and never check roles: the route table does that before a
handler runs (:func:`check_roles`, from the row's role set), so a handler only asks
``principal_of(request)``, which answers 401 when no one is logged in. Scope inside an allowed
endpoint is the domain's job (hub.auth.scope).
"""

from __future__ import annotations

from collections.abc import Collection

from aiohttp import web

from hub.api.error_responses import ApiError
from hub.auth.principal import Principal, Role

PRINCIPAL_KEY = web.RequestKey("principal", Principal)
"""Where the middleware leaves the request's Principal (``request[PRINCIPAL_KEY]``)."""


def principal_of(request: web.Request) -> Principal:
    principal = request.get(PRINCIPAL_KEY)
    if not isinstance(principal, Principal):
        raise ApiError(401, "unauthenticated", "log in first: send 'Authorization: Bearer <token>'")
    return principal


def check_roles(request: web.Request, roles: Collection[Role]) -> None:
    """401 without a principal; 403 naming who may when its role is not one of ``roles``."""
    principal = principal_of(request)
    if principal.role not in roles:
        allowed = ", ".join(role.value for role in roles)
        raise ApiError(
            403, "forbidden", f"a {principal.role.value} account may not do this (allowed: {allowed})"
        )
