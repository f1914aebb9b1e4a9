"""The figures of the live screen (大屏, issue 15) of the city station or a district bureau: who is
on site now by district and by kind of enterprise, lanes online and offline, entries per hour
today. Each one short read through the account's project scope (a district sees its own)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import and_, select

from hub.auth.principal import Principal
from hub.auth.scope import project_clause
from hub.derive.days import local_day
from hub.oversight.queries import held_assignment, present
from hub.store import Store
from hub.store.schema import access_events, devices, enterprises, gates, presence, projects
from wire.clock import SITE_ZONE


@dataclass(frozen=True, slots=True)
class ScreenFigures:
    as_of: datetime
    on_site: int
    by_district: tuple[tuple[str, int], ...]
    """(district code, people on site), most first."""
    by_kind: tuple[tuple[str, int], ...]
    """(enterprise kind, people on site), most first."""
    lanes_online: int
    lanes_offline: int
    entries_per_hour: tuple[int, ...]
    """Granted ``in`` passages per site-local hour of today (24 values)."""


class Screen:
    """What ``principal`` may see of the whole record, counted (no person named)."""

    def __init__(self, store: Store, principal: Principal, *, offline_after: timedelta) -> None:
        self._store = store
        self._principal = principal
        self._offline_after = offline_after

    async def figures(self, now: datetime) -> ScreenFigures:
        held = held_assignment()
        p, a, e, pr = presence.c, held.c, enterprises.c, projects.c
        people = (
            select(p.project_id, p.person_id, pr.district, e.kind)
            .select_from(
                presence.join(held, and_(a.project_id == p.project_id, a.person_id == p.person_id))
                .join(enterprises, e.id == a.enterprise_id)
                .join(projects, pr.id == p.project_id)
            )
            .where(*present(p, a, now), project_clause(self._principal, p.project_id))
            # Latest assignment last: the dict below keeps it.
            .order_by(p.project_id, p.person_id, a.entry_date, a.id)
        )
        g, d = gates.c, devices.c
        lanes = (
            select(d.last_seen_at)
            .select_from(gates.outerjoin(devices, d.device_id == g.device_id))
            .where(g.kind == "lane", project_clause(self._principal, g.project_id))
        )
        ev = access_events.c
        start = datetime.combine(local_day(now), time(0), tzinfo=SITE_ZONE)
        entries = select(ev.wall_time).where(
            ev.direction == "in",
            ev.decision == "granted",
            ev.wall_time >= start,
            ev.wall_time < min(now, start + timedelta(days=1)) + timedelta(microseconds=1),
            ev.clock_suspect.is_(False),
            project_clause(self._principal, ev.project_id),
        )
        async with self._store.read("screen") as conn:
            on_site = {(r.project_id, r.person_id): r for r in (await conn.execute(people)).all()}
            seen = [r.last_seen_at for r in (await conn.execute(lanes)).all()]
            hours = Counter(r.wall_time.astimezone(SITE_ZONE).hour for r in await conn.execute(entries))
        cutoff = now - self._offline_after
        online = sum(1 for at in seen if at is not None and at >= cutoff)
        return ScreenFigures(
            as_of=now,
            on_site=len(on_site),
            by_district=_most_first(Counter(r.district for r in on_site.values())),
            by_kind=_most_first(Counter(r.kind for r in on_site.values())),
            lanes_online=online,
            lanes_offline=len(seen) - online,
            entries_per_hour=tuple(hours.get(hour, 0) for hour in range(24)),
        )


def _most_first(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
