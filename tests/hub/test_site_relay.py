"""The hub's site relay on a real store (both backends), its messages caught by a recording sender:
which passages go where, the syncs, the answers to a lane's request, and the ingest's hook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.errors import BrokerUnavailable
from hub.events.journal import store_events
from hub.ingest import Ingest
from hub.site import SiteRelay, SyncTiming
from hub.site.passages import derive_recent
from hub.store import JournalRecord, Store
from tests.hub.factories import BASE_TIME, make_event, make_lane_event
from tests.support.clock import FakeClock
from tests.support.placed import place_lanes
from tests.support.registry_rows import contractor_with_projects, place_gates
from wire.codec import encode
from wire.models import AccessEvent, Direction, Heartbeat, LaneEvent, LaneEventType, ReaderState
from wire.signing import canonical_bytes
from wire.site import PassageRelay, SiteRequest, SiteSync, decode_site, encode_site
from wire.topics import Channel, parse_topic, topic_for

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
SITE = {"lane-in1": "in", "lane-in2": "in", "lane-out1": "out"}
ELSEWHERE = "lane-x1"
HOURLY = SyncTiming(longest_s=3600, first_round_s=0)
"""Every lane told at once at the start, then (siblings heard or not) not again for the tests."""


class Sender:
    """Publishes into a list, as the ingest would to the broker."""

    connected = True

    def __init__(self) -> None:
        self.sent: list[tuple[str, PassageRelay | SiteSync]] = []

    async def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        assert (qos, retain) == (1, False)
        message = decode_site(payload)
        assert message.signature_bytes is not None
        KEY.public_key().verify(message.signature_bytes, canonical_bytes(message))  # signed by the hub's key
        assert parse_topic(topic).device_id == message.device_id
        self.sent.append((parse_topic(topic).device_id, message))

    def relays(self, device_id: str | None = None) -> list[PassageRelay]:
        return [m for d, m in self.sent if isinstance(m, PassageRelay) and device_id in (None, d)]

    def syncs(self, device_id: str | None = None) -> list[SiteSync]:
        return [m for d, m in self.sent if isinstance(m, SiteSync) and device_id in (None, d)]


@pytest.fixture
async def placed(store: Store) -> Store:
    async with store.write("gates") as conn:
        await contractor_with_projects(
            conn,
            ["P1", "P2"],
            district="330106",
            district_name="Xihu",
            gc_number="91330106MA2B000010",
            now=BASE_TIME,
        )
        rows = [(d, "P1", d[-3:], direction, d) for d, direction in SITE.items()]
        await place_gates(conn, [*rows, (ELSEWHERE, "P2", "X1", "both", "x")])
    return store


@pytest.fixture
async def relay(placed: Store) -> AsyncIterator[tuple[SiteRelay, Sender]]:
    sender = Sender()
    relaying = SiteRelay(placed, sender, KEY, clock=FakeClock(BASE_TIME), timing=HOURLY)
    async with relaying:
        await until(lambda: len(sender.syncs()) == len(SITE) + 1)  # the first round of syncs
        sender.sent.clear()
        yield relaying, sender


async def until(predicate: Callable[[], bool], within_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


def grant(
    seq: int, device: str, person: str = "p-1", *, passage: bool = False, direction: Direction = Direction.IN
) -> AccessEvent:
    event = make_event(seq, device_id=device, person_id=person, direction=direction)
    return event.model_copy(update={"passage": passage})


def confirmation(seq: int, device: str, ref_seq: int, person: str | None = "p-1") -> LaneEvent:
    event = make_lane_event(seq, LaneEventType.PASSAGE_CONFIRMED, device_id=device, ref_seq=ref_seq)
    return event.model_copy(update={"person_id": person})


async def settle() -> None:
    await asyncio.sleep(0.05)


async def test_a_passage_goes_to_every_other_lane_of_its_site(relay: tuple[SiteRelay, Sender]) -> None:
    relaying, sender = relay
    entry = grant(1, "lane-in1", passage=True)
    relaying.stored([entry])
    await until(lambda: len(sender.relays()) == 2)
    assert sorted(d for d, _ in sender.sent) == ["lane-in2", "lane-out1"]
    for message in sender.relays():
        assert message.project_id == "P1"
        [passage] = message.passages
        assert (passage.person_id, passage.direction, passage.at, passage.device_id, passage.seq) == (
            "p-1",
            Direction.IN,
            entry.wall_time,
            "lane-in1",
            1,
        )
    assert relaying.counters.passages == 1


async def test_the_site_is_the_registrys_word_not_the_payloads(relay: tuple[SiteRelay, Sender]) -> None:
    relaying, sender = relay
    claims_p2 = grant(1, "lane-in1", passage=True).model_copy(update={"project_id": "P2"})
    relaying.stored([claims_p2])
    await until(lambda: len(sender.relays()) == 2)
    assert {d for d, _ in sender.sent} == {"lane-in2", "lane-out1"}  # P1's lanes, not P2's
    relaying.stored([grant(1, "lane-nowhere", passage=True)])  # a device placed at no gate
    relaying.stored([grant(2, "lane-out1", passage=True)])  # an exit lane recording an entry
    await until(lambda: (relaying.counters.unplaced, relaying.counters.disagreeing) == (1, 1))
    await settle()
    assert len(sender.relays()) == 2


async def test_only_what_a_lane_recorded_as_a_passage(relay: tuple[SiteRelay, Sender], placed: Store) -> None:
    relaying, sender = relay

    async def commit(record: JournalRecord) -> None:  # as the ingest does: stored, then handed on
        await store_events(placed, [record])
        relaying.stored([record])

    await commit(grant(5, "lane-out1", direction=Direction.OUT))  # a sensor lane's grant
    await commit(make_lane_event(6, LaneEventType.NOT_PASSED, device_id="lane-out1", ref_seq=5))
    await commit(confirmation(7, "lane-out1", ref_seq=5, person="p-2"))  # names someone else
    await commit(confirmation(8, "lane-out1", ref_seq=5, person=None))  # names nobody
    # judged (on PostgreSQL under a loaded machine, later than a fixed pause: a make test flake)
    await until(lambda: relaying.counters.disagreeing == 1)
    await settle()
    assert sender.relays() == []
    await commit(grant(10, "lane-out1", "p-3", direction=Direction.OUT))  # remembered: the lane confirms
    await commit(confirmation(11, "lane-out1", ref_seq=10, person="p-3"))
    await commit(confirmation(9, "lane-out1", ref_seq=5))
    await until(lambda: len(sender.relays()) == 4)
    found = [
        (p.person_id, p.direction, p.device_id, p.seq) for r in sender.relays("lane-in1") for p in r.passages
    ]
    assert found == [("p-3", Direction.OUT, "lane-out1", 11), ("p-1", Direction.OUT, "lane-out1", 9)]


async def test_a_confirmation_whose_grant_another_hub_stored(placed: Store) -> None:
    await store_events(placed, [grant(5, "lane-out1", direction=Direction.OUT)])
    sender = Sender()
    async with SiteRelay(placed, sender, KEY, clock=FakeClock(BASE_TIME), timing=HOURLY) as relaying:
        relaying.stored([confirmation(6, "lane-out1", ref_seq=5)])
        await until(lambda: len(sender.relays()) == 2)
        assert [p.direction for r in sender.relays() for p in r.passages] == [Direction.OUT, Direction.OUT]


class Flaky(Sender):
    """The broker link is down for the first ``failures`` publishes."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise BrokerUnavailable("the hub is not connected to the broker")
        await super().publish(topic, payload, qos, retain)


async def test_a_relay_the_broker_did_not_take_goes_again_at_the_next_tick(placed: Store) -> None:
    """The lanes stay connected (it is the hub's link that dropped), so none of them will ask."""
    sender = Flaky(failures=0)
    async with SiteRelay(placed, sender, KEY, clock=FakeClock(BASE_TIME), timing=HOURLY) as relaying:
        await until(lambda: len(sender.syncs()) == len(SITE) + 1)
        sender.sent.clear()
        sender.failures = 2
        relaying.stored([grant(1, "lane-in1", passage=True)])
        await until(lambda: relaying.counters.send_failures == 2)
        assert sender.relays() == []
        assert await relaying.sync_due() == 0  # every lane told, no sibling heard since: none due
    assert sorted(d for d, m in sender.sent if isinstance(m, PassageRelay)) == ["lane-in2", "lane-out1"]
    assert sender.syncs() == []


async def test_syncs_say_who_the_siblings_are_and_when_each_was_heard(placed: Store) -> None:
    heard_at = BASE_TIME - timedelta(seconds=40)
    await placed.record_heartbeat(_heartbeat("lane-in2"), received_at=heard_at)
    sender = Sender()
    async with SiteRelay(
        placed, sender, KEY, clock=FakeClock(BASE_TIME), timing=SyncTiming(longest_s=0.05, first_round_s=0)
    ):
        await until(lambda: len(sender.syncs("lane-in1")) >= 3)
    syncs = sender.syncs("lane-in1")
    assert {s.device_id: s.last_seen for s in syncs[0].siblings} == {"lane-in2": heard_at, "lane-out1": None}
    issued = [m.issued_at for _, m in sender.sent]
    assert issued == sorted(issued) and len(set(issued)) == len(issued)  # strictly growing, the clock frozen
    assert sender.syncs(ELSEWHERE)[0].siblings == ()


def _heartbeat(device_id: str) -> Heartbeat:
    return Heartbeat(
        device_id=device_id,
        sent_at=BASE_TIME,
        boot_id="boot-0001",
        uptime_s=1,
        free_disk_mb=100,
        journal_backlog=0,
        roster_version=1,
        reader_status={"id_module": ReaderState.OK},
        clock_synced=True,
        software_version="0.1.0",
    )


def request(device_id: str = "lane-in1", project_id: str = "P1") -> bytes:
    return encode_site(SiteRequest(device_id=device_id, project_id=project_id, nonce="ab" * 16))


async def test_a_request_is_answered_with_the_record_then_a_sync(
    relay: tuple[SiteRelay, Sender], placed: Store
) -> None:
    relaying, sender = relay
    start = BASE_TIME - timedelta(hours=2)
    records: list[JournalRecord] = [
        grant(1, "lane-in1", "p-1", passage=True).model_copy(update={"wall_time": start}),
        grant(1, "lane-out1", "p-1", direction=Direction.OUT).model_copy(
            update={"wall_time": start + timedelta(hours=1)}
        ),
        confirmation(2, "lane-out1", ref_seq=1).model_copy(
            update={"wall_time": start + timedelta(hours=1, seconds=2)}
        ),
        grant(3, "lane-out1", "p-2", direction=Direction.OUT).model_copy(update={"wall_time": start}),
        make_lane_event(4, LaneEventType.NOT_PASSED, device_id="lane-out1", ref_seq=3),
        grant(2, "lane-in1", "p-3", passage=True).model_copy(
            update={"wall_time": BASE_TIME - timedelta(days=2)}
        ),
    ]
    await store_events(placed, records)
    assert await relaying.on_request_message(topic_for("lane-in1", Channel.SITE_REQUEST), request()) is None
    await until(lambda: len(sender.syncs("lane-in1")) == 1)
    kinds = [type(m).__name__ for d, m in sender.sent if d == "lane-in1"]
    assert kinds == ["PassageRelay", "SiteSync"]
    [caught_up] = sender.relays("lane-in1")
    assert [(p.person_id, p.direction, p.device_id, p.seq) for p in caught_up.passages] == [
        ("p-1", Direction.OUT, "lane-out1", 2)  # p-1's latest; p-2 turned back; p-3's is too old
    ]
    assert sender.syncs("lane-in1")[0].answers == "ab" * 16


@pytest.mark.parametrize(
    ("topic", "payload", "why"),
    [
        ("sitegate/v1/up/lane-in1/nonsense", request(), "bad topic"),
        (
            topic_for("lane-in1", Channel.SITE_REQUEST),
            b'{"kind":"site_request","device_id":"lane-in1"}',
            "nonce",
        ),
        (topic_for("lane-in1", Channel.SITE_REQUEST), b'{"evil <name>": 1}', "<unexpected key>"),
        (
            topic_for("lane-in2", Channel.SITE_REQUEST),
            request("lane-in1"),
            "differs from the device in the topic",
        ),
        (
            topic_for("lane-in1", Channel.SITE_REQUEST),
            request(project_id="P2"),
            "registry places the device at",
        ),
    ],
    ids=["topic", "missing-nonce", "unexpected-key", "other-device", "other-project"],
)
async def test_a_bad_request_is_refused_with_a_reason(
    relay: tuple[SiteRelay, Sender], topic: str, payload: bytes, why: str
) -> None:
    relaying, sender = relay
    reason = await relaying.on_request_message(topic, payload)
    assert reason is not None and why in reason and "evil" not in reason
    await settle()
    assert sender.sent == []


async def test_a_lane_placed_nowhere_gets_no_answer(relay: tuple[SiteRelay, Sender]) -> None:
    relaying, sender = relay
    topic = topic_for("lane-nowhere", Channel.SITE_REQUEST)
    assert await relaying.on_request_message(topic, request("lane-nowhere")) is None
    await settle()
    assert sender.sent == []


def test_the_record_reads_as_the_lanes_recorded_it() -> None:
    t = BASE_TIME
    grants = [
        ("sensorless", 1, "p-1", Direction.IN, t),
        ("sensorless", 2, "p-1", Direction.OUT, t + timedelta(minutes=1)),
        ("sensor", 1, "p-2", Direction.IN, t),
        ("sensor", 3, "p-3", Direction.IN, t),
        ("sensor", 5, "p-4", Direction.IN, t + timedelta(minutes=5)),  # no outcome yet
        ("sensorless", 3, "p-5", Direction.IN, t - timedelta(hours=1)),  # before the window
    ]
    outcomes = [
        ("sensor", 2, LaneEventType.PASSAGE_CONFIRMED, 1, t + timedelta(seconds=3)),
        ("sensor", 4, LaneEventType.NOT_PASSED, 3, t + timedelta(seconds=8)),
    ]
    found = derive_recent(grants, outcomes, since=t - timedelta(minutes=1))
    assert [(p.person_id, p.direction, p.device_id, p.seq) for p in found] == [
        ("p-2", Direction.IN, "sensor", 2),
        ("p-1", Direction.OUT, "sensorless", 2),
    ]


class Acks:
    """Takes the ingest's acks and drops them."""

    async def publish(self, topic: str, payload: bytes, qos: int = 0) -> None:
        pass


def hooked(store: Store, seen: list[list[JournalRecord]]) -> Ingest:
    """An ingest (no broker) whose stored-batch hook appends each batch's records to ``seen``."""
    return Ingest(
        store,
        host="127.0.0.1",
        port=1,
        client_id="t",
        share_group="t",
        on_stored=lambda r: seen.append(list(r)),
    )


async def test_the_ingest_hands_each_committed_batch_to_its_hook(store: Store) -> None:
    seen: list[list[JournalRecord]] = []
    ingest = hooked(store, seen)
    topic = topic_for("lane-t01", Channel.EVENT)
    await place_lanes(store)
    first, reuse = make_event(1), make_lane_event(1, LaneEventType.TAMPER)  # the same seq, the other kind
    await ingest.handle_batch(Acks(), [(topic, encode(first)), (topic, encode(first))])
    await ingest.handle_batch(Acks(), [(topic, encode(reuse)), (topic, encode(make_event(2)))])
    assert [[(r.kind, r.seq) for r in batch] for batch in seen] == [
        [("access_event", 1), ("access_event", 1)],  # a repeat is handed on: relaying it again is harmless
        [("access_event", 2)],  # the seq conflict is dead-lettered, not relayed
    ]

    def broken(records: object) -> None:
        raise RuntimeError("a bug in the hook")

    failing = Ingest(store, host="127.0.0.1", port=1, client_id="t2", share_group="t", on_stored=broken)
    acks: list[str] = []

    class Recording:
        async def publish(self, topic: str, payload: bytes, qos: int = 0) -> None:
            acks.append(topic)

    await failing.handle_batch(Recording(), [(topic, encode(make_event(3)))])
    assert acks == [topic_for("lane-t01", Channel.ACK)]  # stored, so acknowledged all the same


async def test_a_clock_suspect_passage_is_relayed_neither_live_nor_from_the_record(
    relay: tuple[SiteRelay, Sender], placed: Store
) -> None:
    """Issue 13, item 3: a passage stamped 2099 must not leave its person inside at every lane of
    the site (the lanes' anti-passback keeps the newest passage, as presence did)."""
    relaying, sender = relay
    seen: list[list[JournalRecord]] = []
    ingest = hooked(placed, seen)
    came = grant(1, "lane-in1", "p-1", passage=True).model_copy(
        update={"wall_time": BASE_TIME - timedelta(hours=1), "project_id": "P1", "lane": "in1"}
    )
    forged = came.model_copy(update={"seq": 2, "wall_time": BASE_TIME.replace(year=2099)})
    went = grant(1, "lane-out1", "p-1", passage=True, direction=Direction.OUT).model_copy(
        update={"wall_time": BASE_TIME - timedelta(minutes=30), "project_id": "P1", "lane": "ut1"}
    )
    published = [(topic_for(e.device_id, Channel.EVENT), encode(e)) for e in (came, forged, went)]
    await ingest.handle_batch(Acks(), published)
    assert [[(r.device_id, r.seq) for r in batch] for batch in seen] == [[("lane-in1", 1), ("lane-out1", 1)]]
    assert await relaying.on_request_message(topic_for("lane-in1", Channel.SITE_REQUEST), request()) is None
    await until(lambda: len(sender.syncs("lane-in1")) == 1)
    [caught_up] = sender.relays("lane-in1")
    assert [(p.person_id, p.direction, p.device_id) for p in caught_up.passages] == [
        ("p-1", Direction.OUT, "lane-out1")  # the real exit is p-1's latest, not the 2099 entry
    ]


async def test_only_the_lanes_of_the_projects_this_instance_owns_are_synced(placed: Store) -> None:
    """Several hub instances (hub.instances): each project's syncs are its owner's; when the
    ownership moves, the lanes it moved with are told at the next tick, and the others no more."""
    owned = {"P2"}
    sender = Sender()
    timing = SyncTiming(longest_s=3600, first_round_s=0, margin_s=3600)  # ticks: the first, then the test's
    relaying = SiteRelay(
        placed, sender, KEY, clock=FakeClock(BASE_TIME), timing=timing, owns=owned.__contains__
    )
    async with relaying:
        await until(lambda: len(sender.syncs()) == 1)
        assert [m.device_id for m in sender.syncs()] == [ELSEWHERE]
        sender.sent.clear()
        owned.clear()
        owned.add("P1")  # the live instances changed: P1 is this one's now, P2 another's
        assert await relaying.sync_due() == len(SITE)
        assert sorted(m.device_id for m in sender.syncs()) == sorted(SITE)
        owned.add("P2")  # P2 back: its lane is told again (what the other instance told it is unknown)
        assert await relaying.sync_due() == 1
