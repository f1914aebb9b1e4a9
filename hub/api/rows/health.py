"""Rows: health, this document, logging in and out, the audit log."""

from __future__ import annotations

from typing import Final

from hub.api import audit, auth, views
from hub.api.auth import LoginRequest
from hub.api.openapi import serve_openapi
from hub.api.params import PAGING, WINDOW, text
from hub.api.route import OPEN, Route
from hub.auth.permissions import EVERY_ROLE

ROUTES: Final = (
    Route(
        "GET",
        "/healthz",
        views.healthz,
        OPEN,
        "Liveness: database and broker link",
        "health",
        extra_ok=(503,),
    ),
    Route("GET", "/api/v1/openapi.json", serve_openapi, OPEN, "This document", "health"),
    Route(
        "POST", "/api/v1/auth/login", auth.login, OPEN, "Log in: a bearer token", "auth", body=LoginRequest
    ),
    Route(
        "POST",
        "/api/v1/auth/logout",
        auth.logout,
        EVERY_ROLE,
        "Revoke the token this request carries",
        "auth",
    ),
    Route("GET", "/api/v1/auth/me", auth.me, EVERY_ROLE, "The account behind the token", "auth"),
    Route(
        "GET",
        "/api/v1/audit",
        audit.audit_log,
        EVERY_ROLE,  # each account its own lines, the city station every line (hub.auth.audit)
        "The audit log, newest first",
        "auth",
        (text("username"), text("action"), *WINDOW, *PAGING),
    ),
)
