"""The district bureaus' contacts (the notice's annex) on both stores: a bureau keeps and reads its
own district's, the city station reads and corrects every district's, no other role reads them;
each save is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from hub.auth.audit import AuditLog
from hub.refusals import Forbidden, UnknownReference
from hub.workflows.contacts import ContactIn, ContactRole, DistrictContacts, by_role
from tests.hub.oversight import world as w
from tests.hub.workflows.conftest import Api

LEADER = ContactIn(name="赵分管", title="副局长", phone="0571-87000001")
DAILY = ContactIn(name="钱联系", phone="13800000001")


async def test_a_bureau_keeps_its_own_and_the_city_reads_all(api: Api) -> None:
    now = api.clock.wall()
    xihu = DistrictContacts(api.store, api.principals["district-xihu"])
    gongshu = DistrictContacts(api.store, api.principals["district-gongshu"])
    city = DistrictContacts(api.store, api.principals["city"])
    await xihu.save(w.XIHU, ContactRole.LEADER_IN_CHARGE, LEADER, now=now)
    await xihu.save(w.XIHU, ContactRole.DAILY_CONTACT, DAILY, now=now)
    await gongshu.save(w.GONGSHU, ContactRole.DAILY_CONTACT, DAILY, now=now)

    with pytest.raises(Forbidden):
        await xihu.save(w.GONGSHU, ContactRole.DAILY_CONTACT, LEADER, now=now)
    assert {c.district for c in await xihu.contacts()} == {w.XIHU}
    assert await xihu.contacts(w.GONGSHU) == []
    everyone = await city.contacts()
    assert [(c.district, c.role) for c in everyone] == [
        (w.GONGSHU, ContactRole.DAILY_CONTACT),
        (w.XIHU, ContactRole.LEADER_IN_CHARGE),
        (w.XIHU, ContactRole.DAILY_CONTACT),
    ]

    # the city corrects a bureau's line: replaced, not doubled
    later = now + timedelta(minutes=5)
    fixed = ContactIn(name="孙联系", title="科员", phone="13800000002")
    await city.save(w.XIHU, ContactRole.DAILY_CONTACT, fixed, now=later)
    lines = by_role(await xihu.contacts())
    assert list(lines) == list(ContactRole)
    assert lines[ContactRole.DEPARTMENT_HEAD] is None
    daily = lines[ContactRole.DAILY_CONTACT]
    assert daily is not None and (daily.name, daily.title, daily.phone) == ("孙联系", "科员", "13800000002")
    assert daily.updated_at == later

    with pytest.raises(UnknownReference):
        await city.save("999999", ContactRole.DAILY_CONTACT, DAILY, now=now)


@pytest.mark.parametrize("who", ["gc-a", "sup-a", "ent-gc1", "operator"])
async def test_no_one_else_reads_them(api: Api, who: str) -> None:
    with pytest.raises(Forbidden):
        DistrictContacts(api.store, api.principals[who])


async def test_each_save_is_audited(api: Api) -> None:
    xihu = api.principals["district-xihu"]
    await DistrictContacts(api.store, xihu).save(
        w.XIHU, ContactRole.DEPARTMENT_HEAD, LEADER, now=api.clock.wall()
    )
    page = await AuditLog(api.store, xihu).lines()
    line = next(x for x in page.items if x.action == "contacts.save")
    assert line.target == f"{w.XIHU}/department_head"
    assert line.detail == {"name": "赵分管", "title": "副局长", "phone": "0571-87000001"}


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "", "phone": "13800000001"},
        {"name": "a\nb", "phone": "13800000001"},
        {"name": "x", "phone": "call me"},
        {"name": "x", "phone": "1"},
    ],
)
def test_a_line_needs_a_name_and_a_phone_number(fields: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        ContactIn(**fields)


@pytest.mark.parametrize(
    ("district", "role", "status"),
    [
        (w.XIHU, "a" * 65, 404),  # the fuzzer's: a 500 before (the role was not checked)
        (w.XIHU, "secretary", 404),
        ("0", "daily_contact", 422),  # no such district: the registry's refusal, naming the field
    ],
)
async def test_a_line_for_a_role_or_district_that_does_not_exist_is_refused_naming_it(
    api: Api, district: str, role: str, status: int
) -> None:
    code, body = await api.call(
        "city", "PUT", f"/api/v1/district-contacts/{district}/{role}", json=DAILY.model_dump()
    )
    assert code == status, body
    assert body["error"]["code"] in {"not_found", "unknown_district"}
