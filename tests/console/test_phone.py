"""Every console page on a phone (390×844, Chinese), in Chromium: nothing wider than the screen
(``document.documentElement.scrollWidth <= 390``) and every table laid out as cards, each cell
showing its column's header before its value (``data-label``, written by hub/console/cards.py,
shown by the stylesheet's ``td::before``).

The pages are the console's own GET routes (:data:`hub.console.CONSOLE_ROUTES`), so a page added
later is checked without anyone adding it here; a route with a path parameter this module has no
example for fails until one is added to :data:`EXAMPLES`. Downloads (CSV, xlsx, JSON, PDF) are not pages,
nor the API's handlers the console serves for its scripts (the card reads' long poll)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from hub.console import CONSOLE_ROUTES
from tests.console.conftest import Console

pytestmark = [pytest.mark.broker, pytest.mark.timeout(600)]

PHONE = {"width": 390, "height": 844}
ACCOUNTS = ("gc-a", "city", "sup-a", "operator", "ent-gc1")
"""Who opens a page: the first of these it answers with a page (a role that sees the most first)."""
EXAMPLES = {"project_id": "proj-a", "device_id": "lane-a-in", "inspection_id": "1", "bulletin_id": "1"}
"""A value for each path parameter of a console page (``order_id`` comes from the world)."""
DOWNLOAD = re.compile(r"\.(csv|xlsx|json|pdf)$|/photos/\{photo_id\}$")
"""Files, not pages: downloads, and an inspection's photos (an image each)."""
PARAMETER = re.compile(r"\{(\w+)(?::[^}]*)?\}")

PAGES = sorted(
    {
        route.path
        for route in CONSOLE_ROUTES
        if route.method == "GET"
        and not DOWNLOAD.search(route.path)
        and route.handler.__module__.startswith("hub.console.")  # not an API handler served here
    }
)

CELLS = """() => [...document.querySelectorAll('table')]
  .filter((table) => table.querySelector('thead th'))
  .flatMap((table) => {
    const columns = table.querySelectorAll('thead th').length;
    return [...table.querySelectorAll('tbody td')].map((td) => ({
      table: table.id || '(table)', columns, span: td.colSpan, label: td.dataset.label ?? null,
      before: getComputedStyle(td, '::before').content, display: getComputedStyle(td).display,
      text: td.innerText.trim().slice(0, 40), empty: td.childNodes.length === 0,
    }));
  })"""


def concrete(path: str, console: Console) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "order_id":
            return str(console.order_id)
        if name not in EXAMPLES:
            pytest.fail(f"{path}: no example {name} in tests/console/test_phone.py EXAMPLES")
        return EXAMPLES[name]

    return PARAMETER.sub(value, path)


class Phones:
    """One phone-sized, logged-in browser context per account, made when first needed."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.pages: dict[str, Any] = {}

    def page(self, username: str | None) -> Any:
        key = username or "(anonymous)"
        if key not in self.pages:
            if username is None:
                context = self.console.browser.new_context(viewport=PHONE, locale="zh-CN")
                self.pages[key] = context.new_page()
            else:
                self.pages[key] = self.console.signed_in(username, phone=True)
        return self.pages[key]

    def open(self, path: str) -> Any:
        """The page at ``path`` as the first account it answers with HTML."""
        url = self.console.base + concrete(path, self.console)
        for username in (None,) if path == "/console/login" else ACCOUNTS:
            page = self.page(username)
            response = page.goto(url)
            if response is not None and response.status == 200:
                assert response.headers.get("content-type", "").startswith("text/html"), path
                return page
        pytest.fail(f"{path}: no account in {ACCOUNTS} is shown this page")


@pytest.fixture(scope="module")
def phones(console: Console) -> Iterator[Phones]:
    found = Phones(console)
    yield found
    for page in found.pages.values():
        page.context.close()


def test_the_pages_are_found() -> None:
    """The route table was read (a wrong filter would make every other test here vacuous)."""
    assert {"/console/", "/console/projects/{project_id}/access-log", "/console/login"} <= set(PAGES)


@pytest.mark.parametrize("path", PAGES)
def test_a_page_fits_a_phone_and_its_tables_are_labelled_cards(phones: Phones, path: str) -> None:
    page = phones.open(path)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} is {width} px wide on a {PHONE['width']} px phone"
    for cell in page.evaluate(CELLS):
        if cell["display"] == "none":
            assert cell["empty"], cell  # only a field with nothing in it is left out of its card
            continue
        assert cell["display"] == "block", cell  # a card's line, not a table column
        if cell["span"] >= cell["columns"] > 1:
            continue  # a row across the whole table ("nobody on site"): no column to name
        assert cell["label"], f"{path}: a cell of #{cell['table']} without its header: {cell}"
        assert cell["before"] == json.dumps(cell["label"], ensure_ascii=False), cell


def test_a_known_table_shows_its_headers_in_chinese_on_a_phone(phones: Phones) -> None:
    page = phones.open("/console/projects/{project_id}/site-rules")
    cells = [c for c in page.evaluate(CELLS) if c["table"] == "lanes"]
    assert [c["label"] for c in cells[:4]] == ["闸机", "通道", "已应用的名单版本", "状态"]
    assert cells[0]["text"] == "东门进"
    box = page.locator("#lanes tbody tr").first.bounding_box()
    assert box is not None and box["width"] <= PHONE["width"]
