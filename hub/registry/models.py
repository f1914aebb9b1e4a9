"""What a registry write takes: one frozen pydantic model per write, checked before any I/O.

Every model forbids unknown fields (a misspelt ``exit_date`` must not be silently dropped) and
hides input values from its validation errors: a refused registration would otherwise carry the
ID number in the error's text, and errors end up in logs.

Checks that need no database live here (formats, check digits, dates in order); the registry
checks the rest (that referenced rows exist, that dates do not overlap stored ones).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from hub.auth.accounts import USERNAME_PATTERN
from hub.auth.passwords import MAX_PASSWORD_LENGTH, WeakPassword, check_strength
from hub.refusals import (
    BIRTH_DATE_MISMATCH,
    EXIT_BEFORE_ENTRY,
    GATE_DIRECTION_BOTH,
    GATE_DIRECTION_KIND,
    INVALID_ENTERPRISE_NUMBER,
    INVALID_ID_NUMBER,
)
from hub.registry.uscc import uscc_problem
from wire.idnumber import validate_foreigner_number, validate_id_number
from wire.models import DEVICE_ID_PATTERN, CardKind, Label, ProjectId
from wire.roster import RosterRole, window_problem

_PRINTABLE: Final = r"^[^\x00-\x1f\x7f]+$"
DistrictCode = Annotated[str, Field(pattern=r"^[0-9]{6}$")]
"""A GB/T 2260 administrative division code (Hangzhou's districts are 3301xx)."""
RowId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]
"""An enterprise's or person's id as the registry mints them (``ent-…``, ``per-…``)."""
PermitNumber = Annotated[str, Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z-]{5,63}$")]


def _text(max_length: int) -> object:
    return Field(min_length=1, max_length=max_length, pattern=_PRINTABLE)


def _strong(value: SecretStr) -> SecretStr:
    try:
        check_strength(value.get_secret_value())
    except WeakPassword as err:
        raise ValueError(str(err)) from None
    return value


Password = Annotated[SecretStr, Field(max_length=MAX_PASSWORD_LENGTH), AfterValidator(_strong)]
Name64 = Annotated[str, _text(64)]
Name128 = Annotated[str, _text(128)]
Text200 = Annotated[str, _text(200)]


class EnterpriseKind(StrEnum):
    GENERAL_CONTRACTOR = "general_contractor"  # 施工总包
    PROFESSIONAL_SUBCONTRACTOR = "professional_subcontractor"  # 专业分包
    LABOUR_SUBCONTRACTOR = "labour_subcontractor"  # 劳务分包
    SUPERVISION = "supervision"  # 监理


SUBCONTRACTOR_KINDS: Final = frozenset(
    {EnterpriseKind.PROFESSIONAL_SUBCONTRACTOR, EnterpriseKind.LABOUR_SUBCONTRACTOR}
)


class Position(StrEnum):
    """Managers' positions (管理人员岗位)."""

    PROJECT_MANAGER = "project_manager"  # 项目经理
    TECHNICAL_LEAD = "technical_lead"  # 技术负责人
    CONSTRUCTION_WORKER_LEAD = "construction_worker_lead"  # 施工员
    SAFETY_OFFICER = "safety_officer"  # 安全员
    QUALITY_OFFICER = "quality_officer"  # 质量员
    MATERIALS_OFFICER = "materials_officer"  # 材料员
    DOCUMENTATION_OFFICER = "documentation_officer"  # 资料员
    LABOUR_OFFICER = "labour_officer"  # 劳资专管员
    CHIEF_SUPERVISOR = "chief_supervisor"  # 总监理工程师
    SUPERVISOR_ENGINEER = "supervisor_engineer"  # 监理工程师


PersonCardKind = Literal["resident", "hmt_residence_permit", "foreigner_2017", "foreigner_2023"]
"""The cards a person registers with; a bare card UID is a credential, not an identity."""
_GB11643_KINDS: Final = frozenset({"resident", "hmt_residence_permit", "foreigner_2023"})
"""Card numbers in the GB 11643 layout: the holder's birth date at positions 7-14."""


class In(BaseModel):
    # defer_build: each form's validator is built on its first use, not at the hub's start (~35
    # forms, registry and workflows, most of which a hub started for a test never sees).
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True)


class AccountIn(In):
    """An account a registration step hands out (the enterprise's, a project department's)."""

    username: Annotated[str, Field(pattern=USERNAME_PATTERN.pattern)]
    password: Password


class DistrictIn(In):
    code: DistrictCode
    name: Name64


class EnterpriseIn(In):
    number: str
    """企业编号, the unified social credit code: also the username of the enterprise's account."""
    name: Name128
    kind: EnterpriseKind
    district: DistrictCode
    """Where it is registered; for an enterprise from outside the city, the bureau where it works."""
    local: bool
    password: Password
    """The enterprise account's initial password."""

    @field_validator("number")
    @classmethod
    def _uscc(cls, value: str) -> str:
        problem = uscc_problem(value)
        if problem is not None:
            raise PydanticCustomError(
                INVALID_ENTERPRISE_NUMBER, "not a unified social credit code: {problem}", {"problem": problem}
            )
        return value


class PersonCategory(StrEnum):
    WORKER = "worker"  # 作业人员备案
    MANAGER = "manager"  # 管理人员信息登记


class PersonIn(In):
    # Field order matters: each validator sees the fields declared before it (info.data).
    card_kind: PersonCardKind
    id_number: Annotated[str, Field(min_length=1, max_length=32, repr=False)]
    name: Name64
    nation: Annotated[str, _text(32)] | None = None
    birth_date: date | None = None
    """Optional for GB 11643-layout cards (taken from the number), else as printed on the card."""
    enterprise_id: RowId
    category: PersonCategory
    position: Annotated[Position | None, Field(validate_default=True)] = None
    """Required for managers, absent for workers."""

    @field_validator("id_number")
    @classmethod
    def _valid_number(cls, value: str, info: ValidationInfo) -> str:
        number = value.strip()
        card_kind = info.data.get("card_kind")
        if card_kind is None:  # card_kind itself failed: its own error says so
            return number
        problem = id_number_problem(number, card_kind)
        if problem is not None:
            raise PydanticCustomError(INVALID_ID_NUMBER, "invalid ID number: {problem}", {"problem": problem})
        return number

    @field_validator("birth_date")
    @classmethod
    def _agrees(cls, value: date | None, info: ValidationInfo) -> date | None:
        number, card_kind = info.data.get("id_number"), info.data.get("card_kind")
        printed = None if number is None or card_kind is None else id_birth_date(number, card_kind)
        if value is not None and printed is not None and printed != value:
            raise PydanticCustomError(
                BIRTH_DATE_MISMATCH, "does not match the birth date in the ID number (positions 7-14)"
            )
        return value

    @field_validator("position")
    @classmethod
    def _position(cls, value: Position | None, info: ValidationInfo) -> Position | None:
        category = info.data.get("category")
        if category is PersonCategory.MANAGER and value is None:
            raise ValueError("a manager registration needs a position")
        if category is PersonCategory.WORKER and value is not None:
            raise ValueError("only managers have a position")
        return value

    @property
    def effective_birth_date(self) -> date | None:
        return self.birth_date or id_birth_date(self.id_number, self.card_kind)


class PersonLookupIn(In):
    """An ID number to find a registered person by (the blind index normalises it)."""

    id_number: Annotated[str, Field(min_length=1, max_length=32, repr=False)]


def id_number_problem(number: str, card_kind: str) -> str | None:
    """wire.idnumber's verdict for the card kind: positions and reasons, never the number."""
    kind = CardKind(card_kind)
    if kind in (CardKind.FOREIGNER_2017, CardKind.FOREIGNER_2023):
        return validate_foreigner_number(number, kind)
    return validate_id_number(number)


def id_birth_date(number: str, card_kind: str) -> date | None:
    """The birth date a valid GB 11643-layout number carries (positions 7-14), else None."""
    if card_kind not in _GB11643_KINDS or id_number_problem(number, card_kind) is not None:
        return None
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


class WatchlistIn(In):
    flag: bool
    reason: Text200 | None = None
    """Required when flagging: whoever reads the flag at the gate needs to know why."""

    @model_validator(mode="after")
    def _reason_when_flagged(self) -> WatchlistIn:
        if self.flag and self.reason is None:
            raise ValueError("reason: flagging a person needs a reason")
        return self


class ProjectIn(In):
    id: ProjectId | None = None
    """The id lanes are provisioned with; minted by the registry when omitted."""
    permit_number: PermitNumber
    """施工许可证编号."""
    name: Name128
    district: DistrictCode
    address: Text200
    gc_enterprise_id: RowId
    permit_issued_on: date


class RegistrationIn(In):
    """报备: the general contractor's account for its project department."""

    account: AccountIn


class PartyRole(StrEnum):
    SUBCONTRACTOR = "subcontractor"
    SUPERVISION = "supervision"


class PartyIn(In):
    enterprise_id: RowId
    role: PartyRole
    account: AccountIn
    """The project department's account (sub_project or supervision_project)."""


class AssignmentIn(In):
    person_id: RowId
    enterprise_id: RowId
    role: RosterRole
    entry_date: date  # 进场
    exit_date: date | None = None  # 退场
    pass_from: AwareDatetime | None = None
    """A visitor's pass window (role ``visitor`` only; both or neither, with their time zones):
    the lanes admit the visitor from ``pass_from`` until ``pass_until``, whatever the working
    hours. A visitor without one is refused at the gate as outside hours."""
    pass_until: AwareDatetime | None = None
    team_id: RowId | None = None
    """班组: a team of the assignment's enterprise on the project (hub.registry.teams)."""

    @model_validator(mode="after")
    def _in_order(self) -> AssignmentIn:
        if self.exit_date is not None and self.exit_date < self.entry_date:
            raise PydanticCustomError(EXIT_BEFORE_ENTRY, "exit_date is before entry_date")
        problem = _pass_window_problem(self.role, self.pass_from, self.pass_until)
        if problem is not None:
            raise ValueError(problem)
        return self


def _pass_window_problem(role: str, start: datetime | None, end: datetime | None) -> str | None:
    if start is None and end is None:
        return None
    if role != "visitor":
        return f"pass_from, pass_until: only a visitor's assignment has a pass window, not a {role}'s"
    if start is None or end is None:
        return "pass_from, pass_until: a pass window needs both ends"
    return window_problem(start, end)


class AssignmentExit(In):
    """退场: the only change an assignment takes after creation."""

    exit_date: date


class GateDirection(StrEnum):
    """The one way a gate's lane lets people through: a lane controller drives one direction.

    A ``both`` gate is refused here, up front, rather than accepted and then refused when its lane
    enrols (issue 14). Databases from before may still hold ``both`` rows: attribution
    (:mod:`hub.events.attribution`) and the site map still read them as either way, and enrolment
    refuses them with ``gate_direction`` until the gate is placed again with ``in`` or ``out``."""

    IN = "in"
    OUT = "out"


class GateKind(StrEnum):
    """What stands at a gate: a turnstile lane, or the site office's card reader (进场/离场登记,
    :mod:`hub.registration_reads`), which reads cards for the console's form and passes nobody.
    The registry's word, carried to the device in its enrolment answer: the hub takes card reads
    only from an office reader and access events only from a lane."""

    LANE = "lane"
    OFFICE_READER = "office_reader"


class GateIn(In):
    device_id: Annotated[str, Field(pattern=DEVICE_ID_PATTERN)]
    lane: Annotated[Label, Field(max_length=32)]
    kind: GateKind = GateKind.LANE
    direction: Annotated[GateDirection | None, Field(validate_default=True)] = None
    """A lane's one direction; an office reader has none."""
    name: Name64

    @field_validator("direction", mode="before")
    @classmethod
    def _one_direction(cls, value: object) -> object:
        if value == "both":
            raise PydanticCustomError(
                GATE_DIRECTION_BOTH,
                "一条通道只能是一个方向：in（进场）或 out（离场），不能是 both；进、出各登记一个闸机 / "
                "a lane drives one direction, in or out, not both: register one gate per lane",
            )
        return value

    @field_validator("direction")
    @classmethod
    def _direction_of_kind(cls, value: GateDirection | None, info: ValidationInfo) -> GateDirection | None:
        kind = info.data.get("kind")
        if kind is GateKind.LANE and value is None:
            raise PydanticCustomError(
                GATE_DIRECTION_KIND,
                "闸机通道须选择方向：in（进场）或 out（离场） / a lane needs its direction: in or out",
            )
        if kind is GateKind.OFFICE_READER and value is not None:
            raise PydanticCustomError(
                GATE_DIRECTION_KIND,
                "项目部登记读卡器没有方向，请不要填写 / an office reader has no direction: leave it out",
            )
        return value


class InspectionIn(In):
    inspected_on: date
    findings: Annotated[str, Field(min_length=1, max_length=4000)]
