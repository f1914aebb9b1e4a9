"""Pushing a project's roster to its lanes, and answering what the lanes report back.

Each lane has its own topic (``sitegate/v1/down/<device>/roster``: the broker's ACL lets a lane
read only its own), and a version goes to it as a delta when one is small enough, else as a
snapshot: the manifest, then its chunks, all QoS 1.

Retained: the newest announcement only, that is the manifest of a snapshot or the delta, never a
chunk. A lane that reconnects is handed the newest version's announcement by the broker without
asking: a delta it can apply at once, a manifest newer than its roster (whose chunks will not come)
makes it ask for a snapshot after its chunk timeout, and anything it already runs makes it report
that it is current. Retaining chunks too would let a lane rebuild without the hub, but would cost
the broker a whole roster per lane (100,000 entries are ~15 MB of chunks; a region has thousands of
lanes), while a manifest is ~12 KB and a delta at most ~130 KB.

A lane's status (:class:`wire.roster.RosterStatus`) is recorded for device health; a lane behind
or asking for a snapshot is sent one, at most once per ``resend_after_s`` per lane, so a flood of
requests (or of forged rosters the lane refuses and reports) costs the hub one send per interval.
The reports are answered in batches (:meth:`RosterPublisher.on_status_message`): one write of their
status and one read each of their projects' lanes and versions, whatever their number.
A send the broker did not take (the link down, or a publish not acknowledged within the client's
timeout because the downlink is full) goes again after a delay that doubles with each failure in a
row and is drawn at random around it (:func:`retry_delay`): the thousands of sends that time out
together when the downlink is full (issue 16) come back spread out and fewer, not all at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.background import BackgroundTasks
from hub.errors import HubError, StoreError
from hub.lane_sender import LaneSender, Sender
from hub.rosters.content import Body, RosterContent, RosterDataError
from hub.rosters.ledger import LaneRoster, Minted, RosterLedger
from hub.rosters.release import Release, build_release, compile_content
from hub.rosters.source import Facts, RosterSource, facts_of
from wire.clock import Clock, SystemClock
from wire.message_errors import TopicError, WireError
from wire.roster import RosterStatus, decode_roster_status
from wire.topics import Channel, parse_topic

log = logging.getLogger(__name__)

REPUBLISH_RETRY_S = 1.0
COMPILING_AT_ONCE = 4
"""Projects compiled at once in the background (issue 16): at start every project with lanes is
brought up to date, and 4,000 compiles at once took every connection of the store's pool until
each waited out its timeout, the ingest's batches with them."""
STATUS_BATCH = 500
"""Lanes' roster reports answered together: their status recorded in one write, their projects'
lanes and versions read once each. Answered one at a time, a report cost three round trips, and
the 10,000 of a city's lanes connecting within a minute starved the ingest of the database (issue 16)."""
PROJECTS_AT_ONCE = 8
"""Projects of a batch of reports brought current at once: each may compile its roster again (after
a restart, every one) and bring its lanes up, which a batch's other projects need not wait for."""
CHUNK_WINDOW = 8
"""Chunks in flight to one lane at once: the pipeline stays full over a slow link to the broker."""
LANES_AT_ONCE = 64
"""Lanes whose roster is being sent at once, all projects together: a lane's manifest and its chunks
go in one turn. The hub's one broker link writes in order, and the storage acks go out through it
too: unbounded, a city's sends (10,000 lanes' first rosters, a thousand registry changes' deltas)
queued thousands of publishes in paho ahead of the acks, each waited out aiomqtt's 10 s timeout and
went again, and the acks stood still for over a minute at 10,000 lanes (bench/city.py, acked 1,218
of 17,114 journalled). Bounded a publish at a time, a lane's chunk waited behind every other lane's
manifest, longer than the lane's 10 s for its chunks, and 2,783 lanes reported them missing and were
sent their roster again. Bounded a lane at a time, a send waits for its turn here, its chunks follow
its manifest, and an ack waits behind at most this many lanes' sends (and the site relay's)."""
RETRY_MAX_S = 60.0
"""The longest a lane's roster waits to go again after failed sends (:func:`retry_delay`)."""
START_PROJECTS = 200
START_ENTRIES = 50_000
"""At start, projects are read and compiled in groups of at most this many projects and (by their
last versions' sizes) entries: four reads and two of the ledger for a group, not seven round
trips a project, in memory a group at a time."""


@dataclass
class PublisherCounters:
    snapshots_sent: int = 0
    deltas_sent: int = 0
    statuses: int = 0
    problems_reported: int = 0
    send_failures: int = 0


@dataclass
class _Request:
    project_id: str
    applied: int | None
    """What the lane runs; None when unknown (a freshly minted version goes to every lane)."""
    snapshot: bool
    news: bool = False
    """A version the hub just minted: sent at once. The once-per-``resend_after_s`` limit is for
    what lanes ask (a flood of requests or of refused forgeries), not for the hub's own news."""
    hurry: asyncio.Event = field(default_factory=asyncio.Event)


class RosterPublisher:
    """Use as ``async with``: leaving cancels sends still under way (lanes ask again later)."""

    def __init__(
        self,
        source: RosterSource,
        sender: Sender,
        signing_key: Ed25519PrivateKey,
        ledger: RosterLedger,
        *,
        resend_after_s: float = 2.0,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        owns: Callable[[str], bool] | None = None,
    ) -> None:
        """``clock`` dates the versions it signs (the system's when not given); the once per
        ``resend_after_s`` limit is timed on its monotonic reading; ``rng`` draws the retries' delays;
        ``owns`` says whether this hub instance owns a project (hub.instances; None: every project):
        the start-up step (:meth:`request_publish_all`) is only for those it owns."""
        self._source = source
        self._owns = owns or _everything
        self._clock = clock or SystemClock()
        self._lanes = LaneSender(sender)
        self._sending = asyncio.Semaphore(LANES_AT_ONCE)
        self._key = signing_key
        self._ledger = ledger
        self._resend_after_s = resend_after_s
        self._releases: dict[str, Release] = {}
        self._project_locks: dict[str, asyncio.Lock] = {}
        self._lane_locks: dict[str, asyncio.Lock] = {}
        self._pending: dict[str, _Request] = {}
        self._last_sent: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        """Failed sends in a row, per lane (none once one went)."""
        self._rng = rng or random.Random()
        self._tasks = BackgroundTasks("roster publisher", log)
        self._dirty: set[str] = set()
        self._republishing: set[str] = set()
        self._compiling = asyncio.Semaphore(COMPILING_AT_ONCE)
        self._reported_projects = asyncio.Semaphore(PROJECTS_AT_ONCE)
        self._waiting: dict[str, RosterStatus] = {}
        """Lanes' reports not yet answered, the last of each lane (:meth:`on_status_message`)."""
        self._draining = False
        self._asked: Counter[str] = Counter()
        """Publishes asked per project: a start-up group skips a project asked since its read."""
        self.counters = PublisherCounters()
        self._ticks = itertools.count(1)
        self._heard: dict[str, int] = {}
        """Per lane, the tick its latest report arrived at."""
        self._sent_to: dict[str, tuple[int, int]] = {}
        """Per lane, the version last sent to it and the tick the send was done at."""

    async def __aenter__(self) -> RosterPublisher:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._tasks.stop()
        self._draining = False  # a drainer stopped before it ran never got to say so

    async def idle(self) -> None:
        """Until every send and status reaction under way (or waiting) has finished."""
        await self._tasks.idle()

    def release(self, project_id: str) -> Release | None:
        return self._releases.get(project_id)

    # -- versions ----------------------------------------------------------------------------

    async def publish(self, project_id: str) -> int:
        """Compile the project's roster from the source and bring its lanes to it; the version.

        New content mints the next version. Either way the version goes to every lane of the
        project that has not reported running it (unchanged content thus costs nothing).
        """
        self._asked[project_id] += 1
        async with self._project_lock(project_id):
            release, _ = await self._refresh(project_id)
        await self._bring_lanes_up(release)
        return release.version

    async def request_publish(self, project_id: str) -> None:
        """:meth:`publish` in the background, for the registry's change listener: the write that
        changed the roster answers at once, and a burst of changes to one project compiles once
        after the one under way, not once per change (the last compile reads the newest facts)."""
        self._asked[project_id] += 1
        self._dirty.add(project_id)
        if project_id not in self._republishing:
            self._republishing.add(project_id)
            self._tasks.spawn(self._republish(project_id))

    async def _republish(self, project_id: str) -> None:
        """Until the project is clean; a failure (database or broker away) is retried, not
        forgotten: the change is committed, so its lanes must get it once the hub can send."""
        try:
            while project_id in self._dirty:
                self._dirty.discard(project_id)
                try:
                    async with self._compiling:
                        await self.publish(project_id)
                except HubError as err:
                    log.warning("roster of %s not published (%s); retrying", project_id, err)
                    self._dirty.add(project_id)
                    await asyncio.sleep(REPUBLISH_RETRY_S)
        finally:
            self._republishing.discard(project_id)

    async def request_publish_all(self, project_ids: Sequence[str]) -> None:
        """:meth:`request_publish` of every project this instance owns, for the hub's start (and
        for the projects an instance takes over from one that left): in the background, a
        group of projects at a time (:data:`START_PROJECTS`), each group's facts, versions and
        lanes' reports read at once and its rosters compiled in one worker thread. A project whose
        roster is unchanged (every one, after a restart) costs no write, and a lane already
        running it no send. What a group could not read or mint goes the one-project way, with
        its retries. A project this instance no longer owns when its group's turn comes is left
        to its owner."""
        self._tasks.spawn(self._publish_all(list(project_ids)), "roster start-up")

    async def _publish_all(self, project_ids: list[str]) -> None:
        project_ids = [project_id for project_id in project_ids if self._owns(project_id)]
        if not project_ids:
            return
        try:
            minted = await self._ledger.versions()
        except HubError as err:
            log.warning("roster versions not read (%s): every project compiled on its own", err)
            minted = None
        for grouped in _groups(project_ids, minted or {}):
            group = [project_id for project_id in grouped if self._owns(project_id)]
            if not group:
                continue
            asked = {project_id: self._asked[project_id] for project_id in group}
            try:
                facts = await facts_of(self._source, group)
                reported = await self._ledger.lanes_of(group)
                compiled = await asyncio.to_thread(_compile_group, facts)
            except HubError as err:
                log.warning("rosters of %d projects not read at once (%s): one at a time", len(group), err)
                for project_id in group:
                    await self.request_publish(project_id)
                continue
            started = (
                self._start_one(
                    project_id,
                    compiled[project_id],
                    minted.get(project_id) if minted is not None else None,
                    asked[project_id],
                )
                for project_id in group
            )
            for project_id, release in zip(group, await asyncio.gather(*started), strict=True):
                if release is not None:
                    self._bring_up(release, reported.get(project_id, {}), facts[project_id].devices)

    async def _start_one(
        self,
        project_id: str,
        compiled: tuple[RosterContent, Body] | RosterDataError,
        stored: Minted | None,
        asked: int,
    ) -> Release | None:
        """One project of a start-up group: its release, None when another publish has it."""
        if isinstance(compiled, RosterDataError):
            log.error("roster of %s not compiled: %s", project_id, compiled)
            return None
        try:
            async with self._compiling, self._project_lock(project_id):
                if self._asked[project_id] != asked:
                    return None  # asked again since the group's read: that publish reads newer facts
                release, _ = await self._adopt(project_id, *compiled, stored)
        except HubError as err:
            log.warning("roster of %s not published (%s); retrying", project_id, err)
            await self.request_publish(project_id)
            return None
        return release

    async def _bring_lanes_up(self, release: Release) -> None:
        reported = await self._ledger.lanes(release.project_id)
        self._bring_up(release, reported, await self._source.devices(release.project_id))

    def _bring_up(
        self, release: Release, reported: Mapping[str, LaneRoster], devices: Collection[str]
    ) -> None:
        """Send ``release`` to each lane not known to run it: a lane one version behind (or not
        known at all) gets the delta when there is one; if it cannot apply it, it asks for more."""
        for device_id in devices:
            lane = reported.get(device_id)
            if lane is None:
                self._request(device_id, _Request(release.project_id, None, snapshot=False, news=True))
            elif lane.wants_snapshot or lane.applied_version < release.version:
                request = _Request(release.project_id, lane.applied_version, lane.wants_snapshot, news=True)
                self._request(device_id, request)

    async def _refresh(self, project_id: str) -> tuple[Release, bool]:
        entries = await self._source.entries(project_id)
        watchlist = list(await self._source.watchlist(project_id))
        rules = await self._source.rules(project_id)
        # Validating and serialising 100,000 entries takes a while: not on the loop the ingest shares.
        content, body = await asyncio.to_thread(compile_content, project_id, entries, watchlist, rules)
        return await self._adopt(project_id, content, body)

    async def _adopt(
        self, project_id: str, content: RosterContent, body: Body, stored: Minted | None = None
    ) -> tuple[Release, bool]:
        """The release of compiled content: its version from the ledger (minted when the content
        differs from ``stored``, the newest version as read, or when nothing was read), signed."""
        if stored is not None and stored.content_sha256 == body.digest:
            version, minted = stored.version, False
        else:
            version, minted = await self._ledger.mint(project_id, body.digest, len(content))
        previous = self._releases.get(project_id)
        if previous is not None and previous.version == version and not minted:
            return previous, False
        release = await asyncio.to_thread(
            build_release, content, body, version, previous, self._key, issued_at=self._clock.wall()
        )
        self._releases[project_id] = release
        log.info(
            "roster of %s is v%d (%d entries%s)", project_id, version, len(content), ", new" if minted else ""
        )
        return release, minted

    async def _current(self, project_id: str, read: int) -> tuple[Release, bool]:
        """The newest release, compiled again only if another instance (or a restart) moved on.

        ``read``: the version a batch of reports read; the ledger is asked again (under the
        project's lock, as ever) only when the release is not that one (a publish since, say)."""
        release = self._releases.get(project_id)
        if release is not None and release.version == read:
            return release, False
        if release is not None and release.version == await self._ledger.current(project_id):
            return release, False
        return await self._refresh(project_id)

    def _project_lock(self, project_id: str) -> asyncio.Lock:
        return self._project_locks.setdefault(project_id, asyncio.Lock())

    # -- what lanes say -----------------------------------------------------------------------

    async def on_status_message(self, topic: str, payload: bytes) -> str | None:
        """For the ingest: take a message from a ``roster_status`` topic; why it is refused, or None.

        Checks only what can be refused at once, counts the report (and logs the problem it
        reports, if any), and leaves it to the drainer, one task that answers what waits a batch
        at a time (:meth:`_answer`): the ingest's batch is never held up by a database round
        trip, compiling or sending a roster.

        A flood is bounded by the lanes, not the reports: one report waits per lane, a newer one
        taking the older one's place (and keeping its turn). Only what a lane says last decides
        its roster and its health row, and a problem an older one reported is logged and
        counted here already. So the ingest is never blocked and the waiting is at most one
        report per lane the broker lets report, however often they do.
        """
        try:
            device_id = parse_topic(topic).device_id
        except TopicError as err:
            return f"bad topic: {err.why}"
        try:
            status = decode_roster_status(payload)
        except WireError as err:
            return _describe(err)
        if status.device_id != device_id:
            return "device_id in the payload differs from the device in the topic"
        self._take(status)
        self._waiting[device_id] = status
        if not self._draining:
            self._draining = True
            self._tasks.spawn(self._drain(), "roster statuses")
        return None

    async def on_status(self, status: RosterStatus) -> None:
        """One report taken and answered at once, as a batch of its own (for benches and tests)."""
        self._take(status)
        await self._answer([status])

    def _take(self, status: RosterStatus) -> None:
        self._heard[status.device_id] = next(self._ticks)
        self.counters.statuses += 1
        if status.problem is not None:
            self.counters.problems_reported += 1
            log.warning(
                "lane %s (running roster v%d) reports: %s",
                status.device_id,
                status.applied_version,
                status.problem,
            )

    async def _drain(self) -> None:
        """Answer the waiting reports, up to :data:`STATUS_BATCH` at a time, until none waits; a
        batch that fails is logged and the next one answered."""
        try:
            while self._waiting:
                batch = [
                    self._waiting.pop(lane) for lane in list(itertools.islice(self._waiting, STATUS_BATCH))
                ]
                try:
                    await self._answer(batch)
                except HubError as err:
                    log.error("roster reports of %d lanes not answered: %s", len(batch), err)
                except Exception:  # logged with its traceback; the next batch goes on
                    log.exception("roster reports of %d lanes not answered", len(batch))
        finally:
            self._draining = False

    async def _answer(self, statuses: Sequence[RosterStatus]) -> None:
        """Lanes' reports: their status recorded in one write and their projects' lanes and
        versions read once each, then each answered as it would be on its own (a lane's last
        report, when there are several)."""
        latest = list({status.device_id: status for status in statuses}.values())
        lanes = await self._source.devices_of(sorted({status.project_id for status in latest}))
        by_project: dict[str, list[RosterStatus]] = {}
        for status in latest:
            if status.device_id in lanes.get(status.project_id, ()):
                by_project.setdefault(status.project_id, []).append(status)
            else:
                log.warning(
                    "lane %s asked about project %s, which it is not on", status.device_id, status.project_id
                )
        placed = [status for reports in by_project.values() for status in reports]
        try:  # only what the registry confirms: the health row's project is the lane's, not its word
            await self._ledger.record_statuses(placed)
        except StoreError as err:  # health loses these reports; the lanes still get their rosters
            log.error("could not record the roster status of %d lanes: %s", len(placed), err)
        if not by_project:
            return
        versions = await self._ledger.current_of(list(by_project))
        answered = await asyncio.gather(
            *(self._answer_project(p, versions.get(p, 0), reports) for p, reports in by_project.items()),
            return_exceptions=True,
        )
        for project_id, outcome in zip(by_project, answered, strict=True):
            if isinstance(outcome, HubError):  # one project's failure never holds up the others'
                log.error("reports of lanes of %s not answered: %s", project_id, outcome)
            elif isinstance(outcome, Exception):
                log.error("reports of lanes of %s not answered", project_id, exc_info=outcome)

    async def _answer_project(self, project_id: str, read: int, statuses: Sequence[RosterStatus]) -> None:
        """The reports of a project's lanes; ``read``: its version as the batch read it."""
        async with self._reported_projects:
            async with self._project_lock(project_id):
                release, minted = await self._current(project_id, read)
            if minted:  # the registry changed and nobody published: every lane needs it
                await self._bring_lanes_up(release)
                return
        for status in statuses:
            if status.applied_version > release.version:
                log.error(
                    "lane %s runs roster v%d of %s, above the hub's v%d: was the hub's database restored?",
                    status.device_id,
                    status.applied_version,
                    project_id,
                    release.version,
                )
            elif status.wants_snapshot or status.applied_version < release.version:
                if not status.wants_snapshot and self._sent_since_heard(status.device_id, release.version):
                    continue
                self._request(
                    status.device_id, _Request(project_id, status.applied_version, status.wants_snapshot)
                )
            else:
                self._satisfied(status.device_id, release.version)

    # -- sending ------------------------------------------------------------------------------

    def _request(self, device_id: str, request: _Request) -> None:
        """Ask for a send; one waiting request per lane, merged, so bursts collapse into one send."""
        waiting = self._pending.get(device_id)
        if waiting is not None:
            waiting.snapshot = waiting.snapshot or request.snapshot
            if request.applied is not None:
                waiting.applied = request.applied
            waiting.project_id = request.project_id
            if request.news:
                waiting.news = True
                waiting.hurry.set()
            return
        self._pending[device_id] = request
        self._tasks.spawn(self._send(device_id))

    def _sent_since_heard(self, device_id: str, version: int) -> bool:
        """Whether ``version`` went to the lane after its latest report arrived: a report of the
        version before, answered after the hub's news went out (reports wait for their batch), says
        nothing the send did not already answer; sending it again was a second delta each time."""
        sent = self._sent_to.get(device_id)
        return sent is not None and sent[0] == version and sent[1] > self._heard.get(device_id, 0)

    def _satisfied(self, device_id: str, version: int) -> None:
        """The lane runs ``version`` and asks for nothing: a send still waiting for it is not
        needed. A lane asks again for a snapshot whose chunks are late, keeps the chunks it has
        (controller.roster_sync) and is often completed by the late ones before its turn comes:
        without this the whole roster went to it once more (10,000 lanes: thousands of sends)."""
        waiting = self._pending.get(device_id)
        if waiting is not None:
            waiting.applied, waiting.snapshot = version, False

    async def _send(self, device_id: str) -> None:
        async with self._lane_locks.setdefault(device_id, asyncio.Lock()):
            waiting = self._pending[device_id]
            wait = self._last_sent.get(device_id, -1e9) + self._pause(device_id) - self._seconds()
            if wait > 0 and not waiting.news:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiting.hurry.wait(), wait)
            request = self._pending.pop(device_id)
            release = self._releases.get(request.project_id)
            if release is None or (request.applied == release.version and not request.snapshot):
                return
            as_delta = (
                not request.snapshot
                and release.delta is not None
                and request.applied in (None, release.version - 1)
            )
            what = f"roster v{release.version}"
            async with self._sending:
                if as_delta:
                    assert release.delta is not None
                    sent = await self._lanes.send(
                        device_id, Channel.ROSTER, release.delta, what=what, retain=True
                    )
                else:
                    sent = await self._send_snapshot(device_id, release)
            self._last_sent[device_id] = self._seconds()
            if not sent:
                # Not dropped: the lane reports its version when it (re)connects, and the hub's
                # own link coming back is no reason for the lane to ask; so try again shortly.
                self.counters.send_failures += 1
                self._failures[device_id] = self._failures.get(device_id, 0) + 1
                retry = _Request(request.project_id, request.applied, request.snapshot)  # paced, not news
                self._request(device_id, retry)
                return
            self._failures.pop(device_id, None)
            self._sent_to[device_id] = (release.version, next(self._ticks))
            if as_delta:
                self.counters.deltas_sent += 1
            else:
                self.counters.snapshots_sent += 1

    def _pause(self, device_id: str) -> float:
        """How long after the lane's last send the next may go (unless it is news)."""
        failures = self._failures.get(device_id, 0)
        if failures == 0:
            return self._resend_after_s
        return retry_delay(self._resend_after_s, failures, self._rng.random())

    def _seconds(self) -> float:
        return self._clock.mono_ns() / 1e9

    async def _send_snapshot(self, device_id: str, release: Release) -> bool:
        """The manifest first (a lane must know what the chunks are), then the chunks, a sliding
        window of them in flight (a window acknowledged whole before the next stalls on TCP's
        delayed ACK: 40 ms a window, 0.9 s for a 100,000-entry roster here)."""
        what = f"roster v{release.version}"
        if not await self._lanes.send(device_id, Channel.ROSTER, release.manifest, what=what, retain=True):
            return False
        return await self._lanes.send_all(
            device_id, Channel.ROSTER, release.chunks, what=f"{what} chunk", window=CHUNK_WINDOW
        )


def _everything(project_id: str) -> bool:
    return True


def retry_delay(base_s: float, failures: int, draw: float) -> float:
    """The wait before a send goes again after ``failures`` failed in a row: ``base_s`` doubled
    for each failure after the first, at most :data:`RETRY_MAX_S`, times 0.5-1.5 by ``draw`` (in
    [0, 1)): lanes that failed together do not come back together."""
    return min(RETRY_MAX_S, base_s * 2.0 ** min(failures - 1, 30)) * (0.5 + draw)


def _groups(project_ids: Sequence[str], minted: Mapping[str, Minted]) -> list[list[str]]:
    """The projects in groups of at most :data:`START_PROJECTS` and, by the entries of their last
    versions (none: a new project, counted as one), :data:`START_ENTRIES` (a bigger one alone)."""
    groups: list[list[str]] = []
    group: list[str] = []
    entries = 0
    for project_id in project_ids:
        size = max(1, minted[project_id].entries if project_id in minted else 1)
        if group and (len(group) >= START_PROJECTS or entries + size > START_ENTRIES):
            groups.append(group)
            group, entries = [], 0
        group.append(project_id)
        entries += size
    if group:
        groups.append(group)
    return groups


def _compile_group(facts: Mapping[str, Facts]) -> dict[str, tuple[RosterContent, Body] | RosterDataError]:
    """Each project's content and body (its RosterDataError in its place): in a worker thread."""
    compiled: dict[str, tuple[RosterContent, Body] | RosterDataError] = {}
    for project_id, found in facts.items():
        try:
            compiled[project_id] = compile_content(
                project_id, found.entries, list(found.watchlist), found.rules
            )
        except RosterDataError as err:  # one project's bad data never holds up the others
            compiled[project_id] = err
    return compiled


_STATUS_FIELDS = frozenset(RosterStatus.model_fields)


def _describe(err: WireError) -> str:
    return f"invalid roster status: {err.redacted(_STATUS_FIELDS)}"
