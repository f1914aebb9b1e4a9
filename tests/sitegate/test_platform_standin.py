"""The worker platform's stand-in refuses what the platform refuses, in its words: a bad signature,
another project's code, a worker before its team, attendance before its worker, more than 20 rows, a
bad check digit, a code outside the dictionaries, a date past its day; and it answers later."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import aiohttp
import pytest

from hub.platform.cipher import encrypt_id
from hub.platform.protocol import Method, parse_answer, signed_form
from sitegate.platform_standin import PlatformStandin
from wire.idnumber import with_check_digit

SECRET = "0123456789abcdef0123456789abcdef"
NUMBER = with_check_digit("33010619900101002")
NOW = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)


@pytest.fixture
async def platform() -> AsyncIterator[tuple[PlatformStandin, aiohttp.ClientSession]]:
    async with (
        PlatformStandin(delay_s=0.05, today=lambda: date(2026, 5, 6)) as standin,
        aiohttp.ClientSession() as s,
    ):
        standin.add_project("PC-1", "app-1", SECRET)
        yield standin, s


async def _call(platform: Any, method: Method, data: dict[str, Any], secret: str = SECRET) -> Any:
    standin, session = platform
    form = signed_form(method, data, appid="app-1", appsecret=secret, now=NOW, nonce="n")
    async with session.post(standin.url, data=form) as response:
        return parse_answer(await response.read())


async def _outcome(platform: Any, method: Method, data: dict[str, Any]) -> tuple[str, str]:
    """Sent, then asked after until settled: (status, result)."""
    taken = await _call(platform, method, data)
    assert taken.ok, taken
    for _ in range(20):
        answer = await _call(platform, Method.QUERY, {"requestSerialCode": taken.serial_code})
        if answer.data["status"] != "0":
            return answer.data["status"], answer.data["result"]
        await asyncio.sleep(0.02)
    raise AssertionError("never settled")


def _row(number: str = NUMBER, **change: Any) -> dict[str, Any]:
    return {"idCardType": "01", "idCardNumber": encrypt_id(number, SECRET), "date": "2026-05-06 08:00:00",
            "direction": "01", "channel": "东门", **change}  # fmt: skip


async def test_the_stand_in_refuses_what_the_platform_refuses(platform: Any) -> None:
    standin, _ = platform
    assert (await _call(platform, Method.TEAM_ADD, {"projectCode": "PC-1"}, secret="f" * 32)).code == -2
    assert (await _call(platform, Method.TEAM_ADD, {"projectCode": "PC-2"})).code == -3
    team = {
        "projectCode": "PC-1",
        "corpCode": "91330106MA2B000001",
        "corpName": "劳务",
        "teamName": "钢筋班组",
    }
    worker = {"workerName": "张三", "isTeamLeader": 0, "idCardType": "01", "idCardNumber": encrypt_id(NUMBER, SECRET),
              "workType": "020", "workRole": "20"}  # fmt: skip
    early = {"projectCode": "PC-1", "teamSysNo": 1, "workerList": [worker]}
    assert await _outcome(platform, Method.WORKER_ADD, early) == ("10", "[teamSysNo]值超出范围或无效!")
    status, result = await _outcome(platform, Method.TEAM_ADD, team)
    assert status == "20" and result == '{"teamSysNo": 10001}'
    attendance = {"projectCode": "PC-1", "teamSysNo": 10001, "dataList": [_row()]}
    assert await _outcome(platform, Method.ATTENDANCE_ADD, attendance) == (
        "10", "[dataList][0][idCardNumber]该人员未在项目中登记!"
    )  # fmt: skip
    bad_type = {**early, "teamSysNo": 10001, "workerList": [{**worker, "workType": "999"}]}
    assert (await _outcome(platform, Method.WORKER_ADD, bad_type))[
        1
    ] == "[workerList][0][workType]参数值不正确,请参见工种字典表!"
    assert (await _outcome(platform, Method.WORKER_ADD, {**early, "teamSysNo": 10001}))[0] == "20"
    assert (await _outcome(platform, Method.ATTENDANCE_ADD, attendance))[0] == "20"
    wrong_digit = NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")
    checks = [
        ([_row(wrong_digit)], "[dataList][0][idCardNumber]身份证号码不正确!"),
        ([_row(), _row(date="2026-05-07 00:00:01")], "[dataList][1][date]不能大于当天!"),
        ([_row(direction="03")], "[dataList][0][direction]参数值不正确!"),
        ([_row()] * 21, "[dataList]最多20条!"),
    ]
    for rows, refusal in checks:
        assert await _outcome(platform, Method.ATTENDANCE_ADD, {**attendance, "dataList": rows}) == (
            "10",
            refusal,
        )
    assert [(p.id_number, p.date) for p in standin.attendance] == [(NUMBER, "2026-05-06 08:00:00")]
    assert standin.duplicates() == 0


async def test_it_can_be_told_to_fail_rate_limit_and_time_out(platform: Any) -> None:
    standin, session = platform
    standin.faults.fail, standin.faults.rate_limit = 1, 1
    team = {"projectCode": "PC-1", "corpCode": "c", "corpName": "n", "teamName": "木工班"}
    assert (await _call(platform, Method.TEAM_ADD, team)).code == -5
    assert (await _call(platform, Method.TEAM_ADD, team)).code == -1
    standin.faults.time_out = 1
    form = signed_form(Method.TEAM_ADD, team, appid="app-1", appsecret=SECRET, now=NOW, nonce="n")
    with pytest.raises(TimeoutError):
        async with session.post(standin.url, data=form, timeout=aiohttp.ClientTimeout(total=0.2)):
            pass
    assert standin.teams == {}  # a request timed out was never taken
    assert (await _outcome(platform, Method.TEAM_ADD, team))[0] == "20"
