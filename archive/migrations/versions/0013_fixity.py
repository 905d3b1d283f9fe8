"""fixity: stored files remember when a check last read them and found their SHA-256
unchanged; every check is kept (archive.fixity)

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("verified_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("verified_at", sa.DateTime(), nullable=True))
    op.create_table(
        "fixity_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=50), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
