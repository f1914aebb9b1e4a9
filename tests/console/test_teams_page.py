"""班组 (teams) in Chromium: the GC's project department makes a team under its labour
subcontractor, puts a worker in it, makes him its leader and reads the headcount by team; the
subcontractor's department sees its own team and changes it; supervision reads without forms; a
refusal comes back beside its field in Chinese with what was typed kept. Desktop and phone
screenshots in artifacts/console/."""

from __future__ import annotations

from tests.console.conftest import Console, shot

TEAMS = "/console/projects/proj-a/teams"
SUB_NAME = "拱墅劳务有限公司"
"""ent-sub1, a party of proj-a; its workers there are 王伟 and 李芳 (tests/hub/oversight/world.py)."""


def test_a_team_made_filled_led_and_counted(console: Console) -> None:
    page = console.signed_in("gc-a")
    page.goto(console.base + TEAMS)
    assert "班组" in page.inner_text("h1") and "尚无班组" in page.inner_text("#teams")
    page.fill("#new-team input[name=enterprise]", SUB_NAME)
    page.fill("#new-team input[name=name]", "钢筋一班")
    page.click("#new-team button[type=submit]")
    row = page.locator("#teams tr:has-text('钢筋一班')")
    assert SUB_NAME in row.inner_text()
    page.select_option("#members select[name=assignment]", label=f"王伟 · {SUB_NAME}")
    page.select_option("#members select[name=team]", label=f"{SUB_NAME} · 钢筋一班")
    page.click("#members button[type=submit]")
    team = page.locator("section.team:has-text('钢筋一班')")
    team.locator("select[name=leader]").select_option(label="王伟")
    team.locator("button[value=leader]").click()
    row = page.locator("#teams tr:has-text('钢筋一班')")
    assert "王伟" in row.inner_text()
    assert row.locator(".members").inner_text() == "1"
    page.fill("#team-day input[name=date]", "2024-12-31")  # before 王伟's entry on the project
    page.click("#team-day button")
    assert page.locator("#teams tr:has-text('钢筋一班') .members").inner_text() == "0"
    assert "出勤（2024年12月31日）" in page.inner_text("#teams thead")
    page.goto(console.base + TEAMS)

    page.fill("#new-team input[name=enterprise]", SUB_NAME)
    page.fill("#new-team input[name=name]", "钢筋一班")  # taken: refused beside the name, kept
    page.click("#new-team button[type=submit]")
    assert "已有名为“钢筋一班”的班组" in page.inner_text("#new-team")
    assert page.input_value("#new-team input[name=name]") == "钢筋一班"
    page.fill("#new-team input[name=name]", "")
    page.click("#new-team button[type=submit]")
    assert "必填" in page.inner_text("#new-team")
    shot(page, "teams-desktop")
    page.context.close()

    sub = console.signed_in("sub-a")
    sub.goto(console.base + TEAMS)
    assert "钢筋一班" in sub.inner_text("#teams")
    assert sub.locator("#new-team").count() == 1  # its own enterprise's teams are its to change
    sub.context.close()

    supervision = console.signed_in("sup-a")
    supervision.goto(console.base + TEAMS)
    assert "钢筋一班" in supervision.inner_text("#teams")
    assert supervision.locator("form#new-team").count() == 0
    supervision.context.close()


def test_the_teams_page_on_a_phone(console: Console) -> None:
    page = console.signed_in("gc-a", phone=True)
    page.goto(console.base + TEAMS)
    assert "班组" in page.inner_text("h1")
    shot(page, "teams-phone")
    page.context.close()
