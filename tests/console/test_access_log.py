"""The access log page marks a passage whose time the hub does not believe (issue 13, item 3), so
a supervisor sees why it counts in no presence or attendance, and one the hub flagged; it shows
names, never the internal person id; rendered from the template alone."""

from __future__ import annotations

import dataclasses
from datetime import date
from types import SimpleNamespace

import pytest

from hub.console.i18n import Locale
from hub.console.render import environment
from hub.console.views_site import Asked
from hub.oversight.site_records import NOBODY_IN_PARTICULAR, Days, LogEntry, TwoWayPage
from tests.console.site_entries import ENTRY, MASKED
from wire.models import Decision, Direction, Reason

BELIEVED = ENTRY
SUSPECT = dataclasses.replace(BELIEVED, name="李芳", clock_suspect=True, cursor="c2")
FLAGGED = dataclasses.replace(BELIEVED, name="张敏", flag="not_in_roster", cursor="c3")
UNREGISTERED = dataclasses.replace(
    BELIEVED, name=None, person_id=None, id_number=None, enterprise_name=None, team_name=None, cursor="c4"
)


def rendered(locale: Locale, *events: LogEntry, older: str | None = None) -> str:
    day = date(2026, 5, 6)
    return (
        environment(locale)
        .get_template("access_log.html")
        .render(
            me=None,
            display_name="",
            nav=[],
            path="/console/projects/proj-a/access-log",
            csrf="",
            project=SimpleNamespace(id="proj-a", name="Project A"),
            asked=Asked(Days(day, day), NOBODY_IN_PARTICULAR, {"from": "2026-05-06"}),
            found=TwoWayPage(list(events), older=older, newer=None),
            enterprises=[],
            directions=[d.value for d in Direction],
            decisions=[d.value for d in Decision],
            reasons=[r.value for r in Reason],
            export_days=31,
        )
    )


def rows(page: str) -> list[str]:
    return [row for row in page.split("<tr")[2:]]


@pytest.mark.parametrize(
    ("locale", "words"), [(Locale.ZH_CN, "记录时间不可信"), (Locale.EN, "Record time not believed")]
)
def test_a_clock_suspect_passage_is_marked_and_a_believed_one_is_not(locale: Locale, words: str) -> None:
    page = rendered(locale, BELIEVED, SUSPECT)
    assert [("clock-suspect" in row, words in row) for row in rows(page)] == [(False, False), (True, True)]


def test_a_flagged_passage_says_so_and_that_it_counts() -> None:
    (row,) = rows(rendered(Locale.ZH_CN, FLAGGED))
    assert "名单外人员放行：已计入，请核查通道名单" in row and 'data-code="not_in_roster"' in row


def test_names_not_ids_and_an_unregistered_card_in_words() -> None:
    page = rendered(Locale.ZH_CN, BELIEVED, UNREGISTERED, older="c4")
    assert "per-w1" not in page
    first, second = rows(page)
    assert "王伟" in first and "钢筋班" in first and "东门进" in first and MASKED in first
    assert "（未登记的卡）" in second
    assert 'id="older-page"' in page and "older=c4" in page and 'id="newer-page"' not in page
    assert "from=2026-05-06" in page  # the downloads carry the filters
