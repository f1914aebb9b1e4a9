"""``[retention]``: how long records are kept after a project's completion, and how often the hub
looks (hub.retention)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class RetentionSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    years: Annotated[int, Field(ge=1, le=50)] = 3
    """Access and lane records are kept this many years after the project's completion date."""
    interval_s: Annotated[float, Field(ge=60, le=7 * 24 * 3600)] = 6 * 3600
    """How often the hub makes the months ahead and purges what is past its period."""
    first_pass_after_s: Annotated[float, Field(ge=0, le=3600)] = 60.0
    """How long after the hub starts its first pass waits. A start is the hub's busiest minute (every
    project's roster brought up to date, every lane reconnecting and resending: issue 16), and the
    months ahead are already there (made by the migration and by the last pass; a row of a month
    without its partition waits in DEFAULT and is moved when the month is made)."""
    months_ahead: Annotated[int, Field(ge=1, le=24)] = 3
    """Monthly partitions made beyond the current month (PostgreSQL; hub.store.partitions)."""
