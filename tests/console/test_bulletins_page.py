"""通报 in Chromium: 西湖's bureau issues a 通报批评 naming a project and its manager (picked by name)
with a sanction; the printable page carries the issuer, number, date, recipients, text and seal
block (screenshot, print media); its PDF has the text in an embedded CJK font; the project's GC
department lists it and sees the sanction beside the project (its page, the projects list) and the
manager (the project page, on site now, the registration roster); 拱墅's bureau cannot open it."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.console.conftest import AT, Console, shot
from tests.console.pdf_fonts import embedded_fonts, pdf_text
from wire.clock import SITE_ZONE

TITLE = "关于测试工程拒不落实实名制管理的通报"
BODY = "经检查，该项目未按要求落实进离场读卡，现予通报批评。"


def _issue(console: Console) -> str:
    """The bulletin's page URL, issued by 西湖's bureau."""
    page = console.signed_in("district-xihu")
    page.goto(f"{console.base}/console/bulletins")
    page.click("#issue-bulletin >> xpath=ancestor::details/summary")
    page.select_option("#issue-bulletin select[name=kind]", "criticism")
    page.fill("#issue-bulletin input[name=title]", TITLE)
    page.select_option("#issue-bulletin select[name=project_pick]", "proj-a")  # 西湖 has few: a select
    page.fill("#issue-bulletin [name=leader]", "刘静")
    page.fill("#issue-bulletin textarea[name=body]", BODY)
    until = (AT.astimezone(SITE_ZONE).date() + timedelta(days=365)).isoformat()
    page.fill("#issue-bulletin input[name=sanction_until]", until)
    page.fill("#issue-bulletin input[name=sanction_reason]", "拒不落实实名制管理")
    page.click("#issue-bulletin button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/bulletins/\d+$"))
    return str(page.url)


def test_issue_print_pdf_and_who_sees_it(console: Console) -> None:
    url = _issue(console)
    page = console.signed_in("district-xihu")
    page.goto(url)
    year = AT.astimezone(SITE_ZONE).year
    assert re.fullmatch(rf"西湖建实名通〔{year}〕\d+号", page.inner_text("#bulletin-number"))
    assert page.inner_text("#bulletin-issuer") == "西湖区住房和城乡建设局"
    assert "测试工程 proj-a" in page.inner_text("#bulletin-recipients")
    assert "刘静" in page.inner_text("#bulletin-recipients")
    assert page.inner_text("#bulletin-body") == BODY
    assert "标准化样板工地" in page.inner_text("#bulletin-sanctions")
    assert "盖章" in page.inner_text("#bulletin-seal")
    page.emulate_media(media="print")
    shot(page, "bulletin-print")
    page.emulate_media(media="screen")

    pdf = page.request.get(console.base + page.locator("#bulletin-pdf").get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.body())
    assert TITLE in text and "西湖区住房和城乡建设局" in text
    assert any("CJK" in name for name in embedded_fonts(pdf.body()))

    gc = console.signed_in("gc-a")
    gc.goto(f"{console.base}/console/bulletins")
    assert TITLE in gc.inner_text("#bulletins")
    gc.goto(url)
    assert gc.inner_text("#bulletin-body") == BODY
    gc.goto(f"{console.base}/console/projects/proj-a")
    assert "标准化样板工地" in gc.inner_text("#project-sanctions")
    assert gc.locator('#managers [data-sanction="person:per-m1"]').count() >= 1
    shot(gc, "project-sanctioned")
    gc.goto(f"{console.base}/console/projects")
    assert gc.locator('#projects [data-sanction="project:proj-a"]').count() == 1
    gc.goto(f"{console.base}/console/projects/proj-a/on-site")
    assert gc.locator('#people [data-sanction="person:per-m1"]').count() == 1
    gc.goto(f"{console.base}/console/projects/proj-a/registration")
    assert gc.locator('#roster [data-sanction="person:per-m1"]').count() >= 1
    gc.goto(f"{console.base}/console/orders")  # the orders to the project carry it too
    assert gc.locator('[data-sanction="project:proj-a"]').count() >= 1
    enterprise = console.signed_in("ent-gc1")  # and the GC enterprise's view of its departments
    enterprise.goto(f"{console.base}/console/departments")
    assert enterprise.locator('#departments [data-sanction="project:proj-a"]').count() == 1

    other = console.signed_in("district-gongshu")
    response = other.goto(url)
    assert response is not None and response.status == 404
    other.goto(f"{console.base}/console/bulletins")
    assert TITLE not in other.inner_text("main")


def test_a_bulletin_to_nobody_is_refused_beside_the_project(console: Console) -> None:
    page = console.signed_in("district-xihu")
    page.goto(f"{console.base}/console/bulletins")
    page.click("#issue-bulletin >> xpath=ancestor::details/summary")
    page.fill("#issue-bulletin input[name=title]", TITLE)
    page.fill("#issue-bulletin textarea[name=body]", BODY)
    page.click("#issue-bulletin button[type=submit]")
    assert "请至少选择一个通报对象" in page.inner_text("#issue-bulletin")
    assert page.input_value("#issue-bulletin input[name=title]") == TITLE
