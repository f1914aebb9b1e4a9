"""The web console, served by the hub under /console: server-rendered pages (Jinja2, autoescaped),
role-aware, usable on a phone, no script but a meta refresh, no external resources (its one
stylesheet is served from here). Charts are inline SVG drawn on the server (:mod:`charts`).

It signs in with the API's login and keeps the token in an HttpOnly, SameSite=Strict cookie that
the authentication middleware accepts for /console/* only (the API keeps its bearer header);
every form carries a per-session CSRF token. Each page reads through the same scoped queries as
the API: a role sees exactly what its API calls would return.
"""

from __future__ import annotations

from aiohttp import web

from hub.console import session, views_devices, views_oversight, views_projects
from hub.console.render import STATIC

PROJECT = "/console/projects/{project_id}"


async def _home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/console/")


def setup_console(app: web.Application) -> None:
    r = app.router
    r.add_get("/console", _home)
    r.add_get("/console/login", session.login_form)
    r.add_post("/console/login", session.login)
    r.add_post("/console/logout", session.logout)
    r.add_static("/console/static", STATIC, name="console_static")
    r.add_get("/console/", views_oversight.overview)
    r.add_get("/console/devices", views_devices.board)
    r.add_get("/console/devices/{device_id}", views_devices.device)
    r.add_get("/console/projects", views_projects.project_list)
    r.add_get(PROJECT, views_projects.project_page)
    r.add_get(PROJECT + "/access-log", views_projects.access_log)
    r.add_get(PROJECT + "/access-log.csv", views_projects.access_log_csv)
    r.add_get(PROJECT + "/attendance", views_projects.attendance_day)
    r.add_get(PROJECT + "/attendance/monthly", views_projects.attendance_month)
    r.add_get(PROJECT + "/worker-attendance.json", views_projects.worker_attendance)
    r.add_get("/console/statistics", views_oversight.statistics)
    r.add_get("/console/inspections", views_oversight.inspections)
    r.add_post("/console/inspections", views_oversight.file_inspection)
    r.add_get("/console/orders", views_oversight.order_list)
    r.add_post("/console/orders", views_oversight.issue_order)
    r.add_get("/console/orders/{order_id}", views_oversight.order_page)
    r.add_post("/console/orders/{order_id}/response", views_oversight.respond_order)
    r.add_post("/console/orders/{order_id}/review", views_oversight.review_order)
    r.add_get("/console/deductions", views_oversight.deduction_list)
    r.add_post("/console/deductions", views_oversight.deduct)
    r.add_get("/console/summaries", views_oversight.summaries)
    r.add_get("/console/summaries/{which:projects|districts}.csv", views_oversight.summaries_csv)
