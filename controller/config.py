"""The controller's configuration: one TOML file, validated whole before anything starts.

Errors name the key (``reader.port: field required``) so a site manager can fix the file without
reading code. Unknown keys are errors too: a misspelt ``relay_pulse_secs`` silently ignored would
leave a lane on the default.
"""

from __future__ import annotations

import base64
import binascii
import tomllib
from datetime import time
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from controller.core.policy import AntiPassback, Policy, TimeWindow, end_of_working_day, parse_window
from controller.journal import Retention
from wire.credential import MIN_SITE_KEY_BYTES
from wire.models import DEVICE_ID_PATTERN, PROJECT_ID_PATTERN, Direction
from wire.roles import RosterRole


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


ID_MODULE_BAUDRATES = (9600, 19200, 38400, 57600, 115200)
"""The rates a GA/T 467 module can be set to; it ships at 115200 (8N1)."""


class SerialReaderConfig(_Section):
    """A GA/T 467 ID module on a serial port: the certified read of the ID card's chip."""

    port: str
    baudrate: int = 115200
    poll_interval_s: Annotated[float, Field(gt=0, le=5)] = 0.15

    @field_validator("baudrate")
    @classmethod
    def _a_module_rate(cls, value: int) -> int:
        # Checked here, not by the port: pyserial refuses some values only when the lane opens it.
        if value not in ID_MODULE_BAUDRATES:
            *first, last = ID_MODULE_BAUDRATES
            rates = f"{', '.join(str(rate) for rate in first)} or {last}"
            raise ValueError(f"{value} is not a rate the ID module supports ({rates})")
        return value


class PcscReaderConfig(_Section):
    """A PC/SC reader (pyscard): card UIDs and the ID card's physical number, as binding keys."""

    reader: str | None = None
    """Name prefix of the reader to use (``pcsc_scan`` lists them); the first reader when unset."""
    poll_timeout_s: Annotated[float, Field(gt=0, le=5)] = 0.5


class ReadersConfig(_Section):
    id_module: SerialReaderConfig | None = None
    pcsc: PcscReaderConfig | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> ReadersConfig:
        if self.id_module is None and self.pcsc is None:
            raise ValueError("configure at least one reader: [readers.id_module] or [readers.pcsc]")
        return self


class MqttConfig(_Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 1883
    keepalive_s: Annotated[int, Field(ge=5, le=600)] = 30
    window: Annotated[int, Field(ge=1, le=10_000)] = 200
    resend_after_s: Annotated[float, Field(gt=0)] = 10.0
    """Unacknowledged events go out again after this long without the hub's watermark moving."""
    resend_max_s: Annotated[float, Field(gt=0)] = 60.0
    """A hub whose watermark moved within this long is behind, not silent: the silence allowed
    doubles up to this instead of sending it its backlog again (controller.resend_timer)."""
    heartbeat_s: Annotated[float, Field(gt=0)] = 30.0
    reconnect_window_s: Annotated[float, Field(gt=0, le=60)] = 5.0
    """A lost link is retried after a uniform draw from [0, window], doubling per failure up to 60 s:
    when a broker restarts, a city's lanes come back spread over the window, not in one wave. Lanes
    decide offline, so the wait costs only reporting latency."""
    ca_file: Path | None = None
    """The hub CA's certificate: with ``cert_file`` and ``key_file``, the link is TLS with this
    device's certificate, whose CN the broker's ACL binds the device's topics to."""
    cert_file: Path | None = None
    key_file: Path | None = None

    @model_validator(mode="after")
    def _tls_files_together(self) -> MqttConfig:
        files = {"ca_file": self.ca_file, "cert_file": self.cert_file, "key_file": self.key_file}
        missing = [key for key, path in files.items() if path is None]
        if missing and len(missing) < len(files):
            raise ValueError(
                f"ca_file, cert_file and key_file go together (TLS); missing {', '.join(missing)}"
            )
        return self

    @property
    def tls(self) -> bool:
        return self.ca_file is not None


ROSTER_KEY_BYTES = 32

HOURS_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$"
TIME_OF_DAY_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class PolicyConfig(_Section):
    """The bootstrap policy: what the lane decides by until its roster brings the project's site
    rules, which the hub signs with it (set per project in the hub: ``PUT
    /api/v1/projects/{id}/site-rules``). A lane whose roster came with rules ignores this section; it
    stays for a lane without a pinned roster key and for rosters from before rules existed."""

    anti_passback: AntiPassback = AntiPassback.HARD
    accept_uid_only: bool = False
    working_hours: dict[RosterRole, Annotated[str, Field(pattern=HOURS_PATTERN)]] = {
        RosterRole.WORKER: "06:00-20:00"
    }
    inside_expires_at: Annotated[str, Field(pattern=TIME_OF_DAY_PATTERN)] | None = None
    """Site-local "HH:MM": an entry recorded before this time of day stops counting for
    anti-passback once it has passed (a missed exit locks nobody out beyond the day). Unset: the
    end of the working day, i.e. the end of the workers' hours (20:00 by default), else the
    latest end of any role's hours, else midnight."""

    @field_validator("working_hours")
    @classmethod
    def _windows_are_real(cls, value: dict[RosterRole, str]) -> dict[RosterRole, str]:
        for role, text in value.items():
            start, end = text.split("-")
            if start == end:
                raise ValueError(f"{role.value}: start and end of {text!r} are the same")
        return value

    def to_policy(self) -> Policy:
        hours = {role: parse_window(text) for role, text in self.working_hours.items()}
        expires = (
            time.fromisoformat(self.inside_expires_at)
            if self.inside_expires_at is not None
            else end_of_working_day(hours)
        )
        return Policy(self.anti_passback, MappingProxyType(hours), self.accept_uid_only, expires)


class SiteConfig(_Section):
    """Anti-passback shared with the other lanes of the site, through the hub (invariant 10)."""

    share_passages: bool = True
    """Take the site's passages relayed by the hub (signed with the pinned roster key, so only
    with ``roster_public_key`` set); off, anti-passback knows this lane's passages only."""
    sibling_silence_s: Annotated[float, Field(gt=0, le=24 * 3600)] = 90.0
    """While the hub has not confirmed the site's lanes for longer than this (its sync is older,
    or a sibling was last heard longer ago), hard anti-passback is soft: granted with the warning
    ``passback_unverified``, never a lock-out for an exit recorded where this lane cannot see.
    90 s: the hub confirms every 15 s and lanes beat every 30 s, so a lost heartbeat is tolerated."""


class JournalConfig(_Section):
    """How long acknowledged events stay on the lane (invariant 11), so that a hub restored from a
    backup can ask for them again (controller.journal.Retention)."""

    keep_acked_days: Annotated[float, Field(ge=0, le=90)] = 7.0
    """Counted on the hub's clock from the ack; 0 forgets at the ack, as lanes once did."""
    keep_acked_max_events: Annotated[int, Field(ge=0, le=10_000_000)] = 200_000
    """The disk's bound: at most this many acknowledged events kept (~500 bytes each)."""
    keep_acked_min_free_mb: Annotated[float, Field(ge=0)] = 100.0
    """While the disk has less free space than this, acknowledged events are not kept."""

    def retention(self) -> Retention:
        return Retention(
            keep_s=self.keep_acked_days * 86_400,
            max_events=self.keep_acked_max_events,
            min_free_mb=self.keep_acked_min_free_mb,
        )


DEFAULT_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
"""Debian's fonts-wqy-zenhei (installed by the image build and ``make``): CJK, bitmaps at small sizes."""


class DisplayConfig(_Section):
    """The worker's screen (``controller.feedback``): the panel the board profile names."""

    enabled: bool = True
    device: Literal["auto", "board", "emulator"] = "auto"
    """``board``: the profile's panel; ``emulator``: luma's in-memory device (the demo, the bench);
    ``auto``: the panel, or the emulator when the lane runs on mock pins."""
    font: Path = DEFAULT_FONT
    decision_s: Annotated[float, Field(gt=0, le=30)] = 3.0
    """How long a decision stays on the screen before the lane's idle state comes back."""
    offline_grace_s: Annotated[float, Field(ge=0, le=3600)] = 30.0
    """The link to the hub down this long before the screen says "offline" (a broker restart is
    not news to a worker)."""


class VoiceConfig(_Section):
    """Spoken prompts, per site: how loud, and how loud during the site's quiet hours."""

    enabled: bool = True
    prompts_dir: Path = Path("/opt/sitegate/prompts")
    """Where ``make prompts`` / the image build put the WAV files."""
    output: Literal["auto", "alsa", "none"] = "auto"
    """``alsa``: play with ``aplay``; ``none``: silent; ``auto``: ALSA, or silent on mock pins."""
    alsa_device: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_:,=.-]+$")] = (
        "default"
    )
    """``aplay -D``: ``default``, or ``null`` (plays into nothing: the bench, a lane without a speaker)."""
    volume: Annotated[int, Field(ge=0, le=100)] = 80
    quiet_hours: Annotated[str, Field(pattern=HOURS_PATTERN)] | None = "22:00-06:00"
    """Site-local "HH:MM-HH:MM" (may span midnight): the quiet volume applies. Default: the night
    hours of China's noise law (22:00-06:00). ``""``: no quiet hours."""
    quiet_volume: Annotated[int, Field(ge=0, le=100)] = 30
    """0 mutes the lane during quiet hours; the screen still says everything."""

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value  # TOML has no null: "" switches quiet hours off

    @field_validator("quiet_hours")
    @classmethod
    def _a_real_window(cls, value: str | None) -> str | None:
        if value is not None and value[:5] == value[6:]:
            raise ValueError(f"start and end of {value!r} are the same")
        return value

    def quiet_window(self) -> TimeWindow | None:
        if self.quiet_hours is None:
            return None
        start, end = (time.fromisoformat(part) for part in self.quiet_hours.split("-"))
        return TimeWindow(start, end)


class ControllerConfig(_Section):
    device_id: Annotated[str, Field(pattern=DEVICE_ID_PATTERN)]
    project_id: Annotated[str, Field(pattern=PROJECT_ID_PATTERN)]
    lane: Annotated[str, Field(min_length=1, max_length=32)]
    direction: Direction
    data_dir: Path
    site_key_file: Path
    board: str = "rpi4"
    pin_factory: Literal["default", "mock"] = "default"
    timezone: str = "Asia/Shanghai"
    relay_pulse_s: Annotated[float, Field(gt=0, le=10)] = 1.0
    """How long the arm is released on a lane without a rotation sensor."""
    passage_timeout_s: Annotated[float, Field(gt=0, le=60)] = 8.0
    """With a rotation sensor: how long a granted person has to pass before it is "granted, not passed"."""
    rotation_sensor: bool = True
    """Use the board's rotation input (if the board has one) to confirm passages."""
    mode: Literal["access", "registration"] = "access"
    """``registration``: an office reader (进场/离场登记) at the site office, not a turnstile. It
    reads cards and sends each read to the hub for the console's registration form
    (:mod:`controller.registration`); it decides nothing, opens no relay and journals no access
    event. The registry's word: a gate of kind ``office_reader``, whose enrolment answer carries
    the mode and ``sitegate provision`` writes it here; the hub takes card reads from office
    readers only."""
    readers: ReadersConfig
    mqtt: MqttConfig = MqttConfig()
    journal: JournalConfig = JournalConfig()
    policy: PolicyConfig = PolicyConfig()
    site: SiteConfig = SiteConfig()
    display: DisplayConfig = DisplayConfig()
    voice: VoiceConfig = VoiceConfig()
    roster_public_key: str | None = None
    """The hub's roster signing key (base64 of the raw 32-byte Ed25519 public key). Set, the lane
    takes rosters from the hub and applies only those this key signed; unset, it keeps the roster
    file it has."""

    @field_validator("roster_public_key")
    @classmethod
    def _is_ed25519_public_key(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                raw = base64.b64decode(value, validate=True)
            except binascii.Error:
                raise ValueError("not base64") from None
            if len(raw) != ROSTER_KEY_BYTES:
                raise ValueError(f"decodes to {len(raw)} bytes; an Ed25519 public key is {ROSTER_KEY_BYTES}")
        return value

    @property
    def roster_key(self) -> bytes | None:
        """The raw public key, when one is pinned."""
        return None if self.roster_public_key is None else base64.b64decode(self.roster_public_key)

    @property
    def journal_path(self) -> Path:
        return self.data_dir / "journal.sqlite3"

    @property
    def roster_path(self) -> Path:
        return self.data_dir / "roster.json"

    def read_site_key(self) -> bytes:
        """The site key file holds the key as hex (one line): easy to provision, easy to check."""
        try:
            text = self.site_key_file.read_text(encoding="ascii").strip()
            key = bytes.fromhex(text)
        except (OSError, ValueError) as err:
            raise ConfigError(f"site_key_file {self.site_key_file}: {err}") from err
        if len(key) < MIN_SITE_KEY_BYTES:
            raise ConfigError(
                f"site_key_file {self.site_key_file}: key shorter than {MIN_SITE_KEY_BYTES} bytes"
            )
        return key


class ConfigError(ValueError):
    pass


def _describe(err: ValidationError) -> str:
    lines = []
    for problem in err.errors(include_input=False):
        key = ".".join(str(part) for part in problem["loc"]) or "<top level>"
        lines.append(f"{key}: {problem['msg'].removeprefix('Value error, ')}")
    return "; ".join(lines)


def parse_config(text: str, source: str = "<config>") -> ControllerConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{source}: not valid TOML: {err}") from err
    try:
        return ControllerConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(f"{source}: {_describe(err)}") from err


def load_config(path: Path) -> ControllerConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err}") from err
    return parse_config(text, str(path))
