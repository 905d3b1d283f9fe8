"""Search obeys the access rule (archive.access): a person finds, counts and sees in facets
only the documents of the contracts they may read, in every engine.

The three contracts belong to three clerks: the first (three documents, 华东) to zhangmin,
the second (华北) to lili and confidential, the third (华东) to wangqiang."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import psycopg
import pytest

from archive.access import CONFIDENTIAL, NORMAL, own_scope
from archive.actor import Actor
from archive.indexing import entries
from archive.models import Contract, Document
from archive.search import Engine, Entry, Filters
from archive.search.engine import ANALYSIS_FILE, FACETS, Clause, FolderEngine
from archive.search.postgres_engine import PostgresEngine
from tests.archive.search.contracts import (
    FIRST,
    SECOND,
    THIRD,
    contracts,
    fill,
    first_contract,
    second_contract,
    third_contract,
)

OWNERS = {FIRST: "zhangmin", SECOND: "lili", THIRD: "wangqiang"}
NOTHING_COUNTED = {name: {} for name in FACETS}


def owned(items: list[Entry]) -> list[Entry]:
    """The entries with their owner, the second contract confidential."""
    return [
        replace(item, owner=OWNERS[item.contract_no],
                secrecy=CONFIDENTIAL if item.contract_no == SECOND else NORMAL)
        for item in items
    ]  # fmt: skip


def three() -> list[Entry]:
    return owned(first_contract() + second_contract() + third_contract())


@pytest.fixture
def archive(engine: Engine) -> Engine:
    """The three contracts, owned."""
    return fill(engine, three())


def sql(engine: PostgresEngine, statement: str) -> list[tuple]:
    with psycopg.connect(engine.url.replace("+psycopg", ""), autocommit=True) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def clause(**fields: list[str]) -> Clause:
    return tuple((name, frozenset(values)) for name, values in sorted(fields.items()))


def scope(name: str, role: str, region: str | None = None) -> tuple[Clause, ...] | None:
    return own_scope(Actor(name, role, region=region)).clauses


def find(engine: Engine, query: str = "", visible: tuple[Clause, ...] | None = None, **filters):
    return engine.search(query, filters=Filters(visible=visible, **filters), per_page=100)


# -- stories ------------------------------------------------------------------------------------


def test_a_clerk_finds_and_counts_only_the_documents_of_her_own_contracts(archive):
    mine = scope("zhangmin", "clerk")
    everything = find(archive, "")
    assert everything.total == 5 and everything.facets["region"] == {"华东": 4, "华北": 1}
    for query in ("", "合同", "机械", "争议解决", "HT-2025"):
        found = find(archive, query, mine)
        assert contracts(found) <= {FIRST}, query
        assert found.total == len(found.hits)
        assert sum(found.facets["kind"].values()) == found.total
    browsed = find(archive, "", mine)
    assert browsed.total == 3
    assert browsed.facets == {
        "region": {"华东": 3},
        "year": {"2026": 3},
        "status": {"effective": 3},
        "kind": {"amendment": 1, "delivery_notice": 1, "sales_contract": 1},
        "payment_state": {"unpaid": 3},
    }
    # The words of others' contracts find nothing, and hint at nothing.
    assert find(archive, "天津重工", mine).total == 0
    assert find(archive, "摇臂钻床", mine).facets == NOTHING_COUNTED
    # With the other filters, as one more condition.
    assert [h["kind"] for h in find(archive, "", mine, kind="amendment").hits] == ["amendment"]
    assert find(archive, "", mine, region="华北").total == 0


def test_the_rule_is_a_filter_that_never_changes_a_score_or_an_order(archive):
    mine = scope("zhangmin", "clerk")
    for query in ("数控车床", "精工 OR 天津", "CK6150"):
        for sort in ("relevance", "date"):
            everyone = archive.search(query, sort=sort, per_page=100).hits
            hers = archive.search(query, filters=Filters(visible=mine), sort=sort,
                                  per_page=100).hits  # fmt: skip
            assert hers == [hit for hit in everyone if hit["contract_no"] == FIRST]


def test_an_archivist_never_sees_a_confidential_contract_not_even_in_a_count(archive):
    archivist = scope("chenjing", "archivist")
    assert archivist == (clause(secrecy=[NORMAL]),)
    assert find(archive, "天津重工", archivist).total == 0
    assert find(archive, "天津重工", archivist).facets == NOTHING_COUNTED
    assert find(archive, "天津重工").total == 1  # it is there
    browsed = find(archive, "", archivist)
    assert contracts(browsed) == {FIRST, THIRD} and browsed.total == 4
    assert browsed.facets["region"] == {"华东": 4}  # no 华北: only the secret one is there
    assert "completed" not in browsed.facets["status"]
    assert "paid" not in browsed.facets["payment_state"]
    assert browsed.facets["year"] == {"2025": 1, "2026": 3}
    ranked = find(archive, "机械 OR 机床", archivist)
    assert contracts(ranked) == {FIRST, THIRD} and ranked.total == len(ranked.hits)


def test_a_sales_manager_sees_the_contracts_of_his_region_confidential_ones_too(archive):
    north = scope("zhaolei", "manager", region="华北")
    assert contracts(find(archive, "", north)) == {SECOND}
    east = find(archive, "", scope("sunli", "manager", region="华东"))
    assert contracts(east) == {FIRST, THIRD} and east.total == 4
    assert scope("boss", "manager") is None  # no region: everything
    assert find(archive, "", scope("boss", "manager")).total == 5


def test_a_grant_opens_exactly_the_contracts_it_names(archive):
    # wangqiang's own, plus the second contract by a request a director approved.
    secret = (*scope("wangqiang", "clerk"), clause(contract_no=[SECOND]))
    found = find(archive, "", secret)
    assert contracts(found) == {SECOND, THIRD} and found.total == 2
    assert found.facets["region"] == {"华东": 1, "华北": 1}
    # Approved without a director: the confidential contract stays closed.
    plain = (*scope("wangqiang", "clerk"), clause(contract_no=[SECOND, FIRST], secrecy=[NORMAL]))
    found = find(archive, "", plain)
    assert contracts(found) == {FIRST, THIRD} and found.total == 4
    assert find(archive, "天津", plain).total == 0
    # Staff of another department, with nothing granted, find nothing.
    assert scope("qianfang", "staff") == ()


def test_an_empty_scope_finds_nothing_and_none_finds_everything(archive):
    for query in ("", "合同", "HT-2026 OR HT-2025", "-天津"):
        for sort in ("relevance", "date"):
            nothing = archive.search(query, filters=Filters(visible=()), sort=sort)
            assert (nothing.total, nothing.hits, nothing.facets) == (0, [], NOTHING_COUNTED)
            everything = archive.search(query, filters=Filters(visible=None), sort=sort)
            assert everything == archive.search(query, sort=sort)
    assert find(archive, "", None).total == 5
    # A clause that can never hold (no values) hides as much as no clause at all.
    assert find(archive, "", (clause(owner=[]),)).total == 0
    # One that names no field at all holds for everything (as Scope.allows says).
    assert find(archive, "", ((),)).total == 5


def test_a_clause_of_someone_nobody_is_finds_nothing(archive):
    assert find(archive, "", scope("nobody", "clerk")).total == 0
    assert find(archive, "合同", scope("nobody", "clerk")).facets == NOTHING_COUNTED


def test_a_field_no_index_holds_is_refused_rather_than_ignored(archive):
    with pytest.raises(ValueError, match="buyer"):
        find(archive, "", (clause(buyer=["南京机床有限公司"]),))


def test_a_reassigned_contract_is_found_by_its_new_owner_once_reindexed(archive, make_engine):
    assert contracts(find(archive, "", scope("zhangmin", "clerk"))) == {FIRST}
    moved = [replace(item, owner="lili", fingerprint=item.fingerprint + "'")
             for item in owned(first_contract())]  # fmt: skip
    with archive.batch() as batch:  # as the indexer rewrites a contract from the outbox
        batch.delete_contract(FIRST)
        for item in moved:
            batch.add(item)
    other = make_engine()  # another process sees it too
    for engine in (archive, other):
        assert find(engine, "", scope("zhangmin", "clerk")).total == 0
        lili = find(engine, "", scope("lili", "clerk"))
        assert contracts(lili) == {FIRST, SECOND} and lili.total == 4
    assert {key: archive.fingerprints()[key] for key in (FIRST, f"{FIRST}-BC01")} == {
        FIRST: "a1'", f"{FIRST}-BC01": "a2'"}  # fmt: skip
    # Marked confidential: the archivist no longer finds it; a rebuild agrees.
    secret = [replace(item, secrecy=CONFIDENTIAL) for item in moved]
    with archive.batch() as batch:
        batch.delete_contract(FIRST)
        for item in secret:
            batch.add(item)
    assert contracts(find(archive, "", scope("chenjing", "archivist"))) == {THIRD}
    assert archive.rebuild([secret, owned(second_contract() + third_contract())]) == 5
    assert contracts(find(archive, "", scope("chenjing", "archivist"))) == {THIRD}
    assert contracts(find(archive, "", scope("lili", "clerk"))) == {FIRST, SECOND}


def test_a_clause_of_thousands_of_contract_numbers_is_answered_at_once(archive):
    numbers = [f"HT-2024{n // 1000 + 1:02d}-{n % 1000:04d}" for n in range(5000)]
    granted = (clause(contract_no=[*numbers, THIRD], secrecy=[NORMAL]),
               clause(contract_no=[*numbers[:3000], SECOND]))  # fmt: skip
    started = time.perf_counter()
    for query in ("", "合同", "机床 OR 车床"):
        found = find(archive, query, granted)
        assert contracts(found) == {SECOND, THIRD} and found.total == len(found.hits)
    assert time.perf_counter() - started < 10  # milliseconds in fact; never a timeout


def test_an_index_built_before_the_rule_was_indexed_is_rebuilt_not_read(
    archive, make_engine: Callable[[], Engine]
):
    # What the previous code left: the same analysis, without owner and secrecy.
    if isinstance(archive, PostgresEngine):
        ((version,),) = sql(archive, f"SELECT analysis FROM {archive.schema}.state")
        layout, rest = version.split(".", 1)
        assert layout == "2"
        sql(archive, f"UPDATE {archive.schema}.state SET analysis = '1.{rest}'")
    else:
        assert isinstance(archive, FolderEngine)
        stamp = archive.generations.current() / ANALYSIS_FILE
        analysis, layout = stamp.read_text(encoding="ascii").strip().split(".")
        assert layout == "2"
        stamp.write_text(f"{analysis}\n", encoding="ascii")
    restarted = make_engine().open()  # as a new release starts
    assert restarted.count() == 0  # empty: start-up rebuilds it from the catalogue
    assert restarted.rebuild([three()]) == 5
    assert contracts(find(restarted, "", scope("lili", "clerk"))) == {SECOND}


# -- what the indexer makes of a contract --------------------------------------------------------


def contract(owner: str, confidential: bool) -> Contract:
    items = [{"name": "数控车床", "spec": "CK6150"}]
    found = Contract(
        contract_no=FIRST, region="华东", signed_on=dt.date(2026, 11, 3), status="effective",
        seller_name="上海申远机电设备有限公司", buyer_name="杭州临平精工机械有限公司",
        total=Decimal("382505.00"), paid=Decimal(0), due_on=dt.date(2027, 2, 1),
        data={"items": items}, terms={"items": items}, owner=owner, confidential=confidential,
        approved_at=dt.datetime(2026, 11, 3, tzinfo=dt.UTC), retention_state=None,
    )  # fmt: skip
    found.documents = [
        Document(kind="sales_contract", number=FIRST, archival_code="HT·2026·华东·0001-01",
                 format="docx", text="销售合同 数控车床 CK6150", destroyed_at=None)
    ]  # fmt: skip
    found.amendments, found.deliveries = [], []
    return found


def test_an_entry_carries_its_owner_and_secrecy_and_their_change_makes_it_stale():
    (plain,) = entries(contract("zhangmin", False))
    assert (plain.owner, plain.secrecy) == ("zhangmin", NORMAL)
    (moved,) = entries(contract("lili", False))
    (secret,) = entries(contract("zhangmin", True))
    assert secret.secrecy == CONFIDENTIAL
    assert len({plain.fingerprint, moved.fingerprint, secret.fingerprint}) == 3
    assert entries(contract("zhangmin", False))[0].fingerprint == plain.fingerprint
