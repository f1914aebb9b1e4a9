"""The regulators' workflows: rectification orders and their history, credit deductions; the lanes'
heartbeat history (one row per device per minute) for the console's charts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Generated once from hub/store/schema.py with alembic's autogenerate against a database at 0002,
then frozen: plain SQLAlchemy types, so this revision never changes under a later edit of the schema.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    referred_table = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{referred_table}"))


def upgrade() -> None:
    op.create_table(
        "heartbeat_history",
        sa.Column("device_id", sa.String(length=63), nullable=False),
        sa.Column("minute", _TIME, nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("journal_backlog", sa.BigInteger(), nullable=False),
        sa.Column("roster_version", sa.BigInteger(), nullable=False),
        sa.Column("clock_synced", sa.Boolean(), nullable=False),
        sa.Column("clock_skew_s", sa.Float(), nullable=False),
        sa.Column("readers_ok", sa.Boolean(), nullable=False),
        sa.Column("cpu_temp_c", sa.Float(), nullable=True),
        sa.Column("free_disk_mb", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "minute", name=op.f("pk_heartbeat_history")),
    )
    op.create_table(
        "rectification_orders",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("district", sa.String(length=12), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("requirements", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", _TIME, nullable=False),
        sa.Column("issuer_account_id", _ID, nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.Column("responded_at", _TIME, nullable=True),
        sa.Column("closed_at", _TIME, nullable=True),
        _fk("rectification_orders", "district", "districts.code"),
        _fk("rectification_orders", "enterprise_id", "enterprises.id"),
        _fk("rectification_orders", "issuer_account_id", "accounts.id"),
        _fk("rectification_orders", "project_id", "projects.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_orders")),
    )
    for columns in (["district", "id"], ["enterprise_id"], ["project_id"], ["status", "deadline"]):
        name = op.f(f"ix_rectification_orders_{'_'.join(columns)}")
        op.create_index(name, "rectification_orders", columns, unique=False)
    op.create_table(
        "credit_deductions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("district", sa.String(length=12), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("person_id", sa.String(length=32), nullable=True),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("order_id", _ID, nullable=True),
        sa.Column("deducted_at", _TIME, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("deducted_by", sa.String(length=64), nullable=False),
        _fk("credit_deductions", "account_id", "accounts.id"),
        _fk("credit_deductions", "district", "districts.code"),
        _fk("credit_deductions", "enterprise_id", "enterprises.id"),
        _fk("credit_deductions", "order_id", "rectification_orders.id"),
        _fk("credit_deductions", "person_id", "persons.id"),
        _fk("credit_deductions", "project_id", "projects.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_deductions")),
    )
    for columns in (["district", "id"], ["enterprise_id"], ["order_id"], ["person_id"], ["project_id"]):
        name = op.f(f"ix_credit_deductions_{'_'.join(columns)}")
        op.create_index(name, "credit_deductions", columns, unique=False)
    op.create_table(
        "order_actions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _fk("order_actions", "account_id", "accounts.id"),
        _fk("order_actions", "order_id", "rectification_orders.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_actions")),
    )
    op.create_index(op.f("ix_order_actions_order_id_id"), "order_actions", ["order_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_order_actions_order_id_id"), table_name="order_actions")
    op.drop_table("order_actions")
    for columns in (["district", "id"], ["enterprise_id"], ["order_id"], ["person_id"], ["project_id"]):
        op.drop_index(op.f(f"ix_credit_deductions_{'_'.join(columns)}"), table_name="credit_deductions")
    op.drop_table("credit_deductions")
    for columns in (["district", "id"], ["enterprise_id"], ["project_id"], ["status", "deadline"]):
        op.drop_index(op.f(f"ix_rectification_orders_{'_'.join(columns)}"), table_name="rectification_orders")
    op.drop_table("rectification_orders")
    op.drop_table("heartbeat_history")
