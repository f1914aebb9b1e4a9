"""Rows: the record (access and lane events), devices and their commands, the ingest's own state,
and the enrolment of lanes."""

from __future__ import annotations

from typing import Final

from hub.api import device_commands, enrolment, views
from hub.api.device_commands import CommandRequest
from hub.api.enrolment import TokenRequest
from hub.api.params import DEVICE, EVENT_FILTERS, LANE_EVENT_FILTERS, PAGING, choice, integer, text
from hub.api.route import OPEN, Route
from hub.auth.permissions import (
    COMMAND_ROLES,
    ENROLMENT_TOKEN_ROLES,
    EVERY_ROLE,
    HUB_ROLES,
    PERSONAL_DATA_ROLES,
    REVOKE_ROLES,
)
from hub.devices.devices import BoardState
from provisioning.enrolment import EnrolmentRequest

ROUTES: Final = (
    Route(
        "GET",
        "/api/v1/access-events",
        views.access_events,
        PERSONAL_DATA_ROLES,
        "Access events, newest first",
        "records",
        (*EVENT_FILTERS, *PAGING),
    ),
    Route(
        "GET",
        "/api/v1/access-events/counts",
        views.access_event_counts,
        PERSONAL_DATA_ROLES,
        "Access events counted",
        "records",
        EVENT_FILTERS,
    ),
    Route(
        "GET",
        "/api/v1/lane-events",
        views.lane_events,
        PERSONAL_DATA_ROLES,
        "Lane events, newest first",
        "records",
        (*LANE_EVENT_FILTERS, *PAGING),
    ),
    Route(
        "GET",
        "/api/v1/ingest",
        views.ingest_status,
        HUB_ROLES,
        "Ingest counters and per-device sequence watermarks",
        "devices",
    ),
    Route(
        "GET",
        "/api/v1/dead-letters",
        views.dead_letters,
        HUB_ROLES,
        "Rejected messages (without bodies)",
        "devices",
        (integer("limit", 1, 500, default=100),),
    ),
    Route(
        "GET",
        "/api/v1/devices",
        views.devices,
        EVERY_ROLE,
        "Device health: presence, heartbeat, roster lag; offline first, paged",
        "devices",
        (
            choice("status", BoardState, "offline, revoked or online"),
            text("q", "part of the device id"),
            *PAGING,
        ),
    ),
    Route(
        "POST",
        "/api/v1/devices/{device_id}/commands",
        device_commands.issue_command,
        COMMAND_ROLES,
        "Send a command to a lane (and wait briefly for its answer)",
        "devices",
        (DEVICE,),
        body=CommandRequest,
        extra_ok=(202,),
    ),
    Route(
        "GET",
        "/api/v1/devices/{device_id}/commands",
        device_commands.list_commands,
        EVERY_ROLE,
        "Commands sent to a lane, newest first",
        "devices",
        (DEVICE, integer("limit", 1, 500, default=50)),
    ),
)

ENROLMENT_ROUTES: Final = (
    Route(
        "POST",
        "/api/v1/enrolment-tokens",
        enrolment.issue_token,
        ENROLMENT_TOKEN_ROLES,
        "A one-time token to enrol a lane at a gate",
        "devices",
        body=TokenRequest,
        ok=201,
    ),
    Route(
        "POST",
        "/api/v1/enrolments",
        enrolment.enrol,
        OPEN,
        "Enrol a lane: its CSR signed, its bundle returned",
        "devices",
        body=EnrolmentRequest,
        ok=201,
        description="Authorised by the one-time enrolment token in the body, not by a login.",
    ),
    Route(
        "POST",
        "/api/v1/devices/{device_id}/revocation",
        enrolment.revoke,
        REVOKE_ROLES,
        "Revoke a lane's certificate",
        "devices",
        (DEVICE,),
        description=(
            "From the commit on, the hub refuses whatever the lane sends. 200 only once the broker was "
            "told too (its CRL and ACL written and reloaded); 503 broker_not_told otherwise, naming what "
            "failed, while the revocation holds."
        ),
    ),
)
