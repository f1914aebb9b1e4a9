"""The README's pictures of the console: the main pages in Chinese at desktop (1280×800) and phone
(390×844) sizes, photographed in Chromium to ``artifacts/console/<page>-desktop.png`` and
``<page>-phone.png`` (the names other tests use for the same pages), then put on one contact sheet,
``artifacts/console/contact-sheet.png`` (:mod:`tests.console.contact_sheet`; copied to
``docs/console.png`` for the README by ``python -m tests.console.contact_sheet``).

Which main pages: those of :data:`MAIN_PAGES` the console has when the test runs. The committed
sheet is checked without a browser: the pages it names are still console pages, and its size is
the size a sheet of that many pages has (not its pixels)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

import pytest

from hub.console import CONSOLE_ROUTES
from tests.console import contact_sheet as sheets
from tests.console.conftest import ARTIFACTS, Console

ROOT: Final = Path(__file__).resolve().parents[2]
PROJECT: Final = "/console/projects/{project_id}"
MAIN_PAGES: Final = (
    ("gc-a", sheets.SheetPage("overview", "首页 · 提醒", "/console/")),
    ("gc-a", sheets.SheetPage("on-site", "在场人员", PROJECT + "/on-site")),
    ("gc-a", sheets.SheetPage("project", "项目概况", PROJECT)),
    ("gc-a", sheets.SheetPage("access-log", "进出记录", PROJECT + "/access-log")),
    ("gc-a", sheets.SheetPage("attendance", "考勤", PROJECT + "/attendance")),
    ("gc-a", sheets.SheetPage("registration", "进场登记", PROJECT + "/registration")),
    ("gc-a", sheets.SheetPage("teams", "班组", PROJECT + "/teams")),
    ("gc-a", sheets.SheetPage("gates", "闸机与通道", PROJECT + "/gates")),
    ("gc-a", sheets.SheetPage("site-rules", "现场规则", PROJECT + "/site-rules")),
    ("operator", sheets.SheetPage("devices", "设备状态", "/console/devices")),
)
"""(account, page): the pages a site's day goes through, in the README's order."""
CONSOLE_PAGES: Final = frozenset(route.path for route in CONSOLE_ROUTES if route.method == "GET")


def existing() -> list[tuple[str, sheets.SheetPage]]:
    return [(who, page) for who, page in MAIN_PAGES if page.path in CONSOLE_PAGES]


def _url(console: Console, page: sheets.SheetPage) -> str:
    return console.base + page.path.replace("{project_id}", "proj-a")


@pytest.mark.broker
@pytest.mark.timeout(600)
def test_the_main_pages_are_photographed_at_both_sizes_and_put_on_a_sheet(console: Console) -> None:
    pages = existing()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert len(pages) >= 5  # the overview, the project, the access log, attendance, site rules at least
    for size, viewport, phone in (("desktop", sheets.DESKTOP, False), ("phone", sheets.PHONE, True)):
        for username in sorted({who for who, _ in pages}):
            browser_page = console.signed_in(username, phone=phone)
            browser_page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
            for who, page in pages:
                if who != username:
                    continue
                response = browser_page.goto(_url(console, page))
                assert response is not None and response.status == 200, page
                assert browser_page.locator("html").get_attribute("lang") == "zh-CN"
                assert re.search(r"[\u4e00-\u9fff]", browser_page.locator("h1").first.inner_text()), page
                browser_page.screenshot(path=str(ARTIFACTS / f"{page.name}-{size}.png"))
            browser_page.context.close()
    sheet, info = sheets.build([page for _, page in pages], ARTIFACTS)
    assert sheet.size == sheets.sheet_size(len(pages))
    sheets.save(sheet, info, ARTIFACTS / "contact-sheet.png")
    assert [p.name for p in sheets.pages_of(ARTIFACTS / "contact-sheet.png")] == [p.name for _, p in pages]


def test_the_committed_sheet_shows_pages_the_console_has() -> None:
    """Not stale in shape: every page it names is still a console page, it has the size a sheet
    of that many pages has, it is small, and the README shows it."""
    committed = sheets.COMMITTED
    assert committed.exists(), "python -m tests.console.contact_sheet writes it"
    named = sheets.pages_of(committed)
    assert len(named) >= 5
    assert len({p.name for p in named}) == len(named)
    gone = [p.path for p in named if p.path not in CONSOLE_PAGES]
    assert not gone, f"the sheet shows pages the console no longer has: {gone}; remake it"
    known = {page.name: page.path for _, page in MAIN_PAGES}
    assert all(known.get(p.name) == p.path for p in named), "a page on the sheet is not in MAIN_PAGES"
    with sheets.Image.open(committed) as image:
        assert image.size == sheets.sheet_size(len(named))
    assert committed.stat().st_size < 800 * 1024
    assert "](docs/console.png)" in (ROOT / "README.md").read_text(encoding="utf-8")
