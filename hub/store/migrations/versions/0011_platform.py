"""The national and provincial worker platforms (issue 19): a project's platform settings (its
appsecret sealed by the data key), the teams and workers registered there, each access event's
upload state, and the uploader's last word per project.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

Written from hub/store/schema.py against a database at 0010, then frozen: plain SQLAlchemy types,
so this revision never changes under a later edit of the schema. An event's upload is keyed by
(device_id, seq), with no foreign key into access_events, which may be partitioned.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    referred_table = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{referred_table}"))


def _progress_columns() -> list[sa.Column[object]]:
    """What the teams', workers' and events' rows share: where their request stands."""
    return [
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("request_serial_code", sa.String(length=64), nullable=True),
        sa.Column("message", sa.String(length=500), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", _TIME, nullable=True),
        sa.Column("updated_at", _TIME, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "platform_settings",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=16), nullable=False),
        sa.Column("endpoint", sa.String(length=300), nullable=False),
        sa.Column("project_code", sa.String(length=64), nullable=False),
        sa.Column("appid", sa.String(length=64), nullable=False),
        sa.Column("appsecret_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("upload_from", sa.Date(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        _fk("platform_settings", "project_id", "projects.id"),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_platform_settings")),
    )
    op.create_table(
        "platform_teams",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("team_sys_no", sa.String(length=64), nullable=True),
        *_progress_columns(),
        _fk("platform_teams", "team_id", "teams.id"),
        _fk("platform_teams", "project_id", "projects.id"),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_platform_teams")),
    )
    op.create_index(
        op.f("ix_platform_teams_project_id_state"), "platform_teams", ["project_id", "state"], unique=False
    )
    op.create_table(
        "platform_workers",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        *_progress_columns(),
        _fk("platform_workers", "project_id", "projects.id"),
        _fk("platform_workers", "person_id", "persons.id"),
        _fk("platform_workers", "team_id", "teams.id"),
        sa.PrimaryKeyConstraint("project_id", "person_id", name=op.f("pk_platform_workers")),
    )
    op.create_index(
        op.f("ix_platform_workers_project_id_state"),
        "platform_workers",
        ["project_id", "state"],
        unique=False,
    )
    op.create_table(
        "platform_uploads",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("device_id", sa.String(length=63), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("event_time", _TIME, nullable=False),
        *_progress_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_uploads")),
        sa.UniqueConstraint("device_id", "seq", name=op.f("uq_platform_uploads_device_id_seq")),
    )
    op.create_index(
        op.f("ix_platform_uploads_project_id_state_next_attempt_at"),
        "platform_uploads",
        ["project_id", "state", "next_attempt_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_platform_uploads_request_serial_code"),
        "platform_uploads",
        ["request_serial_code"],
        unique=False,
    )
    op.create_table(
        "platform_status",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("last_success_at", _TIME, nullable=True),
        sa.Column("last_attempt_at", _TIME, nullable=True),
        sa.Column("last_message", sa.String(length=500), nullable=True),
        sa.Column("requests", sa.BigInteger(), server_default="0", nullable=False),
        _fk("platform_status", "project_id", "projects.id"),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_platform_status")),
    )


def downgrade() -> None:
    op.drop_table("platform_status")
    op.drop_index(op.f("ix_platform_uploads_request_serial_code"), table_name="platform_uploads")
    op.drop_index(op.f("ix_platform_uploads_project_id_state_next_attempt_at"), table_name="platform_uploads")
    op.drop_table("platform_uploads")
    op.drop_index(op.f("ix_platform_workers_project_id_state"), table_name="platform_workers")
    op.drop_table("platform_workers")
    op.drop_index(op.f("ix_platform_teams_project_id_state"), table_name="platform_teams")
    op.drop_table("platform_teams")
    op.drop_table("platform_settings")
