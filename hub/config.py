"""The hub's configuration: one frozen model, filled from a TOML file and then from flags.

Unknown keys are errors, not ignored: a misspelt ``batch_max`` in a file should stop the hub,
not leave it silently on the default.
"""

from __future__ import annotations

import os
import secrets
import socket
import ssl
import tomllib
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, ValidationError, model_validator

from hub.errors import ConfigError
from hub.events.time_bounds import EPOCH, FUTURE_SKEW, TimeBounds
from hub.platform.upload_settings import UploadSettings
from hub.retention.settings import RetentionSettings
from hub.tls import tls_context
from hub.workflows.delivery_settings import DeliverySettings
from wire.clock import SITE_ZONE

HUB_IDENTITY_PATTERN = r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$"
"""A hub instance's certificate name: dotted, so never a possible device id (provisioning.ca)."""

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/hub.db"
DEFAULT_SHARE_GROUP = "sitegate-hub"
DEFAULT_BROKER_FILES_DIR = Path("/var/lib/sitegate-broker")
"""Where a production hub writes the broker's CRL and ACL: the directory mosquitto reads them from
and ``firmware/systemd/sitegate-broker-reload.path`` watches (tests/firmware check they agree)."""

# An MQTT topic level: no separators, no wildcards.
_SHARE_GROUP_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
_CLIENT_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,128}$"


def default_client_id() -> str:
    """Unique per hub instance: a second client with the same id would log the first one out.

    Host and pid say where it runs; the random tail keeps two Ingests in one process apart.
    """
    host = "".join(c if c.isalnum() or c in "-_." else "-" for c in socket.gethostname())[:40] or "host"
    return f"sitegate-hub-{host}-{os.getpid()}-{secrets.token_hex(3)}"


class HttpLimits(BaseModel):
    """``[http]``: what one client may cost the API (issue 13). Behind a reverse proxy, list it in
    ``trusted_proxies``: only a peer listed there is believed about the client's address
    (X-Forwarded-For); anyone else's header is ignored and the peer's own address is the client."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trusted_proxies: tuple[IPvAnyNetwork, ...] = ()
    header_timeout_s: Annotated[float, Field(gt=0, le=600)] = 15.0
    """A connection must send a whole request head within this long of opening (or of its last
    answer), else it is closed: aiohttp's keep-alive timer, which it arms at connect."""
    body_timeout_s: Annotated[float, Field(gt=0, le=600)] = 30.0
    max_connections: Annotated[int, Field(ge=1, le=1_000_000)] = 2000
    max_connections_per_client: Annotated[int, Field(ge=1, le=1_000_000)] = 100
    """Per peer address, trusted proxies exempt (their clients share it)."""
    logins_per_client_per_min: Annotated[int, Field(ge=1, le=100_000)] = 30
    lookups_per_account_per_min: Annotated[int, Field(ge=1, le=100_000)] = 30


class HubConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: Annotated[str, Field(min_length=1)] = DEFAULT_DATABASE_URL
    mqtt_host: Annotated[str, Field(min_length=1)] = "127.0.0.1"
    mqtt_port: Annotated[int, Field(ge=1, le=65535)] = 1883
    mqtt_client_id: Annotated[str, Field(pattern=_CLIENT_ID_PATTERN)] = Field(
        default_factory=default_client_id
    )
    share_group: Annotated[str, Field(pattern=_SHARE_GROUP_PATTERN)] = DEFAULT_SHARE_GROUP
    http_host: Annotated[str, Field(min_length=1)] = "127.0.0.1"
    # 0 lets the OS pick a free port (tests); the CLI prints the one it got.
    http_port: Annotated[int, Field(ge=0, le=65535)] = 8080
    batch_max: Annotated[int, Field(ge=1, le=10_000)] = 2000
    batch_window_s: Annotated[float, Field(ge=0, le=5)] = 0.02
    # A device is shown offline after 1.5 x its keep-alive without a heartbeat or an ``online``.
    device_keepalive_s: Annotated[float, Field(gt=0, le=3600)] = 30.0
    data_key_file: Path | None = None
    """The 32-byte key that seals ID numbers and site keys (hub.registry.keyfile: made on first
    start, mode 0600, never overwritten). None: ``hub-data.key`` beside an SQLite database, else
    in ``./var``."""
    # API accounts: how long a login's bearer token lives; how wrong passwords are slowed down.
    token_lifetime_s: Annotated[int, Field(ge=60, le=30 * 24 * 3600)] = 8 * 3600
    login_max_failures: Annotated[int, Field(ge=1, le=100)] = 5
    login_lockout_s: Annotated[int, Field(ge=1, le=24 * 3600)] = 15 * 60
    """No account is ever locked (issue 13: a lock is a weapon for strangers). Per account and
    client: ``login_max_failures`` wrong passwords in a row are answered at once; after them each
    try waits twice as long as the one before (1 s, 2 s, ...), at most ``login_lockout_s``."""
    http: HttpLimits = HttpLimits()
    deliveries: DeliverySettings = DeliverySettings()
    """``[deliveries]``: alerts sent to webhooks and e-mail (hub.workflows.delivery_settings)."""
    platform: UploadSettings = UploadSettings()
    """``[platform]``: the uploader to the worker platforms (hub.platform.upload_settings)."""
    retention: RetentionSettings = RetentionSettings()
    """``[retention]``: records kept ``years`` after their project's completion, then purged; the
    months ahead made (hub.retention)."""
    roster_signing_key_file: Path | None = None
    """The Ed25519 key rosters are signed with (made on first start, mode 0600); lanes pin its
    public half. None: ``roster-signing.key`` in :meth:`state_dir`."""
    # Anomaly alerts (hub.workflows.alerts), computed on read: a manager assigned to a project who
    # has not entered by this site-local time; a gate silent for longer than this; watchlist hits
    # within this many hours.
    alert_manager_due_by: time = time(9, 0)
    alert_gate_offline_after_s: Annotated[int, Field(ge=60, le=7 * 24 * 3600)] = 15 * 60
    alert_watchlist_window_h: Annotated[int, Field(ge=1, le=31 * 24)] = 24
    # Site-wide anti-passback (hub.site.schedule): a lane is told, signed, who its sibling lanes
    # are and when the hub last heard from each when that changes what it concludes, and at least
    # every site_sync_s (None: sibling silence less the 15 s margin, 75 s) while it has siblings; a
    # lane alone on its site only when it asks. site_sibling_silence_s is the lanes' own bound
    # ([site] sibling_silence_s, 90 s by default; the hub's must not be above it): a lane whose
    # word on a sibling is older than that degrades hard anti-passback to soft.
    site_sync_s: Annotated[float, Field(gt=0, le=3600)] | None = None
    site_sibling_silence_s: Annotated[float, Field(gt=20, le=24 * 3600)] = 90.0
    instance_lease_ttl_s: Annotated[float, Field(ge=3, le=600)] = 15.0
    """Several hub instances on one PostgreSQL (hub.instances): each renews its lease every third
    of this, and one whose lease ran out (killed) has its projects taken over by the others. Its id
    is ``mqtt_client_id`` (unique per instance already: the broker logs out a second client)."""
    # Time bounds on events (hub.events.time_bounds): how far a lane's clock may run ahead of the
    # hub's (and a record come before its device's enrolment) before its time is not believed;
    # the site-local day before which no time is (for devices enrolled before the hub kept
    # enrolment times). A record out of bounds is kept, flagged clock_suspect, counted nowhere.
    clock_tolerance_s: Annotated[float, Field(ge=0, le=24 * 3600)] = FUTURE_SKEW.total_seconds()
    clock_epoch: date = EPOCH.date()
    mqtt_ca_file: Path | None = None
    """The CA that signed the broker's certificate; with ``mqtt_cert_file`` and ``mqtt_key_file``
    (the hub's identity, the CN the broker's ACL names) the broker link is TLS."""
    mqtt_cert_file: Path | None = None
    mqtt_key_file: Path | None = None
    broker_files_dir: Path = DEFAULT_BROKER_FILES_DIR
    """The broker's CRL (``ca.crl``) and ACL (``acl``), rewritten by the hub on every revocation:
    the one setting the broker's config and the reload path unit must name too."""
    broker_hub_identities: Annotated[
        tuple[Annotated[str, Field(pattern=HUB_IDENTITY_PATTERN, max_length=64)], ...], Field(min_length=1)
    ] = ("sitegate.hub",)
    """Every hub instance's certificate name on this broker (the CN, which the broker takes as the
    client id: ``sitegate.hub``, ``sitegate.hub.2``, ...): the ACL this hub writes on every
    revocation names each. Naming only itself, a hub cut the other instances off the lanes'
    topics at the broker's next reload (several hubs on one shared subscription)."""
    broker_pid_file: Path | None = None
    """None (production): writing the files is telling the broker, systemd's path unit reloads it.
    A file holding the broker's pid (the demo's, the tests'): the hub sends it SIGHUP itself."""
    photos_dir: Path | None = None
    """Where inspections' photos are kept, outside the database, each file named by its sha256
    (hub.workflows.photos). None: ``photos/`` in :meth:`state_dir`."""

    @model_validator(mode="after")
    def _tls_files_together(self) -> HubConfig:
        files = {
            "mqtt_ca_file": self.mqtt_ca_file,
            "mqtt_cert_file": self.mqtt_cert_file,
            "mqtt_key_file": self.mqtt_key_file,
        }
        missing = [key for key, path in files.items() if path is None]
        if missing and len(missing) < len(files):
            raise ValueError(
                "mqtt_ca_file, mqtt_cert_file and mqtt_key_file go together (TLS); "
                f"missing {', '.join(missing)}"
            )
        return self

    def state_dir(self) -> Path:
        """Where the hub keeps its own files (keys) unless told otherwise: beside an SQLite
        database, else ``./var``."""
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix) and self.database_url != prefix + ":memory:":
            return Path(self.database_url[len(prefix) :]).parent
        return Path("var")

    def time_bounds(self) -> TimeBounds:
        """The one tolerance stands for the lane's clock disagreeing with the hub's, both ways."""
        tolerance = timedelta(seconds=self.clock_tolerance_s)
        return TimeBounds(
            future_skew=tolerance,
            enrolment_slack=tolerance,
            epoch=datetime.combine(self.clock_epoch, time(), SITE_ZONE),
        )

    def roster_key_path(self) -> Path:
        return self.roster_signing_key_file or self.state_dir() / "roster-signing.key"

    def data_key_path(self) -> Path:
        return self.data_key_file or self.state_dir() / "hub-data.key"

    def photos_path(self) -> Path:
        return self.photos_dir or self.state_dir() / "photos"

    def mqtt_tls_context(self) -> ssl.SSLContext | None:
        """None for a plain broker link; loaded once at start, so a bad file stops the hub there."""
        if self.mqtt_ca_file is None or self.mqtt_cert_file is None or self.mqtt_key_file is None:
            return None
        try:
            return tls_context(self.mqtt_ca_file, self.mqtt_cert_file, self.mqtt_key_file)
        except OSError as err:  # ssl.SSLError is one
            raise ConfigError(f"mqtt_ca_file / mqtt_cert_file / mqtt_key_file unusable: {err}") from err


def load_config(path: Path | None = None, overrides: dict[str, Any] | None = None) -> HubConfig:
    """Defaults, then the TOML file's top-level keys, then ``overrides`` (flags that were given)."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except OSError as err:
            raise ConfigError(f"cannot read {path}: {err.strerror}") from err
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path} is not valid TOML: {err}") from err
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return HubConfig(**values)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<config>'}: {e['msg']}"
            for e in err.errors(include_input=False, include_url=False)
        )
        raise ConfigError(f"invalid hub configuration: {problems}") from err
