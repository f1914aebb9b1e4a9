"""Build the document from the route table's API rows; serve it."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from hub.api.respond import json_response
from hub.api.route import Route

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}


def _operation_id(op: Route) -> str:
    words = op.path.strip("/").replace("{", "").replace("}", "").replace(".", "_").replace("-", "_")
    return f"{op.method.lower()}_{words.replace('/', '_')}"


def _operation(op: Route, components: dict[str, Any]) -> dict[str, Any]:
    success: dict[str, Any] = {"description": "success"}
    if op.media_type == "application/json":
        success["content"] = {"application/json": {"schema": {"type": "object"}}}
    elif op.media_type != "none":
        success["content"] = {op.media_type: {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {
        str(op.ok): success,
        "default": {
            "description": "an error: a code to act on and a message naming what was wrong",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        },
    }
    for status in op.extra_ok:
        responses[str(status)] = success
    spec: dict[str, Any] = {
        "operationId": _operation_id(op),
        "summary": op.summary,
        "tags": [op.tag],
        "responses": responses,
    }
    if op.description:
        spec["description"] = op.description
    if op.params:
        spec["parameters"] = [
            {
                "name": p.name,
                "in": p.where,
                "required": p.required,
                "schema": dict(p.schema),
                **({"description": p.description} if p.description else {}),
            }
            for p in op.params
        ]
    if op.body is not None:
        name = op.body.__name__
        schema = op.body.model_json_schema(ref_template="#/components/schemas/{model}")
        for nested, definition in schema.pop("$defs", {}).items():
            components[nested] = definition
        components[name] = schema
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
        }
    if op.public:
        spec["security"] = []
    return spec


def document(routes: Iterable[Route]) -> dict[str, Any]:
    """The OpenAPI document of ``routes``' API rows (the console's pages are HTML, not in it)."""
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for op in routes:
        if op.console:
            continue
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SiteGate hub API",
            "version": "1",
            "description": (
                "Real-name site access: the registry of the notice, access records and oversight. "
                "Log in with POST /api/v1/auth/login and send the token as 'Authorization: Bearer'. "
                "What an account sees is scoped by its role in the queries themselves."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


@functools.cache
def _cached() -> dict[str, Any]:
    from hub.api.routes import ROUTES  # the table imports this module's handler

    return document(ROUTES)


async def serve_openapi(request: web.Request) -> web.Response:
    return json_response(_cached())
