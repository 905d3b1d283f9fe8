"""Signed scans: the countersigned copy a customer sends back, filed in the dossier."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from sqlalchemy import func, select

from archive import audit
from archive.audit import Actor
from archive.codes import document_code
from archive.dossier import load
from archive.errors import Forbidden, InvalidData
from archive.filing import Filing
from archive.models import Document
from archive.outbox import enqueue

if TYPE_CHECKING:
    from archive.core import Archive

log = logging.getLogger(__name__)

KIND = "signed_scan"
TITLE = "签署扫描件"
UPLOADERS = ("clerk", "archivist", "manager")
MAX_BYTES = 20 * 1024 * 1024


def check_pdf(data: bytes, *, max_bytes: int = MAX_BYTES) -> int:
    """Page count of an acceptable PDF, or InvalidData saying what is wrong with it."""
    if not data:
        raise InvalidData({"file": ["文件为空。"]})
    if len(data) > max_bytes:
        raise InvalidData({"file": [f"文件过大（上限 {max_bytes // (1024 * 1024)} MB）。"]})
    if not data.lstrip()[:5] == b"%PDF-":
        raise InvalidData({"file": ["不是 PDF 文件。"]})
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise InvalidData({"file": ["PDF 已加密，请上传未加密的文件。"]})
        pages = len(reader.pages)
        for page in reader.pages:
            page.extract_text()  # a damaged page shows here, not in the reader's listing
    except InvalidData:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidData({"file": [f"PDF 文件已损坏，无法读取：{exc}"]}) from exc
    if pages == 0:
        raise InvalidData({"file": ["PDF 没有页面。"]})
    return pages


def upload(archive: Archive, contract_no: str, data: bytes, actor: Actor, *,
           filename: str = "", note: str | None = None) -> Document:  # fmt: skip
    if not actor.can(*UPLOADERS):
        raise Forbidden("无权上传扫描件。")
    pages = check_pdf(data)
    with Filing(archive) as filing:
        contract = load(filing.session, contract_no)
        count = filing.session.scalar(
            select(func.count(Document.id)).where(
                Document.contract_id == contract.id, Document.kind == KIND
            )
        )
        number = f"{contract.contract_no}-SM{count + 1:02d}"
        doc = Document(
            contract_id=contract.id, kind=KIND, number=number, format="pdf",
            archival_code=document_code(filing.session, contract, number),
            filename=f"{TITLE}-{number}.pdf", media_type="application/pdf",
            sha256=filing.store(data), size=len(data), created_by=actor.name,
        )  # fmt: skip
        filing.session.add(doc)
        enqueue(filing.session, contract.contract_no)
        audit.record(filing.session, actor, "scan.upload", contract.contract_no, note=note,
                     number=number, pages=pages, sha256=doc.sha256,
                     original_name=filename[:200])  # fmt: skip
    return doc
