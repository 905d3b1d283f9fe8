"""Proofs (校样) for ``hetong templates proof``: every template filled with the hard cases, as
a PDF and its pages as images, for a person to look at before a release.

The hard cases are those a Chinese office prints and a template gets wrong first: a 25-line
and a 200-line contract, a unit price of 100,000,000.00 and one of 0.01, long product models
(``FX5-16EX/ES-A1``, ``CK6150×1500-Ⅱ型``), a long tracking number, clauses that end in their
own punctuation (``质保金5%。``), an amendment changing a price with a reason ending in 。, a
delivery notice in its six copies, a destruction list and certificate of 40 rows, and a
bound volume's cover, contents (60 documents) and 备考表 (destroyed contracts listed).
Data goes through the schemas a clerk's input goes through, and each context is built by
its template's own module; numbers are fixed (``HT-202611-0001``).
A template without a hard case here is proofed with the sample ``templates check`` renders.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from schemas import ContractSchema
from schemas.dossier import AmendmentSchema, DeliveryNoticeSchema
from schemas.labels import FIELD_NAMES
from schemas.money import quantize
from templates import (
    amendment,
    check,
    delivery_notice,
    destruction,
    pdf,
    sales_contract,
    volume_contents,
)
from templates.convert import Converter
from templates.render import Renderer

DPI = 80  # enough to read a page on screen, small enough to page through many
CONTRACT_NO = "HT-202611-0001"
PDFTOPPM = "pdftoppm"

# tests/data/contract.json, the example of the README, with clauses ending in punctuation.
BASE: dict[str, Any] = {
    "region": "华东",
    "signed_on": "2026-11-20",
    "signed_at": "上海市浦东新区",
    "seller": {"name": "上海申远机电设备有限公司", "address": "上海市浦东新区张江路88号",
               "representative": "王建国", "phone": "021-58880000",
               "bank": "中国工商银行上海张江支行", "account": "1001234509876543210",
               "tax_id": "91310115MA1H7XXXX1"},
    "buyer": {"name": "杭州临平精工机械有限公司", "address": "浙江省杭州市临平区东湖街道99号",
              "representative": "陈晓", "phone": "0571-86660000"},
    "items": [],
    "quality_standard": "符合国家标准GB/T 25659及出厂检验标准。",
    "transport": {"method": "公路运输", "freight_paid_by": "seller"},
    "delivery": {"deadline": "2026-12-31", "place": "需方杭州临平厂区",
                 "acceptance": "到货后7日内按装箱单及技术协议验收。"},
    "payment": {"method": "银行转账",
                "terms": "合同生效后预付30%，验收合格后30日内付至95%，余款为质保金5%。",
                "due_on": "2027-01-31"},
    "liability_exemptions": "因不可抗力导致不能履行的，受影响方不承担责任，但应及时通知对方。",
    "breach_liability": "逾期交货或逾期付款的，每日按未履行部分金额的万分之五支付违约金。",
    "dispute_resolution": "协商不成的，提交上海仲裁委员会仲裁。",
    "extra_clauses": ["本合同一式两份，双方各执一份。", "质保期为验收合格之日起十二个月；",
                      "未尽事宜，双方另行协商，"],
    "salesperson": "李明",
}  # fmt: skip

# The first lines hold the hard values; the rest repeat ordinary goods.
HARD_ITEMS = [
    {"name": "数控车床", "spec": "CK6150×1500-Ⅱ型", "unit": "台", "quantity": "2",
     "unit_price": "185000.00"},
    {"name": "PLC输入扩展模块", "spec": "FX5-16EX/ES-A1", "unit": "个", "quantity": "40",
     "unit_price": "1250.50"},
    {"name": "五轴联动加工中心生产线（含自动上下料及中央排屑系统）", "spec": "DMU65-5AX-FMS",
     "unit": "套", "quantity": "1", "unit_price": "100000000.00"},
    {"name": "内六角圆柱头螺钉", "spec": "M6×20 GB/T 70.1", "unit": "个", "quantity": "10000",
     "unit_price": "0.01"},
]  # fmt: skip
ORDINARY_ITEMS = [
    {"name": "车床刀具套装", "spec": "T-20", "unit": "套", "quantity": "10",
     "unit_price": "1250.50"},
    {"name": "液压卡盘", "spec": "KP-250A", "unit": "只", "quantity": "3", "unit_price": "8600.00"},
    {"name": "冷却液", "spec": "", "unit": "桶", "quantity": "12.5", "unit_price": "420.00"},
    {"name": "伺服电机", "spec": "HG-SR152J", "unit": "台", "quantity": "6",
     "unit_price": "5320.00"},
]  # fmt: skip

TRACKING_NO = "SF1402837465921"
ROWS = 40  # of the destruction list and certificate


@dataclass
class Case:
    template: str
    case: str  # file names: <template>-<case>.pdf, <template>-<case>-<page>.png
    context: Callable[[], dict[str, Any]]
    properties: Callable[[], dict[str, str]]


@dataclass
class Contract:
    """A filed contract as the dossier templates read it (the catalogue's row, in short)."""

    contract_no: str
    data: dict[str, Any]  # as ContractSchema loaded it
    terms: dict[str, Any] = field(init=False)  # as stored: ContractSchema's dump
    archival_code: str = "HT·2026·华东·0001"
    status: str = "effective"

    def __post_init__(self) -> None:
        self.terms = ContractSchema().dump(self.data)
        self.region = self.data["region"]
        self.signed_on = self.data["signed_on"]
        self.seller_name = self.data["seller"]["name"]
        self.buyer_name = self.data["buyer"]["name"]
        self.total = self.original_total = sales_contract.total_of(self.data["items"])
        self.paid = Decimal(0)
        self.due_on = self.data["payment"]["due_on"]


def contract_data(lines: int) -> dict[str, Any]:
    """The example contract grown to ``lines`` product lines, validated as a clerk's is."""
    raw = copy.deepcopy(BASE)
    goods = HARD_ITEMS + ORDINARY_ITEMS * (lines // len(ORDINARY_ITEMS) + 1)
    raw["items"] = copy.deepcopy(goods[:lines])
    return ContractSchema().load(raw)


def amendment_context() -> dict[str, Any]:
    """补充协议 BC01 of the 25-line contract: the 100,000,000.00 price lowered, the delivery
    deadline moved; the reasons end in 。."""
    contract = Contract(CONTRACT_NO, contract_data(25))
    data = AmendmentSchema().load({
        "reason": "需方批量采购，供方让价；需方厂房改造，交货期顺延。",
        "effective_on": "2026-12-01",
        "changes": [
            {"field": "unit_price", "line": 3, "after": "99999999.99", "reason": "批量采购优惠。"},
            {"field": "delivery.deadline", "after": "2027-01-15", "reason": "需方厂房改造延期。"},
        ],
    })  # fmt: skip
    terms = copy.deepcopy(contract.terms)
    changes = []
    for change in data["changes"]:
        name, line = change["field"], change.get("line")
        if line is not None:
            item = terms["items"][line - 1]
            before, item[name] = item[name], str(change["after"])
            label = f"第{line}项（{item['name']}）{FIELD_NAMES[name]}"
        else:
            section, key = name.split(".")
            before, terms[section][key] = terms[section][key], str(change["after"])
            label = FIELD_NAMES[name]
        changes.append({"field": name, "item": None if line is None else line - 1,
                        "label": label, "before": before, "after": str(change["after"]),
                        "reason": change.get("reason") or data["reason"]})  # fmt: skip
    record = {"reason": data["reason"], "effective_on": data["effective_on"].isoformat(),
              "changes": changes}  # fmt: skip
    after = sales_contract.total_of(
        [{**i, "quantity": Decimal(i["quantity"]), "unit_price": Decimal(i["unit_price"])}
         for i in terms["items"]]
    )  # fmt: skip
    return amendment.context(f"{CONTRACT_NO}-BC01", contract, terms, record, contract.total,
                             after)  # fmt: skip


def delivery_context() -> dict[str, Any]:
    """发货通知单 FH-202612-0001 of the 25-line contract: the hard lines and a few more,
    shipped under a long tracking number, in six copies."""
    contract = Contract(CONTRACT_NO, contract_data(25))
    data = DeliveryNoticeSchema().load({
        "delivery_date": "2026-12-10",
        "items": [{"line": n, "quantity": contract.terms["items"][n - 1]["quantity"]}
                  for n in range(1, 7)],
        "carrier": "顺丰速运有限公司杭州临平分公司", "tracking_no": TRACKING_NO,
        "prepared_by": "张敏",
        "ship_to": "浙江省杭州市临平区东湖街道99号 需方临平厂区仓库（收货人：陈晓 0571-86660000）",
    })  # fmt: skip
    lines = []
    for wanted in data["items"]:
        item = contract.terms["items"][wanted["line"] - 1]
        amount = sales_contract.line_amount(wanted["quantity"], Decimal(item["unit_price"]))
        lines.append({"item": wanted["line"] - 1, "name": item["name"], "spec": item["spec"],
                      "unit": item["unit"],
                      "quantity": sales_contract.quantity_text(wanted["quantity"]),
                      "unit_price": item["unit_price"], "amount": f"{amount:.2f}"})  # fmt: skip
    record = {"delivery_date": data["delivery_date"].isoformat(), "ship_to": data["ship_to"],
              "carrier": data["carrier"], "tracking_no": data["tracking_no"],
              "prepared_by": data["prepared_by"], "lines": lines}  # fmt: skip
    return delivery_notice.context("FH-202612-0001", contract, record)


def tombstones(n: int = ROWS) -> list[dict[str, Any]]:
    """The register entries of ``n`` contracts of 2019, 华东, each with its documents."""
    data = contract_data(4)
    large, small = sales_contract.total_of(data["items"]), quantize(Decimal("0.01"))
    long_buyer = "江苏省常州市武进区高新技术产业开发区精密数控装备制造有限责任公司"
    entries = []
    for i in range(1, n + 1):
        month = (i - 1) % 12 + 1
        number = f"HT-2019{month:02d}-{i:04d}"
        documents = [("sales_contract", number), ("amendment", f"{number}-BC01"),
                     ("delivery_notice", f"FH-2019{month:02d}-{i:04d}")][: 1 + i % 3]  # fmt: skip
        total = format(large if i % 2 else small, "f")
        entries.append({
            "contract_no": number, "archival_code": f"HT·2019·华东·{i:04d}",
            "seller": data["seller"]["name"],
            "buyer": data["buyer"]["name"] if i % 3 else long_buyer,
            "region": "华东", "signed_on": f"2019-{month:02d}-{(i - 1) % 28 + 1:02d}",
            "status": "completed", "total": total, "paid": total,
            "documents": [{"kind": kind, "number": no, "format": "pdf",
                           "sha256": hashlib.sha256(no.encode()).hexdigest()}
                          for kind, no in documents],
        })  # fmt: skip
    return entries


# An audit chain head as a large archive's would read (the longest the line gets).
SAMPLE_HEAD = "1234567:" + "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def destruction_list() -> dict[str, Any]:
    context = destruction.list_context(tombstones(), dt.date(2026, 1, 1),
                                       volume=destruction.volume_name(2019, "华东"),
                                       audit_head=SAMPLE_HEAD)  # fmt: skip
    return {**context, "number": "XQ-2026-0001"}


def destruction_certificate() -> dict[str, Any]:
    context = destruction.certificate_context(
        tombstones(), "王经理（wang）", dt.datetime(2026, 1, 5, 1, 30, tzinfo=dt.UTC),
        "到期销毁，经档案室核对无误。", audit_head=SAMPLE_HEAD,
    )  # fmt: skip
    return {**context, "number": "XH-2026-0001"}


def destroyed_contracts() -> list[Contract]:
    """Three contracts of the volume destroyed under retention, noted in its 备考表."""
    destroyed = []
    for i in (7, 12, 29):
        c = Contract(f"HT-2026{i % 12 + 1:02d}-{i:04d}", contract_data(2),
                     archival_code=f"HT·2026·华东·{i:04d}")  # fmt: skip
        c.buyer_name = "江苏省常州市武进区高新技术产业开发区精密数控装备制造有限责任公司"
        destroyed.append(c)
    return destroyed


VOLUME = volume_contents.SAMPLE_HEAD  # 2026 年度华东区域销售合同, 30 contracts


def _volume_properties(part: str) -> Callable[[], dict[str, str]]:
    return lambda: volume_contents.properties(VOLUME["title"], part, VOLUME["year"],
                                              VOLUME["region"])  # fmt: skip


def _dossier_properties(module) -> Callable[[], dict[str, str]]:
    number = {amendment: f"{CONTRACT_NO}-BC01", delivery_notice: "FH-202612-0001"}[module]
    return lambda: module.properties(number, Contract(CONTRACT_NO, contract_data(1)))


def cases() -> list[Case]:
    """The hard cases, by template."""
    return [
        Case(sales_contract.TEMPLATE, "25-lines",
             lambda: sales_contract.context(CONTRACT_NO, contract_data(25)),
             lambda: sales_contract.properties(CONTRACT_NO, contract_data(1))),
        Case(sales_contract.TEMPLATE, "200-lines",
             lambda: sales_contract.context(CONTRACT_NO, contract_data(200)),
             lambda: sales_contract.properties(CONTRACT_NO, contract_data(1))),
        Case(amendment.TEMPLATE, "price-change", amendment_context,
             _dossier_properties(amendment)),
        Case(delivery_notice.TEMPLATE, "six-copies", delivery_context,
             _dossier_properties(delivery_notice)),
        Case(destruction.TEMPLATE, "list", destruction_list,
             lambda: destruction.properties("XQ-2026-0001", "销售合同销毁清单")),
        Case(destruction.TEMPLATE, "certificate", destruction_certificate,
             lambda: destruction.properties("XH-2026-0001", "销售合同销毁记录")),
        Case(volume_contents.COVER, "volume", lambda: volume_contents.cover_context(VOLUME),
             _volume_properties("案卷封面")),
        Case(volume_contents.TEMPLATE, "volume",
             lambda: volume_contents.context(VOLUME, volume_contents.sample_entries(60),
                                             "第 7、12、29 件已按保存期限销毁，见备考表。"),
             _volume_properties("卷内目录")),
        Case(volume_contents.NOTES, "volume",
             lambda: volume_contents.notes_context(
                 VOLUME, destroyed_contracts(),
                 {"HT-202608-0007": "XH-2026-0001", "HT-202601-0012": "XH-2026-0001"},
                 ["第 5 件补充协议的原件在需方，本卷收其扫描件。", "立卷时核对无误。"]),
             _volume_properties("备考表")),
    ]  # fmt: skip


# The hard cases as people name them (an upload's refusal says which one failed).
CASE_NAMES = {"25-lines": "25 行的合同", "200-lines": "200 行的合同",
              "price-change": "改价的补充协议", "six-copies": "六联发货通知单",
              "list": "销毁清单", "certificate": "销毁记录", "volume": "案卷"}  # fmt: skip


def trial_contexts(kind: str) -> list[tuple[str, dict[str, Any]]]:
    """What an upload's trial fills a new version of ``kind`` with, each named: the check's
    sample, the hard cases, and each of them with the other 密级 — so a condition on the
    number of lines or on 机密 is reached before the version is used. The first hard case
    (the sample when there is none) is the one converted to PDF."""
    found = [(CASE_NAMES.get(c.case, c.case), c.context()) for c in cases() if c.template == kind]
    found.append(("示例数据", check.SPECS[kind].sample_context()))
    flipped = [(f"{name}（{'普通' if context['confidential'] else '机密'}）",
                {**context, "confidential": not context["confidential"]})
               for name, context in found if "confidential" in context]  # fmt: skip
    return found + flipped


def all_cases(renderer: Renderer) -> list[Case]:
    """The hard cases, and the check's sample for a template that has none here."""
    found = cases()
    covered = {c.template for c in found}
    for name in renderer.names():
        spec = check.SPECS.get(name)
        if name not in covered and spec is not None:
            found.append(Case(name, "sample", spec.sample_context,
                              lambda name=name: {"title": name}))  # fmt: skip
    return found


def unproofed(renderer: Renderer) -> list[str]:
    """Templates in force that no case fills (neither a hard case nor a check sample)."""
    covered = {c.template for c in all_cases(renderer)}
    return [name for name in renderer.names() if name not in covered]


def pdftoppm_missing() -> bool:
    return shutil.which(PDFTOPPM) is None


def write(renderer: Renderer, converter: Converter, out: Path, *,
          dpi: int = DPI) -> Iterator[Path]:  # fmt: skip
    """Render, convert and page every case into ``out``; yield each file as it is written."""
    out.mkdir(parents=True, exist_ok=True)
    for case in all_cases(renderer):
        for families in renderer.fonts(case.template).values():
            for family in families:
                pdf.require_font_installed(family)
        word = renderer.render(case.template, case.context(), properties=case.properties())
        stem = f"{case.template}-{case.case}"
        target = out / f"{stem}.pdf"
        target.write_bytes(converter.to_pdf(word.data))
        yield target
        yield from _pages(target, out / stem, dpi)


def _pages(source: Path, stem: Path, dpi: int) -> list[Path]:
    """``<stem>-1.png``, ``<stem>-2.png``…: pdftoppm pads page numbers by the page count."""
    for old in stem.parent.glob(f"{stem.name}-*.png"):  # an earlier proof's pages
        if old.stem.removeprefix(f"{stem.name}-").isdigit():
            old.unlink()
    with tempfile.TemporaryDirectory(dir=stem.parent) as work:
        subprocess.run([PDFTOPPM, "-png", "-r", str(dpi), str(source), f"{work}/p"],
                       check=True, capture_output=True, timeout=300)  # fmt: skip
        pages = []
        for image in sorted(Path(work).glob("p-*.png"), key=lambda p: int(p.stem[2:])):
            page = stem.parent / f"{stem.name}-{int(image.stem[2:])}.png"
            image.replace(page)
            pages.append(page)
    return pages


def page_images(data: bytes, *, dpi: int = 60, pages: int = 6) -> list[bytes]:
    """The first ``pages`` pages of a PDF as PNG images (for a preview side by side)."""
    with tempfile.TemporaryDirectory(prefix="hetong-pages-") as work:
        source = Path(work) / "in.pdf"
        source.write_bytes(data)
        subprocess.run([PDFTOPPM, "-png", "-r", str(dpi), "-l", str(pages), str(source),
                        f"{work}/p"], check=True, capture_output=True, timeout=60)  # fmt: skip
        found = sorted(Path(work).glob("p-*.png"), key=lambda p: int(p.stem[2:]))
        return [image.read_bytes() for image in found]
