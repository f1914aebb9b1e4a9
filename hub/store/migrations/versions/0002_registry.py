"""The registry of the notice: districts, enterprises, persons, projects and their parties,
assignments, gates; accounts, tokens and the audit log; inspections; derived presence and attendance.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Generated once from hub/store/schema.py with alembic's autogenerate, then frozen: plain SQLAlchemy
types, so this revision never changes under a later edit of the schema.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "attendance",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("first_in", _TIME, nullable=True),
        sa.Column("last_out", _TIME, nullable=True),
        sa.Column("seconds_on_site", sa.Integer(), server_default="0", nullable=False),
        sa.Column("passages", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("project_id", "person_id", "day", name=op.f("pk_attendance")),
    )
    op.create_index(op.f("ix_attendance_person_id_day"), "attendance", ["person_id", "day"], unique=False)
    op.create_index(op.f("ix_attendance_project_id_day"), "attendance", ["project_id", "day"], unique=False)
    op.create_table(
        "audit_log",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("account_id", _ID, nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=128), nullable=True),
        sa.Column("detail", _JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_account_id_at"), "audit_log", ["account_id", "at"], unique=False)
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_table(
        "districts",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_districts")),
    )
    op.create_table(
        "presence",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("on_site", sa.Boolean(), nullable=False),
        sa.Column("since", _TIME, nullable=False),
        sa.Column("device_id", sa.String(length=63), nullable=False),
        sa.Column("event_time", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "person_id", name=op.f("pk_presence")),
    )
    op.create_index(
        op.f("ix_presence_project_id_on_site"), "presence", ["project_id", "on_site"], unique=False
    )
    op.create_table(
        "enterprises",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("district", sa.String(length=12), nullable=False),
        sa.Column("local", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["district"], ["districts.code"], name=op.f("fk_enterprises_district_districts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprises")),
        sa.UniqueConstraint("number", name=op.f("uq_enterprises_number")),
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("id_index", sa.String(length=64), nullable=False),
        sa.Column("id_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("id_masked", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("card_kind", sa.String(length=32), nullable=False),
        sa.Column("nation", sa.String(length=32), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("position", sa.String(length=32), nullable=True),
        sa.Column("registered_district", sa.String(length=12), nullable=True),
        sa.Column("watchlisted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("watchlist_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_persons_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["registered_district"], ["districts.code"], name=op.f("fk_persons_registered_district_districts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("id_index", name=op.f("uq_persons_id_index")),
    )
    op.create_index(op.f("ix_persons_enterprise_id"), "persons", ["enterprise_id"], unique=False)
    op.create_table(
        "projects",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("permit_number", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("district", sa.String(length=12), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("gc_enterprise_id", sa.String(length=32), nullable=False),
        sa.Column("permit_issued_on", sa.Date(), nullable=True),
        sa.Column("registered_at", _TIME, nullable=True),
        sa.Column("site_key_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["district"], ["districts.code"], name=op.f("fk_projects_district_districts")
        ),
        sa.ForeignKeyConstraint(
            ["gc_enterprise_id"], ["enterprises.id"], name=op.f("fk_projects_gc_enterprise_id_enterprises")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("permit_number", name=op.f("uq_projects_permit_number")),
    )
    op.create_index(op.f("ix_projects_district"), "projects", ["district"], unique=False)
    op.create_table(
        "accounts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("district", sa.String(length=12), nullable=True),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", _TIME, nullable=True),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["district"], ["districts.code"], name=op.f("fk_accounts_district_districts")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_accounts_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_accounts_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_accounts_username")),
    )
    op.create_table(
        "assignments",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("exit_date", sa.Date(), nullable=True),
        sa.Column("credential_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_assignments_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_assignments_person_id_persons")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_assignments_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    op.create_index(op.f("ix_assignments_person_id"), "assignments", ["person_id"], unique=False)
    op.create_index(
        op.f("ix_assignments_project_id_enterprise_id"),
        "assignments",
        ["project_id", "enterprise_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_assignments_project_id_person_id"), "assignments", ["project_id", "person_id"], unique=False
    )
    op.create_table(
        "gates",
        sa.Column("device_id", sa.String(length=63), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("lane", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_gates_project_id_projects")),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_gates")),
    )
    op.create_index(op.f("ix_gates_project_id"), "gates", ["project_id"], unique=False)
    op.create_table(
        "project_parties",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("joined_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_project_parties_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_parties_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("project_id", "enterprise_id", name=op.f("pk_project_parties")),
    )
    op.create_index(
        op.f("ix_project_parties_enterprise_id"), "project_parties", ["enterprise_id"], unique=False
    )
    op.create_table(
        "auth_tokens",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("issued_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_auth_tokens_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_auth_tokens")),
    )
    op.create_index(op.f("ix_auth_tokens_account_id"), "auth_tokens", ["account_id"], unique=False)
    op.create_table(
        "inspections",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_inspections_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_inspections_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
    )
    op.create_index(
        op.f("ix_inspections_project_id_inspected_on"),
        "inspections",
        ["project_id", "inspected_on"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_inspections_project_id_inspected_on"), table_name="inspections")
    op.drop_table("inspections")
    op.drop_index(op.f("ix_auth_tokens_account_id"), table_name="auth_tokens")
    op.drop_table("auth_tokens")
    op.drop_index(op.f("ix_project_parties_enterprise_id"), table_name="project_parties")
    op.drop_table("project_parties")
    op.drop_index(op.f("ix_gates_project_id"), table_name="gates")
    op.drop_table("gates")
    op.drop_index(op.f("ix_assignments_project_id_person_id"), table_name="assignments")
    op.drop_index(op.f("ix_assignments_project_id_enterprise_id"), table_name="assignments")
    op.drop_index(op.f("ix_assignments_person_id"), table_name="assignments")
    op.drop_table("assignments")
    op.drop_table("accounts")
    op.drop_index(op.f("ix_projects_district"), table_name="projects")
    op.drop_table("projects")
    op.drop_index(op.f("ix_persons_enterprise_id"), table_name="persons")
    op.drop_table("persons")
    op.drop_table("enterprises")
    op.drop_index(op.f("ix_presence_project_id_on_site"), table_name="presence")
    op.drop_table("presence")
    op.drop_table("districts")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_account_id_at"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_attendance_project_id_day"), table_name="attendance")
    op.drop_index(op.f("ix_attendance_person_id_day"), table_name="attendance")
    op.drop_table("attendance")
