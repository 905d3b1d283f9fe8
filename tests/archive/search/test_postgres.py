"""Stories only the PostgreSQL engine has: SQL and tsquery syntax in what people type,
machines writing at once, rebuilds seen across processes, PostgreSQL's own tsvector limits."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import replace

import psycopg
import pytest

from archive.search import Engine, Entry, Filters, QueryError, get_engine, postgres_engine
from archive.search.postgres_engine import (
    PostgresEngine,
    StaleIndexError,
    analysis_version,
    compile_query,
    quote,
)
from archive.search.query import QueryTooLarge, parse
from bench.search import corpus
from tests.archive.search.contracts import (
    FIRST,
    SECOND,
    THIRD,
    contracts,
    entry,
    fill,
    first_contract,
    second_contract,
    third_contract,
)


@pytest.fixture
def engine_name() -> str:
    return "postgresql"


def sql(engine: PostgresEngine, statement: str, *args: object) -> list[tuple]:
    """A statement on the engine's database, as an operator would run it."""
    with psycopg.connect(engine.url.replace("+psycopg", ""), autocommit=True) as conn:
        cursor = conn.execute(statement, args)
        return cursor.fetchall() if cursor.description else []


def stored(engine: PostgresEngine, key: str, column: str = "doc") -> object:
    table = f"{engine.schema}.entries_g{engine.current_generation()}"
    ((value,),) = sql(engine, f"SELECT {column}::text FROM {table} WHERE key = %s", key)
    return value


# -- phrases and punctuation ----------------------------------------------------------------

PUNCTUATION = [*"，、。；：！？（）…·/,《", "——", "\n—\n"]


@pytest.mark.parametrize("mark", PUNCTUATION)
def test_a_phrase_never_matches_across_punctuation(engine, mark):
    fill(engine, [entry(text=f"检测水平精{mark}精工机械", buyer="", seller="", products="")])
    assert engine.search("平精工").total == 0
    assert engine.search('"水平精 精工"').total == 0
    assert engine.search("精工机械").total == 1
    assert engine.search("水平精").total == 1


def test_punctuation_leaves_an_empty_position(engine):
    fill(engine, [entry(text="检测水平精，精工机械", buyer="", seller="", products="")])
    doc = stored(engine, FIRST)
    assert "'平精':4" in doc and "'精工':6" in doc  # nothing at 5: <-> cannot bridge it
    assert "'>精':4" in doc and "'>工':6" in doc  # bigrams by their last character


# -- what people type ---------------------------------------------------------------------

ODD = [
    "!合同",
    "平精工)",
    "a:b",
    "合同 & 车床",
    "合同|车床",
    "车床 <-> 刀具",
    "<2>",
    "合同:*",
    ":*",
    "'",
    "''",
    "'车床'",
    "\\",
    "\\'",
    "it's",
    "'; DROP TABLE hetong_search.state; --",
    "buyer:'临平'",
    "region:'",
    "region:华东'OR'1'='1",
    "kind:\\",
    "status:a&b|!c",
    "seller:!申远",
    '"!合同"',
    '"平精工)"',
    "%s %(q)s",
    "$1",
    "车床\x00刀具",
    "region:华\x00东",
    "{}[]<>~^`@#$%^&*=+",
]


@pytest.mark.parametrize("query", ODD)
def test_odd_characters_never_raise_a_sql_error(archive, query):
    # Hits, or a clear answer in Chinese: anything else (a psycopg error) fails the test.
    with contextlib.suppress(QueryError):
        archive.search(query)
    assert archive.count() == 5


def test_syntax_in_a_query_is_only_text(archive):
    assert contracts(archive.search("!合同")) == contracts(archive.search("合同"))
    with pytest.raises(QueryError, match="括号"):  # our language's answer, not PostgreSQL's
        archive.search("平精工)")
    assert contracts(archive.search('"平精工)"')) == {FIRST}
    assert archive.search("region:华东'OR'1'='1").total == 0
    found = archive.search("", filters=Filters(region="华东' OR '1'='1"))
    assert found.total == 0
    assert archive.search("", filters=Filters(region="华\x00东")).total == 0


def test_lexemes_are_quoted_whatever_they_hold():
    assert quote("it's") == "'it''s'"
    assert quote("a\\b") == "'a\\\\b'"
    assert compile_query(parse("region:a'b")) == "'=region=a''b'"


# -- machines writing at once ---------------------------------------------------------------


def run_together(jobs: list[Callable[[], None]]) -> list[BaseException]:
    """Run the jobs in threads started together; the errors they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], None]) -> None:
        try:
            start.wait()
            job()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_two_machines_writing_at_once_lose_nothing(make_engine):
    machines = [make_engine().open(), make_engine().open()]  # a pool of connections each
    shared = ["HT-202601-0001", "HT-202601-0002", "HT-202601-0003"]

    def write(machine: Engine, side: str) -> Callable[[], None]:
        def job() -> None:
            for n in range(15):
                with machine.batch() as batch:
                    own = f"{side}-{n}"
                    batch.add(entry(key=own, contract_no=own, number=own, fingerprint=side))
                    # Both rewrite the same contracts, in opposite orders.
                    for contract_no in shared if side == "a" else shared[::-1]:
                        batch.delete_contract(contract_no)
                        key = f"{contract_no}-{side}"
                        batch.add(entry(key=key, contract_no=contract_no, number=key))

        return job

    assert run_together([write(m, side) for m, side in zip(machines, "ab", strict=True)]) == []
    prints = machines[0].fingerprints()
    assert {k for k, v in prints.items() if v in "ab"} == {
        f"{s}-{n}" for s in "ab" for n in range(15)
    }
    # Each shared contract holds the entry of whichever batch committed last: one side's.
    for contract_no in shared:
        keys = {k for k in prints if k.startswith(contract_no)}
        assert keys in ({f"{contract_no}-a"}, {f"{contract_no}-b"})
    assert machines[1].count() == 30 + 3


ANOTHER_PROCESS = """
import sys
from pathlib import Path
from archive.search import get_engine
from tests.archive.search.contracts import entry

engine = get_engine("postgresql", Path("unused"), database_url=sys.argv[1]).open()
for n in range(20):
    with engine.batch() as batch:
        key = f"there-{n}"
        batch.add(entry(key=key, contract_no=key, number=key))
print("written", flush=True)
sys.stdin.readline()
engine.rebuild([[entry(key="rebuilt", contract_no="rebuilt", number="rebuilt")]])
print("rebuilt", flush=True)
engine.close()
"""


def test_another_process_writes_and_rebuilds_while_this_one_writes(engine, index_url):
    other = subprocess.Popen(
        [sys.executable, "-c", ANOTHER_PROCESS, index_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for n in range(20):
            with engine.batch() as batch:
                key = f"here-{n}"
                batch.add(entry(key=key, contract_no=key, number=key))
        assert other.stdout.readline() == "written\n"
        assert engine.count() == 40  # both processes' batches, none lost
        other.stdin.write("rebuild\n")
        other.stdin.flush()
        assert other.stdout.readline() == "rebuilt\n"
        assert set(engine.fingerprints()) == {"rebuilt"}  # seen without reopening
        assert engine.all_generations() == [engine.current_generation()]
    finally:
        other.stdin.close()
        assert other.wait(timeout=120) == 0
        other.stdout.close()


def test_machines_open_a_new_database_at_once(make_engine):
    machines = [make_engine() for _ in range(4)]
    assert run_together([m.open for m in machines]) == []
    fill(machines[0], first_contract())
    assert {m.count() for m in machines} == {3}
    assert len(machines[0].all_generations()) == 1


def test_a_rebuild_in_one_machine_is_seen_by_the_other_without_reopening(make_engine):
    builder = fill(make_engine().open(), first_contract())
    other = make_engine().open()
    before = other.current_generation()
    assert other.search("申远").total == 3
    builder.rebuild([second_contract(), third_contract()])
    assert other.current_generation() == before + 1
    assert other.search("申远").total == 0 and other.count() == 2
    assert contracts(other.search("合同")) == {SECOND, THIRD}
    assert builder.all_generations() == [before + 1]


def test_a_writer_waits_for_a_rebuild_and_writes_into_the_new_tables(make_engine):
    builder = fill(make_engine().open(), first_contract())
    writer = make_engine().open()
    late = entry(key="HT-202612-0009", contract_no="HT-202612-0009", number="HT-202612-0009")
    errors: list[BaseException] = []

    def write() -> None:
        try:
            fill(writer, [late])
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=write)
    waited: list[bool] = []

    def batches():
        yield second_contract()
        thread.start()  # the state row is locked by now: the writer must wait
        thread.join(timeout=0.5)
        waited.append(thread.is_alive())
        yield third_contract()

    assert builder.rebuild(batches()) == 2
    thread.join()
    assert errors == [] and waited == [True]
    assert set(builder.fingerprints()) == {SECOND, THIRD, late.key}


# -- the analysis version -------------------------------------------------------------------


def test_tables_of_another_analysis_read_as_empty_until_rebuilt(archive, make_engine):
    sql(archive, f"UPDATE {archive.schema}.state SET analysis = '0-older'")
    other = make_engine().open()  # as a machine running another release would
    assert other.count() == 0 and other.fingerprints() == {}
    assert other.search("合同").total == 0
    with pytest.raises(StaleIndexError, match="rebuild"):
        fill(other, second_contract())
    assert other.rebuild([first_contract()]) == 3
    assert archive.count() == 3 and archive.search("申远").total == 3
    ((version,),) = sql(archive, f"SELECT analysis FROM {archive.schema}.state")
    assert version == analysis_version()


# -- PostgreSQL's limits: 16,383 positions, 256 positions per lexeme, 1 MB per tsvector ------

HAN_POOL = [chr(code) for code in range(0x4E00, 0x4E00 + 3000)]


def varied(length: int, seed: int) -> str:
    """Han text in which no bigram recurs much (so only the position limit is reached)."""
    rng = random.Random(seed)
    return "".join(rng.choice(HAN_POOL) for _ in range(length))


def scan(key: str, text: str) -> Entry:
    return entry(
        key=key, contract_no=key, number=key, title=f"扫描件 {key}", buyer="", seller="",
        products="", text=text,
    )  # fmt: skip


def long_documents() -> list[Entry]:
    return [
        # The words far beyond position 16,383.
        scan("far", "开头说明" + varied(30_000, 1) + "，检测水平精工机械，编号 ZX-77 结尾"),
        # One bigram more than 256 times before the phrase that needs it.
        scan("often", "合同，" * 300 + "合同编号甲乙"),
        # More distinct numbers (and prefixes of them) than one tsvector holds.
        scan("numbers", "价目表 " + " ".join(f"Q{n:09d}" for n in range(40_000)) + " 尾页"),
        scan("short", "合同编号"),
    ]


LONG_QUERIES = {
    "平精工": {"far"},
    '"水平精工机械"': {"far"},
    "开头说明 平精工": {"far"},  # two clauses in windows far apart
    "开头说明 -平精工": set(),
    "ZX-7": {"far"},
    '"合同编号"': {"often", "short"},
    "合同编号甲乙": {"often"},
    "Q000039999": {"numbers"},
    "Q00000000": {"numbers"},
    '"价目表 Q000000000"': {"numbers"},
    "尾页 NOT 合同": {"numbers"},
    "region:华东 编号": {"far", "often", "short"},
    "扫描件": {"far", "often", "numbers", "short"},
}


@pytest.fixture(scope="module")
def long_engines(postgres_server, tmp_path_factory):
    """The long documents in the PostgreSQL engine (a database of its own) and tantivy."""
    engines = {
        "postgresql": get_engine(
            "postgresql", tmp_path_factory.mktemp("unused"), database_url=postgres_server.create()
        ),
        "tantivy": get_engine("tantivy", tmp_path_factory.mktemp("tantivy")),
    }
    try:
        for each in engines.values():
            fill(each.open(), long_documents())
        yield engines
    finally:
        for each in engines.values():
            each.close()


def test_long_documents_are_kept_in_windows(long_engines):
    engine = long_engines["postgresql"]
    table = f"{engine.schema}.entries_g{engine.current_generation()}"
    flagged = sql(engine, f"SELECT key FROM {table} WHERE overflow ORDER BY key")
    assert flagged == [("far",), ("numbers",), ("often",)]
    windows = f"{engine.schema}.overflow_g{engine.current_generation()}"
    ((most,),) = sql(engine, f"SELECT max(length(doc::text)) FROM {windows}")
    assert most < 1024 * 1024


@pytest.mark.parametrize(("query", "expected"), LONG_QUERIES.items())
def test_long_documents_are_found_as_the_embedded_engines_find_them(long_engines, query, expected):
    found = {name: each.search(query, per_page=10) for name, each in long_engines.items()}
    assert contracts(found["tantivy"]) == expected
    assert contracts(found["postgresql"]) == expected
    assert found["postgresql"].facets == found["tantivy"].facets


def test_long_documents_are_rebuilt_windows_and_all(engine):
    engine.rebuild([long_documents()])
    assert contracts(engine.search('"水平精工机械"')) == {"far"}
    (fragment,) = engine.search("平精工").hits[0]["highlights"]
    assert "<mark>平精工</mark>" in fragment
    with engine.batch() as batch:
        batch.delete_contract("far")
        batch.add(replace(long_documents()[1], fingerprint="again"))
    assert engine.search("平精工").total == 0
    assert contracts(engine.search('"合同编号"')) == {"often", "short"}
    windows = f"{engine.schema}.overflow_g{engine.current_generation()}"
    keys = {key for (key,) in sql(engine, f"SELECT DISTINCT key FROM {windows}")}
    assert keys == {"often", "numbers"}


# -- plans and limits -----------------------------------------------------------------------


def test_pages_are_the_same_whichever_plan_postgresql_chooses(engine):
    entries = list(corpus(300, seed=11))
    fill(engine, entries)

    def pages() -> list[list[str]]:
        return [
            [h["number"] for h in engine.search(q, sort=sort, page=p, per_page=7).hits]
            for q in ("合同", "车床", '"木箱包装"', "HT-2025", "NOT 仲裁")
            for sort in ("date", "relevance")
            for p in (1, 2, 5)
        ]

    before = pages()  # never analysed: the hits are sorted
    sql(engine, f"ANALYZE {engine.schema}.entries_g{engine.current_generation()}")
    assert pages() == before  # broad queries now walk the date index instead


def test_past_the_rank_limit_about_the_newest_are_ranked_and_the_rest_follow(
    make_engine, index_url
):
    engine = make_engine().open()
    fill(engine, corpus(300, seed=12))
    limited = PostgresEngine(index_url, rank_limit=40)
    try:
        found = limited.search("合同", per_page=300)
        full = engine.search("合同", per_page=300)
        assert found.total == full.total > 40
        assert {h["number"] for h in found.hits} == {h["number"] for h in full.hits}
        ranked = [h for h in found.hits if h["score"] > 0]
        rest = found.hits[len(ranked) :]
        assert 20 < len(ranked) < 60 and rest and all(h["score"] == 0 for h in rest)
        assert max(h["signed_on"] for h in rest) < min(h["signed_on"] for h in ranked)
        newest_first = sorted(
            rest, key=lambda h: (-dt.date.fromisoformat(h["signed_on"]).toordinal(), h["number"])
        )
        assert rest == newest_first
        paged = [
            h["number"]
            for p in range(1, 40)
            for h in limited.search("合同", page=p, per_page=8).hits
        ]
        assert paged == [h["number"] for h in found.hits]
    finally:
        limited.close()


def test_a_search_past_its_deadline_is_refused_in_chinese(engine, monkeypatch):
    fill(engine, [entry(text="数控车床 CK6150", products="数控车床")])
    monkeypatch.setattr(postgres_engine, "DEADLINE_MS", 300)
    table = f"{engine.schema}.entries_g{engine.current_generation()}"
    # An operator's long transaction holds the table: the search waits, and not for ever.
    with psycopg.connect(engine.url.replace("+psycopg", "")) as operator:
        operator.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(QueryTooLarge, match=r"检索超过 0\.3 秒仍未完成"):
            engine.search("车床")
    assert engine.search("车床").total  # and it answers again once the table is free


def test_the_analysis_version_is_the_same_in_every_process():
    script = (
        "from archive.search.postgres_engine import analysis_version; print(analysis_version())"
    )
    other = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONHASHSEED": "1"},  # sets iterate in another order there
        capture_output=True,
        text=True,
        check=True,
    )
    assert other.stdout.strip() == analysis_version()
