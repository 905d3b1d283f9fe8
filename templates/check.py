"""``hetong templates check``: does each template ask only for what it is given?

For every known template: the top-level variables it uses must be fields of its
context schema, every field should be used, a trial rendering of a sample with
strict undefined variables must succeed, and its East-Asian font must be installed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema

from schemas import ContractSchema
from templates import pdf, sales_contract
from templates.errors import RenderError
from templates.render import Renderer


@dataclass(frozen=True)
class TemplateSpec:
    context_schema: type[Schema]
    sample_context: Callable[[], dict[str, Any]]


def _sales_contract_sample() -> dict[str, Any]:
    data = ContractSchema().load(sales_contract.SAMPLE)
    return sales_contract.context("HT-000000-0000", data)


SPECS: dict[str, TemplateSpec] = {
    sales_contract.TEMPLATE: TemplateSpec(
        sales_contract.SalesContractContext, _sales_contract_sample
    ),
}


def check(renderer: Renderer, name: str) -> list[str]:
    spec = SPECS.get(name)
    if spec is None:
        return [f"未知模板（没有对应的上下文结构）：{name}"]
    problems = []
    declared = set(spec.context_schema().fields)
    used = renderer.variables(name)
    problems += [f"模板使用了未声明的变量：{v}" for v in sorted(used - declared)]
    problems += [f"上下文字段未被模板使用：{v}" for v in sorted(declared - used - {"region"})]
    try:
        renderer.render(name, spec.sample_context(), properties={"title": name})
    except RenderError as exc:
        problems.append(f"试渲染失败：{exc}")
    fonts = renderer.fonts(name)
    if not fonts.get("eastAsia"):
        problems.append("模板未设置中文（East Asian）字体")
    named = set().union(*fonts.values()) if fonts else set()
    problems += [f"字体未安装（将被替换）：{f}" for f in sorted(named) if not pdf.font_installed(f)]
    return problems


def check_all(renderer: Renderer) -> dict[str, list[str]]:
    names = sorted(set(renderer.names()) | set(SPECS))
    return {name: check(renderer, name) for name in names}
