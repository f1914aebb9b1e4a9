"""The monthly report and the bureaus' contacts in Chromium: 西湖's bureau fills its contacts
(a bad phone number refused beside the field, what was typed kept), then prints its month: the
report carries the contacts, the unit and the period, and its tables fit an A4 page in print;
the city's summaries page fits a 1366×768 screen without scrolling sideways. Screenshots in
artifacts/console/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.conftest import AT, Console, shot

OVERFLOW = """() => {
  const root = document.scrollingElement;
  const wide = [...document.querySelectorAll('.scroll, table')]
    .filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => `${e.id || e.className || e.tagName}: ${e.scrollWidth} > ${e.clientWidth}`);
  if (root.scrollWidth > root.clientWidth + 1) wide.push(`page: ${root.scrollWidth} > ${root.clientWidth}`);
  return wide;
}"""
"""What scrolls sideways on the page: the page itself, or any table or scrolling box in it."""


def _line(page: Any, district: str, role: str) -> Any:
    return page.locator(f"#contacts-{district} form[data-role={role}]")


def test_a_bureau_fills_its_contacts_and_prints_its_month(console: Console) -> None:
    page = console.login("district-xihu")
    page.click("header nav a[href='/console/reports']")
    page.click("a[href='/console/contacts']")
    assert "各区住建局联系人" in page.inner_text("h1")
    assert page.locator("section.contacts").count() == 1  # its own district only
    leader = _line(page, "330106", "leader_in_charge")
    leader.locator("input[name=name]").fill("赵分管")
    leader.locator("input[name=title]").fill("副局长")
    leader.locator("input[name=phone]").fill("电话号码")
    leader.locator("button[type=submit]").click()
    leader = _line(page, "330106", "leader_in_charge")
    assert leader.locator(".field-error").count() == 1
    assert leader.locator("input[name=name]").input_value() == "赵分管"  # what was typed is kept
    assert leader.locator("input[name=phone]").get_attribute("aria-invalid") == "true"
    leader.locator("input[name=phone]").fill("0571-87000001")
    leader.locator("button[type=submit]").click()
    daily = _line(page, "330106", "daily_contact")
    daily.locator("input[name=name]").fill("钱联系")
    daily.locator("input[name=phone]").fill("13800000001")
    daily.locator("button[type=submit]").click()
    assert _line(page, "330106", "daily_contact").locator("input[name=name]").input_value() == "钱联系"
    shot(page, "contacts_district")

    page.goto(console.base + "/console/reports?month=" + AT.strftime("%Y-%m"))
    assert page.inner_text("#report-unit") == "西湖区住房和城乡建设局"
    assert f"{AT.year}年{AT.month}月" in page.inner_text("#report-period")
    contacts = page.inner_text("#report-contacts")
    assert "分管领导" in contacts and "赵分管" in contacts and "0571-87000001" in contacts
    assert "拱墅区" not in page.inner_text("#report-districts")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 718, "height": 1016})  # A4 less the report's margins, at 96 dpi
    assert page.locator("header.top").is_hidden() and page.locator("form.noprint").is_hidden()
    assert page.evaluate(OVERFLOW) == []
    shot(page, "report_district_print")
    page.emulate_media(media="screen")
    with page.expect_download() as pdf:
        page.click("#report-pdf")
    assert pdf.value.suggested_filename == f"report_330106_{AT:%Y-%m}.pdf"
    with page.expect_download() as xlsx:
        page.click("#report-xlsx")
    assert xlsx.value.suggested_filename == f"report_330106_{AT:%Y-%m}.xlsx"


@pytest.mark.parametrize("locale", ["zh-CN", "en-GB"])
def test_the_citys_summaries_fit_1366_px(console: Console, locale: str) -> None:
    """English's longer headers overflowed the per-project table by 100 px at 1366 px (issue 15)."""
    page = console.signed_in("city", locale=locale)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(console.base + "/console/summaries")
    assert page.locator("#project-summary tbody tr").count() >= 3
    assert page.evaluate(OVERFLOW) == []
    shot(page, f"summaries_city_1366_{locale}")
    page.goto(console.base + "/console/reports")
    assert page.inner_text("#report-unit") == (
        "市建管站" if locale == "zh-CN" else "City construction supervision station"
    )
    assert page.evaluate(OVERFLOW) == []
    shot(page, f"report_city_1366_{locale}")
