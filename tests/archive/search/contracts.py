"""Three realistic contracts as index entries, and small helpers for the stories."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace

from archive.search import Engine, Entry

FIRST = "HT-202611-0001"
SECOND = "HT-202503-0007"
THIRD = "HT-202503-0002"

CONTRACT_TEXT = """销售合同
合同编号：HT-202611-0001
供方（甲方）：上海申远机电设备有限公司
需方（乙方）：杭州临平精工机械有限公司
一、产品名称、型号、数量及价款：数控车床 CK6150，2 台，单价 185,000.00 元；
刀具套装 T-200，5 套，单价 2,501.00 元。合计人民币 382,505.00 元。
二、质量标准：符合 GB/T 25659.1-2010，出厂检验合格。
三、交货地点：杭州市临平区。联系电话：0571-86660000。
四、争议解决：协商不成的，争议提交上海仲裁委员会仲裁。"""

COPY = (
    "发货通知单 FH-202611-0003 合同编号：HT-202611-0001\n"
    "收货单位：杭州临平精工机械有限公司。"
    "品名：数控车床，型号：ＣＫ６１５０，本次发货 2 台，木箱包装。"
)
LABELS = ["第一联 存根", "第二联 仓库", "第三联 财务", "第四联 客户", "第五联 承运", "第六联 回执"]


def entry(**fields: object) -> Entry:
    """An entry of the first contract, with ``fields`` changed."""
    base = Entry(
        key=FIRST,
        contract_no=FIRST,
        number=FIRST,
        kind="sales_contract",
        title=f"销售合同 {FIRST}",
        archival_code="HT·2026·华东·0001-01",
        region="华东",
        year=2026,
        status="effective",
        payment_state="unpaid",
        owner="zhangmin",
        secrecy="normal",
        signed_on=dt.date(2026, 11, 3),
        amount_cents=38_250_500,
        buyer="杭州临平精工机械有限公司",
        seller="上海申远机电设备有限公司",
        products="数控车床 CK6150 刀具套装 T-200",
        text=CONTRACT_TEXT,
        fingerprint="a1",
    )
    return replace(base, **fields)


def first_contract() -> list[Entry]:
    """The contract, an amendment and a delivery notice in six copies."""
    return [
        entry(),
        entry(
            key=f"{FIRST}-BC01",
            number=f"{FIRST}-BC01",
            kind="amendment",
            title=f"补充协议 {FIRST}-BC01",
            archival_code="HT·2026·华东·0001-02",
            products="刀具套装 T-200",
            fingerprint="a2",
            text=f"补充协议 原合同编号：{FIRST}\n刀具套装 T-200 数量由 5 套变更为 8 套。",
        ),
        entry(
            key="FH-202611-0003",
            number="FH-202611-0003",
            kind="delivery_notice",
            title="发货通知单 FH-202611-0003",
            archival_code="HT·2026·华东·0001-03",
            products="数控车床 CK6150",
            fingerprint="a3",
            text="\n".join(f"{label}\n{COPY}" for label in LABELS),
        ),
    ]


def second_contract() -> list[Entry]:
    return [
        entry(
            key=SECOND,
            contract_no=SECOND,
            number=SECOND,
            title=f"销售合同 {SECOND}",
            archival_code="HT·2025·华北·0007-01",
            region="华北",
            year=2025,
            status="completed",
            payment_state="paid",
            signed_on=dt.date(2025, 3, 20),
            amount_cents=126_000_000,
            buyer="天津重工机械股份有限公司",
            seller="北方机床销售有限公司",
            products="龙门铣床 XK2120",
            fingerprint="b1",
            text="销售合同 合同编号：HT-202503-0007\n供方：北方机床销售有限公司，"
            "需方：天津重工机械股份有限公司。\n产品：龙门铣床 XK2120，1 台。\n"
            "争议解决：向天津市人民法院起诉。",
        ),
    ]


def third_contract() -> list[Entry]:
    return [
        entry(
            key=THIRD,
            contract_no=THIRD,
            number=THIRD,
            title=f"销售合同 {THIRD}",
            archival_code="HT·2025·华东·0002-01",
            region="华东",
            year=2025,
            status="effective",
            payment_state="partially_paid",
            signed_on=dt.date(2025, 3, 3),
            amount_cents=8_800_000,
            buyer="南京机床有限公司",
            seller="常州钻床制造有限公司",
            products="摇臂钻床 Z3050",
            fingerprint="c1",
            text="销售合同 合同编号：HT-202503-0002\n供方：常州钻床制造有限公司，"
            "需方：南京机床有限公司。\n产品：摇臂钻床 Z3050，4 台。\n"
            "争议解决：向南京市人民法院起诉。",
        ),
    ]


def fill(engine: Engine, entries: Iterable[Entry]) -> Engine:
    with engine.batch() as batch:
        for item in entries:
            batch.add(item)
    return engine


def contracts(result) -> set[str]:
    return {hit["contract_no"] for hit in result.hits}
