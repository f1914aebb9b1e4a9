"""A gate's kind (issue 14): a turnstile lane, or the site office's card reader (进场/离场登记).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

Written from hub/store/schema.py against a database at 0008, then frozen: plain SQLAlchemy types,
so this revision never changes under a later edit of the schema. Every gate placed before it is a
lane (the column's default); an office reader has no direction, so ``direction`` may be NULL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="lane"))
        batch_op.alter_column("direction", existing_type=sa.String(length=8), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM gates WHERE kind = 'office_reader'")
    with op.batch_alter_table("gates", schema=None) as batch_op:
        batch_op.alter_column("direction", existing_type=sa.String(length=8), nullable=False)
        batch_op.drop_column("kind")
