"""the audit log becomes a hash chain: entries so far are chained in the order they were
written (archive.chain)

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from archive.chain import GENESIS, link
from archive.models import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_audit_log_seq", ["seq"])
    _chain_existing()


def _chain_existing() -> None:
    """Chain the entries written before the chain existed, in the order of their ids."""
    log = sa.table(
        "audit_log", sa.column("id", sa.Integer()), sa.column("at", UTCDateTime()),
        sa.column("actor", sa.String()), sa.column("action", sa.String()),
        sa.column("target", sa.String()), sa.column("detail", sa.JSON()),
        sa.column("client", sa.String()), sa.column("note", sa.Text()),
        sa.column("seq", sa.Integer()), sa.column("prev_hash", sa.String()),
        sa.column("hash", sa.String()),
    )  # fmt: skip
    bind = op.get_bind()
    prev, after, seq = GENESIS, 0, 0
    while True:
        rows = bind.execute(sa.select(log).where(log.c.id > after).order_by(log.c.id)
                            .limit(BATCH)).all()  # fmt: skip
        if not rows:
            return
        for row in rows:
            digest = link(prev, at=row.at, actor=row.actor, action=row.action,
                          target=row.target, detail=row.detail, client=row.client,
                          note=row.note)  # fmt: skip
            seq += 1
            bind.execute(sa.update(log).where(log.c.id == row.id)
                         .values(seq=seq, prev_hash=prev, hash=digest))  # fmt: skip
            prev = digest
        after = rows[-1].id
