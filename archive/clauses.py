"""标准条款: the company's standard clauses per business type (质量标准, 运输, 验收, 付款, 免责,
违约, 争议 …). A new contract's form is filled with them, and an API request that leaves a
clause out gets it; a clerk may change any clause for one contract, and the reviewers see
which clauses deviate from the standard, the changed text marked.

A business type without clauses of its own uses ``DEFAULTS``; managers keep the library
(``set_clause``), every change audited.
"""

from __future__ import annotations

import difflib
import unicodedata
from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError
from sqlalchemy import select

from archive import audit
from archive.actor import Actor
from archive.catalogue import Catalogue
from archive.errors import Forbidden, InvalidData
from archive.models import Contract, StandardClause, iso, utcnow
from schemas.contract import ContractSchema
from schemas.labels import field_label

if TYPE_CHECKING:
    from archive.core import Archive

# The clauses of a sales contract, by their place in its data, with the company's wording.
DEFAULTS: dict[str, str] = {
    "quality_standard": "符合国家标准及供方出厂检验标准",
    "transport.method": "公路运输",
    "delivery.acceptance": (
        "需方应于到货后7日内按装箱单及技术协议验收，逾期未提出书面异议的视为验收合格"
    ),
    "payment.method": "银行转账",
    "payment.terms": "合同生效后预付30%，验收合格后30日内付清余款",
    "liability_exemptions": (
        "因不可抗力导致不能履行的，受影响方不承担责任，但应及时通知对方并提供证明"
    ),
    "breach_liability": "逾期交货或逾期付款的，每日按未履行部分金额的万分之五支付违约金",
    "dispute_resolution": "协商不成的，提交供方所在地人民法院诉讼解决",
}
FIELDS = tuple(DEFAULTS)
KEEPERS = ("manager",)
MAX_CLAUSE = 2000


def label(field: str) -> str:
    return field_label(field)


def _get(data: dict[str, Any], field: str) -> Any:
    for part in field.split("."):
        data = (data or {}).get(part) if isinstance(data, dict) else None
    return data


def _set(data: dict[str, Any], field: str, value: str) -> dict[str, Any]:
    head, _, rest = field.partition(".")
    if not rest:
        return {**data, head: value}
    return {**data, head: _set(dict(data.get(head) or {}), rest, value)}


def _checked(field: str, text: str) -> str:
    """The text as the contract's own field takes it (length, one line or several, no control
    characters): a standard clause fills contracts, so it obeys the same rule."""
    schema: Any = ContractSchema()
    *parents, leaf = field.split(".")
    for name in parents:
        schema = schema.fields[name].schema
    try:
        value = schema.fields[leaf].deserialize(text)
    except ValidationError as exc:
        raise InvalidData({"text": list(exc.messages)}) from exc
    if not value:
        raise InvalidData({"text": ["条款不能为空。"]})
    return value


def standard(catalogue: Catalogue, business_type: str | None) -> dict[str, str]:
    """The standard clauses of a business type, field → text."""
    with catalogue.reading() as session:
        own = StandardClause.business_type == (business_type or "")
        rows = session.scalars(select(StandardClause).where(own)).all()
    return {**DEFAULTS, **{row.field: row.text for row in rows}}


def fill(archive: Archive, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Contract data with every clause it leaves out taken from the standard of its type,
    and that standard (kept with the contract: its deviations are judged against the wording
    it was drafted from, not a later one)."""
    wording = standard(archive.catalogue, data.get("business_type"))
    for field in FIELDS:
        if not _get(data, field):
            data = _set(data, field, wording[field])
    return data, wording


def drafted_from(catalogue: Catalogue, contract: Contract) -> dict[str, str]:
    """The standard wording a contract was drafted from (before 0019: today's)."""
    return contract.standard_clauses or standard(catalogue, contract.business_type)


def deviations(wording: dict[str, str], data: dict[str, Any]) -> list[dict[str, Any]]:
    """The clauses of ``data`` that differ from the standard ``wording``, each with the
    change marked: ``diff`` is a list of ``{"op": "equal" | "delete" | "insert", "text"}``."""
    found = []
    for field in FIELDS:
        given, usual = _get(data, field) or "", wording.get(field, "")
        if _folded(given) == _folded(usual):
            continue
        found.append({"field": field, "label": label(field), "standard": usual,
                      "contract": given, "diff": marked(usual, given)})  # fmt: skip
    return found


def _folded(text: str) -> str:
    """A clause as compared: full-width and half-width alike (NFKC), without spaces or its
    closing punctuation — ，and , are not a deviation."""
    return "".join(unicodedata.normalize("NFKC", text).split()).rstrip("。.；;")


def marked(before: str, after: str) -> list[dict[str, str]]:
    """Character by character, what stayed, went and came (Chinese has no word breaks)."""
    parts = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op in ("delete", "replace"):
            parts.append({"op": "delete", "text": before[a0:a1]})
        if op in ("insert", "replace"):
            parts.append({"op": "insert", "text": after[b0:b1]})
        if op == "equal":
            parts.append({"op": "equal", "text": before[a0:a1]})
    return parts


def library(archive: Archive, business_types: list[str]) -> list[dict[str, Any]]:
    """Each business type's clauses, saying which are the company defaults and who last
    changed the others."""
    with archive.catalogue.reading() as session:
        rows = {(r.business_type, r.field): r for r in session.scalars(select(StandardClause))}

    def clause(kind: str, field: str) -> dict[str, Any]:
        row = rows.get((kind, field))
        return {"field": field, "label": label(field),
                "text": row.text if row else DEFAULTS[field], "default": row is None,
                "updated_by": row.updated_by if row else None,
                "updated_at": iso(row.updated_at) if row else None}  # fmt: skip

    return [{"business_type": kind, "clauses": [clause(kind, f) for f in FIELDS]}
            for kind in business_types]  # fmt: skip


def set_clause(archive: Archive, business_type: str, field: str, text: str,
               actor: Actor) -> None:  # fmt: skip
    """A manager changes a standard clause of a business type (audited)."""
    if actor.role not in KEEPERS:  # the business's wording: not an administrator's
        raise Forbidden("标准条款由销售经理维护。")
    if field not in FIELDS:
        raise InvalidData({"field": [f"没有“{field}”这一条款，可选：{'、'.join(FIELDS)}。"]})
    text = _checked(field, text)
    with archive.catalogue.writing() as session:
        row = session.scalar(select(StandardClause).where(
            StandardClause.business_type == business_type, StandardClause.field == field,
        ))  # fmt: skip
        before = row.text if row else DEFAULTS[field]
        if row is None:
            row = StandardClause(business_type=business_type, field=field, text=text,
                                 updated_by=actor.name)  # fmt: skip
            session.add(row)
        row.text, row.updated_by, row.updated_at = text, actor.name, utcnow()
        audit.record(session, actor, "clause.update", f"{business_type}·{label(field)}",
                     before=before, after=text)  # fmt: skip
