"""Cursors round-trip every position and refuse anything else with InvalidCursor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from hub.errors import InvalidCursor
from hub.store.cursor import decode_cursor, encode_cursor

aware_times = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
    ),
)


@given(aware_times, st.integers(min_value=1, max_value=2**63 - 1))
def test_round_trip(wall_time: datetime, row_id: int) -> None:
    cursor = encode_cursor(wall_time, row_id)
    assert cursor.isascii()
    assert not set(cursor) & set("=/+")  # safe in a URL as it is
    assert decode_cursor(cursor) == (wall_time, row_id)


@given(st.text(max_size=80))
def test_arbitrary_text_is_refused_or_a_valid_position(text: str) -> None:
    try:
        wall_time, row_id = decode_cursor(text)
    except InvalidCursor:
        return
    assert wall_time.tzinfo is not None
    assert row_id > 0
