"""The lane service's order of work: decide, journal, then the relay; nothing opens unrecorded."""

from __future__ import annotations

import asyncio
import socket
from datetime import date, timedelta
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from controller.board import load_board
from controller.config import parse_config
from controller.core.cards import CardUid, IdentityCard, ReadFailure
from controller.core.gate import GateState
from controller.core.passback import PassbackBook
from controller.core.policy import Policy
from controller.core.roster import Roster, RosterEntry
from controller.device_state import DeviceState
from controller.inputs import LaneInputs
from controller.journal import Journal
from controller.outputs import LaneOutputs
from controller.service import LaneService
from controller.supervision import Notifier
from tests.support.clock import FakeClock, site_time
from wire.credential import credential_hash, uid_credential
from wire.idnumber import with_check_digit
from wire.models import CardKind, Decision, Direction, LaneEvent, LaneEventType, Reason
from wire.roles import RosterRole

KEY = bytes(range(32))
OPENING = site_time(2026, 11, 24, 10, 0)
"""The instant every lane here lives in (a working morning), whatever the machine's clock says."""
TODAY = OPENING.date()
NUMBER = with_check_digit("33010619900307001")


class RecordingOutputs(LaneOutputs):
    """Real outputs on mock pins that also note how far the journal was when the relay moved."""

    journal: Journal

    def release(self) -> None:
        self.journal_at_pulse = self.journal.last_seq
        super().release()


def card(number: str = NUMBER, valid_to: date | None = date(2030, 1, 1)) -> IdentityCard:
    return IdentityCard(CardKind.RESIDENT, "测试", number, date(1990, 3, 7), date(2020, 1, 1), valid_to)


def make_lane(tmp_path: Path, *, with_inputs: bool = False) -> LaneService:
    """A lane on mock pins and a FakeClock at OPENING; ``lane.pins`` is its pin factory."""
    config = parse_config(
        f'device_id = "lane-a1"\nproject_id = "P1"\nlane = "A1"\ndirection = "in"\n'
        f'data_dir = "{tmp_path}"\nsite_key_file = "{tmp_path}/k"\n[readers.id_module]\nport = "/dev/null"\n'
    )
    roster = Roster.build(
        3,
        "P1",
        [
            (credential_hash(KEY, NUMBER), RosterEntry("p-1", RosterRole.WORKER)),
            (credential_hash(KEY, uid_credential("04A1B2C3")), RosterEntry("p-2", RosterRole.MANAGER)),
        ],
    )
    pins = MockFactory()
    outputs = RecordingOutputs(load_board("rpi4"), Direction.IN, pin_factory=pins, relay_pulse_s=5)
    journal = Journal(tmp_path / "journal.sqlite3")
    outputs.journal = journal
    inputs = LaneInputs(load_board("rpi4"), pin_factory=pins) if with_inputs else None
    lane = LaneService(
        config,
        site_key=KEY,
        roster=roster,
        journal=journal,
        outputs=outputs,
        sources=[],
        clock=FakeClock(OPENING),
        inputs=inputs,
    )
    lane.pins = pins  # type: ignore[attr-defined]
    return lane


def close_lane(lane: LaneService) -> None:
    lane.close()
    lane.pins.reset()  # type: ignore[attr-defined]


def clock_of(lane: LaneService) -> FakeClock:
    assert isinstance(lane.clock, FakeClock)
    return lane.clock


@pytest.fixture
def service(tmp_path: Path):
    lane = make_lane(tmp_path)
    yield lane
    close_lane(lane)


async def test_granted_swipe_is_journaled_before_the_relay_moves(service: LaneService) -> None:
    event = service.handle(card())
    assert event.decision is Decision.GRANTED
    assert event.person_id == "p-1"
    assert service.outputs.journal_at_pulse == event.seq == 1  # type: ignore[attr-defined]
    assert service.pins.pin(17).state is True  # type: ignore[attr-defined]
    stored = service.journal.pending(0, 10)
    assert stored == [event]
    assert event.credential_hash == credential_hash(KEY, NUMBER)
    assert NUMBER not in event.model_dump_json()


@pytest.mark.parametrize(
    ("presented", "reason"),
    [
        (card(with_check_digit("33010619851111002")), Reason.NOT_REGISTERED),
        (card(NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")), Reason.INVALID_ID_NUMBER),
        (card(valid_to=date(2026, 11, 23)), Reason.CARD_EXPIRED),
    ],
)
async def test_denials_never_move_the_relay(
    service: LaneService, presented: IdentityCard, reason: Reason
) -> None:
    event = service.handle(presented)
    assert event.reason is reason
    # a denied event still names a registered person, so oversight sees who was turned away
    assert event.person_id == ("p-1" if reason is Reason.CARD_EXPIRED else None)
    assert service.pins.pin(17).state is False  # type: ignore[attr-defined]
    assert service.pins.pin(23).state is True  # type: ignore[attr-defined]  red LED


async def test_card_uid_alone_is_refused_unless_the_project_accepts_it(service: LaneService) -> None:
    event = service.handle(CardUid("04a1b2c3"))
    assert (event.reason, event.person_id) == (Reason.CREDENTIAL_NOT_ACCEPTED, "p-2")
    service.bootstrap_policy = Policy(accept_uid_only=True)
    assert service.handle(CardUid("04a1b2c3")).decision is Decision.GRANTED


async def test_second_entry_is_refused_and_the_state_survives_a_restart(
    service: LaneService, tmp_path: Path
) -> None:
    assert service.handle(card()).decision is Decision.GRANTED
    assert service.handle(card()).reason is Reason.ANTI_PASSBACK
    service.journal.close()
    reopened = Journal(tmp_path / "journal.sqlite3")
    assert reopened.passages() == [("p-1", Direction.IN)]
    service.journal = reopened
    service.passback = PassbackBook(reopened.passages())
    assert service.handle(card()).reason is Reason.ANTI_PASSBACK


async def test_watchlist_hit_is_denied_with_an_alert(service: LaneService) -> None:
    service.roster = Roster.build(
        4, "P1", service.roster.entries.items(), watchlist=[credential_hash(KEY, NUMBER)]
    )
    event = service.handle(card())
    assert (event.reason, event.alert) == (Reason.WATCHLISTED, True)


async def test_a_journal_that_fails_keeps_the_gate_shut(service: LaneService) -> None:
    service.journal.close()
    with pytest.raises(Exception, match="closed"):
        service.handle(card())
    assert service.pins.pin(17).state is False  # type: ignore[attr-defined]


async def test_id_numbers_never_reach_the_log(service: LaneService, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    service.handle(card())
    service.handle(card(NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")))
    assert caplog.records
    assert all(NUMBER[:-1] not in r.getMessage() for r in caplog.records)


# --- the gate machine driven through real gpiozero inputs on mock pins ---------------------------

ROTATION, FIRE, TAMPER = 5, 6, 13  # rpi4 profile; all active low with pull-ups


@pytest.fixture
async def gated(tmp_path: Path):
    lane = make_lane(tmp_path, with_inputs=True)
    assert lane.inputs is not None
    lane.inputs.start(lane.feed, asyncio.get_running_loop())
    yield lane
    close_lane(lane)


def lane_events(service: LaneService) -> list[LaneEvent]:
    return [r for r in service.journal.pending(0, 100) if isinstance(r, LaneEvent)]


async def pulse(pin) -> None:
    pin.drive_low()
    await asyncio.sleep(0.01)
    pin.drive_high()
    await asyncio.sleep(0.01)


async def test_passage_confirmed_by_rotation_locks_the_arm_and_counts_for_passback(
    gated: LaneService,
) -> None:
    pins = gated.pins  # type: ignore[attr-defined]
    assert gated.handle(card()).decision is Decision.GRANTED
    assert pins.pin(17).state is True and gated.gate.state is GateState.GRANTED
    assert gated.journal.passages() == []  # not inside until the arm turns
    await pulse(pins.pin(ROTATION))
    assert pins.pin(17).state is False and gated.gate.state is GateState.IDLE
    assert gated.journal.passages() == [("p-1", Direction.IN)]
    confirmed = gated.journal.pending(1, 10)[0]
    assert isinstance(confirmed, LaneEvent)
    assert (confirmed.type, confirmed.ref_seq) == (LaneEventType.PASSAGE_CONFIRMED, 1)
    assert gated.handle(card()).reason is Reason.ANTI_PASSBACK


async def test_granted_not_passed_locks_after_the_timeout_and_does_not_count(gated: LaneService) -> None:
    gated.config = gated.config.model_copy(update={"passage_timeout_s": 0.05})
    gated.handle(card())
    await asyncio.sleep(0.1)
    assert gated.pins.pin(17).state is False  # type: ignore[attr-defined]
    assert gated.gate_counts["not_passed"] == 1
    assert [r.type for r in lane_events(gated)] == [LaneEventType.NOT_PASSED]
    assert gated.handle(card()).decision is Decision.GRANTED  # never went in: no anti-passback


async def test_fire_alarm_opens_the_lane_until_it_clears(gated: LaneService, caplog) -> None:
    pins = gated.pins  # type: ignore[attr-defined]
    pins.pin(FIRE).drive_low()
    await asyncio.sleep(0.02)
    assert gated.gate.state is GateState.FREE_EGRESS and pins.pin(17).state is True
    gated.handle(card(with_check_digit("33010619851111002")))  # a denial does not close it
    assert pins.pin(17).state is True
    pins.pin(FIRE).drive_high()
    await asyncio.sleep(0.02)
    assert gated.gate.state is GateState.IDLE and pins.pin(17).state is False
    assert [(r.type, r.alert) for r in lane_events(gated)] == [
        (LaneEventType.FIRE_ALARM, True),
        (LaneEventType.FIRE_ALARM_CLEARED, False),
    ]


async def test_forced_rotation_and_tamper_are_reported(gated: LaneService, caplog) -> None:
    await pulse(gated.pins.pin(ROTATION))  # type: ignore[attr-defined]
    gated.pins.pin(TAMPER).drive_low()  # type: ignore[attr-defined]
    await asyncio.sleep(0.02)
    assert gated.gate_counts["forced"] == 1 and gated.gate_counts["report_tamper"] == 1
    assert [r.type for r in lane_events(gated)] == [LaneEventType.FORCED_PASSAGE, LaneEventType.TAMPER]
    assert all(r.alert for r in lane_events(gated))
    assert gated.pins.pin(17).state is False  # type: ignore[attr-defined]


async def test_a_failed_read_asks_for_the_card_again_and_records_nothing(service: LaneService) -> None:
    class OneFailure:
        name = "id_module"
        healthy = True

        async def cards(self):
            yield ReadFailure("id_module", "READ_TEXT_PHOTO answered SW3 0x41: read failed")

    await service._consume(OneFailure())  # type: ignore[arg-type]
    assert service.read_failures == 1
    assert service.journal.last_seq == 0
    assert service.pins.pin(23).state is True  # type: ignore[attr-defined]  red LED


async def test_a_grant_superseded_before_the_arm_turned_is_not_passed(gated: LaneService) -> None:
    """The first person turns back and the next one is granted: each outcome names its own grant."""
    other = card(with_check_digit("33010619851111002"))
    gated.roster = Roster.build(
        5,
        "P1",
        [
            *gated.roster.entries.items(),
            (credential_hash(KEY, other.id_number), RosterEntry("p-9", RosterRole.WORKER)),
        ],
    )
    first = gated.handle(card())
    second = gated.handle(other)
    await pulse(gated.pins.pin(ROTATION))  # type: ignore[attr-defined]
    outcomes = [(r.type, r.ref_seq) for r in lane_events(gated)]
    assert outcomes == [(LaneEventType.NOT_PASSED, first.seq), (LaneEventType.PASSAGE_CONFIRMED, second.seq)]
    assert gated.journal.passages() == [("p-9", Direction.IN)]


async def test_disabling_a_lane_denies_everyone_is_reported_and_survives_a_restart(
    service: LaneService, tmp_path: Path
) -> None:
    service.set_disabled(True)
    assert service.handle(card()).reason is Reason.LANE_DISABLED
    assert [r.type for r in lane_events(service)] == [LaneEventType.LANE_DISABLED]
    assert DeviceState(tmp_path / "state.json").disabled  # what the next boot will read
    service.set_disabled(False)
    assert service.handle(card()).decision is Decision.GRANTED
    assert not DeviceState(tmp_path / "state.json").disabled


async def test_run_under_systemd_reports_ready_and_pings_the_watchdog(
    service: LaneService, tmp_path: Path
) -> None:
    """``run`` is handed its supervision by the caller (``sitegate controller run``), not set on the lane."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(tmp_path / "notify"))
        systemd.settimeout(5)
        task = asyncio.create_task(service.run(notifier=Notifier(str(tmp_path / "notify")), watchdog_s=0.02))
        try:
            messages = [await asyncio.to_thread(systemd.recv, 4096) for _ in range(2)]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert messages[0].startswith(b"READY=1") and b"WATCHDOG=1" in messages


def test_damaged_device_state_falls_back_and_reports(tmp_path: Path) -> None:
    state = DeviceState(tmp_path / "state.json")
    state.set_disabled(True)
    state.set_disabled(True)  # second write keeps the first as .prev
    (tmp_path / "state.json").write_text("{torn")
    reloaded = DeviceState(tmp_path / "state.json")
    assert reloaded.disabled and reloaded.fault is not None and "not JSON" in reloaded.fault


# --- time, read through the lane's clock -------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "minute", "second", "reason"),
    [
        (5, 59, 59, Reason.OUTSIDE_HOURS),
        (6, 0, 0, Reason.GRANTED),
        (19, 59, 59, Reason.GRANTED),
        (20, 0, 0, Reason.OUTSIDE_HOURS),
        (0, 30, 0, Reason.OUTSIDE_HOURS),
    ],
)
async def test_a_worker_is_admitted_by_the_lanes_clock_within_the_default_hours(
    service: LaneService, hour: int, minute: int, second: int, reason: Reason
) -> None:
    """Both sides of each edge of 06:00-20:00, on the lane's clock (not the machine's): the lane
    lives on until that time of day (the next day's, if it is earlier than the lane's opening)."""
    at = site_time(2026, 11, 24, hour, minute, second)
    clock_of(service).advance_to(at if at >= OPENING else at + timedelta(days=1))
    assert service.handle(card()).reason is reason


async def test_records_are_stamped_by_the_lanes_clock(service: LaneService) -> None:
    clock = clock_of(service)
    clock.set_synced(False)
    clock.advance(timedelta(minutes=5))
    event = service.handle(card())
    assert (event.wall_time, event.mono_ns, event.boot_id) == (clock.wall(), clock.mono_ns(), clock.boot_id)
    assert event.clock_synced is False


async def test_the_heartbeat_reads_the_lanes_clock(service: LaneService) -> None:
    clock = clock_of(service)
    clock.advance(timedelta(hours=2, seconds=3))
    beat = service.heartbeat()
    assert beat.sent_at == clock.wall() == OPENING + timedelta(hours=2, seconds=3)
    assert beat.uptime_s == pytest.approx(7203.0)
    assert (beat.boot_id, beat.clock_synced) == (clock.boot_id, True)
