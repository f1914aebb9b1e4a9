"""通报 and eligibility sanctions, on both stores: numbered per authority and year by the hub (the
year turning at 00:00 Beijing time on 1 January), distinct under concurrent issues, refused
outside the issuer's reach, and read only by the issuer and the parties they name."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from hub.refusals import NotAProjectLeader, OutsideDistrict, UnknownReference
from hub.workflows.bulletins import BulletinIn, Bulletins, PartyKind, authority_prefix, document_number
from hub.workflows.sanctions import SanctionIn, Sanctions
from tests.hub.workflows.conftest import Api
from wire.clock import SITE_ZONE

NEW_YEAR = datetime(2027, 1, 1, tzinfo=SITE_ZONE)


def _bulletin(*parties: tuple[str, str], kind: str = "criticism") -> BulletinIn:
    return BulletinIn.model_validate(
        {
            "kind": kind,
            "title": "关于拒不落实实名制管理的通报",
            "body": "经检查，该项目未按要求落实进离场读卡。",
            "parties": [{"kind": k, "id": i} for k, i in parties],
        }
    )


def _as(api: Api, who: str) -> Bulletins:
    return Bulletins(api.store, api.principals[who])


def test_numbers_and_prefixes() -> None:
    assert document_number(authority_prefix(None), 2026, 3) == "杭建实名通〔2026〕3号"
    assert document_number(authority_prefix("西湖区"), 2026, 12) == "西湖建实名通〔2026〕12号"
    assert authority_prefix("桐庐县") == "桐庐建实名通"


async def test_numbered_per_authority_and_year(api: Api) -> None:
    before = NEW_YEAR - timedelta(seconds=1)
    first = await _as(api, "city").issue(_bulletin(("project", "proj-a")), now=before)
    second = await _as(api, "city").issue(_bulletin(("enterprise", "ent-gc1")), now=before)
    xihu = await _as(api, "district-xihu").issue(_bulletin(("project", "proj-a")), now=before)
    turned = await _as(api, "city").issue(_bulletin(("project", "proj-a")), now=NEW_YEAR)
    # 00:00 Beijing is still 31 December in UTC: the site calendar decides
    assert NEW_YEAR.astimezone(UTC).year == 2026
    assert [b.number for b in (first, second, xihu, turned)] == [
        "杭建实名通〔2026〕1号",
        "杭建实名通〔2026〕2号",
        "西湖建实名通〔2026〕1号",
        "杭建实名通〔2027〕1号",
    ]
    assert (first.issued_on, turned.issued_on) == (date(2026, 12, 31), date(2027, 1, 1))
    assert (xihu.issuer_name, first.issuer_name) == ("西湖区住房和城乡建设局", "杭州市建设工程实名制管理站")
    assert [(p.kind, p.name) for p in second.parties] == [("enterprise", "西湖建工集团")]


async def test_concurrent_issues_get_distinct_numbers(api: Api) -> None:
    now = api.clock.wall()
    issued = await asyncio.gather(
        *(_as(api, "district-xihu").issue(_bulletin(("project", "proj-a")), now=now) for _ in range(6))
    )
    year = now.astimezone(SITE_ZONE).year
    assert sorted(b.number for b in issued) == sorted(f"西湖建实名通〔{year}〕{n}号" for n in range(1, 7))


async def test_who_reads_a_bulletin(api: Api) -> None:
    now = api.clock.wall()
    about_a = await _as(api, "district-xihu").issue(
        _bulletin(("project", "proj-a"), ("person", "per-m1"), kind="commendation"), now=now
    )
    about_sub = await _as(api, "district-gongshu").issue(_bulletin(("enterprise", "ent-sub1")), now=now)

    async def seen(who: str) -> set[int]:
        return {b.id for b in await _as(api, who).listing()}

    assert await seen("city") == {about_a.id, about_sub.id}
    assert await seen("district-xihu") == {about_a.id}
    assert await seen("district-gongshu") == {about_sub.id}
    assert await _as(api, "district-gongshu").get(about_a.id) is None
    assert await seen("gc-a") == await seen("sup-a") == {about_a.id}
    assert await seen("gc-b") == set()
    assert await seen("ent-gc1") == {about_a.id}  # its manager per-m1
    assert await seen("ent-sub1") == {about_sub.id}
    assert {b.id for b in await _as(api, "city").listing(party=("person", "per-m1"))} == {about_a.id}


async def test_what_a_bulletin_is_refused_for(api: Api) -> None:
    now = api.clock.wall()
    with pytest.raises(OutsideDistrict):
        await _as(api, "district-gongshu").issue(_bulletin(("project", "proj-a")), now=now)
    with pytest.raises(UnknownReference):
        await _as(api, "city").issue(_bulletin(("project", "proj-none")), now=now)
    with pytest.raises(NotAProjectLeader):
        await _as(api, "city").issue(_bulletin(("person", "per-w1")), now=now)
    assert await _as(api, "city").listing() == []  # nothing half-written, no number used


async def test_sanctions_in_force(api: Api) -> None:
    now = api.clock.wall()
    today = api.clock.today()
    bulletin = await _as(api, "district-xihu").issue(_bulletin(("project", "proj-a")), now=now)
    sanctions = Sanctions(api.store, api.principals["district-xihu"])
    recorded = await sanctions.record(
        SanctionIn(
            subject_kind=PartyKind.PROJECT,
            subject_id="proj-a",
            reason="拒不落实实名制管理",
            starts_on=today,
            ends_on=today + timedelta(days=365),
            bulletin_id=bulletin.id,
        ),
        now=now,
    )
    assert recorded.bulletin_number == bulletin.number
    await sanctions.record(
        SanctionIn.model_validate(
            {"subject_kind": "person", "subject_id": "per-m1", "reason": "x",
             "starts_on": today - timedelta(days=30), "ends_on": today - timedelta(days=1)}
        ),
        now=now,
    )  # fmt: skip
    reader = Sanctions(api.store, api.principals["gc-a"])
    assert list(await reader.in_force(PartyKind.PROJECT, ["proj-a", "proj-b"], on=today)) == ["proj-a"]
    assert await reader.in_force(PartyKind.PERSON, ["per-m1"], on=today) == {}
    with pytest.raises(OutsideDistrict):
        await Sanctions(api.store, api.principals["district-gongshu"]).record(
            SanctionIn.model_validate(
                {"subject_kind": "project", "subject_id": "proj-a", "reason": "x",
                 "starts_on": today, "ends_on": today}
            ),
            now=now,
        )  # fmt: skip
    with pytest.raises(ValueError, match="ends before"):
        SanctionIn.model_validate(
            {"subject_kind": "project", "subject_id": "proj-a", "reason": "x",
             "starts_on": today, "ends_on": today - timedelta(days=1)}
        )  # fmt: skip


async def test_over_http_a_bulletin_with_its_sanctions(api: Api) -> None:
    today = api.clock.today()
    body = {
        "kind": "criticism",
        "title": "关于拒不落实实名制管理的通报",
        "body": "现予通报批评。",
        "parties": [{"kind": "project", "id": "proj-a"}, {"kind": "person", "id": "per-m1"}],
        "sanction": {"reason": "拒不落实实名制管理", "ends_on": (today + timedelta(days=30)).isoformat()},
    }
    made = await api.ok("district-xihu", "POST", "/api/v1/bulletins", 201, json=body)
    assert made["issued_on"] == today.isoformat() and made["number"].startswith("西湖建实名通〔")
    for kind, subject in (("project", "proj-a"), ("person", "per-m1")):
        params = {"subject_kind": kind, "subject_id": subject}
        found = (await api.ok("gc-a", "GET", "/api/v1/sanctions", params=params))["items"]
        assert [(s["bulletin_number"], s["starts_on"]) for s in found] == [
            (made["number"], today.isoformat())
        ]
    past = {**body, "sanction": {"reason": "x", "ends_on": (today - timedelta(days=1)).isoformat()}}
    await api.error("city", "POST", "/api/v1/bulletins", 422, "deadline_in_past", json=past)
    assert [b["id"] for b in (await api.ok("city", "GET", "/api/v1/bulletins"))["items"]] == [made["id"]]
    await api.error("district-gongshu", "GET", f"/api/v1/bulletins/{made['id']}", 404, "not_found")
