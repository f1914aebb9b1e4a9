# ruff: noqa: F811 - the fixtures api and clock are imported from the workflows' conftest
"""The monthly report (按月汇总) over HTTP, on both stores, on the workflows' known world: the
figures, the issuing unit, the period and the bureau's contacts, in the page, the workbook and the
PDF; a bureau's report is its own district's; the month is the Beijing calendar's, across the
midnight that starts a month."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from hub.workflows import deductions, orders
from hub.workflows.contacts import ContactIn, ContactRole, DistrictContacts
from hub.workflows.models import DeductionIn, OrderIn
from tests.console.pdf_fonts import embedded_fonts, pdf_text
from tests.hub.oversight import world as w
from tests.hub.workflows.conftest import Api, api, clock  # noqa: F401 - the workflows' app on both stores
from tests.support.accounts import TEST_PASSWORD
from tests.support.clock import site_time

MAY = {"month": "2025-05"}
FIRST_OF_JUNE = site_time(2025, 6, 1, 0, 0, 0)
LAST_OF_MAY = FIRST_OF_JUNE - timedelta(seconds=1)


async def _login(api: Api, username: str) -> None:
    response = await api.client.post(
        "/console/login", data={"username": username, "password": TEST_PASSWORD}, allow_redirects=False
    )
    assert response.status == 303, await response.text()


async def _get(api: Api, path: str, params: dict[str, str] | None = None, status: int = 200) -> Any:
    response = await api.client.get(path, params=params or {}, allow_redirects=False)
    assert response.status == status, await response.text()
    return response


async def _may(api: Api) -> None:
    """An order issued on 5 May 2025 and due in May, never answered; a deduction of 4 points."""
    xihu = api.principals["district-xihu"]
    issued = w.at(w.DAY, 10)
    data = OrderIn(project_id="proj-a", subject="s", requirements="r", deadline=w.DAY + timedelta(days=3))
    order = await orders.Orders(api.store, xihu).issue(data, now=issued)
    deduction = DeductionIn(enterprise_id="ent-gc1", points=4, reason="r", order_id=order.id)
    await deductions.Deductions(api.store, xihu).deduct(deduction, now=issued + timedelta(days=5))
    contact = ContactIn(name="赵分管", title="副局长", phone="0571-87000001")
    await DistrictContacts(api.store, xihu).save(w.XIHU, ContactRole.LEADER_IN_CHARGE, contact, now=issued)


def _sheet_rows(body: bytes) -> list[tuple[Any, ...]]:
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet is not None
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def _table(rows: list[tuple[Any, ...]], *header: str) -> list[tuple[Any, ...]]:
    """The rows under the header row that starts with ``header``, cut to the header's width."""
    start = next(i for i, row in enumerate(rows) if row[: len(header)] == header)
    width = len([cell for cell in rows[start] if cell is not None])
    found = []
    for row in rows[start + 1 :]:
        if all(cell is None for cell in row):
            break
        found.append(row[:width])
    return found


def _districts(rows: list[tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
    return {row[0]: row for row in _table(rows, "区县", "有施工许可的项目")}


async def test_a_bureaus_workbook_has_its_figures_unit_period_and_contacts(api: Api) -> None:
    await _may(api)
    await _login(api, "district-xihu")
    response = await _get(api, "/console/reports/report.xlsx", MAY)
    assert 'filename="report_330106_2025-05.xlsx"' in response.headers["Content-Disposition"]
    rows = _sheet_rows(await response.read())
    assert rows[1][:2] == ("报送单位", "西湖区住房和城乡建设局")
    assert rows[2][:2] == ("统计期间", "2025-05-01 – 2025-05-31")
    districts = _districts(rows)
    assert list(districts) == ["西湖区"]  # its own district only
    # orders issued, overdue, deductions, points (as tests/hub/workflows/test_summaries.py counts them)
    assert districts["西湖区"][7:] == (1, 1, 1, 4)
    projects = _table(rows, "项目", "区县")
    assert {row[0] for row in projects} == {"测试工程 proj-a", "测试工程 proj-c"}
    assert all(row[1] == "西湖区" for row in projects)
    assert _table(rows, "区县", "职责") == [
        ("西湖区", "分管领导", "赵分管", "副局长", "0571-87000001"),
        ("西湖区", "部门领导", None, None, None),
        ("西湖区", "日常联系人", None, None, None),
    ]

    june = _sheet_rows(await (await _get(api, "/console/reports/report.xlsx", {"month": "2025-06"})).read())
    assert _districts(june)["西湖区"][7:] == (0, 0, 0, 0)


async def test_the_citys_report_is_every_district_or_one(api: Api) -> None:
    await _may(api)
    await _login(api, "city")
    rows = _sheet_rows(await (await _get(api, "/console/reports/report.xlsx", MAY)).read())
    assert rows[1][1] == "市建管站"
    assert len(_districts(rows)) > 1
    one = _sheet_rows(
        await (await _get(api, "/console/reports/report.xlsx", {**MAY, "district": w.GONGSHU})).read()
    )
    assert list(_districts(one)) == ["拱墅区"]
    await _get(api, "/console/reports", {**MAY, "district": "999999"}, status=404)


async def test_a_bureau_cannot_ask_for_another_district(api: Api) -> None:
    await _login(api, "district-gongshu")
    rows = _sheet_rows(
        await (await _get(api, "/console/reports/report.xlsx", {**MAY, "district": w.XIHU})).read()
    )
    assert list(_districts(rows)) == ["拱墅区"]


@pytest.mark.parametrize("who", ["gc-a", "ent-gc1", "operator"])
async def test_no_report_for_other_roles(api: Api, who: str) -> None:
    await _login(api, who)
    for path in ("/console/reports", "/console/reports/report.xlsx", "/console/contacts"):
        await _get(api, path, status=403)


async def test_the_pdf_has_the_unit_the_period_and_an_embedded_cjk_font(api: Api) -> None:
    await _may(api)
    await _login(api, "district-xihu")
    response = await _get(api, "/console/reports/report.pdf", MAY)
    assert response.content_type == "application/pdf"
    pdf = await response.read()
    text = pdf_text(pdf)
    assert "西湖区住房和城乡建设局" in text
    assert "2025年5月" in text
    assert "赵分管" in text and "0571-87000001" in text
    assert any("CJK" in name for name in embedded_fonts(pdf)), embedded_fonts(pdf)


@pytest.mark.parametrize(
    ("clock", "month", "deductions_counted"),
    [(LAST_OF_MAY, "2025-05", 2), (FIRST_OF_JUNE, "2025-06", 1)],
    indirect=["clock"],
    ids=["23:59:59 on 31 May", "00:00 on 1 June"],
)
async def test_this_month_is_the_beijing_calendars(api: Api, month: str, deductions_counted: int) -> None:
    """Two deductions, one second either side of midnight on 1 June (Beijing): the report opened
    without a month is the clock's month, and counts the deduction made in it."""
    xihu = api.principals["district-xihu"]
    deducting = deductions.Deductions(api.store, xihu)
    for at in (LAST_OF_MAY - timedelta(minutes=1), LAST_OF_MAY):
        await deducting.deduct(DeductionIn(enterprise_id="ent-gc1", points=1, reason="r"), now=at)
    await deducting.deduct(DeductionIn(enterprise_id="ent-gc1", points=1, reason="r"), now=FIRST_OF_JUNE)
    await _login(api, "district-xihu")
    rows = _sheet_rows(await (await _get(api, "/console/reports/report.xlsx")).read())
    assert rows[2][1].startswith(month)
    assert _districts(rows)["西湖区"][9] == deductions_counted
