"""Times in Beijing time, written as each language writes them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hub.console.i18n import Locale
from hub.console.times import PATTERNS, local

LATE_UTC = datetime(2026, 12, 6, 16, 5, 9, tzinfo=UTC)
"""00:05 on 7 December in Beijing: the day differs from UTC's."""


def test_chinese_datetimes_are_beijing_time_as_chinese_users_write_them() -> None:
    assert local(LATE_UTC, Locale.ZH_CN) == "2026年12月7日 00:05"
    assert local(LATE_UTC, Locale.ZH_CN, "seconds") == "2026年12月7日 00:05:09"
    assert local(LATE_UTC, Locale.ZH_CN, "date") == "2026年12月7日"
    assert local(LATE_UTC, Locale.ZH_CN, "short") == "12月7日 00:05"
    assert local(LATE_UTC, Locale.ZH_CN, "time") == "00:05"
    assert local(date(2026, 5, 1), Locale.ZH_CN, "month") == "2026年5月"


def test_english_datetimes() -> None:
    assert local(LATE_UTC, Locale.EN) == "7 Dec 2026, 00:05"
    assert local(date(2026, 5, 1), Locale.EN, "date") == "1 May 2026"


def test_none_is_blank_and_naive_is_refused() -> None:
    assert local(None, Locale.ZH_CN) == ""
    with pytest.raises(ValueError, match="naive"):
        local(datetime(2026, 1, 1, 8, 0), Locale.ZH_CN)


def test_every_language_has_every_form() -> None:
    assert {frozenset(forms) for forms in PATTERNS.values()} == {frozenset(PATTERNS[Locale.ZH_CN])}
    assert set(PATTERNS) == set(Locale)
