"""Rows: the office readers' card reads, for the registration form (进场/离场登记, issue 14)."""

from __future__ import annotations

from typing import Final

from hub.api import card_reads
from hub.api.params import PROJECT, integer
from hub.api.route import Route
from hub.auth.permissions import CARD_READS

ROUTES: Final = (
    Route(
        "GET",
        "/api/v1/projects/{project_id}/card-reads",
        card_reads.card_reads,
        CARD_READS,
        "The office readers' card reads newer than `after` (a long poll)",
        "registry",
        (
            PROJECT,
            integer(
                "after", 0, 2**62, "the `last` of the previous answer; 0 for whatever is held", default=0
            ),
            integer(
                "wait_s", 0, card_reads.WAIT_S, "how long to wait for a read when none is held", default=25
            ),
        ),
        description=(
            "Held in the hub's memory for two minutes after they arrive, never stored. Each read is "
            "audited as seen by the caller, and says whether its person is registered and assigned to "
            "the project. Whole ID numbers: the form registers with them."
        ),
    ),
)
