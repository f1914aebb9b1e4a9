"""GET/PUT /api/v1/projects/{id}/platform and GET …/platform/uploads: who may, the appsecret
write-only, and the status after a round (queue, failures in the platform's words, last success)."""

from __future__ import annotations

from sqlalchemy import select

from hub.store.schema import audit_log, platform_settings
from tests.hub.platform import world as w
from tests.hub.platform.conftest import SECRET, Hub

PATH = f"/api/v1/projects/{w.PROJECT}/platform"


async def test_settings_are_the_gc_departments_or_the_citys_and_the_appsecret_never_comes_back(
    hub: Hub,
) -> None:
    assert await hub.call("gc-u", "GET", PATH) == (200, {"settings": None})
    status, body = await hub.call("gc-u", "PUT", PATH, json=hub.settings(appsecret=None))
    assert (status, body["error"]["code"]) == (422, "appsecret_required")  # the first time it is needed
    status, body = await hub.call("gc-u", "PUT", PATH, json=hub.settings())
    assert status == 200, body
    shown = body["settings"]
    assert (shown["appsecret_set"], shown["updated_by"], shown["project_code"]) == (
        True,
        "gc-u-3",
        "330106-PC-0001",
    )
    assert SECRET not in str(body) and "appsecret" not in {k for k in shown if k != "appsecret_set"}
    status, body = await hub.call("city", "PUT", PATH, json=hub.settings(appsecret=None, appid="app-v"))
    assert status == 200 and body["settings"]["appid"] == "app-v"  # the stored appsecret kept
    for who in ("xihu", "city", "gc-u"):
        status, body = await hub.call(who, "GET", PATH)
        assert status == 200 and body["settings"]["appsecret_set"] and SECRET not in str(body)
    assert (await hub.call("gongshu", "GET", PATH))[0] == 404  # another district's project: not there
    for who, expect in (("xihu", 403), ("sub-u", 403), ("operator", 403)):
        assert (await hub.call(who, "PUT", PATH, json=hub.settings()))[0] == expect
    assert (await hub.call("sub-u", "GET", PATH))[0] == 403
    status, body = await hub.call("gc-u", "PUT", PATH, json=hub.settings(appsecret="too-short"))
    assert status == 422 and "too-short" not in str(body)
    async with hub.store.read("test") as conn:
        sealed = await conn.scalar(select(platform_settings.c.appsecret_cipher))
        details = (
            await conn.scalars(
                select(audit_log.c.detail).where(audit_log.c.action == "platform.settings.set")
            )
        ).all()
    assert SECRET.encode() not in sealed and hub.vault.open_platform_secret(w.PROJECT, sealed) == SECRET
    assert [d["appsecret"] for d in details] == ["replaced", "kept"] and SECRET not in str(details)


async def test_the_uploads_status_shows_the_queue_the_failures_and_the_last_success(hub: Hub) -> None:
    assert (await hub.call("gc-u", "PUT", PATH, json=hub.settings()))[0] == 200
    status, before = await hub.call("xihu", "GET", f"{PATH}/uploads")
    assert status == 200 and (before["configured"], before["queue"], before["last_success_at"]) == (
        True,
        0,
        None,
    )
    async with hub.uploader() as uploader:
        for _ in range(6):
            await uploader.run_once()
    status, body = await hub.call("gc-u", "GET", f"{PATH}/uploads")
    assert status == 200
    assert body["accepted"] == len(w.UPLOADED) * w.PASSAGES_EACH and body["queue"] == w.PASSAGES_EACH
    assert body["last_success_at"] is not None and body["requests"] > 0
    (failure,) = body["failures"]
    assert failure["kind"] == "worker" and failure["message"].startswith("班组名称未含工种")
    assert body["counts"]["teams"] == {"accepted": 4}
    assert (await hub.call("sub-u", "GET", f"{PATH}/uploads"))[0] == 403
    assert (await hub.call("gongshu", "GET", f"{PATH}/uploads"))[0] == 404
