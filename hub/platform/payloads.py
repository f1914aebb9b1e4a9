"""The three requests' ``data``, and attendance cut into requests the platform takes.

Keys are the platform's camelCase. A request carries one team (``teamSysNo``) and at most
:data:`MAX_ROWS` rows; ID numbers go encrypted (:mod:`hub.platform.cipher`), times in site time.
Builders take plain values the uploader read, so everything here is checked in-process.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, TypeVar

from hub.platform import dictionaries
from hub.platform.cipher import encrypt_id
from hub.platform.protocol import DATE_TIME_FORMAT
from wire.clock import SITE_ZONE

MAX_ROWS: Final = 20
"""Rows per request (``dataList``, ``workerList``): the platform refuses more."""

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TeamFacts:
    """A 班组 as the hub knows it, for ``Team.Add``."""

    team_id: str
    name: str
    corp_code: str
    """The enterprise's unified social credit code (企业编号)."""
    corp_name: str
    leader_name: str | None = None
    leader_card_kind: str | None = None
    leader_id_number: str | None = None


@dataclass(frozen=True, slots=True)
class WorkerFacts:
    """A person on the project, for ``ProjectWorker.Add``."""

    person_id: str
    name: str
    card_kind: str
    id_number: str
    category: str
    """worker | manager"""
    work_type: str
    is_team_leader: bool = False
    nation: str | None = None


@dataclass(frozen=True, slots=True)
class Passage:
    """An access event to upload, keyed by its own identity (device, seq)."""

    device_id: str
    seq: int
    team_sys_no: str
    card_kind: str
    id_number: str
    at: datetime
    direction: str
    """in | out"""
    channel: str
    """The lane's name in the registry (gates.name)."""
    image: str | None = None
    """Base64 of the lane's photo of the passage, where the lane records one (none does yet)."""

    @property
    def key(self) -> tuple[str, int]:
        return (self.device_id, self.seq)


def team_add(project_code: str, team: TeamFacts, appsecret: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "projectCode": project_code,
        "corpCode": team.corp_code,
        "corpName": team.corp_name,
        "teamName": team.name,
    }
    if team.leader_name and team.leader_id_number and team.leader_card_kind:
        data["teamLeaderName"] = team.leader_name
        data["teamLeaderIdcardType"] = dictionaries.card_type_of(team.leader_card_kind)
        data["teamLeaderIdNumber"] = encrypt_id(team.leader_id_number, appsecret)
    return data


def worker_add(
    project_code: str,
    team: TeamFacts,
    team_sys_no: str,
    workers: Sequence[WorkerFacts],
    appsecret: str,
) -> dict[str, Any]:
    if not 0 < len(workers) <= MAX_ROWS:
        raise ValueError(f"a request carries 1 to {MAX_ROWS} workers, not {len(workers)}")
    return {
        "projectCode": project_code,
        "corpCode": team.corp_code,
        "corpName": team.corp_name,
        "teamSysNo": _number(team_sys_no),
        "workerList": [_worker(w, appsecret) for w in workers],
    }


def _worker(worker: WorkerFacts, appsecret: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "workerName": worker.name,
        "isTeamLeader": 1 if worker.is_team_leader else 0,
        "idCardType": dictionaries.card_type_of(worker.card_kind),
        "idCardNumber": encrypt_id(worker.id_number, appsecret),
        "workType": worker.work_type,
        "workRole": dictionaries.WORKER_ROLES[worker.category],
    }
    if worker.nation:
        row["nation"] = worker.nation
    return row


def attendance_add(project_code: str, rows: Sequence[Passage], appsecret: str) -> dict[str, Any]:
    """One ``WorkerAttendance.Add``: rows of one team, at most :data:`MAX_ROWS`."""
    teams = {row.team_sys_no for row in rows}
    if len(teams) != 1 or len(rows) > MAX_ROWS:
        raise ValueError(
            f"a request carries one team and 1 to {MAX_ROWS} rows ({len(teams)} teams, {len(rows)} rows)"
        )
    return {
        "projectCode": project_code,
        "teamSysNo": _number(rows[0].team_sys_no),
        "dataList": [_passage(row, appsecret) for row in rows],
    }


def _passage(row: Passage, appsecret: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "idCardType": dictionaries.card_type_of(row.card_kind),
        "idCardNumber": encrypt_id(row.id_number, appsecret),
        "date": row.at.astimezone(SITE_ZONE).strftime(DATE_TIME_FORMAT),
        "direction": dictionaries.DIRECTIONS[row.direction],
        "channel": row.channel,
        "attendType": dictionaries.ATTEND_TYPE,
    }
    if row.image:
        data["image"] = row.image
    return data


def _number(team_sys_no: str) -> int | str:
    """``teamSysNo`` is a number on the platform (the clients hold it as an int)."""
    return int(team_sys_no) if team_sys_no.isascii() and team_sys_no.isdigit() else team_sys_no


def batches(items: Iterable[T], key: Callable[[T], K], size: int = MAX_ROWS) -> list[tuple[K, list[T]]]:
    """``items`` cut into requests: grouped by ``key`` (a team), each at most ``size`` long, in
    the order each key was first seen and, within a key, the items' own order. Every item lands in
    exactly one batch."""
    if size < 1:
        raise ValueError("a batch holds at least one item")
    grouped: dict[K, list[T]] = {}
    for item in items:
        grouped.setdefault(key(item), []).append(item)
    return [(k, group[i : i + size]) for k, group in grouped.items() for i in range(0, len(group), size)]
