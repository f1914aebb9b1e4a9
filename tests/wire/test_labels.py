"""The worker-facing texts: every reason and every idle state has words in both languages."""

from __future__ import annotations

import re

import pytest

from wire.labels import DIRECTION_NAMES, LABELS, LaneState, OfficeRead, Tone, label_for
from wire.models import Direction, Reason

SUBJECTS = [*Reason, *LaneState, *OfficeRead]
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("subject", SUBJECTS, ids=str)
def test_every_reason_and_idle_state_has_both_languages(subject: Reason | LaneState | OfficeRead) -> None:
    label = label_for(subject)
    for text in (label.verdict, label.next_step, label.spoken):
        assert HAN.search(text.zh), f"{subject}: {text.zh!r} is not Chinese"
        assert text.en.strip(), subject
        assert not HAN.search(text.en.replace("项目部", "")), f"{subject}: {text.en!r} is not English"


def test_the_table_has_nothing_else() -> None:
    assert set(LABELS) == set(SUBJECTS)
    assert set(DIRECTION_NAMES) == set(Direction)


def test_only_a_grant_and_a_ready_lane_are_green() -> None:
    green = {subject for subject, label in LABELS.items() if label.tone is Tone.GO}
    assert green == {Reason.GRANTED, LaneState.READY}
    assert label_for(LaneState.FIRE_ALARM).tone is Tone.ALARM


def test_the_notices_words_are_used() -> None:
    assert label_for(Reason.NOT_REGISTERED).next_step.zh == "请到项目部办理进场登记"
    assert "证件已过期请更换" in label_for(Reason.CARD_EXPIRED).next_step.zh
    words = "".join(label.next_step.zh for label in LABELS.values())
    for word in ("实名制", "进场", "离场", "项目部"):
        assert word in words


def test_spoken_phrases_stay_short() -> None:
    """A queue of workers is waiting: nothing spoken is longer than a breath (16 characters)."""
    for subject, label in LABELS.items():
        assert len(label.spoken.zh) <= 16, (subject, label.spoken.zh)
