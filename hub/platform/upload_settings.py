"""``[platform]`` of the hub's TOML: how the uploader to the worker platforms runs (hub.platform).

Each project's own settings (endpoint, project code, appid, appsecret) are in the database, set in
the console or over the API; these are the hub's, for every project::

    [platform]
    interval_s = 10        # a look for new work when there was none
    timeout_s = 20         # one request's answer
    first_retry_s = 30     # a failed try waits this, doubling, with jitter,
    max_retry_s = 3600     # at most this; after 访问超过限制 (−5) at least rate_limited_s
    rate_limited_s = 60
    poll_s = 2             # a request's outcome is asked this long after it went out, and again
    lookback_days = 31     # events older than this are not looked for any more
    full_scan_s = 600      # the whole lookback searched this often, the last
    recent_scan_h = 24     #   recent_scan_h hours in the rounds between
    concurrency = 4        # requests in flight per project
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from hub.platform.states import RetryPolicy


class UploadSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    """False: no uploader runs in this hub (another instance's does, or none should)."""
    interval_s: Annotated[float, Field(gt=0, le=3600)] = 10.0
    timeout_s: Annotated[float, Field(gt=0, le=300)] = 20.0
    first_retry_s: Annotated[float, Field(ge=0, le=24 * 3600)] = 30.0
    max_retry_s: Annotated[float, Field(ge=0, le=7 * 24 * 3600)] = 3600.0
    rate_limited_s: Annotated[float, Field(ge=0, le=24 * 3600)] = 60.0
    poll_s: Annotated[float, Field(ge=0, le=3600)] = 2.0
    lookback_days: Annotated[int, Field(ge=1, le=366)] = 31
    full_scan_s: Annotated[float, Field(ge=0, le=7 * 24 * 3600)] = 600.0
    """How often a round looks for new passages over the whole lookback; the rounds between look
    at the last ``recent_scan_h`` hours only (an index range, however long the project's record)."""
    recent_scan_h: Annotated[float, Field(gt=0, le=31 * 24)] = 24.0
    concurrency: Annotated[int, Field(ge=1, le=64)] = 4
    events_per_round: Annotated[int, Field(ge=20, le=100_000)] = 2000

    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            first_retry_s=self.first_retry_s,
            max_retry_s=self.max_retry_s,
            rate_limited_s=self.rate_limited_s,
            poll_s=self.poll_s,
            claim_s=max(120.0, 3 * self.timeout_s),
        )
