"""Fixtures for the broker link: a CA, enrolled identities, and a mosquitto with the production TLS ACL."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from controller.tls import tls_context
from provisioning.ca import (
    HUB_IDENTITY,
    CertificateAuthority,
    generate_key,
    make_csr,
    serial_of,
    write_key,
    write_public,
)
from sitegate.mosquitto import Mosquitto


@dataclass(frozen=True)
class Identity:
    """What one side holds on disk: the CA to trust, its certificate, its key."""

    name: str
    ca_file: Path
    cert_file: Path
    key_file: Path

    @property
    def serial(self) -> int:
        return serial_of(self.cert_file.read_bytes())

    def context(self) -> ssl.SSLContext:
        return tls_context(self.ca_file, self.cert_file, self.key_file)


def enrol(ca: CertificateAuthority, root: Path, device_id: str) -> Identity:
    """The device's half (key, CSR) and the CA's (certificate), as the setup script will do it."""
    home = root / device_id
    home.mkdir(parents=True)
    key_pem = generate_key()
    write_key(home / "device.key", key_pem)
    write_public(home / "device.crt", ca.issue_client(make_csr(device_id, key_pem), device_id))
    write_public(home / "ca.crt", ca.cert_pem)
    return Identity(device_id, home / "ca.crt", home / "device.crt", home / "device.key")


def hub_identity(ca: CertificateAuthority, root: Path, name: str = HUB_IDENTITY) -> Identity:
    home = root / name
    home.mkdir(parents=True)
    cert_pem, key_pem = ca.issue_hub_identity(name)
    write_key(home / "hub.key", key_pem)
    write_public(home / "hub.crt", cert_pem)
    write_public(home / "ca.crt", ca.cert_pem)
    return Identity(name, home / "ca.crt", home / "hub.crt", home / "hub.key")


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path / "ca")


@pytest.fixture
def tls_broker(ca: CertificateAuthority) -> Iterator[Mosquitto]:
    """mosquitto with the generated TLS listener and ACL, and an (empty) CRL so revocation is on."""
    with Mosquitto.with_tls(ca, revoked_serials=[]) as mosq:
        yield mosq
