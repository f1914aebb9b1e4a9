"""The access log page marks a passage whose time the hub does not believe (issue 13, item 3), so
a supervisor sees why it counts in no presence or attendance; rendered from the template alone."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from hub.console.i18n import Locale
from hub.console.render import environment
from hub.events.records import StoredEvent
from wire.models import Decision, Direction

BELIEVED = StoredEvent(
    device_id="lane-a-in",
    seq=1,
    boot_id="boot-0001",
    mono_ns=1,
    wall_time=datetime(2026, 5, 6, 0, 0, tzinfo=UTC),
    clock_synced=True,
    project_id="proj-a",
    lane="A1",
    direction="in",
    decision="granted",
    reason="granted",
    card_kind="resident",
    credential_hash="0" * 64,
    person_id="per-w1",
    alert=False,
    warnings="",
    received_at=datetime(2026, 5, 6, 0, 0, 1, tzinfo=UTC),
    corrected_time=datetime(2026, 5, 6, 0, 0, tzinfo=UTC),
    clock_suspect=False,
    flag=None,
    row_id=1,
)
SUSPECT = dataclasses.replace(BELIEVED, seq=2, person_id="per-w2", clock_suspect=True, row_id=2)


def rendered(locale: Locale, *events: StoredEvent) -> str:
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
            day="2026-05-06",
            events=list(events),
            next_cursor=None,
            query={},
            directions=[d.value for d in Direction],
            decisions=[d.value for d in Decision],
        )
    )


@pytest.mark.parametrize(
    ("locale", "words"), [(Locale.ZH_CN, "记录时间不可信"), (Locale.EN, "Record times not believed")]
)
def test_a_clock_suspect_passage_is_marked_and_a_believed_one_is_not(locale: Locale, words: str) -> None:
    page = rendered(locale, BELIEVED, SUSPECT)
    rows = [row for row in page.split("<tr") if "per-w" in row]
    assert [("clock-suspect" in row, words in row) for row in rows] == [(False, False), (True, True)]
