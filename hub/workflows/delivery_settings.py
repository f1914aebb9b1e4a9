"""``[deliveries]`` of the hub's TOML: where alerts go outside the building (issue 15).

Each target is a webhook (HTTP POST of JSON, signed with HMAC-SHA256 when it has a secret) or an
e-mail address, for the whole city or one district, and for some kinds of alert::

    [deliveries]
    interval_s = 60

    [deliveries.smtp]
    host = "smtp.example.org"
    port = 587
    sender = "sitegate@example.org"
    starttls = true
    username = "sitegate"
    password_file = "/etc/sitegate/smtp-password"

    [[deliveries.webhooks]]
    url = "https://duty.example.org/sitegate"
    secret_file = "/etc/sitegate/webhook-secret"
    kinds = ["watchlist_hit", "gate_offline"]

    [[deliveries.emails]]
    to = "jgz@xihu.example.org"
    district = "330106"
    kinds = ["watchlist_hit", "order_overdue"]

An e-mail to an authority names the person of a watchlist hit (the authority may know who it is);
a webhook carries the person's internal id and name only as the alert does; nothing carries an ID
number, and the hub's log says only which alert went where.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

DELIVERED_KINDS: Final = ("watchlist_hit", "order_overdue", "gate_offline")
Kind = Literal["watchlist_hit", "order_overdue", "gate_offline"]


class _Target(BaseModel):
    # defer_build: a target's own validator is built on its first use; DeliverySettings (built at the
    # hub's start) builds its targets' schemas into its own
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    district: Annotated[str, Field(min_length=1, max_length=12)] | None = None
    """The district whose alerts it gets (as that bureau sees them); None: the whole city's."""
    kinds: tuple[Kind, ...] = DELIVERED_KINDS


class WebhookTarget(_Target):
    url: Annotated[str, Field(pattern=r"^https?://", max_length=200)]
    secret_file: Path | None = None
    """A file holding the HMAC key: the body's HMAC-SHA256 goes in ``X-SiteGate-Signature``."""


class EmailTarget(_Target):
    to: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=200)]


class SmtpSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: Annotated[str, Field(min_length=1)] = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 25
    sender: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")] = "sitegate@localhost"
    starttls: bool = False
    username: str | None = None
    password_file: Path | None = None
    timeout_s: Annotated[float, Field(gt=0, le=300)] = 30.0


class DeliverySettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    interval_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    """How often alerts are looked for and due deliveries tried."""
    first_retry_s: Annotated[float, Field(gt=0, le=3600)] = 30.0
    max_retry_s: Annotated[float, Field(gt=0, le=24 * 3600)] = 3600.0
    """A failed delivery's n-th retry waits between half and all of ``first_retry_s * 2**n``, at
    most this long."""
    smtp: SmtpSettings = SmtpSettings()
    webhooks: tuple[WebhookTarget, ...] = ()
    emails: tuple[EmailTarget, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.webhooks or self.emails)
