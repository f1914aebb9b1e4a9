"""Every code the console shows, in words: one table per kind of code, Chinese first (the notice's
own words: 实名制, 报备, 项目部, 进场/离场, 四类人员, 整改, 信用扣分, 监理), English second.
Beside :mod:`wire.labels` and in its style (:class:`wire.labels.Text`); the decision reasons are
that module's verdicts, so the site office reads what the worker at the gate was told.

The words themselves are data, in ``labels.toml`` beside this module (a section a kind, a line a
code), so a translator edits one file and no table is a copy of another's code.
Templates call ``label(kind, code)`` (bound to the request's language by :mod:`hub.console.render`);
Python calls :func:`label`. A code missing from its table is shown as itself, never an error: the
tests check that every member of every enum below has both words (``tests/console/test_labels.py``).
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Final

from hub.auth.principal import Role
from hub.console.i18n import Locale
from hub.console.nations import NATION, Nation
from hub.devices.provisioning_state import ProvisioningState
from hub.platform.settings import Variant
from hub.platform.states import UploadState
from hub.platform.status import Subject
from hub.registry.models import EnterpriseKind, GateDirection, GateKind, PartyRole, PersonCategory, Position
from hub.workflows.bulletins import BulletinKind
from hub.workflows.contacts import ContactRole
from hub.workflows.models import OrderAction, OrderStatus
from wire.commands import Action
from wire.labels import LABELS as WORKER_LABELS
from wire.labels import Text
from wire.models import CardKind, Decision, Direction, LaneEventType, PresenceState, ReaderState, Reason
from wire.roles import RosterRole


class LaneAnswer(StrEnum):
    """What a lane answers a command (``CommandResult.detail``, controller/command_runner.py)."""

    ARM_RELEASED = "arm released"
    DISABLED_FIRST = "lane is disabled; enable it first"
    DISABLED = "lane disabled"
    ENABLED = "lane enabled"
    ROSTER_REQUESTED = "full roster requested"
    EXPIRED = "expired before it reached the lane; not executed"
    NO_ROSTER_SYNC = "this lane has no roster sync configured"


class AlertKind(StrEnum):
    """The alert kinds of :data:`hub.workflows.alerts.KINDS` (a test keeps the two the same)."""

    MANAGER_ABSENT = "manager_absent"
    GATE_OFFLINE = "gate_offline"
    WATCHLIST_HIT = "watchlist_hit"
    ORDER_OVERDUE = "order_overdue"
    LANE_FAULT = "lane_fault"
    CLOCK_STEP = "clock_step"
    ATTRIBUTION_REFUSED = "attribution_refused"
    CLOCK_SUSPECT = "clock_suspect"
    NOT_IN_ROSTER = "not_in_roster"
    JOURNAL_GAP = "journal_gap"


class RecordNote(StrEnum):
    """Why an access-log row reads differently from a plain passage (``LogEntry.note`` of
    hub.oversight.site_records): its time is not believed (issue 13), or the hub flagged it."""

    CLOCK_SUSPECT = "clock_suspect"
    NOT_IN_ROSTER = "not_in_roster"


class AntiPassback(StrEnum):
    """The site rules' anti-passback modes (``wire.roster.AntiPassbackMode``, the lane's
    ``controller.core.policy.AntiPassback``), as an enum for the completeness tests."""

    HARD = "hard"
    SOFT = "soft"
    OFF = "off"


class District(StrEnum):
    """Hangzhou's districts (行政区划代码), as the registry seeds them and ID numbers begin."""

    SHANGCHENG = "330102"
    GONGSHU = "330105"
    XIHU = "330106"
    BINJIANG = "330108"
    XIAOSHAN = "330109"
    YUHANG = "330110"
    FUYANG = "330111"
    LINAN = "330112"
    LINPING = "330113"
    QIANTANG = "330114"


def _load(path: Path) -> dict[str, dict[str, Text]]:
    """Every kind's table from ``labels.toml``: ``{kind: {code: Text(zh, en)}}``."""
    kinds = tomllib.loads(path.read_text(encoding="utf-8"))
    return {kind: {code: Text(**both) for code, both in codes.items()} for kind, codes in kinds.items()}


REASON: Final = {reason.value: WORKER_LABELS[reason].verdict for reason in Reason}
"""Why a lane decided: the verdict the worker saw on the lane's screen (:mod:`wire.labels`)."""

TABLES: Final[dict[str, dict[str, Text]]] = {
    **_load(Path(__file__).with_name("labels.toml")),
    "reason": REASON,
    "nation": NATION,
}
"""Every table by the name templates use: ``label('position', m.position)``."""

ROLE: Final = TABLES["role"]
"""Account roles (the operator's command lists them)."""

ALERT_KIND: Final = TABLES["alert_kind"]
ANTI_PASSBACK: Final = TABLES["anti_passback"]

FOUR_MANAGERS: Final = frozenset(
    {Position.PROJECT_MANAGER, Position.TECHNICAL_LEAD, Position.QUALITY_OFFICER, Position.SAFETY_OFFICER}
)
"""四类人员: the four managers whose presence on site the authorities check."""


ENUMS: Final[dict[str, type[StrEnum]]] = {
    "role": Role,
    "roster_role": RosterRole,
    "position": Position,
    "person_category": PersonCategory,
    "enterprise_kind": EnterpriseKind,
    "party_role": PartyRole,
    "order_status": OrderStatus,
    "order_action": OrderAction,
    "device_status": PresenceState,
    "reader_state": ReaderState,
    "direction": Direction,
    "gate_direction": GateDirection,
    "gate_kind": GateKind,
    "provisioning": ProvisioningState,
    "decision": Decision,
    "reason": Reason,
    "card_kind": CardKind,
    "nation": Nation,
    "command": Action,
    "lane_answer": LaneAnswer,
    "lane_event": LaneEventType,
    "alert_kind": AlertKind,
    "contact_role": ContactRole,
    "district": District,
    "record_note": RecordNote,
    "anti_passback": AntiPassback,
    "bulletin_kind": BulletinKind,
    "platform_variant": Variant,
    "platform_state": UploadState,
    "platform_subject": Subject,
}
"""The codes each table must cover, for the tests."""


def words(text: Text, locale: Locale) -> str:
    return text.zh if locale is Locale.ZH_CN else text.en


def label(locale: Locale, kind: str, code: object) -> str:
    """``code`` of ``kind`` in ``locale``'s words; the code itself if the table lacks it, "" for None."""
    if code is None or code == "":
        return ""
    value = code.value if isinstance(code, StrEnum) else str(code)
    text = TABLES[kind].get(value)
    return value if text is None else words(text, locale)
