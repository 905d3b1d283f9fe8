"""Signed scans: the countersigned copy a customer sends back, filed in the dossier.

An upload is hostile until checked: a bounded worker process (``templates.uploads``) opens it,
refuses what is malformed or built to exhaust resources, and returns an archival copy without
scripts, actions, embedded files or forms. That clean copy is what every download, preview
and bound volume uses; the original bytes are kept beside it, hashed, as evidence.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from archive import audit
from archive.actor import Actor
from archive.codes import document_code
from archive.dossier import SIGNED_SCAN, fetch, load, touch
from archive.errors import Forbidden, InvalidData
from archive.filing import Filing
from archive.models import Document
from archive.outbox import enqueue
from templates.uploads import Inspection, UploadRejected, inspect_upload

if TYPE_CHECKING:
    from archive.core import Archive

log = logging.getLogger(__name__)

KIND = SIGNED_SCAN
TITLE = "签署扫描件"
UPLOADERS = ("clerk", "archivist", "manager")


def inspect(archive: Archive, data: bytes) -> Inspection:
    """The bounded worker's verdict on an upload, or InvalidData naming the problem."""
    try:
        return inspect_upload(data, archive.upload_limits)
    except UploadRejected as exc:
        raise InvalidData({exc.field: [exc.message]}, exc.message) from exc


def upload(archive: Archive, contract_no: str, data: bytes, actor: Actor, *,
           filename: str = "", note: str | None = None) -> Document:  # fmt: skip
    """File a signed scan: its clean copy (returned) and its original beside it."""
    if not actor.can(*UPLOADERS):
        raise Forbidden("无权上传扫描件。")
    # NotFound (or Forbidden) before a worker is spent on it.
    fetch(archive.catalogue, contract_no, actor, write=True)
    checked = inspect(archive, data)  # outside the filing lock: it may take seconds
    with Filing(archive) as filing:
        contract = load(filing.session, contract_no, actor, lock=True)
        count = filing.session.scalar(
            select(func.count(func.distinct(Document.number))).where(
                Document.contract_id == contract.id, Document.kind == KIND
            )
        )
        number = f"{contract.contract_no}-SM{count + 1:02d}"
        code = document_code(filing.session, contract, number)
        common = {"contract_id": contract.id, "kind": KIND, "number": number,
                  "archival_code": code, "media_type": "application/pdf",
                  "created_by": actor.name}  # fmt: skip
        doc = Document(
            **common, format="pdf", filename=f"{TITLE}-{number}.pdf",
            sha256=filing.store(checked.clean_pdf), size=len(checked.clean_pdf),
            text=checked.text, removed=checked.removed,
        )  # fmt: skip
        original = Document(
            **common, format="original", filename=f"{TITLE}-{number}-原件.pdf",
            sha256=filing.store(data), size=len(data),
        )  # fmt: skip
        filing.session.add_all([doc, original])
        touch(contract)
        enqueue(filing.session, contract.contract_no)
        audit.record(filing.session, actor, "scan.upload", contract.contract_no, note=note,
                     number=number, pages=checked.pages, sha256=doc.sha256,
                     original_sha256=checked.original_sha256, removed=checked.removed,
                     original_name=filename[:200])  # fmt: skip
    if checked.removed:
        log.warning("scan %s: removed from the archival copy: %s", number,
                    "；".join(checked.removed))  # fmt: skip
    return doc
