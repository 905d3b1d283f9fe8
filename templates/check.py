"""``hetong templates check``: does each template ask only for what it is given?

For every known template: the top-level variables it uses must be fields of its
context schema, every field should be used, a trial rendering of a sample with
strict undefined variables must succeed, and its East-Asian font must be installed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from marshmallow import Schema

from schemas import ContractSchema
from templates import (
    amendment,
    delivery_notice,
    destruction,
    pdf,
    sales_contract,
    volume_contents,
)
from templates.errors import RenderError
from templates.render import Renderer


@dataclass(frozen=True)
class TemplateSpec:
    context_schema: type[Schema]
    sample_context: Callable[[], dict[str, Any]]


def _sales_contract_sample() -> dict[str, Any]:
    data = ContractSchema().load(sales_contract.SAMPLE)
    return sales_contract.context("HT-000000-0000", data)


def _amendment_sample() -> dict[str, Any]:
    contract = _SampleContract()
    record = {"reason": "调整单价", "effective_on": "2026-12-05", "changes": [
        {"field": "unit_price", "item": 0, "label": "第1项（示例产品）单价", "before": "100.00",
         "after": "110.00", "reason": "原材料上涨"}]}  # fmt: skip
    return amendment.context("HT-000000-0000-BC01", contract, contract.terms, record,
                             Decimal("100.00"), Decimal("110.00"))  # fmt: skip


def _delivery_sample() -> dict[str, Any]:
    record = {"delivery_date": "2026-12-10", "ship_to": "需方仓库", "carrier": "示例物流",
              "tracking_no": "X1", "prepared_by": "示例", "lines": [
                  {"item": 0, "name": "示例产品", "spec": "X-1", "unit": "台", "quantity": "1",
                   "unit_price": "100.00", "amount": "100.00"}]}  # fmt: skip
    return delivery_notice.context("FH-000000-0000", _SampleContract(), record)


_SAMPLE_TOMBSTONE = {
    "contract_no": "HT-202003-0001",
    "archival_code": "HT·2020·华东·0001",
    "seller": "示例供方",
    "buyer": "示例需方",
    "region": "华东",
    "signed_on": "2020-03-15",
    "status": "completed",
    "total": "100.00",
    "paid": "100.00",
    "documents": [
        {"kind": "sales_contract", "number": "HT-202003-0001", "format": "pdf", "sha256": "0" * 64}
    ],
}


class _SampleVolumeEntry:
    archival_code = "HT·2026·华东·0001"
    contract_no = "HT-000000-0000"
    buyer_name = "示例需方有限公司"
    signed_on = "2026-11-20"
    total = Decimal("100.00")


class _SampleContract:
    """Just enough of a contract for a trial rendering."""

    contract_no = "HT-000000-0000"
    signed_on = "2026-11-20"
    region = "华东"
    buyer_name = "示例需方有限公司"
    terms = sales_contract.SAMPLE


SPECS: dict[str, TemplateSpec] = {
    sales_contract.TEMPLATE: TemplateSpec(
        sales_contract.SalesContractContext, _sales_contract_sample
    ),
    amendment.TEMPLATE: TemplateSpec(amendment.AmendmentContext, _amendment_sample),
    delivery_notice.TEMPLATE: TemplateSpec(delivery_notice.DeliveryNoticeContext, _delivery_sample),
    destruction.TEMPLATE: TemplateSpec(
        destruction.DestructionContext,
        lambda: {
            **destruction.certificate_context(
                [_SAMPLE_TOMBSTONE], "王经理", dt.datetime(2026, 1, 5, 9, 0), "到期销毁"
            ),
            "number": "XH-2026-0001",
        },
    ),
    volume_contents.TEMPLATE: TemplateSpec(
        volume_contents.VolumeContentsContext,
        lambda: volume_contents.context(
            volume_contents.SAMPLE_HEAD, volume_contents.sample_entries(3), "示例说明。"
        ),
    ),
    volume_contents.COVER: TemplateSpec(
        volume_contents.VolumeCoverContext,
        lambda: volume_contents.cover_context(volume_contents.SAMPLE_HEAD),
    ),
    volume_contents.NOTES: TemplateSpec(
        volume_contents.VolumeNotesContext,
        lambda: volume_contents.notes_context(
            volume_contents.SAMPLE_HEAD,
            [_SampleVolumeEntry()],
            {_SampleVolumeEntry.contract_no: "XH-2026-0001"},
            ["示例说明。"],
        ),
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
    problems += [f"上下文字段未被模板使用：{v}" for v in sorted(declared - used)]
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
