"""The CA's records: enrolment tokens, the certificates issued for them, and revocations.

One JSON file beside the CA's key (``enrolments.json``), the way ``openssl ca`` keeps its
``index.txt``: whoever can sign certificates is whoever holds this directory, so the record of
what was signed lives with it. Every change happens under an exclusive ``flock`` on a lock file
and is written whole (temporary file, fsync, rename): two hub processes on one CA directory, or a
power cut mid-write, never leave a token spent twice or a half-written ledger.

Tokens are kept as digests only. Serial numbers are kept as decimal strings (they are 159-bit).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from provisioning.ca import serial_of, write_public
from provisioning.enrolment import EnrolledGate, TokenRecord, check_token, token_digest
from wire.models import Direction

LEDGER_NAME = "enrolments.json"
FORMAT = 1


class LedgerError(Exception):
    pass


class UnknownDevice(LedgerError):
    def __init__(self, device_id: str) -> None:
        self.device_id = device_id
        super().__init__(f"no certificate was ever issued to {device_id}")


@dataclass(frozen=True, slots=True)
class CertificateRecord:
    serial: int
    device_id: str
    issued_at: datetime
    revoked_at: datetime | None = None
    reason: str | None = None
    """Why it was revoked: ``revoked`` (the device was) or ``superseded`` (the gate re-enrolled)."""


@dataclass
class _State:
    tokens: dict[str, TokenRecord] = field(default_factory=dict)
    certificates: list[CertificateRecord] = field(default_factory=list)
    revoked_devices: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Enrolled:
    record: TokenRecord
    certificate_pem: bytes
    superseded: tuple[int, ...]
    """Serials of the device's earlier certificates, revoked by this enrolment."""
    readmitted: bool
    """The device had been revoked, and this enrolment lets it back in."""


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _token_to_json(record: TokenRecord) -> dict[str, Any]:
    gate = record.gate
    return {
        "device_id": gate.device_id,
        "project_id": gate.project_id,
        "lane": gate.lane,
        "direction": None if gate.direction is None else gate.direction.value,
        "mode": gate.mode,
        "issued_by": record.issued_by,
        "issued_at": record.issued_at.isoformat(),
        "expires_at": record.expires_at.isoformat(),
        "used_at": record.used_at.isoformat() if record.used_at else None,
        "certificate_serial": str(record.certificate_serial) if record.certificate_serial else None,
    }


def _token_from_json(digest: str, raw: dict[str, Any]) -> TokenRecord:
    direction = None if raw["direction"] is None else Direction(raw["direction"])
    mode = raw.get("mode", "access")  # a ledger from before office readers: every gate a lane
    gate = EnrolledGate(raw["device_id"], raw["project_id"], raw["lane"], direction, mode)
    serial = raw.get("certificate_serial")
    return TokenRecord(
        digest,
        gate,
        raw["issued_by"],
        datetime.fromisoformat(raw["issued_at"]),
        datetime.fromisoformat(raw["expires_at"]),
        _time(raw["used_at"]),
        int(serial) if serial else None,
    )


def _load(path: Path) -> _State:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _State()
    except (OSError, ValueError) as err:
        raise LedgerError(f"{path}: unreadable ({err}); restore it from the CA's backup") from err
    if raw.get("format") != FORMAT:
        raise LedgerError(f"{path}: format {raw.get('format')!r}, expected {FORMAT}")
    state = _State()
    state.tokens = {digest: _token_from_json(digest, item) for digest, item in raw["tokens"].items()}
    for item in raw["certificates"]:
        issued = datetime.fromisoformat(item["issued_at"])
        revoked_at = _time(item["revoked_at"])
        cert = CertificateRecord(int(item["serial"]), item["device_id"], issued, revoked_at, item["reason"])
        state.certificates.append(cert)
    revoked = raw["revoked_devices"].items()
    state.revoked_devices = {device: datetime.fromisoformat(at) for device, at in revoked}
    return state


def _dump(state: _State) -> bytes:
    raw = {
        "format": FORMAT,
        "tokens": {digest: _token_to_json(record) for digest, record in sorted(state.tokens.items())},
        "certificates": [
            {
                "serial": str(c.serial),
                "device_id": c.device_id,
                "issued_at": c.issued_at.isoformat(),
                "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
                "reason": c.reason,
            }
            for c in state.certificates
        ],
        "revoked_devices": {device: at.isoformat() for device, at in sorted(state.revoked_devices.items())},
    }
    return (json.dumps(raw, indent=1) + "\n").encode()


def _revoke_live(state: _State, device_id: str, at: datetime, reason: str) -> list[int]:
    revoked = []
    for index, cert in enumerate(state.certificates):
        if cert.device_id == device_id and cert.revoked_at is None:
            state.certificates[index] = CertificateRecord(cert.serial, device_id, cert.issued_at, at, reason)
            revoked.append(cert.serial)
    return revoked


class EnrolmentLedger:
    def __init__(self, directory: Path) -> None:
        self.path = directory / LEDGER_NAME
        self._lock_path = directory / f".{LEDGER_NAME}.lock"

    @contextlib.contextmanager
    def _locked(self, *, write: bool) -> Iterator[_State]:
        with open(self._lock_path, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
            state = _load(self.path)
            yield state
            if write:
                write_public(self.path, _dump(state), mode=0o600)

    # -- tokens ------------------------------------------------------------------------------

    def add_token(self, record: TokenRecord) -> None:
        with self._locked(write=True) as state:
            state.tokens[record.digest] = record

    def token_for(self, token: str) -> TokenRecord | None:
        with self._locked(write=False) as state:
            return state.tokens.get(token_digest(token))

    def redeem(self, token: str, now: datetime, sign: Callable[[TokenRecord], bytes]) -> Enrolled:
        """Check ``token``, have ``sign`` make the certificate, then spend the token, all under the
        lock: a second use waiting on the lock finds it spent. If ``sign`` raises (a bad CSR),
        nothing changes and the token stays good."""
        with self._locked(write=True) as state:
            record = check_token(token, state.tokens.get(token_digest(token)), now)
            certificate_pem = sign(record)
            serial = serial_of(certificate_pem)
            device_id = record.gate.device_id
            superseded = _revoke_live(state, device_id, now, "superseded")
            readmitted = state.revoked_devices.pop(device_id, None) is not None
            state.certificates.append(CertificateRecord(serial, device_id, now))
            spent = record.spent(now, serial)
            state.tokens[record.digest] = spent
            return Enrolled(spent, certificate_pem, tuple(superseded), readmitted)

    # -- revocation --------------------------------------------------------------------------

    def revoke(self, device_id: str, now: datetime) -> list[int]:
        """Revoke every certificate of the device and bar its name until it is enrolled again."""
        with self._locked(write=True) as state:
            if not any(cert.device_id == device_id for cert in state.certificates):
                raise UnknownDevice(device_id)
            serials = _revoke_live(state, device_id, now, "revoked")
            state.revoked_devices.setdefault(device_id, now)
            return serials

    def tokens_of(self, device_id: str) -> list[TokenRecord]:
        """The tokens issued for the gate ``device_id``, oldest first (digests only: what the
        console shows of a gate's provisioning)."""
        with self._locked(write=False) as state:
            found = [t for t in state.tokens.values() if t.gate.device_id == device_id]
        return sorted(found, key=lambda t: t.issued_at)

    def certificates(self) -> list[CertificateRecord]:
        with self._locked(write=False) as state:
            return list(state.certificates)

    def revoked_serials(self) -> list[int]:
        return sorted(c.serial for c in self.certificates() if c.revoked_at is not None)

    def revoked_devices(self) -> list[str]:
        with self._locked(write=False) as state:
            return sorted(state.revoked_devices)
