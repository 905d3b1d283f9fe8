"""Correcting a draft (改稿): its data replaced, rendered and filed again under the same
number and 档号. Every earlier revision stays in the dossier with its documents, superseded,
and the fields each correction changed; only the last revision counts. Once a contract is
effective, only amendments change it (archive.amendments)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from archive import audit, clauses, customers, reviews, template_register
from archive.actor import Actor
from archive.dossier import fetch, load, require_status, touch, unchanged
from archive.errors import Conflict, Forbidden, InvalidData
from archive.filing import Filing, input_digest, render, retried
from archive.models import Contract, ContractRevision, iso, utcnow
from archive.numbering import scope_of
from archive.outbox import enqueue
from schemas import ContractSchema
from schemas.labels import field_label
from schemas.money import figures
from templates import sales_contract

if TYPE_CHECKING:
    from archive.core import Archive

log = logging.getLogger(__name__)

KIND = "sales_contract"
EDITORS = ("clerk", "manager")


def differences(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """Field by field, what differs between two versions of a contract's data (canonical
    JSON): ``[{"field": "buyer.name", "label": "需方·名称", "before", "after"}]``; a line
    added or removed shows each of its fields (``None`` on the side where it is missing)."""
    if isinstance(before, dict) or isinstance(after, dict):
        before, after = before or {}, after or {}
        keys = list(before) + [k for k in after if k not in before]
        found = []
        for key in keys:
            found += differences(before.get(key), after.get(key), f"{path}.{key}" if path else key)
        return found
    if isinstance(before, list) or isinstance(after, list):
        before, after = before or [], after or []
        found = []
        for n in range(max(len(before), len(after))):
            left = before[n] if n < len(before) else None
            right = after[n] if n < len(after) else None
            found += differences(left, right, f"{path}.{n}")
        return found
    if (before or None) == (after or None):
        return []
    return [{"field": path, "label": field_label(path), "before": before, "after": after}]


def _stays_in_place(archive: Archive, seen: Contract, data: dict[str, Any]) -> None:
    """The number (its series follows the signing date) and the 档号 (the volume: year of
    signing × region) stay; a correction that would move them is refused, naming the field."""
    errors: dict[str, list[str]] = {}
    if data["region"] != seen.region:
        errors["region"] = [f"草稿改稿不能更改区域（原为“{seen.region}”）：档号按年度和区域编排。"
                            "如区域确实有误，请解除本合同后重新创建。"]  # fmt: skip
    pattern = archive.number_pattern
    day, was = data["signed_on"], seen.signed_on
    if day.year != was.year or scope_of(pattern, day) != scope_of(pattern, was):
        errors["signed_on"] = [
            f"改稿后的签订日期须与原日期（{seen.signed_on.isoformat()}）在同一编号期间内："
            f"合同编号 {seen.contract_no} 与档号随签订日期编排。如日期确实有误，请解除本合同后"
            "重新创建。"
        ]  # fmt: skip
    if errors:
        raise InvalidData(errors)


def revise(
    archive: Archive,
    contract_no: str,
    data: dict[str, Any],
    actor: Actor,
    *,
    note: str | None = None,
    based_on: int | None = None,
) -> tuple[Contract, bool]:
    """Replace a draft's data with ``data`` (what ``ContractSchema`` loaded): a new revision,
    rendered and filed, the one before it kept as superseded. ``based_on``: the revision the
    editor started from (a later one answers ``Conflict``: nobody's change is overwritten
    unseen). Returns the contract and whether anything changed (data equal to the current
    revision files nothing)."""
    if not actor.can(*EDITORS):
        raise Forbidden("只有销售业务员或销售经理可以修改合同草稿。")
    data = customers.parties(archive, data, actor)
    data = {**data, "business_type": data.get("business_type") or archive.default_business_type}
    data, wording = clauses.fill(archive, data)
    data = {**data, "standard_clauses": wording}
    return retried(lambda: _revise(archive, contract_no, data, actor, note, based_on))


def _revise(archive: Archive, contract_no: str, data: dict[str, Any], actor: Actor,
            note: str | None, based_on: int | None) -> tuple[Contract, bool]:  # fmt: skip
    customer_id, wording = data.get("customer_id"), data.get("standard_clauses")
    data = {k: v for k, v in data.items() if k not in ("customer_id", "standard_clauses")}
    seen = fetch(archive.catalogue, contract_no, actor, write=True)
    require_status(seen, ("draft",), "改稿（已生效的合同只能签订补充协议变更）")
    if based_on is not None and based_on != seen.revision:
        raise Conflict(
            f"合同 {contract_no} 已有第 {seen.revision} 稿（您据以修改的是第 {based_on} 稿）："
            "请查看最新一稿后再改。", field="based_on", current=seen.revision,
        )  # fmt: skip
    _stays_in_place(archive, seen, data)
    canonical = ContractSchema().dump(data)
    changes = differences(seen.data, canonical)
    if not changes:
        return seen, False
    total = sales_contract.total_of(data["items"])
    if total < seen.paid:
        raise Conflict(f"改稿后总额 {figures(total)} 元低于已收款 {figures(seen.paid)} 元。",
                       field="items")  # fmt: skip
    template = template_register.active(archive.catalogue, KIND, data["business_type"])
    rendition = render(
        archive, template,
        sales_contract.context(contract_no, data, confidential=seen.confidential),
        sales_contract.properties(contract_no, data),
    )  # fmt: skip
    digest = input_digest(canonical)
    with Filing(archive) as filing:
        contract = load(filing.session, contract_no, actor, lock=True)
        unchanged(contract, seen)  # the changes were judged against this very revision
        now = utcnow()
        if not contract.revisions:  # the first correction: the data as first filed, too
            filing.session.add(ContractRevision(
                contract_id=contract.id, seq=1, data=contract.data,
                input_sha256=contract.input_sha256, total=contract.original_total, changes=[],
                created_by=contract.created_by, created_at=contract.created_at,
            ))  # fmt: skip
        seq = contract.revision + 1
        filing.session.add(ContractRevision(
            contract_id=contract.id, seq=seq, data=canonical, input_sha256=digest, total=total,
            changes=changes, note=note, created_by=actor.name, created_at=now,
        ))  # fmt: skip
        for doc in contract.documents:
            if doc.kind == KIND and doc.superseded_at is None:
                doc.superseded_at = now
        contract.revision = seq
        contract.data = contract.terms = canonical
        contract.input_sha256 = digest
        contract.total = contract.original_total = total
        contract.signed_on, contract.due_on = data["signed_on"], data["payment"]["due_on"]
        contract.business_type = data["business_type"]
        contract.standard_clauses = wording
        contract.seller_name, contract.buyer_name = data["seller"]["name"], data["buyer"]["name"]
        # Its customer stays while the buyer is the same one; a buyer corrected to another
        # name (or tax number) is looked up (or entered) again, unless one is named.
        same = (customers.name_key(data["buyer"]["name"]) == customers.name_key(seen.buyer_name)
                and data["buyer"].get("tax_id") == seen.data["buyer"].get("tax_id"))  # fmt: skip
        keep = customer_id or (contract.customer_id if same else None)
        customers.attach(filing.session, contract, data["buyer"], keep, actor)
        touch(contract)
        filing.add_documents(
            contract=contract, kind=KIND, number=contract_no, title=sales_contract.TITLE,
            rendition=rendition, input_sha256=digest, actor=actor.name, revision=seq,
        )  # fmt: skip
        reviews.restart(filing.session, contract, archive.review_steps, actor)
        audit.record(filing.session, actor, "contract.revise", contract_no, note=note,
                     revision=seq, fields=[c["field"] for c in changes],
                     total=str(total))  # fmt: skip
        enqueue(filing.session, contract_no)
    log.info("contract %s: revision %d by %s", contract_no, seq, actor.name)
    return fetch(archive.catalogue, contract_no, actor), True


def history(contract: Contract) -> list[dict[str, Any]]:
    """The revisions of a contract, oldest first, as every interface shows them: the first
    one is the data as first filed; each later one says what it changed."""
    if not contract.revisions:
        return [{"revision": 1, "current": True, "created_by": contract.created_by,
                 "created_at": iso(contract.created_at), "total": f"{contract.original_total:.2f}",
                 "note": None, "changes": []}]  # fmt: skip
    return [
        {"revision": r.seq, "current": r.seq == contract.revision, "created_by": r.created_by,
         "created_at": iso(r.created_at), "total": f"{r.total:.2f}", "note": r.note,
         "changes": r.changes}
        for r in contract.revisions
    ]  # fmt: skip


__all__ = ["differences", "history", "revise"]
