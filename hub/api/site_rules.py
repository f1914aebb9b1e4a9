"""A project's site rules over HTTP: ``GET`` and ``PUT /api/v1/projects/{project_id}/site-rules``.

Thin handlers over :class:`hub.site_rules.rules.SiteRuleWrites` (through the request's registry):
the role is checked by the route table first (hub/api/rows/site_rules.py), the body through
:class:`~hub.site_rules.model.SiteRulesIn`, refused with 422 ``invalid_site_rules`` naming each
field in Chinese first. A PUT answers with the rules as stored; the lanes get them with the next
roster version.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from hub.api.body import json_of
from hub.api.error_responses import ApiError
from hub.api.registry import MAX_BODY_BYTES, _answers, _registry
from hub.api.respond import json_response
from hub.site_rules.model import INVALID_SITE_RULES, SiteRulesIn, problems_of


async def _rules_body(request: web.Request) -> SiteRulesIn:
    data = await json_of(request, MAX_BODY_BYTES)
    try:
        return SiteRulesIn.model_validate(data)
    except ValidationError as err:
        raise ApiError(422, INVALID_SITE_RULES, "; ".join(problems_of(err))) from None


@_answers
async def get_site_rules(request: web.Request) -> web.Response:
    rules = await _registry(request).site_rules(request.match_info["project_id"])
    return json_response(rules.as_json())


@_answers
async def put_site_rules(request: web.Request) -> web.Response:
    registry = _registry(request)
    data = await _rules_body(request)
    rules = await registry.set_site_rules(request.match_info["project_id"], data)
    return json_response(rules.as_json())
