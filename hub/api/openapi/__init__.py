"""The OpenAPI 3.1 document of the hub's API, served at /api/v1/openapi.json.

Operations are declared in :mod:`hub.api.openapi.operations`, one table for the whole API (like
the URL map in hub/api/routes.py); request bodies are the pydantic models the handlers validate
with, so a body's schema cannot drift from what the hub accepts. A test holds the table and the
router together both ways, and schemathesis fuzzes the running hub against the document.
"""

from hub.api.openapi.document import document, serve_openapi

__all__ = ["document", "serve_openapi"]
