"""Filing: rendered documents and their catalogue rows, all or nothing.

A document is rendered first (``render``: docxtpl, then a LibreOffice worker, then the PDF
finished), outside any lock or transaction, so a slow conversion holds up nobody else; the
number it shows is reserved beforehand (``numbered``) and given back if the filing fails.
Then ``Filing`` takes the filing lock and one short write transaction: files are stored
(durably) before the rows that name them are committed; if anything fails, the transaction
rolls back and the files this filing added are removed again. A crash in between leaves only
unreferenced files, which ``Archive.heal`` removes at start-up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import numbering, template_register
from archive.codes import document_code
from archive.dossier import Changed
from archive.models import Contract, Document
from archive.numbering import Reserved
from archive.outbox import enqueue
from templates import pdf as pdfs
from templates.render import TemplateFile
from templates.text import docx_text

if TYPE_CHECKING:
    from archive.core import Archive

log = logging.getLogger(__name__)

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def input_digest(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class Rendition:
    """A document rendered as .docx and PDF, with what produced it."""

    docx: bytes
    pdf: bytes
    text: str  # the document's words, for the search index
    template_name: str
    template_sha256: str
    template_version_id: int | None  # the register's version it was made with
    renderer: str
    libreoffice_version: str


def render(
    archive: Archive,
    template: str | TemplateFile,
    context: dict[str, Any],
    properties: dict[str, str],
) -> Rendition:
    """Fill ``template`` and convert it to a finished PDF/A with an embedded CJK font: a
    version from ``template_register``, or the active version of a kind of template."""
    if isinstance(template, str):
        template = template_register.active(archive.catalogue, template)
    for families in archive.renderer.fonts(template).values():
        for family in families:
            pdfs.require_font_installed(family)
    word = archive.renderer.render(template, context, properties=properties)
    raw = archive.converter.to_pdf(word.data)
    pdfs.check(raw, title=properties["title"])
    return Rendition(
        docx=word.data, pdf=raw, text=docx_text(word.data),
        template_name=word.template.name,
        template_sha256=word.template.sha256, template_version_id=word.template.version_id,
        renderer=word.renderer,
        libreoffice_version=archive.converter.libreoffice_version(),
    )  # fmt: skip


@contextmanager
def numbered(archive: Archive, pattern: str, day: dt.date) -> Iterator[Reserved]:
    """A number held while its document renders; given back if anything fails before the
    filing that uses it (``Filing.use``) commits."""
    reserved = numbering.reserve(archive.catalogue, pattern, day)
    try:
        yield reserved
    except BaseException:
        numbering.release(archive.catalogue, reserved)
        raise


T = TypeVar("T")
ATTEMPTS = 3


def retried(attempt: Callable[[], T]) -> T:
    """Run a render-then-file ``attempt`` again when the contract changed meanwhile (a
    concurrent change to the same contract: rare, and settled by rendering anew)."""
    for n in range(1, ATTEMPTS + 1):
        try:
            return attempt()
        except Changed:
            if n == ATTEMPTS:
                raise
            log.info("contract changed while rendering; attempt %d of %d", n + 1, ATTEMPTS)
    raise AssertionError("unreachable")


class Filing:
    """``with Filing(archive) as filing:`` → ``filing.session``, ``filing.add_documents``."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.session: Session
        self._new: list[str] = []

    def __enter__(self) -> Filing:
        self._lock = self.archive.filing_lock()
        self._lock.__enter__()
        try:
            self._transaction = self.archive.catalogue.writing()
            self.session = self._transaction.__enter__()
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            try:
                # Commits when the block succeeded, rolls back when it raised.
                self._transaction.__exit__(exc_type, exc, tb)
            except BaseException:
                self._remove_new_files()
                raise
            if exc is not None:
                self._remove_new_files()
        finally:
            self._lock.__exit__(None, None, None)
        return False

    def use(self, reserved: Reserved) -> None:
        """Take a reserved number for good with this filing."""
        numbering.use(self.session, reserved)

    def _remove_new_files(self) -> None:
        if not self._new:
            return
        with self.archive.catalogue.reading() as session:
            referenced = set(
                session.scalars(select(Document.sha256).where(Document.sha256.in_(self._new)))
            )
        for digest in self._new:
            if digest not in referenced:
                self.archive.storage.delete(digest)
        self._new.clear()

    def store(self, data: bytes) -> str:
        existed = self.archive.storage.exists(hashlib.sha256(data).hexdigest())
        digest = self.archive.storage.put(data)
        if not existed:
            self._new.append(digest)
        return digest

    def add_documents(
        self,
        *,
        contract: Contract,
        kind: str,
        number: str,
        title: str,
        rendition: Rendition,
        input_sha256: str,
        actor: str,
        revision: int | None = None,
    ) -> list[Document]:
        docs = []
        code = document_code(self.session, contract, number)
        for fmt in ("pdf", "docx"):
            data = getattr(rendition, fmt)
            doc = Document(
                contract_id=contract.id, kind=kind, number=number, format=fmt,
                archival_code=code,
                filename=f"{title}-{number}.{fmt}", media_type=MEDIA_TYPES[fmt],
                sha256=self.store(data), size=len(data),
                template_name=rendition.template_name,
                template_sha256=rendition.template_sha256,
                template_version_id=rendition.template_version_id, input_sha256=input_sha256,
                renderer=rendition.renderer,
                libreoffice_version=rendition.libreoffice_version if fmt == "pdf" else None,
                text=rendition.text if fmt == "docx" else None, created_by=actor,
                revision=revision,
            )  # fmt: skip
            self.session.add(doc)
            docs.append(doc)
        self.session.flush()
        enqueue(self.session, contract.contract_no)
        return docs


__all__ = ["Filing", "Rendition", "input_digest", "render"]
