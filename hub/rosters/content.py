"""A project's roster as the hub compiles it: checked entries by credential hash, a watchlist, and
the project's site rules (:class:`wire.roster.RosterRules`, None when never set).

The registry hands over plain mappings; every one is checked here, against the same wire model a
lane reads, before anything is signed: a bad entry is the hub's error to report (naming the entry
by position and hash prefix, never its values), not something a lane should find in a signed
roster. Entries are kept as wire rows, tuples that compare in nanoseconds, so telling two versions
apart for a delta costs a dictionary walk, not 100,000 model comparisons.

The content's digest (what :class:`~hub.rosters.ledger.RosterLedger` mints a version for) covers
the rules too, so a change of rules alone is a new version, pushed like any other; a project
without rules has the digest it had before rules existed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pydantic import TypeAdapter, ValidationError

from hub.errors import HubError
from wire.roster import (
    CHUNK_BYTES,
    CredentialHash,
    RosterRules,
    Row,
    body_bytes,
    check_item_mappings,
    chunk_body,
    row_of,
    window_problem,
)

_HASHES = TypeAdapter(list[CredentialHash])


class RosterDataError(HubError):
    """The registry gave entries no lane could apply; ``problems`` say where, not what."""

    def __init__(self, project_id: str, problems: list[str]) -> None:
        self.project_id = project_id
        self.problems = problems
        shown = "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
        super().__init__(f"roster of {project_id}: {shown}")


@dataclass(frozen=True, slots=True)
class RosterContent:
    project_id: str
    rows: Mapping[str, Row]
    watchlist: frozenset[str]
    rules: RosterRules | None = None

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True, slots=True)
class Body:
    """The canonical serialisation, cut into chunks; ``digest`` names the content, whatever its version."""

    chunks: tuple[bytes, ...]
    chunk_hashes: tuple[str, ...]
    digest: str


def roster_content(
    project_id: str,
    entries: Iterable[tuple[str, Mapping[str, Any]]],
    watchlist: Iterable[str],
    rules: RosterRules | None = None,
) -> RosterContent:
    pairs = list(entries)
    docs = [{**entry, "credential_hash": credential_hash} for credential_hash, entry in pairs]
    try:
        items = check_item_mappings(docs)
    except ValidationError as err:
        raise RosterDataError(
            project_id, [_where(pairs, e) for e in err.errors(include_input=False)]
        ) from err
    rows: dict[str, Row] = {}
    days: dict[Any, str | None] = {None: None}  # a few hundred distinct days: isoformat once each
    for index, item in enumerate(items):
        credential_hash = item["credential_hash"]
        if credential_hash in rows:
            raise RosterDataError(project_id, [f"hash {credential_hash[:12]}… is listed twice"])
        if "pass_from" in item or "pass_until" in item:
            problem = window_problem(item.get("pass_from"), item.get("pass_until"))
            if problem is not None:
                raise RosterDataError(
                    project_id, [f"entry {index} (hash {credential_hash[:12]}…): {problem}"]
                )
            rows[credential_hash] = row_of(item)
            continue
        start, end = item.get("entry_date"), item.get("exit_date")
        if start is not None and start not in days:
            days[start] = start.isoformat()
        if end is not None and end not in days:
            days[end] = end.isoformat()
        rows[credential_hash] = (credential_hash, item["person_id"], item["role"], days[start], days[end])
    try:
        listed = frozenset(_HASHES.validate_python(list(watchlist)))
    except ValidationError as err:
        problems = [f"watchlist {e['loc'][0]}: {e['msg']}" for e in err.errors(include_input=False)]
        raise RosterDataError(project_id, problems) from err
    return RosterContent(project_id, MappingProxyType(rows), listed, rules)


def _where(pairs: list[tuple[str, Mapping[str, Any]]], error: Any) -> str:
    location = list(error["loc"])
    index = location.pop(0) if location and isinstance(location[0], int) else None
    field = ".".join(str(part) for part in location) or "<entry>"
    if index is None:
        return f"{field}: {error['msg']}"
    prefix = str(pairs[index][0])[:12]
    return f"entry {index} (hash {prefix}…): {field}: {error['msg']}"


def body_of(content: RosterContent, chunk_bytes: int = CHUNK_BYTES) -> Body:
    chunks = tuple(chunk_body(body_bytes(content.rows.values(), content.watchlist), chunk_bytes))
    digest = hashlib.sha256()
    hashes = []
    for chunk in chunks:
        digest.update(chunk)
        hashes.append(hashlib.sha256(chunk).hexdigest())
    if content.rules is not None:  # after the body, whose lines all end in "\n": no ambiguity
        digest.update(b"rules:" + rules_bytes(content.rules))
    return Body(chunks, tuple(hashes), digest.hexdigest())


def rules_bytes(rules: RosterRules) -> bytes:
    """The rules' one byte form (sorted keys, compact), for the digest."""
    return json.dumps(rules.model_dump(mode="json"), sort_keys=True, separators=(",", ":")).encode()
