"""template register: templates by kind and business type, their versions (the Word file,
its SHA-256, who uploaded it, draft / active / retired); contracts name their business type
and documents the template version they were made with (archive.template_register)

The bundled templates become version 1 when the archive next starts (not here: a migration
must not depend on files a later release may change); documents filed with them are linked
to it then.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("business_type", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_by", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "business_type"),
    )
    op.create_table(
        "template_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("fixes", sa.JSON(), nullable=True),
        sa.Column("uploaded_by", sa.String(length=50), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.Column("activated_by", sa.String(length=50), nullable=True),
        sa.Column("activated_at", sa.DateTime(), nullable=True),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["template_id"], ["templates.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("template_id", "number"),
    )
    op.create_index("ix_template_versions_template_id", "template_versions", ["template_id"])
    op.create_index("ix_template_versions_sha256", "template_versions", ["sha256"])
    op.create_index(
        "one_active_version", "template_versions", ["template_id"], unique=True,
        sqlite_where=sa.text("state = 'active'"), postgresql_where=sa.text("state = 'active'"),
    )  # fmt: skip
    with op.batch_alter_table("contracts") as batch:
        batch.add_column(sa.Column("business_type", sa.String(length=40), nullable=True))
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("template_version_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_documents_template_version_id", "template_versions",
            ["template_version_id"], ["id"],
        )  # fmt: skip
