"""hub.console.oversight_forms: the order and deduction forms as the workflows' data, each
problem beside its field and what was typed kept (the gettext here is the identity: the words
are checked in Chinese by the browser tests)."""

from __future__ import annotations

from hub.console.oversight_forms import NOT_FOUND, SEVERAL, deduction_data, order_data, review_data
from hub.console.pickers import Candidate

PROJECTS = [
    Candidate("proj-a", "西湖文化广场", ("3301002025010001",), "3301002025010001"),
    Candidate("proj-c", "西湖公园改造", ("3301002025010003",), "3301002025010003"),
]
ENTERPRISES = [
    Candidate("ent-gc1", "西湖建工集团", ("91330106MA2B3C4D5E",), "91330106MA2B3C4D5E"),
    Candidate("ent-t1", "运河建设公司", ("91330110AAAAAAAA1X",), "91330110AAAAAAAA1X"),
    Candidate("ent-t2", "运河建设公司", ("91330110BBBBBBBB2Y",), "91330110BBBBBBBB2Y"),
]
LEADERS = {"proj-a": [Candidate("per-m1", "刘静", (), "项目经理 · 西湖建工集团")]}
ORDER = {"subject": "考勤记录不全", "requirements": "补录", "deadline": "2025-05-20"}
DEDUCTION = {"points": "3", "reason": "项目经理不在岗"}


def same(text: str) -> str:
    return text


def test_an_order_to_a_project_picked_by_its_permit_number() -> None:
    data, picking = order_data({**ORDER, "project": "3301002025010003"}, PROJECTS, ENTERPRISES, same)
    assert picking.ok
    assert data == {**ORDER, "project_id": "proj-c"}


def test_an_order_to_an_enterprise_picked_from_the_select() -> None:
    data, picking = order_data({**ORDER, "enterprise_pick": "ent-gc1"}, PROJECTS, ENTERPRISES, same)
    assert picking.ok and data["enterprise_id"] == "ent-gc1" and "project_id" not in data


def test_an_order_to_nobody_says_so_beside_the_project_keeping_what_was_typed() -> None:
    _, picking = order_data(ORDER, PROJECTS, ENTERPRISES, same)
    assert picking.entered.errors == {"project": "Pick the project or the enterprise the order is to."}
    assert picking.entered.get("subject") == "考勤记录不全"


def test_an_order_to_both_a_project_and_an_enterprise_is_refused_beside_the_enterprise() -> None:
    form = {**ORDER, "project": "西湖文化广场", "enterprise": "西湖建工集团"}
    _, picking = order_data(form, PROJECTS, ENTERPRISES, same)
    assert set(picking.entered.errors) == {"enterprise"}


def test_an_ambiguous_enterprise_offers_its_choices_beside_it() -> None:
    _, picking = order_data({**ORDER, "enterprise": "运河建设公司"}, PROJECTS, ENTERPRISES, same)
    assert picking.entered.errors == {"enterprise": SEVERAL}
    assert [c.key for c in picking.widgets["enterprise"].choices] == ["ent-t1", "ent-t2"]
    assert picking.entered.get("enterprise") == "运河建设公司"


def test_an_enterprise_picked_from_the_choices_is_kept_as_its_label() -> None:
    form = {**ORDER, "enterprise": "运河建设公司", "enterprise_pick": "ent-t2", "deadline": ""}
    data, picking = order_data(form, PROJECTS, ENTERPRISES, same)
    assert data["enterprise_id"] == "ent-t2"
    assert picking.entered.get("enterprise") == "运河建设公司（91330110BBBBBBBB2Y）"


def test_a_deduction_from_a_project_leader_by_name() -> None:
    form = {**DEDUCTION, "project": "西湖文化广场", "leader": "刘静", "order": "7"}
    data, picking = deduction_data(form, PROJECTS, ENTERPRISES, LEADERS, same)
    assert picking.ok
    assert data == {**DEDUCTION, "person_id": "per-m1", "project_id": "proj-a", "order_id": "7"}


def test_a_leader_with_no_project_asks_for_the_project() -> None:
    form = {**DEDUCTION, "leader": "刘静"}
    _, picking = deduction_data(form, PROJECTS, ENTERPRISES, LEADERS, same)
    assert picking.entered.errors == {"project": "Pick the project the leader leads."}
    assert picking.entered.get("leader") == "刘静"


def test_a_leader_not_managing_the_project_is_not_found_beside_the_leader() -> None:
    form = {**DEDUCTION, "project_pick": "proj-c", "leader": "刘静"}
    _, picking = deduction_data(form, PROJECTS, ENTERPRISES, LEADERS, same)
    assert picking.entered.errors == {"leader": NOT_FOUND["leader"]}
    assert not picking.widgets["leader"].is_select


def test_a_deduction_from_nobody_asks_for_the_enterprise() -> None:
    _, picking = deduction_data(DEDUCTION, PROJECTS, ENTERPRISES, LEADERS, same)
    assert picking.entered.errors == {"enterprise": "Pick the enterprise, or a project leader below."}


def test_an_unknown_enterprise_is_not_found_beside_it() -> None:
    _, picking = deduction_data({**DEDUCTION, "enterprise": "滨江建工"}, PROJECTS, ENTERPRISES, LEADERS, same)
    assert picking.entered.errors == {"enterprise": NOT_FOUND["enterprise"]}
    assert picking.entered.get("enterprise") == "滨江建工"


def test_a_deduction_from_both_an_enterprise_and_a_leader_is_refused_beside_the_leader() -> None:
    form = {**DEDUCTION, "enterprise": "西湖建工集团", "project": "西湖文化广场", "leader": "刘静"}
    _, picking = deduction_data(form, PROJECTS, ENTERPRISES, LEADERS, same)
    assert set(picking.entered.errors) == {"leader"}


def test_a_review_sending_back_without_a_note_asks_for_one_beside_the_note() -> None:
    data, picking = review_data({"verdict": "reject", "new_deadline": "2025-06-01"}, same)
    assert picking.entered.errors == {
        "note": "Sending a response back needs a note saying what is still wrong."
    }
    assert picking.entered.get("new_deadline") == "2025-06-01"
    assert data["accept"] == "false"


def test_a_review_accepting_with_a_new_deadline_is_refused_beside_it() -> None:
    _, picking = review_data({"verdict": "accept", "note": "同意", "new_deadline": "2025-06-01"}, same)
    assert set(picking.entered.errors) == {"new_deadline"}


def test_a_review_sent_back_with_a_note_and_a_deadline() -> None:
    form = {"verdict": "reject", "note": "仍缺记录", "new_deadline": "2025-06-01"}
    data, picking = review_data(form, same)
    assert picking.ok
    assert data == {"accept": "false", "note": "仍缺记录", "new_deadline": "2025-06-01"}
