"""``sitegate provision``'s own checks and messages, each against what a site manager meets on site
(issue 22, item 8): a missing GPIO chip is not a permission problem, a console page pasted as the
hub's address is named as such, and a roster check that could not run says why."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from gpiozero.pins.mock import MockFactory

from controller.config import ControllerConfig, parse_config
from controller.selftest import run_selftest
from provisioning.ca import generate_key
from provisioning.cli import _roster_check, prerequisites
from provisioning.device import EnrolmentFailed, LaneChoices, request_enrolment
from provisioning.layout import DATA_DIR, Writer

TOKEN = "lane-hz0042-a1.Zm9yLXRoZS10ZXN0cy1vbmx5LW5vdC1hLXJlYWwtc2VjcmV0"
CONFIG = """\
device_id = "lane-hz0042-a1"
project_id = "P-0042"
lane = "A1"
direction = "in"
data_dir = "/nonexistent/sitegate"
site_key_file = "/nonexistent/site.key"
[readers.id_module]
port = "/dev/sitegate-idmodule"
"""
CONSOLE_PAGE = "<!doctype html><html><head><title>SiteGate console</title></head><body>login</body></html>"


@pytest.mark.skipif(Path("/dev/gpiochip0").exists(), reason="this machine has a GPIO chip")
@pytest.mark.skipif(os.geteuid() != 0, reason="the message for root is what is checked")
def test_a_missing_gpio_chip_is_not_blamed_on_permissions() -> None:
    checks = prerequisites(LaneChoices(id_module=None, pcsc=""), Path("/"), dry_run=False)
    gpio = next(check for check in checks if check.name == "GPIO")
    assert not gpio.ok
    assert "root" not in gpio.fix, gpio.fix
    assert "--mock-pins" in gpio.fix


async def _served(app: web.Application, path: str) -> str:
    """The message request_enrolment gives for the hub address ``<server><path>``."""
    async with TestServer(app) as server:
        url = str(server.make_url(path))
        with pytest.raises(EnrolmentFailed) as failed:
            await asyncio.to_thread(request_enrolment, url, TOKEN, "lane-hz0042-a1", generate_key())
    return failed.value.message + "\n" + failed.value.fix


async def test_a_web_page_instead_of_the_hub_s_api_is_named_as_such() -> None:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=CONSOLE_PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", page)
    said = await _served(app, "/")
    assert "<" not in said and "doctype" not in said.lower(), said  # nothing of the page itself
    assert "web page" in said
    assert TOKEN not in said


async def test_a_console_address_pasted_as_the_hub_reaches_the_hub_s_api() -> None:
    """The address bar of the console (``https://hub/console/devices``) is what a site manager copies."""

    async def refuse(request: web.Request) -> web.Response:
        body = {"error": {"code": "token_unknown", "message": "this hub never issued that token"}}
        return web.json_response(body, status=403)

    app = web.Application()
    app.router.add_post("/api/v1/enrolments", refuse)
    said = await _served(app, "/console/devices?project=P-0042")
    assert "(token_unknown): this hub never issued that token" in said, said


@pytest.mark.skipif(
    Path("/run/systemd/system").is_dir(), reason="systemd runs here: the check would start the unit"
)
def test_without_systemd_the_roster_check_says_so_rather_than_blame_the_install_root() -> None:
    check = _roster_check(parse_config(CONFIG), Path("/"), 0.0)
    assert "systemd is not running" in check.detail, check.detail
    assert "install into" not in check.detail


SERVICE_UID = 64123


def _lane_config(data: Path) -> ControllerConfig:
    text = CONFIG.replace("/nonexistent/sitegate", str(data)) + '[mqtt]\nhost = "127.0.0.1"\nport = 1\n'
    return parse_config(text)


@pytest.mark.skipif(os.geteuid() != 0, reason="the check as root is what is tested")
async def test_the_journal_check_as_root_creates_nothing_the_lane_could_not_write(tmp_path: Path) -> None:
    """Item 2: as root the self-test created the journal root's, inside the service's directory, and
    said "writable"; the lane, running as its user, then failed with "attempt to write a readonly
    database". As root it now creates nothing there, and names a file the lane cannot write."""
    data = tmp_path / "sitegate"
    data.mkdir()
    os.chown(data, SERVICE_UID, SERVICE_UID)
    config = _lane_config(data)

    journal = next(
        check
        for check in await run_selftest(config, pin_factory=MockFactory(), lane=[])
        if check.name == "journal"
    )
    assert journal.ok, journal
    assert list(data.iterdir()) == []

    (data / "journal.sqlite3").write_bytes(b"")  # what an earlier self-test as root left behind
    journal = next(
        check
        for check in await run_selftest(config, pin_factory=MockFactory(), lane=[])
        if check.name == "journal"
    )
    assert not journal.ok
    assert "journal.sqlite3 belongs to root" in journal.detail, journal
    assert f"chown -R uid {SERVICE_UID}: {data}" in journal.fix, journal


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_provisioning_gives_every_file_of_the_lane_s_data_to_the_service_user(tmp_path: Path) -> None:
    """Item 2: a lane left with root's files in /var/lib/sitegate gets them back on a re-run."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text(
        f"sitegate:x:{SERVICE_UID}:{SERVICE_UID}::/var/lib/sitegate:/usr/sbin/nologin\n"
    )
    data = root / "var/lib/sitegate"
    data.mkdir(parents=True)
    for name in ("journal.sqlite3", "journal.sqlite3-wal", "roster.json"):
        (data / name).write_bytes(b"")
    writer = Writer(root)
    writer.give_tree_to_service(DATA_DIR)
    assert {p.stat().st_uid for p in [data, *data.iterdir()]} == {SERVICE_UID}
    assert "owner fixed /var/lib/sitegate/journal.sqlite3 (was uid 0:0)" in writer.done
    again = Writer(root)
    again.give_tree_to_service(DATA_DIR)
    assert again.done == []
