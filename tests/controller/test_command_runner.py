"""Commands executed once, across restarts too, refused when stale or misaddressed, answered every time."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import aiomqtt
import pytest
from gpiozero.pins.mock import MockFactory

from controller.cli import build_service
from controller.command_runner import CommandRunner
from controller.config import parse_config
from controller.executed_commands import ExecutedCommands
from controller.hub_time import HubTime
from controller.service import LaneService
from sitegate.mosquitto import Mosquitto
from sitegate.tasks import cancel_until_done
from tests.controller.test_service import OPENING, lane_events, service  # noqa: F401 - the lane fixture
from tests.support.clock import FakeClock
from wire.codec import decode, encode
from wire.commands import Action, Command, CommandResult
from wire.models import LaneEventType
from wire.topics import Channel, topic_for


class Outbox:
    def __init__(self) -> None:
        self.results: list[CommandResult] = []

    async def send(self, channel: Channel, payload: bytes) -> bool:
        assert channel is Channel.COMMAND_RESULT
        result = decode(channel, payload)
        assert isinstance(result, CommandResult)
        self.results.append(result)
        return True


def command(
    action: Action, *, now: datetime, device: str = "lane-a1", expires_in_s: float = 30, **extra
) -> bytes:
    """A command the hub issued at ``now`` (the lane's clock in these tests: the hub's is its own)."""
    return encode(
        Command(
            command_id=uuid.uuid4().hex,
            device_id=device,
            action=action,
            operator="gc-0042-op",
            issued_at=now - timedelta(seconds=1),
            expires_at=now + timedelta(seconds=expires_in_s),
            **extra,
        )
    )


@pytest.fixture
def handler(service: LaneService):  # noqa: F811
    outbox = Outbox()
    restarts: list[bool] = []
    executed = ExecutedCommands(service.config.data_dir / "commands.json")
    run = CommandRunner(service, outbox.send, executed=executed, restart=lambda: restarts.append(True))
    return run, outbox, restarts


async def test_remote_open_is_journaled_with_the_operator_and_releases_the_arm(handler, service) -> None:  # noqa: F811
    run, outbox, _ = handler
    payload = command(Action.REMOTE_OPEN, now=service.clock.wall())
    await run(payload)
    await run(payload)  # QoS 1 redelivery: answered again, not executed again
    assert [r.ok for r in outbox.results] == [True, True]
    assert outbox.results[0] == outbox.results[1]
    opened = [e for e in lane_events(service) if e.type is LaneEventType.REMOTE_OPEN]
    assert len(opened) == 1 and opened[0].operator == "gc-0042-op"
    assert opened[0].command_id == outbox.results[0].command_id  # the hub attributes it by this id
    assert service.pins.pin(17).state is True  # type: ignore[attr-defined]
    assert service.outputs.pulses == 1


async def test_expired_and_misaddressed_commands_are_refused(handler, service) -> None:  # noqa: F811
    run, outbox, _ = handler
    stale = command(Action.REMOTE_OPEN, now=service.clock.wall(), expires_in_s=30)
    service.clock.advance(30.001)  # it reaches the lane after the operator's window closed
    await run(stale)
    await run(command(Action.REMOTE_OPEN, now=service.clock.wall(), device="lane-zz9"))
    assert [r.ok for r in outbox.results] == [False, False]
    assert "expired" in outbox.results[0].detail
    assert outbox.results[0].at == service.clock.wall()  # answered on the lane's clock
    assert "is for lane-zz9" in outbox.results[1].detail
    assert service.outputs.pulses == 0


@pytest.mark.parametrize("lane_off_by_h", [3, -3])
async def test_expiry_is_judged_on_the_hubs_clock_as_its_acks_give_it(
    service: LaneService,  # noqa: F811
    lane_off_by_h: int,
) -> None:
    """A lane whose wall clock is hours off (an unsynchronised boot) judges a command by the hub's
    time from its last ack: a fresh command runs whether the lane runs ahead or behind, and one the
    hub let expire is refused. Without an ack the lane's own clock is all it has."""
    outbox = Outbox()
    hub_time = HubTime()
    executed = ExecutedCommands(service.config.data_dir / "commands.json")
    run = CommandRunner(service, outbox.send, executed=executed, hub_time=hub_time)
    hub_now = service.clock.wall() - timedelta(hours=lane_off_by_h)
    await run(command(Action.DISABLE_LANE, now=hub_now))  # no ack heard yet: the lane's clock
    assert outbox.results[-1].ok is (lane_off_by_h < 0)
    hub_time.observe(hub_now, service.clock.mono_ns())
    service.clock.advance(5)  # the hub's clock went on 5 s too
    await run(command(Action.ENABLE_LANE, now=hub_now + timedelta(seconds=5)))
    assert outbox.results[-1].ok, outbox.results[-1].detail
    await run(command(Action.DISABLE_LANE, now=hub_now - timedelta(seconds=30), expires_in_s=30))
    assert outbox.results[-1].ok is False and "expired" in outbox.results[-1].detail
    assert not service.disabled


async def test_disable_enable_and_log_level(handler, service) -> None:  # noqa: F811
    run, outbox, _ = handler
    await run(command(Action.DISABLE_LANE, now=service.clock.wall()))
    assert service.disabled
    await run(command(Action.REMOTE_OPEN, now=service.clock.wall()))
    assert outbox.results[-1].ok is False and "disabled" in outbox.results[-1].detail
    await run(command(Action.ENABLE_LANE, now=service.clock.wall()))
    await run(command(Action.SET_LOG_LEVEL, now=service.clock.wall(), log_level="DEBUG"))
    assert [r.ok for r in outbox.results] == [True, False, True, True]
    assert logging.getLogger().level == logging.DEBUG
    logging.getLogger().setLevel(logging.WARNING)


async def test_reboot_answers_first_then_restarts(handler, service) -> None:  # noqa: F811
    run, outbox, restarts = handler
    await run(command(Action.REBOOT, now=service.clock.wall()))
    assert outbox.results[-1].ok and restarts == [True]


async def test_malformed_command_is_dropped_with_a_log(handler, caplog) -> None:
    run, outbox, _ = handler
    await run(b'{"kind": "command", "action": "self_destruct"}')
    assert outbox.results == [] and "malformed command" in caplog.text


# --- across a restart: the lane as build_service wires it, its commands over a real broker -------------


def _lane_config(tmp_path: Path, broker: Mosquitto):
    (tmp_path / "site.key").write_text(bytes(range(32)).hex())
    return parse_config(
        'device_id = "lane-cmd-restart"\nproject_id = "P1"\nlane = "A1"\ndirection = "in"\n'
        f'data_dir = "{tmp_path / "lane"}"\nsite_key_file = "{tmp_path / "site.key"}"\npin_factory = "mock"\n'
        '[readers.id_module]\nport = "/dev/null"\n'
        f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\n'
    )


async def _a_lane_answers(
    config, clock: FakeClock, operator: aiomqtt.Client, payload: bytes
) -> tuple[CommandResult, int, int]:
    """Start the lane, deliver ``payload`` on its command topic, take its answer, stop the lane:
    (the answer, relay pulses in that run, remote opens in the journal after it)."""
    pins = MockFactory()
    lane = build_service(config, pin_factory=pins, clock=clock)
    try:
        assert lane.uplink is not None
        subscribed = asyncio.Event()

        async def on_connect() -> None:
            subscribed.set()

        lane.uplink.on_connect(on_connect)  # hooks run once the down channels are subscribed
        uplink = asyncio.create_task(lane.uplink.run())
        try:
            await asyncio.wait_for(subscribed.wait(), 10)
            await operator.publish(topic_for(config.device_id, Channel.COMMAND), payload, qos=1)
            async with asyncio.timeout(10):
                async for message in operator.messages:
                    assert isinstance(message.payload, bytes)
                    answer = decode(Channel.COMMAND_RESULT, message.payload)
                    break
        finally:
            await cancel_until_done([uplink])
        assert isinstance(answer, CommandResult)
        opens = [e for e in lane_events(lane) if e.type is LaneEventType.REMOTE_OPEN]
        assert pins.pin(17).state is (lane.outputs.pulses > 0)  # the relay, as driven in this run
        return answer, lane.outputs.pulses, len(opens)
    finally:
        lane.close()
        pins.reset()


@pytest.mark.broker
async def test_a_command_redelivered_after_a_restart_is_answered_again_not_run_again(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """QoS 1 redelivers a command the lane had not acknowledged when it stopped: the lane started
    again on the same data directory answers it with the first result, and the arm stays shut."""
    config = _lane_config(tmp_path, broker)
    clock = FakeClock(OPENING)
    payload = command(Action.REMOTE_OPEN, now=clock.wall(), device=config.device_id)
    async with aiomqtt.Client(broker.host, broker.port, identifier="operator-cmd-restart") as operator:
        await operator.subscribe(topic_for(config.device_id, Channel.COMMAND_RESULT), qos=1)
        first, first_pulses, first_opens = await _a_lane_answers(config, clock, operator, payload)
        clock.advance(5)  # restarted by systemd a few seconds later
        again, again_pulses, again_opens = await _a_lane_answers(config, clock, operator, payload)
    assert (first.ok, first.detail, first_pulses, first_opens) == (True, "arm released", 1, 1)
    assert again == first
    assert (again_pulses, again_opens) == (0, 1)  # the journal holds the first run's open alone
