"""The roster file: the lane's own JSON format, written in one atomic write, and its load into the
core's index.

Not a tinydb database, though it is laid out like one (tables of numbered documents): tinydb takes
~1.1 s to write and ~0.9 s to read back 100,000 one-entry documents on the development machine,
against ~0.1 s for this file's whole save (``bench/roster_sync.py``'s ``lane_save_and_swap_s``),
and a lane applies a new roster within a second of it arriving. The format is this module's alone:
it writes and reads it with :mod:`json` over :mod:`controller.atomic_storage`.

One JSON object with three members: ``meta`` (``{"1": {"version": ..., "project_id": ...}}``,
with ``"rules"``, the project's site rules in their wire form, when the roster came with them),
``entries`` and ``watchlist`` (``{"1": {"h": hash}, ...}``). An entries document holds a run of
rows, ``{"rows": [row, ...]}``, each row in the wire's form (:data:`wire.roster.Row`): a snapshot
is written with each verified chunk's rows as they came, so applying 100,000 people costs no
serialising at all, and the file reads back through the same row reader as the hub's chunks
(:mod:`controller.roster_rows`).

The whole roster is written in one storage write, so a reader of the file sees the old version or
the new one, never a mixture. Loading parses the file once, with a hook that packs each entries
document as the decoder meets it, so the rows of only one document exist as JSON values at a time
(a general document store would parse every entry into a mapping first).

A file that fails to parse or validate never bricks the lane: the previous complete version is
loaded instead and the fault is reported.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from controller.atomic_storage import AtomicJSONStorage, DamagedFile
from controller.core.policy import Policy
from controller.core.roster import EMPTY_ROSTER, Columns, ColumnsJoiner, Roster, RosterEntry, RosterIndex
from controller.roster_rows import columns_of_rows, encode_columns
from controller.roster_rules import policy_of, rules_of
from wire.roster import RosterRules

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LoadedRoster:
    roster: Roster
    fault: str | None
    """Set when the current file was damaged and a fallback (previous or empty) was used."""


class _Part:
    """Marks an entries document, as columns, inside the parsed JSON."""

    __slots__ = ("columns",)

    def __init__(self, columns: Columns) -> None:
        self.columns = columns


def _hook(doc: dict[str, Any]) -> Any:
    """Check each entries document as the decoder produces it (only those carry ``rows``; meta and
    watchlist documents, the tables and the top level do not)."""
    if "rows" in doc:
        rows = doc["rows"]
        if not isinstance(rows, list):
            raise ValueError("rows is not a list")
        return _Part(columns_of_rows(rows))
    return doc


def _meta(version: int, project_id: str, policy: Policy | None) -> bytes:
    meta: dict[str, Any] = {"version": version, "project_id": project_id}
    if policy is not None:
        meta["rules"] = rules_of(policy).model_dump(mode="json")
    return json.dumps({"1": meta}, ensure_ascii=False, separators=(",", ":")).encode()


def save_row_arrays(
    path: Path,
    version: int,
    project_id: str,
    arrays: Iterable[bytes],
    watchlist: Iterable[str] = (),
    policy: Policy | None = None,
) -> None:
    """The whole roster in one atomic write, its entries given as JSON arrays of rows, written as
    they are: the caller has parsed and checked every one (a snapshot's verified chunks).
    ``policy``: the site rules that came with the roster, written beside it."""
    pieces = [b'{"meta":', _meta(version, project_id, policy), b',"entries":{']
    for number, array in enumerate(arrays, start=1):
        pieces += (b'%s"%d":{"rows":' % (b"," if number > 1 else b"", number), array, b"}")
    listed = {str(i): {"h": h} for i, h in enumerate(sorted(set(watchlist)), start=1)}
    pieces += (b'},"watchlist":', json.dumps(listed, separators=(",", ":")).encode(), b"}")
    data = b"".join(pieces)  # the one copy of the rows
    del pieces
    AtomicJSONStorage(path).write_encoded(data)


def save_columns(
    path: Path,
    version: int,
    project_id: str,
    columns: Columns,
    watchlist: Iterable[str] = (),
    policy: Policy | None = None,
) -> None:
    """The whole roster in one atomic write, from the core's columns."""
    save_row_arrays(path, version, project_id, encode_columns(columns), watchlist, policy)


def save_roster(
    path: Path,
    version: int,
    project_id: str,
    items: Iterable[tuple[str, RosterEntry]],
    watchlist: Iterable[str] = (),
) -> None:
    """The whole roster in one atomic write; ValueError, before anything is written, when a hash
    is listed twice."""
    columns = RosterIndex(Columns.of_entries(items)).columns
    save_columns(path, version, project_id, columns, watchlist)


def _table(data: dict[str, Any], name: str, path: Path) -> list[Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise DamagedFile(path, f"table {name} is not an object")
    return list(table.values())


def _parse(path: Path) -> Roster:
    """One read, one parse, entries checked as the parser meets them."""
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
        parts = _table(data, "entries", path)
        data.pop("entries", None)  # the list holds the parts; drop the table around them
        joiner = ColumnsJoiner(len(parts))
        for number, part in enumerate(parts):
            if not isinstance(part, _Part):
                raise ValueError("an entries document without rows")
            joiner.add(number, part.columns)
        del parts
        watchlist = [str(doc["h"]) for doc in _table(data, "watchlist", path)]
        roster = Roster.of_columns(version, project_id, joiner.joined(), watchlist)
    except (KeyError, ValueError, TypeError) as err:
        raise DamagedFile(path, f"bad entry ({type(err).__name__}: {err})") from err
    rules = meta[0].get("rules")
    if rules is None:
        return roster
    try:
        return replace(roster, policy=policy_of(RosterRules.model_validate(rules)))
    except ValidationError as err:  # pydantic's, before ValueError: it is one
        raise DamagedFile(path, f"bad site rules ({err.error_count()} problems)") from err
    except ValueError as err:
        raise DamagedFile(path, f"bad site rules ({err})") from err


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
