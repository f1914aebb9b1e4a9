"""Inspections by the authorities (hub.workflows.inspections), on both stores: who may record one
where (a bureau in its district, the city anywhere, supervision routine ones on its own project),
who sees it and its photos (the project's scope), and an order issued from it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.refusals import Forbidden, Invalid, Missing, OutsideDistrict
from hub.workflows import orders, photos
from hub.workflows.inspections import CHECKLIST, InspectionIn, Inspections, OwnProjectOnly, RoutineOnly
from hub.workflows.models import OrderIn
from tests.hub.workflows.conftest import Api

JPEG = b"\xff\xd8\xff\xe0" + b"\x01" * 40
PNG = b"\x89PNG\r\n\x1a\n" + b"\x02" * 40
OK = {"ok": True, "note": ""}


def _inspection(api: Api, project_id: str = "proj-a", kind: str = "special", **fields: Any) -> InspectionIn:
    checklist = {
        "network": OK, "filing": OK, "card_reads": {"ok": False, "note": "东门读卡器离线"},
        "attendance": OK, "managers_present": {"ok": False, "note": "项目经理未到岗"}, "employment": OK,
    }  # fmt: skip
    values = {
        "project_id": project_id, "kind": kind, "inspected_on": api.clock.today(),
        "checklist": checklist, "findings": "读卡与到岗有问题", **fields,
    }  # fmt: skip
    return InspectionIn.model_validate(values)


def _as(api: Api, who: str, tmp_path: Path) -> Inspections:
    return Inspections(api.store, api.principals[who], photos.PhotoStore(tmp_path / "photos"))


async def test_a_bureau_inspects_in_its_district_with_photos_and_its_scope_sees_them(
    api: Api, tmp_path: Path
) -> None:
    now = api.clock.wall()
    shots = [photos.checked(JPEG), photos.checked(PNG)]
    made = await _as(api, "district-xihu", tmp_path).record(_inspection(api), shots, now=now)
    assert (made.kind, made.project_name, made.account) == ("special", "测试工程 proj-a", "district-xihu")
    assert made.problems() == [("card_reads", "东门读卡器离线"), ("managers_present", "项目经理未到岗")]
    assert [p.content_type for p in made.photos] == ["image/jpeg", "image/png"]
    assert sorted(p.name for p in (tmp_path / "photos").iterdir()) == sorted(p.sha256 for p in made.photos)

    first = made.photos[0]
    for who in ("city", "district-xihu", "gc-a", "sup-a"):
        seen = _as(api, who, tmp_path)
        assert made.id in [i.id for i in await seen.listing()], who
        assert await seen.photo(made.id, first.id) == (first, JPEG), who
    for who in ("district-gongshu", "gc-b"):
        seen = _as(api, who, tmp_path)
        assert await seen.listing() == [], who
        with pytest.raises(Missing):
            await seen.photo(made.id, first.id)
    with pytest.raises(Missing):  # a photo of another inspection is not this one's
        await _as(api, "city", tmp_path).photo(made.id, first.id + 100)


async def test_who_may_record_what(api: Api, tmp_path: Path) -> None:
    now = api.clock.wall()
    with pytest.raises(OutsideDistrict):
        await _as(api, "district-gongshu", tmp_path).record(_inspection(api), [], now=now)
    city = await _as(api, "city", tmp_path).record(_inspection(api, "proj-b", "unannounced"), [], now=now)
    assert (city.project_id, city.kind) == ("proj-b", "unannounced")
    supervision = _as(api, "sup-a", tmp_path)
    with pytest.raises(RoutineOnly):
        await supervision.record(_inspection(api), [], now=now)
    with pytest.raises(OwnProjectOnly):
        await supervision.record(_inspection(api, "proj-b", "routine"), [], now=now)
    routine = await supervision.record(_inspection(api, kind="routine"), [], now=now)
    assert routine.kind == "routine"
    for who in ("gc-a", "ent-gc1", "operator"):
        with pytest.raises(Forbidden):
            await _as(api, who, tmp_path).record(_inspection(api), [], now=now)
    tomorrow = _inspection(api, inspected_on=api.clock.today() + timedelta(days=1))
    with pytest.raises(Invalid):  # no inspection dated after today
        await _as(api, "city", tmp_path).record(tomorrow, [], now=now)


async def test_eleven_photos_are_refused_and_nothing_is_recorded(api: Api, tmp_path: Path) -> None:
    many = [photos.checked(JPEG)] * (photos.MAX_PHOTOS + 1)
    with pytest.raises(photos.PhotoRefused):
        await _as(api, "city", tmp_path).record(_inspection(api), many, now=api.clock.wall())
    assert await _as(api, "city", tmp_path).listing() == []


def test_a_problem_needs_a_note() -> None:
    checklist = {item: {"ok": item != "filing"} for item in CHECKLIST}
    values = {"project_id": "proj-a", "kind": "routine", "inspected_on": "2025-05-05", "findings": "x"}
    with pytest.raises(ValueError, match="note"):
        InspectionIn.model_validate({**values, "checklist": checklist})


async def test_an_order_from_an_inspection_records_it_and_the_inspection_lists_it(
    api: Api, tmp_path: Path
) -> None:
    now = api.clock.wall()
    made = await _as(api, "district-xihu", tmp_path).record(_inspection(api), [], now=now)
    deadline = api.clock.today() + timedelta(days=7)
    issuer = orders.Orders(api.store, api.principals["district-xihu"])
    order_in = OrderIn(
        project_id="proj-a", subject="整改", requirements="补录", deadline=deadline, inspection_id=made.id
    )
    order = await issuer.issue(order_in, now=now)
    assert order.inspection_id == made.id
    assert (await _as(api, "gc-a", tmp_path).get(made.id)).order_ids == (order.id,)
    with pytest.raises(Missing):
        await _as(api, "district-gongshu", tmp_path).get(made.id)
    other = OrderIn(
        project_id="proj-c", subject="整改", requirements="补录", deadline=deadline, inspection_id=made.id
    )
    with pytest.raises(Invalid):  # an inspection of another project
        await issuer.issue(other, now=now)
