"""The site rules page's forms without a browser: what a form means as rules, each refusal beside
its field in the reader's language (the model's own words), the permits kept or changed."""

from __future__ import annotations

from hub.console.i18n import Locale
from hub.console.site_rules_form import add_night_work, general, in_language, remove_night_work, values_of
from hub.site_rules.model import DEFAULT_RULES
from wire.roles import RosterRole

NIGHT = {
    "night_permit": "夜施-001",
    "night_first_date": "2026-06-20",
    "night_last_date": "2026-06-21",
    "night_hours": "22:00-05:00",
    "night_role_worker": "1",
}


def test_the_model_speaks_the_readers_half() -> None:
    message = "时段应写作 HH:MM-HH:MM（北京时间） (hours must be HH:MM-HH:MM, site-local)"
    assert in_language(message, Locale.ZH_CN) == "时段应写作 HH:MM-HH:MM（北京时间）"
    assert in_language(message, Locale.EN) == "hours must be HH:MM-HH:MM, site-local"
    assert in_language("no English here", Locale.EN) == "no English here"


def test_the_general_form_keeps_the_permits_and_empty_hours_mean_no_limit() -> None:
    with_permit = add_night_work(NIGHT, DEFAULT_RULES, Locale.ZH_CN).rules
    assert with_permit is not None
    form = {
        "anti_passback": "soft",
        "accept_uid_only": "1",
        "inside_expires_at": " 21:30 ",
        "hours_worker": "22:00-06:00",
    }
    rules = general(form, with_permit, Locale.ZH_CN).rules
    assert rules is not None
    assert (rules.anti_passback, rules.accept_uid_only, rules.inside_expires_at) == ("soft", True, "21:30")
    assert rules.working_hours == {RosterRole.WORKER: "22:00-06:00"}
    assert [p.permit for p in rules.night_work] == ["夜施-001"]
    assert values_of(rules)["hours_manager"] == "" and values_of(rules)["accept_uid_only"] == "1"


def test_each_refusal_stands_beside_its_field() -> None:
    form = {
        "anti_passback": "maybe",
        "hours_worker": "25:00-26:00",
        "hours_visitor": "08:00-08:00",
        "inside_expires_at": "9pm",
    }
    outcome = general(form, DEFAULT_RULES, Locale.ZH_CN)
    assert outcome.rules is None
    assert outcome.errors == {
        "anti_passback": "防反潜回模式应为 off、soft 或 hard",
        "hours_worker": "时段应写作 HH:MM-HH:MM（北京时间）",
        "hours_visitor": "时段的开始和结束不能相同",
        "inside_expires_at": "时间应写作 HH:MM（北京时间）",
    }
    assert general(form, DEFAULT_RULES, Locale.EN).errors["hours_visitor"] == (
        "the start and end of the hours are the same"
    )


def test_a_permit_refused_beside_its_fields_then_added_then_removed() -> None:
    empty = add_night_work({}, DEFAULT_RULES, Locale.ZH_CN)
    assert set(empty.errors) == {"night_permit", "night_first_date", "night_last_date", "night_hours"}
    backwards = add_night_work({**NIGHT, "night_last_date": "2026-06-19"}, DEFAULT_RULES, Locale.ZH_CN)
    assert backwards.errors == {"night_last_date": "夜间施工的结束日期早于开始日期"}
    added = add_night_work(NIGHT, DEFAULT_RULES, Locale.ZH_CN).rules
    assert added is not None and added.night_work[0].roles == (RosterRole.WORKER,)
    twice = add_night_work(NIGHT, added, Locale.ZH_CN)
    assert twice.errors == {"night_permit": "夜间施工许可证号重复"}
    removed = remove_night_work({"permit": "夜施-001"}, added, Locale.ZH_CN).rules
    assert removed is not None and removed.night_work == ()
    assert remove_night_work({"permit": "another"}, added, Locale.ZH_CN).rules == added
