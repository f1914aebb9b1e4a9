"""Pages from Jinja2 templates (autoescaped), with what every page needs: the account, its
navigation, the CSRF token for its forms, its language; and the console's errors as pages, not JSON.

One Jinja2 environment per language (:mod:`hub.console.i18n`), each with that language's Babel
catalog installed through ``jinja2.ext.i18n`` (newstyle gettext: ``{{ _('Text %(n)s', n=x) }}``),
its ``local`` filter for times (:mod:`hub.console.times`) and its ``label`` for codes
(:mod:`hub.console.labels`)."""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from hub.api.auth_middleware import SESSION_KEY
from hub.api.error_responses import ApiError
from hub.api.registry import _STATUS as REGISTRY_STATUS
from hub.auth.permissions import READ_SITE_RULES
from hub.auth.principal import Principal, Role
from hub.auth.tokens import Session
from hub.console import cards, labels, times
from hub.console.alert_links import alert_links
from hub.console.i18n import N_, Locale, choose_locale, parse_locale, translations
from hub.errors import InvalidQuery, NotFound
from hub.refusals import Refusal

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES: Final = Path(__file__).resolve().parent / "templates"
STATIC: Final = Path(__file__).resolve().parent / "static"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@functools.cache
def environment(locale: Locale) -> Environment:
    """The templates in ``locale``: its catalog, its time formats, its labels."""
    # Jinja2 on the first page, not at the hub's start (~16 ms of CPU that most test hubs never use).
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    from hub.console.template_cache import shared_template_cache

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        bytecode_cache=shared_template_cache(),
        autoescape=select_autoescape(("html",)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["local"] = functools.partial(_local, locale=locale)
    env.filters["instant"] = _instant
    env.globals["label"] = functools.partial(labels.label, locale)
    env.globals["locale"] = locale
    env.globals["four_managers"] = frozenset(p.value for p in labels.FOUR_MANAGERS)
    env.globals["locales"] = tuple(Locale)
    env.globals["site_rules_readers"] = READ_SITE_RULES
    env.globals["alert_links"] = alert_links
    return env


def _local(value: Any, form: times.Form = "datetime", *, locale: Locale) -> str:
    return times.local(value, locale, form)


def _instant(value: str | None) -> datetime | None:
    """An ISO instant (an alert's details carry them as text) back to a datetime, for ``local``."""
    return datetime.fromisoformat(value) if value else None


def locale_of(request: web.Request) -> Locale:
    """The request's language: a CSV's ``?lang=``, else the account's, else the browser's, else zh-CN."""
    asked = parse_locale(request.query.get("lang"))
    if asked is not None:
        return asked
    session: Session | None = request.get(SESSION_KEY)
    return choose_locale(session.locale if session else None, request.headers.get("Accept-Language"))


def gettext_of(request: web.Request) -> Callable[..., str]:
    """The request's gettext for Python-side text (an error message, a chart's title):
    ``_('%(n)s min', n=5)`` as in the templates."""
    catalog = translations(locale_of(request))

    def gettext(message: str, **variables: Any) -> str:
        text = catalog.gettext(message)
        return text % variables if variables else text

    return gettext


AUTHORITIES: Final = frozenset({Role.CITY, Role.DISTRICT})
NAV: Final[tuple[tuple[str, str, frozenset[Role]], ...]] = (
    (N_("Overview"), "/console/", frozenset(Role)),
    (N_("Devices"), "/console/devices", frozenset(Role)),
    (N_("Projects"), "/console/projects", frozenset(Role) - {Role.OPERATOR}),
    (N_("Project departments"), "/console/departments", frozenset({Role.ENTERPRISE})),
    (N_("Statistics"), "/console/statistics", AUTHORITIES),
    (N_("Live screen"), "/console/screen", AUTHORITIES),
    (N_("Inspections"), "/console/inspections", AUTHORITIES | {Role.GC_PROJECT, Role.SUPERVISION_PROJECT}),
    (N_("Orders"), "/console/orders", frozenset(Role) - {Role.OPERATOR, Role.SUB_PROJECT}),
    (N_("Deductions"), "/console/deductions", frozenset(Role) - {Role.OPERATOR}),
    (N_("Bulletins"), "/console/bulletins", frozenset(Role) - {Role.OPERATOR}),
    (N_("Summaries"), "/console/summaries", frozenset(Role) - {Role.OPERATOR}),
    (N_("Monthly report"), "/console/reports", AUTHORITIES),
)
"""The header's menu: (msgid, where, who sees it); the template translates each label."""


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
    check_csrf(request, form.get("csrf"))
    return {k: v for k, v in form.items() if isinstance(v, str)}


def check_csrf(request: web.Request, sent: object) -> None:
    """403 unless ``sent`` is the session's CSRF token (a form read another way checks it too)."""
    if not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_token(session_of(request))):
        message = N_("The form's security token is missing or stale: reload the page and try again.")
        raise ApiError(403, "csrf", message)


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    session: Session | None = request.get(SESSION_KEY)
    who = session.principal if session else None
    _ = gettext_of(request)
    nav = [(_(label), href) for label, href, roles in NAV if who is not None and who.role in roles]
    locale = locale_of(request)
    page = (
        environment(locale)
        .get_template(template)
        .render(
            me=who,
            display_name=session.display_name if session else "",
            nav=nav,
            path=request.path,
            csrf=csrf_token(session) if session else "",
            **context,
        )
    )
    return web.Response(
        text=cards.label_cells(page),
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
    """A console handler whose refusals become an error page with the API's message, in the
    request's language where the catalog has it (the console's own, marked with ``N_``)."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as err:
            message = gettext_of(request)(err.message)
            return render(request, "error.html", status=err.status, message=message)
        except Refusal as err:
            status = next(s for kind, s in REGISTRY_STATUS.items() if isinstance(err, kind))
            return render(request, "error.html", status=status, message=gettext_of(request)(err.message))
        except NotFound as err:
            _ = gettext_of(request)
            return render(request, "error.html", status=404, message=_("Not found: %(what)s", what=err.what))
        except InvalidQuery as err:
            _ = gettext_of(request)
            message = _("%(field)s: %(problem)s", field=_(err.parameter), problem=_(err.message))
            return render(request, "error.html", status=400, message=message)

    return wrapped
