"""index outbox and archival codes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 21:12:43.185412
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_no", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("index_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_outbox_contract_no"), ["contract_no"], unique=False
        )

    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archival_code", sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint("uq_contracts_archival_code", ["archival_code"])

    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archival_code", sa.String(length=90), nullable=True))

    _backfill()


def _backfill() -> None:
    """Give existing contracts and documents their 档号 (default pattern, in signing
    order within each year × region) and queue every contract for the new index."""
    bind = op.get_bind()
    counters: dict[tuple[int, str], int] = {}
    contracts = bind.execute(
        sa.text(
            "SELECT id, contract_no, region, signed_on FROM contracts"
            " ORDER BY signed_on, contract_no"
        )
    ).all()
    for cid, number, region, signed_on in contracts:
        year = int(str(signed_on)[:4])
        counters[(year, region)] = seq = counters.get((year, region), 0) + 1
        code = f"HT·{year}·{region}·{seq:04d}"
        bind.execute(
            sa.text("UPDATE contracts SET archival_code = :c WHERE id = :i"), {"c": code, "i": cid}
        )
        numbers = (
            bind.execute(
                sa.text(
                    "SELECT number FROM documents WHERE contract_id = :i"
                    " GROUP BY number ORDER BY min(id)"
                ),
                {"i": cid},
            )
            .scalars()
            .all()
        )
        for n, doc_number in enumerate(numbers, start=1):
            bind.execute(
                sa.text(
                    "UPDATE documents SET archival_code = :c WHERE contract_id = :i AND number = :n"
                ),
                {"c": f"{code}-{n:02d}", "i": cid, "n": doc_number},
            )
        bind.execute(
            sa.text(
                "INSERT INTO index_outbox (contract_no, created_at) VALUES (:n, CURRENT_TIMESTAMP)"
            ),
            {"n": number},
        )
    if counters:
        for (year, region), last in counters.items():
            bind.execute(
                sa.text("INSERT INTO sequences (scope, last) VALUES (:s, :l)"),
                {"s": f"volume:{year}:{region}", "l": last},
            )


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("archival_code")

    with op.batch_alter_table("contracts", schema=None) as batch_op:
        # WARNING: constraint name is None; this directive will fail as
        # rendered.  Add a name, or use a naming convention; see
        # https://alembic.sqlalchemy.org/en/latest/naming.html
        batch_op.drop_constraint("uq_contracts_archival_code", type_="unique")
        batch_op.drop_column("archival_code")

    with op.batch_alter_table("index_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_outbox_contract_no"))

    op.drop_table("index_outbox")
