"""The hub's CA and the device's half of enrolment: what gets signed, what is refused, file modes."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store

from provisioning.ca import (
    HUB_IDENTITY,
    BadCsr,
    BadCsrSignature,
    CaStateError,
    CertificateAuthority,
    IdentityMismatch,
    InvalidIdentity,
    generate_key,
    make_csr,
    serial_of,
    write_key,
)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def common_name(cert: x509.Certificate) -> object:
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path / "ca")


def test_the_ca_key_is_private_and_the_ca_reloads(ca: CertificateAuthority, tmp_path: Path) -> None:
    assert mode_of(tmp_path / "ca" / "ca.key") == 0o600
    assert mode_of(tmp_path / "ca" / "ca.crt") == 0o644
    loaded = CertificateAuthority.load(tmp_path / "ca")
    assert loaded.cert_pem == ca.cert_pem
    basic = ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert basic.ca


def test_a_second_ca_is_not_created_over_the_first(ca: CertificateAuthority, tmp_path: Path) -> None:
    with pytest.raises(CaStateError, match="already holds a CA"):
        CertificateAuthority.create(tmp_path / "ca")


def test_loading_refuses_a_key_others_can_read(ca: CertificateAuthority, tmp_path: Path) -> None:
    (tmp_path / "ca" / "ca.key").chmod(0o644)
    with pytest.raises(CaStateError, match=r"readable by other users \(mode 0644\)"):
        CertificateAuthority.load(tmp_path / "ca")


def test_loading_refuses_a_key_that_is_not_the_certificates(ca: CertificateAuthority, tmp_path: Path) -> None:
    (tmp_path / "ca" / "ca.key").unlink()
    write_key(tmp_path / "ca" / "ca.key", generate_key())
    with pytest.raises(CaStateError, match="is not the key of"):
        CertificateAuthority.load(tmp_path / "ca")


def test_loading_an_empty_directory_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(CaStateError, match="no CA in"):
        CertificateAuthority.load(tmp_path)


def memory_handshake(ca_file: Path, server: tuple[Path, Path], client: tuple[Path, Path]) -> str:
    """A TLS handshake in memory, OpenSSL verifying both chains (the library mosquitto uses):
    the server's certificate for "localhost", the client's with the CA and the clientAuth purpose.
    Returns the client certificate's CN as the server sees it."""
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(ca_file))
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    server_ctx.load_cert_chain(*server)
    client_ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
    client_ctx.load_cert_chain(*client)
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    server_side = server_ctx.wrap_bio(to_server, to_client, server_side=True)
    client_side = client_ctx.wrap_bio(to_client, to_server, server_hostname="localhost")
    for _ in range(10):
        for side in (client_side, server_side):
            with contextlib.suppress(ssl.SSLWantReadError):
                side.do_handshake()
        # TLS 1.3 sends the client's certificate after the client thinks it is done: pump once more.
        with contextlib.suppress(ssl.SSLWantReadError):
            client_side.write(b"x")
            server_side.read(1)
            peer = server_side.getpeercert()
            assert peer is not None
            return next(value for rdn in peer["subject"] for key, value in rdn if key == "commonName")
    raise AssertionError("the handshake did not finish")


def test_a_device_certificate_carries_the_device_id_and_verifies_to_the_ca(
    ca: CertificateAuthority, tmp_path: Path
) -> None:
    key_pem = generate_key()
    cert_pem = ca.issue_client(make_csr("lane-a1", key_pem), "lane-a1")
    cert = x509.load_pem_x509_certificate(cert_pem)
    assert common_name(cert) == "lane-a1"
    assert cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.CLIENT_AUTH]
    )
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    device_key = serialization.load_pem_private_key(key_pem, password=None)
    assert cert.public_key() == device_key.public_key()
    cert.verify_directly_issued_by(ca.certificate)

    server_cert, server_key = ca.issue_server(["localhost"])
    for name, data in [
        ("d.crt", cert_pem),
        ("d.key", key_pem),
        ("s.crt", server_cert),
        ("s.key", server_key),
    ]:
        (tmp_path / name).write_bytes(data)
    seen = memory_handshake(
        ca.cert_path, (tmp_path / "s.crt", tmp_path / "s.key"), (tmp_path / "d.crt", tmp_path / "d.key")
    )
    assert seen == "lane-a1"


def test_the_handshake_refuses_a_device_certificate_from_another_ca(
    ca: CertificateAuthority, tmp_path: Path
) -> None:
    other = CertificateAuthority.create(tmp_path / "other")
    key_pem = generate_key()
    server_cert, server_key = ca.issue_server(["localhost"])
    files = {
        "d.crt": other.issue_client(make_csr("lane-a1", key_pem), "lane-a1"),
        "d.key": key_pem,
        "s.crt": server_cert,
        "s.key": server_key,
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    with pytest.raises(ssl.SSLError, match="certificate verify failed"):
        memory_handshake(
            ca.cert_path, (tmp_path / "s.crt", tmp_path / "s.key"), (tmp_path / "d.crt", tmp_path / "d.key")
        )


def test_serial_numbers_are_random(ca: CertificateAuthority) -> None:
    csr = make_csr("lane-a1", generate_key())
    serials = {serial_of(ca.issue_client(csr, "lane-a1")) for _ in range(5)}
    assert len(serials) == 5
    assert all(s.bit_length() > 64 for s in serials)


def test_a_csr_for_another_name_is_refused(ca: CertificateAuthority) -> None:
    csr = make_csr("lane-b2", generate_key())
    with pytest.raises(IdentityMismatch, match="the CSR is for 'lane-b2', not for device 'lane-a1'") as err:
        ca.issue_client(csr, "lane-a1")
    assert (err.value.device_id, err.value.csr_cn) == ("lane-a1", "lane-b2")


def test_a_csr_whose_signature_fails_is_refused(ca: CertificateAuthority) -> None:
    der = bytearray(
        x509.load_pem_x509_csr(make_csr("lane-a1", generate_key())).public_bytes(serialization.Encoding.DER)
    )
    der[-1] ^= 0x01  # the last byte of the signature's s integer: still DER, no longer a signature
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(BadCsrSignature, match="signature does not verify"):
        ca.issue_client(tampered, "lane-a1")


def test_a_csr_that_is_not_pem_is_refused(ca: CertificateAuthority) -> None:
    with pytest.raises(BadCsr, match="not a PEM certificate signing request"):
        ca.issue_client(b"hello", "lane-a1")


def test_a_csr_with_an_rsa_key_is_refused(ca: CertificateAuthority) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lane-a1")]))
        .sign(key, SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )
    with pytest.raises(BadCsr, match="ECDSA P-256"):
        ca.issue_client(csr, "lane-a1")


@pytest.mark.parametrize("name", ["Lane-A1", "lane_a1", "a", HUB_IDENTITY, "lane/a1", "+"])
def test_only_device_ids_get_device_certificates(ca: CertificateAuthority, name: str) -> None:
    with pytest.raises(InvalidIdentity, match="is not a device id"):
        ca.issue_client(b"", name)


def test_the_hub_identity_cannot_be_a_device_id(ca: CertificateAuthority) -> None:
    """Otherwise a device enrolled under that name would get the hub's rights from the ACL."""
    with pytest.raises(InvalidIdentity, match="must not be a possible device id"):
        ca.issue_hub_identity("sitegate-hub")
    cert_pem, _ = ca.issue_hub_identity()
    assert common_name(x509.load_pem_x509_certificate(cert_pem)) == HUB_IDENTITY


def test_the_server_certificate_names_loopback(ca: CertificateAuthority) -> None:
    cert_pem, key_pem = ca.issue_server(["127.0.0.1", "localhost"])
    cert = x509.load_pem_x509_certificate(cert_pem)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert (
        ExtendedKeyUsageOID.SERVER_AUTH
        in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    )
    verifier = PolicyBuilder().store(Store([ca.certificate])).build_server_verifier(x509.DNSName("localhost"))
    verifier.verify(cert, [])
    assert serialization.load_pem_private_key(key_pem, password=None).public_key() == cert.public_key()


def test_certificates_allow_a_lagging_clock(ca: CertificateAuthority) -> None:
    cert = x509.load_pem_x509_certificate(ca.issue_server(["localhost"])[0])
    assert cert.not_valid_before_utc < dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)


def test_the_crl_lists_the_revoked_serials(ca: CertificateAuthority) -> None:
    crl = x509.load_pem_x509_crl(ca.make_crl([7, 42, 7]))
    assert crl.is_signature_valid(ca.certificate.public_key())
    assert sorted(r.serial_number for r in crl) == [7, 42]
    assert crl.next_update_utc is not None and crl.next_update_utc > dt.datetime.now(dt.UTC)


def test_a_key_file_is_private_from_its_first_byte(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_key(tmp_path / "device.key", generate_key())
    finally:
        os.umask(old)
    assert mode_of(tmp_path / "device.key") == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["device.key"]


def test_a_key_file_is_not_overwritten_by_mistake(tmp_path: Path) -> None:
    first = generate_key()
    write_key(tmp_path / "device.key", first)
    with pytest.raises(FileExistsError):
        write_key(tmp_path / "device.key", generate_key())
    assert (tmp_path / "device.key").read_bytes() == first
    assert [p.name for p in tmp_path.iterdir()] == ["device.key"]
    write_key(tmp_path / "device.key", generate_key(), overwrite=True)
    assert (tmp_path / "device.key").read_bytes() != first
