"""The site manager's day in the console (issue 14): teams (班组), card-read registrations, and each
account's language.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

Written from hub/store/schema.py against a database at 0006, then frozen: plain SQLAlchemy types,
so this revision never changes under a later edit of the schema. Assignments made before it have no
team and count as registered without a card read (nothing says otherwise).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("leader_person_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_teams_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["leader_person_id"], ["persons.id"], name=op.f("fk_teams_leader_person_id_persons")
        ),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_teams_project_id_projects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint(
            "project_id", "enterprise_id", "name", name=op.f("uq_teams_project_id_enterprise_id_name")
        ),
    )
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_teams_project_id"), ["project_id"], unique=False)
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("entry_read_device", sa.String(length=63), nullable=True))
        batch_op.add_column(sa.Column("exit_read_device", sa.String(length=63), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_assignments_team_id_teams"), "teams", ["team_id"], ["id"])
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("locale")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_assignments_team_id_teams"), type_="foreignkey")
        batch_op.drop_column("exit_read_device")
        batch_op.drop_column("entry_read_device")
        batch_op.drop_column("team_id")
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teams_project_id"))
    op.drop_table("teams")
