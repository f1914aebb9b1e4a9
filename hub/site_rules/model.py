"""What a project's site rules are, checked before any I/O: one frozen pydantic model per write.

The defaults are the lane's own (``controller.config.PolicyConfig``): hard anti-passback, workers
06:00-20:00, other roles at any hour, no card UID alone, an unexited entry forgotten at the end of
the working day, no night work. Errors name the field and say what is wrong in Chinese first, then
in English (:func:`problems_of`), since the people who set these rules are site managers in
Hangzhou; the input is never quoted back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from wire.roster import (
    HOURS_PATTERN,
    MAX_NIGHT_WORK,
    TIME_OF_DAY_PATTERN,
    AntiPassbackMode,
    NightWorkWindow,
    RosterRole,
    RosterRules,
    hours_problem,
)

INVALID_SITE_RULES: Final = "invalid_site_rules"
"""The pydantic error type of every check written here (and the API's code for a refused write)."""

ROLE_NAMES: Final = {
    RosterRole.WORKER: "作业人员",
    RosterRole.MANAGER: "管理人员",
    RosterRole.SUPERVISOR: "监理人员",
    RosterRole.VISITOR: "访客",
}
DEFAULT_WORKING_HOURS: Final = {RosterRole.WORKER: "06:00-20:00"}
_PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")


def _refuse(chinese: str, english: str) -> PydanticCustomError:
    return PydanticCustomError(INVALID_SITE_RULES, f"{chinese} ({english})")


def _hours(value: object) -> object:
    if not isinstance(value, str) or re.fullmatch(HOURS_PATTERN, value) is None:
        raise _refuse("时段应写作 HH:MM-HH:MM（北京时间）", "hours must be HH:MM-HH:MM, site-local")
    if hours_problem(value) is not None:
        raise _refuse("时段的开始和结束不能相同", "the start and end of the hours are the same")
    return value


def _time_of_day(value: object) -> object:
    if value is not None and (not isinstance(value, str) or re.fullmatch(TIME_OF_DAY_PATTERN, value) is None):
        raise _refuse("时间应写作 HH:MM（北京时间）", "a time of day must be HH:MM, site-local")
    return value


def _anti_passback(value: object) -> object:
    if value not in ("off", "soft", "hard"):
        raise _refuse("防反潜回模式应为 off、soft 或 hard", "anti_passback must be off, soft or hard")
    return value


def _permit(value: object) -> object:
    if not isinstance(value, str) or _PRINTABLE.fullmatch(value) is None:
        raise _refuse("许可证号应为 1 至 64 个可打印字符", "permit must be 1 to 64 printable characters")
    return value


def _roles(value: tuple[RosterRole, ...]) -> tuple[RosterRole, ...]:
    if len(set(value)) != len(value):
        raise _refuse("同一人员类别不能重复", "a role is named twice")
    return value


Hours = Annotated[str, BeforeValidator(_hours)]
TimeOfDay = Annotated[str | None, BeforeValidator(_time_of_day)]


class _Model(BaseModel):
    # defer_build: a request's body, built on its first use, not at every hub's start
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True)


class NightWorkIn(_Model):
    """A night-work permit (夜间施工许可): admitted outside working hours, inside ``hours``, on the
    site-local dates ``first_date``..``last_date`` (a window across midnight counts for the date
    it starts on). ``roles`` empty: every role with working hours."""

    permit: Annotated[str, BeforeValidator(_permit)]
    first_date: date
    last_date: date
    hours: Hours
    roles: Annotated[tuple[RosterRole, ...], AfterValidator(_roles)] = ()

    @field_validator("last_date")
    @classmethod
    def _in_order(cls, value: date, info: ValidationInfo) -> date:
        first = info.data.get("first_date")
        if first is not None and value < first:
            raise _refuse("夜间施工的结束日期早于开始日期", "last_date is before first_date")
        return value


class SiteRulesIn(_Model):
    """A project's site rules, whole: a PUT replaces them all, so every field but
    ``inside_expires_at`` is required (a client that forgot ``night_work`` must not clear the
    permits). :data:`DEFAULT_RULES` are the lane's own defaults."""

    anti_passback: Annotated[AntiPassbackMode, BeforeValidator(_anti_passback)]
    accept_uid_only: bool
    working_hours: dict[RosterRole, Hours]
    """Roles absent have no hour limit (visitors are held to their pass window whatever this says)."""
    inside_expires_at: TimeOfDay = None
    """Site-local HH:MM after which an unexited entry stops counting; None: the end of the working day."""
    night_work: Annotated[tuple[NightWorkIn, ...], Field(max_length=MAX_NIGHT_WORK)]

    @field_validator("night_work")
    @classmethod
    def _permits_once(cls, value: tuple[NightWorkIn, ...]) -> tuple[NightWorkIn, ...]:
        numbers = [permit.permit for permit in value]
        if len(set(numbers)) != len(numbers):
            raise _refuse("夜间施工许可证号重复", "a night-work permit is listed twice")
        return value

    def to_wire(self) -> RosterRules:
        """What the roster carries to the lanes (signed with it)."""
        return RosterRules(
            anti_passback=self.anti_passback,
            accept_uid_only=self.accept_uid_only,
            working_hours=dict(sorted(self.working_hours.items())),
            inside_expires_at=self.inside_expires_at,
            night_work=tuple(
                NightWorkWindow(
                    permit=permit.permit,
                    first_date=permit.first_date,
                    last_date=permit.last_date,
                    hours=permit.hours,
                    roles=permit.roles,
                )
                for permit in self.night_work
            ),
        )


DEFAULT_RULES: Final = SiteRulesIn(
    anti_passback="hard", accept_uid_only=False, working_hours=DEFAULT_WORKING_HOURS, night_work=()
)
"""What a project's rules read as before any write: ``controller.config.PolicyConfig``'s defaults."""


@dataclass(frozen=True, slots=True)
class SiteRules:
    """A project's rules as read back: ``updated_by``/``updated_at`` None when never set (the
    defaults shown, and the lanes on their configuration's bootstrap policy)."""

    project_id: str
    rules: SiteRulesIn
    updated_by: str | None
    updated_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            **self.rules.model_dump(mode="json"),
            "updated_by": self.updated_by,
            "updated_at": None if self.updated_at is None else self.updated_at.isoformat(),
        }


_CHINESE: Final = {
    "missing": "缺少此项",
    "extra_forbidden": "没有这一项",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "date_type": "应为日期 YYYY-MM-DD",
    "date_parsing": "应为日期 YYYY-MM-DD",
    "date_from_datetime_parsing": "应为日期 YYYY-MM-DD",
    "date_from_datetime_inexact": "应为日期 YYYY-MM-DD",
    "enum": "人员类别应为 worker、manager、supervisor 或 visitor",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "tuple_type": "应为列表",
    "too_long": "项数过多",
}


def problems_of(err: ValidationError) -> list[str]:
    """Each problem as ``field.path: 中文 (English)``, Chinese first; never the input."""
    problems = []
    for problem in err.errors(include_input=False, include_url=False, include_context=False):
        where = ".".join(str(part) for part in problem["loc"]) or "body"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] != INVALID_SITE_RULES:
            chinese = _CHINESE.get(problem["type"], "取值无效")
            message = f"{chinese} ({message})"
        problems.append(f"{where}: {message}")
    return problems
