"""A project's site rules (issue 14): working hours per role, anti-passback, night-work permits,
set in the hub and signed to the lanes with the roster.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

Written from hub/store/schema.py against a database at 0007, then frozen: plain SQLAlchemy types,
so this revision never changes under a later edit of the schema. No rows: a project whose rules
were never set keeps its lanes on their configuration's bootstrap policy.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "site_rules",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("anti_passback", sa.String(length=8), nullable=False),
        sa.Column("accept_uid_only", sa.Boolean(), nullable=False),
        sa.Column("inside_expires_at", sa.String(length=5), nullable=True),
        sa.Column("working_hours", _JSON, nullable=False),
        sa.Column("night_work", _JSON, nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_site_rules_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_site_rules")),
    )


def downgrade() -> None:
    op.drop_table("site_rules")
