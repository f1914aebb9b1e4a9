"""The HTTP edge: one signed form POST to the platform, its answer parsed.

A transport failure (refused, reset, timed out, an answer that is not the platform's JSON) is a
:class:`PlatformUnreachable`: whether the platform took the request is then unknown. Nothing
here logs a request's ``data`` (it carries ID numbers, encrypted but personal) or the appsecret.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import aiohttp

from hub.errors import HubError
from hub.platform.protocol import Answer, Method, ProtocolError, parse_answer, signed_form
from hub.platform.settings import Credentials


class PlatformUnreachable(HubError):
    """No answer of the platform's: the request's fate is unknown."""


class PlatformClient:
    """Posts for one project's credentials over a shared session."""

    def __init__(self, session: aiohttp.ClientSession, credentials: Credentials, *, timeout_s: float) -> None:
        self._session = session
        self._credentials = credentials
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def call(self, method: Method, data: Mapping[str, Any], *, now: datetime) -> Answer:
        c = self._credentials
        form = signed_form(
            method, data, appid=c.appid, appsecret=c.appsecret, now=now, nonce=secrets.token_hex(16)
        )
        try:
            async with self._session.post(c.endpoint, data=form, timeout=self._timeout) as response:
                body = await response.read()
                if response.status >= 500:
                    raise PlatformUnreachable(f"{method}: HTTP {response.status}")
            return parse_answer(body)
        except TimeoutError:
            raise PlatformUnreachable(f"{method}: 平台未应答（超时） (no answer in time)") from None
        except aiohttp.ClientError as err:
            raise PlatformUnreachable(f"{method}: {type(err).__name__}: {err}") from None
        except ProtocolError as err:
            raise PlatformUnreachable(f"{method}: {err}") from None
