"""Log in (a bearer token for a username and password), log out (the token is revoked), and who
am I. The rules live in :mod:`hub.auth.login`; here only HTTP."""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hub.api.auth_middleware import SESSION_KEY
from hub.api.body import json_body
from hub.api.error_responses import ApiError
from hub.api.keys import CLOCK, CONFIG, STORE
from hub.api.limits import LOGIN_THROTTLE, client_of, too_many
from hub.api.params import params_of
from hub.api.respond import json_response
from hub.auth import login as service
from hub.auth.passwords import MAX_PASSWORD_LENGTH
from hub.auth.principal import Principal
from hub.auth.tokens import Session


class LoginRequest(BaseModel):
    # defer_build: a request's body, built on its first use, not at every hub's start
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


def account(principal: Principal, display_name: str) -> dict[str, Any]:
    return {
        "username": principal.username,
        "role": principal.role.value,
        "district": principal.district,
        "enterprise_id": principal.enterprise_id,
        "project_id": principal.project_id,
        "display_name": display_name,
    }


def _session(request: web.Request) -> Session:
    session: Session | None = request.get(SESSION_KEY)
    if session is None:  # the middleware lets no request without one through to these handlers
        raise ApiError(401, "unauthenticated", "log in first: send 'Authorization: Bearer <token>'")
    return session


async def login(request: web.Request) -> web.Response:
    params_of(request)
    body = await json_body(request, LoginRequest)
    policy, clock = service.LoginPolicy.of(request.app[CONFIG]), request.app[CLOCK]
    try:
        result = await service.login(
            request.app[STORE],
            body.username,
            body.password,
            policy=policy,
            throttle=request.app[LOGIN_THROTTLE],
            clock=clock,
            remote=client_of(request),
        )
    except service.InvalidCredentials as err:
        raise ApiError(401, "invalid_credentials", str(err)) from None
    except service.TooManyTries as err:
        return too_many(err.retry_after_s)
    except service.AccountDisabled as err:
        raise ApiError(403, "account_disabled", f"{err}; ask whoever manages it") from None
    return json_response(
        {
            "token": result.issued.token,
            "expires_at": result.issued.expires_at.isoformat(),
            "account": account(result.principal, result.display_name),
        },
        headers={"Cache-Control": "no-store"},
    )


async def logout(request: web.Request) -> web.Response:
    params_of(request)
    clock = request.app[CLOCK]
    await service.logout(request.app[STORE], _session(request), clock=clock, remote=request.remote)
    return web.Response(status=204)


async def me(request: web.Request) -> web.Response:
    params_of(request)
    session = _session(request)
    return json_response(
        {
            "account": account(session.principal, session.display_name),
            "expires_at": session.expires_at.isoformat(),
        }
    )
