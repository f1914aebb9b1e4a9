"""The OpenAPI document: served without a token, loadable by schemathesis, and in step with the
router both ways (an undocumented route or a documented route that does not exist fails here).
Both are made from the route table (hub/api/routes.py); this holds what the app really serves to
the document, whoever registers a route by hand."""

from __future__ import annotations

import re
from pathlib import Path

import schemathesis
from aiohttp.test_utils import TestClient, TestServer

from hub.api.openapi import document
from hub.api.routes import API_ROUTES, ROUTES
from hub.app import create_app
from hub.config import HubConfig


def routes(app) -> set[tuple[str, str]]:
    found = set()
    for resource in app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter") or info.get("prefix")
        if path is not None and (path == "/console" or path.startswith("/console/")):
            continue  # the web console's pages (hub/console), not the API
        for route in resource:
            if route.method in ("HEAD", "OPTIONS"):
                continue
            found.add((route.method, path))
    return found


def test_every_route_is_documented_and_every_documented_route_exists(tmp_path: Path) -> None:
    app = create_app(HubConfig(database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"))
    documented = {
        (method.upper(), path) for path, item in document(ROUTES)["paths"].items() for method in item
    }
    assert routes(app) - documented == set(), "routes missing from the route table (hub/api/routes.py)"
    assert documented - routes(app) == set(), "documented operations with no route"


def test_the_document_loads_as_openapi() -> None:
    spec = document(ROUTES)
    schema = schemathesis.openapi.from_dict(spec)
    assert spec["openapi"].startswith("3.1")
    login = spec["paths"]["/api/v1/auth/login"]["post"]
    assert login["security"] == []
    body_schema = spec["components"]["schemas"][
        login["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    ]
    assert set(body_schema["required"]) == {"username", "password"}
    assert len(list(schema.get_all_operations())) == len(API_ROUTES)


async def test_served_without_a_token(tmp_path: Path) -> None:
    app = create_app(HubConfig(database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}", mqtt_port=1))
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/api/v1/openapi.json")
        assert response.status == 200
        body = await response.json()
    assert body["info"]["title"] == "SiteGate hub API"
    assert "/api/v1/access-events" in body["paths"]


def test_every_api_row_documents_its_path_and_a_summary() -> None:
    """Each ``{name}`` of a row's path is a declared path parameter, and no parameter twice."""
    for route in API_ROUTES:
        in_path = set(re.findall(r"\{(\w+)", route.path))
        declared = [p.name for p in route.params if p.where == "path"]
        assert set(declared) == in_path, (route.method, route.path)
        names = [p.name for p in route.params]
        assert len(names) == len(set(names)), (route.method, route.path)
        assert route.summary and route.tag, (route.method, route.path)
