"""standard clauses: the company's wording of each clause per business type; a business
type without its own uses the defaults of archive.clauses

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "standard_clauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_type", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=50), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("business_type", "field"),
    )
    # The wording each contract was drafted from (earlier contracts: judged against the
    # library as it stands).
    with op.batch_alter_table("contracts") as batch:
        batch.add_column(sa.Column("standard_clauses", sa.JSON(), nullable=True))
