"""Every console page on a 1366×768 laptop (the regulators' usual screen), in Chromium, for the
city station, a district bureau, an enterprise and the hub operator: no horizontal scroll, neither
the page's (``document.documentElement.scrollWidth <= 1366``) nor a wide table's inside its
``.scroll`` box.

The pages are the console's own GET routes (:data:`hub.console.CONSOLE_ROUTES`, as
tests/console/test_phone.py reads them), so a page added later is checked without anyone adding it
here. Each account opens each page; a page that refuses an account (403, 404) is not that account's
page. A page no account of the four is shown fails (a path parameter without an example here, or a
page none of these roles uses: then it belongs in :data:`NONE_OF_THESE`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.console import test_phone as phone
from tests.console.conftest import Console
from tests.console.test_phone import PAGES

pytestmark = [pytest.mark.broker, pytest.mark.timeout(600)]

LAPTOP = {"width": 1366, "height": 768}
DOWNLOAD = re.compile(r"\.(csv|xlsx|json|pdf)$")
"""Not pages: downloads (the PDFs too)."""
ACCOUNTS = ("city", "district-xihu", "ent-gc1", "operator")
EXAMPLES = {"inspection_id": "1"}
"""Path parameters test_phone has no example for (the world's one inspection)."""
NONE_OF_THESE = frozenset(
    {
        "/console/login",  # before signing in: opened anonymously below
        "/console/projects/{project_id}/registration",  # the project departments' desk
        "/console/projects/{project_id}/teams",
        "/console/bulletins/{bulletin_id}",  # the console's world issues no 通报
        "/console/inspections/{inspection_id}/photos/{photo_id}",  # an image, not a page
    }
)
"""Pages the four accounts are not shown (or not in the console's world): not checked here."""

OVERFLOW = """() => ({
  page: document.documentElement.scrollWidth,
  boxes: [...document.querySelectorAll('.scroll, table, pre')]
    .filter((el) => el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible')
    .map((el) => `${el.tagName.toLowerCase()}#${el.id || el.firstElementChild?.id || '?'}: ${el.scrollWidth} > ${el.clientWidth}`),
})"""


def concrete(path: str, console: Console) -> str:
    """``path`` with test_phone's examples (a project, a lane, the world's order) and an inspection's."""
    for name, value in EXAMPLES.items():
        path = path.replace(f"{{{name}}}", value)
    return phone.concrete(path, console)


@pytest.fixture(scope="module")
def laptops(console: Console) -> Iterator[dict[str, Any]]:
    pages: dict[str, Any] = {}
    for username in ACCOUNTS:
        page = console.signed_in(username)
        page.set_viewport_size(LAPTOP)
        pages[username] = page
    yield pages
    for page in pages.values():
        page.context.close()


def test_the_pages_are_found() -> None:
    assert {"/console/", "/console/summaries", "/console/departments"} <= set(PAGES)


@pytest.mark.parametrize("path", [p for p in PAGES if p not in NONE_OF_THESE and not DOWNLOAD.search(p)])
def test_a_page_fits_1366_px_for_every_account_it_is_shown_to(
    console: Console, laptops: dict[str, Any], path: str
) -> None:
    url = console.base + concrete(path, console)
    shown = []
    for username, page in laptops.items():
        response = page.goto(url)
        if response is None or response.status != 200:
            continue
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        shown.append(username)
        found = page.evaluate(OVERFLOW)
        assert found["page"] <= LAPTOP["width"], f"{path} as {username}: {found['page']} px wide"
        assert not found["boxes"], f"{path} as {username} scrolls sideways: {found['boxes']}"
    assert shown, f"{path}: none of {ACCOUNTS} is shown this page"


def test_the_sign_in_page_fits(console: Console) -> None:
    context = console.browser.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    page.goto(console.base + "/console/login")
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    context.close()
