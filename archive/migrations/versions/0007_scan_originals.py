"""what an archival copy of an upload lacks

Revision ID: 0007
Revises: 0006

An uploaded scan is archived as a cleaned copy (no scripts, actions, embedded files or
forms) beside its original bytes (format ``original``); ``removed`` lists, in Chinese,
what the clean copy no longer has, for the dossier.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("removed", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("removed")
