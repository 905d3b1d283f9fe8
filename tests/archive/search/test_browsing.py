"""Filters narrow the hits, facets count all of them, pages and date order are stable."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from archive.search import Filters
from bench.search import corpus
from tests.archive.search.contracts import FIRST, SECOND, THIRD, contracts, fill

FACETS = ("region", "year", "status", "kind", "payment_state")


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(region="华北"), {SECOND}),
        (Filters(region="华东", year=2025), {THIRD}),
        (Filters(status="effective"), {FIRST, THIRD}),
        (Filters(kind="delivery_notice"), {FIRST}),
        (Filters(payment_state="paid"), {SECOND}),
        (Filters(signed_from=dt.date(2025, 3, 3), signed_to=dt.date(2025, 3, 3)), {THIRD}),
        (Filters(signed_from=dt.date(2025, 3, 4)), {FIRST, SECOND}),
        (Filters(signed_to=dt.date(2025, 3, 20)), {SECOND, THIRD}),
        (Filters(amount_min=Decimal("88000.00"), amount_max=Decimal("88000")), {THIRD}),
        (Filters(amount_min=Decimal("88000.01")), {FIRST, SECOND}),
        (Filters(amount_max=Decimal("382505.00")), {FIRST, THIRD}),
        (Filters(region="华南"), set()),
    ],
)
def test_filters_narrow_the_hits(archive, filters, expected):
    assert contracts(archive.search("", filters=filters)) == expected


def test_filters_do_not_change_the_score(archive):
    plain = {h["number"]: h["score"] for h in archive.search("车床").hits}
    narrowed = archive.search("车床", filters=Filters(region="华东", year=2026)).hits
    assert narrowed and all(plain[h["number"]] == h["score"] for h in narrowed)


def test_facets_count_every_hit_not_only_the_page(archive):
    found = archive.search("合同", per_page=1)
    assert found.total == 5 and len(found.hits) == 1
    assert found.facets == {
        "region": {"华北": 1, "华东": 4},
        "year": {"2025": 2, "2026": 3},
        "status": {"completed": 1, "effective": 4},
        "kind": {"amendment": 1, "delivery_notice": 1, "sales_contract": 3},
        "payment_state": {"paid": 1, "partially_paid": 1, "unpaid": 3},
    }


def test_facets_add_up_to_the_total(engine):
    fill(engine, corpus(300))
    for query, filters in [
        ("车床", None),
        ("", Filters(region="华东")),
        ("仲裁", Filters(year=2024)),
    ]:
        found = engine.search(query, filters=filters, per_page=5)
        assert found.total > 5
        for name in FACETS:
            assert sum(found.facets[name].values()) == found.total, (query, name)
            assert list(found.facets[name]) == sorted(found.facets[name])


def test_sorted_by_date_newest_first_then_by_number(engine):
    entries = list(corpus(300))
    fill(engine, entries)
    expected = [e.key for e in sorted(entries, key=lambda e: (-e.signed_on.toordinal(), e.key))]
    found = engine.search("", sort="date", per_page=300)
    assert [h["number"] for h in found.hits] == expected
    assert all(h["score"] is None for h in found.hits)
    assert [h["signed_on"] for h in found.hits[:2]] == [
        e.signed_on.isoformat() for e in sorted(entries, key=lambda e: e.signed_on)[::-1][:2]
    ]


def test_page_two_holds_the_next_hits(engine):
    entries = list(corpus(300))
    fill(engine, entries)
    everything = [h["number"] for h in engine.search("合同", sort="date", per_page=300).hits]
    second = engine.search("合同", sort="date", page=2, per_page=2)
    assert [h["number"] for h in second.hits] == everything[2:4]
    assert second.total == len(everything) and second.page == 2 and second.per_page == 2
    assert engine.search("合同", page=1000, per_page=2).hits == []


def test_relevance_pages_do_not_overlap(archive):
    numbers = [
        h["number"]
        for page in (1, 2, 3)
        for h in archive.search("合同", page=page, per_page=2).hits
    ]
    assert len(numbers) == len(set(numbers)) == 5


def test_a_hit_carries_what_the_list_shows(archive):
    (hit,) = archive.search("region:华北").hits
    assert hit == {
        "contract_no": SECOND,
        "number": SECOND,
        "kind": "sales_contract",
        "title": f"销售合同 {SECOND}",
        "archival_code": "HT·2025·华北·0007-01",
        "region": "华北",
        "year": 2025,
        "status": "completed",
        "payment_state": "paid",
        "signed_on": "2025-03-20",
        "score": hit["score"],
        "highlights": [],
    }
    assert isinstance(hit["score"], float)


@pytest.mark.parametrize("arguments", [{"page": 0}, {"per_page": 0}, {"sort": "title"}])
def test_out_of_range_paging_is_refused(archive, arguments):
    with pytest.raises(ValueError):
        archive.search("车床", **arguments)
