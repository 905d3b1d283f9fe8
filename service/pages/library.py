"""Archivist pages: search, volumes, the access log."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template, request
from markupsafe import Markup
from marshmallow import ValidationError

from archive import audit, binding, exports, searching, volumes
from archive.search import Filters, QueryError
from schemas import flatten_errors
from schemas.labels import (
    ACTION_NAMES,
    KIND_NAMES,
    PAYMENT_NAMES,
    STATUS_NAMES,
    error_lines,
    local_time,
    zone_name,
)
from schemas.loans import FORM_NAMES
from schemas.queries import (
    SEARCH_FILTERS,
    AccessLogArgs,
    PageArgs,
    PurposeArgs,
    SearchArgs,
    VolumeArgs,
    search_filters,
)
from service.downloads import send_download
from service.ext import get_archive
from service.pages import sheets
from service.pages.forms import kept, query_args
from service.pages.purpose import ask_purpose, wanted_purpose
from service.pages.session import current_actor, load_user, login_required

bp = Blueprint("library", __name__)
bp.before_request(load_user)


@bp.get("/search")
@login_required()
def search():
    args = request.args
    error, result, page = None, None, 1
    try:
        # The form sends empty fields for filters left open.
        wanted = SearchArgs().load({k: v for k, v in args.items() if v != ""})
    except ValidationError as exc:
        errors = flatten_errors(exc.messages)
        error = "；".join(error_lines(errors))
    else:
        page = wanted["page"]
        try:
            result = searching.search(
                get_archive(), current_actor(), wanted["q"],
                filters=Filters(**search_filters(wanted)), page=page, per_page=20,
                sort=wanted["sort"],
            )  # fmt: skip
        except QueryError as exc:
            error = exc.message
    if result:
        for hit in result.hits:  # our highlighter escapes the text and adds only <mark>
            hit["highlights"] = [Markup(h) for h in hit["highlights"]]
    return render_template("library/search.html", result=result, error=error, args=args,
                           page=page, filters=SEARCH_FILTERS, max_rows=exports.MAX_ROWS,
                           ), 400 if error else 200  # fmt: skip


@bp.get("/volumes")
@login_required()
def volume_list():
    return render_template("library/volumes.html",
                           rows=volumes.list_volumes(get_archive(), current_actor()))  # fmt: skip


@bp.get("/volumes/<int:year>/<region>.pdf")
@login_required("archivist", "manager")
def volume_pdf(year: int, region: str):
    if not wanted_purpose():
        return ask_purpose(f"导出案卷 {year}·{region}")
    wanted, error = query_args(request.args, VolumeArgs())
    if error:
        return render_template("error.html", code=400, message=error), 400
    kind = wanted["kind"]
    data = binding.bind(get_archive(), year, region, current_actor(), kind,
                        purpose=wanted["purpose"])  # fmt: skip
    suffix = "-未收款另册" if kind == "unpaid" else ""
    return send_download(data, f"销售合同档案-{year}-{region}{suffix}.pdf", "application/pdf",
                         plain=f"volume-{year}{'-unpaid' if suffix else ''}.pdf")  # fmt: skip


SEARCH_COLUMNS = [
    sheets.Column("合同编号", lambda r: r["contract_no"], width=18),
    sheets.Column("文件编号", lambda r: r["number"], width=22),
    sheets.Column("文件类型", lambda r: KIND_NAMES.get(r["kind"], r["kind"]), width=12),
    sheets.Column("档号", lambda r: r["archival_code"], width=24),
    sheets.Column("区域", lambda r: r["region"], width=8),
    sheets.Column("签订日期", lambda r: r["signed_on"], "date", 12),
    sheets.Column("供方", lambda r: r.get("seller"), width=30),
    sheets.Column("需方", lambda r: r.get("buyer"), width=30),
    sheets.Column("金额（元）", lambda r: r.get("total"), "money", 16),
    sheets.Column("状态", lambda r: STATUS_NAMES.get(r["status"], r["status"]), width=10),
    sheets.Column("收款状态", lambda r: PAYMENT_NAMES.get(r["payment_state"]), width=10),
]


@bp.get("/search/export.<any(csv, xlsx):fmt>")
@login_required()
def search_export(fmt: str):
    """The search's hits as a file (at most ``exports.MAX_ROWS``), recorded in 查阅登记."""
    purpose = wanted_purpose()
    if not purpose:
        return ask_purpose("导出检索结果")
    wanted, error = query_args(request.args, SearchArgs(), PurposeArgs())
    if not error:
        try:
            found = exports.search_results(
                get_archive(), current_actor(), wanted["q"], Filters(**search_filters(wanted)),
                sort=wanted["sort"], fmt=fmt, criteria=kept(request.args), purpose=purpose,
            )  # fmt: skip
        except QueryError as exc:
            error = exc.message
    if error:
        return render_template("error.html", code=400, message=error), 400
    today = dt.date.today().isoformat()
    return sheets.send(fmt, f"检索结果-{today}", SEARCH_COLUMNS, found.rows,
                       plain=f"search-{today}",
                       note=sheets.cut_note(len(found.rows), found.total))  # fmt: skip


ACCESS_LABELS = {"user": "用户", "contract_no": "合同编号", "from": "起始日期",
                 "to": "截止日期", "page": "页码", "per_page": "每页条数"}  # fmt: skip
FORMAT_NAMES = {"pdf": "PDF", "docx": "Word", "original": "原件"}
LISTS = {"search.export": "检索结果", "access_log.export": "查阅登记"}


def retrieved(entry, documents: dict[int, dict[str, str]]) -> str:
    """What a retrieval took, in words: ``销售合同 HT-202611-0001（PDF）``,
    ``案卷 2026·华东（12 份合同）``, ``检索结果 35 条（Excel）``; and under which access
    request or loan, when the person's own role did not let them read it."""
    detail = entry.detail or {}
    grounds = (f"（依查阅申请 #{detail['request']}）" if detail.get("request")
               else f"（依借阅 #{detail['loan']}）" if detail.get("loan") else "")  # fmt: skip
    if entry.action == "dossier.view":
        return f"查看卷宗 {entry.target}{grounds}"
    if entry.action == "document.download":
        doc = documents.get(detail.get("document_id"))
        if doc is None:
            return f"文件 #{detail.get('document_id')}{grounds}"
        kind = KIND_NAMES.get(doc["kind"], doc["kind"])
        shown = FORMAT_NAMES.get(doc["format"], doc["format"])
        return f"{kind} {doc['number']}（{shown}）{grounds}"
    if entry.action == "loan.lend":  # archive.loans: the dossier lent, to whom, until when
        form = FORM_NAMES.get(detail.get("form"), "")
        return f"{form}卷宗借给 {detail.get('borrower', '')}，应还 {detail.get('due_on', '')}"
    if entry.action == "volume.export":
        volume = (entry.target or "").replace("/", "·")
        return f"案卷 {volume}（{len(detail.get('contracts') or [])} 份合同）"
    what = LISTS.get(entry.action, entry.action)
    fmt = sheets.FORMAT_NAMES.get(detail.get("format"), "")
    cut = "，未导出全部" if detail.get("total", 0) > detail.get("rows", 0) else ""
    return f"{what} {detail.get('rows', 0)} 条（{fmt}）{cut}"


def _register_args() -> tuple[dict, str | None]:
    return query_args(request.args, AccessLogArgs(), PageArgs(), labels=ACCESS_LABELS)


@bp.get("/access-log")
@login_required("archivist", "manager")
def access_log():
    """The retrieval register with the API's filters, in pages; each file named."""
    wanted, error = _register_args()
    page, per_page = wanted.pop("page", 1), wanted.pop("per_page", 50)
    total, rows = 0, []
    if not error:
        total, rows = audit.retrievals(
            get_archive().catalogue, current_actor(), user=wanted.get("user"),
            contract_no=wanted.get("contract_no"),
            since=wanted.get("from_"), until=wanted.get("to"), limit=per_page,
            offset=(page - 1) * per_page,
        )  # fmt: skip
    documents = audit.documents_of(get_archive().catalogue, rows)
    return render_template(
        "library/access_log.html", rows=rows, what={e.id: retrieved(e, documents) for e in rows},
        total=total, page=page, per_page=per_page, error=error, args=request.args,
        kept=kept(request.args), max_rows=exports.MAX_ROWS,
    ), 400 if error else 200  # fmt: skip


@bp.get("/access-log/export.<any(csv, xlsx):fmt>")
@login_required("archivist", "manager")
def access_log_export(fmt: str):
    """The register as a file (at most ``exports.MAX_ROWS``); the export is registered too."""
    purpose = wanted_purpose()
    if not purpose:
        return ask_purpose("导出查阅登记")
    wanted, error = query_args(request.args, AccessLogArgs(), PageArgs(), PurposeArgs(),
                               labels=ACCESS_LABELS)  # fmt: skip
    if error:
        return render_template("error.html", code=400, message=error), 400
    found = exports.access_log(
        get_archive(), current_actor(), fmt=fmt, criteria=kept(request.args), purpose=purpose,
        user=wanted.get("user"), contract_no=wanted.get("contract_no"),
        since=wanted.get("from_"), until=wanted.get("to"),
    )  # fmt: skip
    zone = get_archive().zone
    columns = [
        sheets.Column(f"时间（{zone_name(zone)}）", lambda e: local_time(e.at, zone), width=18),
        sheets.Column("用户", lambda e: e.actor, width=16),
        sheets.Column("操作", lambda e: ACTION_NAMES.get(e.action, e.action), width=14),
        sheets.Column("合同或案卷", lambda e: e.target, width=18),
        sheets.Column("文件", lambda e: retrieved(e, found.documents), width=36),
        sheets.Column("用途", lambda e: e.note, width=24),
        sheets.Column("来源", lambda e: e.client, width=16),
    ]
    today = dt.date.today().isoformat()
    return sheets.send(fmt, f"查阅登记-{today}", columns, found.rows, plain=f"access-log-{today}",
                       note=sheets.cut_note(len(found.rows), found.total))  # fmt: skip
