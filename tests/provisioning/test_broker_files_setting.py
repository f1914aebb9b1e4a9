"""One setting for the broker's revocation files (issue 13, item 2): the directory the hub writes
the CRL and ACL into (``broker_files_dir``), the files ``sitegate-broker-reload.path`` watches, the
paths the broker's config reads and the hub unit may write are one and the same. The hub once wrote
them under its state directory while the path unit watched ``/var/lib/sitegate-broker``, so a
revocation reached no broker."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest
from pydantic import ValidationError

from hub.api.enrolment import registrar_from_config
from hub.config import HubConfig
from provisioning.broker import BrokerConfig
from provisioning.ca import CertificateAuthority
from provisioning.registrar import ACL_NAME, CRL_NAME, BrokerFiles

FIRMWARE = Path(__file__).parents[2] / "firmware"
BROKER_CONF = FIRMWARE / "mosquitto" / "sitegate.conf"
DIRECTORY = HubConfig().broker_files_dir


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(FIRMWARE / "systemd" / name)
    return parser


def _conf_value(key: str) -> str:
    [value] = [
        line.split(None, 1)[1] for line in BROKER_CONF.read_text().splitlines() if line.split()[:1] == [key]
    ]
    return value


def test_the_path_unit_watches_the_files_the_hub_writes() -> None:
    # Read line by line: configparser keeps only the last of a repeated key.
    unit = (FIRMWARE / "systemd" / "sitegate-broker-reload.path").read_text().splitlines()
    watched = [line.split("=", 1)[1] for line in unit if line.startswith("PathChanged=")]
    assert sorted(watched) == sorted([str(DIRECTORY / CRL_NAME), str(DIRECTORY / ACL_NAME)])


def test_the_hub_unit_may_write_there() -> None:
    written = [p.lstrip("-") for p in _unit("sitegate-hub.service")["Service"]["ReadWritePaths"].split()]
    assert str(DIRECTORY) in written


def test_the_broker_reads_them_there() -> None:
    assert _conf_value("crlfile") == str(DIRECTORY / CRL_NAME)
    assert _conf_value("acl_file") == str(DIRECTORY / ACL_NAME)


def test_the_broker_config_is_what_provisioning_generates() -> None:
    """The file under firmware/ is the generator's output for these paths, not a hand copy."""
    tls = Path(_conf_value("cafile")).parent
    generated = BrokerConfig(
        ca_file=tls / "ca.crt",
        cert_file=tls / "server.crt",
        key_file=tls / "server.key",
        acl_file=DIRECTORY / ACL_NAME,
        crl_file=DIRECTORY / CRL_NAME,
        persistence_location=Path(_conf_value("persistence_location").rstrip("/")),
    ).conf_text()
    assert BROKER_CONF.read_text().endswith(generated)


def test_a_hub_with_the_default_config_writes_into_that_directory(tmp_path: Path) -> None:
    CertificateAuthority.create(tmp_path / "ca")
    config = HubConfig(roster_signing_key_file=tmp_path / "roster.key")
    registrar = registrar_from_config(config, tmp_path / "ca")
    assert registrar.broker_files == BrokerFiles(DIRECTORY / CRL_NAME, DIRECTORY / ACL_NAME)


def test_the_docs_name_the_setting_and_the_directory() -> None:
    readme = (FIRMWARE / "README.md").read_text()
    assert "broker_files_dir" in readme
    assert str(DIRECTORY) in readme
    assert "mosquitto/sitegate.conf" in readme


def test_every_hub_instance_the_config_names_keeps_its_acl_block(tmp_path: Path) -> None:
    """Several hubs on one broker (one shared subscription): the ACL one of them writes on a
    revocation must still let the others read the lanes' topics, or the broker's reload cuts them off."""
    CertificateAuthority.create(tmp_path / "ca")
    config = HubConfig(
        roster_signing_key_file=tmp_path / "roster.key",
        broker_files_dir=tmp_path / "broker",
        broker_hub_identities=("sitegate.hub", "sitegate.hub.2"),
    )
    (tmp_path / "broker").mkdir()
    registrar = registrar_from_config(config, tmp_path / "ca")
    registrar.publish_revocations()
    acl = (tmp_path / "broker" / ACL_NAME).read_text()
    for hub in ("sitegate.hub", "sitegate.hub.2"):
        assert f"user {hub}\ntopic read sitegate/v1/up/#\ntopic write sitegate/v1/down/#" in acl


@pytest.mark.parametrize("names", [(), ("lane-a1",), ("sitegate hub",), ("sitegate.hub/#",)])
def test_a_hub_identity_that_could_not_be_a_hub_is_refused(names: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError, match="broker_hub_identities"):
        HubConfig(broker_hub_identities=names)
