"""The enrolment rules and the CA's ledger, without the hub: tokens, CSRs, revocation files."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from provisioning.broker import acl_text
from provisioning.ca import CertificateAuthority, generate_key, make_csr, serial_of
from provisioning.enrolment import (
    BrokerAddress,
    CsrRefused,
    EnrolledGate,
    EnrolmentRequest,
    TokenExpired,
    TokenMalformed,
    TokenUnknown,
    TokenUsed,
    device_of_token,
)
from provisioning.ledger import EnrolmentLedger, LedgerError, UnknownDevice
from provisioning.registrar import BrokerFiles, Registrar
from wire.models import Direction

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
GATE = EnrolledGate("lane-hz0042-a1", "P-0042", "A1", Direction.IN)
SITE_KEY = bytes(range(32))
ROSTER_KEY = "A" * 43 + "="


@pytest.fixture
def registrar(tmp_path: Path) -> Registrar:
    ca = CertificateAuthority.create(tmp_path / "ca")
    files = BrokerFiles(crl_file=tmp_path / "ca.crl", acl_file=tmp_path / "acl")
    reloads: list[int] = []
    registrar = Registrar(
        ca,
        broker=BrokerAddress(host="broker.example", port=8883),
        roster_public_key=ROSTER_KEY,
        broker_files=files,
        reload=lambda: reloads.append(1),
    )
    registrar.reloads = reloads  # type: ignore[attr-defined]
    return registrar


def request_for(token: str, device_id: str | None = None) -> EnrolmentRequest:
    device_id = device_id or device_of_token(token)
    return EnrolmentRequest(token=token, csr=make_csr(device_id, generate_key()).decode())


def test_a_token_names_its_gate_and_only_its_digest_is_kept(registrar: Registrar) -> None:
    issued = registrar.issue_token(GATE, issued_by="gc-0042", now=T0)
    assert device_of_token(issued.token) == GATE.device_id
    assert issued.record.expires_at == T0 + timedelta(hours=24)
    text = registrar.ledger.path.read_text()
    assert issued.token.split(".")[1] not in text
    assert issued.record.digest in text
    assert registrar.ledger.path.stat().st_mode & 0o777 == 0o600


def test_an_enrolment_returns_everything_the_lane_needs(registrar: Registrar) -> None:
    issued = registrar.issue_token(GATE, issued_by="gc-0042", now=T0)
    bundle = registrar.enrol(request_for(issued.token), site_key=SITE_KEY, now=T0 + timedelta(minutes=5))
    cert = x509.load_pem_x509_certificate(bundle.certificate.encode())
    assert cert.subject.rfc4514_string() == "CN=lane-hz0042-a1"
    assert cert.issuer == registrar.ca.certificate.subject
    assert bundle.ca_certificate.encode() == registrar.ca.cert_pem
    assert bundle.site_key == SITE_KEY.hex()
    assert bundle.roster_public_key == ROSTER_KEY
    assert (bundle.broker.host, bundle.broker.port) == ("broker.example", 8883)
    assert bundle.lane.model_dump(mode="json") == {
        "device_id": "lane-hz0042-a1",
        "project_id": "P-0042",
        "lane": "A1",
        "direction": "in",
        "mode": "access",
    }


def test_a_token_works_once(registrar: Registrar) -> None:
    issued = registrar.issue_token(GATE, issued_by="gc-0042", now=T0)
    registrar.enrol(request_for(issued.token), site_key=SITE_KEY, now=T0)
    with pytest.raises(TokenUsed, match=r"already enrolled lane-hz0042-a1 at 2026-11-25 08:00 UTC") as err:
        registrar.enrol(request_for(issued.token), site_key=SITE_KEY, now=T0 + timedelta(minutes=1))
    assert err.value.status == 409
    assert issued.token not in str(err.value)


def test_an_expired_token_is_refused_saying_when_it_expired(registrar: Registrar) -> None:
    issued = registrar.issue_token(GATE, issued_by="gc-0042", now=T0, lifetime=timedelta(hours=1))
    with pytest.raises(TokenExpired, match=r"expired at 2026-11-25 09:00 UTC; ask the project's account"):
        registrar.enrol(request_for(issued.token), site_key=SITE_KEY, now=T0 + timedelta(hours=1))


@pytest.mark.parametrize("forge", ["other secret", "other device"])
def test_a_forged_token_is_unknown(registrar: Registrar, forge: str) -> None:
    issued = registrar.issue_token(GATE, issued_by="gc-0042", now=T0)
    device, secret = issued.token.split(".")
    token = f"{device}.{'x' * len(secret)}" if forge == "other secret" else f"lane-hz0042-a2.{secret}"
    with pytest.raises(TokenUnknown, match=r"never issued that token for lane-hz0042-a[12]"):
        registrar.enrol(request_for(token), site_key=SITE_KEY, now=T0)


@pytest.mark.parametrize("token", ["", "lane-a1", "lane-a1.short", "LANE-A1." + "x" * 43, "a.b.c" * 30])
def test_a_malformed_token_says_what_a_token_looks_like(token: str) -> None:
    with pytest.raises(TokenMalformed, match=r"expected '<device id>\.<secret>'"):
        device_of_token(token)


def test_a_refused_csr_leaves_the_token_usable(registrar: Registrar) -> None:
    issued = registrar.issue_token(GATE, issued_by="gc-0042", now=T0)
    with pytest.raises(CsrRefused, match=r"the CSR is for 'lane-hz0042-a2', not for device 'lane-hz0042-a1'"):
        registrar.enrol(request_for(issued.token, "lane-hz0042-a2"), site_key=SITE_KEY, now=T0)
    with pytest.raises(CsrRefused, match=r"not a PEM certificate signing request"):
        registrar.enrol(EnrolmentRequest(token=issued.token, csr="junk"), site_key=SITE_KEY, now=T0)
    registrar.enrol(request_for(issued.token), site_key=SITE_KEY, now=T0)
    assert len(registrar.ledger.certificates()) == 1


def test_concurrent_uses_of_one_token_enrol_once(registrar: Registrar) -> None:
    issued = registrar.issue_token(GATE, issued_by="gc-0042", now=T0)
    requests = [request_for(issued.token) for _ in range(8)]
    outcomes: list[str] = []
    start = threading.Barrier(len(requests))

    def attempt(request: EnrolmentRequest) -> None:
        start.wait()
        try:
            registrar.enrol(request, site_key=SITE_KEY, now=T0)
            outcomes.append("enrolled")
        except TokenUsed:
            outcomes.append("used")

    threads = [threading.Thread(target=attempt, args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["enrolled"] + ["used"] * 7
    assert len(registrar.ledger.certificates()) == 1


def test_revoking_a_device_writes_the_crl_and_the_acl_and_reloads(registrar: Registrar) -> None:
    issued = registrar.issue_token(GATE, issued_by="gc-0042", now=T0)
    bundle = registrar.enrol(request_for(issued.token), site_key=SITE_KEY, now=T0)
    serial = serial_of(bundle.certificate.encode())
    assert registrar.revoke(GATE.device_id, T0 + timedelta(days=1)) == [serial]
    files = registrar.broker_files
    assert files is not None
    crl = x509.load_pem_x509_crl(files.crl_file.read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    assert crl.is_signature_valid(registrar.ca.certificate.public_key())  # type: ignore[arg-type]
    assert "user lane-hz0042-a1\ntopic deny #" in files.acl_file.read_text()
    assert registrar.reloads == [1]  # type: ignore[attr-defined]
    with pytest.raises(UnknownDevice, match="no certificate was ever issued to lane-zz9"):
        registrar.revoke("lane-zz9", T0)


def test_re_enrolling_a_gate_supersedes_its_old_certificate_and_lifts_a_revocation(
    registrar: Registrar,
) -> None:
    first = registrar.enrol(
        request_for(registrar.issue_token(GATE, issued_by="gc", now=T0).token), site_key=SITE_KEY, now=T0
    )
    registrar.revoke(GATE.device_id, T0)
    second = registrar.enrol(
        request_for(registrar.issue_token(GATE, issued_by="gc", now=T0).token), site_key=SITE_KEY, now=T0
    )
    files = registrar.broker_files
    assert files is not None
    assert "lane-hz0042-a1" not in files.acl_file.read_text()
    crl = x509.load_pem_x509_crl(files.crl_file.read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(serial_of(first.certificate.encode())) is not None
    assert crl.get_revoked_certificate_by_serial_number(serial_of(second.certificate.encode())) is None
    third = registrar.enrol(
        request_for(registrar.issue_token(GATE, issued_by="gc", now=T0).token), site_key=SITE_KEY, now=T0
    )
    reasons = {c.serial: c.reason for c in registrar.ledger.certificates()}
    assert reasons == {
        serial_of(first.certificate.encode()): "revoked",
        serial_of(second.certificate.encode()): "superseded",
        serial_of(third.certificate.encode()): None,
    }


def test_a_damaged_ledger_is_refused_not_replaced(tmp_path: Path) -> None:
    ledger = EnrolmentLedger(tmp_path)
    ledger.path.write_text("{half a ledg")
    with pytest.raises(LedgerError, match=r"enrolments.json: unreadable .* restore it from the CA's backup"):
        ledger.revoked_devices()
    assert ledger.path.read_text() == "{half a ledg"


def test_the_acl_refuses_to_deny_something_that_is_not_a_device_id() -> None:
    with pytest.raises(ValueError, match="not a device id"):
        acl_text(denied_devices=["#"])
