"""One version of a project's roster, compiled, signed and encoded once for all its lanes.

Encoding is done here, once per version, not once per lane: a project with forty lanes sends the
same bytes forty times, and a 100,000-entry snapshot takes a good part of a second to build.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.rosters.compile import compile_delta, snapshot_of
from hub.rosters.content import Body, RosterContent, body_of, roster_content
from hub.rosters.source import Entry
from wire.roster import RosterRules, encode_roster


@dataclass(frozen=True, slots=True)
class Release:
    """One version of a project's roster, encoded once for however many lanes receive it."""

    project_id: str
    version: int
    content: RosterContent
    manifest: bytes
    chunks: tuple[bytes, ...]
    delta: bytes | None
    """From ``version - 1``, when the change was small enough for one."""


def compile_content(
    project_id: str, entries: list[Entry], watchlist: list[str], rules: RosterRules | None = None
) -> tuple[RosterContent, Body]:
    """Checked content and its body; CPU-bound, so the publisher runs it in a worker thread."""
    content = roster_content(project_id, entries, watchlist, rules)
    return content, body_of(content)


def build_release(
    content: RosterContent,
    body: Body,
    version: int,
    previous: Release | None,
    key: Ed25519PrivateKey,
    *,
    issued_at: datetime | None = None,
) -> Release:
    """Signed and encoded once; with a delta when ``previous`` is the version just before.
    ``issued_at``: the publisher's clock (the system's when not given)."""
    manifest, chunks = snapshot_of(content, version, key, body=body, issued_at=issued_at)
    delta = None
    if previous is not None and previous.version == version - 1:
        found = compile_delta(
            previous.content, content, from_version=previous.version, signing_key=key, issued_at=issued_at
        )
        delta = encode_roster(found) if found is not None else None
    return Release(
        content.project_id,
        version,
        content,
        encode_roster(manifest),
        tuple(encode_roster(chunk) for chunk in chunks),
        delta,
    )
