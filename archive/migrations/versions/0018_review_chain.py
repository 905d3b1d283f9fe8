"""review chain: a draft goes through configurable review steps (合同审核 → 销售主管 → 法务 →
销售经理) before it takes effect; people get duties (the steps they decide). Contracts
approved before the chain are recorded as a one-step chain: the manager's approval.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contract_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("feasibility_note", sa.Text(), nullable=True),
        sa.Column("override", sa.Boolean(), nullable=False),
        sa.Column("credit", sa.JSON(), nullable=True),
        sa.Column("actor", sa.String(length=50), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_contract_reviews_contract_id", "contract_reviews", ["contract_id"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("duties", sa.JSON(), nullable=True))
    with op.batch_alter_table("contracts") as batch:
        batch.add_column(sa.Column("review_state", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("review_step", sa.String(length=40), nullable=True))
        batch.add_column(
            sa.Column("review_round", sa.Integer(), nullable=False, server_default="0")
        )
        batch.create_index("ix_contracts_review_state", ["review_state"])
    # Approved before the chain: one step, the manager's approval, in one statement.
    op.execute(
        "INSERT INTO contract_reviews (contract_id, round, revision, step, decision, override,"
        " actor, at) SELECT id, 1, 1, '销售经理', 'approved', false, approved_by, approved_at"
        " FROM contracts WHERE approved_by IS NOT NULL AND approved_at IS NOT NULL"
    )
    op.execute(
        "UPDATE contracts SET review_round = 1, review_state = 'approved'"
        " WHERE approved_by IS NOT NULL"
    )
