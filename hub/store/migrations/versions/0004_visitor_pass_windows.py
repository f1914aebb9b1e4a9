"""Visitors' pass windows on assignments: the instants between which a visitor may enter.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

Generated once from hub/store/schema.py with alembic's autogenerate against a database at 0003,
then frozen: plain SQLAlchemy types, so this revision never changes under a later edit of the schema.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Batch mode: SQLite adds the columns in place; PostgreSQL runs plain ALTER TABLE statements.
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pass_from", _TIME, nullable=True))
        batch_op.add_column(sa.Column("pass_until", _TIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("pass_until")
        batch_op.drop_column("pass_from")
