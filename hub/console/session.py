"""Logging in and out of the console: the same login as the API (hub.auth.login: throttling, audit,
argon2), its token kept in an HttpOnly, SameSite=Strict cookie (Secure when the request came over
TLS), never in the page or a URL."""

from __future__ import annotations

from aiohttp import web

from hub.api.auth_middleware import CONSOLE_COOKIE
from hub.api.keys import CLOCK, CONFIG, STORE
from hub.api.limits import LOGIN_THROTTLE, client_of
from hub.auth import login as service
from hub.console.render import checked_form, render, session_of

MAX_FIELD = 128


async def login_form(request: web.Request) -> web.Response:
    return render(request, "login.html", error=None, username="")


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = str(form.get("username", ""))[:MAX_FIELD]
    password = str(form.get("password", ""))[:MAX_FIELD]
    if not username or not password:
        return render(
            request, "login.html", status=400, error="Enter a username and a password.", username=username
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
        return render(request, "login.html", status=status, error=str(err), username=username)
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


async def logout(request: web.Request) -> web.StreamResponse:
    await checked_form(request)
    await service.logout(
        request.app[STORE], session_of(request), clock=request.app[CLOCK], remote=request.remote
    )
    response = web.HTTPSeeOther("/console/login")
    response.del_cookie(CONSOLE_COOKIE, path="/console")
    raise response
