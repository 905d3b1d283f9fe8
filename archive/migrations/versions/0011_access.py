"""access as the company's rules say: people get a department, region and head flag;
tokens move to their own table (expiry, revocation); contracts get an owner (their
creator) and a 密级; access requests, loans and failed sign-ins are recorded

Revision ID: 0011
Revises: 0010
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# HETONG_TOKEN_DAYS' default (a migration reads no settings).
TOKEN_DAYS = 90
# Existing users get the department their role implies; a sales manager keeps seeing every
# region (no region set) until one is given.
DEPARTMENTS = {"clerk": "销售部", "manager": "销售部", "archivist": "档案室",
               "admin": "总经理办公室"}  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(length=50), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    # Tokens issued so far keep working for the default lifetime from the upgrade on, then
    # expire as every token does (their holders ask for new ones: hetong users tokens).
    expires = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=TOKEN_DAYS)
    op.execute(sa.text("INSERT INTO api_tokens (user_id, token_hash, label, created_at, expires_at)"
                       " SELECT id, token_hash, '迁移前签发', created_at, :expires FROM users")
               .bindparams(expires=expires))  # fmt: skip
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("department", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("region", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("is_head", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))  # fmt: skip
        batch_op.add_column(sa.Column("active", sa.Boolean(), nullable=False,
                                      server_default=sa.true()))  # fmt: skip
        batch_op.add_column(sa.Column("session_version", sa.Integer(), nullable=False,
                                      server_default="1"))  # fmt: skip
    for role, department in DEPARTMENTS.items():
        op.execute(sa.text("UPDATE users SET department = :d WHERE role = :r")
                   .bindparams(d=department, r=role))  # fmt: skip
    op.execute("UPDATE users SET department = '销售部' WHERE department IS NULL")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("department", existing_type=sa.String(length=20), nullable=False)
        batch_op.drop_column("token_hash")

    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("confidential", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))  # fmt: skip
    op.execute("UPDATE contracts SET owner = created_by")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.alter_column("owner", existing_type=sa.String(length=50), nullable=False)
        batch_op.create_index("ix_contracts_owner", ["owner"])
        batch_op.create_index("ix_contracts_confidential", ["confidential"])

    op.create_table(
        "access_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester", sa.String(length=50), nullable=False),
        sa.Column("contract_nos", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_access_requests_requester", "access_requests", ["requester"])
    op.create_index("ix_access_requests_state", "access_requests", ["state"])
    op.create_table(
        "loans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("borrower", sa.String(length=50), nullable=False),
        sa.Column("form", sa.String(length=20), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("lent_by", sa.String(length=50), nullable=False),
        sa.Column("lent_at", sa.DateTime(), nullable=False),
        sa.Column("returned_at", sa.DateTime(), nullable=True),
        sa.Column("returned_to", sa.String(length=50), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_loans_contract_id", "loans", ["contract_id"])
    op.create_index("ix_loans_borrower", "loans", ["borrower"])
    op.create_index("ix_loans_due_on", "loans", ["due_on"])
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("address", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sign_in_failures_name", "sign_in_failures", ["name"])
    op.create_index("ix_sign_in_failures_address", "sign_in_failures", ["address"])
    op.create_index("ix_sign_in_failures_at", "sign_in_failures", ["at"])


def downgrade() -> None:
    op.drop_table("sign_in_failures")
    op.drop_table("loans")
    op.drop_table("access_requests")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index("ix_contracts_confidential")
        batch_op.drop_index("ix_contracts_owner")
        batch_op.drop_column("confidential")
        batch_op.drop_column("owner")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_hash", sa.String(length=64), nullable=True))
    op.execute("UPDATE users SET token_hash = (SELECT min(t.token_hash) FROM api_tokens t"
               " WHERE t.user_id = users.id)")  # fmt: skip
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_version")
        batch_op.drop_column("active")
        batch_op.drop_column("is_head")
        batch_op.drop_column("region")
        batch_op.drop_column("department")
    op.drop_table("api_tokens")
