"""Rows: the regulators' workflows (rectification orders, credit deductions, monthly summaries,
the national platform's attendance upload, anomaly alerts) and a lane's heartbeat history."""

from __future__ import annotations

from typing import Final

from hub.api import workflows as api
from hub.api.params import DEVICE, ORDER, PAGING, PROJECT, boolean, choice, day, integer, month, text
from hub.api.route import Route
from hub.auth import permissions as may
from hub.workflows.heartbeats import MAX_HOURS
from hub.workflows.models import DeductionIn, OrderIn, OrderStatus, ResponseIn, ReviewIn

TAG = "workflows"
ORDERS = "/api/v1/rectification-orders"
SUMMARY = (month("month", "YYYY-MM (default this month)"), text("district"))

ROUTES: Final = (
    Route(
        "POST",
        ORDERS,
        api.issue_order,
        may.ORDER_ISSUERS,
        "Order a project or an enterprise to rectify by a deadline (责令限期整改)",
        TAG,
        body=OrderIn,
        ok=201,
    ),
    Route(
        "GET",
        ORDERS,
        api.list_orders,
        may.READERS,
        "Rectification orders in scope, newest first (overdue and escalated computed on read)",
        TAG,
        (
            choice("status", OrderStatus),
            boolean("overdue"),
            text("project_id"),
            text("enterprise_id"),
            *PAGING,
        ),
    ),
    Route(
        "GET",
        f"{ORDERS}/{{order_id}}",
        api.get_order,
        may.READERS,
        "One order with its history",
        TAG,
        (ORDER,),
    ),
    Route(
        "POST",
        f"{ORDERS}/{{order_id}}/response",
        api.respond_order,
        may.ORDER_RESPONDERS,
        "The recipient responds (the order becomes responded)",
        TAG,
        (ORDER,),
        body=ResponseIn,
    ),
    Route(
        "POST",
        f"{ORDERS}/{{order_id}}/review",
        api.review_order,
        may.ORDER_ISSUERS,
        "The issuer accepts a response (closed) or sends it back (open)",
        TAG,
        (ORDER,),
        body=ReviewIn,
    ),
    Route(
        "POST",
        "/api/v1/credit-deductions",
        api.deduct,
        may.DEDUCTORS,
        "Deduct credit from an enterprise or a project leader (信用扣分)",
        TAG,
        body=DeductionIn,
        ok=201,
    ),
    Route(
        "GET",
        "/api/v1/credit-deductions",
        api.list_deductions,
        may.READERS,
        "Credit deductions in scope, newest first",
        TAG,
        (
            text("enterprise_id"),
            text("person_id"),
            text("project_id"),
            integer("order_id", 1, 2**63 - 1),
            *PAGING,
        ),
    ),
    Route(
        "GET",
        "/api/v1/summaries/projects",
        api.project_summary,
        may.PERSONAL_DATA_ROLES,
        "Monthly summary per project (按月汇总)",
        TAG,
        SUMMARY,
    ),
    Route(
        "GET",
        "/api/v1/summaries/projects.csv",
        api.project_summary_csv,
        may.PERSONAL_DATA_ROLES,
        "Monthly summary per project as CSV",
        TAG,
        SUMMARY,
        media_type="text/csv",
    ),
    Route(
        "GET",
        "/api/v1/summaries/districts",
        api.district_summary,
        may.AUTHORITIES,
        "Monthly summary per district (authorities)",
        TAG,
        SUMMARY,
    ),
    Route(
        "GET",
        "/api/v1/summaries/districts.csv",
        api.district_summary_csv,
        may.AUTHORITIES,
        "Monthly summary per district as CSV",
        TAG,
        SUMMARY,
        media_type="text/csv",
    ),
    Route(
        "GET",
        "/api/v1/projects/{project_id}/worker-attendance",
        api.worker_attendance,
        may.UPLOADERS,
        "Passages in the national worker platform's WorkerAttendance upload shape (full ID numbers)",
        TAG,
        (PROJECT, day("from"), day("to"), integer("limit", 1, 5000, default=500), text("cursor")),
        description="City, the project's district bureau, or the project's own GC project department only.",
    ),
    Route(
        "GET",
        "/api/v1/alerts",
        api.list_alerts,
        may.EVERY_ROLE,
        "Anomaly alerts: managers not in, gates offline, watchlist hits, overdue orders",
        TAG,
        (text("project_id"),),
    ),
    Route(
        "GET",
        "/api/v1/devices/{device_id}/heartbeats",
        api.heartbeat_history,
        may.EVERY_ROLE,
        "A lane's heartbeat history, one point a minute",
        "devices",
        (DEVICE, integer("hours", 1, MAX_HOURS, default=24)),
    ),
)
