"""Every operation of the hub's API, on one table; tests/hub/test_openapi.py holds it to the router."""

from __future__ import annotations

from hub.api.auth import LoginRequest
from hub.api.commands import CommandRequest
from hub.api.enrolment import TokenRequest
from hub.api.openapi.model import Operation, Param, boolean, choice, day, integer, path, text, timestamp
from hub.registry.models import (
    AssignmentExit,
    AssignmentIn,
    DistrictIn,
    EnterpriseIn,
    GateIn,
    InspectionIn,
    PartyIn,
    PersonIn,
    PersonLookupIn,
    ProjectIn,
    RegistrationIn,
    WatchlistIn,
)
from hub.workflows.models import DeductionIn, OrderIn, OrderStatus, ResponseIn, ReviewIn
from provisioning.enrolment import EnrolmentRequest
from wire.models import DEVICE_ID_PATTERN, PROJECT_ID_PATTERN, Decision, Direction, LaneEventType, Reason

PAGING = (
    integer("limit", 1, 500, "rows per page (default 100)"),
    text("cursor", "next_cursor of the previous page"),
)
WINDOW = (
    timestamp("since", "wall_time at or after (ISO 8601 with a timezone)"),
    timestamp("until", "wall_time before"),
)
EVENT_FILTERS: tuple[Param, ...] = (
    text("project_id"),
    text("device_id", "the gate's controller"),
    text("person_id"),
    text("enterprise_id", "the person worked on the event's project for this enterprise"),
    choice("direction", Direction),
    choice("decision", Decision),
    choice("reason", Reason),
    *WINDOW,
)
LANE_EVENT_FILTERS: tuple[Param, ...] = (
    text("project_id"),
    text("device_id"),
    choice("type", LaneEventType),
    boolean("alert"),
    *WINDOW,
)
DEVICE = path("device_id", "a controller's id", pattern=DEVICE_ID_PATTERN)
PROJECT = path("project_id", "the project's id (as lanes and rosters carry it)", pattern=PROJECT_ID_PATTERN)
PERSON = path("person_id", "a registered person's id (never an ID number)")
ENTERPRISE = path("enterprise_id")
ASSIGNMENT = Param("assignment_id", {"type": "integer", "minimum": 1}, required=True, where="path")

ORDER = Param("order_id", {"type": "integer", "minimum": 1}, required=True, where="path")
SUMMARY = (
    Param("month", {"type": "string", "pattern": r"^\d{4}-\d{2}$"}, "YYYY-MM (default this month)"),
    text("district"),
)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET", "/healthz", "Liveness: database and broker link", "health", public=True, extra_ok=(503,)
    ),
    Operation("GET", "/api/v1/openapi.json", "This document", "health", public=True),
    # -- accounts ------------------------------------------------------------------------------
    Operation("POST", "/api/v1/auth/login", "Log in: a bearer token", "auth", body=LoginRequest, public=True),
    Operation("POST", "/api/v1/auth/logout", "Revoke the token this request carries", "auth"),
    Operation("GET", "/api/v1/auth/me", "The account behind the token", "auth"),
    # -- the record ----------------------------------------------------------------------------
    Operation(
        "GET", "/api/v1/access-events", "Access events, newest first", "records", (*EVENT_FILTERS, *PAGING)
    ),
    Operation("GET", "/api/v1/access-events/counts", "Access events counted", "records", EVENT_FILTERS),
    Operation(
        "GET", "/api/v1/lane-events", "Lane events, newest first", "records", (*LANE_EVENT_FILTERS, *PAGING)
    ),
    # -- devices -------------------------------------------------------------------------------
    Operation("GET", "/api/v1/devices", "Device health: presence, heartbeat, roster lag", "devices"),
    Operation(
        "POST",
        "/api/v1/devices/{device_id}/commands",
        "Send a command to a lane (and wait briefly for its answer)",
        "devices",
        (DEVICE,),
        body=CommandRequest,
        extra_ok=(202,),
    ),
    Operation(
        "GET",
        "/api/v1/devices/{device_id}/commands",
        "Commands sent to a lane, newest first",
        "devices",
        (DEVICE, integer("limit", 1, 500)),
    ),
    Operation("GET", "/api/v1/ingest", "Ingest counters and per-device sequence watermarks", "devices"),
    Operation(
        "GET",
        "/api/v1/dead-letters",
        "Rejected messages (without bodies)",
        "devices",
        (integer("limit", 1, 500),),
    ),
    Operation(
        "POST",
        "/api/v1/enrolment-tokens",
        "A one-time token to enrol a lane at a gate",
        "devices",
        body=TokenRequest,
        ok=201,
    ),
    Operation(
        "POST",
        "/api/v1/enrolments",
        "Enrol a lane: its CSR signed, its bundle returned",
        "devices",
        body=EnrolmentRequest,
        public=True,
        ok=201,
        description="Authorised by the one-time enrolment token in the body, not by a login.",
    ),
    Operation(
        "POST", "/api/v1/devices/{device_id}/revocation", "Revoke a lane's certificate", "devices", (DEVICE,)
    ),
    Operation(
        "GET",
        "/api/v1/audit",
        "The audit log, newest first",
        "auth",
        (text("username"), text("action"), *WINDOW, *PAGING),
    ),
    # -- registry ------------------------------------------------------------------------------
    Operation("GET", "/api/v1/districts", "Districts", "registry"),
    Operation("POST", "/api/v1/districts", "Add a district", "registry", body=DistrictIn, ok=201),
    Operation("GET", "/api/v1/enterprises", "Enterprises in scope", "registry", PAGING),
    Operation(
        "POST",
        "/api/v1/enterprises",
        "Register an enterprise (and its enterprise account)",
        "registry",
        body=EnterpriseIn,
        ok=201,
    ),
    Operation("GET", "/api/v1/enterprises/{enterprise_id}", "One enterprise", "registry", (ENTERPRISE,)),
    Operation(
        "GET",
        "/api/v1/persons",
        "Registered persons in scope (ID numbers masked unless the role needs them)",
        "registry",
        (text("enterprise_id"), boolean("watchlisted"), *PAGING),
    ),
    Operation(
        "POST",
        "/api/v1/persons",
        "Register a worker (作业人员备案) or a manager (管理人员信息登记)",
        "registry",
        body=PersonIn,
        ok=201,
    ),
    Operation(
        "POST",
        "/api/v1/persons/lookup",
        "Find a person by ID number (in the body, never the URL)",
        "registry",
        body=PersonLookupIn,
    ),
    Operation("GET", "/api/v1/persons/{person_id}", "One person", "registry", (PERSON,)),
    Operation(
        "PUT",
        "/api/v1/persons/{person_id}/watchlist",
        "Flag or unflag a person",
        "registry",
        (PERSON,),
        body=WatchlistIn,
    ),
    Operation(
        "GET",
        "/api/v1/projects",
        "Projects in scope",
        "registry",
        (boolean("registered"), text("district")),
    ),
    Operation("POST", "/api/v1/projects", "Record a permitted project", "registry", body=ProjectIn, ok=201),
    Operation("GET", "/api/v1/projects/{project_id}", "One project", "registry", (PROJECT,)),
    Operation(
        "POST",
        "/api/v1/projects/{project_id}/registration",
        "报备: the general contractor starts the project's real-name registration",
        "registry",
        (PROJECT,),
        body=RegistrationIn,
    ),
    Operation(
        "GET", "/api/v1/projects/{project_id}/parties", "The project's parties", "registry", (PROJECT,)
    ),
    Operation(
        "POST",
        "/api/v1/projects/{project_id}/parties",
        "Register a subcontractor or supervision project department (and its account)",
        "registry",
        (PROJECT,),
        body=PartyIn,
        ok=201,
    ),
    Operation(
        "GET",
        "/api/v1/projects/{project_id}/assignments",
        "Assignments on the project",
        "registry",
        (PROJECT, text("person_id"), *PAGING),
    ),
    Operation(
        "POST",
        "/api/v1/projects/{project_id}/assignments",
        "Assign a person (进场)",
        "registry",
        (PROJECT,),
        body=AssignmentIn,
        ok=201,
    ),
    Operation(
        "PATCH",
        "/api/v1/assignments/{assignment_id}",
        "End an assignment (退场)",
        "registry",
        (ASSIGNMENT,),
        body=AssignmentExit,
    ),
    Operation("GET", "/api/v1/projects/{project_id}/gates", "The project's gates", "registry", (PROJECT,)),
    Operation(
        "POST",
        "/api/v1/projects/{project_id}/gates",
        "Place a lane at a gate (or move it)",
        "registry",
        (PROJECT,),
        body=GateIn,
        ok=201,
        extra_ok=(200,),
    ),
    Operation(
        "DELETE",
        "/api/v1/projects/{project_id}/gates/{device_id}",
        "Take a lane off its gate",
        "registry",
        (PROJECT, DEVICE),
        ok=204,
        media_type="none",
    ),
    Operation(
        "GET",
        "/api/v1/projects/{project_id}/inspections",
        "Supervision inspections",
        "registry",
        (PROJECT,),
    ),
    Operation(
        "POST",
        "/api/v1/projects/{project_id}/inspections",
        "File an inspection (supervision)",
        "registry",
        (PROJECT,),
        body=InspectionIn,
        ok=201,
    ),
    # -- oversight -----------------------------------------------------------------------------
    Operation(
        "GET",
        "/api/v1/projects/{project_id}/headcount",
        "On site now, by enterprise and role",
        "oversight",
        (PROJECT,),
    ),
    Operation(
        "GET",
        "/api/v1/projects/{project_id}/managers-on-duty",
        "Managers on duty on a day (default today)",
        "oversight",
        (PROJECT, day("date")),
    ),
    Operation(
        "GET",
        "/api/v1/projects/{project_id}/attendance/monthly",
        "Attendance per person for a month",
        "oversight",
        (PROJECT, Param("month", {"type": "string", "pattern": r"^\d{4}-\d{2}$"}, "YYYY-MM")),
    ),
    Operation(
        "GET",
        "/api/v1/attendance",
        "Attendance per person per day",
        "oversight",
        (text("project_id"), text("person_id"), text("enterprise_id"), day("from"), day("to"), *PAGING),
    ),
    Operation(
        "GET",
        "/api/v1/statistics/registration",
        "Registration statistics per district",
        "oversight",
        (text("district"),),
    ),
    Operation(
        "GET",
        "/api/v1/access-events/export.csv",
        "Access events as CSV (streamed)",
        "records",
        EVENT_FILTERS,
        media_type="text/csv",
    ),
    # -- workflows (hub/api/workflows.py) -------------------------------------------------------
    Operation(
        "POST",
        "/api/v1/rectification-orders",
        "Order a project or an enterprise to rectify by a deadline (责令限期整改)",
        "workflows",
        body=OrderIn,
        ok=201,
    ),
    Operation(
        "GET",
        "/api/v1/rectification-orders",
        "Rectification orders in scope, newest first (overdue and escalated computed on read)",
        "workflows",
        (
            choice("status", OrderStatus),
            boolean("overdue"),
            text("project_id"),
            text("enterprise_id"),
            *PAGING,
        ),
    ),
    Operation(
        "GET", "/api/v1/rectification-orders/{order_id}", "One order with its history", "workflows", (ORDER,)
    ),
    Operation(
        "POST",
        "/api/v1/rectification-orders/{order_id}/response",
        "The recipient responds (the order becomes responded)",
        "workflows",
        (ORDER,),
        body=ResponseIn,
    ),
    Operation(
        "POST",
        "/api/v1/rectification-orders/{order_id}/review",
        "The issuer accepts a response (closed) or sends it back (open)",
        "workflows",
        (ORDER,),
        body=ReviewIn,
    ),
    Operation(
        "POST",
        "/api/v1/credit-deductions",
        "Deduct credit from an enterprise or a project leader (信用扣分)",
        "workflows",
        body=DeductionIn,
        ok=201,
    ),
    Operation(
        "GET",
        "/api/v1/credit-deductions",
        "Credit deductions in scope, newest first",
        "workflows",
        (
            text("enterprise_id"),
            text("person_id"),
            text("project_id"),
            integer("order_id", 1, 2**63 - 1),
            *PAGING,
        ),
    ),
    Operation(
        "GET", "/api/v1/summaries/projects", "Monthly summary per project (按月汇总)", "workflows", SUMMARY
    ),
    Operation(
        "GET",
        "/api/v1/summaries/projects.csv",
        "Monthly summary per project as CSV",
        "workflows",
        SUMMARY,
        media_type="text/csv",
    ),
    Operation(
        "GET",
        "/api/v1/summaries/districts",
        "Monthly summary per district (authorities)",
        "workflows",
        SUMMARY,
    ),
    Operation(
        "GET",
        "/api/v1/summaries/districts.csv",
        "Monthly summary per district as CSV",
        "workflows",
        SUMMARY,
        media_type="text/csv",
    ),
    Operation(
        "GET",
        "/api/v1/projects/{project_id}/worker-attendance",
        "Passages in the national worker platform's WorkerAttendance upload shape (full ID numbers)",
        "workflows",
        (PROJECT, day("from"), day("to"), integer("limit", 1, 5000), text("cursor")),
        description="City, the project's district bureau, or the project's own GC project department only.",
    ),
    Operation(
        "GET",
        "/api/v1/alerts",
        "Anomaly alerts: managers not in, gates offline, watchlist hits, overdue orders",
        "workflows",
        (text("project_id"),),
    ),
    Operation(
        "GET",
        "/api/v1/devices/{device_id}/heartbeats",
        "A lane's heartbeat history, one point a minute",
        "devices",
        (DEVICE, integer("hours", 1, 7 * 24)),
    ),
)
