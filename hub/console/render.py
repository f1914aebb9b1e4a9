"""Pages from Jinja2 templates (autoescaped), with what every page needs: the account, its
navigation, the CSRF token for its forms; and the console's errors as pages, not JSON."""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from hub.api.auth_middleware import SESSION_KEY
from hub.api.error_responses import ApiError
from hub.api.registry import _STATUS as REGISTRY_STATUS
from hub.auth.principal import Principal, Role
from hub.auth.tokens import Session
from hub.errors import InvalidQuery, NotFound
from hub.refusals import Refusal
from wire.clock import SITE_ZONE

TEMPLATES: Final = Path(__file__).resolve().parent / "templates"
STATIC: Final = Path(__file__).resolve().parent / "static"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ENV: Final = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(("html",)),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _local(value: Any, pattern: str = "%Y-%m-%d %H:%M") -> str:
    return "" if value is None else value.astimezone(SITE_ZONE).strftime(pattern)


ENV.filters["local"] = _local

AUTHORITIES: Final = frozenset({Role.CITY, Role.DISTRICT})
NAV: Final[tuple[tuple[str, str, frozenset[Role]], ...]] = (
    ("Overview", "/console/", frozenset(Role)),
    ("Devices", "/console/devices", frozenset(Role)),
    ("Projects", "/console/projects", frozenset(Role) - {Role.OPERATOR}),
    ("Statistics", "/console/statistics", AUTHORITIES),
    ("Inspections", "/console/inspections", AUTHORITIES | {Role.GC_PROJECT, Role.SUPERVISION_PROJECT}),
    ("Orders", "/console/orders", frozenset(Role) - {Role.OPERATOR, Role.SUB_PROJECT}),
    ("Deductions", "/console/deductions", frozenset(Role) - {Role.OPERATOR}),
    ("Summaries", "/console/summaries", frozenset(Role) - {Role.OPERATOR}),
)


def csrf_token(session: Session) -> str:
    """Per session, derived from the token's digest: a forged cross-site form cannot know it, and
    the hub stores nothing more (any instance can check it)."""
    return hmac.new(b"sitegate-console-csrf", session.token_sha256.encode(), hashlib.sha256).hexdigest()


def session_of(request: web.Request) -> Session:
    session: Session | None = request.get(SESSION_KEY)
    if session is None:  # the middleware redirects every console page without one
        raise web.HTTPSeeOther("/console/login")
    return session


def principal(request: web.Request) -> Principal:
    return session_of(request).principal


async def checked_form(request: web.Request) -> dict[str, str]:
    """The POSTed form, once its CSRF token matches the session's; 403 otherwise."""
    form = await request.post()
    sent = form.get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_token(session_of(request))):
        raise ApiError(403, "csrf", "the form's security token is missing or stale; reload the page")
    return {k: v for k, v in form.items() if isinstance(v, str)}


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    session: Session | None = request.get(SESSION_KEY)
    who = session.principal if session else None
    nav = [(label, href) for label, href, roles in NAV if who is not None and who.role in roles]
    page = ENV.get_template(template).render(
        me=who,
        display_name=session.display_name if session else "",
        nav=nav,
        path=request.path,
        csrf=csrf_token(session) if session else "",
        **context,
    )
    return web.Response(
        text=page,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-ancestors 'none'; form-action 'self'",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        },
    )


def page(handler: Handler) -> Handler:
    """A console handler whose refusals become an error page with the API's message."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as err:
            return render(request, "error.html", status=err.status, message=err.message)
        except Refusal as err:
            status = next(s for kind, s in REGISTRY_STATUS.items() if isinstance(err, kind))
            return render(request, "error.html", status=status, message=err.message)
        except NotFound as err:
            return render(request, "error.html", status=404, message=f"{err.what} not found")
        except InvalidQuery as err:
            return render(request, "error.html", status=400, message=f"{err.parameter}: {err.message}")

    return wrapped
