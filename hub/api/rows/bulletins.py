"""Rows: 通报 (commendations and criticisms) and eligibility sanctions. The role sets are the ones
the workflows check again (:mod:`hub.auth.permissions`)."""

from __future__ import annotations

from typing import Final

from hub.api import bulletins as api
from hub.api.params import choice, day, path_id, text
from hub.api.route import Route
from hub.auth import permissions as may
from hub.workflows.bulletins import BulletinIn, PartyKind
from hub.workflows.sanctions import SanctionIn

TAG = "workflows"
BULLETINS = "/api/v1/bulletins"
SANCTIONS = "/api/v1/sanctions"

ROUTES: Final = (
    Route(
        "POST",
        BULLETINS,
        api.issue_bulletin,
        may.BULLETIN_ISSUERS,
        "Issue a 通报 (commendation or criticism), numbered and dated by the hub; sanctions if given",
        TAG,
        body=BulletinIn,
        ok=201,
    ),
    Route(
        "GET",
        BULLETINS,
        api.list_bulletins,
        may.READERS,
        "通报 the account may read (its own as issuer, those naming it), newest first",
        TAG,
        (choice("party_kind", PartyKind), text("party_id")),
    ),
    Route(
        "GET",
        f"{BULLETINS}/{{bulletin_id}}",
        api.get_bulletin,
        may.READERS,
        "One 通报 with its parties",
        TAG,
        (path_id("bulletin_id"),),
    ),
    Route(
        "POST",
        SANCTIONS,
        api.record_sanction,
        may.BULLETIN_ISSUERS,
        "Record an eligibility sanction (no 标准化样板工地 award) for a project, enterprise or manager",
        TAG,
        body=SanctionIn,
        ok=201,
    ),
    Route(
        "GET",
        SANCTIONS,
        api.sanctions_in_force,
        may.READERS,
        "The sanctions in force on `date` (today when not given) for one project, enterprise or manager",
        TAG,
        (
            choice("subject_kind", PartyKind, "project | enterprise | person"),
            text("subject_id"),
            day("date"),
        ),
    ),
)
