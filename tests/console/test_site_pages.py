"""在场人员, the access log and daily attendance by name, in headless Chromium, per role: the GC
project department, supervision, a subcontractor and a district bureau. The pages list the world's
people by name (never a ``per-`` id), their filters narrow (dates, direction, enterprise picked by
name, a name, an ID number searched without the number entering a URL), pages go older and come
back newer, and the CSV and Excel downloads hold exactly the filtered rows under Chinese headers,
ID numbers masked unless the role has the need. Desktop and phone screenshots of each page.

The console's world (tests/console/conftest.py) gets, while its hub runs: the people's real blind
indexes (the hub's data key), a team 钢筋班 that 王伟 works in, 60 passages on 10 May 2025 (two
pages), and an entry by 张敏 stamped in the future, which the hub does not believe.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from hub.events.journal import store_events
from hub.registry import IdVault, default_data_key_path, load_data_key
from hub.store import Store
from tests.console.conftest import AT, Console, shot
from tests.hub.factories import make_event
from tests.hub.oversight import world as w
from tests.hub.oversight.named_world import name_the_world
from tests.support.clock import FakeClock
from tests.support.postgres import run_in_thread
from wire.clock import SITE_ZONE
from wire.models import Direction

pytestmark = [pytest.mark.broker, pytest.mark.timeout(300)]

BUSY_DAY = date(2025, 5, 10)
BUSY_PASSAGES = 60
SUSPECT_AT = datetime(2026, 12, 1, 9, 0, tzinfo=SITE_ZONE)
"""Months after the hub's clock (AT): a lane's clock the hub does not believe."""
FIFTH = "from=2025-05-05&to=2025-05-06"


async def _add_to_world(database: Path, world: w.World) -> None:
    url = f"sqlite+aiosqlite:///{database}"
    vault = IdVault(load_data_key(default_data_key_path(url)))
    async with await Store.open(url, clock=FakeClock(AT)) as store:
        await name_the_world(store, world, vault, seal=False)  # conftest sealed them
        start = datetime(BUSY_DAY.year, BUSY_DAY.month, BUSY_DAY.day, 7, 0, tzinfo=SITE_ZONE)
        busy = [
            make_event(
                5000 + n,
                device_id="lane-a-in",
                project_id="proj-a",
                person_id="per-w2",
                wall_time=start + timedelta(minutes=n),
                direction=Direction.IN,
            )
            for n in range(BUSY_PASSAGES)
        ]
        suspect = make_event(
            7000, device_id="lane-a-in", project_id="proj-a", person_id="per-w3", wall_time=SUSPECT_AT,
            direction=Direction.IN,
        ).model_copy(update={"boot_id": "boot-0002"})  # fmt: skip
        await store_events(store, [*busy, suspect])


@pytest.fixture(scope="module")
def site(console: Console) -> Console:
    assert console.database is not None
    run_in_thread(_add_to_world(console.database, console.world))  # playwright's loop holds this thread
    return console


def number_of(console: Console, person_id: str) -> str:
    return console.world.id_numbers[list(w.PERSONS).index(person_id)]


def column(page: Any, table: str, css: str) -> list[str]:
    return page.locator(f"#{table} tbody td{css}").all_inner_texts()


def no_internal_ids(page: Any) -> None:
    assert "per-" not in page.locator("main").inner_text()


def phone_fits(console: Console, username: str, path: str, name: str) -> None:
    page = console.signed_in(username, phone=True)
    page.goto(console.base + path)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{path} is {width} px wide on a 390 px screen"
    shot(page, name)
    page.context.close()


def follow(page: Any, link: str) -> None:
    with page.expect_navigation():
        page.click(link)


def submit(page: Any) -> None:
    """The filter form, POSTed and redirected: wait for the page it lands on before reading it."""
    follow(page, "form.filters button[type=submit]")


def download(page: Any, selector: str, saved: Path) -> Path:
    with page.expect_download() as started:
        page.click(selector)
    started.value.save_as(saved)
    return saved


def csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def xlsx_rows(path: Path) -> tuple[list[str], list[list[Any]]]:
    sheet = openpyxl.load_workbook(path, read_only=True).active
    assert sheet is not None
    head, *rows = ([cell for cell in row] for row in sheet.iter_rows(values_only=True))
    return [str(h) for h in head], rows


def test_gc_on_site_by_name_with_counts_and_search(site: Console) -> None:
    page = site.signed_in("gc-a")
    page.goto(f"{site.base}/console/projects/proj-a")
    follow(page, ".subnav >> text=在场人员")
    assert page.locator("h1").inner_text().startswith("在场人员")
    # w1, m1, m2 on site (w2 left, x's assignment ended; w3's in is stale and his later, clock-suspect one counts nowhere)
    assert sorted(column(page, "people", ".name")) == sorted(["王伟", "刘静", "陈磊"])
    assert page.locator("#on-site-count").inner_text() == "3"
    assert "拱墅劳务有限公司" in page.locator("#by-enterprise").inner_text()
    assert "钢筋班\t1" in page.locator("#by-team").inner_text()
    assert "（未分班组）\t2" in page.locator("#by-team").inner_text()
    row = page.locator("#people tbody tr", has_text="王伟").inner_text()
    assert "钢筋班" in row and "作业人员" in row and "东门进" in row and "6月15日" in row
    assert all("*" in n for n in column(page, "people", ".id-number"))  # a GC department: masked
    no_internal_ids(page)
    shot(page, "site-gc-on-site")
    page.fill("input[name=who]", "刘")
    submit(page)
    assert column(page, "people", ".name") == ["刘静"]
    assert page.locator("#on-site-count").inner_text() == "3"  # the counts stay the site's
    number = number_of(site, "per-m2")
    page.fill("input[name=who]", number)
    submit(page)
    assert column(page, "people", ".name") == ["陈磊"]
    assert number not in page.url and "person_key=" in page.url
    assert "已按所查身份证号筛选" in page.locator("form.filters").inner_text()
    page.context.close()
    phone_fits(site, "gc-a", "/console/projects/proj-a/on-site", "phone-site-gc-on-site")


def test_gc_access_log_filters_pages_and_exports(site: Console, tmp_path: Path) -> None:
    page = site.signed_in("gc-a")
    page.goto(f"{site.base}/console/projects/proj-a/access-log?{FIFTH}")
    assert page.locator("#events tbody tr").count() == 9
    assert "刘静" in column(page, "events", ".name")
    assert "东门出" in page.locator("#events").inner_text()
    no_internal_ids(page)
    page.select_option("select[name=direction]", "out")
    submit(page)
    assert set(column(page, "events", ":nth-child(3)")) == {"出"}
    assert sorted(column(page, "events", ".name")) == sorted(["刘静", "王伟", "王伟", "王伟"])
    page.select_option("select[name=enterprise]", label="西湖建工集团")
    submit(page)
    assert column(page, "events", ".name") == ["刘静"]
    page.select_option("select[name=enterprise]", "")
    page.fill("input[name=who]", "王伟")
    submit(page)
    assert column(page, "events", ".name") == ["王伟", "王伟", "王伟"]
    assert page.locator("input[name=who]").input_value() == "王伟"  # what was typed is kept
    shot(page, "site-gc-access-log")
    saved = csv_rows(download(page, "#csv", tmp_path / "log.csv"))
    assert [r["姓名"] for r in saved] == ["王伟", "王伟", "王伟"]
    assert {r["方向"] for r in saved} == {"出"} and {r["班组"] for r in saved} == {"钢筋班"}
    assert all(r["时间（北京时间）"].startswith("2025-05-0") and "*" in r["身份证号"] for r in saved)
    head, rows = xlsx_rows(download(page, "#xlsx", tmp_path / "log.xlsx"))
    assert head[:7] == ["时间（北京时间）", "闸机", "通道", "方向", "结果", "原因", "姓名"]
    assert [r[6] for r in rows] == ["王伟", "王伟", "王伟"] and {r[3] for r in rows} == {"出"}
    page.context.close()


def test_pages_go_older_and_come_back_newer(site: Console) -> None:
    page = site.signed_in("gc-a")
    page.goto(f"{site.base}/console/projects/proj-a/access-log?from=2025-05-10&to=2025-05-10")
    first = column(page, "events", ":first-child")
    assert len(first) == 50 and page.locator("#newer-page").count() == 0
    follow(page, "#older-page")
    older = column(page, "events", ":first-child")
    assert len(older) == BUSY_PASSAGES - 50 and page.locator("#older-page").count() == 0
    assert older[0] < first[-1]  # the same day, earlier times
    shot(page, "site-gc-access-log-older")
    follow(page, "#newer-page")
    assert column(page, "events", ":first-child") == first
    assert page.locator("#newer-page").count() == 0
    page.context.close()


def test_a_passage_the_hub_does_not_believe_is_marked(site: Console) -> None:
    page = site.signed_in("sup-a")
    page.goto(f"{site.base}/console/projects/proj-a/access-log?from=2026-12-01&to=2026-12-01")
    row = page.locator("#events tbody tr")
    assert row.count() == 1
    assert "记录时间不可信：不计入在场人员和考勤" in row.inner_text()
    assert row.locator("span.note").get_attribute("data-code") == "clock_suspect"
    page.context.close()


def test_supervision_reads_the_whole_log_and_exports_it(site: Console, tmp_path: Path) -> None:
    page = site.signed_in("sup-a")
    page.goto(f"{site.base}/console/projects/proj-a/access-log?{FIFTH}")
    assert set(column(page, "events", ".name")) == {"王伟", "李芳", "刘静"}
    assert len(page.locator("select[name=enterprise] option").all_inner_texts()) == 4  # any + 3
    shot(page, "site-supervision-access-log")
    head, rows = xlsx_rows(download(page, "#xlsx", tmp_path / "log.xlsx"))
    assert "身份证号" in head and len(rows) == 9
    assert all("*" in str(r[head.index("身份证号")]) for r in rows)  # supervision: masked
    english = page.request.get(site.base + page.locator("#xlsx").get_attribute("href") + "&lang=en")
    sheet = openpyxl.load_workbook(io.BytesIO(english.body()), read_only=True).active
    assert sheet is not None
    assert [c.value for c in next(sheet.iter_rows(max_row=1))][:4] == [
        "Time (Beijing)",
        "Gate",
        "Lane",
        "Direction",
    ]
    page.context.close()
    phone_fits(
        site, "sup-a", f"/console/projects/proj-a/access-log?{FIFTH}", "phone-site-supervision-access-log"
    )


def test_a_subcontractor_sees_its_own_people_only(site: Console, tmp_path: Path) -> None:
    page = site.signed_in("sub-a")
    page.goto(f"{site.base}/console/projects/proj-a/access-log?{FIFTH}")
    assert set(column(page, "events", ".name")) == {"王伟", "李芳"}
    assert page.locator("select[name=enterprise] option").all_inner_texts() == ["全部", "拱墅劳务有限公司"]
    assert {r["姓名"] for r in csv_rows(download(page, "#csv", tmp_path / "sub.csv"))} == {"王伟", "李芳"}
    shot(page, "site-sub-access-log")
    page.goto(f"{site.base}/console/projects/proj-a/on-site")
    assert column(page, "people", ".name") == ["王伟"]
    shot(page, "site-sub-on-site")
    page.context.close()


def test_a_district_bureau_sees_whole_id_numbers_in_attendance(site: Console, tmp_path: Path) -> None:
    page = site.signed_in("district-xihu")
    page.goto(f"{site.base}/console/projects/proj-a/attendance?{FIFTH}")
    assert page.locator("h1").inner_text().startswith("每日考勤")
    names = column(page, "attendance", ".name")
    assert sorted(names) == sorted(["王伟", "王伟", "刘静", "李芳"])
    assert number_of(site, "per-m1") in column(page, "attendance", ".id-number")
    page.select_option("select[name=enterprise]", label="拱墅劳务有限公司")
    submit(page)
    assert sorted(column(page, "attendance", ".name")) == sorted(["王伟", "王伟", "李芳"])
    shot(page, "site-district-attendance")
    saved = csv_rows(download(page, "#csv", tmp_path / "attendance.csv"))
    assert sorted(r["姓名"] for r in saved) == sorted(["王伟", "王伟", "李芳"])
    assert number_of(site, "per-w1") in {r["身份证号"] for r in saved}  # a bureau has the need
    head, rows = xlsx_rows(download(page, "#xlsx", tmp_path / "attendance.xlsx"))
    assert head[:3] == ["日期", "姓名", "身份证号"] and len(rows) == 3
    page.goto(f"{site.base}/console/projects/proj-a/on-site")
    assert number_of(site, "per-m1") in column(page, "people", ".id-number")
    page.context.close()
    phone_fits(
        site,
        "district-xihu",
        f"/console/projects/proj-a/attendance?{FIFTH}",
        "phone-site-district-attendance",
    )


def test_a_bad_range_is_named_beside_its_field(site: Console) -> None:
    page = site.signed_in("gc-a")
    page.goto(f"{site.base}/console/projects/proj-a/attendance?from=2025-05-06&to=2025-05-05")
    assert "不能早于起始日期" in page.locator("#error-to").inner_text()
    assert page.locator("input[name=from]").input_value() == "2025-05-06"
    assert page.locator("input[name=to]").get_attribute("aria-invalid") == "true"
    assert page.locator("input[name=from]").get_attribute("aria-invalid") is None
    assert page.locator("#csv").count() == 0
    page.goto(f"{site.base}/console/projects/proj-a/access-log?from=2025-01-01&to=2025-05-06")
    assert "一次导出最多 31 天" in page.locator("#no-export").inner_text()
    response = page.request.get(
        f"{site.base}/console/projects/proj-a/access-log.csv?from=2025-01-01&to=2025-05-06"
    )
    assert response.status == 400
    page.context.close()


def test_the_month_by_name_team_and_enterprise_with_its_downloads(site: Console, tmp_path: Path) -> None:
    page = site.signed_in("gc-a")
    page.goto(f"{site.base}/console/projects/proj-a/attendance/monthly?month=2025-05")
    assert "2025年5月" in page.locator("h1").inner_text()
    assert column(page, "monthly", ".name") == ["王伟", "李芳", "刘静"]  # by enterprise, team, name
    assert "钢筋班" in page.locator("#monthly tbody tr", has_text="王伟").inner_text()
    no_internal_ids(page)
    page.select_option("select[name=enterprise]", label="西湖建工集团")
    submit(page)
    assert column(page, "monthly", ".name") == ["刘静"]
    assert "2025年5月" in page.locator("h1").inner_text()  # the month is kept
    shot(page, "site-gc-attendance-month")
    head, rows = xlsx_rows(download(page, "#xlsx", tmp_path / "month.xlsx"))
    assert head[:3] == ["月份", "姓名", "身份证号"] and [r[:2] for r in rows] == [["2025-05", "刘静"]]
    assert [r["姓名"] for r in csv_rows(download(page, "#csv", tmp_path / "month.csv"))] == ["刘静"]
    page.context.close()


def test_a_district_bureau_sets_and_clears_the_completion_date(site: Console) -> None:
    """竣工: the bureau's form on the project's page (hub.console.views_completion), in the browser;
    the GC's department reads it. The words and the refusals: tests/hub/retention/test_completion_http.py."""
    page = site.signed_in("district-xihu")
    page.goto(f"{site.base}/console/projects/proj-a")
    assert page.locator("#completed-on").inner_text().startswith("未竣工")
    page.fill("#completion-form input[name=completed_on]", "2026-01-15")
    page.click("#save-completion")
    assert page.locator("#completed-on").inner_text() == "2026年1月15日"
    assert page.locator("#kept-until").inner_text() == "2029年1月15日"
    shot(page, "project-completion")
    reader = site.signed_in("gc-a")
    reader.goto(f"{site.base}/console/projects/proj-a")
    assert reader.locator("#kept-until").inner_text() == "2029年1月15日"
    assert reader.locator("#completion-form").count() == 0
    reader.context.close()
    page.click("#clear-completion")  # not confirmed: refused beside the box
    assert "请勾选" in page.locator("#error-confirmed").inner_text()
    page.check("#completion-form input[name=confirmed]")
    page.click("#clear-completion")
    assert page.locator("#completed-on").inner_text().startswith("未竣工")
    page.context.close()
