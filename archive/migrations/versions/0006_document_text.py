"""the text of each document, kept for the search index

Revision ID: 0006
Revises: 0005

The index is derived data: with the words of every document in the catalogue, a rebuild
reads rows instead of opening every stored file. Documents filed before this revision get
their text when the index is next rebuilt from their files.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("text")
