"""The whole URL map of the hub, on one screen."""

from __future__ import annotations

from aiohttp import web

from hub.api import audit, auth, commands, enrolment, views
from hub.api.openapi import serve_openapi
from hub.api.oversight import setup_oversight_routes
from hub.api.registry import setup_registry_routes
from hub.api.workflows import setup_workflow_routes
from hub.console import setup_console


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", views.healthz)
    app.router.add_get("/api/v1/openapi.json", serve_openapi)
    app.router.add_post("/api/v1/auth/login", auth.login)
    app.router.add_post("/api/v1/auth/logout", auth.logout)
    app.router.add_get("/api/v1/auth/me", auth.me)
    app.router.add_get("/api/v1/audit", audit.audit_log)
    app.router.add_get("/api/v1/access-events", views.access_events)
    app.router.add_get("/api/v1/access-events/counts", views.access_event_counts)
    app.router.add_get("/api/v1/lane-events", views.lane_events)
    app.router.add_get("/api/v1/ingest", views.ingest_status)
    app.router.add_get("/api/v1/dead-letters", views.dead_letters)
    app.router.add_get("/api/v1/devices", views.devices)
    app.router.add_post("/api/v1/devices/{device_id}/commands", commands.issue_command)
    app.router.add_get("/api/v1/devices/{device_id}/commands", commands.list_commands)
    setup_oversight_routes(app)  # headcount, attendance, statistics, CSV export
    setup_registry_routes(app)
    setup_workflow_routes(app)  # orders, deductions, summaries, national upload, alerts
    enrolment.add_routes(app)  # enrolment tokens, enrolments, revocation
    setup_console(app)  # the web console under /console (hub/console)
