"""The roster on disk (tinydb's layout, written through its storage interface over an atomic
storage) and its load into the core's index.

The whole roster is written in one storage write, so a reader of the file sees the old version or
the new one, never a mixture. Loading parses the file once with a hook that builds each entry as
the decoder meets it: ``TinyDB.table().all()`` re-reads and re-parses the whole file per table and
copies every document twice, which for a 100,000-person roster cost 0.9 s and 200 MB at boot
(bench/decision.py) against 0.5 s and 108 MB this way.

A file that fails to parse or validate never bricks the lane: the previous complete version is
loaded instead and the fault is reported.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

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


_ROLES = {role.value: role for role in Role}
_day = functools.lru_cache(maxsize=8192)(date.fromisoformat)
"""Roster dates repeat (a few hundred distinct days for 100k people): one ``date`` object each."""


def _entry_from_doc(doc: dict[str, Any]) -> tuple[str, RosterEntry]:
    pass_from, pass_until = doc.get("pass") or (None, None)
    start, end = doc.get("from"), doc.get("to")
    entry = RosterEntry(
        person_id=str(doc["p"]),
        role=_ROLES[doc["r"]],  # Role(...) goes through EnumMeta.__call__: 2 us a call
        entry_date=_day(start) if start else None,
        exit_date=_day(end) if end else None,
        pass_from=_aware(pass_from),
        pass_until=_aware(pass_until),
    )
    return str(doc["h"]), entry


class _Entry(tuple[str, RosterEntry]):
    """Marks a converted entry document inside the parsed JSON."""

    __slots__ = ()


def _hook(doc: dict[str, Any]) -> Any:
    """Turn each entry document into ``(hash, RosterEntry)`` as the decoder produces it.

    Only entry documents carry ``p`` or ``r`` (meta and watchlist documents, the tables and the top
    level do not), so the 100k-document dict-of-dicts never exists: one parse, a third of the peak.
    """
    if "p" in doc or "r" in doc:
        return _Entry(_entry_from_doc(doc))
    return doc


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


def _table(data: dict[str, Any], name: str, path: Path) -> list[Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise DamagedFile(path, f"table {name} is not an object")
    return list(table.values())


def _parse(path: Path) -> Roster:
    """One read, one parse (tinydb re-reads and re-parses the whole file for every table)."""
    try:
        text = path.read_bytes().decode("utf-8")  # keep only the str: the bytes go before the parse
    except FileNotFoundError:
        raise
    except OSError as err:
        raise DamagedFile(path, str(err)) from err
    except UnicodeDecodeError as err:
        raise DamagedFile(path, f"not JSON ({err})") from err
    try:
        data = json.loads(text, object_hook=_hook)
    except json.JSONDecodeError as err:
        raise DamagedFile(path, f"not JSON ({err})") from err
    except (KeyError, ValueError, TypeError) as err:
        raise DamagedFile(path, f"bad entry ({type(err).__name__}: {err})") from err
    del text
    if not isinstance(data, dict):
        raise DamagedFile(path, "top level is not an object")
    meta = _table(data, "meta", path)
    if len(meta) != 1 or not isinstance(meta[0], dict):
        raise DamagedFile(path, f"expected one meta document, found {len(meta)}")
    try:
        version, project_id = int(meta[0]["version"]), str(meta[0]["project_id"])
        items = _table(data, "entries", path)
        data.pop("entries", None)  # the list holds the entries; drop the table around them
        if not all(isinstance(item, _Entry) for item in items):
            raise ValueError("an entry document without p and r")
        watchlist = [str(doc["h"]) for doc in _table(data, "watchlist", path)]
    except (KeyError, ValueError, TypeError) as err:
        raise DamagedFile(path, f"bad entry ({type(err).__name__}: {err})") from err
    return Roster.build(version, project_id, items, watchlist)


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
