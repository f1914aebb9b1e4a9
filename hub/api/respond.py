"""The API's JSON answers: strict JSON only.

``json.dumps`` writes ``NaN`` and ``Infinity`` for non-finite floats by default, which strict
parsers (browsers' ``JSON.parse`` among them) reject, so one stored NaN would break a whole
listing for every client. Here such a value is a bug to surface (a 500, logged), never a body.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from aiohttp import web

strict_dumps = functools.partial(json.dumps, allow_nan=False)


def json_response(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers, dumps=strict_dumps)
