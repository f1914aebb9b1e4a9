"""The regulators' side (issue 15): inspections by authorities with the notice's checklist and
photos, orders issued from an inspection, 通报 and the eligibility sanctions, the district bureaus'
contacts, and the deliveries of alerts that leave the building.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

Written from hub/store/schema.py against a database at 0009, then frozen: plain SQLAlchemy types,
so this revision never changes under a later edit of the schema. Inspections made before it are
routine ones without a checklist.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    referred_table = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{referred_table}"))


def upgrade() -> None:
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), server_default="routine", nullable=False))
        batch_op.add_column(sa.Column("checklist", _JSON, nullable=True))
    op.create_table(
        "inspection_photos",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("inspection_id", _ID, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", _ID, nullable=False),
        sa.Column("uploaded_at", _TIME, nullable=False),
        _fk("inspection_photos", "inspection_id", "inspections.id"),
        _fk("inspection_photos", "uploaded_by", "accounts.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_photos")),
    )
    op.create_index(
        op.f("ix_inspection_photos_inspection_id"), "inspection_photos", ["inspection_id"], unique=False
    )
    op.create_table(
        "bulletins",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("district", sa.String(length=12), nullable=True),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issuer_account_id", _ID, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        _fk("bulletins", "district", "districts.code"),
        _fk("bulletins", "issuer_account_id", "accounts.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulletins")),
        sa.UniqueConstraint("number", name=op.f("uq_bulletins_number")),
    )
    op.create_index(
        op.f("ix_bulletins_district_issued_on"), "bulletins", ["district", "issued_on"], unique=False
    )
    op.create_table(
        "bulletin_parties",
        sa.Column("bulletin_id", _ID, nullable=False),
        sa.Column("party_kind", sa.String(length=16), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=False),
        _fk("bulletin_parties", "bulletin_id", "bulletins.id"),
        sa.PrimaryKeyConstraint("bulletin_id", "party_kind", "party_id", name=op.f("pk_bulletin_parties")),
    )
    op.create_index(
        op.f("ix_bulletin_parties_party_kind_party_id"),
        "bulletin_parties",
        ["party_kind", "party_id"],
        unique=False,
    )
    op.create_table(
        "sanctions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("bulletin_id", _ID, nullable=True),
        sa.Column("district", sa.String(length=12), nullable=True),
        sa.Column("recorded_by", _ID, nullable=False),
        sa.Column("recorded_at", _TIME, nullable=False),
        _fk("sanctions", "bulletin_id", "bulletins.id"),
        _fk("sanctions", "district", "districts.code"),
        _fk("sanctions", "recorded_by", "accounts.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sanctions")),
    )
    op.create_index(
        op.f("ix_sanctions_subject_kind_subject_id"),
        "sanctions",
        ["subject_kind", "subject_id"],
        unique=False,
    )
    op.create_table(
        "district_contacts",
        sa.Column("district", sa.String(length=12), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("updated_by", _ID, nullable=False),
        _fk("district_contacts", "district", "districts.code"),
        _fk("district_contacts", "updated_by", "accounts.id"),
        sa.PrimaryKeyConstraint("district", "role", name=op.f("pk_district_contacts")),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("alert_key", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("next_attempt_at", _TIME, nullable=True),
        sa.Column("delivered_at", _TIME, nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
        sa.UniqueConstraint(
            "alert_key", "channel", "target", name=op.f("uq_alert_deliveries_alert_key_channel_target")
        ),
    )
    op.create_index(
        op.f("ix_alert_deliveries_delivered_at_next_attempt_at"),
        "alert_deliveries",
        ["delivered_at", "next_attempt_at"],
        unique=False,
    )
    with op.batch_alter_table("rectification_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inspection_id", _ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_rectification_orders_inspection_id_inspections"),
            "inspections",
            ["inspection_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("rectification_orders", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_rectification_orders_inspection_id_inspections"), type_="foreignkey"
        )
        batch_op.drop_column("inspection_id")
    op.drop_index(op.f("ix_alert_deliveries_delivered_at_next_attempt_at"), table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_table("district_contacts")
    op.drop_index(op.f("ix_sanctions_subject_kind_subject_id"), table_name="sanctions")
    op.drop_table("sanctions")
    op.drop_index(op.f("ix_bulletin_parties_party_kind_party_id"), table_name="bulletin_parties")
    op.drop_table("bulletin_parties")
    op.drop_index(op.f("ix_bulletins_district_issued_on"), table_name="bulletins")
    op.drop_table("bulletins")
    op.drop_index(op.f("ix_inspection_photos_inspection_id"), table_name="inspection_photos")
    op.drop_table("inspection_photos")
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_column("checklist")
        batch_op.drop_column("kind")
