"""``Archive``: the parts of one data root, wired together — and nothing more.

The catalogue, the file store, the search index, the Word renderer and the PDF converter,
with the settings the operations read. The operations themselves (``archive.contracts``,
``archive.retention`` …) take an ``Archive`` and do the work; start-up tasks that need
them live in ``archive.startup``.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from decimal import Decimal
from pathlib import Path

from marshmallow import ValidationError
from sqlalchemy import select

from archive import outbox, template_register, users
from archive.catalogue import Catalogue
from archive.indexing import Indexer
from archive.models import Document, Record
from archive.search import get_engine
from archive.storage import Storage
from schemas.contract import PartySchema
from schemas.labels import BUSINESS_TYPES, DEFAULT_ZONE, REVIEW_STEPS
from templates.convert import Converter
from templates.render import Renderer
from templates.uploads import UploadLimits

log = logging.getLogger(__name__)

# The SQLite catalogue in the data root (when no other database is named).
CATALOGUE_FILE = "catalogue.sqlite3"


def _seller(given: dict[str, str] | None) -> dict[str, str] | None:
    """Our company as configured, checked as a contract's party would be (a wrong one stops
    the start, naming the setting)."""
    if not given:
        return None
    try:
        return PartySchema().load(dict(given))
    except ValidationError as exc:
        raise ValueError(f"HETONG_SELLER（本公司信息）有误：{exc.messages}") from exc


def holds_archive(data_dir: Path, database_url: str = "") -> bool:
    """Whether ``data_dir`` is already an archive's data root: its SQLite catalogue is there
    (or, with the catalogue in a database server, the folder exists). Creates nothing."""
    data_dir = Path(data_dir)
    return data_dir.is_dir() if database_url else (data_dir / CATALOGUE_FILE).is_file()


class Archive:
    def __init__(
        self,
        *,
        data_dir: Path,
        database_url: str = "",
        renderer: Renderer | None = None,
        converter: Converter | None = None,
        number_pattern: str = "HT-{year:04d}{month:02d}-{seq:04d}",
        delivery_number_pattern: str = "FH-{year:04d}{month:02d}-{seq:04d}",
        major_share: Decimal = Decimal("0.10"),
        regions: list[str] | None = None,
        business_types: list[str] | None = None,
        default_business_type: str = "",
        seller: dict[str, str] | None = None,
        review_steps: list[str] | None = None,
        signed_copy_days: int = 14,
        departments: list[str] | None = None,
        token_days: int = users.DEFAULT_TOKEN_DAYS,
        archival_pattern: str = "HT·{year}·{region}·{seq:04d}",
        retention_years: dict[str, int] | None = None,
        search_engine: str = "",
        upload_limits: UploadLimits | None = None,
        zone: str = DEFAULT_ZONE,
        backup_targets: list[Path] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        url = database_url or f"sqlite:///{self.data_dir / CATALOGUE_FILE}"
        # Times are stored in UTC and shown to people in ``zone`` (its local time).
        self.catalogue = Catalogue(url, lock_dir=self.data_dir, zone=zone)
        self.zone = self.catalogue.zone
        self.storage = Storage(self.data_dir / "files")
        self.renderer = renderer or Renderer()
        self.converter = converter or Converter(
            profile_dir=self.data_dir / "run" / "libreoffice-profile",
            log_file=self.data_dir / "run" / "unoserver.log",
        )
        self.number_pattern = number_pattern
        self.delivery_number_pattern = delivery_number_pattern
        self.major_share = Decimal(major_share)
        self.regions = list(regions or [])
        # The business types whose sales-contract template start-up registers (more can be
        # added in the register), and the one a contract gets when it names none.
        self.business_types = [" ".join(t.split()) for t in business_types or BUSINESS_TYPES
                               if t.strip()] or list(BUSINESS_TYPES)  # fmt: skip
        self.default_business_type = " ".join(default_business_type.split()) or \
            self.business_types[0]  # fmt: skip
        for name in {*self.business_types, self.default_business_type}:
            if len(name) > template_register.MAX_BUSINESS_TYPE:
                raise ValueError(
                    f"业务类型“{name}”超过 {template_register.MAX_BUSINESS_TYPE} "
                    "个字（HETONG_BUSINESS_TYPES、HETONG_DEFAULT_BUSINESS_TYPE）。"
                )
        # Our company (供方), filled into contracts that name no seller.
        self.seller = _seller(seller)
        # The review chain of a draft (archive.reviews); empty: a manager approves directly.
        self.review_steps = list(REVIEW_STEPS if review_steps is None else review_steps)
        last = REVIEW_STEPS[-1]
        if self.review_steps and (
            self.review_steps[-1] != last or len(set(self.review_steps)) != len(self.review_steps)
        ):
            raise ValueError(f"HETONG_REVIEW_STEPS：审批流程须以“{last}”结束，且各环节不重复"
                             f"（现为 {'、'.join(self.review_steps)}）。")  # fmt: skip
        # Days after approval within which the signed copy (回签) should come back.
        self.signed_copy_days = signed_copy_days
        # The departments people belong to, and how many days a new API token lives.
        self.departments = list(departments or users.DEPARTMENTS)
        self.token_days = token_days
        self.archival_pattern = archival_pattern
        self.retention_years = {"sales_contract": 5, **(retention_years or {})}
        self.upload_limits = upload_limits or UploadLimits()
        # Where backups go (the first one local, the next off-site); each also gets the
        # destruction journal the moment a destruction is approved (archive.journal).
        self.backup_targets = [Path(t) for t in backup_targets or ()]
        # The search index (derived data) and what keeps it in step with the catalogue:
        # every committed change that queued index work reaches the indexer.
        # Several machines share a PostgreSQL catalogue: their index lives beside it.
        engine = search_engine or ("postgresql" if self.catalogue.dialect == "postgresql"
                                   else "tantivy")  # fmt: skip
        self.index = get_engine(engine, self.data_dir / "index" / engine, database_url=url)
        self.indexer = Indexer(self.catalogue, self.storage, self.index)
        self.catalogue.on_commit(outbox.TOPIC, self.indexer.committed)

    def open(self) -> Archive:
        """Migrate the catalogue, register the bundled templates it lacks, remove what an
        interrupted filing left, open the index."""
        self.catalogue.migrate()
        template_register.seed(self)
        self.heal()
        self.index.open()
        return self

    def filing_lock(self) -> AbstractContextManager[None]:
        """Held while a filing stores files and commits their rows, and while start-up looks
        for orphan files, so that it never takes a file in flight for an orphan."""
        return self.catalogue.lock("filing")

    def heal(self) -> list[str]:
        """Remove stored files that no catalogue row references (interrupted filings)."""
        with self.filing_lock(), self.catalogue.reading() as session:
            referenced = set(
                session.scalars(select(Document.sha256).where(Document.destroyed_at.is_(None)))
            )
            for record in session.scalars(select(Record)):
                referenced |= {record.pdf_sha256, record.docx_sha256}
            return self.storage.collect_orphans(referenced)

    def close(self) -> None:
        self.indexer.stop()
        self.index.close()
        self.converter.close()
        self.catalogue.dispose()
