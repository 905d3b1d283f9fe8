"""``hetong clauses``: the standard clauses of each business type (标准条款库)."""

from __future__ import annotations

import json

import click

from archive import clauses, template_register
from service.cli.base import Context, domain_errors, pass_ctx


@click.group("clauses")
def group() -> None:
    """标准条款：各销售业务类型的标准条款。"""


@group.command("list")
@click.option("--business-type", help="只看该业务类型。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON。")
@pass_ctx
@domain_errors
def listing(obj: Context, business_type: str | None, as_json: bool) -> None:
    """列出标准条款：业务类型、条款、文字（公司默认的注明）。"""
    kinds = template_register.business_types(obj.archive.catalogue)
    if business_type:
        kinds = [k for k in kinds if k == business_type]
    library = clauses.library(obj.archive, kinds)
    if as_json:
        click.echo(json.dumps(library, ensure_ascii=False, indent=2))
        return
    for lib in library:
        for c in lib["clauses"]:
            mark = "（公司默认）" if c["default"] else ""
            click.echo(f"{lib['business_type']}\t{c['label']}\t{c['text']}{mark}")


@group.command("set")
@click.argument("business_type")
@click.argument("field", type=click.Choice(clauses.FIELDS))
@click.argument("text")
@pass_ctx
@domain_errors
def set_(obj: Context, business_type: str, field: str, text: str) -> None:
    """修改某业务类型的一条标准条款（销售经理：--as 经理用户名）。"""
    if business_type not in template_register.business_types(obj.archive.catalogue):
        raise click.BadParameter(f"没有“{business_type}”业务类型。", param_hint="BUSINESS_TYPE")
    clauses.set_clause(obj.archive, business_type, field, text, obj.actor())
    click.echo(f"{business_type}\t{clauses.label(field)}\t已修改")
