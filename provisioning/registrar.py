"""The hub's enrolment desk: tokens in, certificates out, revocations pushed to the broker.

It holds the CA, its ledger and the broker's revocation files, and does the file I/O around the
pure rules of :mod:`provisioning.enrolment`. Revoking a device (or re-enrolling a gate, which
supersedes the gate's earlier certificate) rewrites the broker's CRL and ACL and asks the broker
to reload them: the CRL refuses the certificate's next connection, the ACL's deny block silences
the session that is still open (mosquitto keeps open connections across a reload).

On a production hub the reload is systemd's job (``firmware/systemd/sitegate-broker-reload.path``
watches the two files), so ``reload`` is None there; tests and the demo pass their broker's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from provisioning.broker import acl_text
from provisioning.ca import HUB_IDENTITY, CaError, CertificateAuthority, write_public
from provisioning.enrolment import (
    DEFAULT_TOKEN_LIFETIME,
    BrokerAddress,
    CsrRefused,
    EnrolledGate,
    EnrolmentBundle,
    EnrolmentRequest,
    IssuedToken,
    TokenRecord,
    bundle_for,
    check_token,
    issue_token,
)
from provisioning.ledger import EnrolmentLedger

DEVICE_CERT_DAYS = 825


@dataclass(frozen=True, slots=True)
class BrokerFiles:
    """Where the broker reads its CRL and ACL (both rewritten whole on every revocation)."""

    crl_file: Path
    acl_file: Path
    hub_identities: tuple[str, ...] = (HUB_IDENTITY,)


class Registrar:
    def __init__(
        self,
        ca: CertificateAuthority,
        *,
        broker: BrokerAddress,
        roster_public_key: str,
        broker_files: BrokerFiles | None = None,
        reload: Callable[[], None] | None = None,
        ledger: EnrolmentLedger | None = None,
    ) -> None:
        self.ca = ca
        self.broker = broker
        self.roster_public_key = roster_public_key
        self.broker_files = broker_files
        self._reload = reload
        self.ledger = ledger or EnrolmentLedger(ca.directory)

    def issue_token(
        self,
        gate: EnrolledGate,
        *,
        issued_by: str,
        now: datetime,
        lifetime: timedelta = DEFAULT_TOKEN_LIFETIME,
    ) -> IssuedToken:
        issued = issue_token(gate, issued_by=issued_by, now=now, lifetime=lifetime)
        self.ledger.add_token(issued.record)
        return issued

    def check(self, token: str, now: datetime) -> TokenRecord:
        """The token's record if it may enrol now (read only: nothing is spent)."""
        return check_token(token, self.ledger.token_for(token), now)

    def enrol(self, request: EnrolmentRequest, *, site_key: bytes, now: datetime) -> EnrolmentBundle:
        """Sign the CSR and spend the token (one locked step), then refresh the broker's files if
        this enrolment superseded an earlier certificate or lifted a revocation."""

        def sign(record: TokenRecord) -> bytes:
            device_id = record.gate.device_id
            try:
                return self.ca.issue_client(request.csr.encode("utf-8"), device_id, DEVICE_CERT_DAYS)
            except CaError as err:
                raise CsrRefused(str(err)) from err

        enrolled = self.ledger.redeem(request.token, now, sign)
        if enrolled.superseded or enrolled.readmitted:
            self.publish_revocations()
        return bundle_for(
            enrolled.record.gate,
            certificate_pem=enrolled.certificate_pem,
            ca_pem=self.ca.cert_pem,
            broker=self.broker,
            roster_public_key=self.roster_public_key,
            site_key=site_key,
        )

    def revoke(self, device_id: str, now: datetime) -> Sequence[int]:
        """Every certificate of the device revoked, its name barred on the broker; the serials."""
        serials = self.ledger.revoke(device_id, now)
        self.publish_revocations()
        return serials

    def publish_revocations(self) -> None:
        """Rewrite the broker's CRL and ACL from the ledger, then reload the broker.

        Also what to run before the CRL's next-update date (30 days): a broker with an expired
        CRL refuses every client."""
        if self.broker_files is None:
            return
        write_public(self.broker_files.crl_file, self.ca.make_crl(self.ledger.revoked_serials()))
        acl = acl_text(self.broker_files.hub_identities, self.ledger.revoked_devices())
        write_public(self.broker_files.acl_file, acl.encode())
        if self._reload is not None:
            self._reload()
