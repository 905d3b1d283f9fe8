"""retention: holds, tombstones, runs, destructions, records

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 21:30:07.630190
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("docx_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    op.create_table(
        "destructions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("approved_by", sa.String(length=50), nullable=False),
        sa.Column("approved_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("certificate_record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["certificate_record_id"],
            ["records.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("destructions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_destructions_state"), ["state"], unique=False)

    op.create_table(
        "retention_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(length=50), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("list_record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_record_id"],
            ["records.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retention_state", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("hold_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("held_by", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("held_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("destroyed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("destroyed_by", sa.String(length=50), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_contracts_retention_state"), ["retention_state"], unique=False
        )

    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("destroyed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("destroyed_at")

    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contracts_retention_state"))
        batch_op.drop_column("destroyed_by")
        batch_op.drop_column("destroyed_at")
        batch_op.drop_column("held_at")
        batch_op.drop_column("held_by")
        batch_op.drop_column("hold_reason")
        batch_op.drop_column("retention_state")

    op.drop_table("retention_runs")
    with op.batch_alter_table("destructions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_destructions_state"))

    op.drop_table("destructions")
    op.drop_table("records")
