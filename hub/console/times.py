"""Times and dates as the console shows them: in Beijing time (:data:`wire.clock.SITE_ZONE`),
written the way each language's readers write them (Babel): ``2026年12月7日 08:30`` in Chinese,
``7 Dec 2026, 08:30`` in English. Templates use the ``local`` filter, Python the functions here;
nothing shows a raw UTC timestamp or an ISO string to a person."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final, Literal

from hub.console.i18n import Locale
from wire.clock import SITE_ZONE

Form = Literal["datetime", "seconds", "date", "time", "time_seconds", "short", "month"]

PATTERNS: Final[dict[Locale, dict[str, str]]] = {
    Locale.ZH_CN: {
        "datetime": "y年M月d日 HH:mm",
        "seconds": "y年M月d日 HH:mm:ss",
        "date": "y年M月d日",
        "time": "HH:mm",
        "time_seconds": "HH:mm:ss",
        "short": "M月d日 HH:mm",
        "month": "y年M月",
    },
    Locale.EN: {
        "datetime": "d MMM y, HH:mm",
        "seconds": "d MMM y, HH:mm:ss",
        "date": "d MMM y",
        "time": "HH:mm",
        "time_seconds": "HH:mm:ss",
        "short": "d MMM, HH:mm",
        "month": "MMMM y",
    },
}
"""CLDR patterns per form; 24-hour clocks in both (a site's shifts are written so)."""


def local(value: datetime | date | None, locale: Locale, form: Form = "datetime") -> str:
    """An aware instant in Beijing time, or a calendar date (a deadline, a day), as ``form``;
    "" for None. A naive datetime is refused: the hub stores only aware ones."""
    if value is None:
        return ""
    from babel.dates import format_date, format_datetime  # here: ~5 ms of every hub's start, for pages only

    pattern = PATTERNS[locale][form]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a naive datetime: the console shows aware instants only")
        return format_datetime(value.astimezone(SITE_ZONE), pattern, tzinfo=SITE_ZONE, locale=locale.babel)
    return format_date(value, pattern, locale=locale.babel)
