"""When a project's records are past their period: pure, from dates alone.

A period runs from the project's completion date (竣工, a site calendar day) for ``years``; the
records are kept while it runs and are expired from its end: the same calendar day ``years``
later. A period that began on 29 February ends on 1 March when that year has none, never on
28 February: no record is kept a day less than the law asks. A project without a completion date
is under way, and none of its records expire.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date


def period_end(completed_on: date, years: int) -> date:
    """The first day the records of a project completed on ``completed_on`` are past their period."""
    try:
        return completed_on.replace(year=completed_on.year + years)
    except ValueError:  # 29 February, in a year without one
        return date(completed_on.year + years, 3, 1)


def expired_projects(completions: Mapping[str, date | None], today: date, years: int) -> frozenset[str]:
    """The projects whose period has ended on or before ``today`` (the site's calendar day)."""
    return frozenset(
        project_id
        for project_id, completed_on in completions.items()
        if completed_on is not None and period_end(completed_on, years) <= today
    )
