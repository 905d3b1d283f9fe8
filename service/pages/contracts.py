"""Clerk and manager pages: contracts, the new-contract form, the dossier and its forms."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from flask import Blueprint, flash, redirect, render_template, request, url_for

from archive import (
    amendments,
    audit,
    clauses,
    contracts,
    customers,
    deliveries,
    loans,
    payments,
    retention,
    reviews,
    revisions,
    scans,
    template_register,
)
from archive.errors import ArchiveError, InvalidData, validated
from archive.models import Contract
from schemas.contract import OwnerChangeSchema, SecrecyChangeSchema, StatusChangeSchema
from schemas.dossier import AmendmentSchema, DeliveryNoticeSchema, PaymentSchema
from schemas.queries import ContractListArgs, DownloadArgs, PageArgs
from schemas.retention import HoldSchema
from schemas.reviews import ReviewDecisionSchema
from service.downloads import send_download
from service.ext import get_archive
from service.pages.forms import (
    flash_outcome,
    flat,
    kept,
    query_args,
    to_payload,
    typed_number,
)
from service.pages.purpose import ask_purpose
from service.pages.session import current_actor, load_user, login_required
from templates.errors import ConverterUnavailable, FontMissing

bp = Blueprint("contracts_pages", __name__, url_prefix="/contracts")
bp.before_request(load_user)

UNAVAILABLE = (ConverterUnavailable, FontMissing)


LIST_LABELS = {"region": "区域", "buyer": "需方", "created_by": "业务员", "year": "签订年份",
               "status": "状态", "payment_state": "收款状态", "sort": "排序", "order": "顺序",
               "page": "页码", "per_page": "每页条数"}  # fmt: skip


@bp.get("")
@login_required()
def index():
    """The contracts in pages of at most 100, filtered and sorted; links keep the filters."""
    wanted, error = query_args(request.args, ContractListArgs(), PageArgs(), labels=LIST_LABELS)
    page, per_page = wanted.pop("page", 1), wanted.pop("per_page", 50)
    total, rows = 0, []
    if not error:
        total, found = contracts.listing(get_archive(), current_actor(), page=page,
                                         per_page=per_page, include_gone=False,
                                         **wanted)  # fmt: skip
        rows = [contracts.summary(c) for c in found]
    return render_template(
        "contracts/index.html", rows=rows, total=total, page=page, per_page=per_page,
        error=error, args=request.args, kept=kept(request.args),
        regions=get_archive().regions, clerks=contracts.clerks(get_archive(), current_actor()),
    ), 400 if error else 200  # fmt: skip


@bp.route("/new", methods=["GET", "POST"])
@login_required("clerk", "manager")
def new():
    values: dict[str, str] = {"region": get_archive().regions[0] if get_archive().regions else "",
                              "business_type": get_archive().default_business_type,
                              "signed_on": dt.date.today().isoformat(),
                              "transport.freight_paid_by": "seller"}  # fmt: skip
    values |= flat({"seller": get_archive().seller or {}})  # our company, configured once
    kinds = template_register.business_types(get_archive().catalogue)
    if request.args.get("business_type") in kinds:
        values["business_type"] = request.args["business_type"]
    values |= _standard_clauses(values["business_type"])
    values |= _chosen_customer(request.args.get("customer", ""))
    errors: dict[str, list[str]] = {}
    items = 3
    if request.method == "POST":
        payload = _form_payload()
        values = flat(payload)
        items = max(3, len(payload.get("items", [])) + 1)
        try:
            data = contracts.validate(get_archive(), payload)
            contract = contracts.create(get_archive(), data, current_actor())
        except InvalidData as exc:
            errors = exc.errors
        except UNAVAILABLE as exc:
            errors = {"_schema": [f"文档生成暂不可用：{exc}。未保存任何内容，请稍后重试。"]}
        else:
            flash(f"已生成合同 {contract.contract_no}。", "ok")
            return redirect(url_for(".show", contract_no=contract.contract_no))
    return render_template(
        "contracts/new.html", values=values, errors=errors, items=items,
        regions=get_archive().regions, kinds=template_register.business_types(
            get_archive().catalogue),
        business_types=template_register.business_types(get_archive().catalogue),
    ), 422 if errors else 200  # fmt: skip


@bp.route("/<contract_no>/edit", methods=["GET", "POST"])
@login_required("clerk", "manager")
def edit(contract_no: str):
    """改稿: the new-contract form, filled with the draft's current revision."""
    try:  # the whole contract is shown: recorded in the 查阅登记 as any dossier view
        contract = contracts.view(get_archive(), contract_no, current_actor(), purpose="改稿")
    except ArchiveError as exc:
        return render_template("gone.html", error=exc), 410 if exc.code == "gone" else 404
    if contract.status != "draft":
        flash("合同已生效，不能改稿；请签订补充协议变更。", "error")
        return redirect(url_for(".show", contract_no=contract_no))
    values = {**flat(contract.data), "based_on": str(contract.revision)}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        payload = _form_payload()
        note, based_on = payload.pop("note", None), payload.pop("based_on", None)
        values = {**flat(payload), "note": note or "", "based_on": based_on or ""}
        try:
            data = contracts.validate(get_archive(), payload)
            revised, changed = revisions.revise(
                get_archive(), contract_no, data, current_actor(), note=note,
                based_on=based_on if isinstance(based_on := _whole(based_on), int) else None,
            )  # fmt: skip
        except InvalidData as exc:
            errors = exc.errors
        except (ArchiveError, *UNAVAILABLE) as exc:
            errors = {"_schema": [str(exc)]}
        else:
            flash(f"已生成第 {revised.revision} 稿，编号与档号不变。" if changed
                  else "内容与现行稿相同，未生成新稿。", "ok")  # fmt: skip
            return redirect(url_for(".show", contract_no=contract_no))
    return render_template(
        "contracts/new.html", values=values, errors=errors, editing=contract,
        items=max(3, len(contract.data["items"]) + 1), regions=get_archive().regions,
        business_types=template_register.business_types(get_archive().catalogue),
    ), 422 if errors else 200  # fmt: skip


def _standard_clauses(business_type: str) -> dict[str, str]:
    """The form's clause fields filled with the standard wording of a business type."""
    wording = clauses.standard(get_archive().catalogue, business_type)
    return {field: wording[field] for field in clauses.FIELDS}


def _whole(raw: str) -> int | str:
    """A form's whole number (ASCII digits only: "²".isdigit() is true, int("²") fails),
    else the text as typed, for the schema to name."""
    return int(raw) if re.fullmatch(r"[0-9]{1,18}", raw or "") else raw


def _chosen_customer(raw: str) -> dict[str, str]:
    """The buyer fields of the form filled from a customer (``?customer=<id>``)."""
    if not isinstance(_whole(raw), int):
        return {}
    try:
        customer = customers.get(get_archive(), int(raw), current_actor())
    except ArchiveError:
        return {}
    return {**flat({"buyer": customers.details(customer)}), "customer_id": str(customer.id),
            "customer_name": customer.name}  # fmt: skip


def _form_payload() -> dict:
    """The contract form as the API's JSON: figures as people type them made plain."""
    payload = to_payload(request.form, lines=("extra_clauses",))
    payload.pop("customer_name", None)
    if "customer_id" in payload:
        payload["customer_id"] = _whole(payload["customer_id"])
    for item in payload.get("items", []):
        for figure in ("quantity", "unit_price"):
            if figure in item:
                item[figure] = typed_number(item[figure])
    return payload


@bp.get("/<contract_no>")
@login_required()
def show(contract_no: str):
    try:
        contract = contracts.view(get_archive(), contract_no, current_actor())
    except ArchiveError as exc:
        return render_template("gone.html", error=exc), 410 if exc.code == "gone" else 404
    trail = audit.entries(get_archive().catalogue, target=contract_no, limit=100)
    d = contracts.dossier(contract)
    # The delivery form offers the lines still to ship (by their index in the terms).
    open_lines = [(n, it) for n, it in enumerate(d["terms"]["items"])
                  if Decimal(it["remaining"]) > 0]  # fmt: skip
    editable = d["status"] == "draft" and current_actor().can(*revisions.EDITORS)
    customer = contract.customer
    differs = customers.differences(customer, contract.terms["buyer"]) if customer else []
    review = reviews.shown(get_archive(), contract, current_actor())  # the dossier is loaded
    deviating = clauses.deviations(
        clauses.drafted_from(get_archive().catalogue, contract), contract.data
    )
    return render_template("contracts/show.html", c=contract, d=d, trail=trail, editable=editable,
                           customer=customer, differs=differs, review=review,
                           deviating=deviating,
                           steps=get_archive().review_steps,
                           documents=_documents(contract), open_lines=open_lines,
                           on_loan=loans.on_loan(get_archive(), contract))  # fmt: skip


def _documents(contract: Contract) -> list[dict]:
    made_with = template_register.labels(
        get_archive().catalogue, {d.template_version_id for d in contract.documents}
    )
    grouped: dict[tuple, dict] = {}
    for doc in contract.documents:
        superseded = doc.superseded_at is not None
        entry = grouped.setdefault((doc.number, doc.revision if superseded else None), {
            "kind": doc.kind, "number": doc.number, "code": doc.archival_code,
            "template": made_with.get(doc.template_version_id), "revision": doc.revision,
            "superseded": superseded})  # fmt: skip
        entry[doc.format] = doc
    return list(grouped.values())


def _act(contract_no: str, action, success: str):
    """Run a domain action from a form; its outcome comes back to the dossier page."""
    flash_outcome(action, success)
    return redirect(url_for(".show", contract_no=contract_no))


@bp.post("/<contract_no>/status")
@login_required()
def change_status(contract_no: str):
    payload = to_payload(request.form)
    payload["force"] = payload.get("force") == "1"  # the confirmation step's own field
    if payload.get("status") == "completed":
        contract = contracts.get(get_archive(), contract_no, current_actor())
        still_open = contracts.unfinished(contract) if contract.status == "effective" else {}
        if still_open and not (payload["force"] and payload.get("note")):
            # What completing would leave open, and a reason for the audit log, first.
            page = render_template("contracts/complete.html", c=contract, still_open=still_open,
                                   unexplained=payload["force"])  # fmt: skip
            return page, 422 if payload["force"] else 200

    def action():
        data = validated(StatusChangeSchema(), payload)
        contracts.change_status(get_archive(), contract_no, data["status"], current_actor(),
                                note=data.get("note"), force=data["force"])  # fmt: skip

    return _act(contract_no, action, "合同状态已更新。")


@bp.post("/<contract_no>/review")
@login_required()
def review(contract_no: str):
    """提交审批, or a reviewer's 同意 / 退回修改 (with the override and feasibility note the
    last step may need). One who decided may no longer see the draft: they go to 待办."""
    payload = to_payload(request.form)
    payload["override"] = payload.get("override") == "1"
    if "revision" in payload:
        payload["revision"] = _whole(payload["revision"])

    def act() -> None:
        data = validated(ReviewDecisionSchema(), payload)
        reviews.decide(get_archive(), contract_no, data.pop("decision"), current_actor(), **data)

    def done() -> str:
        if payload["decision"] == "submitted":
            return "已提交审批。"
        return f"合同 {contract_no}：{reviews.DECISION_NAMES[payload['decision']]}，已记录。"

    flash_outcome(act, done)
    try:
        contracts.get(get_archive(), contract_no, current_actor())
    except ArchiveError:
        return redirect(url_for("tasks_pages.index"))
    return redirect(url_for(".show", contract_no=contract_no) + "#review")


@bp.post("/<contract_no>/payments")
@login_required("clerk", "manager")
def pay(contract_no: str):
    payload = to_payload(request.form)
    if "amount" in payload:
        payload["amount"] = typed_number(payload["amount"])
    return _act(contract_no, lambda: payments.pay(
        get_archive(), contract_no, validated(PaymentSchema(), payload), current_actor()),
        "已登记收款。")  # fmt: skip


@bp.post("/<contract_no>/deliveries")
@login_required("clerk", "manager")
def deliver(contract_no: str):
    payload = to_payload(request.form)
    payload["items"] = [{"line": _line_number(row.get("line", "")),
                         "quantity": typed_number(row["quantity"])}
                        for row in payload.get("items", []) if row.get("quantity")]  # fmt: skip

    def action():
        data = validated(DeliveryNoticeSchema(), payload)
        deliveries.deliver(get_archive(), contract_no, data, current_actor())

    return _act(contract_no, action, "已开具发货通知单。")


def _line_number(typed: str) -> int | str:
    """A line number as typed (full-width digits too); anything else for the schema to refuse."""
    folded = typed_number(typed)
    return int(folded) if folded.isdecimal() and folded.isascii() else folded


@bp.post("/<contract_no>/amendments")
@login_required("clerk", "manager")
def amend(contract_no: str):
    payload = to_payload(request.form, lists=("changes",))
    for change in payload.get("changes", []):
        if "line" in change:  # 第几项, counted from 1 as the contract prints it
            change["line"] = _line_number(change["line"])
        if change.get("field") not in amendments.ITEM_FIELDS:
            change.pop("line", None)
        elif change.get("field") in ("unit_price", "quantity") and "after" in change:
            change["after"] = typed_number(change["after"])

    def action():
        data = validated(AmendmentSchema(), payload)
        amendments.amend(get_archive(), contract_no, data, current_actor())

    return _act(contract_no, action, "已签订补充协议。")


@bp.post("/<contract_no>/hold")
@login_required("archivist", "manager")
def hold(contract_no: str):
    release = request.form.get("release") == "1"

    def action():
        reason = None if release else validated(HoldSchema(), to_payload(request.form))["reason"]
        retention.hold(get_archive(), contract_no, reason, current_actor(), release=release)

    return _act(contract_no, action, "已解除保全。" if release else "已保全。")


@bp.post("/<contract_no>/documents")
@login_required("clerk", "archivist", "manager")
def upload(contract_no: str):
    file = request.files.get("file")
    data = file.read() if file else b""
    return _act(contract_no, lambda: scans.upload(get_archive(), contract_no, data, current_actor(),
                                                  filename=file.filename if file else ""),
                "已上传签署扫描件。")  # fmt: skip


@bp.get("/<contract_no>/documents/<int:doc_id>")
@login_required()
def download(contract_no: str, doc_id: int):
    """Asks for the purpose first (a short form), then hands the file over."""
    wanted = {k: v for k, v in request.args.items() if v}
    if not (wanted.get("purpose") or "").strip():
        contracts.get(get_archive(), contract_no, current_actor())  # 404 before asking
        return ask_purpose(f"下载合同 {contract_no} 的文件")
    purpose = validated(DownloadArgs(), wanted)["purpose"]
    doc, data = contracts.retrieve(get_archive(), contract_no, doc_id, current_actor(),
                                   purpose=purpose)  # fmt: skip
    return send_download(data, doc.filename, doc.media_type)


@bp.post("/<contract_no>/owner")
@login_required("manager", "director")
def reassign(contract_no: str):
    def action():
        data = validated(OwnerChangeSchema(), to_payload(request.form))
        contracts.reassign(get_archive(), contract_no, data["owner"], current_actor(),
                           note=data["note"])  # fmt: skip

    return _act(contract_no, action, "已移交合同。")


@bp.post("/<contract_no>/secrecy")
@login_required("manager", "director")
def set_secrecy(contract_no: str):
    def action():
        payload = to_payload(request.form)
        payload["confidential"] = payload.get("confidential") == "1"
        data = validated(SecrecyChangeSchema(), payload)
        contracts.set_secrecy(get_archive(), contract_no, data["confidential"], current_actor(),
                              note=data["note"])  # fmt: skip

    return _act(contract_no, action, "已变更密级。")
