"""``hetong customers``: the customer register (客户档案) from the shell — find a customer,
see what it owes, enter one, and set its grade and credit limit."""

from __future__ import annotations

import datetime as dt
import json

import click

from archive import contracts, customers
from archive.errors import validated
from schemas.customers import GRADES, CustomerSchema, CustomerUpdateSchema
from service.cli.base import Context, domain_errors, pass_ctx, read_json


@click.group("customers")
def group() -> None:
    """客户档案：客户信息、等级、信用额度与欠款。"""


@group.command("list")
@click.option("--q", "q", help="客户名称中的片段，或完整税号。")
@click.option("--grade", type=click.Choice(GRADES), help="客户等级。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON。")
@pass_ctx
@domain_errors
def listing(obj: Context, q: str | None, grade: str | None, as_json: bool) -> None:
    """列出客户（按名称）：编号、名称、等级、信用额度、未收合计、逾期合计。"""
    _, rows = customers.listing(obj.archive, obj.actor(), q=q, grade=grade, per_page=10_000)
    owed = customers.balances(obj.archive, rows, obj.actor(), dt.date.today())
    if as_json:
        body = [{**customers.record(c), "credit": owed[c.id]} for c in rows]
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    for c in rows:
        limit = "未设额度" if c.credit_limit is None else f"额度 {c.credit_limit:.2f}"
        credit = owed[c.id]
        click.echo(f"{c.id}\t{c.name}\t{c.grade or '未评级'}\t{limit}\t"
                   f"未收 {credit['outstanding']}\t逾期 {credit['overdue_amount']}")  # fmt: skip


@group.command("show")
@click.argument("customer_id", type=click.IntRange(1, 2**63 - 1))
@pass_ctx
@domain_errors
def show(obj: Context, customer_id: int) -> None:
    """以 JSON 显示客户档案：信息、信用与欠款、合同。"""
    customer = customers.get(obj.archive, customer_id, obj.actor())
    found = customers.contracts_of(obj.archive, customer, obj.actor())
    body = {**customers.record(customer), "credit": customers.credit(found, dt.date.today()),
            "contracts": [contracts.summary(c) for c in found]}  # fmt: skip
    click.echo(json.dumps(body, ensure_ascii=False, indent=2))


@group.command("add")
@click.argument("file", type=click.File("rb"))
@pass_ctx
@domain_errors
def add(obj: Context, file) -> None:
    """从 JSON 文件建立客户档案；打印客户编号。"""
    data = validated(CustomerSchema(), read_json(file))
    click.echo(customers.create(obj.archive, data, obj.actor()).id)


@group.command("update")
@click.argument("customer_id", type=click.IntRange(1, 2**63 - 1))
@click.argument("file", type=click.File("rb"))
@pass_ctx
@domain_errors
def update(obj: Context, customer_id: int, file) -> None:
    """按 JSON 文件修改客户档案（只改所给的字段；等级与信用额度须销售经理：--as 经理）。"""
    data = validated(CustomerUpdateSchema(), read_json(file))
    customer = customers.update(obj.archive, customer_id, data, obj.actor())
    click.echo(f"{customer.id}\t{customer.name}\t{customer.grade or '未评级'}")
