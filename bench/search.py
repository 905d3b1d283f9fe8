"""Index N synthetic documents, then time typical archivist queries (figures only).

.venv/bin/python bench/search.py [N]      # default 5000
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from archive.index import Index

CITIES = ["上海", "杭州", "苏州", "南京", "天津", "北京", "广州", "成都", "武汉", "西安"]
TRADES = ["机电设备", "精工机械", "重工", "数控科技", "电气", "模具", "汽车零部件", "五金"]
PRODUCTS = [("数控车床", "CK"), ("龙门铣床", "XK"), ("摇臂钻床", "Z"), ("平面磨床", "M"),
            ("加工中心", "VMC"), ("刀具套装", "T")]  # fmt: skip
REGIONS = ["华北", "东北", "华东", "华中", "华南", "西南", "西北"]
QUERIES = ["申远", "精工机械", "车床", "CK6150", "HT-2025", "仲裁", "数控 AND 杭州", "buyer:重工"]


def synthetic(n: int, rng: random.Random) -> dict:
    city, trade = rng.choice(CITIES), rng.choice(TRADES)
    buyer = f"{city}{rng.choice(['申远', '临平', '东方', '华星', '宏达'])}{trade}有限公司"
    product, prefix = rng.choice(PRODUCTS)
    spec = f"{prefix}{rng.randint(1000, 9999)}"
    year = rng.choice([2022, 2023, 2024, 2025, 2026])
    number = f"HT-{year}{rng.randint(1, 12):02d}-{n:05d}"
    content = (f"销售合同 合同编号：{number} 需方：{buyer} 产品：{product} {spec} "
               f"质量标准：符合国家标准 争议解决：提交{city}仲裁委员会仲裁。" * 8)  # fmt: skip
    return {
        "key": number, "number": number, "contract_no": number, "kind": "sales_contract",
        "title": f"销售合同 {number}", "archival_code": "", "region": rng.choice(REGIONS),
        "year": year, "status": "effective", "payment_state": "paid",
        "signed_on": dt.datetime(year, 6, 1), "amount": rng.randint(10_000, 10_000_000) * 100,
        "buyer": buyer, "seller": "上海申远机电设备有限公司", "product": f"{product} {spec}",
        "content": content, "words": content, "fingerprint": "",
    }  # fmt: skip


def main(count: int = 5000) -> None:
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        index = Index(Path(tmp) / "index", catalogue=None, storage=None).open()  # type: ignore[arg-type]
        start = time.perf_counter()
        writer = index.ix.writer(limitmb=256)
        for n in range(count):
            writer.add_document(**synthetic(n, rng))
        writer.commit()
        took = time.perf_counter() - start
        print(f"indexed {count} documents (~{len(synthetic(0, rng)['content'])} chars each) "
              f"in {took:.1f} s = {count / took:.0f} docs/s")  # fmt: skip
        for query in QUERIES:
            times = []
            for _ in range(10):
                t = time.perf_counter()
                result = index.search(query, per_page=20)
                times.append(time.perf_counter() - t)
            median, worst = statistics.median(times) * 1000, max(times) * 1000
            print(f"query {query!r:<16} hits {result.total:>5}   "
                  f"median {median:6.1f} ms   max {worst:6.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
