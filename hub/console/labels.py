"""Every code the console shows, in words: one table per kind of code, Chinese first (the notice's
own words: 实名制, 报备, 项目部, 进场/离场, 四类人员, 整改, 信用扣分, 监理), English second.
Beside :mod:`wire.labels` and in its style (:class:`wire.labels.Text`); the decision reasons are
that module's verdicts, so the site office reads what the worker at the gate was told.

Templates call ``label(kind, code)`` (bound to the request's language by :mod:`hub.console.render`);
Python calls :func:`label`. A code missing from its table is shown as itself, never an error: the
tests check that every member of every enum below has both words (``tests/console/test_labels.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
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


def _table(pairs: Mapping[str, tuple[str, str]]) -> dict[str, Text]:
    return {code: Text(zh, en) for code, (zh, en) in pairs.items()}


ROLE: Final = _table(
    {
        Role.CITY: ("市建管站", "City supervision station"),
        Role.DISTRICT: ("区住建局", "District bureau"),
        Role.ENTERPRISE: ("企业", "Enterprise"),
        Role.GC_PROJECT: ("总包项目部", "General contractor's project department"),
        Role.SUB_PROJECT: ("分包项目部", "Subcontractor's project department"),
        Role.SUPERVISION_PROJECT: ("监理项目部", "Supervision project department"),
        Role.OPERATOR: ("系统运维", "Hub operator"),
    }
)
"""Account roles."""

ROSTER_ROLE: Final = _table(
    {
        RosterRole.WORKER: ("作业人员", "Worker"),
        RosterRole.MANAGER: ("管理人员", "Manager"),
        RosterRole.SUPERVISOR: ("监理人员", "Supervisor"),
        RosterRole.VISITOR: ("访客", "Visitor"),
    }
)
"""What a person is on a project's roster (headcount by role)."""

POSITION: Final = _table(
    {
        Position.PROJECT_MANAGER: ("项目负责人", "Project manager"),
        Position.TECHNICAL_LEAD: ("技术负责人", "Technical lead"),
        Position.QUALITY_OFFICER: ("质量负责人", "Quality lead"),
        Position.SAFETY_OFFICER: ("安全负责人", "Safety lead"),
        Position.CONSTRUCTION_WORKER_LEAD: ("施工员", "Construction foreman"),
        Position.MATERIALS_OFFICER: ("材料员", "Materials officer"),
        Position.DOCUMENTATION_OFFICER: ("资料员", "Documentation officer"),
        Position.LABOUR_OFFICER: ("劳资专管员", "Labour officer"),
        Position.CHIEF_SUPERVISOR: ("总监理工程师", "Chief supervising engineer"),
        Position.SUPERVISOR_ENGINEER: ("监理工程师", "Supervising engineer"),
    }
)
"""Managers' positions; the first four are the notice's 四类人员."""

FOUR_MANAGERS: Final = frozenset(
    {Position.PROJECT_MANAGER, Position.TECHNICAL_LEAD, Position.QUALITY_OFFICER, Position.SAFETY_OFFICER}
)
"""四类人员: the four managers whose presence on site the authorities check."""

PERSON_CATEGORY: Final = _table(
    {
        PersonCategory.WORKER: ("作业人员", "Worker"),
        PersonCategory.MANAGER: ("管理人员", "Manager"),
    }
)

ENTERPRISE_KIND: Final = _table(
    {
        EnterpriseKind.GENERAL_CONTRACTOR: ("施工总包", "General contractor"),
        EnterpriseKind.PROFESSIONAL_SUBCONTRACTOR: ("专业分包", "Specialist subcontractor"),
        EnterpriseKind.LABOUR_SUBCONTRACTOR: ("劳务分包", "Labour subcontractor"),
        EnterpriseKind.SUPERVISION: ("监理", "Supervision firm"),
    }
)

PARTY_ROLE: Final = _table(
    {
        PartyRole.SUBCONTRACTOR: ("分包", "Subcontractor"),
        PartyRole.SUPERVISION: ("监理", "Supervision"),
    }
)

ORDER_STATUS: Final = _table(
    {
        OrderStatus.OPEN: ("待整改", "Open"),
        OrderStatus.RESPONDED: ("已回复，待复查", "Responded, awaiting review"),
        OrderStatus.CLOSED: ("已销项", "Closed"),
    }
)
"""责令限期整改 (rectification orders): where each stands."""

ORDER_ACTION: Final = _table(
    {
        OrderAction.ISSUE: ("下发整改", "Issued"),
        OrderAction.RESPOND: ("回复整改", "Responded"),
        OrderAction.ACCEPT: ("复查通过", "Accepted"),
        OrderAction.REJECT: ("退回整改", "Sent back"),
    }
)

DEVICE_STATUS: Final = _table(
    {
        PresenceState.ONLINE: ("在线", "Online"),
        PresenceState.OFFLINE: ("离线", "Offline"),
    }
)
"""A lane's health on the device board."""

READER_STATE: Final = _table(
    {
        ReaderState.OK: ("正常", "OK"),
        ReaderState.FAULT: ("故障", "Fault"),
        ReaderState.ABSENT: ("未连接", "Absent"),
    }
)

DIRECTION: Final = _table(
    {
        Direction.IN: ("进", "In"),
        Direction.OUT: ("出", "Out"),
    }
)
"""A passage's direction (the access log's column)."""

GATE_DIRECTION: Final = _table(
    {
        GateDirection.IN: ("进场", "Entry"),
        GateDirection.OUT: ("离场", "Exit"),
        "both": ("双向", "Both ways"),  # refused since issue 14; older databases may hold it
    }
)

GATE_KIND: Final = _table(
    {
        GateKind.LANE: ("闸机通道", "Turnstile lane"),
        GateKind.OFFICE_READER: ("项目部登记读卡器", "Site office card reader"),
    }
)
"""What stands at a gate (the office reader: 进场/离场登记 at the site office)."""

PROVISIONING: Final = _table(
    {
        ProvisioningState.AWAITING_TOKEN: ("待签发注册令牌", "No token yet"),
        ProvisioningState.TOKEN_ISSUED: ("已签发令牌，待安装", "Token issued, not yet enrolled"),
        ProvisioningState.ENROLLED: ("已注册，尚未上线", "Enrolled, not yet heard from"),
        ProvisioningState.ONLINE: ("在线", "Online"),
        ProvisioningState.OFFLINE: ("离线", "Offline"),
        ProvisioningState.REVOKED: ("已吊销", "Revoked"),
    }
)
"""Where a gate's lane stands in its provisioning (hub.devices.provisioning_state)."""

DECISION: Final = _table(
    {
        Decision.GRANTED: ("通过", "Granted"),
        Decision.DENIED: ("拒绝", "Refused"),
    }
)

REASON: Final = {reason.value: WORKER_LABELS[reason].verdict for reason in Reason}
"""Why a lane decided: the verdict the worker saw on the lane's screen (:mod:`wire.labels`)."""

CARD_KIND: Final = _table(
    {
        CardKind.RESIDENT: ("居民身份证", "Resident ID card"),
        CardKind.HMT_RESIDENCE_PERMIT: ("港澳台居民居住证", "HK/Macao/Taiwan residence permit"),
        CardKind.FOREIGNER_2017: (
            "外国人永久居留身份证（2017版）",
            "Foreigner's permanent residence card (2017)",
        ),
        CardKind.FOREIGNER_2023: (
            "外国人永久居留身份证（2023版）",
            "Foreigner's permanent residence card (2023)",
        ),
        CardKind.CARD_UID: ("其他卡片", "Other card"),
    }
)

COMMAND: Final = _table(
    {
        Action.RESYNC: ("重新同步名单", "Resync roster"),
        Action.REMOTE_OPEN: ("远程开闸", "Remote open"),
        Action.DISABLE_LANE: ("停用通道", "Disable lane"),
        Action.ENABLE_LANE: ("启用通道", "Enable lane"),
        Action.REBOOT: ("重启通道程序", "Restart lane service"),
        Action.SET_LOG_LEVEL: ("设置日志级别", "Set log level"),
    }
)
"""Commands to a lane."""


class LaneAnswer(StrEnum):
    """What a lane answers a command (``CommandResult.detail``, controller/command_runner.py)."""

    ARM_RELEASED = "arm released"
    DISABLED_FIRST = "lane is disabled; enable it first"
    DISABLED = "lane disabled"
    ENABLED = "lane enabled"
    ROSTER_REQUESTED = "full roster requested"
    EXPIRED = "expired before it reached the lane; not executed"
    NO_ROSTER_SYNC = "this lane has no roster sync configured"


LANE_ANSWER: Final = _table(
    {
        LaneAnswer.ARM_RELEASED: ("已开闸", "Arm released"),
        LaneAnswer.DISABLED_FIRST: ("通道已停用，请先启用", "The lane is disabled: enable it first"),
        LaneAnswer.DISABLED: ("通道已停用", "Lane disabled"),
        LaneAnswer.ENABLED: ("通道已启用", "Lane enabled"),
        LaneAnswer.ROSTER_REQUESTED: ("已请求完整名单", "Full roster requested"),
        LaneAnswer.EXPIRED: ("指令到达通道前已过期，未执行", "Expired before it reached the lane; not done"),
        LaneAnswer.NO_ROSTER_SYNC: ("该通道未配置名单同步", "This lane has no roster sync configured"),
    }
)
"""A lane's answer to a command, in words (an answer not listed is shown as the lane wrote it)."""

LANE_EVENT: Final = _table(
    {
        LaneEventType.PASSAGE_CONFIRMED: ("已通过", "Passage confirmed"),
        LaneEventType.NOT_PASSED: ("验证通过但未通行", "Granted, not passed"),
        LaneEventType.FORCED_PASSAGE: ("强行通过", "Forced passage"),
        LaneEventType.FIRE_ALARM: ("火警", "Fire alarm"),
        LaneEventType.FIRE_ALARM_CLEARED: ("火警解除", "Fire alarm cleared"),
        LaneEventType.TAMPER: ("设备被拆动", "Tamper"),
        LaneEventType.LANE_DISABLED: ("通道已停用", "Lane disabled"),
        LaneEventType.LANE_ENABLED: ("通道已启用", "Lane enabled"),
        LaneEventType.REMOTE_OPEN: ("远程开闸", "Remote open"),
        LaneEventType.PASSBACK_EXPIRED: ("在场状态过期清除", "Passback state expired"),
        LaneEventType.CLOCK_STEP: ("时钟跳变", "Clock jumped"),
        LaneEventType.ATTRIBUTION_REFUSED: ("记录与登记不符", "Record contradicts placement"),
    }
)
"""What a lane reports besides decisions (its journal's lane events)."""


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


ALERT_KIND: Final = _table(
    {
        AlertKind.MANAGER_ABSENT: ("管理人员未到岗", "Manager absent"),
        AlertKind.GATE_OFFLINE: ("闸机离线", "Gate offline"),
        AlertKind.WATCHLIST_HIT: ("禁入人员刷卡", "Watchlist hit"),
        AlertKind.ORDER_OVERDUE: ("整改逾期", "Order overdue"),
        AlertKind.LANE_FAULT: ("通道故障", "Lane fault"),
        AlertKind.CLOCK_STEP: ("通道时钟跳变", "Lane clock jumped"),
        AlertKind.ATTRIBUTION_REFUSED: ("通道记录与登记不符", "Record contradicts the lane's placement"),
        AlertKind.CLOCK_SUSPECT: ("记录时间不可信", "Record times not believed"),
        AlertKind.NOT_IN_ROSTER: ("名单外人员放行", "Admitted without a roster entry"),
        AlertKind.JOURNAL_GAP: ("通道记录已丢失", "Lane records lost"),
    }
)


class RecordNote(StrEnum):
    """Why an access-log row reads differently from a plain passage (``LogEntry.note`` of
    hub.oversight.site_records): its time is not believed (issue 13), or the hub flagged it."""

    CLOCK_SUSPECT = "clock_suspect"
    NOT_IN_ROSTER = "not_in_roster"


RECORD_NOTE: Final = _table(
    {
        RecordNote.CLOCK_SUSPECT: (
            "记录时间不可信：不计入在场人员和考勤",
            "Record time not believed: not counted on site or in attendance",
        ),
        RecordNote.NOT_IN_ROSTER: (
            "名单外人员放行：已计入，请核查通道名单",
            "Admitted without a roster entry: counted; check the lane's roster",
        ),
    }
)
"""The access log's and its exports' notes on a row, in words."""


class AntiPassback(StrEnum):
    """The site rules' anti-passback modes (``wire.roster.AntiPassbackMode``, the lane's
    ``controller.core.policy.AntiPassback``), as an enum for the completeness tests."""

    HARD = "hard"
    SOFT = "soft"
    OFF = "off"


ANTI_PASSBACK: Final = _table(
    {
        AntiPassback.HARD: ("硬防反潜回：未出场不得再次进场", "Hard: no second entry before an exit"),
        AntiPassback.SOFT: ("软防反潜回：放行但记录违规", "Soft: admitted, the violation recorded"),
        AntiPassback.OFF: ("关闭", "Off"),
    }
)
"""A project's anti-passback mode (site rules), in the words site managers use (防反潜回)."""


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


DISTRICT: Final = _table(
    {
        District.SHANGCHENG: ("上城区", "Shangcheng"),
        District.GONGSHU: ("拱墅区", "Gongshu"),
        District.XIHU: ("西湖区", "Xihu"),
        District.BINJIANG: ("滨江区", "Binjiang"),
        District.XIAOSHAN: ("萧山区", "Xiaoshan"),
        District.YUHANG: ("余杭区", "Yuhang"),
        District.FUYANG: ("富阳区", "Fuyang"),
        District.LINAN: ("临安区", "Lin'an"),
        District.LINPING: ("临平区", "Linping"),
        District.QIANTANG: ("钱塘区", "Qiantang"),
    }
)
"""District codes by name; a district the registry holds under another code shows its code."""

CONTACT_ROLE: Final = _table(
    {
        ContactRole.LEADER_IN_CHARGE: ("分管领导", "Leader in charge"),
        ContactRole.DEPARTMENT_HEAD: ("部门领导", "Department head"),
        ContactRole.DAILY_CONTACT: ("日常联系人", "Day-to-day contact"),
    }
)
"""The lines of the district bureaus' contacts (the notice's annex)."""

BULLETIN_KIND: Final = _table(
    {
        BulletinKind.COMMENDATION: ("通报表扬", "Commendation"),
        BulletinKind.CRITICISM: ("通报批评", "Criticism"),
    }
)
"""通报 (hub.workflows.bulletins)."""

PLATFORM_VARIANT: Final = _table(
    {
        Variant.NATIONAL: ("全国建筑工人管理服务信息平台", "National worker platform"),
        Variant.PROVINCIAL: ("省建筑工人管理服务信息平台", "Provincial worker platform"),
    }
)
PLATFORM_STATE: Final = _table(
    {
        UploadState.QUEUED: ("待上传", "Queued"),
        UploadState.SENDING: ("上传中", "Being sent"),
        UploadState.SENT: ("已上传，待平台处理", "Sent, awaiting the platform"),
        UploadState.ACCEPTED: ("平台已接收", "Accepted"),
        UploadState.FAILED: ("失败，将重试", "Failed, to be retried"),
    }
)
PLATFORM_SUBJECT: Final = _table(
    {
        Subject.TEAM: ("班组", "Team"),
        Subject.WORKER: ("人员", "Person"),
        Subject.EVENT: ("考勤", "Passage"),
    }
)
"""The worker platforms' upload (hub.platform): which platform, where a row stands, what it is about."""

TABLES: Final[dict[str, dict[str, Text]]] = {
    "role": ROLE,
    "roster_role": ROSTER_ROLE,
    "position": POSITION,
    "person_category": PERSON_CATEGORY,
    "enterprise_kind": ENTERPRISE_KIND,
    "party_role": PARTY_ROLE,
    "order_status": ORDER_STATUS,
    "order_action": ORDER_ACTION,
    "device_status": DEVICE_STATUS,
    "reader_state": READER_STATE,
    "direction": DIRECTION,
    "gate_direction": GATE_DIRECTION,
    "gate_kind": GATE_KIND,
    "provisioning": PROVISIONING,
    "decision": DECISION,
    "reason": REASON,
    "card_kind": CARD_KIND,
    "nation": NATION,
    "command": COMMAND,
    "lane_answer": LANE_ANSWER,
    "lane_event": LANE_EVENT,
    "alert_kind": ALERT_KIND,
    "contact_role": CONTACT_ROLE,
    "district": DISTRICT,
    "record_note": RECORD_NOTE,
    "anti_passback": ANTI_PASSBACK,
    "bulletin_kind": BULLETIN_KIND,
    "platform_variant": PLATFORM_VARIANT,
    "platform_state": PLATFORM_STATE,
    "platform_subject": PLATFORM_SUBJECT,
}
"""Every table by the name templates use: ``label('position', m.position)``."""

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
