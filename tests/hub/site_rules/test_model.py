"""The site rules' model: the lane's defaults, every refusal naming its field in Chinese first, and
the wire form the roster carries (which the lane reads back to the same policy)."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest
from pydantic import ValidationError

from controller.config import PolicyConfig
from controller.core.policy import AntiPassback, NightWork, TimeWindow
from controller.roster_rules import policy_of, rules_of
from hub.site_rules import DEFAULT_RULES, SiteRulesIn, problems_of
from wire.roles import RosterRole

PERMIT = {
    "permit": "杭夜施〔2026〕12号",
    "first_date": "2026-12-06",
    "last_date": "2026-12-08",
    "hours": "22:00-06:00",
}


def refused(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        SiteRulesIn.model_validate(data)
    return problems_of(caught.value)


def test_the_defaults_are_the_lanes_bootstrap_policy() -> None:
    assert policy_of(DEFAULT_RULES.to_wire()) == PolicyConfig().to_policy()


def test_the_wire_form_is_the_policy_the_lane_runs() -> None:
    rules = SiteRulesIn.model_validate(
        {
            "anti_passback": "soft",
            "accept_uid_only": True,
            "working_hours": {"worker": "07:00-19:00", "manager": "20:00-08:00"},
            "inside_expires_at": "03:00",
            "night_work": [PERMIT, {**PERMIT, "permit": "NW-2", "roles": ["manager"]}],
        }
    )
    policy = policy_of(rules.to_wire())
    assert policy.anti_passback is AntiPassback.SOFT and policy.accept_uid_only
    assert policy.working_hours[RosterRole.MANAGER] == TimeWindow(time(20), time(8))
    assert policy.inside_expires_at == time(3)
    assert policy.night_work == (
        NightWork("杭夜施〔2026〕12号", date(2026, 12, 6), date(2026, 12, 8), TimeWindow(time(22), time(6))),
        NightWork(
            "NW-2",
            date(2026, 12, 6),
            date(2026, 12, 8),
            TimeWindow(time(22), time(6)),
            frozenset({RosterRole.MANAGER}),
        ),
    )
    assert policy_of(rules_of(policy)) == policy  # the lane's roster file keeps them so


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"working_hours": {"worker": "6:00-20:00"}}, "working_hours.worker: 时段应写作 HH:MM-HH:MM"),
        ({"working_hours": {"worker": "20:00-20:00"}}, "working_hours.worker: 时段的开始和结束不能相同"),
        ({"working_hours": {"boss": "06:00-20:00"}}, "working_hours.boss.[key]: 人员类别应为"),
        ({"anti_passback": "strict"}, "anti_passback: 防反潜回模式应为 off、soft 或 hard"),
        ({"inside_expires_at": "24:00"}, "inside_expires_at: 时间应写作 HH:MM"),
        ({"accept_uid_only": "maybe"}, "accept_uid_only: 应为 true 或 false"),
        (
            {"night_work": [{**PERMIT, "last_date": "2026-12-05"}]},
            "night_work.0.last_date: 夜间施工的结束日期早于开始日期",
        ),
        (
            {"night_work": [{**PERMIT, "first_date": "2026-02-30"}]},
            "night_work.0.first_date: 应为日期 YYYY-MM-DD",
        ),
        (
            {"night_work": [{**PERMIT, "permit": ""}]},
            "night_work.0.permit: 许可证号应为 1 至 64 个可打印字符",
        ),
        (
            {"night_work": [{**PERMIT, "roles": ["worker", "worker"]}]},
            "night_work.0.roles: 同一人员类别不能重复",
        ),
        ({"night_work": [PERMIT, PERMIT]}, "night_work: 夜间施工许可证号重复"),
        ({"night_work": [{k: v for k, v in PERMIT.items() if k != "hours"}]}, "night_work.0.hours: 缺少此项"),
        ({"working_hour": {}}, "working_hour: 没有这一项"),
    ],
)
def test_each_refusal_names_its_field_in_chinese_first(data: dict[str, Any], problem: str) -> None:
    problems = refused(data)
    assert any(line.startswith(problem) for line in problems), problems
    assert all(line.endswith(")") and "(" in line for line in problems)  # the English follows


def test_a_put_names_every_rule_but_the_expiry() -> None:
    problems = refused({})
    assert problems == [
        f"{field}: 缺少此项 (Field required)"
        for field in ("anti_passback", "accept_uid_only", "working_hours", "night_work")
    ]


def test_a_refusal_never_quotes_the_input() -> None:
    problems = refused({"night_work": [{**PERMIT, "hours": "secret-22:00"}]})
    assert not any("secret" in line for line in problems)


def test_a_leap_day_permit_is_a_date_like_any_other() -> None:
    leap = {**PERMIT, "first_date": "2028-02-29", "last_date": "2028-02-29"}
    rules = SiteRulesIn.model_validate({**DEFAULT_RULES.model_dump(), "night_work": [leap]})
    assert rules.night_work[0].first_date == date(2028, 2, 29)
