"""The hub's configuration: one frozen model, filled from a TOML file and then from flags.

Unknown keys are errors, not ignored: a misspelt ``batch_max`` in a file should stop the hub,
not leave it silently on the default.
"""

from __future__ import annotations

import os
import secrets
import socket
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/hub.db"
DEFAULT_SHARE_GROUP = "sitegate-hub"

# An MQTT topic level: no separators, no wildcards.
_SHARE_GROUP_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
_CLIENT_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,128}$"


def default_client_id() -> str:
    """Unique per hub instance: a second client with the same id would log the first one out.

    Host and pid say where it runs; the random tail keeps two Ingests in one process apart.
    """
    host = "".join(c if c.isalnum() or c in "-_." else "-" for c in socket.gethostname())[:40] or "host"
    return f"sitegate-hub-{host}-{os.getpid()}-{secrets.token_hex(3)}"


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
    batch_max: Annotated[int, Field(ge=1, le=10_000)] = 500
    batch_window_s: Annotated[float, Field(ge=0, le=5)] = 0.02
    # A device is shown offline after 1.5 x its keep-alive without a heartbeat or an ``online``.
    device_keepalive_s: Annotated[float, Field(gt=0, le=3600)] = 30.0


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
