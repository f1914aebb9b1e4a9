"""The national platform's attendance upload, anomaly alerts and heartbeat history, on both stores."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

from sqlalchemy import select

from hub.events.journal import store_events
from hub.store.schema import audit_log, heartbeat_history
from hub.workflows import alerts, national
from tests.hub.factories import make_event
from tests.hub.oversight import world as w
from tests.hub.workflows.conftest import Api
from wire.models import Heartbeat, ReaderState, Reason

UPLOAD = "/api/v1/projects/proj-a/worker-attendance"
DAYS = {"from": "2025-05-05", "to": "2025-05-06"}


def _number(person_id: str, api: Api) -> str:
    return api.world.id_numbers[list(w.PERSONS).index(person_id)]


async def test_worker_attendance_upload_shape_and_who_may_take_it(api: Api) -> None:
    body = await api.ok("gc-a", "GET", UPLOAD, params=DAYS)
    assert (body["projectCode"], body["projectCodeSource"], body["next_cursor"]) == ("proj-a", "hub", None)
    rows = body["dataList"]
    expected = [
        ("per-m1", "2025-05-05 07:30:00", "01"),
        ("per-w1", "2025-05-05 08:00:00", "01"),
        ("per-w2", "2025-05-05 09:00:00", "01"),
        ("per-w1", "2025-05-05 12:00:00", "02"),
        ("per-w1", "2025-05-05 13:00:00", "01"),
        ("per-w1", "2025-05-05 17:00:00", "02"),
        ("per-m1", "2025-05-05 18:30:00", "02"),
        ("per-w1", "2025-05-06 08:00:00", "01"),
        ("per-w1", "2025-05-06 16:00:00", "02"),
    ]
    assert [(r["idCardNumber"], r["date"], r["direction"]) for r in rows] == [
        (_number(p, api), when, d) for p, when, d in expected
    ]
    assert {r["idCardType"] for r in rows} == {"01"}
    assert set(rows[0]) == {
        "idCardType",
        "idCardNumber",
        "date",
        "direction",
        "channel",
    }  # the platform's keys

    # Paged: the same rows, in order, whatever the page size.
    paged, cursor = [], None
    while True:
        params = {**DAYS, "limit": "4", **({"cursor": cursor} if cursor else {})}
        page = await api.ok("city", "GET", UPLOAD, params=params)
        paged += page["dataList"]
        if (cursor := page["next_cursor"]) is None:
            break
    assert paged == rows

    assert len((await api.ok("district-xihu", "GET", UPLOAD, params=DAYS))["dataList"]) == 9
    await api.error("district-gongshu", "GET", UPLOAD, 404, "not_found", params=DAYS)
    await api.error("gc-b", "GET", UPLOAD, 404, "not_found", params=DAYS)
    for who in ("sub-a", "sup-a", "ent-gc1", "operator"):
        await api.error(who, "GET", UPLOAD, 403, "forbidden", params=DAYS)
    await api.error(
        "gc-a", "GET", UPLOAD, 400, "invalid_parameter", params={"from": "2025-05-01", "to": "2025-07-01"}
    )
    await api.error(
        "gc-a", "GET", UPLOAD, 400, "invalid_parameter", params={"from": "2025-05-06", "to": "2025-05-05"}
    )

    async with api.store.read("test") as conn:
        lines = (
            await conn.execute(
                select(audit_log.c.username, audit_log.c.target, audit_log.c.detail).where(
                    audit_log.c.action == "workflow.worker_attendance.export"
                )
            )
        ).all()
    assert ("gc-a", "project:proj-a", {"from": "2025-05-05", "to": "2025-05-06", "rows": 9}) in [
        tuple(line) for line in lines
    ]
    assert not any(number in json.dumps([line.detail for line in lines]) for number in api.world.id_numbers)


async def test_the_file_names_the_platforms_project_code_and_says_when_it_is_cut_short(api: Api) -> None:
    settings = {"variant": "provincial", "endpoint": "http://127.0.0.1:9/api", "project_code": "330106-PC-9",
                "appid": "a", "appsecret": "0123456789abcdef", "enabled": False}  # fmt: skip
    await api.ok("gc-a", "PUT", "/api/v1/projects/proj-a/platform", json=settings)
    body = await api.ok("gc-a", "GET", UPLOAD, params=DAYS)
    assert (body["projectCode"], body["projectCodeSource"]) == ("330106-PC-9", "platform")
    page = await api.ok("gc-a", "GET", UPLOAD, params={**DAYS, "limit": "4"})
    cut = national.as_download(
        {k: v for k, v in page.items() if k != "next_cursor"}, page["next_cursor"], "proj-a"
    )
    assert cut["truncated"] is True and len(cut["dataList"]) == 4
    assert str(cut["notice"]).startswith(
        "只导出了前 50000 条"
    ) and "/api/v1/projects/proj-a/worker-attendance" in str(cut["notice"])
    assert national.as_download(body, None, "proj-a")["truncated"] is False


async def test_alerts_computed_from_the_data(api: Api) -> None:
    """At 10:00 on the world's day: per-m2 never came (per-m1 came 07:30); every gate silent; one
    watchlist hit; each through the account's scope."""
    at_ten = w.at(w.DAY, 10)
    hit = make_event(
        900, device_id="lane-a-in", project_id="proj-a", wall_time=w.at(w.DAY, 9, 15),
        granted=False, reason=Reason.WATCHLISTED,
    )  # fmt: skip
    await store_events(api.store, [hit])
    settings = alerts.AlertSettings()
    found = {
        who: sorted(
            (a.kind, a.subject)
            for a in await alerts.Alerts(api.store, api.principals[who], settings).alerts(now=at_ten)
        )
        for who in ("city", "gc-a", "sub-a", "operator", "gc-b")
    }
    early = await alerts.Alerts(api.store, api.principals["city"], settings).alerts(now=w.at(w.DAY, 8, 59))
    strict = alerts.AlertSettings(manager_due_by=time(7, 0))
    late_comer = await alerts.Alerts(api.store, api.principals["gc-a"], strict).managers_absent(now=at_ten)
    gates_a = [("gate_offline", "lane-a-in"), ("gate_offline", "lane-a-out")]
    assert found["gc-a"] == sorted([("manager_absent", "per-m2"), *gates_a, ("watchlist_hit", "lane-a-in")])
    assert found["city"] == sorted([*found["gc-a"], ("gate_offline", "lane-b-in")])
    assert found["sub-a"] == gates_a  # its own people only: no manager of its, no unregistered card
    assert found["operator"] == sorted([*gates_a, ("gate_offline", "lane-b-in")])
    assert found["gc-b"] == [("gate_offline", "lane-b-in")]
    assert "manager_absent" not in {a.kind for a in early}
    assert sorted(a.subject for a in late_comer) == ["per-m1", "per-m2"]
    assert "came at 07:30" in next(a.message for a in late_comer if a.subject == "per-m1")

    # A gate heard from recently is not offline.
    await api.store.record_heartbeat(_beat("lane-a-in", at_ten), received_at=at_ten - timedelta(minutes=2))
    offline = await alerts.Alerts(api.store, api.principals["gc-a"], settings).gates_offline(now=at_ten)
    assert [a.subject for a in offline] == ["lane-a-out"]
    # Over HTTP: the operator gets gate alerts only, and everything has a kind and a message.
    body = await api.ok("operator", "GET", "/api/v1/alerts")
    assert {a["kind"] for a in body["items"]} == {"gate_offline"}
    assert all(a["message"] for a in body["items"])
    await api.error("gc-a", "GET", "/api/v1/alerts", 400, "unknown_parameter", params={"kind": "x"})


def _beat(device_id: str, sent_at: datetime, backlog: int = 0) -> Heartbeat:
    return Heartbeat(
        device_id=device_id, sent_at=sent_at, boot_id="boot-0001", uptime_s=60, free_disk_mb=900,
        journal_backlog=backlog, roster_version=3, reader_status={"id": ReaderState.OK}, clock_synced=True,
        software_version="0.1.0",
    )  # fmt: skip


async def test_heartbeat_history_is_one_point_a_minute_and_pruned(api: Api) -> None:
    now = api.clock.wall().replace(second=0, microsecond=0)
    old = now - timedelta(days=8)
    await api.store.record_heartbeat(_beat("lane-a-in", old), received_at=old)
    for seconds, backlog in ((5, 7), (35, 9), (65, 2)):
        when = now - timedelta(minutes=3) + timedelta(seconds=seconds)
        await api.store.record_heartbeat(
            _beat("lane-a-in", when - timedelta(seconds=1), backlog), received_at=when
        )
    async with api.store.read("test") as conn:
        minutes = (
            await conn.execute(select(heartbeat_history.c.minute).order_by(heartbeat_history.c.minute))
        ).all()
    assert len(minutes) == 2  # the 8-day-old row was pruned; two beats in one minute made one row
    body = await api.ok("operator", "GET", "/api/v1/devices/lane-a-in/heartbeats")
    points = body["points"]
    assert [p["journal_backlog"] for p in points] == [9, 2]  # the minute's latest beat wins
    assert points[0]["clock_skew_s"] == 1.0 and points[0]["readers_ok"] is True
    assert (await api.ok("gc-a", "GET", "/api/v1/devices/lane-a-in/heartbeats"))["points"] == points
    await api.error("gc-b", "GET", "/api/v1/devices/lane-a-in/heartbeats", 404, "not_found")
    await api.error("operator", "GET", "/api/v1/devices/lane-zz/heartbeats", 404, "not_found")
    await api.error(
        "operator",
        "GET",
        "/api/v1/devices/lane-a-in/heartbeats",
        400,
        "invalid_parameter",
        params={"hours": "0"},
    )
