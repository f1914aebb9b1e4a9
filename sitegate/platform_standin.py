"""A stand-in for the national (or a provincial) worker platform, for the tests, the bench and the demo.

A small aiohttp app that answers as the platform does (hub.platform.protocol): it checks each
form's signature under the appid's appsecret, decrypts the ID numbers (and checks a resident
card's check digit), enforces the dictionaries (hub.platform.dictionaries), a team before its
workers before their attendance, one team and at most 20 rows per request, ``[date]不能大于当天!``,
and answers asynchronously: a ``requestSerialCode`` at once, the outcome through
``AsyncHandleResult.Query`` after ``delay_s``. It can be told to fail, rate-limit (−5) or time out
the next requests. What it accepted stays queryable (:attr:`PlatformStandin.attendance`,
:meth:`PlatformStandin.duplicates`), so a test can assert that every event arrived once.

A timed-out request is one the platform never took (it hangs until the client gives up, then
is dropped); a real platform may have taken it, which is why the uploader's at-least-once window
exists (hub.platform.states). An attendance row is identified by (project, ID number, time,
direction): the same passage accepted twice counts as a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time as monotonic
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from aiohttp import web

from hub.platform import dictionaries
from hub.platform.cipher import CipherError, decrypt_id
from hub.platform.payloads import MAX_ROWS
from hub.platform.protocol import (
    BAD_PARAMETERS,
    BAD_SIGNATURE,
    CODE_MESSAGES,
    DATE_TIME_FORMAT,
    NO_PERMISSION,
    OK,
    RATE_LIMITED,
    SIGNED,
    AsyncStatus,
    Method,
    signature_holds,
)
from wire.clock import SITE_ZONE
from wire.idnumber import validate_id_number

PATH: Final = "/api"
HANG_S: Final = 3600.0


class Refused(Exception):
    """A request the platform processes and fails (status 10), in its words."""


@dataclass
class StandinProject:
    project_code: str
    appid: str
    appsecret: str


@dataclass(frozen=True, slots=True)
class AcceptedPassage:
    project_code: str
    team_sys_no: str
    id_number: str
    date: str
    direction: str
    channel: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.project_code, self.id_number, self.date, self.direction)


@dataclass
class _Job:
    ready_at: float
    project: StandinProject
    method: Method
    data: dict[str, Any]
    fail: bool = False
    status: AsyncStatus = AsyncStatus.PENDING
    result: str = ""


@dataclass
class Faults:
    """What the next requests meet (each counts down as requests arrive)."""

    fail: int = 0
    """Refused at once with −1 (请求参数错误)."""
    fail_async: int = 0
    """Taken, then failed when processed (status 10)."""
    rate_limit: int = 0
    """Answered −5 (访问超过限制)."""
    time_out: int = 0
    """Never answered (the client times out); not processed."""


@dataclass
class PlatformStandin:
    delay_s: float = 0.0
    """How long a request's outcome stays pending (0 when asked, then settled)."""
    today: Callable[[], date] = field(default=lambda: datetime.now(SITE_ZONE).date())
    faults: Faults = field(default_factory=Faults)
    projects: dict[str, StandinProject] = field(default_factory=dict)
    """By appid."""
    teams: dict[str, dict[str, Any]] = field(default_factory=dict)
    """teamSysNo -> the team as registered (project, corp, name)."""
    workers: dict[tuple[str, str], str] = field(default_factory=dict)
    """(projectCode, ID number) -> teamSysNo."""
    attendance: list[AcceptedPassage] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    """Requests received, by method (refused ones too)."""
    _jobs: dict[str, _Job] = field(default_factory=dict)
    _serials: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _team_numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(10001))
    _runner: web.AppRunner | None = None
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    def add_project(self, project_code: str, appid: str, appsecret: str) -> None:
        self.projects[appid] = StandinProject(project_code, appid, appsecret)

    def lose_pending(self) -> int:
        """Forget every request not yet processed (a platform that lost them): asked after, their
        serial codes are unknown. Returns how many were lost."""
        lost = [serial for serial, job in self._jobs.items() if job.status is AsyncStatus.PENDING]
        for serial in lost:
            del self._jobs[serial]
        return len(lost)

    def duplicates(self) -> int:
        """Passages accepted more than once (same project, person, time and direction)."""
        return sum(n - 1 for n in Counter(p.key for p in self.attendance).values() if n > 1)

    # -- serving ------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(PATH, self._handle)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://{host}:{bound}{PATH}"
        return self.url

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> PlatformStandin:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- the platform -------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.requests[form.get("method", "?")] += 1
        if self.faults.time_out > 0:
            self.faults.time_out -= 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), HANG_S)
            return _answer(BAD_PARAMETERS, "超时")
        if self.faults.rate_limit > 0:
            self.faults.rate_limit -= 1
            return _answer(RATE_LIMITED)
        missing = [name for name in (*SIGNED, "sign") if not form.get(name)]
        if missing:
            return _answer(BAD_PARAMETERS, f"[{missing[0]}]不能为空!")
        project = self.projects.get(form["appid"])
        if project is None:
            return _answer(BAD_PARAMETERS, "请求参数无效:appid无效!")
        if not signature_holds(form, project.appsecret):
            return _answer(BAD_SIGNATURE)
        try:
            method = Method(form["method"])
            data = json.loads(form["data"])
        except ValueError:
            return _answer(BAD_PARAMETERS, f"[method]或[data]无效: {form['method']}")
        if not isinstance(data, dict):
            return _answer(BAD_PARAMETERS, "[data]格式不正确!")
        if method is Method.QUERY:
            return self._query(project, str(data.get("requestSerialCode", "")))
        if data.get("projectCode") != project.project_code:
            return _answer(NO_PERMISSION, "[projectCode]与appid不符!")
        if self.faults.fail > 0:
            self.faults.fail -= 1
            return _answer(BAD_PARAMETERS, "请求参数无效（演练）")
        serial = f"{method.value.lower().replace('.', '-')}-{next(self._serials)}"
        fail = self.faults.fail_async > 0
        self.faults.fail_async -= 1 if fail else 0
        self._jobs[serial] = _Job(monotonic.monotonic() + self.delay_s, project, method, data, fail)
        return _answer(OK, data={"requestSerialCode": serial})

    def _query(self, project: StandinProject, serial: str) -> web.Response:
        self._settle()
        job = self._jobs.get(serial)
        if job is None or job.project is not project:
            return _answer(BAD_PARAMETERS, "[requestSerialCode]值超出范围或无效!")
        return _answer(OK, data={"status": job.status.value, "result": job.result})

    def _settle(self) -> None:
        """Process every job whose time has come, in the order they arrived."""
        now = monotonic.monotonic()
        for job in self._jobs.values():
            if job.status is AsyncStatus.PENDING and job.ready_at <= now:
                self._process(job)

    def _process(self, job: _Job) -> None:
        try:
            if job.fail:
                raise Refused("平台内部错误，请稍后重试（演练）")
            if job.method is Method.TEAM_ADD:
                job.result = json.dumps({"teamSysNo": self._team_add(job.project, job.data)})
            elif job.method is Method.WORKER_ADD:
                self._worker_add(job.project, job.data)
            else:
                self._attendance_add(job.project, job.data)
        except Refused as refusal:
            job.status, job.result = AsyncStatus.FAILED, str(refusal)
        else:
            job.status = AsyncStatus.SUCCEEDED

    def _team_add(self, project: StandinProject, data: dict[str, Any]) -> int:
        for name in ("corpCode", "corpName", "teamName"):
            if not data.get(name):
                raise Refused(f"[{name}]不能为空!")
        if data.get("teamLeaderIdNumber"):
            self._id_number(
                project, data.get("teamLeaderIdcardType"), data["teamLeaderIdNumber"], "teamLeader"
            )
        for number, team in self.teams.items():
            if (team["projectCode"], team["corpCode"], team["teamName"]) == (
                project.project_code, data["corpCode"], data["teamName"],
            ):  # fmt: skip
                return int(number)
        new = next(self._team_numbers)
        self.teams[str(new)] = {k: data[k] for k in ("projectCode", "corpCode", "corpName", "teamName")}
        return new

    def _team_of(self, project: StandinProject, data: dict[str, Any]) -> str:
        team = str(data.get("teamSysNo", ""))
        if team not in self.teams or self.teams[team]["projectCode"] != project.project_code:
            raise Refused("[teamSysNo]值超出范围或无效!")
        return team

    def _rows(self, data: dict[str, Any], name: str) -> list[dict[str, Any]]:
        rows = data.get(name)
        if not isinstance(rows, list) or not rows:
            raise Refused(f"[{name}]不能为空!")
        if len(rows) > MAX_ROWS:
            raise Refused(f"[{name}]最多{MAX_ROWS}条!")
        return rows

    def _id_number(self, project: StandinProject, card_type: Any, text: Any, where: str) -> str:
        if card_type not in dictionaries.ID_CARD_TYPES:
            raise Refused(f"{where}[idCardType]参数值不正确,请参见证件类型字典表!")
        try:
            number = decrypt_id(str(text), project.appsecret)
        except CipherError:
            raise Refused(f"{where}[idCardNumber]解密失败!") from None
        if card_type == "01" and validate_id_number(number) is not None:
            raise Refused(f"{where}[idCardNumber]身份证号码不正确!")
        return number

    def _worker_add(self, project: StandinProject, data: dict[str, Any]) -> None:
        team = self._team_of(project, data)
        registered = []
        for i, row in enumerate(self._rows(data, "workerList")):
            where = f"[workerList][{i}]"
            number = self._id_number(project, row.get("idCardType"), row.get("idCardNumber"), where)
            if not row.get("workerName"):
                raise Refused(f"{where}[workerName]不能为空!")
            if row.get("workType") not in dictionaries.WORK_TYPES:
                raise Refused(f"{where}[workType]参数值不正确,请参见工种字典表!")
            if row.get("workRole") not in dictionaries.WORKER_ROLES.values():
                raise Refused(f"{where}[workRole]参数值不正确!")
            registered.append(number)
        for number in registered:
            self.workers[(project.project_code, number)] = team

    def _attendance_add(self, project: StandinProject, data: dict[str, Any]) -> None:
        team = self._team_of(project, data)
        today = self.today()
        accepted = []
        for i, row in enumerate(self._rows(data, "dataList")):
            where = f"[dataList][{i}]"
            number = self._id_number(project, row.get("idCardType"), row.get("idCardNumber"), where)
            if (project.project_code, number) not in self.workers:
                raise Refused(f"{where}[idCardNumber]该人员未在项目中登记!")
            try:
                at = datetime.strptime(str(row.get("date")), DATE_TIME_FORMAT)
            except ValueError:
                raise Refused(f"{where}[date]格式不正确!") from None
            if at.date() > today:
                raise Refused(f"{where}[date]不能大于当天!")
            if row.get("direction") not in dictionaries.DIRECTIONS.values():
                raise Refused(f"{where}[direction]参数值不正确!")
            if not row.get("channel"):
                raise Refused(f"{where}[channel]不能为空!")
            accepted.append(
                AcceptedPassage(
                    project.project_code, team, number, row["date"], row["direction"], row["channel"]
                )
            )
        self.attendance.extend(accepted)


def _answer(code: int, message: str | None = None, data: dict[str, Any] | None = None) -> web.Response:
    body = {"code": code, "message": message or CODE_MESSAGES.get(code, ""), "data": data}
    return web.json_response(body, dumps=lambda value: json.dumps(value, ensure_ascii=False))
