"""Where a team's, a worker's or an event's upload stands, and what the next step is: pure.

- ``queued``: not sent yet;
- ``sending``: claimed by an uploader, its request on the way (``next_attempt_at`` is the claim's
  end: a hub that died there leaves it, and after the claim the row goes back to be sent);
- ``sent``: the platform took the request (``request_serial_code``), its outcome is polled at
  ``next_attempt_at``, after a restart too: never sent again blindly;
- ``accepted``: the platform said 20;
- ``failed``: the last try failed (the platform's words in ``message``); tried again at
  ``next_attempt_at``, with exponential backoff, until accepted: nothing is given up.

A request the platform never answered (a timeout) may have been taken: its rows are sent again,
the one way an event can reach the platform twice (at least once, never lost).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sitegate.backoff import backoff_delays


class UploadState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    ACCEPTED = "accepted"
    FAILED = "failed"


QUEUED: Final = UploadState.QUEUED.value
SENDING: Final = UploadState.SENDING.value
SENT: Final = UploadState.SENT.value
ACCEPTED: Final = UploadState.ACCEPTED.value
FAILED: Final = UploadState.FAILED.value
TO_SEND: Final = (QUEUED, FAILED)
"""The states whose rows go out when due."""
_ROW_INDEX: Final = re.compile(r"\[(?:dataList|workerList)\]\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    first_retry_s: float = 30.0
    max_retry_s: float = 3600.0
    rate_limited_s: float = 60.0
    """At least this long after the platform said −5 (访问超过限制)."""
    poll_s: float = 2.0
    """How soon a request sent is asked after, and again while it is pending."""
    claim_s: float = 120.0
    """How long a row being sent is left alone: longer than a request may take."""

    def delays(self, rng: random.Random | None = None) -> Callable[[int], float]:
        return backoff_delays(rng or random.Random(), self.first_retry_s, self.max_retry_s, floor_share=0.5)


def claimed(now: datetime, policy: RetryPolicy) -> dict[str, Any]:
    return {"state": SENDING, "next_attempt_at": now + timedelta(seconds=policy.claim_s), "updated_at": now}


def sent(now: datetime, serial_code: str, policy: RetryPolicy) -> dict[str, Any]:
    return {
        "state": SENT,
        "request_serial_code": serial_code,
        "next_attempt_at": now + timedelta(seconds=policy.poll_s),
        "message": None,
        "updated_at": now,
    }


def still_pending(now: datetime, policy: RetryPolicy) -> dict[str, Any]:
    return {"next_attempt_at": now + timedelta(seconds=policy.poll_s), "updated_at": now}


def requeued(now: datetime) -> dict[str, Any]:
    """Back to be sent, no attempt counted: a request refused for another row of it."""
    return {"state": QUEUED, "request_serial_code": None, "next_attempt_at": None, "updated_at": now}


def accepted(now: datetime) -> dict[str, Any]:
    return {"state": ACCEPTED, "next_attempt_at": None, "message": None, "updated_at": now}


def failed(now: datetime, message: str, wait_s: float) -> dict[str, Any]:
    """(The ledger counts the attempt.)"""
    return {
        "state": FAILED,
        "message": message[:500],
        "next_attempt_at": now + timedelta(seconds=wait_s),
        "updated_at": now,
    }


def wait_after(
    attempts: int, delays: Callable[[int], float], policy: RetryPolicy, *, rate_limited: bool
) -> float:
    """Seconds before the next try of a row tried ``attempts`` times (≥ 1)."""
    wait = delays(max(0, attempts - 1))
    return max(wait, policy.rate_limited_s) if rate_limited else wait


def row_at_fault(message: str) -> int | None:
    """The row a refusal names (``[dataList][3][date]不能大于当天!``), when it names one: only that
    row failed; the others of its request go back to be sent without it."""
    found = _ROW_INDEX.search(message)
    return int(found.group(1)) if found else None
