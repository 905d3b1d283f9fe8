"""The template author's reference: every variable, loop and condition each kind of template
may use, with what it holds and an example — made from the context schemas and the sample
contexts ``hetong templates check`` renders, so it cannot drift from what is really passed.

``markdown()`` is ``docs/template-variables.md`` (kept in step by a test); the page
模板变量参考 shows ``kinds()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, fields

from templates.check import SPECS

TITLES = {
    "sales_contract": "销售合同", "amendment": "补充协议", "delivery_notice": "发货通知单",
    "destruction": "销毁清单与销毁记录", "volume_contents": "卷内目录",
    "volume_cover": "案卷封面", "volume_notes": "卷内备考表",
}  # fmt: skip

# What a name holds, in the words of the people who fill the forms. A name means the same in
# every kind unless (kind, name) says otherwise.
MEANINGS = {
    "account": "银行账号", "address": "地址", "after": "变更后", "amount": "金额（元，千分位）",
    "approval": "审批栏文字", "bank": "开户银行", "before": "变更前", "buyer": "需方（买方）",
    "breach_liability": "违约责任条款", "carrier": "承运人", "certificate": "销毁记录编号",
    "chain": "审计链头（哈希链的最新一条，印在页脚作凭证）", "changes": "变更事项",
    "code": "档号", "codes": "档号范围", "confidential": "是否机密（密级“机密”时为真）",
    "contract_no": "合同编号", "contract_signed_on": "原合同签订日期", "copies": "联次",
    "count": "件数", "date": "日期", "delivery": "交货（期限、地点、方式）",
    "delivery_date": "发货日期", "destroyed": "已销毁的合同", "destroyed_note": "销毁说明",
    "dispute_resolution": "争议解决条款", "documents": "文件（名称及 SHA-256 前 12 位）",
    "effective_on": "生效日期", "entries": "卷内文件条目", "extra_clauses": "其他约定（每条一段）",
    "fonds": "全宗名称", "intro": "说明段落", "items": "产品明细", "label": "名称",
    "liability_exemptions": "免责条款", "lines": "发货明细", "name": "名称",
    "no": "序号", "note": "备注", "number": "编号", "numbers": "合同编号与档号",
    "ordinal": "序号", "page": "页号", "pages": "页数", "parties": "供方与需方",
    "payment": "付款（方式、期限、账户）", "person": "经办人", "phone": "电话",
    "prepared_by": "制单人", "quality_standard": "质量标准条款", "quantity": "数量",
    "reason": "原因", "receipt": "签收栏", "region": "区域", "remarks": "备注",
    "representative": "法定代表人或委托代理人", "retention": "保管期限", "rows": "表格各行",
    "salesperson": "业务员", "seller": "供方（卖方）", "ship_to": "收货地点",
    "signed_at": "签订地点", "signed_on": "签订日期（中文日期）", "spec": "规格型号",
    "summary": "内容摘要", "tax_id": "纳税人识别号", "title": "标题", "total": "合计金额（元）",
    "total_after": "变更后合同总额", "total_before": "变更前合同总额",
    "total_upper": "合计金额大写（人民币…元整）", "tracking_no": "运单号",
    "transport": "运输（方式、费用承担）", "unit": "单位", "unit_price": "单价（元）",
    "when": "签订日期与金额", "year": "年度",
    # the keys of transport, delivery and payment
    "method": "方式", "freight_payer": "运费承担方", "deadline": "期限", "place": "地点",
    "acceptance": "验收", "terms": "条件", "due_on": "到期日",
}  # fmt: skip

# Where a name means something else in one kind of template.
OVERRIDES = {("amendment", "label"): "变更事项", ("delivery_notice", "label"): "联次名称",
             ("delivery_notice", "ordinal"): "第几联"}  # fmt: skip

# Jinja filters the sandbox allows that a template author is likely to need.
FILTERS = [
    ("default", "{{ buyer.phone|default('—') }}", "值为空时显示替代文字"),
    ("join", "{{ codes|join('、') }}", "把一组值连成一句"),
    ("length", "{{ items|length }}", "一组值的个数"),
    ("upper", "{{ contract_no|upper }}", "英文字母转大写"),
    ("replace", "{{ note|replace('\\n', '；') }}", "替换文字"),
    ("truncate", "{{ note|truncate(20) }}", "过长时截断并加省略号"),
]

# docxtpl's tags: a loop or condition that spans a paragraph, a table row or cell, or a run.
TAGS = [
    ("{%p for clause in extra_clauses %} … {%p endfor %}", "段落循环：每项一段（标签独占一段）"),
    ("{%tr for item in items %} … {%tr endfor %}", "表格行循环：每项一行（标签独占一行）"),
    ("{%tc for x in xs %} … {%tc endfor %}", "表格列循环"),
    ("{%p if confidential %} … {%p endif %}", "条件段落"),
    ("{%r if note %}{{ note }}{%r endif %}", "同一段内的条件文字"),
]


@dataclass
class Variable:
    usage: str  # what to type in Word
    meaning: str
    example: str
    loop: str | None = None  # the loop it must stand in, when it is an element's field


@dataclass
class Kind:
    name: str
    title: str
    variables: list[Variable] = field(default_factory=list)


def kinds() -> list[Kind]:
    """Every kind of template with its variables, in the order of the schemas."""
    found = []
    for name, spec in SPECS.items():
        kind = Kind(name, TITLES.get(name, name))
        _walk(kind, name, spec.context_schema(), spec.sample_context(), prefix="")
        found.append(kind)
    return found


def _walk(kind: Kind, name: str, schema: Schema, sample: Any, *, prefix: str,
          loop: str | None = None, within: str = "") -> None:  # fmt: skip
    for key, declared in schema.fields.items():
        path = f"{prefix}{key}"
        value = _get(sample, key)
        meaning = within + OVERRIDES.get((name, key), MEANINGS.get(key, key))
        if isinstance(declared, fields.List):
            element = _singular(key)
            header = f"{{% for {element} in {path} %}}"
            kind.variables.append(Variable(header, f"{meaning}（循环，共 {_count(value)} 项）",
                                           "", loop))  # fmt: skip
            first = value[0] if isinstance(value, list) and value else None
            if isinstance(declared.inner, fields.Nested):
                _walk(kind, name, declared.inner.schema, first, prefix=f"{element}.",
                      loop=header)  # fmt: skip
            else:
                kind.variables.append(Variable(f"{{{{ {element} }}}}", f"{meaning}中的一项",
                                               _show(first), header))  # fmt: skip
        elif isinstance(declared, fields.Nested):
            _walk(kind, name, declared.schema, value, prefix=f"{path}.", loop=loop,
                  within=f"{meaning}·")  # fmt: skip
        elif isinstance(declared, fields.Dict) and isinstance(value, dict):
            for inner, example in value.items():
                kind.variables.append(Variable(f"{{{{ {path}.{inner} }}}}",
                                               f"{meaning}·{MEANINGS.get(inner, inner)}",
                                               _show(example), loop))  # fmt: skip
        elif isinstance(declared, fields.Boolean):
            kind.variables.append(Variable(f"{{%p if {path} %}}", meaning, _show(value), loop))
        else:
            kind.variables.append(Variable(f"{{{{ {path} }}}}", meaning, _show(value), loop))


def _get(sample: Any, key: str) -> Any:
    if isinstance(sample, dict):
        return sample.get(key)
    return getattr(sample, key, None)


def _singular(key: str) -> str:
    """The loop variable of a list: items → item, extra_clauses → clause."""
    return {"items": "item", "lines": "line", "rows": "row", "changes": "change",
            "entries": "entry", "extra_clauses": "clause", "documents": "doc",
            "destroyed": "gone", "codes": "code", "copies": "copy",
            "remarks": "remark"}.get(key, "x")  # fmt: skip


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list) else 0


def _show(value: Any, width: int = 40) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    text = str(value).replace("\n", "⏎")
    return text if len(text) <= width else text[: width - 1] + "…"


def markdown() -> str:
    """The reference as a document (``docs/template-variables.md``)."""
    out = ["# 模板变量参考", "",
           "Word 模板中可用的变量、循环与条件。由程序的上下文结构和 `hetong templates check` 的"
           "示例数据生成（`hetong templates reference`），与实际传入模板的内容一致。", "",
           "变量照原样显示用户填写的文字（已转义，不会成为模板代码）。金额已格式化为两位小数，"
           "日期为中文日期。未列出的变量在渲染时报错，不会留空。", ""]  # fmt: skip
    for kind in kinds():
        out += [f"## {kind.title}（`{kind.name}.docx`）", "",
                "| 在 Word 中输入 | 含义 | 示例 |", "|---|---|---|"]  # fmt: skip
        for v in kind.variables:
            usage = f"`{v.usage}`" + (f"（在 `{v.loop}` 之内）" if v.loop else "")
            out.append(f"| {usage} | {v.meaning} | {_cell(v.example)} |")
        out.append("")
    out += ["## 标签（docxtpl）", "", "| 写法 | 用途 |", "|---|---|"]
    out += [f"| `{tag}` | {use} |" for tag, use in TAGS]
    out += ["", "## 过滤器", "", "| 过滤器 | 示例 | 用途 |", "|---|---|---|"]
    out += [f"| `{name}` | `{example}` | {use} |" for name, example, use in FILTERS]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|") if text else "—"
