"""customers: the customer register (客户档案), its grade and credit limit; every contract
names its customer. The buyers of the contracts filed so far become customers, each with
the details of its latest contract.

Revision ID: 0017
Revises: 0016
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

PARTY = ("address", "representative", "phone", "bank", "account", "tax_id")


def upgrade() -> None:
    customers = op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("representative", sa.String(length=50), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("bank", sa.String(length=100), nullable=True),
        sa.Column("account", sa.String(length=50), nullable=True),
        sa.Column("tax_id", sa.String(length=50), nullable=True),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=True),
        sa.Column("credit_limit", sa.BigInteger(), nullable=True),
        sa.Column("credit_notes", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index("ix_customers_tax_id", "customers", ["tax_id"])
    with op.batch_alter_table("contracts") as batch:
        batch.add_column(sa.Column("customer_id", sa.Integer(), nullable=True))
        batch.create_index("ix_contracts_customer_id", ["customer_id"])
        batch.create_foreign_key("fk_contracts_customer_id", "customers", ["customer_id"], ["id"])
    _carry_buyers_over(customers)


def _carry_buyers_over(customers: sa.Table) -> None:
    """One customer per buyer name, with the details of its latest contract (a destroyed
    contract keeps only the name: its customer gets the address it had, or none)."""
    bind = op.get_bind()
    contracts = sa.table(
        "contracts", sa.column("id", sa.Integer()), sa.column("buyer_name", sa.String()),
        sa.column("terms", sa.JSON()), sa.column("created_by", sa.String()),
        sa.column("created_at", sa.DateTime()), sa.column("customer_id", sa.Integer()),
    )  # fmt: skip
    latest: dict[str, tuple] = {}
    # Streamed: a catalogue of 100,000 contracts is read once, never held whole.
    rows = bind.execute(
        sa.select(contracts.c.buyer_name, contracts.c.terms, contracts.c.created_by,
                  contracts.c.created_at).order_by(contracts.c.id)
        .execution_options(stream_results=True, yield_per=1000)
    )  # fmt: skip
    for name, terms, created_by, created_at in rows:
        buyer = (json.loads(terms) if isinstance(terms, str) else terms or {}).get("buyer") or {}
        first = latest.get(name)
        kept = buyer if buyer.get("address") or first is None else first[0]
        latest[name] = (kept, first[1] if first else created_by, first[2] if first else created_at)
    for name, (buyer, created_by, created_at) in latest.items():
        values = {key: (buyer.get(key) or None) for key in PARTY}
        values["address"] = values["address"] or ""
        bind.execute(customers.insert().values(
            name=name, contacts=[], created_by=created_by, created_at=created_at,
            updated_at=created_at, **values,
        ))  # fmt: skip
        bind.execute(
            contracts.update().where(contracts.c.buyer_name == name).values(
                customer_id=sa.select(customers.c.id).where(customers.c.name == name)
                .scalar_subquery())
        )  # fmt: skip
