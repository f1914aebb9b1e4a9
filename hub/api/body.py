"""JSON request bodies: read at most a bounded number of bytes, validate with a pydantic model,
and answer a specific 400 (or 413) naming what is wrong."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from hub.api.errors import ApiError

MAX_BODY_BYTES = 4096

M = TypeVar("M", bound=BaseModel)


async def json_body(request: web.Request, model: type[M], *, max_bytes: int = MAX_BODY_BYTES) -> M:
    raw = await request.content.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ApiError(413, "payload_too_large", f"the body may be at most {max_bytes} bytes")
    try:
        data: Any = json.loads(raw or b"null")
        return model.model_validate(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        why = err.msg if isinstance(err, json.JSONDecodeError) else "not UTF-8"
        raise ApiError(400, "invalid_body", f"the body is not JSON: {why}") from None
    except RecursionError:  # [[[[...]]]] a few thousand deep: the parser's stack, not ours, gives out
        raise ApiError(400, "invalid_body", "the body is not JSON we take: nested too deeply") from None
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
            for e in err.errors(include_input=False)
        )
        raise ApiError(400, "invalid_body", problems) from None
