"""JSON request bodies: read at most a bounded number of bytes, parse, validate with a pydantic
model, and answer a specific 400 (or 413) naming what is wrong.

:func:`read_body` and :func:`parse_json` are shared with the registry's reader (hub/api/registry.py),
which answers a model's refusal with a 422 and its own codes.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from hub.api.error_responses import ApiError
from hub.api.keys import CONFIG

MAX_BODY_BYTES = 4096
_READ_CHUNK = 16 * 1024

M = TypeVar("M", bound=BaseModel)


class NotJson(ValueError):
    """What :func:`parse_json` could not read; ``why`` says so without quoting the body."""

    def __init__(self, why: str) -> None:
        self.why = why
        super().__init__(why)


async def read_body(request: web.Request, max_bytes: int) -> bytes:
    """The whole body, or a 413 as soon as it is known to exceed ``max_bytes`` (read no further).

    Read to the end: one ``read(n)`` returns what has arrived so far, which for a body spread over
    several TCP segments is only its beginning."""
    too_large = ApiError(413, "payload_too_large", f"the body may be at most {max_bytes} bytes")
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    raw = bytearray()
    try:  # a body trickled in a byte at a time must not hold the request open (issue 13)
        async with asyncio.timeout(request.app[CONFIG].http.body_timeout_s):
            while chunk := await request.content.read(_READ_CHUNK):
                raw += chunk
                if len(raw) > max_bytes:
                    raise too_large
    except TimeoutError:
        raise ApiError(408, "request_timeout", "the request body did not arrive in time") from None
    return bytes(raw)


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as err:
        raise NotJson(err.msg) from None
    except UnicodeDecodeError:
        raise NotJson("not UTF-8") from None
    except RecursionError:  # [[[[...]]]] a few thousand deep: the parser's stack, not ours, gives out
        raise NotJson("nested too deeply") from None


async def json_of(request: web.Request, max_bytes: int) -> Any:
    """The body's JSON (at most ``max_bytes``); 400 ``invalid_json``, Chinese first, for what is not
    JSON. For the handlers that word their own refusals of the model (site rules, completion)."""
    try:
        return parse_json(await read_body(request, max_bytes))
    except NotJson as err:
        raise ApiError(400, "invalid_json", f"请求内容不是 JSON (the body is not JSON: {err.why})") from None


async def json_body(request: web.Request, model: type[M], *, max_bytes: int = MAX_BODY_BYTES) -> M:
    raw = await read_body(request, max_bytes)
    try:
        data = parse_json(raw or b"null")
    except NotJson as err:
        raise ApiError(400, "invalid_body", f"the body is not JSON: {err.why}") from None
    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
            for e in err.errors(include_input=False)
        )
        raise ApiError(400, "invalid_body", problems) from None
