"""Alerts that leave the building (hub.workflows.deliveries), on both stores, against a real HTTP
receiver (aiohttp, started here) and a real SMTP server (aiosmtpd, started here), each on a free
port: a webhook that fails twice gets the alert on the third try, the tries spaced by the backoff
on the injected clock; an e-mail in Chinese; a district's target only its district's alerts; and
nothing sent twice, after a delivery or across a restart of the hub (a new Deliveries on the same
database)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import re
import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiosmtpd.controller import Controller
from pydantic import ValidationError
from sqlalchemy import select

from hub.app import create_app
from hub.config import HubConfig
from hub.events.journal import store_events
from hub.store import Store
from hub.store.schema import alert_deliveries
from hub.workflows.alerts import AlertSettings
from hub.workflows.deliveries import Deliveries
from hub.workflows.delivery_senders import SIGNATURE_HEADER
from hub.workflows.delivery_settings import DeliverySettings, EmailTarget, SmtpSettings, WebhookTarget
from sitegate.mosquitto import Mosquitto
from sitegate.netutil import free_port
from tests.hub.clocked import NOON
from tests.hub.factories import make_event
from tests.hub.oversight import world as w
from tests.support.clock import FakeClock
from wire.models import Reason

SECRET = b"test-webhook-secret"
FIRST_RETRY_S = 30.0
ID_NUMBER = re.compile(r"\d{17}[\dXx]")


@dataclass
class Receiver:
    """Answers 503 to the first ``failures`` POSTs, then 200; keeps what it was sent."""

    failures: int
    calls: int = 0
    received: list[tuple[bytes, str | None]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        if self.calls <= self.failures:
            return web.Response(status=503)
        self.received.append((await request.read(), request.headers.get(SIGNATURE_HEADER)))
        return web.Response(status=204)


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's hook, named so
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    clock = FakeClock(NOON)
    async with await Store.open(database_url, clock=clock) as opened:
        await w.build(opened, clock.wall())
        hit = make_event(
            900, device_id="lane-a-in", project_id="proj-a", wall_time=clock.wall() - timedelta(minutes=20),
            granted=False, reason=Reason.WATCHLISTED,
        )  # fmt: skip
        await store_events(opened, [hit])
        yield opened


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    got = Receiver(failures=2)
    app = web.Application()
    app.router.add_post("/hook", got.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield got, f"http://127.0.0.1:{port}/hook"
    finally:
        await runner.cleanup()


@pytest.fixture
def mailbox() -> Any:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield box, controller.port
    finally:
        controller.stop()


def deliveries(store: Store, settings: DeliverySettings, clock: FakeClock) -> Deliveries:
    return Deliveries(store, settings, AlertSettings(), clock=clock, rng=random.Random(15))


async def test_a_webhook_that_fails_twice_gets_the_alert_on_the_third_try(
    store: Store, database_url: str, receiver: tuple[Receiver, str], tmp_path: Path
) -> None:
    got, url = receiver
    secret_file = tmp_path / "secret"
    secret_file.write_bytes(SECRET + b"\n")
    hook = WebhookTarget(url=url, secret_file=secret_file, kinds=("watchlist_hit",))
    settings = DeliverySettings(webhooks=(hook,), first_retry_s=FIRST_RETRY_S)
    clock = FakeClock(NOON)
    async with deliveries(store, settings, clock) as sender:
        assert await sender.run_once() == 0
        assert got.calls == 1
        # The first retry waits at least half of FIRST_RETRY_S (equal jitter): not sooner.
        clock.advance(FIRST_RETRY_S / 2 - 1)
        assert await sender.run_once() == 0
        assert got.calls == 1
        clock.advance(FIRST_RETRY_S / 2 + 1)  # the whole first ceiling has passed
        assert await sender.run_once() == 0
        assert got.calls == 2
        clock.advance(FIRST_RETRY_S - 1)  # the second retry waits at least half of 2 x FIRST_RETRY_S
        assert await sender.run_once() == 0
        assert got.calls == 2
        clock.advance(FIRST_RETRY_S + 1)
        assert await sender.run_once() == 1
        assert got.calls == 3
        clock.advance(3600)
        assert await sender.run_once() == 0  # delivered: not again
    assert got.calls == 3
    body, signature = got.received[0]
    assert signature == "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    sent = json.loads(body)
    assert (sent["kind"], sent["project_id"], sent["project_name"]) == (
        "watchlist_hit",
        "proj-a",
        "测试工程 proj-a",
    )
    async with store.read("test") as conn:
        row = (await conn.execute(select(alert_deliveries))).one()
    assert (row.attempts, row.channel, row.target, row.last_error) == (3, "webhook", url, None)
    assert row.delivered_at is not None

    # The hub restarts (a new store and a new Deliveries on the same database): nothing again.
    async with (
        await Store.open(database_url, clock=clock) as reopened,
        deliveries(reopened, settings, clock) as restarted,
    ):
        clock.advance(3600)
        assert await restarted.run_once() == 0
    assert got.calls == 3


async def test_an_email_in_chinese_reaches_the_district(store: Store, mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    smtp = SmtpSettings(host="127.0.0.1", port=port, sender="sitegate@hub.test")
    xihu = EmailTarget(to="duty@xihu.test", district=w.XIHU, kinds=("watchlist_hit",))
    gongshu = EmailTarget(to="duty@gongshu.test", district=w.GONGSHU, kinds=("watchlist_hit",))
    settings = DeliverySettings(smtp=smtp, emails=(xihu, gongshu))
    clock = FakeClock(NOON)
    async with deliveries(store, settings, clock) as sender:
        assert await sender.run_once() == 1
        assert await sender.run_once() == 0
    (mail,) = box.messages  # proj-a is in 西湖: 拱墅's bureau is sent nothing
    assert mail["To"] == "duty@xihu.test"
    assert mail["Subject"] == "【实名制预警】禁入人员刷卡：测试工程 proj-a"
    text = mail.get_content()
    assert "预警类型：禁入人员刷卡" in text
    assert "时间：" in text and "项目：测试工程 proj-a" in text
    assert not ID_NUMBER.search(text)


async def test_an_unreachable_target_is_kept_with_its_error(store: Store) -> None:
    hook = WebhookTarget(url=f"http://127.0.0.1:{free_port()}/nobody", kinds=("watchlist_hit",))
    clock = FakeClock(NOON)
    async with deliveries(store, DeliverySettings(webhooks=(hook,)), clock) as sender:
        assert await sender.run_once() == 0
    async with store.read("test") as conn:
        row = (await conn.execute(select(alert_deliveries))).one()
    assert row.attempts == 1 and row.delivered_at is None
    assert row.last_error and "ClientConnectorError" in row.last_error
    assert row.next_attempt_at > clock.wall()


@pytest.mark.broker
async def test_the_hub_delivers_in_the_background(
    store: Store, database_url: str, broker: Mosquitto, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    got.failures = 0
    hook = WebhookTarget(url=url, kinds=("watchlist_hit",))
    config = HubConfig(
        database_url=database_url,
        mqtt_host=broker.host,
        mqtt_port=broker.port,
        deliveries=DeliverySettings(webhooks=(hook,), interval_s=0.2),
    )
    async with TestClient(TestServer(create_app(config, clock=FakeClock(NOON)))):
        for _ in range(100):  # waits for the background task; asserts no time
            if got.received:
                break
            await asyncio.sleep(0.1)
    assert json.loads(got.received[0][0])["kind"] == "watchlist_hit"
    assert got.received[0][1] is None  # no secret: no signature


def test_targets_come_from_the_hubs_toml() -> None:
    config = HubConfig.model_validate(
        tomllib.loads(
            """
            [deliveries]
            interval_s = 30
            [deliveries.smtp]
            host = "smtp.example.org"
            port = 587
            starttls = true
            [[deliveries.webhooks]]
            url = "https://duty.example.org/hook"
            kinds = ["gate_offline"]
            [[deliveries.emails]]
            to = "duty@xihu.example.org"
            district = "330106"
            """
        )
    )
    (hook,), (mail,) = config.deliveries.webhooks, config.deliveries.emails
    assert (hook.kinds, hook.district) == (("gate_offline",), None)
    assert (mail.district, mail.kinds) == ("330106", ("watchlist_hit", "order_overdue", "gate_offline"))
    with pytest.raises(ValidationError):  # a kind that is not sent, a misspelt key
        HubConfig.model_validate(
            {"deliveries": {"webhooks": [{"url": "https://x.test", "kinds": ["lane_fault"]}]}}
        )
    with pytest.raises(ValidationError):
        HubConfig.model_validate({"deliveries": {"email": []}})
