"""What every API blueprint shares: the blueprint class (arguments, pages, documented
errors), and the views that turn domain objects into response bodies with their links."""

from __future__ import annotations

import datetime as dt
import json
from copy import deepcopy
from dataclasses import dataclass
from functools import wraps
from typing import Any

import flask_smorest
from flask import request, url_for
from flask_smorest.utils import unpack_tuple_response
from marshmallow import EXCLUDE, Schema, missing, post_load
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.datastructures import MultiDict

from archive import clauses, contracts, customers, loans, template_register
from archive.models import Amendment, Contract, Delivery, Document, Payment, iso
from archive.receivables import payment_state
from schemas.fields import positive_int
from schemas.queries import WaitArgs
from schemas.views import ApiErrorSchema, GoneSchema
from service.ext import get_archive

SECURITY = [{"bearer": []}]
WAIT_SECONDS = 10.0
TITLES = {"sales_contract": "销售合同", "amendment": "补充协议", "delivery_notice": "发货通知单",
          "signed_scan": "签署扫描件"}  # fmt: skip


class Parser(FlaskParser):
    """webargs' Flask parser: malformed JSON answered in Chinese, and a multipart location
    that reads form fields and files together (an upload and its note)."""

    __location_map__ = {**FlaskParser.__location_map__, "form_and_files": "load_form_and_files"}

    def load_form_and_files(self, req, schema):
        merged = MultiDict(req.form)
        merged.update(req.files)
        return self._makeproxy(merged, schema)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        abort(400, messages={"json": {"_schema": ["请求体不是有效的 JSON。"]}},
              message="请求体不是有效的 JSON。")  # fmt: skip

    def _raw_load_json(self, req):
        # Bounded before parsing: the size, then the nesting (json.loads recurses, and 2,000
        # nested brackets would end in RecursionError, not in a clear answer).
        if not is_json_request(req):
            return missing
        data = req.get_data(cache=True)
        if len(data) > MAX_JSON_BYTES:
            abort(413, message=f"JSON 请求体过大：最多 {MAX_JSON_BYTES // 1024} KB。")
        if json_depth(data) > MAX_JSON_DEPTH:
            abort(400, messages={"json": {"_schema": [DEEP]}}, message=DEEP)
        return super()._raw_load_json(req)


# A contract is a few KB of JSON at most, nested four levels; these leave room and no more.
MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 16
DEEP = f"JSON 嵌套过深：最多 {MAX_JSON_DEPTH} 层。"


def json_depth(data: bytes) -> int:
    """How deeply ``[`` and ``{`` nest in JSON text, strings skipped (without parsing it)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


@dataclass
class PageRequest:
    """Which page of a list a client asked for; the view sets ``item_count``."""

    page: int
    per_page: int
    item_count: int | None = None

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def _page_args(default: int, maximum: int) -> type[Schema]:
    class PageArgs(Schema):
        class Meta:
            unknown = EXCLUDE

        page = positive_int(maximum=1_000_000, load_default=1,
                            metadata={"description": "页码，从 1 开始"})  # fmt: skip
        per_page = positive_int(maximum=maximum, load_default=default,
                                metadata={"description": f"每页条数（1–{maximum}）"})  # fmt: skip

        @post_load
        def _request(self, data, **kwargs) -> PageRequest:
            return PageRequest(**data)

    return PageArgs


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's blueprint with our parser and our page envelope.

    A paginated view receives ``page: PageRequest``, sets ``page.item_count`` and returns
    the page's items (or a dict with ``items`` and extra fields); the body becomes
    ``{"total", "page", "per_page", "items", …}`` and the ``X-Pagination`` header carries
    flask-smorest's page metadata.
    """

    ARGUMENTS_PARSER = Parser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "form_and_files": "multipart/form-data",
    }

    def paginate(self, *, per_page: int = 50, max_per_page: int = 200):  # type: ignore[override]
        args = _page_args(per_page, max_per_page)

        def decorator(func):
            @wraps(func)
            def wrapper(*a, **kw):
                page = self.ARGUMENTS_PARSER.parse(args, request, location="query")
                kw["page"] = page
                result, status, headers = unpack_tuple_response(func(*a, **kw))
                body = dict(result) if isinstance(result, dict) else {"items": result}
                total = page.item_count or 0
                body.update(total=total, page=page.page, per_page=page.per_page)
                headers = dict(headers or {})
                headers[self.PAGINATION_HEADER_NAME] = json.dumps(
                    self._make_pagination_metadata(page.page, page.per_page, total)
                )
                return body, status, headers

            wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
            wrapper._apidoc["pagination"] = {
                "parameters": {"in": "query", "schema": args},
                "response": {422: "UNPROCESSABLE_ENTITY"},
            }
            return wrapper

        return decorator

    def _document_pagination_metadata(self, spec, resp_doc):
        # A header's value is a string: the page metadata travels as JSON text.
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = {
            "description": "分页信息（JSON）：total、total_pages、first_page、last_page、page、"
                           "previous_page、next_page",
            "schema": {"type": "string"},
        }  # fmt: skip

    def searchable(self):
        """``?wait=true`` on a write: answer once its change can be found by search.

        Without it the answer comes at once and the change is searchable moments later
        (the indexer runs beside the service); ``X-Search-Indexed`` says which it is."""

        def decorator(func):
            @wraps(func)
            def wrapper(*args, **kwargs):
                *args, wanted = args
                result, status, headers = unpack_tuple_response(func(*args, **kwargs))
                number = kwargs.get("contract_no") or (result or {}).get("contract_no")
                indexer = get_archive().indexer
                if wanted["wait"] and number:
                    done = indexer.wait_for(number, timeout=WAIT_SECONDS)
                else:
                    done = not number or not indexer.pending(number)
                headers = {**dict(headers or {}), "X-Search-Indexed": "true" if done else "false"}
                return result, status, headers

            return self.arguments(WaitArgs, location="query")(wrapper)

        return decorator

    def errors(self, *codes: int):
        """Document the error answers an operation can give, with their body."""
        texts = {400: "请求无效", 401: "未登录或令牌无效", 403: "角色无权操作",
                 404: "资源不存在", 409: "当前状态不允许，或所需的存储文件缺失",
                 410: "已销毁（附登记信息）",
                 413: "请求体过大", 422: "数据校验失败，errors 按字段路径列出",
                 503: "文档生成暂不可用，请稍后重试"}  # fmt: skip

        def decorator(func):
            for code in sorted({401, *codes}):
                schema = GoneSchema if code == 410 else ApiErrorSchema
                func = self.alt_response(code, schema=schema, description=texts[code])(func)
            return func

        return decorator


# -- response bodies ---------------------------------------------------------------------------


def contract_url(contract_no: str) -> str:
    return url_for("contracts.show", contract_no=contract_no)


def download_url(contract: Contract, doc: Document) -> str:
    return url_for("contracts.download", contract_no=contract.contract_no, doc_id=doc.id)


def documents(contract: Contract, number: str | None = None) -> list[dict[str, Any]]:
    """Stored files grouped by document (one entry per document, a link per format), each
    with the template version it was made with."""
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    made_with = template_register.labels(
        get_archive().catalogue, {d.template_version_id for d in contract.documents}
    )
    for doc in contract.documents:
        if number is not None and doc.number != number:
            continue
        # A draft's earlier revisions share its number: each is a document of its own.
        entry = grouped.setdefault(
            (doc.kind, doc.number, doc.revision if doc.superseded_at else None),
            {"kind": doc.kind, "number": doc.number, "title": TITLES.get(doc.kind, doc.kind),
             "archival_code": doc.archival_code, "created_at": iso(doc.created_at),
             "template": _template(made_with.get(doc.template_version_id)),
             "revision": doc.revision, "superseded": doc.superseded_at is not None},
        )  # fmt: skip
        entry[doc.format] = {"url": download_url(contract, doc), "sha256": doc.sha256,
                             "size": doc.size, "filename": doc.filename,
                             "verified_at": iso(doc.verified_at)}  # fmt: skip
        if doc.removed:
            entry["removed"] = doc.removed
    return list(grouped.values())


def _template(label: template_register.Label | None) -> dict[str, Any] | None:
    if label is None:
        return None
    url = url_for("templates.show_version", template_id=label.template_id, number=label.number)
    return {**label.named(), "url": url}


def contract_view(contract: Contract, *, as_of: dt.date | None = None) -> dict[str, Any]:
    """The whole dossier, with a download link per document and format, in filing order,
    and its open loans (借出)."""
    return {**contracts.dossier(contract, as_of=as_of), "documents": documents(contract),
            "on_loan": loans.on_loan(get_archive(), contract, as_of),
            "customer": customer_of(contract),
            "clause_deviations": clauses.deviations(
                clauses.drafted_from(get_archive().catalogue, contract), contract.data),
            "url": contract_url(contract.contract_no)}  # fmt: skip


def customer_url(customer_id: int) -> str:
    return url_for("customers.show", customer_id=customer_id)


def customer_of(contract: Contract) -> dict[str, Any] | None:
    """The buyer's customer, and where this contract's buyer differs from the register."""
    customer = contract.customer
    if customer is None:
        return None
    return {"id": customer.id, "name": customer.name, "grade": customer.grade,
            "url": customer_url(customer.id),
            "differs": customers.differences(customer, contract.terms["buyer"])}  # fmt: skip


def summary_view(contract: Contract) -> dict[str, Any]:
    return {**contracts.summary(contract), "url": contract_url(contract.contract_no)}


def _links(contract: Contract, self_url: str, number: str | None = None) -> dict[str, str]:
    links = {"self": self_url, "contract": contract_url(contract.contract_no)}
    for doc in contract.current_documents:
        if number is not None and doc.number == number:
            links[doc.format] = download_url(contract, doc)
    return links


def _one_document(contract: Contract, number: str,
                  doc: Document | None = None) -> dict[str, Any] | None:  # fmt: skip
    """The document ``number`` as it stands, or the revision ``doc`` belongs to."""
    superseded = doc is not None and doc.superseded_at is not None
    for entry in documents(contract, number):
        if entry["superseded"] == superseded and (
            not superseded or entry["revision"] == doc.revision
        ):
            return entry
    return None


def amendment_view(contract: Contract, amendment: Amendment) -> dict[str, Any]:
    url = url_for("dossier.show_amendment", contract_no=contract.contract_no,
                  number=amendment.number)  # fmt: skip
    return {
        **contracts.amendment_record(amendment), "contract_no": contract.contract_no,
        "total": f"{contract.total:.2f}", "document": _one_document(contract, amendment.number),
        "links": _links(contract, url, amendment.number),
    }  # fmt: skip


def delivery_view(contract: Contract, delivery: Delivery) -> dict[str, Any]:
    url = url_for("dossier.show_delivery", contract_no=contract.contract_no,
                  number=delivery.number)  # fmt: skip
    return {
        **contracts.delivery_record(delivery), "contract_no": contract.contract_no,
        "document": _one_document(contract, delivery.number),
        "links": _links(contract, url, delivery.number),
    }  # fmt: skip


def payment_view(contract: Contract, payment: Payment) -> dict[str, Any]:
    url = url_for("dossier.show_payment", contract_no=contract.contract_no,
                  payment_id=payment.id)  # fmt: skip
    state = payment_state(contract, dt.date.today())
    return {
        **contracts.payment_record(payment), "contract_no": contract.contract_no,
        "paid": state["paid"], "outstanding": state["outstanding"],
        "payment_state": state["payment_state"], "links": _links(contract, url),
    }  # fmt: skip


def scan_view(contract: Contract, doc: Document) -> dict[str, Any]:
    url = url_for("dossier.show_document", contract_no=contract.contract_no, doc_id=doc.id)
    return {**_one_document(contract, doc.number, doc), "contract_no": contract.contract_no,
            "links": _links(contract, url, doc.number)}  # fmt: skip
