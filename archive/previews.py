"""A template version shown before anyone relies on it: rendered to PDF with the sample data
(the hard cases ``hetong templates check`` uses), or — for a sales-contract template — with
an existing contract's data, which is a retrieval of that contract: only one the person may
read, and recorded in the 查阅登记 with its purpose."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from archive import audit, template_register
from archive.actor import Actor
from archive.dossier import load
from archive.errors import InvalidData
from schemas import ContractSchema
from templates import sales_contract
from templates.check import SPECS

if TYPE_CHECKING:
    from archive.core import Archive

log = logging.getLogger(__name__)


def preview(archive: Archive, template_id: int, number: int, actor: Actor, *,
            contract_no: str | None = None, purpose: str | None = None) -> bytes:  # fmt: skip
    """Version ``number`` of the template rendered to PDF (not filed, not numbered)."""
    template = template_register.get(archive.catalogue, template_id)
    version = template_register.version(template, number)
    file = template_register.file_of(archive.catalogue, version.id)
    if contract_no:
        context = _contract_context(archive, template.kind, contract_no, actor, purpose)
    else:
        context = SPECS[template.kind].sample_context()
    title = f"预览：{template_register.title(template)} 第 {number} 版"
    word = archive.renderer.render(file, context, properties={"title": title,
                                                              "language": "zh-CN"})  # fmt: skip
    return archive.converter.to_pdf(word.data)


def _contract_context(archive: Archive, kind: str, contract_no: str, actor: Actor,
                      purpose: str | None) -> dict:  # fmt: skip
    if kind != sales_contract.TEMPLATE:
        raise InvalidData({"contract": ["只有销售合同模板可以用已有合同的数据预览。"]})
    if not (purpose or "").strip():
        raise InvalidData({"purpose": ["用已有合同的数据预览须说明用途（记入查阅登记）。"]})
    with archive.catalogue.writing() as session:
        contract = load(session, contract_no, actor)
        data = ContractSchema().load(contract.terms)
        context = sales_contract.context(contract.contract_no, data,
                                         confidential=contract.confidential)  # fmt: skip
        audit.record(session, actor, "template.preview", contract_no, note=purpose.strip())
    return context
