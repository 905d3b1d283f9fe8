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

from sqlalchemy import select

from archive import outbox
from archive.catalogue import Catalogue
from archive.index import Index
from archive.locks import exclusive
from archive.models import Document, Record
from archive.storage import Storage
from templates.convert import Converter
from templates.render import Renderer

log = logging.getLogger(__name__)


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
        archival_pattern: str = "HT·{year}·{region}·{seq:04d}",
        retention_years: dict[str, int] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        url = database_url or f"sqlite:///{self.data_dir / 'catalogue.sqlite3'}"
        self.catalogue = Catalogue(url)
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
        self.lock_path = self.data_dir / "filing.lock"
        self.archival_pattern = archival_pattern
        self.retention_years = {"sales_contract": 5, **(retention_years or {})}
        self.index = Index(self.data_dir / "index", self.catalogue, self.storage)
        # Every committed change that queued index work is applied once it is committed.
        self.catalogue.on_commit(outbox.TOPIC, self.index.apply_pending_quietly)

    def open(self) -> Archive:
        """Migrate the catalogue, remove what an interrupted filing left, open the index."""
        self.catalogue.migrate()
        self.heal()
        self.index.open()
        return self

    def filing_lock(self) -> AbstractContextManager[None]:
        return exclusive(self.lock_path)

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
        self.converter.close()
        self.catalogue.dispose()
