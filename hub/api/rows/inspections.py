"""Rows: inspections by the authorities (检查) and their photos. The role sets are the ones the
workflow checks again (:mod:`hub.workflows.inspections`)."""

from __future__ import annotations

from typing import Final

from hub.api import inspections as api
from hub.api.params import path_id
from hub.api.route import Route
from hub.workflows.inspections import INSPECTORS, READERS, InspectionIn

TAG = "workflows"
INSPECTIONS = "/api/v1/inspections"
ONE = f"{INSPECTIONS}/{{inspection_id}}"

ROUTES: Final = (
    Route(
        "POST",
        INSPECTIONS,
        api.record_inspection,
        INSPECTORS,
        "Record an inspection with the notice's checklist (a bureau in its district, the city anywhere, "
        "supervision routine ones on its own project); photos are uploaded with the console's form",
        TAG,
        body=InspectionIn,
        ok=201,
    ),
    Route(
        "GET", INSPECTIONS, api.list_inspections, READERS, "Inspections of the projects the account sees", TAG
    ),
    Route(
        "GET",
        ONE,
        api.get_inspection,
        READERS,
        "One inspection with its photos and orders",
        TAG,
        (path_id("inspection_id"),),
    ),
    Route(
        "GET",
        f"{ONE}/photos/{{photo_id}}",
        api.get_photo,
        READERS,
        "A photo of an inspection the account sees (its recorded type; nosniff)",
        TAG,
        (path_id("inspection_id"), path_id("photo_id")),
        media_type="image/*",
    ),
)
