"""The device's half without a hub: which hub addresses may carry a site key, the configuration
rendered from a bundle (checked by the controller's own parser), paths seen from outside a root."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.config import parse_config
from provisioning.device import LaneChoices, config_text, hub_url_problem
from provisioning.enrolment import BrokerAddress, EnrolmentBundle, LaneSettings
from provisioning.layout import rebased
from wire.models import Direction

BUNDLE = EnrolmentBundle(
    certificate="-----BEGIN CERTIFICATE-----\n",
    ca_certificate="-----BEGIN CERTIFICATE-----\n",
    broker=BrokerAddress(host="mqtt.hub.example", port=8883),
    roster_public_key="A" * 43 + "=",
    site_key="ab" * 32,
    lane=LaneSettings(device_id="lane-hz0042-a2", project_id="P-0042", lane="A2", direction=Direction.OUT),
)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://hub.example", None),
        ("http://127.0.0.1:8080", None),
        ("http://localhost:8080", None),
        ("http://hub.example", "plain HTTP: the hub's answer holds the site key"),
        ("http://10.0.0.5", "plain HTTP"),
        ("ftp://hub.example", "not an http(s) URL"),
        ("hub.example", "not an http(s) URL"),
    ],
)
def test_the_site_key_travels_over_https_only(url: str, problem: str | None) -> None:
    found = hub_url_problem(url)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_the_configuration_is_the_bundles_with_the_site_managers_readers() -> None:
    config = parse_config(config_text(BUNDLE, LaneChoices(id_module=None, pcsc="ACS ACR1252", board="rpi5")))
    assert (config.device_id, config.lane, config.direction) == ("lane-hz0042-a2", "A2", Direction.OUT)
    assert config.readers.id_module is None
    assert config.readers.pcsc is not None and config.readers.pcsc.reader == "ACS ACR1252"
    assert (config.mqtt.host, config.mqtt.port, config.mqtt.tls) == ("mqtt.hub.example", 8883, True)
    assert config.roster_public_key == BUNDLE.roster_public_key
    assert config.board == "rpi5" and config.pin_factory == "default"


def test_a_lane_without_a_reader_is_refused_before_anything_is_written() -> None:
    with pytest.raises(ValueError, match=r"controller\.toml: readers: Field required"):
        config_text(BUNDLE, LaneChoices(id_module=None, pcsc=None))


def test_paths_are_rebased_under_a_root_but_device_nodes_are_not() -> None:
    config = parse_config(config_text(BUNDLE, LaneChoices()))
    outside = rebased(config, Path("/tmp/image"))
    assert outside.data_dir == Path("/tmp/image/var/lib/sitegate")
    assert outside.mqtt.key_file == Path("/tmp/image/etc/sitegate/tls/device.key")
    assert (
        outside.readers.id_module is not None and outside.readers.id_module.port == "/dev/sitegate-idmodule"
    )
    assert rebased(config, Path("/")) is config
