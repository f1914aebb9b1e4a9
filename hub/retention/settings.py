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
    months_ahead: Annotated[int, Field(ge=1, le=24)] = 3
    """Monthly partitions made beyond the current month (PostgreSQL; hub.store.partitions)."""
