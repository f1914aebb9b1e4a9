"""Rosters from the hub: verified, assembled whole, saved, and only then swapped in.

Invariant 4 on the lane. :class:`RosterAssembler` is sans-I/O (h11's shape): it is fed decoded
messages and the time, and answers with an outcome; it never touches a socket, a file or a clock.
It accepts only what the pinned hub key signed (a chunk counts only through the signed manifest's
sha256 of it), only this lane's project, only a version above the one applied (a replayed older
roster is refused), and a delta only on top of exactly the version it starts from. It holds at most
one snapshot in assembly; a manifest for a higher version replaces an unfinished one.

A snapshot whose chunks are late is asked for again but not given up: its verified chunks stay, and
the chunks that come after the ask complete it (each still checked against the signed manifest), so
a hub that is only slow sends the missing chunks once, not the whole roster a second time. Only a
refused chunk (it cannot be trusted), a higher version, a delta past it or an applied roster ends it.

Each chunk is checked and parsed as it arrives, while the next ones are still on the way: its
entries become the core's columns (:func:`controller.roster_rows.columns_of_rows`, every field checked)
and are appended to the roster in assembly, so the last chunk leaves nothing to build but the
index's order check. The chunk's rows are also kept as the JSON array they came as: the roster
file is written from those verified bytes, not by serialising 100,000 entries again.

:class:`RosterSync` is the uplink's handler around it: it writes a complete roster with the roster
store (atomic: the file holds the old version or the new one) in a worker thread, so the lane keeps
deciding meanwhile, *then* swaps ``service.roster`` whole, and reports every outcome on the lane's
``roster_status`` channel: the version it runs, or what was wrong and whether it wants a snapshot.

The project's site rules ride in the signed manifest or delta (:class:`wire.roster.RosterRules`):
they become the roster's :attr:`~controller.core.roster.Roster.policy` before it is ready, are saved
in the same file and swapped in by the same assignment, so a decision sees the entries and the
rules of one version. A forged or altered rules change fails the signature like any roster.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from controller.core.roster import ColumnsJoiner, Roster
from controller.roster_rows import columns_of_rows
from controller.roster_rules import policy_of
from controller.roster_store import save_columns, save_row_arrays
from wire.message_errors import WireError
from wire.roster import (
    RosterChunk,
    RosterDelta,
    RosterManifest,
    RosterMessage,
    RosterStatus,
    decode_roster,
    encode_roster,
    split_chunk,
)
from wire.signing import Verifier
from wire.topics import Channel

log = logging.getLogger(__name__)

CHUNK_TIMEOUT_S = 10.0
"""How long an unfinished snapshot waits for its next chunk before the lane asks for it again."""
CHUNK_PATIENCE_MAX_S = 80.0
"""The longest wait for a chunk after asks that went unanswered in time: each ask doubles the wait
(10, 20, 40, 80 s), back to :data:`CHUNK_TIMEOUT_S` once a roster is applied.
A hub that is only slow (10,000 lanes connecting: every lane's manifest is retained, its chunks
sent while it was connecting are not) answers late; asking it again every 10 s made 7,095 reports
that took its time from the ingest (bench/city.py). The ask does not give up the snapshot: the
chunks already verified are kept and the late ones complete it; dropping them made ~9,000 lanes
need the whole roster sent again, a second wave of sends that starved the ingest."""
PROBLEM_MAX = 300

Send = Callable[[Channel, bytes], Awaitable[bool]]


class RosterHolder(Protocol):
    """Whatever decides from the roster (the :class:`~controller.service.LaneService`)."""

    roster: Roster


@dataclass(frozen=True, slots=True)
class Ready:
    """A complete, verified version: save it, then swap it in."""

    roster: Roster
    row_arrays: tuple[bytes, ...] | None
    """A snapshot's entries as its chunks brought them (JSON arrays of rows, each parsed and
    checked), for the roster file as they are; None for a delta, whose file is encoded afresh."""

    @property
    def version(self) -> int:
        return self.roster.version


@dataclass(frozen=True, slots=True)
class Refused:
    problem: str
    wants_snapshot: bool


@dataclass(frozen=True, slots=True)
class Current:
    """The hub announced the version this lane already runs (a retained message on reconnecting)."""


Outcome = Ready | Refused | Current | None
"""None: taken, nothing to do yet (a chunk of an unfinished snapshot, a duplicate, a stale chunk)."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class _Assembly:
    manifest: RosterManifest
    parts: list[bytes | None]
    """Each chunk's entry rows as a JSON array, once it has arrived and passed every check."""
    joiner: ColumnsJoiner
    """The entries of the chunks arrived so far, joined as they come, not at the end."""
    watchlist: list[str]
    received: int
    last_progress: float
    """The last chunk taken, manifest of this version again, or ask: the wait counts from it."""


class RosterAssembler:
    def __init__(
        self, project_id: str, public_key: bytes, applied_version: int, *, timeout_s: float = CHUNK_TIMEOUT_S
    ) -> None:
        self.project_id = project_id
        self.applied_version = applied_version
        self.timeout_s = timeout_s
        self.patience_s = timeout_s
        """The wait for the next chunk now: ``timeout_s``, doubled by each expiry (see
        :data:`CHUNK_PATIENCE_MAX_S`), back to ``timeout_s`` when a roster is applied."""
        self._verifier = Verifier(public_key)
        self._assembly: _Assembly | None = None

    @property
    def assembling(self) -> int | None:
        """The version of the snapshot in assembly, if any."""
        return None if self._assembly is None else self._assembly.manifest.version

    @property
    def deadline(self) -> float | None:
        """When the lane asks (again) for the snapshot's missing chunks unless one arrives first."""
        return None if self._assembly is None else self._assembly.last_progress + self.patience_s

    def applied(self, version: int) -> None:
        """The lane saved and swapped in ``version``."""
        self.applied_version = version
        self.patience_s = self.timeout_s
        if self._assembly is not None and self._assembly.manifest.version <= version:
            self._assembly = None

    def feed(self, message: RosterMessage, current: Roster, now: float) -> Outcome:
        if isinstance(message, RosterChunk):
            return self._chunk(message, now)
        version = message.version if isinstance(message, RosterManifest) else message.to_version
        refused = self._check(message, version)
        if refused is not None:
            return refused
        if version == self.applied_version:
            return Current()
        if isinstance(message, RosterDelta):
            return self._delta(message, current)
        return self._manifest(message, now)

    def expire(self, now: float) -> Refused | None:
        """Past the deadline: the ask for the missing chunks, and a doubled wait for the next one.

        The snapshot in assembly is kept, its verified chunks with it: the hub is often only slow,
        and the chunks it sends after the ask complete it. Its deadline restarts from ``now``.
        """
        assembly = self._assembly
        if assembly is None or now < assembly.last_progress + self.patience_s:
            return None
        assembly.last_progress = now
        missing = len(assembly.parts) - assembly.received
        waited, self.patience_s = (
            self.patience_s,
            min(self.patience_s * 2, max(CHUNK_PATIENCE_MAX_S, self.timeout_s)),
        )
        return Refused(
            f"roster v{assembly.manifest.version}: {missing} of {len(assembly.parts)} chunks "
            f"missing after {waited:g} s",
            wants_snapshot=True,
        )

    def _check(self, message: RosterManifest | RosterDelta, version: int) -> Refused | None:
        """Signature first: whatever fails it is a forgery or damage, whatever it says inside."""
        name = f"roster v{version}"
        forged = self._verifier.problem(message, name)
        if forged is not None:
            return Refused(f"{forged}; refused", wants_snapshot=True)
        if message.project_id != self.project_id:
            return Refused(
                f"{name} is for project {message.project_id}, this lane is on {self.project_id}; refused",
                wants_snapshot=False,
            )
        if version < self.applied_version:
            return Refused(
                f"{name} is older than the applied v{self.applied_version}: refused as a replay",
                wants_snapshot=False,
            )
        return None

    def _manifest(self, manifest: RosterManifest, now: float) -> Outcome:
        assembly = self._assembly
        if assembly is not None and assembly.manifest.version > manifest.version:
            return None  # an older announcement: the newer snapshot goes on
        if assembly is not None and assembly.manifest.version == manifest.version:
            assembly.last_progress = now  # the hub answering (an ask, a reconnect): the chunks kept
            return None
        parts: list[bytes | None] = [None] * len(manifest.chunk_hashes)
        self._assembly = _Assembly(manifest, parts, ColumnsJoiner(len(parts)), [], 0, now)
        return self._complete()

    def _chunk(self, chunk: RosterChunk, now: float) -> Outcome:
        assembly = self._assembly
        if assembly is None or (chunk.project_id, chunk.version) != (
            assembly.manifest.project_id,
            assembly.manifest.version,
        ):
            return None  # of a version not (or no longer) in assembly
        name = f"roster v{chunk.version}"
        manifest = assembly.manifest
        if chunk.index >= len(assembly.parts):
            self._assembly = None
            return Refused(f"{name}: chunk {chunk.index} beyond the manifest's {len(assembly.parts)}", True)
        if assembly.parts[chunk.index] is not None:
            return None  # QoS 1 may deliver twice
        try:
            raw = chunk.raw()
        except ValueError as err:
            self._assembly = None
            return Refused(f"{name}: {err}", True)
        if (
            len(raw) > manifest.chunk_size_limit
            or hashlib.sha256(raw).hexdigest() != (manifest.chunk_hashes[chunk.index])
        ):
            self._assembly = None
            return Refused(f"{name}: chunk {chunk.index} does not match the signed manifest; refused", True)
        try:
            entries, listed = split_chunk(raw)
            columns = columns_of_rows(json.loads(entries.decode("utf-8")))
        except ValueError as err:
            self._assembly = None  # signed, so asking again would bring the same: the hub must fix it
            return Refused(f"{name}: chunk {chunk.index} holds a bad entry ({err})", False)
        assembly.joiner.add(chunk.index, columns)
        assembly.parts[chunk.index] = entries
        assembly.watchlist.extend(listed)
        assembly.received += 1
        assembly.last_progress = now
        return self._complete()

    def _complete(self) -> Outcome:
        assembly = self._assembly
        if assembly is None or assembly.received < len(assembly.parts):
            return None
        self._assembly = None
        manifest = assembly.manifest
        if len(assembly.joiner) != manifest.entries:
            return Refused(
                f"roster v{manifest.version}: the manifest says {manifest.entries} entries, "
                f"the chunks hold {len(assembly.joiner)}",
                False,
            )
        try:
            roster = Roster.of_columns(
                manifest.version, self.project_id, assembly.joiner.joined(), assembly.watchlist
            )
            policy = None if manifest.rules is None else policy_of(manifest.rules)
        except ValueError as err:
            return Refused(str(err), False)
        roster = replace(roster, policy=policy)
        return Ready(roster, tuple(part for part in assembly.parts if part is not None and part != b"[]"))

    def _delta(self, delta: RosterDelta, current: Roster) -> Outcome:
        name = f"delta v{delta.from_version}→v{delta.to_version}"
        if delta.from_version != self.applied_version or current.version != self.applied_version:
            return Refused(f"{name} does not apply to the running v{self.applied_version}", True)
        running = current.entries
        for credential_hash in delta.removals:
            if credential_hash not in running:
                return Refused(f"{name} removes an entry v{self.applied_version} does not have", True)
        try:
            upserts = columns_of_rows([item.row() for item in delta.upserts])
        except ValueError as err:
            return Refused(f"{name} holds a bad entry ({err})", False)
        try:
            policy = current.policy if delta.rules is None else policy_of(delta.rules)
        except ValueError as err:
            return Refused(f"{name} holds site rules this lane cannot apply ({err})", False)
        watchlist = (current.watchlist | set(delta.watchlist_add)) - set(delta.watchlist_remove)
        if self._assembly is not None and self._assembly.manifest.version <= delta.to_version:
            self._assembly = None
        joiner = ColumnsJoiner(2)
        joiner.add(0, running.columns.without({*delta.removals, *upserts.hashes}))
        joiner.add(1, upserts)  # out of hash order: the index sorts them in
        roster = Roster.of_columns(delta.to_version, self.project_id, joiner.joined(), watchlist)
        return Ready(replace(roster, policy=policy), None)


def _problem(text: str) -> str:
    """Fit for RosterStatus.problem: printable, at most PROBLEM_MAX characters."""
    flat = _CONTROL.sub(" ", text).strip() or "unknown problem"
    return flat if len(flat) <= PROBLEM_MAX else flat[: PROBLEM_MAX - 1] + "…"


class RosterSync:
    """The handler for the lane's roster topic (``uplink.on(Channel.ROSTER, sync)``)."""

    def __init__(
        self,
        holder: RosterHolder,
        *,
        device_id: str,
        project_id: str,
        public_key: bytes,
        roster_path: Path,
        send: Send,
        timeout_s: float = CHUNK_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        running = holder.roster
        applied = running.version if running.project_id == project_id else 0
        self.assembler = RosterAssembler(project_id, public_key, applied, timeout_s=timeout_s)
        self.holder = holder
        self.device_id = device_id
        self.project_id = project_id
        self.roster_path = roster_path
        self._send = send
        self._clock = clock
        self._timer: asyncio.TimerHandle | None = None
        self._reports: set[asyncio.Task[None]] = set()
        self.last_problem: str | None = None

    async def __call__(self, payload: bytes) -> None:
        try:
            message = decode_roster(payload)
        except WireError as err:
            await self._refused(Refused(f"unreadable roster message: {err}", wants_snapshot=False))
            return
        outcome = self.assembler.feed(message, self.holder.roster, self._clock())
        self._arm_timer()
        if isinstance(outcome, Ready):
            await self._apply(outcome)
        elif isinstance(outcome, Refused):
            await self._refused(outcome)
        elif isinstance(outcome, Current):
            await self.report()

    async def resync(self) -> None:
        """Ask the hub for a whole snapshot (the ``resync`` command)."""
        await self.report(wants_snapshot=True)

    async def report(self, *, wants_snapshot: bool = False, problem: str | None = None) -> bool:
        status = RosterStatus(
            device_id=self.device_id,
            project_id=self.project_id,
            applied_version=self.assembler.applied_version,
            wants_snapshot=wants_snapshot,
            problem=None if problem is None else _problem(problem),
        )
        return await self._send(Channel.ROSTER_STATUS, encode_roster(status))

    async def _refused(self, refused: Refused) -> None:
        self.last_problem = refused.problem
        log.warning("roster refused: %s", refused.problem)
        await self.report(wants_snapshot=refused.wants_snapshot, problem=refused.problem)

    async def _apply(self, ready: Ready) -> None:
        try:
            roster = await asyncio.to_thread(self._save, ready)
        except (OSError, ValueError) as err:
            await self._refused(Refused(f"roster v{ready.version} not applied: {err}", wants_snapshot=False))
            return
        self.holder.roster = roster  # only now, and whole: decisions see v(n) or v(n+1), never a mix
        self.assembler.applied(roster.version)
        self.last_problem = None
        log.info(
            "roster v%d applied: %d entries, %d watchlisted",
            roster.version,
            len(roster),
            len(roster.watchlist),
        )
        await self.report()

    def _save(self, ready: Ready) -> Roster:
        roster = ready.roster
        if ready.row_arrays is not None:
            save_row_arrays(
                self.roster_path,
                roster.version,
                self.project_id,
                ready.row_arrays,
                roster.watchlist,
                roster.policy,
            )
        else:
            columns = roster.entries.columns
            save_columns(
                self.roster_path, roster.version, self.project_id, columns, roster.watchlist, roster.policy
            )
        return roster

    def _arm_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.assembler.deadline
        if deadline is not None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(max(0.0, deadline - self._clock()), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        expired = self.assembler.expire(self._clock())
        if expired is None:
            self._arm_timer()
            return
        task = asyncio.get_running_loop().create_task(self._refused(expired))
        self._reports.add(task)
        task.add_done_callback(self._reports.discard)
        self._arm_timer()  # the snapshot is kept: ask again after the doubled wait if still missing
