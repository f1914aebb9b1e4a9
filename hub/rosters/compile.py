"""Signed roster messages from compiled content: a snapshot (manifest + chunks) or a delta.

One signature per version (:class:`wire.signing.Signer`): the manifest lists every chunk's
sha256, so it vouches for the whole body. Times are whole seconds, which every JSON
library writes and reads back alike.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.rosters.content import Body, RosterContent, body_of, roster_content
from wire.clock import SystemClock
from wire.roster import (
    CHUNK_BYTES,
    MAX_DELTA_CHANGES,
    RosterChunk,
    RosterDelta,
    RosterItem,
    RosterManifest,
    RosterRules,
)
from wire.signing import Signer


def _issued(issued_at: datetime | None) -> datetime:
    """The hub's publisher always says when (its clock); a caller that does not (a tool, a
    test of the format) gets the system's time."""
    return (issued_at or SystemClock().wall()).replace(microsecond=0)


def snapshot_of(
    content: RosterContent,
    version: int,
    signing_key: Ed25519PrivateKey,
    *,
    body: Body | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    issued_at: datetime | None = None,
) -> tuple[RosterManifest, tuple[RosterChunk, ...]]:
    """``body`` when the caller has it already (the publisher hashed it to pick the version)."""
    body = body or body_of(content, chunk_bytes)
    manifest = RosterManifest(
        project_id=content.project_id,
        version=version,
        entries=len(content),
        chunk_hashes=body.chunk_hashes,
        chunk_size_limit=chunk_bytes,
        rules=content.rules,
        issued_at=_issued(issued_at),
    )
    chunks = tuple(
        RosterChunk(
            project_id=content.project_id,
            version=version,
            index=index,
            data=base64.b64encode(chunk).decode("ascii"),
        )
        for index, chunk in enumerate(body.chunks)
    )
    return Signer(signing_key).sign(manifest), chunks


def compile_snapshot(
    project_id: str,
    version: int,
    entries: Iterable[tuple[str, Mapping[str, Any]]],
    watchlist: Iterable[str],
    signing_key: Ed25519PrivateKey,
    *,
    chunk_bytes: int = CHUNK_BYTES,
    issued_at: datetime | None = None,
    rules: RosterRules | None = None,
) -> tuple[RosterManifest, tuple[RosterChunk, ...]]:
    """The whole roster as a signed manifest and its chunks (RosterDataError for bad entries)."""
    content = roster_content(project_id, entries, watchlist, rules)
    return snapshot_of(content, version, signing_key, chunk_bytes=chunk_bytes, issued_at=issued_at)


def compile_delta(
    previous: RosterContent,
    current: RosterContent,
    *,
    from_version: int,
    signing_key: Ed25519PrivateKey,
    max_changes: int = MAX_DELTA_CHANGES,
    issued_at: datetime | None = None,
) -> RosterDelta | None:
    """``previous`` (version ``from_version``) → ``current`` as one signed delta, or None when the
    change is too big for one (then a snapshot is cheaper for everyone). The delta carries the
    current rules whole whenever there are any (a few hundred bytes: a lane never has to know
    which rules a version before had); rules dropped altogether take a snapshot."""
    if previous.project_id != current.project_id:
        raise ValueError("a delta joins two versions of one project's roster")
    if current.rules is None and previous.rules is not None:
        return None
    limit = min(max_changes, MAX_DELTA_CHANGES)
    before, after = previous.rows, current.rows
    upserts = [row for credential_hash, row in after.items() if before.get(credential_hash) != row]
    if len(upserts) > limit:
        return None
    removals = sorted(credential_hash for credential_hash in before if credential_hash not in after)
    listed = sorted(current.watchlist - previous.watchlist)
    unlisted = sorted(previous.watchlist - current.watchlist)
    if len(upserts) + len(removals) + len(listed) + len(unlisted) > limit:
        return None
    delta = RosterDelta(
        project_id=current.project_id,
        from_version=from_version,
        to_version=from_version + 1,
        upserts=tuple(RosterItem.from_row(row) for row in sorted(upserts, key=lambda r: r[0] or "")),
        removals=tuple(removals),
        watchlist_add=tuple(listed),
        watchlist_remove=tuple(unlisted),
        rules=current.rules,
        issued_at=_issued(issued_at),
    )
    return Signer(signing_key).sign(delta)
