"""Inspections in the console, in Chromium and in Chinese (issue 15): a district bureau records a
专项检查 with the checklist and a photo (a file that is no image refused beside its field, what was
typed kept) and issues the order from it in one step; the city inspects any district's project;
supervision records 日常巡查 only, on its own project; a photo is served only within scope, with
its recorded type and nosniff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.console.conftest import AT, Console, shot
from tests.support.clock import FakeClock

TODAY = FakeClock(AT).today().isoformat()
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _fill(page: Any, kind: str, *, problem: str | None = None, note: str = "") -> None:
    page.select_option("select[name=kind]", kind)
    page.fill("input[name=inspected_on]", TODAY)
    if problem is not None:
        page.check(f"input[name={problem}_ok][value=problem]")
        page.fill(f"input[name={problem}_note]", note)
    page.fill("textarea[name=findings]", "东门读卡器离线，补录进出记录")


def test_a_district_inspects_with_a_photo_and_orders_from_it_in_one_step(
    console: Console, tmp_path: Path
) -> None:
    page = console.signed_in("district-xihu")
    page.goto(f"{console.base}/console/inspections")
    form = page.locator("#record-inspection")
    assert [o.strip() for o in form.locator("select[name=kind] option").all_inner_texts()] == [
        "日常巡查", "专项检查", "飞行检查",
    ]  # fmt: skip
    assert "工作网络" in form.inner_text() and "管理人员到岗" in form.inner_text()
    page.select_option("select[name=project_pick]", "proj-a")
    _fill(page, "special", problem="card_reads", note="东门读卡器离线")
    fake = tmp_path / "现场.jpg"
    fake.write_bytes(b"<html>not a photo</html>")
    page.set_input_files("input[name=photos]", str(fake))
    page.click("#record-inspection button[type=submit]")
    assert page.locator("#error-photos").inner_text() == "只能上传 JPEG 或 PNG 格式的照片。"
    assert page.locator("textarea[name=findings]").input_value() == "东门读卡器离线，补录进出记录"
    assert page.locator("input[name=card_reads_note]").input_value() == "东门读卡器离线"

    photo = tmp_path / "scene.bin"  # the name says nothing: the content is a PNG
    photo.write_bytes(PNG)
    page.set_input_files("input[name=photos]", str(photo))
    page.click("#record-inspection button[type=submit]")
    page.wait_for_url(f"{console.base}/console/inspections/*")
    assert page.locator("#kind").inner_text() == "专项检查"
    src = page.locator("#photos img").first.get_attribute("src")
    response = page.request.get(f"{console.base}{src}")
    assert response.status == 200 and response.body() == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    shot(page, "district-inspection")

    order_form = page.locator("#order-from-inspection")
    assert "进离场读卡" in order_form.locator("input[name=subject]").input_value()
    assert order_form.locator("textarea[name=requirements]").input_value() == "进离场读卡：东门读卡器离线"
    inspection_url = page.url
    order_form.locator("button[type=submit]").click()
    page.wait_for_url(f"{console.base}/console/orders/*")
    order_path = page.url.removeprefix(console.base)
    assert page.locator("#from-inspection a").get_attribute("href") == inspection_url.removeprefix(
        console.base
    )
    page.goto(inspection_url)
    assert page.locator(f'#orders a[href="{order_path}"]').count() == 1

    other = console.signed_in("district-gongshu")  # another district's project: not its photo
    assert other.request.get(f"{console.base}{src}").status == 404
    assert other.request.get(inspection_url).status == 404
    other.context.close()
    page.context.close()


def test_the_city_inspects_any_district(console: Console) -> None:
    page = console.signed_in("city")
    page.goto(f"{console.base}/console/inspections")
    page.select_option("select[name=project_pick]", "proj-b")
    _fill(page, "unannounced")
    page.click("#record-inspection button[type=submit]")
    page.wait_for_url(f"{console.base}/console/inspections/*")
    assert page.locator("#kind").inner_text() == "飞行检查"
    assert "测试工程 proj-b" in page.locator("h1").inner_text()
    assert page.locator("#order-from-inspection").count() == 0  # nothing found wanting
    page.context.close()


def test_supervision_records_routine_patrols_on_its_own_project(console: Console, tmp_path: Path) -> None:
    page = console.signed_in("sup-a")
    page.goto(f"{console.base}/console/inspections")
    form = page.locator("#record-inspection")
    assert [o.strip() for o in form.locator("select[name=kind] option").all_inner_texts()] == ["日常巡查"]
    assert form.locator("select[name=project_pick]").count() == 0
    assert "测试工程 proj-a" in form.inner_text()
    page.fill("input[name=inspected_on]", TODAY)
    page.check("input[name=attendance_ok][value=problem]")  # a problem without a note
    page.fill("textarea[name=findings]", "考勤记录不全")
    large = tmp_path / "large.jpg"
    large.write_bytes(b"\xff\xd8\xff\xe0" + bytes(5 * 1024 * 1024))  # a JPEG one cap and 4 bytes long
    page.set_input_files("input[name=photos]", str(large))
    page.click("#record-inspection button[type=submit]")
    assert page.locator("#error-attendance_note").inner_text() == "有问题的项目须填写说明。"
    assert page.locator("#error-photos").inner_text() == "每张照片不得超过 5 MB。"
    page.set_input_files("input[name=photos]", [])
    page.fill("input[name=attendance_note]", "两名工人无考勤")
    page.click("#record-inspection button[type=submit]")
    page.wait_for_url(f"{console.base}/console/inspections/*")
    assert page.locator("#kind").inner_text() == "日常巡查"
    assert page.locator("#order-from-inspection").count() == 0  # supervision issues no orders
    page.context.close()
