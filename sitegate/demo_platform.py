"""The demo's last step: its shift uploaded to a stand-in of the worker platform (issue 19).

The GC's project department enters the project's platform settings over the API (the stand-in's
address, a project code and appid, an appsecret), as it would in the console; the hub's own uploader
(hub.platform.uploader, in the hub's process) then registers the project's teams and people with the
stand-in and uploads the shift's passages. The demo waits until the hub says nothing is left to send,
checks that the stand-in holds exactly what the hub says it accepted, each passage once, and that a
further look by the uploader sends nothing new.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any, Final

import aiohttp

from sitegate.platform_standin import PlatformStandin

PROJECT_CODE: Final = "330106-2026-0042"
APPID: Final = "sitegate-demo"
WAIT_S: Final = 60.0


async def upload_shift(
    standin: PlatformStandin, department: aiohttp.ClientSession, base: str, project_id: str
) -> tuple[str, list[str]]:
    """The printed line, and what went wrong (nothing, when the platform holds the shift once)."""
    appsecret = secrets.token_hex(16)
    standin.add_project(PROJECT_CODE, APPID, appsecret)
    settings = {"variant": "provincial", "endpoint": standin.url, "project_code": PROJECT_CODE,
                "appid": APPID, "appsecret": appsecret}  # fmt: skip
    path = f"{base}/api/v1/projects/{project_id}/platform"
    async with department.put(path, json=settings) as response:
        if response.status != 200:
            return "  platform settings refused", [f"PUT {path}: {response.status} {await response.text()}"]
    status = await _settled(department, f"{path}/uploads", standin)
    if status is None:
        return "  platform upload did not settle", [f"the upload did not settle within {WAIT_S:.0f} s"]
    sent = sum(standin.requests.values())
    await asyncio.sleep(2.0)  # the uploader's next rounds: nothing new to send
    problems = []
    if standin.duplicates():
        problems.append(f"the platform holds {standin.duplicates()} passages twice")
    if status["accepted"] != len(standin.attendance):
        problems.append(
            f"the hub says {status['accepted']} accepted, the platform holds {len(standin.attendance)}"
        )
    if sum(standin.requests.values()) != sent:
        problems.append("a second look sent the platform more requests")
    teams, people = (
        status["counts"]["teams"].get("accepted", 0),
        status["counts"]["workers"].get("accepted", 0),
    )
    line = (
        f"  platform the stand-in accepted {len(standin.attendance)} passages of project {PROJECT_CODE}, "
        f"{teams} teams and {people} people registered first, {standin.duplicates()} duplicates; "
        f"{sent} requests, none more on a second look"
    )
    return line, problems


async def _settled(
    session: aiohttp.ClientSession, path: str, standin: PlatformStandin
) -> dict[str, Any] | None:
    """The hub's status once every passage it took is accepted (None: not within :data:`WAIT_S`)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        async with session.get(path) as response:
            status: dict[str, Any] = await response.json()
        if status["accepted"] and not status["queue"] and status["accepted"] == len(standin.attendance):
            return status
        await asyncio.sleep(0.25)
    return None
