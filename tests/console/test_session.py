"""The sign-in form's refusals, in the request's language; a lockout in Beijing time."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from hub.api.keys import CLOCK
from hub.auth import login as service
from hub.console.session import refusal
from tests.support.clock import FakeClock

NOW = datetime(2026, 12, 7, 0, 29, 10, tzinfo=UTC)
"""08:29:10 in Beijing."""


def _request(accept_language: str | None) -> web.Request:
    app = web.Application()
    app[CLOCK] = FakeClock(NOW)
    headers = {"Accept-Language": accept_language} if accept_language else {}
    return make_mocked_request("POST", "/console/login", headers=headers, app=app)


def test_a_lockout_says_until_when_in_beijing_time_as_chinese_users_write_it() -> None:
    message = refusal(_request(None), service.TooManyTries(30))
    assert "2026年12月7日 08:30" in message  # 08:29:40, rounded up to the whole minute
    assert "UTC" not in message and not re.search(r"\d{4}-\d{2}-\d{2}T", message)


def test_a_lockout_in_english() -> None:
    message = refusal(_request("en-GB,en"), service.TooManyTries(95))
    assert "7 Dec 2026, 08:31" in message and "Beijing" in message


def test_wrong_password_and_disabled() -> None:
    assert refusal(_request("zh-CN"), service.InvalidCredentials()) == "用户名或密码错误。"
    assert refusal(_request("zh-CN"), service.AccountDisabled()) == "该账号已停用。"
    assert refusal(_request("en"), service.InvalidCredentials()) == "Unknown username or wrong password."
