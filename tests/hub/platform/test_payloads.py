"""The requests' bodies and attendance cut per team by 20 (hub.platform.payloads, dictionaries, states)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.platform import dictionaries, states
from hub.platform.cipher import decrypt_id
from hub.platform.payloads import (
    MAX_ROWS,
    Passage,
    TeamFacts,
    WorkerFacts,
    attendance_add,
    batches,
    team_add,
    worker_add,
)
from wire.idnumber import with_check_digit

SECRET = "0123456789abcdef0123456789abcdef"
NUMBER = with_check_digit("33010619900101002")


def _passage(seq: int, team: str = "1001", **change: object) -> Passage:
    values: dict[str, object] = {
        "device_id": "lane-a", "seq": seq, "team_sys_no": team, "card_kind": "resident", "id_number": NUMBER,
        "at": datetime(2026, 5, 1, 0, 30, tzinfo=UTC), "direction": "in", "channel": "东门 1 号闸",
    }  # fmt: skip
    return Passage(**{**values, **change})  # type: ignore[arg-type]


def test_attendance_is_camel_case_with_the_number_encrypted_and_the_time_in_site_time() -> None:
    data = attendance_add("PC-1", [_passage(1), _passage(2, direction="out", image="aGk=")], SECRET)
    assert set(data) == {"projectCode", "teamSysNo", "dataList"} and data["teamSysNo"] == 1001
    first, second = data["dataList"]
    assert set(first) == {"idCardType", "idCardNumber", "date", "direction", "channel", "attendType"}
    assert (first["idCardType"], first["date"], first["direction"]) == ("01", "2026-05-01 08:30:00", "01")
    assert first["channel"] == "东门 1 号闸" and decrypt_id(first["idCardNumber"], SECRET) == NUMBER
    assert (second["direction"], second["image"]) == ("02", "aGk=")
    with pytest.raises(ValueError, match="one team"):
        attendance_add("PC-1", [_passage(1), _passage(2, team="1002")], SECRET)
    with pytest.raises(ValueError, match="20 rows"):
        attendance_add("PC-1", [_passage(n) for n in range(MAX_ROWS + 1)], SECRET)


def test_teams_and_workers_carry_the_platforms_codes() -> None:
    team = TeamFacts(
        "team-1", "钢筋班组", "91330100MA2B000001", "杭州劳务有限公司", "李四", "resident", NUMBER
    )
    added = team_add("PC-1", team, SECRET)
    assert added["teamLeaderIdcardType"] == "01" and decrypt_id(added["teamLeaderIdNumber"], SECRET) == NUMBER
    assert "teamLeaderName" not in team_add("PC-1", TeamFacts("t", "木工班", "c", "n"), SECRET)
    worker = WorkerFacts("per-1", "张三", "foreigner_2023", NUMBER, "worker", "020", True, "01")
    body = worker_add("PC-1", team, "1001", [worker], SECRET)
    (row,) = body["workerList"]
    assert (body["teamSysNo"], body["corpCode"]) == (1001, "91330100MA2B000001")
    assert (row["idCardType"], row["workType"], row["workRole"], row["isTeamLeader"]) == (
        "20",
        "020",
        "20",
        1,
    )
    assert row["idCardType"] in dictionaries.ID_CARD_TYPES and row["workType"] in dictionaries.WORK_TYPES


@pytest.mark.parametrize(
    ("category", "team", "work_type"),
    [("worker", "钢筋班组", "020"), ("worker", "古建筑传统木工班", "350"), ("worker", "木工二班", "240"),
     ("worker", "电工班", "130"), ("worker", "一班", None), ("manager", "一班", "900")],
)  # fmt: skip
def test_a_work_type_comes_from_the_trade_a_teams_name_carries(
    category: str, team: str, work_type: str | None
) -> None:
    assert dictionaries.work_type_of(category, team) == work_type


@given(st.lists(st.tuples(st.sampled_from("ABCDE"), st.integers()), max_size=200), st.integers(1, 25))
def test_batches_are_per_team_at_most_the_size_and_hold_every_item_exactly_once(
    items: list[tuple[str, int]], size: int
) -> None:
    tagged = list(enumerate(items))  # an identity per item, duplicates of value included
    cut = batches(tagged, key=lambda item: item[1][0], size=size)
    assert all(0 < len(batch) <= size for _, batch in cut)
    assert all(item[1][0] == team for team, batch in cut for item in batch)
    out = [item for _, batch in cut for item in batch]
    assert sorted(out) == tagged  # each exactly once
    for team in {t for t, _ in items}:  # and in their own order within a team
        assert [i for i, (t, _) in out if t == team] == [i for i, (t, _) in tagged if t == team]


def test_a_refusal_that_names_a_row_blames_that_row_only() -> None:
    assert states.row_at_fault("[dataList][3][date]不能大于当天!") == 3
    assert states.row_at_fault("[workerList][0][workType]参数值不正确") == 0
    assert states.row_at_fault("[teamSysNo]值超出范围或无效!") is None


def test_backoff_doubles_to_its_ceiling_and_a_rate_limit_waits_at_least_its_pause() -> None:
    policy = states.RetryPolicy(first_retry_s=10, max_retry_s=100, rate_limited_s=60)
    ceiling = policy.delays()
    waits = [states.wait_after(n, ceiling, policy, rate_limited=False) for n in range(1, 8)]
    ceilings = [min(100, 10 * 2**n) for n in range(7)]  # equal jitter: within [ceiling / 2, ceiling]
    assert all(c / 2 <= w <= c for c, w in zip(ceilings, waits, strict=True))
    assert states.wait_after(1, ceiling, policy, rate_limited=True) >= 60
