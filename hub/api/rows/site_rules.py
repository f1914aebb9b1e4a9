"""Rows: a project's site rules (working hours, anti-passback, night work), read and replaced whole.
The role sets are the ones the registry checks again (:mod:`hub.auth.permissions`)."""

from __future__ import annotations

from typing import Final

from hub.api import site_rules as api
from hub.api.params import PROJECT
from hub.api.route import Route
from hub.auth import permissions as may
from hub.site_rules.model import SiteRulesIn

TAG = "site rules"
PATH = "/api/v1/projects/{project_id}/site-rules"

ROUTES: Final = (
    Route(
        "GET",
        PATH,
        api.get_site_rules,
        may.READ_SITE_RULES,
        "The project's site rules (the defaults, updated_by null, when never set)",
        TAG,
        (PROJECT,),
    ),
    Route(
        "PUT",
        PATH,
        api.put_site_rules,
        may.WRITE_SITE_RULES,
        "Replace the project's site rules; its lanes get them signed with the next roster version",
        TAG,
        (PROJECT,),
        body=SiteRulesIn,
    ),
)
