"""The console's worker-platform page (hub.console.views_platform) through aiohttp's client, HTML
asserted: Chinese first, the settings form for the GC's department (the appsecret never shown or sent
back), complaints beside their fields, the bureau reading, and after a round the queue, the failure
in the platform's words and the last success."""

from __future__ import annotations

import re

from tests.hub.platform import world as w
from tests.hub.platform.conftest import PROJECT_CODE, SECRET, Hub
from tests.support.accounts import TEST_PASSWORD

PAGE = f"/console/projects/{w.PROJECT}/platform"


async def _login(hub: Hub, who: str) -> None:
    hub.client.session.cookie_jar.clear()
    username = next(u for u in hub.usernames if u.startswith(f"{who}-"))
    response = await hub.client.post(
        "/console/login", data={"username": username, "password": TEST_PASSWORD}, allow_redirects=False
    )
    assert response.status == 303


async def _page(hub: Hub, status: int = 200) -> str:
    response = await hub.client.get(PAGE)
    text = await response.text()
    assert response.status == status, text[:500]
    return text


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _form(hub: Hub, html: str, **change: str) -> dict[str, str]:
    return {"csrf": _csrf(html), "variant": "provincial", "endpoint": hub.standin.url, "project_code": PROJECT_CODE,
            "appid": "app-u", "appsecret": SECRET, "upload_from": w.DAY.isoformat(), "enabled": "1", **change}  # fmt: skip


async def test_the_gc_department_sets_the_platform_up_and_sees_the_upload(hub: Hub) -> None:
    await _login(hub, "gc-u")
    html = await _page(hub)
    assert "建筑工人管理服务信息平台" in html and "未设置" in html and 'id="platform-form"' in html
    response = await hub.client.post(PAGE, data=_form(hub, html, appsecret="short", endpoint="ftp://x"),
                                     allow_redirects=False)  # fmt: skip
    refused = await response.text()
    assert response.status == 422
    assert re.search(r'name="endpoint"[^>]*aria-invalid="true"', refused)
    assert re.search(r'name="appsecret" value=""[^>]*aria-invalid="true"', refused) and "short" not in refused
    assert 'value="ftp://x"' in refused  # what was typed stays, but the appsecret
    response = await hub.client.post(PAGE, data=_form(hub, html), allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == PAGE
    async with hub.uploader() as uploader:
        for _ in range(6):
            await uploader.run_once()
    html = await _page(hub)
    assert SECRET not in html and f'value="{PROJECT_CODE}"' in html and "未设置" not in html
    accepted = re.search(r'id="accepted" class="num">(\d+)<', html)
    assert accepted and int(accepted.group(1)) == len(w.UPLOADED) * w.PASSAGES_EACH
    queue = re.search(r'id="queue" class="num">(\d+)<', html)
    assert queue and int(queue.group(1)) == w.PASSAGES_EACH  # the untradable team's, waiting
    assert "班组名称未含工种" in html and "从未" not in html  # the failure in its words; a success seen
    assert "平台已接收" in html and "最近一次成功" in html


async def test_the_bureau_reads_and_others_are_kept_out(hub: Hub) -> None:
    assert (await hub.call("gc-u", "PUT", f"/api/v1/projects/{w.PROJECT}/platform", json=hub.settings()))[
        0
    ] == 200
    await _login(hub, "xihu")
    html = await _page(hub)
    assert 'id="platform-settings"' in html and PROJECT_CODE in html and 'id="platform-form"' not in html
    assert SECRET not in html
    await _login(hub, "sub-u")
    await _page(hub, 403)
    await _login(hub, "gongshu")
    await _page(hub, 404)
