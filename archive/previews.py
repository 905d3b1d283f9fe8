"""A template version shown before anyone relies on it: rendered to PDF with the sample data
(the hard cases ``hetong templates check`` uses), or — for a sales-contract template — with
an existing contract's data, which is a retrieval of that contract: only one the person may
read, and recorded in the 查阅登记 with its purpose."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from marshmallow import ValidationError

from archive import audit, template_register
from archive.access import basis
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
        try:
            data = ContractSchema().load(contract.terms)
        except ValidationError:  # amended beyond what a new contract may hold (50 clauses)
            raise InvalidData({"contract": [
                f"合同 {contract.contract_no} 的现行条款（含补充协议）超出新建合同的限制，"
                "不能用来预览模板。"]}) from None  # fmt: skip
        context = sales_contract.context(contract.contract_no, data,
                                         confidential=contract.confidential)  # fmt: skip
        # The 查阅登记 names the request or loan it was read under, as a download's does.
        audit.record(session, actor, "template.preview", contract.contract_no,
                     note=purpose.strip(), **basis(session, actor, contract))  # fmt: skip
    return context
