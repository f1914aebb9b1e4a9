"""The OpenAPI 3.1 document of the hub's API, served at /api/v1/openapi.json.

Made from the route table (:mod:`hub.api.routes`), the same rows the router, the role checks and
the query parsing are made from: a row's parameters are the ones its handler accepts, its request
body the pydantic model the handler validates with, so the document cannot drift from what the
hub accepts. A test holds the document and the router together both ways, and schemathesis fuzzes
the running hub against the document.
"""

from hub.api.openapi.document import document, serve_openapi

__all__ = ["document", "serve_openapi"]
