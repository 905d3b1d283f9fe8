"""customers: the customer register (客户档案), its grade and credit limit; every contract
names its customer. The buyers of the contracts filed so far become customers, each with
the details of its latest contract.

Revision ID: 0017
Revises: 0016
"""

import hashlib
import json
import unicodedata

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
        sa.Column("name_key", sa.String(length=64), nullable=False),
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
        sa.UniqueConstraint("name_key"),
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
    latest: dict[str, dict] = {}  # name key → the customer it becomes
    # Streamed: a catalogue of 100,000 contracts is read once, never held whole.
    rows = bind.execute(
        sa.select(contracts.c.buyer_name, contracts.c.terms, contracts.c.created_by,
                  contracts.c.created_at).order_by(contracts.c.id)
        .execution_options(stream_results=True, yield_per=1000)
    )  # fmt: skip
    for name, terms, created_by, created_at in rows:
        found = json.loads(terms) if isinstance(terms, str) else terms
        buyer = (found.get("buyer") if isinstance(found, dict) else None) or {}
        buyer = buyer if isinstance(buyer, dict) else {}
        entry = latest.setdefault(_key(name), {"names": set(), "buyer": {}, "name": name,
                                               "by": created_by, "at": created_at})  # fmt: skip
        entry["names"].add(name)
        if buyer.get("address") or not entry["buyer"]:
            entry["buyer"], entry["name"] = buyer, name
    for key, entry in latest.items():
        values = {field: (str(entry["buyer"].get(field) or "") or None) for field in PARTY}
        values["address"] = values["address"] or ""
        bind.execute(customers.insert().values(
            name=entry["name"], name_key=key, contacts=[], created_by=entry["by"],
            created_at=entry["at"], updated_at=entry["at"], **values,
        ))  # fmt: skip
        bind.execute(
            contracts.update().where(contracts.c.buyer_name.in_(sorted(entry["names"]))).values(
                customer_id=sa.select(customers.c.id).where(customers.c.name_key == key)
                .scalar_subquery())
        )  # fmt: skip


def _key(name: str) -> str:
    """archive.customers.name_key as of this revision (a migration keeps its own copy)."""
    folded = unicodedata.normalize("NFKC", name or "")
    key = "".join(folded.split()).replace("（", "(").replace("）", ")").casefold()
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
