"""The roster on disk (tinydb over an atomic storage) and its load into the core's index.

The whole roster is written in one storage write, so a reader of the file sees the old version or
the new one, never a mixture. A file that fails to parse or validate never bricks the lane: the
previous complete version is loaded instead and the fault is reported.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tinydb import TinyDB

from controller.atomic_storage import AtomicJSONStorage, DamagedFile
from controller.core.roster import EMPTY_ROSTER, Role, Roster, RosterEntry

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LoadedRoster:
    roster: Roster
    fault: str | None
    """Set when the current file was damaged and a fallback (previous or empty) was used."""


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _entry_doc(credential_hash: str, entry: RosterEntry) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "h": credential_hash,
        "p": entry.person_id,
        "r": entry.role.value,
        "from": _iso(entry.entry_date),
        "to": _iso(entry.exit_date),
    }
    if entry.pass_from is not None or entry.pass_until is not None:
        doc["pass"] = [_iso(entry.pass_from), _iso(entry.pass_until)]
    return doc


def _aware(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("a visitor pass time has no timezone")
    return moment


def _entry_from_doc(doc: dict[str, Any]) -> tuple[str, RosterEntry]:
    pass_from, pass_until = doc.get("pass") or (None, None)
    entry = RosterEntry(
        person_id=str(doc["p"]),
        role=Role(doc["r"]),
        entry_date=date.fromisoformat(doc["from"]) if doc.get("from") else None,
        exit_date=date.fromisoformat(doc["to"]) if doc.get("to") else None,
        pass_from=_aware(pass_from),
        pass_until=_aware(pass_until),
    )
    return str(doc["h"]), entry


def save_roster(
    path: Path,
    version: int,
    project_id: str,
    items: Iterable[tuple[str, RosterEntry]],
    watchlist: Iterable[str] = (),
) -> None:
    """The whole roster in one atomic write (tinydb's layout: a table is a dict of documents)."""
    entries = {str(i): _entry_doc(h, e) for i, (h, e) in enumerate(items, start=1)}
    listed = {str(i): {"h": h} for i, h in enumerate(sorted(set(watchlist)), start=1)}
    data = {
        "meta": {"1": {"version": version, "project_id": project_id}},
        "entries": entries,
        "watchlist": listed,
    }
    AtomicJSONStorage(path).write(data)


def _parse(path: Path) -> Roster:
    db = TinyDB(path, storage=AtomicJSONStorage)
    try:
        meta = db.table("meta").all()
        if len(meta) != 1:
            raise DamagedFile(path, f"expected one meta document, found {len(meta)}")
        version, project_id = int(meta[0]["version"]), str(meta[0]["project_id"])
        try:
            items = [_entry_from_doc(dict(doc)) for doc in db.table("entries").all()]
            watchlist = [str(doc["h"]) for doc in db.table("watchlist").all()]
        except (KeyError, ValueError, TypeError) as err:
            raise DamagedFile(path, f"bad entry ({type(err).__name__}: {err})") from err
        return Roster.build(version, project_id, items, watchlist)
    finally:
        db.close()


def load_roster(path: Path) -> LoadedRoster:
    if not path.exists() and not path.with_name(path.name + ".prev").exists():
        return LoadedRoster(EMPTY_ROSTER, f"no roster at {path}")
    try:
        return LoadedRoster(_parse(path), None)
    except (DamagedFile, ValueError) as err:
        fault = str(err)
        log.error("roster file damaged, falling back to the previous version: %s", fault)
    previous = path.with_name(path.name + ".prev")
    try:
        return LoadedRoster(_parse(previous), fault)
    except (FileNotFoundError, DamagedFile, ValueError) as err:
        return LoadedRoster(EMPTY_ROSTER, f"{fault}; previous version unusable too: {err}")
