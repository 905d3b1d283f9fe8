"""Search benchmark: hetong's seam against a bare tantivy index of the same corpus.

.venv/bin/python bench/search.py [N] [--engine tantivy|whoosh|postgresql] [--database-url URL]
                                                                   # default N = 100000

Generates N synthetic documents (contracts, amendments, delivery notices, 2019–2026,
deterministic), indexes them through the seam in batches of 1,000, indexes the same token
strings into a bare tantivy index (the floor: no facets, no highlights, hand-built
term/phrase queries), then prints per query the hit count and p50/p95 over the runs, the
indexing rates, the index sizes against the stored text, and peak RSS. Figures only: the
targets (p95 ≤ 50 ms, ≥ 3,000 docs/s, index ≤ 2× text) are reported, not asserted.

The postgresql engine uses ``--database-url`` (its tables go to their own schema there), or
else a throw-away server started the way the tests start one (tests/postgres.py: Debian's
PostgreSQL 15, default settings but fsync off). Its size is that of its tables, indexes
and TOAST; the server's memory is not in this process's RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import tantivy
from tantivy import Occur, Query

from archive.search import ENGINES, Engine, Entry, Filters, get_engine, warm
from archive.search.analysis import analyse, analyse_short, clear_caches, join

CITIES = [
    "上海",
    "杭州",
    "苏州",
    "南京",
    "天津",
    "北京",
    "广州",
    "成都",
    "武汉",
    "西安",
    "宁波",
    "无锡",
    "青岛",
    "沈阳",
    "郑州",
    "长沙",
    "重庆",
    "西宁",
]
NAMES = [
    "申远",
    "临平",
    "东方",
    "华星",
    "宏达",
    "恒通",
    "金桥",
    "瑞丰",
    "永盛",
    "新科",
    "中联",
    "远大",
]
TRADES = ["机电设备", "精工机械", "重工", "数控科技", "电气", "模具", "汽车零部件", "五金", "机床"]
SELLERS = [
    "上海申远机电设备有限公司",
    "南京机床厂有限公司",
    "天津重工机械股份有限公司",
    "宁波精密机床有限公司",
    "沈阳数控装备有限公司",
]
PRODUCTS = [
    ("数控车床", "CK"),
    ("龙门铣床", "XK"),
    ("摇臂钻床", "Z"),
    ("平面磨床", "M"),
    ("加工中心", "VMC"),
    ("刀具套装", "T-"),
    ("线切割机床", "DK"),
    ("液压机", "YH"),
]
REGIONS = ["华北", "东北", "华东", "华中", "华南", "西南", "西北"]
STATUSES = ["effective", "effective", "completed", "completed", "terminated", "draft"]
PAYMENTS = ["unpaid", "partially_paid", "paid"]
AREA_CODES = ["021", "0571", "0512", "025", "022", "010", "020", "028", "027", "029", "0574"]
STANDARDS = ["GB/T 25659.1-2010", "JB/T 4368.3-2013", "GB/T 23570-2009", "GB 15760-2004"]
COPIES = ["第一联 存根", "第二联 仓库", "第三联 财务", "第四联 客户", "第五联 承运", "第六联 回执"]

QUERIES = [
    "车床",
    "精工机械",
    "合同",
    "HT-2025",
    "FH-2026",
    "CK6150",
    "CK61",
    "申远",
    "仲裁",
    "数控 AND 杭州",
    "buyer:重工",
]


# -- the corpus ---------------------------------------------------------------------------


def _contract_text(
    rng: random.Random,
    no: str,
    seller: str,
    buyer: str,
    city: str,
    items: list[tuple[str, str, int, int]],
    signed: dt.date,
) -> str:
    lines = [
        f"销售合同 合同编号：{no} 签订日期：{signed.isoformat()}",
        f"供方：{seller}，需方：{buyer}。经双方协商一致，订立本合同。",
    ]
    for name, model, qty, price in items:
        lines.append(f"产品：{name} {model}，数量 {qty} 台，单价 {price:,}.00 元。")
    lines += [
        f"质量标准：符合 {rng.choice(STANDARDS)}，出厂检验合格并附合格证。",
        f"交货：{signed + dt.timedelta(days=rng.randint(15, 90))} 前送达{city}需方指定地点，"
        "运费由供方承担。验收：到货后七日内验收，逾期视为合格。",
        f"付款方式：合同生效后七日内支付 {rng.choice([20, 30, 50])}% 预付款，验收合格后付清余款。",
        f"联系电话：{rng.choice(AREA_CODES)}-{rng.randint(10_000_000, 99_999_999)}，"
        f"开户行：中国工商银行{city}分行，账号 {rng.randint(10**18, 10**19 - 1)}。",
        "包装：采用防潮木箱包装，包装费用已含在合同价款内。供方负责安装调试并提供操作培训，"
        "保修期为验收合格之日起十二个月，保修期内非人为损坏免费维修。",
        "违约责任：任何一方违约，应按合同总价的千分之五每日向守约方支付违约金，"
        "违约金总额不超过合同总价的百分之十。",
        rng.choice(
            [
                f"争议解决：协商不成的，提交{city}仲裁委员会仲裁。",
                f"争议解决：协商不成的，向{city}人民法院起诉。",
            ]
        ),
        "本合同一式两份，双方各执一份，自双方签字盖章之日起生效。",
    ]
    return "\n".join(lines)


def _amendment_text(
    rng: random.Random, no: str, number: str, buyer: str, items: list[tuple[str, str, int, int]]
) -> str:
    name, model, qty, price = rng.choice(items)
    return "\n".join(
        [
            f"补充协议 编号：{number} 原合同编号：{no}",
            f"需方：{buyer}。双方就原合同第一条协商变更如下：",
            f"{name} {model} 数量由 {qty} 台变更为 {qty + rng.randint(1, 5)} 台，单价不变，"
            f"为 {price:,}.00 元；合同总价相应调整。交货期顺延 {rng.randint(5, 30)} 日。",
            "变更原因：需方生产计划调整，经双方友好协商，同意对上述条款作出变更。"
            "除本协议变更内容外，原合同其他条款继续有效。本协议与原合同具有同等法律效力，"
            "如有冲突，以本协议为准。本协议自双方签字盖章之日起生效。",
        ]
    )


def _delivery_text(
    rng: random.Random, no: str, number: str, buyer: str, items: list[tuple[str, str, int, int]]
) -> str:
    name, model, qty, _ = rng.choice(items)
    body = (
        f"发货通知单 {number} 合同编号：{no} 收货单位：{buyer}。"
        f"品名：{name}，型号：{model}，本次发货 {max(1, qty // 2)} 台，木箱包装。"
    )
    return "\n".join(f"{copy}\n{body}" for copy in COPIES)


def corpus(count: int, seed: int = 42) -> Iterator[Entry]:
    """``count`` entries: each contract, then its amendments and delivery notices."""
    rng = random.Random(seed)
    serial: dict[str, int] = {}
    made = 0
    while made < count:
        year = rng.randint(2019, 2026)
        signed = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
        month = f"{year}{signed.month:02d}"
        serial[month] = serial.get(month, 0) + 1
        no = f"HT-{month}-{serial[month]:04d}"
        city = rng.choice(CITIES)
        buyer = f"{city}{rng.choice(NAMES)}{rng.choice(TRADES)}有限公司"
        seller = rng.choice(SELLERS)
        region = rng.choice(REGIONS)
        items = []
        for name, prefix in rng.sample(PRODUCTS, rng.randint(1, 2)):
            # A few contracts sell the lathe people search for; other models are rare too.
            model = (
                "CK6150"
                if prefix == "CK" and rng.random() < 0.003
                else (f"{prefix}{rng.randint(1000, 9999)}")
            )
            items.append((name, model, rng.randint(1, 20), rng.randint(5_000, 900_000)))
        amount = sum(q * p for _, _, q, p in items) * 100
        common = dict(
            contract_no=no,
            region=region,
            year=year,
            status=rng.choice(STATUSES),
            payment_state=rng.choice(PAYMENTS),
            # From the serial, not the generator: the corpus stays the one measured before.
            owner=f"clerk{serial[month] % 40:02d}",
            secrecy="confidential" if serial[month] % 50 == 0 else "normal",
            signed_on=signed,
            amount_cents=amount,
            buyer=buyer,
            seller=seller,
        )
        code = f"HT·{year}·{region}·{serial[month]:04d}"
        products = " ".join(f"{name} {model}" for name, model, _, _ in items)
        text = _contract_text(rng, no, seller, buyer, city, items, signed)
        documents = [("sales_contract", no, "销售合同", products, text)]
        for n in range(1, rng.choice([0, 0, 0, 1, 1, 2]) + 1):
            number = f"{no}-BC{n:02d}"
            documents.append(
                (
                    "amendment",
                    number,
                    "补充协议",
                    products,
                    _amendment_text(rng, no, number, buyer, items),
                )
            )
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            serial["FH" + month] = serial.get("FH" + month, 0) + 1
            number = f"FH-{month}-{serial['FH' + month]:04d}"
            documents.append(
                (
                    "delivery_notice",
                    number,
                    "发货通知单",
                    products,
                    _delivery_text(rng, no, number, buyer, items),
                )
            )
        for i, (kind, number, title, products_, body) in enumerate(documents, start=1):
            if made == count:
                return
            yield Entry(
                key=number,
                number=number,
                kind=kind,
                title=f"{title} {number}",
                archival_code=f"{code}-{i:02d}",
                products=products_,
                text=body,
                fingerprint=f"{number}:1",
                **common,
            )
            made += 1


def batched(entries: list[Entry], size: int = 1000) -> Iterator[list[Entry]]:
    for start in range(0, len(entries), size):
        yield entries[start : start + size]


# -- the bare floor -----------------------------------------------------------------------


def bare_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("body", tokenizer_name="whitespace")
    builder.add_text_field("buyer", tokenizer_name="whitespace")
    builder.add_text_field("prefix", tokenizer_name="whitespace", index_option="basic")
    builder.add_bytes_field("text", stored=True)
    return builder.build()


def bare_index(path: Path, entries: list[Entry]) -> tantivy.Index:
    path.mkdir(parents=True)
    index = tantivy.Index(bare_schema(), path=str(path))
    writer = index.writer(heap_size=256_000_000, num_threads=1)
    for e in entries:
        names = [analyse_short(t) for t in (e.title, e.buyer, e.seller, e.products, e.number)]
        body = join([analyse(e.text), *names])
        writer.add_document(
            tantivy.Document(
                body=body.tokens,
                buyer=names[1].tokens,
                prefix=" ".join(body.prefixes),
                text=e.text.encode(),
            )
        )
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index


def bare_queries(schema: tantivy.Schema) -> dict[str, Query]:
    def term(field: str, value: str) -> Query:
        return Query.term_query(schema, field, value)

    return {
        "车床": term("body", "车床"),
        "精工机械": Query.phrase_query(schema, "body", ["精工", "工机", "机械"]),
        "合同": term("body", "合同"),
        "HT-2025": term("prefix", "ht-2025"),
        "FH-2026": term("prefix", "fh-2026"),
        "CK6150": term("prefix", "ck6150"),
        "CK61": term("prefix", "ck61"),
        "申远": term("body", "申远"),
        "仲裁": term("body", "仲裁"),
        "数控 AND 杭州": Query.boolean_query(
            [(Occur.Must, term("body", "数控")), (Occur.Must, term("body", "杭州"))]
        ),
        "buyer:重工": term("buyer", "重工"),
    }


# -- measuring ----------------------------------------------------------------------------


def pad(text: str, width: int) -> str:
    """Left-justify in terminal columns (a Han character takes two)."""
    columns = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - columns)


def timed(run: Callable[[], int], rounds: int) -> tuple[int, float, float]:
    """(hits, p50 ms, p95 ms) over ``rounds`` runs after one warm-up."""
    hits = run()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return hits, statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def disk_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def engine_size(engine: Engine, path: Path) -> int:
    """Bytes of the engine's index: its folder, or its tables with their indexes and TOAST."""
    url = getattr(engine, "url", None)
    if url is None:
        return disk_size(path)
    import psycopg

    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        (size,) = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind = 'r'",
            (engine.schema,),
        ).fetchone()
    return int(size)


def throwaway_database(stack: ExitStack) -> str:
    """A database on a PostgreSQL server started for this run (tests/postgres.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests import postgres

    if not postgres.available():
        raise SystemExit("PostgreSQL 15 is not installed: give --database-url")
    return stack.enter_context(postgres.running()).create()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def single_batches(engine, entries: list[Entry], rounds: int) -> tuple[float, float]:
    """(p50, p95 ms) of a batch that rewrites one contract's document: the service's case."""
    times = []
    for n, entry in enumerate(entries[:rounds]):
        start = time.perf_counter()
        with engine.batch() as batch:
            batch.add(replace(entry, fingerprint=f"{entry.key}:{n + 2}"))
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def query_table(engine, bare: tantivy.Index, rounds: int) -> float:
    """Print one line per query; return the worst p95 of the engine."""
    searcher = bare.searcher()
    queries = bare_queries(bare.schema)

    def run_bare(query: Query) -> int:
        found = searcher.search(query, limit=20, count=True)
        for _, address in found.hits:
            searcher.doc(address)
        return found.count

    print(
        f"{'query':<14}{'hits':>8}{'p50 ms':>9}{'p95 ms':>9}   "
        f"{'bare hits':>9}{'p50 ms':>9}{'p95 ms':>9}{'p95 ratio':>11}"
    )
    worst = 0.0
    for q in QUERIES:
        hits, p50, p95 = timed(lambda q=q: engine.search(q, per_page=20).total, rounds)
        bhits, b50, b95 = timed(lambda q=q: run_bare(queries[q]), rounds)
        worst = max(worst, p95)
        print(
            f"{pad(q, 14)}{hits:>8}{p50:>9.1f}{p95:>9.1f}   "
            f"{bhits:>9}{b50:>9.1f}{b95:>9.1f}{p95 / max(b95, 0.001):>10.1f}×"
        )
    return worst


BROWSING = [
    ("", None),
    ("", Filters(region="华东", year=2024)),
    ("合同", None),
    ("车床", Filters(status="effective")),
    ("HT-2025", None),
    ("CK6150", None),
]


def browse_table(engine, rounds: int) -> None:
    """Newest first (the list pages and filters): count + 5 facets + 20 hits."""
    print(f"{'query, sort=date':<34}{'hits':>8}{'p50 ms':>9}{'p95 ms':>9}")
    for q, filters in BROWSING:
        hits, p50, p95 = timed(
            lambda q=q, f=filters: engine.search(q, filters=f, sort="date", per_page=20).total,
            rounds,
        )
        label = q or "(everything)"
        if filters:
            label += " " + " ".join(f"{k}={v}" for k, v in filters.terms().items())
        print(f"{pad(label, 34)}{hits:>8}{p50:>9.1f}{p95:>9.1f}")


def _clause(**fields: list[str]) -> tuple[tuple[str, frozenset[str]], ...]:
    return tuple((name, frozenset(values)) for name, values in sorted(fields.items()))


def scope_table(engine, entries: list[Entry], rounds: int) -> None:
    """The same searches as different people ask them (archive.access: the index filters by
    owner, region, number and secrecy, facets and totals included)."""
    numbers = sorted({e.contract_no for e in entries})
    granted = numbers[:: max(1, len(numbers) // 5000)][:5000]
    people = [
        ("director (everything)", None),
        ("archivist (not secret)", (_clause(secrecy=["normal"]),)),
        ("manager 华东 (region)", (_clause(region=["华东"]),)),
        ("clerk07 (own)", (_clause(owner=["clerk07"]),)),
        ("clerk07 + 5,000 granted", (_clause(owner=["clerk07"]),
                                     _clause(contract_no=granted, secrecy=["normal"]))),
    ]  # fmt: skip
    print(f"{'who asks':<26}{'query':<10}{'hits':>8}{'p50 ms':>9}{'p95 ms':>9}")
    for who, visible in people:
        for q in ("", "车床", "HT-2025"):
            hits, p50, p95 = timed(
                lambda q=q, v=visible: engine.search(q, filters=Filters(visible=v),
                                                     per_page=20).total,
                rounds,
            )  # fmt: skip
            print(f"{pad(who, 26)}{pad(q or '(all)', 10)}{hits:>8}{p50:>9.1f}{p95:>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=100_000)
    parser.add_argument("--engine", default="tantivy", choices=ENGINES)
    parser.add_argument("--database-url", default="", help="postgresql: the database to use")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    warm()
    start = time.perf_counter()
    entries = list(corpus(args.count))
    text_bytes = sum(len(e.text.encode()) for e in entries)
    print(
        f"corpus: {len(entries)} documents, {text_bytes / len(entries):.0f} bytes of text "
        f"each on average, generated in {time.perf_counter() - start:.1f} s; "
        f"RSS {rss_mb():.0f} MB"
    )
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        url = args.database_url
        if args.engine == "postgresql" and not url:
            url = throwaway_database(stack)
        engine = get_engine(args.engine, Path(tmp) / "hetong", database_url=url).open()
        stack.callback(engine.close)
        clear_caches()  # both indexes start from cold analysis caches
        start = time.perf_counter()
        engine.rebuild(batched(entries))
        rate = len(entries) / (time.perf_counter() - start)
        size = engine_size(engine, Path(tmp) / "hetong")
        rss_after_engine = rss_mb()

        clear_caches()
        start = time.perf_counter()
        bare = bare_index(Path(tmp) / "bare", entries)
        bare_rate = len(entries) / (time.perf_counter() - start)
        bare_size = disk_size(Path(tmp) / "bare")

        print(
            f"\nqueries ({args.rounds} runs each; {args.engine}: count + 5 facets + 20 hits + "
            "highlights; bare: count + 20 stored docs)"
        )
        worst = query_table(engine, bare, args.rounds)
        print()
        browse_table(engine, args.rounds)
        print()
        scope_table(engine, entries, args.rounds)
        b50, b95 = single_batches(engine, entries, args.rounds)
        print(
            f"\nindexing: {args.engine} {rate:,.0f} docs/s (analysis + index, through the "
            f"seam, batches of 1,000); bare tantivy {bare_rate:,.0f} docs/s (same analysis, "
            f"fewer fields)\none-document batch (one commit): p50 {b50:.0f} ms, p95 {b95:.0f} ms"
        )
        print(
            f"on disk: {args.engine} {size / 2**20:.0f} MB = {size / text_bytes:.2f}× the "
            f"stored text ({text_bytes / 2**20:.0f} MB); bare {bare_size / 2**20:.0f} MB = "
            f"{bare_size / text_bytes:.2f}×"
        )
        print(
            f"peak RSS: {rss_after_engine:.0f} MB after indexing through the seam, "
            f"{rss_mb():.0f} MB at the end (both include the corpus held in memory)"
        )
        targets = {
            "query p95 ≤ 50 ms": worst <= 50,
            "indexing ≥ 3,000 docs/s": rate >= 3000,
            "index ≤ 2× text": size <= 2 * text_bytes,
        }
        print(
            "targets: " + "; ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets.items())
        )


if __name__ == "__main__":
    main()
