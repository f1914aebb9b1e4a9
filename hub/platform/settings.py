"""A project's platform settings, read and written for one account.

Entered by the project's GC project department or the city (:data:`hub.auth.permissions.WRITE_PLATFORM`);
read, without the appsecret, by them and the project's bureau. The appsecret is write-only: sealed by
the hub's data key like an ID number (:meth:`hub.registry.vault.IdVault.seal_platform_secret`, bound
to the project's row), never in an answer, a page or the audit log; a PUT without one keeps the one
stored. Each write leaves an audit line (what changed, never the secret).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth import audit
from hub.auth.permissions import READ_PLATFORM, WRITE_PLATFORM
from hub.auth.principal import Principal
from hub.auth.scope import project_clause
from hub.platform.cipher import KEY_LENGTHS
from hub.refusals import Invalid, Missing
from hub.registry.permissions import check_own_project, check_role
from hub.registry.vault import IdVault
from hub.store import Store
from hub.store.dialect import insert_for
from hub.store.schema import platform_settings, projects
from wire.clock import SITE_ZONE


class Variant(StrEnum):
    NATIONAL = "national"
    """全国建筑工人管理服务信息平台"""
    PROVINCIAL = "provincial"
    """A province's platform on the national interface (浙江省建筑工人管理服务信息平台 and the like)."""


_PRINTABLE: Final = r"^[^\x00-\x1f\x7f]+$"
INVALID_PLATFORM_SETTINGS: Final = "invalid_platform_settings"


class AppsecretRequired(Invalid):
    code = "appsecret_required"
    field = "appsecret"

    def __init__(self) -> None:
        super().__init__("appsecret: 首次设置须填写 appsecret (the first settings need the appsecret)")


class PlatformSettingsIn(BaseModel):
    """A PUT's body. ``appsecret`` None: keep the stored one (required the first time)."""

    # defer_build: a request's body, built on its first use, not at every hub's start
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True)

    variant: Variant
    endpoint: Annotated[str, Field(pattern=r"^https?://[^\s]+$", max_length=300)]
    project_code: Annotated[str, Field(min_length=1, max_length=64, pattern=_PRINTABLE)]
    appid: Annotated[str, Field(min_length=1, max_length=64, pattern=_PRINTABLE)]
    appsecret: SecretStr | None = None
    upload_from: date | None = None
    """The first site day uploaded; None: today (new settings) or as stored."""
    enabled: bool = True

    @field_validator("appsecret")
    @classmethod
    def _secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode("utf-8")) not in KEY_LENGTHS:
            raise ValueError(f"an appsecret is {' / '.join(map(str, KEY_LENGTHS))} characters long")
        return value


@dataclass(frozen=True, slots=True)
class PlatformSettings:
    """As shown: never the appsecret, only whether one is stored."""

    project_id: str
    variant: str
    endpoint: str
    project_code: str
    appid: str
    appsecret_set: bool
    upload_from: date
    enabled: bool
    updated_by: str
    updated_at: datetime

    def as_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["upload_from"] = self.upload_from.isoformat()
        body["updated_at"] = self.updated_at.astimezone(SITE_ZONE).isoformat()
        return body


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the uploader signs and encrypts with: the appsecret opened (never shown)."""

    project_id: str
    variant: str
    endpoint: str
    project_code: str
    appid: str
    appsecret: str
    upload_from: date

    def __repr__(self) -> str:
        return (
            f"Credentials({self.project_id!r}, {self.endpoint!r}, appid={self.appid!r}, <appsecret hidden>)"
        )


def _shown(row: Any) -> PlatformSettings:
    return PlatformSettings(
        row.project_id, row.variant, row.endpoint, row.project_code, row.appid, True,
        row.upload_from, row.enabled, row.updated_by, row.updated_at,
    )  # fmt: skip


def _settings_of(project_id: str) -> Select[Any]:
    return select(platform_settings).where(platform_settings.c.project_id == project_id)


async def _visible(conn: AsyncConnection, principal: Principal, project_id: str) -> None:
    p = projects.c
    query = select(p.id).where(p.id == project_id, project_clause(principal, p.id))
    if await conn.scalar(query) is None:
        raise Missing("project", project_id)


class PlatformSettingsDesk:
    """One account's reads and writes of projects' platform settings."""

    def __init__(self, store: Store, vault: IdVault, principal: Principal) -> None:
        self._store = store
        self._vault = vault
        self._principal = principal

    async def get(self, project_id: str) -> PlatformSettings | None:
        check_role(self._principal, READ_PLATFORM)
        async with self._store.read("platform.settings.read") as conn:
            await _visible(conn, self._principal, project_id)
            row = (await conn.execute(_settings_of(project_id))).first()
        return None if row is None else _shown(row)

    async def put(self, project_id: str, data: PlatformSettingsIn, *, now: datetime) -> PlatformSettings:
        principal = self._principal
        check_role(principal, WRITE_PLATFORM)
        check_own_project(principal, project_id, "set the worker platform's settings")
        async with self._store.write("platform.settings.write") as conn:
            await _visible(conn, principal, project_id)
            stored = (await conn.execute(_settings_of(project_id))).first()
            if data.appsecret is not None:
                sealed = self._vault.seal_platform_secret(project_id, data.appsecret.get_secret_value())
            elif stored is not None:
                sealed = stored.appsecret_cipher
            else:
                raise AppsecretRequired()
            upload_from = data.upload_from or (
                stored.upload_from if stored else now.astimezone(SITE_ZONE).date()
            )
            values = {
                "variant": data.variant,
                "endpoint": data.endpoint,
                "project_code": data.project_code,
                "appid": data.appid,
                "appsecret_cipher": sealed,
                "upload_from": upload_from,
                "enabled": data.enabled,
                "updated_by": principal.username,
                "updated_at": now,
            }
            insert = insert_for(conn.dialect.name)(platform_settings).values(project_id=project_id, **values)
            await conn.execute(insert.on_conflict_do_update(index_elements=["project_id"], set_=values))
            detail = {k: str(v) for k, v in values.items() if k not in ("appsecret_cipher", "updated_at")}
            detail["appsecret"] = "replaced" if data.appsecret is not None else "kept"
            await audit.record(
                conn,
                principal,
                "platform.settings.set",
                at=now,
                target=f"project:{project_id}",
                detail=detail,
            )
            row = (await conn.execute(_settings_of(project_id))).one()
        return _shown(row)


async def enabled_credentials(store: Store, vault: IdVault) -> list[Credentials]:
    """Every project the uploader works for (unscoped: the hub's own task)."""
    s = platform_settings.c
    async with store.read("platform.settings.enabled") as conn:
        rows = (
            await conn.execute(select(platform_settings).where(s.enabled.is_(True)).order_by(s.project_id))
        ).all()
    return [
        Credentials(
            row.project_id, row.variant, row.endpoint, row.project_code, row.appid,
            vault.open_platform_secret(row.project_id, row.appsecret_cipher), row.upload_from,
        )
        for row in rows
    ]  # fmt: skip
