"""Every error the API returns has one shape: ``{"error": {"code": ..., "message": ...}}``.

The middleware turns the hub's own errors, aiohttp's HTTP exceptions (unknown route, wrong
method) and anything unexpected into that shape. A 500 says only that something failed; the
traceback goes to the log, never to the client.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from hub.api.respond import json_response
from hub.errors import BrokerUnavailable, InvalidCursor, InvalidQuery, NotFound, StoreError

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"{status} {code}: {message}")


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    return json_response(body, status=status, headers=headers)


_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as err:
        return error_response(err.status, err.code, err.message)
    except NotFound as err:
        return error_response(404, "not_found", f"{err.what} not found" if " " not in err.what else err.what)
    except BrokerUnavailable as err:
        return error_response(503, "broker_unavailable", str(err))
    except InvalidQuery as err:
        code = "invalid_cursor" if isinstance(err, InvalidCursor) else "invalid_parameter"
        return error_response(400, code, f"{err.parameter!r} {err.message}")
    except StoreError as err:
        if not err.transient:
            log.exception("%s %s failed", request.method, request.path)
            return _internal_error()
        log.warning("%s %s: database unavailable (%s)", request.method, request.path, err)
        return error_response(503, "database_unavailable", "the database is not answering; try again later")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        code = _HTTP_CODES.get(exc.status, "http_error")
        message = f"no resource at {request.path!r}" if exc.status == 404 else exc.reason
        return error_response(exc.status, code, message, headers)
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return _internal_error()


def _internal_error() -> web.Response:
    """A bug or a refused write: the traceback goes to the log, never to the client."""
    return error_response(500, "internal_error", "the hub failed to handle this request")
