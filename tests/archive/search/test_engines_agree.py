"""Every engine gives the same hits for the same queries over the same corpus."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from archive.search import ENGINES, Engine, Filters, get_engine
from bench.search import corpus
from tests import postgres

QUERIES = [
    "车床",
    "精工机械",
    "合同",
    "HT-2025",
    "FH-2026",
    "CK6150",
    "CK5",
    "申远",
    "仲裁",
    "数控 AND 杭州",
    "buyer:重工",
    "铣床 OR 钻床",
    "车床 NOT 杭州",
    "NOT 合同",
    '"上海仲裁委员会"',
    "床",
    "台",
    '"木箱包装"',
    "product:XK",
    "seller:南京",
    "contract_no:HT-2024",
    "year:2023",
    "region:华东 (车床 OR 磨床)",
    "0571",
    "gb/t 25659",
    "-仲裁 -法院",
    '"2 台"',
    "补充协议 T-",
]


@pytest.fixture(scope="module")
def engines(request, tmp_path_factory) -> Iterator[dict[str, Engine]]:
    """Every engine (PostgreSQL when installed), rebuilt from the same corpus."""
    entries = list(corpus(300, seed=7))
    opened = {}
    for name in ENGINES:
        url = ""
        if name == "postgresql":
            if not postgres.available():
                continue
            url = request.getfixturevalue("postgres_server").create()
        engine = get_engine(name, tmp_path_factory.mktemp(name) / "index", database_url=url)
        engine.open().rebuild([entries])
        opened[name] = engine
    yield opened
    for engine in opened.values():
        engine.close()


@pytest.mark.parametrize("query", QUERIES)
def test_the_same_hits_in_every_engine(engines, query):
    found = {name: e.search(query, per_page=300) for name, e in engines.items()}
    numbers = {name: {h["number"] for h in r.hits} for name, r in found.items()}
    for name in engines:
        assert found[name].total == found["tantivy"].total, name
        assert numbers[name] == numbers["tantivy"], name
        assert found[name].facets == found["tantivy"].facets, name


@pytest.mark.parametrize("query", QUERIES[:8])
def test_the_same_order_by_date_in_every_engine(engines, query):
    filters = Filters(signed_from=dt.date(2020, 1, 1), signed_to=dt.date(2025, 12, 31))
    pages = {
        name: [
            h["number"]
            for p in (1, 2)
            for h in e.search(query, filters=filters, sort="date", page=p, per_page=7).hits
        ]
        for name, e in engines.items()
    }
    for name in engines:
        assert pages[name] == pages["tantivy"], name


def test_the_corpus_makes_the_queries_meaningful(engines):
    totals = [engines["tantivy"].search(q, per_page=1).total for q in QUERIES]
    assert sum(1 for t in totals if 0 < t < 300) >= 20
