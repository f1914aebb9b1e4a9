"""The restore marker: how a hub knows, at start, that its database came from a backup.

``sitegate hub restore`` writes ``<state dir>/restored.json``: the restore's *epoch* (growing from
one restore to the next: microseconds since the epoch, at least one past the previous marker's),
when it was restored and when the backup was taken. The hub reads it at every start and asks its
lanes to resend after its watermarks under that epoch (:mod:`hub.backup.resend`); a lane acts on
an epoch once, so asking again at a later start costs a message per lane and nothing more. The
marker stays: the next restore replaces it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

MARKER_NAME = "restored.json"


@dataclass(frozen=True, slots=True)
class RestoreMarker:
    epoch: int
    restored_at: datetime
    taken_at: datetime


def marker_path(state_dir: Path) -> Path:
    return state_dir / MARKER_NAME


def read_marker(state_dir: Path) -> RestoreMarker | None:
    """The marker, or None when the hub was never restored (or the file is unreadable: logged by
    the caller as never restored, which loses nothing the lanes were not already sent)."""
    try:
        raw = json.loads(marker_path(state_dir).read_text(encoding="utf-8"))
        return RestoreMarker(
            epoch=int(raw["epoch"]),
            restored_at=datetime.fromisoformat(raw["restored_at"]),
            taken_at=datetime.fromisoformat(raw["taken_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_marker(state_dir: Path, taken_at: datetime, *, now: datetime | None = None) -> RestoreMarker:
    now = now or datetime.now(UTC)
    previous = read_marker(state_dir)
    epoch = int(now.timestamp() * 1_000_000)
    if previous is not None:
        epoch = max(epoch, previous.epoch + 1)
    marker = RestoreMarker(epoch=epoch, restored_at=now, taken_at=taken_at)
    text = json.dumps(
        {"epoch": epoch, "restored_at": now.isoformat(), "taken_at": taken_at.isoformat()}, indent=1
    )
    staged = marker_path(state_dir).with_suffix(".tmp")
    staged.write_text(text + "\n", encoding="utf-8")
    os.replace(staged, marker_path(state_dir))
    return marker
