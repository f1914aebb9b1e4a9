"""Rows: the district bureaus' contacts (分管领导, 部门领导, 日常联系人), read and kept by the city
station (every district) and each bureau (its own)."""

from __future__ import annotations

from typing import Final

from hub.api import contacts as api
from hub.api.params import path, text
from hub.api.route import Route
from hub.workflows.contacts import KEEPERS, ContactIn, ContactRole

TAG = "workflows"
CONTACTS = "/api/v1/district-contacts"
ROLE_PATTERN: Final = "^(" + "|".join(role.value for role in ContactRole) + ")$"

ROUTES: Final = (
    Route(
        "GET",
        CONTACTS,
        api.list_contacts,
        KEEPERS,
        "The district bureaus' contacts in scope (the city: every district; a bureau: its own)",
        TAG,
        (text("district"),),
    ),
    Route(
        "PUT",
        f"{CONTACTS}/{{district}}/{{role}}",
        api.save_contact,
        KEEPERS,
        "Set one line of a district's contacts (a bureau its own district's, the city any)",
        TAG,
        (path("district", pattern="^[0-9A-Za-z]{1,12}$"), path("role", pattern=ROLE_PATTERN)),
        body=ContactIn,
    ),
)
