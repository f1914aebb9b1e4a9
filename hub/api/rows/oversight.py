"""Rows: the oversight reads (headcount, managers on duty, attendance, registration statistics)
and the access record as CSV."""

from __future__ import annotations

from typing import Final

from hub.api import oversight
from hub.api.params import EVENT_FILTERS, PAGING, PROJECT, day, month, text
from hub.api.route import Route
from hub.auth.permissions import AUTHORITIES, PERSONAL_DATA_ROLES

ROUTES: Final = (
    Route(
        "GET",
        "/api/v1/projects/{project_id}/headcount",
        oversight.headcount,
        PERSONAL_DATA_ROLES,
        "On site now, by enterprise and role",
        "oversight",
        (PROJECT,),
    ),
    Route(
        "GET",
        "/api/v1/projects/{project_id}/managers-on-duty",
        oversight.managers_on_duty,
        PERSONAL_DATA_ROLES,
        "Managers on duty on a day (default today)",
        "oversight",
        (PROJECT, day("date")),
    ),
    Route(
        "GET",
        "/api/v1/projects/{project_id}/attendance/monthly",
        oversight.monthly_attendance,
        PERSONAL_DATA_ROLES,
        "Attendance per person for a month",
        "oversight",
        (PROJECT, month("month", "YYYY-MM")),
    ),
    Route(
        "GET",
        "/api/v1/attendance",
        oversight.attendance,
        PERSONAL_DATA_ROLES,
        "Attendance per person per day",
        "oversight",
        (text("project_id"), text("person_id"), text("enterprise_id"), day("from"), day("to"), *PAGING),
    ),
    Route(
        "GET",
        "/api/v1/statistics/registration",
        oversight.registration_statistics,
        AUTHORITIES,
        "Registration statistics per district",
        "oversight",
        (text("district"),),
    ),
    Route(
        "GET",
        "/api/v1/access-events/export.csv",
        oversight.export_access_events,
        PERSONAL_DATA_ROLES,
        "Access events as CSV (streamed)",
        "records",
        EVENT_FILTERS,
        media_type="text/csv",
    ),
)
