"""Alerts that leave the building (issue 15): watchlist hits, overdue rectification orders and
gates offline, sent to the webhooks and e-mail addresses of :mod:`hub.workflows.delivery_settings`.

Each (alert, target) is one row of ``alert_deliveries``, unique by alert key, channel and target,
so an alert is recorded once whoever sees it first and whenever the hub restarts. A row is tried
until delivered: a failed try waits with backoff (:func:`sitegate.backoff.backoff_delays`, equal
jitter) on the injected clock. A try first claims its row (moves ``next_attempt_at`` past the
try's own time limit), so two hub instances never send the same row at once. Sending and marking
delivered are two steps: a hub that dies between them sends that one alert again (at least once,
never lost). Each try is logged by alert key (kind, internal id, time), channel and target: no
name, no ID number.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import and_, select, update

from hub.auth.principal import Principal, Role
from hub.errors import HubError
from hub.http_client import HttpSession
from hub.store import Store
from hub.store.dialect import insert_for
from hub.store.schema import alert_deliveries, projects
from hub.workflows.alerts import Alerts, AlertSettings
from hub.workflows.delivery_senders import DeliveryFailed, email_of, post_webhook, send_email
from hub.workflows.delivery_settings import DeliverySettings
from hub.workflows.records import Alert
from sitegate.backoff import backoff_delays
from wire.clock import SITE_ZONE, Clock

log = logging.getLogger(__name__)

CLAIM: Final = timedelta(minutes=2)
"""How long a claimed row is left alone by others: longer than any one try may take."""
BATCH: Final = 100


@dataclass(frozen=True, slots=True)
class Target:
    channel: str
    """webhook | email"""
    address: str
    """The URL, or the e-mail address."""
    district: str | None
    kinds: tuple[str, ...]
    secret: bytes | None = None

    @property
    def principal(self) -> Principal:
        """Whom the target reads alerts as: the city station, or the district's bureau."""
        if self.district is None:
            return Principal(0, "alert-deliveries", Role.CITY)
        return Principal(0, "alert-deliveries", Role.DISTRICT, district=self.district)


def targets_of(settings: DeliverySettings) -> list[Target]:
    return [
        *(
            Target("webhook", t.url, t.district, t.kinds, _read(t.secret_file) if t.secret_file else None)
            for t in settings.webhooks
        ),
        *(Target("email", t.to, t.district, t.kinds) for t in settings.emails),
    ]


def _read(path: Path) -> bytes:
    return path.read_bytes().strip()


def alert_key(alert: Alert) -> str:
    """Stable across reads: the same hit, the same outage (since the gate was last heard), the
    same overdue order give the same key; a new outage a new one."""
    return f"{alert.kind}:{alert.subject}:{alert.at.isoformat() if alert.at else '-'}"[:200]


def payload_of(alert: Alert, project_name: str | None) -> dict[str, Any]:
    """What the target receives (JSON for a webhook; the e-mail is written from it). The person's
    name where the alert has one; never an ID number (no alert carries one)."""
    return {
        "key": alert_key(alert),
        "kind": alert.kind,
        "project_id": alert.project_id,
        "project_name": project_name,
        "at": alert.at.isoformat() if alert.at else None,
        "at_local": alert.at.astimezone(SITE_ZONE).strftime("%Y-%m-%d %H:%M") if alert.at else None,
        "name": alert.details.get("name"),
        "message": alert.message,
        "details": alert.details,
    }


class Deliveries:
    """Use as ``async with``: it holds the webhooks' HTTP session."""

    def __init__(
        self,
        store: Store,
        settings: DeliverySettings,
        alert_settings: AlertSettings,
        *,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._alert_settings = alert_settings
        self._clock = clock
        self._targets = {(t.channel, t.address): t for t in targets_of(settings)}
        self._delay = backoff_delays(
            rng or random.Random(), settings.first_retry_s, settings.max_retry_s, floor_share=0.5
        )
        smtp = settings.smtp
        self._smtp_password = _read(smtp.password_file).decode() if smtp.password_file else None
        self._http = HttpSession("Deliveries")

    async def __aenter__(self) -> Deliveries:
        await self._http.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.close()

    async def run_once(self) -> int:
        """Record the alerts raised since the last look; try every delivery that is due. Returns
        how many were delivered."""
        await self.record_new()
        return await self.send_due()

    async def record_new(self) -> int:
        """One row per (new alert, target); returns how many rows were new."""
        now = self._clock.wall()
        rows = []
        for target in self._targets.values():
            alerts = await self._alerts_for(target, now)
            names = await self._project_names({a.project_id for a in alerts if a.project_id})
            rows += [
                {
                    "alert_key": alert_key(alert),
                    "channel": target.channel,
                    "target": target.address,
                    "payload": payload_of(alert, names.get(alert.project_id or "")),
                    "attempts": 0,
                    "created_at": now,
                    "next_attempt_at": now,
                }
                for alert in alerts
            ]
        if not rows:
            return 0
        async with self._store.write("alert_deliveries.record") as conn:
            insert = insert_for(conn.dialect.name)(alert_deliveries).on_conflict_do_nothing(
                index_elements=["alert_key", "channel", "target"]
            )
            result = await conn.execute(insert.returning(alert_deliveries.c.id), rows)
            return len(result.all())

    async def send_due(self) -> int:
        now = self._clock.wall()
        d = alert_deliveries.c
        due = (
            select(d.id, d.alert_key, d.channel, d.target, d.payload, d.attempts, d.next_attempt_at)
            .where(d.delivered_at.is_(None), d.next_attempt_at <= now)
            .order_by(d.next_attempt_at, d.id)
            .limit(BATCH)
        )
        async with self._store.read("alert_deliveries.due") as conn:
            rows = (await conn.execute(due)).all()
        delivered = 0
        for row in rows:
            target = self._targets.get((row.channel, row.target))
            if target is None:  # a target taken out of the configuration: its rows wait for it
                continue
            if not await self._claim(row.id, row.next_attempt_at, now):
                continue  # another instance has it
            delivered += await self._attempt(row, target, now)
        return delivered

    async def _attempt(self, row: Any, target: Target, now: datetime) -> int:
        attempt = row.attempts + 1
        d = alert_deliveries.c
        try:
            await self._send(target, row.payload)
        except DeliveryFailed as err:
            wait = self._delay(row.attempts)
            log.warning(
                "alert %s to %s %s: attempt %d failed (%s); next in %.0f s",
                row.alert_key, row.channel, row.target, attempt, err, wait,
            )  # fmt: skip
            values: dict[str, Any] = {
                "attempts": attempt,
                "next_attempt_at": now + timedelta(seconds=wait),
                "last_error": str(err)[:500],
            }
            sent = 0
        else:
            log.info(
                "alert %s to %s %s: delivered (attempt %d)", row.alert_key, row.channel, row.target, attempt
            )
            values = {"attempts": attempt, "delivered_at": self._clock.wall(), "last_error": None}
            sent = 1
        async with self._store.write("alert_deliveries.attempt") as conn:
            await conn.execute(update(alert_deliveries).where(d.id == row.id).values(**values))
        return sent

    async def _claim(self, row_id: int, seen: datetime, now: datetime) -> bool:
        d = alert_deliveries.c
        claim = (
            update(alert_deliveries)
            .where(and_(d.id == row_id, d.delivered_at.is_(None), d.next_attempt_at == seen))
            .values(next_attempt_at=now + CLAIM)
        )
        async with self._store.write("alert_deliveries.claim") as conn:
            return (await conn.execute(claim)).rowcount == 1

    async def _send(self, target: Target, payload: dict[str, Any]) -> None:
        if target.channel == "webhook":
            await post_webhook(self._http.session, target.address, payload, target.secret)
        else:
            smtp = self._settings.smtp
            await send_email(
                smtp, email_of(payload, sender=smtp.sender, to=target.address), self._smtp_password
            )

    async def _alerts_for(self, target: Target, now: datetime) -> list[Alert]:
        alerts = Alerts(self._store, target.principal, self._alert_settings)
        found: list[Alert] = []
        if "watchlist_hit" in target.kinds:
            found += await alerts.watchlist_hits(now=now)
        if "order_overdue" in target.kinds:
            found += await alerts.orders_overdue(now=now)
        if "gate_offline" in target.kinds:
            found += await alerts.gates_offline(now=now)
        return found

    async def _project_names(self, ids: Sequence[str] | set[str]) -> dict[str, str]:
        if not ids:
            return {}
        p = projects.c
        async with self._store.read("alert_deliveries.projects") as conn:
            rows = await conn.execute(select(p.id, p.name).where(p.id.in_(sorted(ids))))
            return {row.id: row.name for row in rows}


async def keep_delivering(deliveries: Deliveries, interval_s: float) -> None:
    """The hub's background task: a look every ``interval_s``; a failed look (the database away)
    is logged and the next one comes as usual."""
    while True:
        try:
            await deliveries.run_once()
        except HubError as err:
            log.error("alert deliveries: %s", err)
        await asyncio.sleep(interval_s)
