"""One row of the route table (:mod:`hub.api.routes`): everything the hub knows about an endpoint.

From a :class:`Route` the table makes the router's entry, the role check that runs before the
handler (401 without a principal, 403 naming who may), the query it accepts
(:func:`hub.api.params.params_of`), whether the authentication middleware lets it through without
a token, and its operation in the OpenAPI document. Adding an endpoint is one row and one handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from enum import Enum
from typing import Final

from aiohttp import web
from pydantic import BaseModel

from hub.api.params import Param
from hub.auth.principal import Role

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Open(Enum):
    """The roles of a route anyone may call: no login (the login itself, the document, an
    enrolment authorised by its one-time token, the console's sign-in form)."""

    OPEN = "open"


OPEN: Final = Open.OPEN


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    """As aiohttp writes it (``{project_id}``); the OpenAPI path is the same string."""
    handler: Handler
    roles: Collection[Role] | Open
    """Who may call it at all (a role set of :mod:`hub.auth.permissions`), or :data:`OPEN`. What
    an allowed account then sees is the domain's scope, not this."""
    summary: str = ""
    tag: str = ""
    params: tuple[Param, ...] = ()
    """Path and query parameters: documented, and the only query names the handler accepts."""
    body: type[BaseModel] | None = None
    """The request body's model (the handler validates with the same one)."""
    ok: int = 200
    """The success status (201 for a creation, 204 for nothing to say...)."""
    extra_ok: tuple[int, ...] = ()
    media_type: str = "application/json"
    """Of the success answer; "none" for an empty one."""
    description: str = ""
    console: bool = False
    """A page of the web console (HTML, session cookie): not in the OpenAPI document."""

    @property
    def public(self) -> bool:
        return self.roles is OPEN
