"""The hub's enrolment desk: tokens in, certificates out, revocations pushed to the broker.

It holds the CA, its ledger and the broker's revocation files, and does the file I/O around the
pure rules of :mod:`provisioning.enrolment`. Revoking a device (or re-enrolling a gate, which
supersedes the gate's earlier certificate) rewrites the broker's CRL and ACL and asks the broker
to reload them: the CRL refuses the certificate's next connection, the ACL's deny block silences
the session that is still open (mosquitto keeps open connections across a reload).

On a production hub the reload is systemd's job (``firmware/systemd/sitegate-broker-reload.path``
watches the two files), so ``reload`` is None there and writing the files is telling the broker;
tests and the demo pass a reload that signals their broker (:func:`sighup_pid_file`). Whatever
cannot be done is raised as :class:`BrokerNotTold`, never passed over: a revocation the broker was
not told of must not be reported as done (issue 13).

What a reload achieves with mosquitto 2.0: the CRL is checked at each TLS handshake, so the revoked
certificate's next connection is refused; a session already open is not closed (mosquitto has no
way to drop one client), but the ACL is checked at every publish and every delivery, so the deny
block leaves it able to send nothing the hub receives and to receive nothing.
"""

from __future__ import annotations

import logging
import os
import signal
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

log = logging.getLogger(__name__)

DEVICE_CERT_DAYS = 825
CRL_NAME = "ca.crl"
ACL_NAME = "acl"
"""The names of the broker's two files in its directory (the hub's ``broker_files_dir``)."""


class BrokerNotTold(Exception):
    """The broker was not told of the ledger's revocations; the message says what failed."""


@dataclass(frozen=True, slots=True)
class BrokerFiles:
    """Where the broker reads its CRL and ACL (both rewritten whole on every revocation)."""

    crl_file: Path
    acl_file: Path
    hub_identities: tuple[str, ...] = (HUB_IDENTITY,)

    @classmethod
    def in_directory(cls, directory: Path, hub_identities: Sequence[str] = (HUB_IDENTITY,)) -> BrokerFiles:
        return cls(directory / CRL_NAME, directory / ACL_NAME, tuple(hub_identities))


def sighup_pid_file(pid_file: Path) -> Callable[[], None]:
    """A reload that sends SIGHUP to the pid written in ``pid_file`` (a broker the hub may signal:
    the demo's and the tests'; a production hub has no such right, systemd reloads there)."""

    def reload() -> None:
        try:
            pid = int(pid_file.read_text(encoding="ascii").strip())
        except (OSError, ValueError) as err:
            raise BrokerNotTold(f"no broker pid in {pid_file} ({err})") from err
        try:
            os.kill(pid, signal.SIGHUP)
        except OSError as err:
            raise BrokerNotTold(f"could not signal the broker (pid {pid}): {err.strerror}") from err

    return reload


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
            try:
                self.publish_revocations()
            except BrokerNotTold as err:  # the certificate is signed and the token spent: no undo
                log.error("enrolled %s, but the broker was not told: %s", enrolled.record.gate.device_id, err)
        return bundle_for(
            enrolled.record.gate,
            certificate_pem=enrolled.certificate_pem,
            ca_pem=self.ca.cert_pem,
            broker=self.broker,
            roster_public_key=self.roster_public_key,
            site_key=site_key,
        )

    def revoke(self, device_id: str, now: datetime) -> Sequence[int]:
        """Every certificate of the device revoked, its name barred on the broker; the serials.
        :class:`BrokerNotTold` when the ledger holds the revocation but the broker was not told."""
        serials = self.revoke_in_ledger(device_id, now)
        self.publish_revocations()
        return serials

    def revoke_in_ledger(self, device_id: str, now: datetime) -> Sequence[int]:
        """Every certificate of the device revoked in the CA's ledger only; the serials
        (:class:`~provisioning.ledger.UnknownDevice` when it never had one)."""
        return self.ledger.revoke(device_id, now)

    def publish_revocations(self) -> str:
        """Rewrite the broker's CRL and ACL from the ledger, then reload the broker; how the broker
        was told, or :class:`BrokerNotTold` naming what failed.

        Also what to run before the CRL's next-update date (30 days): a broker with an expired
        CRL refuses every client."""
        files = self.broker_files
        if files is None:
            raise BrokerNotTold("no directory for the broker's CRL and ACL is configured")
        try:
            write_public(files.crl_file, self.ca.make_crl(self.ledger.revoked_serials()))
            acl = acl_text(files.hub_identities, self.ledger.revoked_devices())
            write_public(files.acl_file, acl.encode())
        except OSError as err:
            where = files.crl_file.parent
            raise BrokerNotTold(f"could not write the broker's CRL and ACL in {where}: {err}") from err
        if self._reload is None:
            where = files.crl_file.parent
            return f"CRL and ACL written in {where}; the path unit watching them reloads the broker"
        try:
            self._reload()
        except BrokerNotTold:
            raise
        except Exception as err:  # a hook's failure, whatever it is, is a broker not told
            raise BrokerNotTold(f"the broker's reload failed: {err}") from err
        return "CRL and ACL written and the broker reloaded"
