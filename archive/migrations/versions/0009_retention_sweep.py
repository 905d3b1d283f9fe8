"""the retention sweep in batches: run state and cursor, batches, lists and certificates in parts

Revision ID: 0009
Revises: 0008

A sweep commits its decisions a batch at a time and files one destruction list per volume,
in parts: a run records how far it got (``state``, ``cursor``, the list parts filed in
``lists``) so an interrupted run is carried on by the next; each committed batch keeps its
outcomes in ``retention_run_batches`` until the run's report is written. An approval of many
contracts files its certificate in parts (``destructions.certificates``). Runs from before
are finished.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("retention_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=20), nullable=False,
                                      server_default="done"))  # fmt: skip
        batch_op.add_column(sa.Column("cursor", sa.Integer(), nullable=False,
                                      server_default="0"))  # fmt: skip
        batch_op.add_column(sa.Column("lists", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_retention_runs_state"), ["state"], unique=False)
    op.create_table(
        "retention_run_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("upto", sa.Integer(), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.Column("listing", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["retention_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("retention_run_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retention_run_batches_run_id"), ["run_id"],
                              unique=False)  # fmt: skip
    with op.batch_alter_table("destructions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("certificates", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("destructions", schema=None) as batch_op:
        batch_op.drop_column("certificates")
    op.drop_table("retention_run_batches")
    with op.batch_alter_table("retention_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retention_runs_state"))
        batch_op.drop_column("finished_at")
        batch_op.drop_column("lists")
        batch_op.drop_column("cursor")
        batch_op.drop_column("state")
