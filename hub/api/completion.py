"""A project's completion date (竣工) over HTTP: ``GET``/``PUT /api/v1/projects/{project_id}/completion``.

Thin handlers over :class:`hub.retention.completion.CompletionDesk`: the role is checked by the
route table first (hub/api/rows/completion.py) and again by the desk, with the project's district.
The body is exactly ``{"completed_on": "YYYY-MM-DD" | null}``; what is not, and a day after the
site's today by the hub's clock, are 400s naming the field, Chinese first. The answer says until
when the records are kept (``kept_until``, the ``[retention] years`` after the date).
"""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from hub.api.body import json_of
from hub.api.error_responses import ApiError
from hub.api.keys import CLOCK, CONFIG, STORE
from hub.api.principal import principal_of
from hub.api.registry import MAX_BODY_BYTES, _answers
from hub.api.respond import json_response
from hub.retention.completion import (
    INVALID_COMPLETION,
    CompletionDesk,
    CompletionIn,
    CompletionInFuture,
    problems_of,
)


def _desk(request: web.Request) -> CompletionDesk:
    years = request.app[CONFIG].retention.years
    return CompletionDesk(request.app[STORE], principal_of(request), years=years)


async def _completion_body(request: web.Request) -> CompletionIn:
    data = await json_of(request, MAX_BODY_BYTES)
    try:
        return CompletionIn.model_validate(data)
    except ValidationError as err:
        raise ApiError(400, INVALID_COMPLETION, problems_of(err)) from None


@_answers
async def get_completion(request: web.Request) -> web.Response:
    completion = await _desk(request).get(request.match_info["project_id"])
    return json_response(completion.as_json())


@_answers
async def put_completion(request: web.Request) -> web.Response:
    data = await _completion_body(request)
    desk, project_id = _desk(request), request.match_info["project_id"]
    try:
        completion = await desk.put(project_id, data.completed_on, now=request.app[CLOCK].wall())
    except CompletionInFuture as err:
        raise ApiError(400, err.code, err.message) from None
    return json_response(completion.as_json())
