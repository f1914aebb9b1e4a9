"""Logging in and out of the console: the same login as the API (hub.auth.login: throttling, audit,
argon2), its token kept in an HttpOnly, SameSite=Strict cookie (Secure when the request came over
TLS), never in the page or a URL. And the account's language (the header's switch), kept in
``accounts.locale`` so it follows the account to any browser."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from hub.api.auth_middleware import CONSOLE_COOKIE
from hub.api.keys import CLOCK, CONFIG, STORE
from hub.api.limits import LOGIN_THROTTLE, client_of
from hub.auth import login as service
from hub.auth.preferences import set_locale
from hub.console import times
from hub.console.i18n import Locale, parse_locale
from hub.console.render import checked_form, gettext_of, locale_of, page, render, session_of

MAX_FIELD = 128


async def login_form(request: web.Request) -> web.Response:
    return render(request, "login.html", error=None, username="")


async def login(request: web.Request) -> web.StreamResponse:
    _ = gettext_of(request)
    form = await request.post()
    username = str(form.get("username", ""))[:MAX_FIELD]
    password = str(form.get("password", ""))[:MAX_FIELD]
    if not username or not password:
        return render(
            request, "login.html", status=400, error=_("Enter a username and a password."), username=username
        )
    policy = service.LoginPolicy.of(request.app[CONFIG])
    try:
        result = await service.login(
            request.app[STORE],
            username,
            password,
            policy=policy,
            throttle=request.app[LOGIN_THROTTLE],
            clock=request.app[CLOCK],
            remote=client_of(request),
        )
    except service.LoginRefused as err:
        status = 429 if isinstance(err, service.TooManyTries) else 401
        return render(request, "login.html", status=status, error=refusal(request, err), username=username)
    response = web.HTTPSeeOther("/console/")
    response.set_cookie(
        CONSOLE_COOKIE,
        result.issued.token,
        max_age=int(policy.token_lifetime_s),
        path="/console",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )
    raise response


def refusal(request: web.Request, err: service.LoginRefused) -> str:
    """Why a login was refused, in the request's language; a lockout says until when, in Beijing
    time as its reader writes it (``2026年12月7日 08:30``), never a raw UTC timestamp."""
    _ = gettext_of(request)
    if isinstance(err, service.TooManyTries):
        until = request.app[CLOCK].wall() + timedelta(seconds=err.retry_after_s)
        # to the next whole minute, so "after 08:31" is never before the lock ends
        until = (until + timedelta(minutes=1)).replace(second=0, microsecond=0)
        when = times.local(until, locale_of(request), "datetime")
        return _("Too many login attempts: try again after %(when)s (Beijing time).", when=when)
    if isinstance(err, service.AccountDisabled):
        return _("This account is disabled.")
    return _("Unknown username or wrong password.")


async def logout(request: web.Request) -> web.StreamResponse:
    await checked_form(request)
    await service.logout(
        request.app[STORE], session_of(request), clock=request.app[CLOCK], remote=request.remote
    )
    response = web.HTTPSeeOther("/console/login")
    response.del_cookie(CONSOLE_COOKIE, path="/console")
    raise response


@page
async def set_language(request: web.Request) -> web.StreamResponse:
    """The header's language switch: the account's ``locale`` (CSRF-checked, like every form),
    then back to the page it was pressed on."""
    form = await checked_form(request)
    chosen = parse_locale(form.get("locale")) or Locale.ZH_CN
    await set_locale(request.app[STORE], session_of(request).principal.account_id, chosen.value)
    back = form.get("next", "")
    # only a path of the console itself: never an open redirect
    safe = back.startswith("/console/") and not back.startswith("//") and "\\" not in back
    raise web.HTTPSeeOther(back if safe else "/console/")
