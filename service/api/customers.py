"""``/api/v1/customers``: the customer register (客户档案) — list and search, enter, correct,
and one customer with its contracts and what it owes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from archive import customers
from archive.models import Customer
from schemas.customers import (
    CustomerDossierSchema,
    CustomerListArgs,
    CustomerSchema,
    CustomerUpdateSchema,
    CustomerViewSchema,
)
from schemas.fields import MAX_ID
from schemas.views import page_of
from service.api.common import SECURITY, Blueprint, PageRequest, customer_url, summary_view
from service.auth import actor, authenticate
from service.ext import get_archive

blp = Blueprint("customers", __name__, description="客户档案（客户信息、等级与信用额度）")
blp.before_request(authenticate)

ID = f"int(max={MAX_ID})"
LOCATION = {"Location": {"description": "新建资源的地址", "schema": {"type": "string"}}}
CustomerPageSchema = page_of(CustomerViewSchema, "CustomerPage")


def customer_view(customer: Customer, credit: dict[str, Any]) -> dict[str, Any]:
    return {**customers.record(customer), "credit": credit, "url": customer_url(customer.id)}


def _dossier(customer: Customer) -> dict[str, Any]:
    found = customers.contracts_of(get_archive(), customer, actor())
    body = customer_view(customer, customers.credit(found, dt.date.today()))
    return {**body, "contracts": [summary_view(c) for c in found]}


@blp.get("")
@blp.doc(summary="客户列表（按名称；可按名称片段、税号、等级查找）", security=SECURITY)
@blp.arguments(CustomerListArgs, location="query")
@blp.response(200, CustomerPageSchema)
@blp.paginate(per_page=50, max_per_page=200)
@blp.errors(422)
def index(args: dict[str, Any], page: PageRequest):
    page.item_count, rows = customers.listing(get_archive(), actor(), page=page.page,
                                              per_page=page.per_page, **args)  # fmt: skip
    owed = customers.balances(get_archive(), rows, actor(), dt.date.today())
    return [customer_view(c, owed[c.id]) for c in rows]


@blp.post("")
@blp.doc(summary="建立客户档案（业务员、销售经理；等级与信用额度由销售经理填写）",
         security=SECURITY)  # fmt: skip
@blp.arguments(CustomerSchema)
@blp.response(201, CustomerDossierSchema, description="已建立", headers=LOCATION)
@blp.errors(403, 409, 422)
def create(data: dict[str, Any]):
    customer = customers.create(get_archive(), data, actor())
    return _dossier(customer), {"Location": customer_url(customer.id)}


@blp.get(f"/<{ID}:customer_id>")
@blp.doc(summary="查看客户档案：信息、信用、合同与欠款（逾期金额与天数）", security=SECURITY)
@blp.response(200, CustomerDossierSchema)
@blp.errors(404)
def show(customer_id: int):
    return _dossier(customers.get(get_archive(), customer_id, actor()))


@blp.patch(f"/<{ID}:customer_id>")
@blp.doc(summary="修改客户档案（只改所给的字段；等级、信用额度与信用记录由销售经理修改；"
                 "记入审计）", security=SECURITY)  # fmt: skip
@blp.arguments(CustomerUpdateSchema)
@blp.response(200, CustomerDossierSchema, description="已修改")
@blp.errors(403, 404, 409, 422)
def update(data: dict[str, Any], customer_id: int):
    return _dossier(customers.update(get_archive(), customer_id, data, actor()))
