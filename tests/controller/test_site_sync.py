"""The lane's end of site-wide anti-passback, without a broker: the site link's checks, the journal's
passages (migration, newer-only writes, the sync mark), the lane's expiry and degraded decisions,
and the configuration that sets them."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gpiozero.pins.mock import MockFactory

from controller.board import load_board
from controller.config import ConfigError, parse_config
from controller.core.cards import IdentityCard
from controller.core.passback import Passage, PassbackBook
from controller.core.roster import Roster, RosterEntry
from controller.journal import SCHEMA_VERSION, Journal
from controller.outputs import LaneOutputs
from controller.service import LaneService
from controller.site_sync import ASK_AGAIN_NS, SiteLink
from tests.support.clock import FakeClock, site_time
from wire.credential import credential_hash
from wire.idnumber import with_check_digit
from wire.models import AccessEvent, CardKind, Caveat, Decision, Direction, LaneEvent, LaneEventType, Reason
from wire.roles import RosterRole
from wire.signing import canonical_bytes, key_id_for
from wire.site import (
    PassageRelay,
    SiblingSeen,
    SitePassage,
    SiteSync,
    decode_site_request,
    encode_site,
)
from wire.topics import Channel

MORNING = site_time(2026, 11, 24, 10, 0)
HUB_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = HUB_KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
LANE, PROJECT = "lane-a1", "P1"


@dataclass
class Holder:
    roster: Roster
    journal: Journal
    passback: PassbackBook = field(default_factory=PassbackBook)


@dataclass
class Sent:
    messages: list[tuple[Channel, bytes]] = field(default_factory=list)
    online: bool = True

    async def __call__(self, channel: Channel, payload: bytes) -> bool:
        if self.online:
            self.messages.append((channel, payload))
        return self.online


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    opened = Journal(tmp_path / "journal.sqlite3")
    yield opened
    opened.close()


def roster(*people: str) -> Roster:
    return Roster.build(
        1, PROJECT, [(f"{n:064x}", RosterEntry(p, RosterRole.WORKER)) for n, p in enumerate(people)]
    )


def make_link(journal: Journal, clock: FakeClock, sent: Sent, *people: str) -> SiteLink:
    holder = Holder(roster(*(people or ("p-1", "p-2"))), journal, PassbackBook(journal.passage_records()))
    return SiteLink(
        holder, device_id=LANE, project_id=PROJECT, public_key=PUBLIC, silence_s=60, send=sent, clock=clock
    )


def sign(message: PassageRelay | SiteSync, key: Ed25519PrivateKey = HUB_KEY) -> bytes:
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    draft = message.model_copy(update={"key_id": key_id_for(public)})
    signature = base64.b64encode(key.sign(canonical_bytes(draft))).decode()
    return encode_site(draft.model_copy(update={"signature": signature}))


def relay(*passages: SitePassage, to: str = LANE, project: str = PROJECT) -> PassageRelay:
    return PassageRelay(device_id=to, project_id=project, issued_at=MORNING, passages=passages)


def passage(person: str, direction: Direction, minutes: float, seq: int = 1) -> SitePassage:
    return SitePassage(
        person_id=person,
        direction=direction,
        at=MORNING + timedelta(minutes=minutes),
        device_id="lane-a2",
        seq=seq,
    )


def sync(issued: datetime, answers: str | None = None, **seen: datetime | None) -> SiteSync:
    siblings = tuple(SiblingSeen(device_id=d.replace("_", "-"), last_seen=at) for d, at in seen.items())
    return SiteSync(device_id=LANE, project_id=PROJECT, issued_at=issued, siblings=siblings, answers=answers)


async def caught_up(link: SiteLink, sent: Sent, issued: datetime = MORNING) -> None:
    await link.hello()
    nonce = decode_site_request(sent.messages[-1][1]).nonce
    await link(sign(sync(issued, nonce, lane_a2=issued)))


# --- what a relay may change ------------------------------------------------------------------------


async def test_a_relay_moves_the_book_and_the_journal_together(journal: Journal, tmp_path: Path) -> None:
    clock, sent = FakeClock(MORNING + timedelta(minutes=30)), Sent()
    link = make_link(journal, clock, sent)
    taken: list[object] = []
    link.observers.append(taken.append)
    await link(sign(relay(passage("p-1", Direction.IN, 0, 1), passage("p-2", Direction.IN, 1, 2))))
    await link(sign(relay(passage("p-1", Direction.OUT, 5, 3))))
    held = link.holder.passback.held("p-1")
    assert held == Passage(Direction.OUT, MORNING + timedelta(minutes=5), "lane-a2", 3)
    assert (link.counters.relays, link.counters.taken, len(taken)) == (2, 3, 2)
    journal.close()
    reopened = Journal(tmp_path / "journal.sqlite3")  # after a power cut: the same state
    assert dict(reopened.passage_records()) == {
        "p-1": held,
        "p-2": Passage(Direction.IN, MORNING + timedelta(minutes=1), "lane-a2", 2),
    }
    reopened.close()


async def test_repeats_and_late_arrivals_change_nothing(journal: Journal) -> None:
    link = make_link(journal, FakeClock(MORNING + timedelta(hours=1)), Sent())
    latest = passage("p-1", Direction.OUT, 10, 2)
    for item in (latest, passage("p-1", Direction.IN, 5, 1), latest):
        await link(sign(relay(item)))
    both = relay(
        passage("p-1", Direction.IN, 20, 4), passage("p-1", Direction.OUT, 15, 3)
    )  # one relay, unsorted
    await link(sign(both))
    assert link.holder.passback.held("p-1") == Passage(
        Direction.IN, MORNING + timedelta(minutes=20), "lane-a2", 4
    )
    assert dict(journal.passage_records())["p-1"] == link.holder.passback.held("p-1")
    assert (link.counters.taken, link.counters.stale) == (3, 2)


async def test_a_lanes_own_later_passage_is_not_undone_by_a_relay(journal: Journal) -> None:
    link = make_link(journal, FakeClock(MORNING + timedelta(hours=1)), Sent())
    journal.append(lambda seq: _granted(seq, MORNING + timedelta(minutes=30)), passage=("p-1", Direction.IN))
    link.holder.passback = PassbackBook(journal.passage_records())
    await link(sign(relay(passage("p-1", Direction.OUT, 20, 9))))
    assert link.holder.passback.inside("p-1") is True
    assert dict(journal.passage_records())["p-1"].device_id is None


async def test_only_people_on_the_roster_and_times_the_lane_can_believe(journal: Journal) -> None:
    clock = FakeClock(MORNING)
    link = make_link(journal, clock, Sent(), "p-1")
    await link(
        sign(
            relay(
                passage("p-9", Direction.IN, 0),
                passage("p-1", Direction.IN, 6),
                passage("p-1", Direction.IN, 4),
            )
        )
    )
    assert link.holder.passback.held("p-9") is None and dict(journal.passage_records()).get("p-9") is None
    assert link.holder.passback.held("p-1") == Passage(
        Direction.IN, MORNING + timedelta(minutes=4), "lane-a2", 1
    )
    assert (link.counters.unknown, link.counters.future, link.counters.taken) == (1, 1, 1)


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (encode_site(relay(passage("p-1", Direction.IN, 0))), "unsigned"),
        (sign(relay(passage("p-1", Direction.IN, 0)), OTHER_KEY), "this lane trusts"),
        (sign(relay(passage("p-1", Direction.IN, 0), to="lane-a3")), "addressed to lane-a3"),
        (sign(relay(passage("p-1", Direction.IN, 0), project="P2")), "for project P2"),
        (b'{"kind":"passage_relay"', "unreadable"),
    ],
    ids=["unsigned", "other-key", "other-lane", "other-project", "garbled"],
)
async def test_a_message_that_fails_a_check_is_refused_whole(
    journal: Journal, payload: bytes, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    link = make_link(journal, FakeClock(MORNING + timedelta(minutes=5)), Sent())
    await link(payload)
    assert link.counters.refused == 1 and why in caplog.text
    assert link.holder.passback.held("p-1") is None and journal.passage_records() == []


async def test_a_forged_signature_is_refused(journal: Journal) -> None:
    link = make_link(journal, FakeClock(MORNING + timedelta(minutes=5)), Sent())
    genuine = PassageRelay.model_validate_json(sign(relay(passage("p-1", Direction.OUT, 0))))
    altered = genuine.model_copy(update={"passages": (passage("p-1", Direction.IN, 1),)})
    await link(encode_site(altered))
    assert link.counters.refused == 1 and link.holder.passback.held("p-1") is None


# --- syncs and the view ------------------------------------------------------------------------------


async def test_the_view_is_trusted_only_once_caught_up_and_while_word_is_fresh(journal: Journal) -> None:
    clock, sent = FakeClock(MORNING), Sent()
    link = make_link(journal, clock, sent)
    assert link.problem() == "no word from the hub about the site yet"
    await caught_up(link, sent)
    [(channel, payload)] = sent.messages
    request = decode_site_request(payload)
    assert (channel, request.device_id, request.project_id) == (Channel.SITE_REQUEST, LANE, PROJECT)
    assert link.verified()
    clock.advance(61)
    assert link.problem() == "no word from the hub about the site for 61 s"
    await link(sign(sync(MORNING + timedelta(seconds=61), lane_a2=MORNING)))  # the sibling is the silent one
    assert link.problem() == "lane lane-a2 silent for 61 s"


async def test_a_replayed_sync_is_refused_even_after_a_restart(journal: Journal, tmp_path: Path) -> None:
    clock, sent = FakeClock(MORNING), Sent()
    link = make_link(journal, clock, sent)
    await caught_up(link, sent, MORNING + timedelta(minutes=1))
    await link(sign(sync(MORNING + timedelta(minutes=1), lane_a2=MORNING)))
    assert link.counters.refused == 1
    journal.close()
    reopened = Journal(tmp_path / "journal.sqlite3")
    sent.messages.clear()
    again = make_link(reopened, clock, sent)
    await again.hello()
    nonce = decode_site_request(sent.messages[-1][1]).nonce
    await again(sign(sync(MORNING, nonce, lane_a2=MORNING)))  # an old answer, replayed after the reboot
    assert again.counters.refused == 1 and not again.verified()
    reopened.close()


async def test_an_unanswered_request_is_sent_again(journal: Journal) -> None:
    clock, sent = FakeClock(MORNING), Sent(online=False)
    link = make_link(journal, clock, sent)
    await link.hello()  # lost: the link dropped as it came up
    sent.online = True
    clock.advance(ASK_AGAIN_NS / 1e9 + 1)
    await link(sign(sync(MORNING + timedelta(seconds=1), lane_a2=MORNING)))
    [(channel, _)] = sent.messages
    assert channel is Channel.SITE_REQUEST and not link.verified()


# --- the journal ---------------------------------------------------------------------------------


OLD_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
CREATE TABLE events (seq INTEGER PRIMARY KEY, payload BLOB NOT NULL) STRICT;
CREATE TABLE passages (person_id TEXT PRIMARY KEY, direction TEXT NOT NULL, seq INTEGER NOT NULL) STRICT;
INSERT INTO meta (key, value) VALUES ('last_seq', 5), ('acked_through', 2), ('generation', 3);
INSERT INTO passages VALUES ('p-1', 'in', 4), ('p-2', 'out', 5);
"""


def test_a_journal_of_the_previous_release_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA)
    old.close()
    journal = Journal(path)
    assert (journal.last_seq, journal.acked_through) == (5, 2)
    assert journal.passages() == [("p-1", Direction.IN), ("p-2", Direction.OUT)]
    assert dict(journal.passage_records())["p-1"] == Passage(Direction.IN, None, None, 4)
    assert journal.site_sync_mark is None
    assert journal.stamp_untimed(MORNING) == 2
    assert dict(journal.passage_records())["p-1"] == Passage(Direction.IN, MORNING, None, 4)
    journal.close()
    again = Journal(path)  # opening it again migrates nothing twice
    assert again.stamp_untimed(MORNING) == 0
    assert int(again._db.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION
    again.close()


# --- the lane's decisions ------------------------------------------------------------------------

KEY = bytes(range(32))
NUMBER = with_check_digit("33010619900307001")


def _granted(seq: int, at: datetime) -> AccessEvent:
    return AccessEvent(
        device_id=LANE,
        seq=seq,
        boot_id="boot-0001",
        mono_ns=seq,
        wall_time=at,
        clock_synced=True,
        project_id=PROJECT,
        lane="A1",
        direction=Direction.IN,
        decision=Decision.GRANTED,
        reason=Reason.GRANTED,
        card_kind=CardKind.RESIDENT,
        credential_hash="0" * 64,
        person_id="p-1",
        passage=True,
    )


def card() -> IdentityCard:
    return IdentityCard(
        CardKind.RESIDENT, "测试", NUMBER, datetime(1990, 3, 7).date(), datetime(2020, 1, 1).date(), None
    )


@dataclass
class Unverified:
    reason: str = "lane lane-a2 silent for 99 s"

    def verified(self) -> bool:
        return False


@pytest.fixture
def lane(tmp_path: Path) -> Iterator[LaneService]:
    config = parse_config(
        f'device_id = "{LANE}"\nproject_id = "{PROJECT}"\nlane = "A1"\ndirection = "in"\n'
        f'data_dir = "{tmp_path}"\nsite_key_file = "{tmp_path}/k"\n[readers.id_module]\nport = "/dev/null"\n'
    )
    pins = MockFactory()
    service = LaneService(
        config,
        site_key=KEY,
        roster=Roster.build(
            3, PROJECT, [(credential_hash(KEY, NUMBER), RosterEntry("p-1", RosterRole.WORKER))]
        ),
        journal=Journal(tmp_path / "journal.sqlite3"),
        outputs=LaneOutputs(load_board("rpi4"), Direction.IN, pin_factory=pins, relay_pulse_s=0.05),
        sources=[],
        clock=FakeClock(MORNING),
    )
    yield service
    service.close()
    pins.reset()


async def test_a_grant_without_a_sensor_is_a_passage_at_its_own_time(lane: LaneService) -> None:
    event = lane.handle(card())
    assert (event.decision, event.passage) == (Decision.GRANTED, True)
    assert lane.passback.held("p-1") == Passage(Direction.IN, event.wall_time, None, event.seq)
    assert dict(lane.journal.passage_records())["p-1"] == lane.passback.held("p-1")


async def test_a_lane_out_of_touch_admits_with_a_warning(lane: LaneService) -> None:
    lane.handle(card())
    assert lane.handle(card()).reason is Reason.ANTI_PASSBACK
    lane.site = Unverified()  # type: ignore[assignment]
    admitted = lane.handle(card())
    assert (admitted.decision, admitted.warnings) == (
        Decision.GRANTED,
        (Reason.ANTI_PASSBACK, Caveat.PASSBACK_UNVERIFIED),
    )


async def test_an_entry_left_from_yesterday_is_forgotten_on_the_record(lane: LaneService) -> None:
    lane.handle(card())
    clock = lane.clock
    assert isinstance(clock, FakeClock)
    clock.advance_to(site_time(2026, 11, 24, 19, 59))
    assert lane.handle(card()).reason is Reason.ANTI_PASSBACK
    clock.advance_to(site_time(2026, 11, 25, 6, 30))
    admitted = lane.handle(card())
    assert (admitted.decision, admitted.warnings) == (Decision.GRANTED, ())
    records = lane.journal.pending(0, 100)
    expired = records[-2]
    assert isinstance(expired, LaneEvent)
    assert (expired.type, expired.person_id, expired.seq) == (
        LaneEventType.PASSBACK_EXPIRED,
        "p-1",
        admitted.seq - 1,
    )
    assert lane.handle(card()).reason is Reason.ANTI_PASSBACK  # today's entry holds
    assert sum(isinstance(r, LaneEvent) for r in lane.journal.pending(0, 100)) == 1


async def test_an_expired_entry_denied_for_another_reason_leaves_no_expiry_on_the_record(
    lane: LaneService,
) -> None:
    lane.handle(card())
    assert isinstance(lane.clock, FakeClock)
    lane.clock.advance_to(site_time(2026, 11, 25, 5, 0))  # before the workers' hours
    assert lane.handle(card()).reason is Reason.OUTSIDE_HOURS
    assert not any(isinstance(r, LaneEvent) for r in lane.journal.pending(0, 100))


async def test_a_journal_of_the_previous_release_starts_its_entries_now(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA)
    old.close()
    journal = Journal(path)
    book_before = PassbackBook(journal.passage_records())
    assert book_before.held("p-1") == Passage(Direction.IN, None, None, 4)
    journal.stamp_untimed(MORNING)  # what the lane does at start
    book = PassbackBook(journal.passage_records())
    assert book.expired("p-1", site_time(2026, 11, 24, 20, 0), time(20)) is not None
    journal.close()


# --- configuration ---------------------------------------------------------------------------------

BASE = 'device_id = "lane-a1"\nproject_id = "P1"\nlane = "A1"\ndirection = "in"\ndata_dir = "/tmp"\nsite_key_file = "/k"\n[readers.id_module]\nport = "/dev/null"\n'


def test_the_end_of_the_working_day_is_the_default_expiry() -> None:
    assert parse_config(BASE).policy.to_policy().inside_expires_at == time(20)
    night = parse_config(BASE + '[policy]\nworking_hours = { worker = "18:00-06:00" }\n')
    assert night.policy.to_policy().inside_expires_at == time(6)
    managers_only = parse_config(BASE + '[policy]\nworking_hours = { visitor = "08:00-17:30" }\n')
    assert managers_only.policy.to_policy().inside_expires_at == time(17, 30)
    no_hours = parse_config(BASE + "[policy]\nworking_hours = {}\n")
    assert no_hours.policy.to_policy().inside_expires_at == time(0)
    chosen = parse_config(BASE + '[policy]\ninside_expires_at = "23:30"\n')
    assert chosen.policy.to_policy().inside_expires_at == time(23, 30)


def test_site_settings_and_their_errors_name_the_key() -> None:
    config = parse_config(BASE)
    assert (config.site.share_passages, config.site.sibling_silence_s) == (True, 90.0)
    with pytest.raises(ConfigError, match=r"policy\.inside_expires_at: String should match"):
        parse_config(BASE + '[policy]\ninside_expires_at = "8pm"\n')
    with pytest.raises(ConfigError, match=r"site\.sibling_silence_s: Input should be greater than 0"):
        parse_config(BASE + "[site]\nsibling_silence_s = 0\n")
    with pytest.raises(ConfigError, match=r"site\.share_passage: Extra inputs are not permitted"):
        parse_config(BASE + "[site]\nshare_passage = false\n")
