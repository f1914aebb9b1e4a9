"""Enrolment of a lane, the hub's half: one-time tokens, and the bundle a lane gets for its CSR.

A GC project account asks the hub for a token for one of its project's gates; the site manager
types it into ``sitegate provision`` on the Pi, which makes its own key, sends a CSR with the
token, and gets back everything the lane needs (:class:`EnrolmentBundle`). The rules:

- a token is shown once and kept only as its SHA-256 (a leaked ledger enrols nothing);
- a token is good for one enrolment of one gate, until it expires (default 24 h);
- the token starts with the gate's device id (``lane-hz0042-a1.<secret>``): the Pi needs the id
  for its CSR's CN before it has talked to the hub, and the id is no secret;
- a token is spent only by an enrolment that succeeded: a CSR the CA refuses leaves it usable,
  so a typo on the Pi does not cost the site manager a new token;
- the bundle carries the project's site key (credentials are hashed with it): the hub hands it
  out over TLS only, which the device side insists on (:mod:`provisioning.device`).

This module is pure (no files, no network): :mod:`provisioning.ledger` keeps the records and
:mod:`provisioning.registrar` does the I/O around them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from wire.models import DEVICE_ID_PATTERN, PROJECT_ID_PATTERN, Direction

TOKEN_SECRET_BYTES = 32
DEFAULT_TOKEN_LIFETIME = timedelta(hours=24)
MAX_TOKEN_LIFETIME = timedelta(days=14)
MAX_TOKEN_LENGTH = 128
MAX_CSR_LENGTH = 4096
LaneMode = Literal["access", "registration"]
"""The controller's ``mode`` (:class:`controller.config.ControllerConfig`)."""
_TOKEN = re.compile(r"^([a-z0-9][a-z0-9-]{1,62})\.([A-Za-z0-9_-]{32,64})$")


class EnrolmentRefused(Exception):
    """Why a token or a CSR was refused, for the site manager: an HTTP status, a code, a message.

    Messages never repeat the token (it is a secret) and say what to do next.
    """

    status = 403

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


class TokenMalformed(EnrolmentRefused):
    status = 400

    def __init__(self) -> None:
        super().__init__(
            "token_malformed",
            "that is not an enrolment token (expected '<device id>.<secret>' as the hub showed it); "
            "check for a missing or extra character",
        )


class TokenUnknown(EnrolmentRefused):
    def __init__(self, device_id: str) -> None:
        super().__init__(
            "token_unknown",
            f"this hub never issued that token for {device_id} (mistyped, or not from this hub); "
            "ask the project's account for a new one",
        )


class TokenUsed(EnrolmentRefused):
    status = 409

    def __init__(self, device_id: str, used_at: datetime) -> None:
        super().__init__(
            "token_used",
            f"this token already enrolled {device_id} at {used_at:%Y-%m-%d %H:%M} UTC; a token "
            "works once: ask the project's account for a new one to enrol again",
        )


class TokenExpired(EnrolmentRefused):
    def __init__(self, device_id: str, expires_at: datetime) -> None:
        super().__init__(
            "token_expired",
            f"the token for {device_id} expired at {expires_at:%Y-%m-%d %H:%M} UTC; "
            "ask the project's account for a new one",
        )


class CsrRefused(EnrolmentRefused):
    status = 400

    def __init__(self, why: str) -> None:
        super().__init__("csr_refused", f"the certificate request was refused: {why}")


# --- tokens ---------------------------------------------------------------------------------------


def token_digest(token: str) -> str:
    """What the ledger keeps of a token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def device_of_token(token: str) -> str:
    """The device id a token is for (read by the Pi before it makes its CSR); TokenMalformed else."""
    match = _TOKEN.match(token.strip()) if len(token) <= MAX_TOKEN_LENGTH else None
    if match is None:
        raise TokenMalformed()
    return match.group(1)


@dataclass(frozen=True, slots=True)
class EnrolledGate:
    """The lane a token enrols: what the registry says about the gate when the token is issued."""

    device_id: str
    project_id: str
    lane: str
    direction: Direction | None
    """The lane's one direction; None for an office reader."""
    mode: LaneMode = "access"
    """The registry's kind of gate, as the controller's ``mode``: ``access`` for a turnstile lane,
    ``registration`` for the site office's card reader (进场/离场登记)."""


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A token as the hub keeps it: its digest, never the token."""

    digest: str
    gate: EnrolledGate
    issued_by: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    certificate_serial: int | None = None

    def spent(self, at: datetime, serial: int) -> TokenRecord:
        return replace(self, used_at=at, certificate_serial=serial)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    """Shown once to the account that asked; the hub keeps only :attr:`record`."""
    record: TokenRecord


def issue_token(
    gate: EnrolledGate, *, issued_by: str, now: datetime, lifetime: timedelta = DEFAULT_TOKEN_LIFETIME
) -> IssuedToken:
    if not timedelta(0) < lifetime <= MAX_TOKEN_LIFETIME:
        raise ValueError(f"a token lives between 0 and {MAX_TOKEN_LIFETIME.days} days, not {lifetime}")
    token = f"{gate.device_id}.{secrets.token_urlsafe(TOKEN_SECRET_BYTES)}"
    record = TokenRecord(token_digest(token), gate, issued_by, now, now + lifetime)
    return IssuedToken(token, record)


def check_token(token: str, record: TokenRecord | None, now: datetime) -> TokenRecord:
    """The record, if ``token`` may enrol now; else the refusal a site manager can act on."""
    device_id = device_of_token(token)
    if record is None or record.gate.device_id != device_id:
        raise TokenUnknown(device_id)
    if record.used_at is not None:
        raise TokenUsed(device_id, record.used_at)
    if now >= record.expires_at:
        raise TokenExpired(device_id, record.expires_at)
    return record


# --- what goes over HTTP --------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EnrolmentRequest(_Model):
    """``POST /api/v1/enrolments``: the token and the device's CSR (PEM)."""

    token: Annotated[str, Field(min_length=1, max_length=MAX_TOKEN_LENGTH)]
    csr: Annotated[str, Field(min_length=1, max_length=MAX_CSR_LENGTH)]


class BrokerAddress(_Model):
    host: Annotated[str, Field(min_length=1, max_length=253)]
    port: Annotated[int, Field(ge=1, le=65535)]


class LaneSettings(_Model):
    device_id: Annotated[str, Field(pattern=DEVICE_ID_PATTERN)]
    project_id: Annotated[str, Field(pattern=PROJECT_ID_PATTERN)]
    lane: Annotated[str, Field(min_length=1, max_length=32)]
    direction: Direction | None
    """None for an office reader, which passes nobody."""
    mode: LaneMode = "access"
    """What the registry placed at the gate; ``sitegate provision`` writes it into the lane's
    configuration. Left out of the answer when ``access`` (:func:`answer_json`), so a lane
    provisioned by an older ``sitegate provision`` still reads its answer."""

    @model_validator(mode="after")
    def _a_lane_has_a_direction(self) -> LaneSettings:
        if self.mode == "access" and self.direction is None:
            raise ValueError("direction: a turnstile lane needs its direction (in or out)")
        return self


class EnrolmentBundle(_Model):
    """Everything a freshly enrolled lane needs, in one answer."""

    certificate: str
    """The device's certificate (PEM), CN = its device id."""
    ca_certificate: str
    """The hub CA's certificate (PEM): the broker's certificate is checked against it."""
    broker: BrokerAddress
    roster_public_key: str
    """Base64 of the hub's raw Ed25519 roster-signing public key: the lane's pinned key."""
    site_key: Annotated[str, Field(pattern=r"^[0-9a-f]{32,128}$")]
    """The project's site key, hex: the lane hashes credentials with it."""
    lane: LaneSettings


def bundle_for(
    gate: EnrolledGate,
    *,
    certificate_pem: bytes,
    ca_pem: bytes,
    broker: BrokerAddress,
    roster_public_key: str,
    site_key: bytes,
) -> EnrolmentBundle:
    return EnrolmentBundle(
        certificate=certificate_pem.decode("ascii"),
        ca_certificate=ca_pem.decode("ascii"),
        broker=broker,
        roster_public_key=roster_public_key,
        site_key=site_key.hex(),
        lane=LaneSettings(
            device_id=gate.device_id,
            project_id=gate.project_id,
            lane=gate.lane,
            direction=gate.direction,
            mode=gate.mode,
        ),
    )


def answer_json(bundle: EnrolmentBundle) -> dict[str, object]:
    """The bundle as the hub answers it: a default ``mode`` left out (see :class:`LaneSettings`)."""
    return bundle.model_dump(mode="json", exclude_defaults=True)
