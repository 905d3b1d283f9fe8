"""numbers reserved before rendering; 64-bit money; a version per contract; who signed

Revision ID: 0008
Revises: 0007

Rendering moved out of the filing transaction: a number is reserved first (and given back
for reuse if its filing fails), and a contract carries a version so that a document
rendered from an older state is never filed. Money columns widen to 64 bits, which SQLite
always had and PostgreSQL needs beyond 21 million yuan. An amendment records whether a manager
signed it: major changes are judged against the last total a manager agreed to (a major
amendment was always signed by one).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

MONEY = {"contracts": ("total", "original_total", "paid"),
         "amendments": ("total_before", "total_after"), "payments": ("amount",)}  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "number_reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("reserved_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope", "seq"),
        sa.UniqueConstraint("number"),
    )
    with op.batch_alter_table("number_reservations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_number_reservations_state"), ["state"])
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    for table, columns in MONEY.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, type_=sa.BigInteger(), existing_type=sa.Integer())
    with op.batch_alter_table("amendments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("manager_signed", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))  # fmt: skip
    op.execute("UPDATE amendments SET manager_signed = major")


def downgrade() -> None:
    with op.batch_alter_table("amendments", schema=None) as batch_op:
        batch_op.drop_column("manager_signed")
    for table, columns in MONEY.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, type_=sa.Integer(), existing_type=sa.BigInteger())
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_column("version")
    op.drop_table("number_reservations")
