"""record templates: a destruction list or certificate names the template version it was
made with, as every document of a dossier does (0014)

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("template_version_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_records_template_version_id", "template_versions",
            ["template_version_id"], ["id"],
        )  # fmt: skip
