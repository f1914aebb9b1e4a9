"""``sitegate provision`` where a site manager meets it (issue 22): the first install of a lane whose
ID module is on the Pi's UART, and a re-run on a lane that is running.

A temporary root with a Raspberry Pi boot partition stands for the Pi; the hub, the TLS broker and
the emulated module are the enrolment tests' own (``tests/provisioning/conftest.py``)."""

from __future__ import annotations

import asyncio
import os

import pytest
import serial

from controller.config import load_config
from provisioning.cli import main as provision
from provisioning.layout import CONFIG, DEVICE_KEY, rebased
from tests.provisioning.test_provision_end_to_end import Site, running_lane, until

pytestmark = [pytest.mark.broker, pytest.mark.serial]

REBOOT = 3


async def test_a_first_install_with_the_module_on_the_uart_asks_for_one_reboot_and_keeps_the_token(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 3: /dev/sitegate-idmodule is made by the udev rule and the UART set-up that provisioning
    installs; it cannot be there before the first install, so that install asks for the reboot."""
    token = await site.token()
    root = site.fresh_root("pi")
    argv = ["--hub", site.hub_url, "--token", token, "--root", str(root), "--mock-pins"]
    assert await asyncio.to_thread(provision, argv) == REBOOT
    out = capsys.readouterr().out
    assert "sudo reboot" in out and "run the same command again" in out, out
    assert "the token was not used" in out
    assert token not in out
    assert (root / "etc/udev/rules.d/99-sitegate.rules").is_file()
    assert "# BEGIN sitegate" in (root / "boot/firmware/config.txt").read_text()
    assert not (root / DEVICE_KEY.relative_to("/")).exists()

    # After the reboot the module answers on its port: the same token finishes the enrolment.
    assert await site.provision(root, token) == 0, capsys.readouterr().out
    assert "[PASS] ID module" in capsys.readouterr().out


async def test_re_running_on_a_running_lane_tests_beside_it_and_keeps_it_online(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 7: the re-run used to fail on the lane's locked serial port, and its broker check took
    the lane's own MQTT session over (the broker makes the certificate's name the client id)."""
    root = site.fresh_root("live")
    token = await site.token()
    assert await site.provision(root, token) == 0, capsys.readouterr().out
    capsys.readouterr()
    config = rebased(load_config(root / CONFIG.relative_to("/")), root)
    async with running_lane(config) as (service, _events):
        uplink = service.uplink
        assert uplink is not None
        await until(lambda: uplink.connected, "the lane never connected")
        connections = uplink.connections

        assert await site.provision(root, token) == 0, capsys.readouterr().out
        out = capsys.readouterr().out
        await asyncio.sleep(1.0)  # a taken-over session shows as the lane reconnecting
        assert uplink.connected and uplink.connections == connections, "the re-run knocked the lane offline"
    assert "FAIL" not in out
    assert f"the lane is running as pid {os.getpid()}" in out, out
    assert "[PASS] broker:" in out


async def test_a_reader_port_held_by_another_program_is_named_in_the_fix(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 7: "nothing else holds it open" is no help; which process does is."""
    root = site.fresh_root("held")
    token = await site.token()
    with serial.Serial(site.emulator.port, exclusive=True):
        assert await site.provision(root, token) == 1
    out = capsys.readouterr().out
    assert "[FAIL] ID module" in out
    assert f"pid {os.getpid()}" in out, out
