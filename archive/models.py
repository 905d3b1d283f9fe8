"""Catalogue tables. Every change to them goes through an Alembic migration."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from schemas.money import from_cents, to_cents


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(value: dt.datetime | None) -> str | None:
    """A stored time as every interface writes it: ISO 8601 to the second, with its offset."""
    return value.isoformat(timespec="seconds") if value else None


class UTCDateTime(TypeDecorator):
    """Timestamps are stored and returned as aware UTC (SQLite forgets the zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=dt.UTC) if value is not None else None


class Money(TypeDecorator):
    """Yuan as an integer number of fen: exact in every database, never a float. 64 bits:
    a 32-bit column would end at 21,474,836.47 yuan."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect) -> int | None:
        return None if value is None else to_cents(Decimal(value))

    def process_result_value(self, value: int | None, dialect) -> Decimal | None:
        return None if value is None else from_cents(value)


# Retention states in which a contract's files no longer exist (or are being deleted).
GONE = ("destroying", "destroyed")


class Base(DeclarativeBase):
    type_annotation_map = {
        dict[str, Any]: JSON,
        list[dict[str, Any]]: JSON,
        dt.datetime: UTCDateTime,
        bool: Boolean,
    }


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    # What people read (王经理); the login (``name``) is what records keep.
    display_name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(20))
    # Where the person works (销售部, 财务部 …, see HETONG_DEPARTMENTS), the sales region of
    # sales staff (a manager without one oversees every region), and whether they head
    # their department (heads approve their staff's access requests).
    department: Mapped[str] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(20))
    is_head: Mapped[bool] = mapped_column(default=False)
    # 职责: the review steps (合同审核, 销售主管, 法务 …) this person may decide.
    duties: Mapped[list[str] | None] = mapped_column(JSON)
    # A deactivated user keeps their name in the records and can do nothing any more.
    active: Mapped[bool] = mapped_column(default=True)
    # For signing in to the pages; None means API token only.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # Raised when the password changes or the user is deactivated: page sessions signed in
    # under an older value end.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", order_by="ApiToken.id")


class ApiToken(Base):
    """An API token: only its hash is stored. It expires, and can be revoked."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(50))
    last_used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class SignInFailure(Base):
    """A failed sign-in, per account and address: repeated failures slow the next try."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), index=True)
    address: Mapped[str] = mapped_column(String(100), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class Sequence(Base):
    """Last number handed out per scope (e.g. HT-202611)."""

    __tablename__ = "sequences"

    scope: Mapped[str] = mapped_column(String(100), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class NumberReservation(Base):
    """A number taken before its document is rendered (rendering happens outside the filing
    transaction). Deleted when the document is filed; ``released`` when the filing failed, so
    the next filing of the scope takes it again and no number is ever skipped."""

    __tablename__ = "number_reservations"
    __table_args__ = (UniqueConstraint("scope", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(100), unique=True)
    state: Mapped[str] = mapped_column(String(10), index=True)  # reserved | released
    # New with every holder: a holder whose reservation was released and taken again
    # cannot use or release it any more.
    token: Mapped[str] = mapped_column(String(32))
    reserved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Customer(Base):
    """客户档案: a buyer, its details as the company knows them, and its credit (003 客户分类):
    grade A / B / C and a credit limit. Created from its first contract or by hand; each
    contract names the customer it was made for."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # The name as compared (customers.name_key): one buyer written two ways is one customer.
    name_key: Mapped[str] = mapped_column(String(64), unique=True)
    address: Mapped[str] = mapped_column(String(200))
    representative: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(50))
    bank: Mapped[str | None] = mapped_column(String(100))
    account: Mapped[str | None] = mapped_column(String(50))
    tax_id: Mapped[str | None] = mapped_column(String(50), index=True)
    # [{"name", "phone", "role"}]: the people to call.
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # None until a manager grades it; the credit limit None means none was set.
    grade: Mapped[str | None] = mapped_column(String(1))
    credit_limit: Mapped[Decimal | None] = mapped_column(Money)
    credit_notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Contract(Base):
    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_no: Mapped[str] = mapped_column(String(50), unique=True)
    # 档号: the contract's place in its volume (year of signing × region).
    archival_code: Mapped[str | None] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    region: Mapped[str] = mapped_column(String(20), index=True)
    signed_on: Mapped[dt.date] = mapped_column(Date, index=True)
    seller_name: Mapped[str] = mapped_column(String(100))
    buyer_name: Mapped[str] = mapped_column(String(100), index=True)
    # The buyer in the customer register (客户档案).
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    # Current total (as amended), the total as signed, and payments received so far.
    total: Mapped[Decimal] = mapped_column(Money)
    original_total: Mapped[Decimal] = mapped_column(Money)
    paid: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    due_on: Mapped[dt.date] = mapped_column(Date, index=True)
    # The validated input as submitted (canonical JSON): the original terms, never changed.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The terms in force: ``data`` with every amendment applied.
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    input_sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(50))
    # Whose business it is (the creator at first; a manager may reassign it): who sees it.
    owner: Mapped[str] = mapped_column(String(50), index=True)
    # 密级: a confidential contract is read by its owner, the owner's manager and directors,
    # and by others only through an access request a director approved.
    confidential: Mapped[bool] = mapped_column(default=False, index=True)
    # 销售业务类型 (设备买卖, 零部件供货 …): which standard template drafted it. None for
    # contracts filed before the template register (0014).
    business_type: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(50))
    approved_at: Mapped[dt.datetime | None]
    # Retention: None (kept), "unpaid_volume" (另册保管), "pending_destruction",
    # "destroying" (approved, journaled, being carried out), "destroyed" (a tombstone).
    retention_state: Mapped[str | None] = mapped_column(String(30), index=True)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    held_by: Mapped[str | None] = mapped_column(String(50))
    held_at: Mapped[dt.datetime | None]
    destroyed_at: Mapped[dt.datetime | None]
    destroyed_by: Mapped[str | None] = mapped_column(String(50))
    # Raised by every change to the dossier; a document rendered from an older version is
    # not filed (see archive.filing: rendering happens outside the transaction).
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The review chain (archive.reviews): None (not submitted), "in_review" (waiting for
    # ``review_step``), "returned" (to its owner, for editing); its round restarts after an edit.
    review_state: Mapped[str | None] = mapped_column(String(20), index=True)
    review_step: Mapped[str | None] = mapped_column(String(40))
    review_round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The standard clauses of its business type as they stood when it was drafted (or last
    # corrected): its deviations are judged against them (archive.clauses).
    standard_clauses: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # 第几稿: a draft is corrected by filing a new revision (archive.revisions); the
    # revisions before it stay in the dossier, superseded.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    documents: Mapped[list[Document]] = relationship(
        back_populates="contract", order_by="Document.id", cascade="all, delete-orphan"
    )
    amendments: Mapped[list[Amendment]] = relationship(order_by="Amendment.seq")
    deliveries: Mapped[list[Delivery]] = relationship(order_by="Delivery.id")
    payments: Mapped[list[Payment]] = relationship(order_by="Payment.id")

    revisions: Mapped[list[ContractRevision]] = relationship(order_by="ContractRevision.seq")
    customer: Mapped[Customer | None] = relationship()
    reviews: Mapped[list[ContractReview]] = relationship(order_by="ContractReview.id")

    @property
    def outstanding(self) -> Decimal:
        return self.total - self.paid

    @property
    def current_documents(self) -> list[Document]:
        """The documents that count: every one but the superseded drafts' renderings."""
        return [doc for doc in self.documents if doc.superseded_at is None]

    @property
    def gone(self) -> bool:
        """Destroyed under retention: only the register entry (tombstone) remains."""
        return self.retention_state in GONE


class ContractRevision(Base):
    """一稿: the data of a draft as it stood in one revision, what changed from the revision
    before it, who changed it and why. Written from the first correction on (revision 1,
    the data as first filed, with it)."""

    __tablename__ = "contract_revisions"
    __table_args__ = (UniqueConstraint("contract_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    input_sha256: Mapped[str] = mapped_column(String(64))
    total: Mapped[Decimal] = mapped_column(Money)
    # [{"field", "label", "before", "after"}]: empty for revision 1.
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class StandardClause(Base):
    """标准条款: the company's wording of one clause for one business type (archive.clauses)."""

    __tablename__ = "standard_clauses"
    __table_args__ = (UniqueConstraint("business_type", "field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_type: Mapped[str] = mapped_column(String(40))
    field: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(50))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ContractReview(Base):
    """One decision of a draft's review chain: submitted, approved or returned at a step,
    with the note, the credit as the reviewer saw it, and for an approval over the credit
    rules the feasibility note and the manager's explicit override."""

    __tablename__ = "contract_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(40))
    decision: Mapped[str] = mapped_column(String(20))  # submitted | approved | returned
    note: Mapped[str | None] = mapped_column(Text)
    feasibility_note: Mapped[str | None] = mapped_column(Text)
    override: Mapped[bool] = mapped_column(default=False)
    credit: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(50))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Amendment(Base):
    """补充协议: written changes to an effective contract, numbered per contract."""

    __tablename__ = "amendments"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    effective_on: Mapped[dt.date] = mapped_column(Date)
    # [{"field", "item", "label", "before", "after", "reason"}]
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    total_before: Mapped[Decimal] = mapped_column(Money)
    total_after: Mapped[Decimal] = mapped_column(Money)
    major: Mapped[bool] = mapped_column(default=False)
    # Signed by a manager: the new total is what a manager agreed to (the next amendment's
    # "major" is judged against it).
    manager_signed: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """发货通知单: a shipment of some or all of an effective contract's items."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    delivery_date: Mapped[dt.date] = mapped_column(Date)
    ship_to: Mapped[str] = mapped_column(String(200))
    carrier: Mapped[str] = mapped_column(String(100))
    tracking_no: Mapped[str] = mapped_column(String(100))
    prepared_by: Mapped[str] = mapped_column(String(50))
    # [{"item", "name", "spec", "unit", "quantity", "unit_price", "amount"}]
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Payment(Base):
    """A payment received against a contract."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    paid_on: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(50))
    reference: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Document(Base):
    """One stored file of a dossier, with the provenance needed to trust it years later."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    # The document's own number: the contract number, or an amendment's / notice's.
    number: Mapped[str] = mapped_column(String(60))
    # 档号 of this item of the dossier: the contract's code and its place in the dossier.
    archival_code: Mapped[str | None] = mapped_column(String(90))
    format: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    template_name: Mapped[str | None] = mapped_column(String(100))
    template_sha256: Mapped[str | None] = mapped_column(String(64))
    # The registered version of the template it was made with (None: filed before 0014, or
    # made from a template file the register never held).
    template_version_id: Mapped[int | None] = mapped_column(ForeignKey("template_versions.id"))
    input_sha256: Mapped[str | None] = mapped_column(String(64))
    renderer: Mapped[str | None] = mapped_column(String(100))
    libreoffice_version: Mapped[str | None] = mapped_column(String(50))
    created_by: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Set when the file was destroyed under retention; the row stays as the register entry.
    destroyed_at: Mapped[dt.datetime | None]
    # The document's words, for the search index (one row per document carries them: the
    # .docx of a rendered document, the PDF of a scan). None for rows filed before 0006.
    text: Mapped[str | None] = mapped_column(Text)
    # An upload's archival copy: what was taken out of it (scripts, actions, files, forms).
    # Its original bytes are kept beside it as a row of format "original", for evidence.
    removed: Mapped[list[str] | None] = mapped_column(JSON)
    # When a fixity check last read the stored file and found its SHA-256 unchanged.
    verified_at: Mapped[dt.datetime | None]
    # The draft revision a contract's own rendering belongs to, and when a later revision
    # superseded it (it stays in the dossier, and goes only with the contract).
    revision: Mapped[int | None] = mapped_column(Integer)
    superseded_at: Mapped[dt.datetime | None]

    contract: Mapped[Contract] = relationship(back_populates="documents")


class AuditEntry(Base):
    """Who did what, when, from where. Append-only."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(50), index=True)
    action: Mapped[str] = mapped_column(String(50), index=True)
    target: Mapped[str | None] = mapped_column(String(100), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    # The hash chain (archive.chain): the entry's place in it (given as its transaction
    # commits), the previous entry's hash, and this entry's.
    seq: Mapped[int | None] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class IndexOutbox(Base):
    """Contracts whose index entries must be (re)written: recorded in the transaction that
    changed them, applied after it commits, and again at start-up if a crash came between."""

    __tablename__ = "index_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_no: Mapped[str] = mapped_column(String(50), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Record(Base):
    """A document of the archive itself, kept permanently: a destruction list (销毁清单) or a
    destruction certificate (销毁记录)."""

    __tablename__ = "records"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(60), unique=True)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    docx_sha256: Mapped[str] = mapped_column(String(64))
    # The registered template version it was made with (None: made before 0015).
    template_version_id: Mapped[int | None] = mapped_column(ForeignKey("template_versions.id"))
    created_by: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    verified_at: Mapped[dt.datetime | None]


class FixityRun(Base):
    """One fixity check (hetong fixity check): which stored files were re-read, and the
    documents whose file was missing or no longer had its SHA-256. Kept as evidence."""

    __tablename__ = "fixity_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(50))
    mode: Mapped[str] = mapped_column(String(20))  # all | sample
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    checked: Mapped[int] = mapped_column(Integer, default=0)  # stored files read
    # [{"sha256", "problem": missing | damaged, "documents": ["HT-… 销售合同 (pdf)", …]}]
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class RetentionRun(Base):
    """One run of the retention sweep and what it found."""

    __tablename__ = "retention_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    dry_run: Mapped[bool] = mapped_column(default=False)
    actor: Mapped[str] = mapped_column(String(50))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    list_record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))
    # A real run decides in batches, then files its destruction lists: "sweeping" (decided
    # up to contract id ``cursor``), "listing", "done". The next run carries on an unfinished
    # one. ``lists``: the part size and the list parts filed so far (archive.sweep).
    state: Mapped[str] = mapped_column(String(20), default="done", index=True)
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    lists: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    finished_at: Mapped[dt.datetime | None]


class RetentionRunBatch(Base):
    """One committed batch of an unfinished run: its outcomes, and the contracts it found
    newly destroyable (to be listed). Deleted once the run's report holds them."""

    __tablename__ = "retention_run_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("retention_runs.id"), index=True)
    upto: Mapped[int] = mapped_column(Integer)  # the last contract id of the batch
    outcomes: Mapped[dict[str, Any]] = mapped_column(JSON)
    listing: Mapped[list[Any]] = mapped_column(JSON)


class Destruction(Base):
    """A manager's approval to destroy contracts, and its journal: ``approved`` until every
    file and index entry is gone, then ``done``. Start-up finishes an unfinished one."""

    __tablename__ = "destructions"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    approved_by: Mapped[str] = mapped_column(String(50))
    approved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    # The tombstones: number, parties, dates, amounts, documents and their hashes.
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    certificate_record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))
    # A large approval's certificate is filed in parts: all their numbers (the first is
    # ``certificate_record_id``'s).
    certificates: Mapped[list[str] | None] = mapped_column(JSON)


class AccessRequest(Base):
    """A 查阅申请 (《销售文件查阅申请表》): someone outside a contract's scope asks to read it
    for a purpose until a day. ``steps`` is the approval chain in order, each
    ``{"step", "by", "at", "decision", "note"}``; the request is approved when the last step
    approves, rejected at the first step that rejects."""

    __tablename__ = "access_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester: Mapped[str] = mapped_column(String(50), index=True)
    contract_nos: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(Text)
    until: Mapped[dt.date] = mapped_column(Date)
    # pending | approved | rejected | withdrawn
    state: Mapped[str] = mapped_column(String(20), index=True)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]


class Loan(Base):
    """A 借阅: the paper or electronic dossier lent to a person until a due day."""

    __tablename__ = "loans"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    borrower: Mapped[str] = mapped_column(String(50), index=True)
    form: Mapped[str] = mapped_column(String(20))  # paper | electronic
    purpose: Mapped[str] = mapped_column(Text)
    due_on: Mapped[dt.date] = mapped_column(Date, index=True)
    lent_by: Mapped[str] = mapped_column(String(50))
    lent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    returned_at: Mapped[dt.datetime | None]
    returned_to: Mapped[str | None] = mapped_column(String(50))
    note: Mapped[str | None] = mapped_column(Text)

    contract: Mapped[Contract] = relationship()


class Template(Base):
    """A template in the register: one kind (sales_contract, amendment …) and, for sales
    contracts, one business type (设备买卖 …); its wording lives in its versions."""

    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("kind", "business_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    # "" for the kinds that have one template for all business.
    business_type: Mapped[str] = mapped_column(String(40), default="")
    name: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[TemplateVersion]] = relationship(
        back_populates="template", order_by="TemplateVersion.number"
    )


class TemplateVersion(Base):
    """One Word file of a template. Its bytes never change; a change is a new version.
    draft → active (exactly one per template) → retired."""

    __tablename__ = "template_versions"
    __table_args__ = (
        UniqueConstraint("template_id", "number"),
        # Exactly one active version per template, whatever two admins do at once.
        Index(
            "one_active_version",
            "template_id",
            unique=True,
            sqlite_where=text("state = 'active'"),
            postgresql_where=text("state = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("templates.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    # Kept in the catalogue (tens of KB): backed up, restored and shared by every node with it.
    # Deferred: lists of versions never read the files.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(200))
    # bundled (shipped with hetong) | upload
    origin: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    # What the upload check changed in the file (e.g. East-Asian text tagged zh-CN).
    fixes: Mapped[list[str] | None] = mapped_column(JSON)
    uploaded_by: Mapped[str] = mapped_column(String(50))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    activated_by: Mapped[str | None] = mapped_column(String(50))
    activated_at: Mapped[dt.datetime | None]
    retired_at: Mapped[dt.datetime | None]

    template: Mapped[Template] = relationship(back_populates="versions")
