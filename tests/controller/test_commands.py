"""Commands executed once, refused when stale or misaddressed, answered every time."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

import pytest

from controller.commands import CommandHandler
from controller.service import LaneService
from tests.controller.test_service import lane_events, service  # noqa: F401 - the lane fixture
from wire.codec import decode, encode
from wire.commands import Action, Command, CommandResult
from wire.models import LaneEventType
from wire.topics import Channel


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
    return CommandHandler(service, outbox.send, restart=lambda: restarts.append(True)), outbox, restarts


async def test_remote_open_is_journaled_with_the_operator_and_releases_the_arm(handler, service) -> None:  # noqa: F811
    run, outbox, _ = handler
    payload = command(Action.REMOTE_OPEN, now=service.clock.wall())
    await run(payload)
    await run(payload)  # QoS 1 redelivery: answered again, not executed again
    assert [r.ok for r in outbox.results] == [True, True]
    assert outbox.results[0] == outbox.results[1]
    opened = [e for e in lane_events(service) if e.type is LaneEventType.REMOTE_OPEN]
    assert len(opened) == 1 and opened[0].operator == "gc-0042-op"
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
