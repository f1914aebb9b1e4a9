"""What a worker is told, in words: one table keyed by decision reason and by idle lane state.

The lane's screen and voice read it, and so will the console (issue 14): a worker refused at the
gate and the site office looking at the record see the same words. Plain data, zh-CN first (the
notice's words: 实名制, 进场, 离场, 项目部), English second for the console and for foreign workers'
supervisors. Each entry has the short verdict (the screen's headline), what to do next, and the
phrase the lane speaks; the spoken phrase is short, because the next worker is already waiting.

Texts never carry personal data: the lane adds the masked name itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from wire.models import Direction, Reason


class LaneState(StrEnum):
    """What a lane shows while nobody is at it (and keeps showing between decisions)."""

    READY = "ready"
    OFFLINE = "offline"
    """No link to the hub, but deciding from its own roster: swiping works as usual."""
    READER_FAULT = "reader_fault"
    DISABLED = "disabled"
    FIRE_ALARM = "fire_alarm"
    """Free egress: every arm open until the alarm clears."""
    SYSTEM_FAULT = "system_fault"
    """The lane cannot record passages (its journal): it refuses everyone; the site office must come."""


class OfficeRead(StrEnum):
    """What an office reader (a lane in registration mode, 进场/离场登记) says after a card: it
    decides nothing, it only reads the card for the site office's form."""

    CARD_READ = "card_read"
    """Sent to the hub: the form shows it (with the card's problem, if it has one)."""
    NOT_SENT = "card_read_not_sent"
    """The link to the hub is down: the read went nowhere, the card must be read again."""


class Tone(StrEnum):
    """How the screen colours an entry: a worker reads green and red before any word."""

    GO = "go"
    REFUSED = "refused"
    NOTICE = "notice"
    ALARM = "alarm"


@dataclass(frozen=True, slots=True)
class Text:
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class WorkerLabel:
    verdict: Text
    """The headline: "验证通过", "未登记"."""
    next_step: Text
    """What to do now, in the worker's terms: "请到项目部办理进场登记"."""
    spoken: Text
    """What the lane says aloud (the voice prompt is made from ``spoken.zh`` at build time)."""
    tone: Tone


Subject = Reason | LaneState | OfficeRead
"""What a label is for: a decision's reason, the lane's state while idle, or an office reader's read."""


def _label(
    tone: Tone, verdict: tuple[str, str], next_step: tuple[str, str], spoken: tuple[str, str]
) -> WorkerLabel:
    return WorkerLabel(Text(*verdict), Text(*next_step), Text(*spoken), tone)


P, R, N, A = Tone.GO, Tone.REFUSED, Tone.NOTICE, Tone.ALARM

LABELS: dict[Subject, WorkerLabel] = {
    Reason.GRANTED: _label(
        P,
        ("验证通过", "Verified"),
        ("请通行", "Please go through"),
        ("验证通过，请通行", "Verified, please go through"),
    ),
    Reason.NOT_REGISTERED: _label(
        R,
        ("未登记", "Not registered"),
        ("请到项目部办理进场登记", "Register at the site office (项目部) first"),
        ("未登记，请到项目部办理进场登记", "Not registered, please register at the site office"),
    ),
    Reason.INVALID_ID_NUMBER: _label(
        R,
        ("证件无法识别", "Card not valid"),
        ("请到项目部核验身份证", "Have your ID card checked at the site office"),
        ("证件无法识别，请到项目部核验", "Card not valid, please see the site office"),
    ),
    Reason.CARD_EXPIRED: _label(
        R,
        ("证件已过期", "ID card expired"),
        (
            "证件已过期请更换，换证后到项目部更新登记",
            "Renew your ID card, then update your registration at the site office",
        ),
        ("证件已过期，请更换", "ID card expired, please renew it"),
    ),
    Reason.ASSIGNMENT_NOT_STARTED: _label(
        R,
        ("未到进场日期", "Not started yet"),
        ("请在登记的进场日期起通行", "Come from the start date you were registered for"),
        ("未到进场日期", "Your start date has not come yet"),
    ),
    Reason.ASSIGNMENT_ENDED: _label(
        R,
        ("已过退场日期", "Assignment ended"),
        ("如需继续施工请到项目部办理登记", "To keep working here, register again at the site office"),
        ("已过退场日期，请到项目部办理", "Assignment ended, please see the site office"),
    ),
    Reason.WATCHLISTED: _label(
        R,
        ("禁止通行", "Entry refused"),
        ("请联系项目部", "Please contact the site office"),
        ("禁止通行，请联系项目部", "Entry refused, please contact the site office"),
    ),
    Reason.ANTI_PASSBACK: _label(
        R,
        ("已在场内", "Already on site"),
        ("您已进场，请先从离场通道刷卡离场", "You are recorded inside: swipe out at an exit lane first"),
        ("您已进场，请先刷卡离场", "You are already inside, please swipe out first"),
    ),
    Reason.OUTSIDE_HOURS: _label(
        R,
        ("不在通行时段", "Outside your hours"),
        ("请在规定的作业时段内进场", "Enter within your working hours"),
        ("不在通行时段", "Outside your working hours"),
    ),
    Reason.LANE_DISABLED: _label(
        N,
        ("通道暂停使用", "Lane closed"),
        ("请走其他通道", "Please use another lane"),
        ("本通道暂停使用，请走其他通道", "This lane is closed, please use another lane"),
    ),
    Reason.CREDENTIAL_NOT_ACCEPTED: _label(
        R,
        ("此卡不能通行", "Card not accepted"),
        ("实名制工地，请刷二代身份证", "Real-name site: swipe your resident ID card"),
        ("请刷身份证", "Please swipe your ID card"),
    ),
    Reason.UNREADABLE_CARD: _label(
        N,
        ("读卡失败", "Card not read"),
        ("请将身份证平放在读卡区重刷", "Lay your ID card flat on the reader and try again"),
        ("读卡失败，请重新刷卡", "Card not read, please try again"),
    ),
    LaneState.READY: _label(
        P,
        ("请刷身份证", "Swipe your ID card"),
        ("实名制通道，将身份证放在读卡区", "Real-name lane: lay your ID card on the reader"),
        ("通道已就绪，请刷身份证", "Lane ready, please swipe your ID card"),
    ),
    LaneState.OFFLINE: _label(
        N,
        ("请刷身份证", "Swipe your ID card"),
        ("网络离线，可正常刷卡通行", "Offline: swiping works as usual"),
        ("网络离线，可正常刷卡", "Offline, swiping works as usual"),
    ),
    LaneState.READER_FAULT: _label(
        R,
        ("读卡器故障", "Reader fault"),
        ("请走其他通道，并告知项目部", "Use another lane and tell the site office"),
        ("读卡器故障，请走其他通道", "Reader fault, please use another lane"),
    ),
    LaneState.DISABLED: _label(
        N,
        ("通道暂停使用", "Lane closed"),
        ("请走其他通道", "Please use another lane"),
        ("本通道暂停使用，请走其他通道", "This lane is closed, please use another lane"),
    ),
    LaneState.FIRE_ALARM: _label(
        A,
        ("火警 紧急疏散", "Fire alarm: evacuate"),
        ("闸机已全部打开，请迅速有序离场", "All gates are open: leave the site now, calmly"),
        ("火警，闸机已打开，请迅速离场", "Fire alarm, the gates are open, leave the site now"),
    ),
    LaneState.SYSTEM_FAULT: _label(
        A,
        ("系统故障", "System fault"),
        ("暂停通行，请联系项目部", "No passage for now: call the site office"),
        ("系统故障，请联系项目部", "System fault, please call the site office"),
    ),
    OfficeRead.CARD_READ: _label(
        N,  # not green: nobody is let through anything
        ("已读卡", "Card read"),
        ("请在电脑上核对并确认登记", "Check and confirm the registration on the computer"),
        ("已读卡", "Card read"),
    ),
    OfficeRead.NOT_SENT: _label(
        R,
        ("读卡未上传", "Card read not sent"),
        ("网络离线，请恢复网络后重新读卡", "Offline: read the card again once the network is back"),
        ("网络离线，请重新读卡", "Offline, please read the card again"),
    ),
}
del P, R, N, A

DIRECTION_NAMES: dict[Direction, Text] = {
    Direction.IN: Text("进场", "Entry"),
    Direction.OUT: Text("离场", "Exit"),
}
"""The lane's own name on its screen's header: which way this lane lets people through."""


def label_for(subject: Subject) -> WorkerLabel:
    return LABELS[subject]
