"""Whether an event's time can be believed: bounds from the hub's receipt and the device's enrolment.

Pure, no I/O, no clock of its own: the store passes the record's corrected time
(:mod:`hub.store.timeline`), the instant the hub received it (the store's injected clock) and the
device's enrolment time (``devices.enrolled_at``). A record out of bounds is still stored (nothing
is lost, the arm may have opened) but marked ``clock_suspect``: presence, attendance and the site
relay leave it out, and the device's owners see an alert (issue 13: an entry stamped 2099 kept a
person on site for good, and made attendance rows for 2099 and 1971).

The bounds are deliberately one-sided where the network is:

- **Future**: a record cannot have been made after it arrived. Transport only ever makes a record
  older than its receipt (a lane offline for a week delivers week-old records: normal), so the
  only allowance needed is for the lane's clock running ahead of the hub's. Both are NTP-synced
  in service (milliseconds apart); a Pi's crystal drifts at most ~50 ppm, about 30 s a week
  without NTP. :data:`FUTURE_SKEW` (10 min) covers months of that, and still bounds what a wrong
  clock can do: a record at most 10 minutes ahead wins "newest" for at most 10 minutes.
- **Past**: nothing a device records predates its enrolment (the hub issued its certificate then),
  allowing the same clock disagreement (:data:`ENROLMENT_SLACK`). A device enrolled before
  migration 0006 has no enrolment time; then only the epoch applies: :data:`EPOCH`, the start of
  2020 in the site's zone, before any SiteGate lane existed, and far after the 1970 a Pi without a
  real-time clock boots into. ``enrolled_at`` is the device's *first* enrolment: a lane
  re-enrolled after its backlog was recorded still delivers that backlog normally.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from wire.clock import SITE_ZONE

FUTURE_SKEW = timedelta(minutes=10)
ENROLMENT_SLACK = timedelta(minutes=10)
EPOCH = datetime(2020, 1, 1, tzinfo=SITE_ZONE)


class Doubt(StrEnum):
    """Why a record's time is not believed."""

    FUTURE = "future"
    """Later than its receipt by more than the skew."""
    BEFORE_ENROLMENT = "before_enrolment"
    BEFORE_EPOCH = "before_epoch"


@dataclass(frozen=True, slots=True)
class TimeBounds:
    future_skew: timedelta = FUTURE_SKEW
    enrolment_slack: timedelta = ENROLMENT_SLACK
    epoch: datetime = EPOCH

    def __post_init__(self) -> None:
        if self.future_skew < timedelta(0) or self.enrolment_slack < timedelta(0):
            raise ValueError("a time bound's allowance cannot be negative")
        if self.epoch.tzinfo is None:
            raise ValueError("the epoch must be an aware datetime")


DEFAULT_BOUNDS = TimeBounds()


def doubt(
    at: datetime,
    received_at: datetime,
    enrolled_at: datetime | None,
    bounds: TimeBounds = DEFAULT_BOUNDS,
) -> Doubt | None:
    """Why ``at`` (a record's corrected time) is not believed, or None when it is.

    ``received_at`` is when the hub received the record; ``enrolled_at`` when the device was first
    enrolled (None: unknown, only the epoch applies). Every instant must be timezone-aware.
    """
    if at > received_at + bounds.future_skew:
        return Doubt.FUTURE
    if at < bounds.epoch:
        return Doubt.BEFORE_EPOCH
    if enrolled_at is not None and at < enrolled_at - bounds.enrolment_slack:
        return Doubt.BEFORE_ENROLMENT
    return None
