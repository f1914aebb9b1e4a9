"""When a project's period ends (pure): the same day years later, 1 March for a 29 February."""

from __future__ import annotations

from datetime import date

from hub.retention.policy import expired_projects, period_end


def test_a_period_ends_on_the_same_day_years_later() -> None:
    assert period_end(date(2024, 1, 31), 3) == date(2027, 1, 31)
    assert period_end(date(2024, 2, 29), 4) == date(2028, 2, 29)


def test_a_period_begun_on_29_february_ends_on_1_march_when_there_is_none() -> None:
    # 28 February would keep the records a day less than three whole years.
    assert period_end(date(2024, 2, 29), 3) == date(2027, 3, 1)


def test_expired_from_the_first_day_past_the_period_and_never_while_under_way() -> None:
    completions = {"done": date(2024, 2, 29), "open": None, "late": date(2024, 1, 31)}
    assert expired_projects(completions, date(2027, 1, 30), 3) == set()
    assert expired_projects(completions, date(2027, 1, 31), 3) == {"late"}
    assert expired_projects(completions, date(2027, 2, 28), 3) == {"late"}
    assert expired_projects(completions, date(2027, 3, 1), 3) == {"late", "done"}
    assert expired_projects(completions, date(2073, 12, 31), 50) == set()
