"""hub.console.bulletin_form: the new 通报 form as BulletinIn's data, recipients picked by name or
number, a sanction when its last day is given, each problem beside its field."""

from __future__ import annotations

from hub.console.bulletin_form import NO_RECIPIENT, bulletin_data
from hub.workflows.bulletins import BulletinIn
from tests.console.test_oversight_forms import ENTERPRISES, LEADERS, PROJECTS, same

TEXT = {"kind": "criticism", "title": "关于拒不落实实名制管理的通报", "body": "现予通报批评。"}


def test_a_project_and_its_manager_by_name_with_a_sanction() -> None:
    form = {**TEXT, "project": "3301002025010001", "leader": "刘静", "sanction_until": "2026-12-31"}
    data, picking = bulletin_data(form, PROJECTS, ENTERPRISES, LEADERS, same)
    assert picking.ok
    valid = BulletinIn.model_validate(data)
    assert [(p.kind.value, p.id) for p in valid.parties] == [("project", "proj-a"), ("person", "per-m1")]
    assert valid.sanction is not None and valid.sanction.reason == TEXT["title"]  # the title when none given


def test_an_enterprise_by_its_code_without_a_sanction() -> None:
    data, picking = bulletin_data(
        {**TEXT, "enterprise": "91330106MA2B3C4D5E"}, PROJECTS, ENTERPRISES, {}, same
    )
    assert picking.ok and "sanction" not in data
    assert data["parties"] == [{"kind": "enterprise", "id": "ent-gc1"}]


def test_nobody_named_is_said_beside_the_project_keeping_what_was_typed() -> None:
    _, picking = bulletin_data(TEXT, PROJECTS, ENTERPRISES, {}, same)
    assert picking.entered.errors == {"project": NO_RECIPIENT}
    assert picking.entered.get("title") == TEXT["title"]


def test_a_manager_without_a_project_asks_for_the_project() -> None:
    _, picking = bulletin_data({**TEXT, "leader": "刘静"}, PROJECTS, ENTERPRISES, LEADERS, same)
    assert set(picking.entered.errors) == {"project"}
    assert NO_RECIPIENT not in picking.entered.errors.values()
