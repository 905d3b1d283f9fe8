"""Writing: batches commit once, replace and delete by contract; rebuilds switch atomically."""

from __future__ import annotations

import shutil
import threading
from dataclasses import replace

import psycopg
import pytest

from archive.search import Engine, get_engine
from archive.search.engine import FolderEngine
from archive.search.postgres_engine import PostgresEngine
from tests.archive.search.contracts import (
    FIRST,
    SECOND,
    THIRD,
    entry,
    fill,
    first_contract,
    second_contract,
    third_contract,
)


def current(engine: Engine) -> str:
    """The engine's current generation: a folder, or a number in the database."""
    if isinstance(engine, FolderEngine):
        return engine.generations.current().name
    assert isinstance(engine, PostgresEngine)
    return f"g{engine.current_generation()}"


def generations(engine: Engine) -> list[str]:
    """Every generation that exists, the current one included."""
    if isinstance(engine, FolderEngine):
        return sorted(p.name for p in engine.path.iterdir() if p.name.startswith("gen-"))
    assert isinstance(engine, PostgresEngine)
    return [f"g{number}" for number in engine.all_generations()]


def lose_current_generation(engine: Engine) -> None:
    """What an operator's mistake or a broken disk does to the index."""
    if isinstance(engine, FolderEngine):
        shutil.rmtree(engine.generations.current())
        return
    assert isinstance(engine, PostgresEngine)
    with psycopg.connect(engine.url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"DROP TABLE {engine.schema}.entries_g{engine.current_generation()}")


def test_deleting_a_contract_removes_all_its_documents(archive):
    assert archive.count() == 5
    with archive.batch() as batch:
        batch.delete_contract(FIRST)
    assert archive.count() == 2
    assert set(archive.fingerprints()) == {SECOND, THIRD}
    assert archive.search("申远").total == 0


def test_re_adding_a_document_replaces_it(archive):
    with archive.batch() as batch:
        batch.delete_contract(SECOND)
        batch.add(replace(second_contract()[0], text="龙门铣床 XK2120 已退货", fingerprint="b2"))
    assert archive.count() == 5
    assert archive.fingerprints()[SECOND] == "b2"
    assert archive.search("退货").total == 1
    assert archive.search("人民法院").total == 1  # only the third contract's clause is left


def test_adding_the_same_key_again_replaces_without_a_delete(archive):
    with archive.batch() as batch:
        batch.add(replace(third_contract()[0], status="completed", fingerprint="c2"))
    assert archive.count() == 5
    assert archive.fingerprints()[THIRD] == "c2"
    assert archive.search("status:completed").total == 2


def test_a_batch_means_the_same_in_any_order(engine):
    with engine.batch() as batch:
        for item in first_contract():
            batch.add(item)
        batch.delete_contract(FIRST)  # drops what this batch added for it
        batch.add(second_contract()[0])
    assert set(engine.fingerprints()) == {SECOND}
    with engine.batch() as batch:
        batch.delete_contract(SECOND)
        batch.add(second_contract()[0])  # added after the delete: kept
    assert set(engine.fingerprints()) == {SECOND}


def test_a_failed_batch_changes_nothing(archive):
    with pytest.raises(RuntimeError), archive.batch() as batch:
        batch.delete_contract(FIRST)
        raise RuntimeError("the catalogue could not be read")
    assert archive.count() == 5


def test_another_engine_object_sees_commits(make_engine):
    writer = make_engine().open()
    reader = make_engine().open()
    assert reader.count() == 0
    fill(writer, first_contract())
    assert reader.count() == 3
    assert reader.search("申远").total == 3


def test_a_rebuild_switches_every_reader_to_the_new_generation(make_engine):
    builder = fill(make_engine().open(), first_contract())
    other = make_engine().open()  # as another process would
    assert other.search("申远").total == 3
    old = current(builder)
    seen_while_building = []

    def batches():
        yield second_contract()
        # Half-way through the rebuild, searches still answer from the old generation.
        seen_while_building.append((other.search("申远").total, other.search("铣床").total))
        yield third_contract()

    assert builder.rebuild(batches()) == 2
    assert seen_while_building == [(3, 0)]
    assert other.search("申远").total == 0  # no reopening by hand
    assert other.search("铣床").total == 1
    assert other.count() == 2 and set(other.fingerprints()) == {SECOND, THIRD}
    assert current(builder) != old
    assert generations(builder) == [current(builder)]  # the old one is gone
    fill(other, first_contract())  # and writes go to the new generation
    assert builder.count() == 5


def test_a_failed_rebuild_keeps_the_current_index(archive):
    before = current(archive)

    def batches():
        yield second_contract()
        raise OSError("a stored file could not be read")

    with pytest.raises(OSError):
        archive.rebuild(batches())
    assert current(archive) == before
    assert archive.count() == 5
    assert generations(archive) == [before]


def test_two_writers_take_turns_instead_of_failing(make_engine):
    engines = [make_engine().open() for _ in range(2)]
    errors: list[BaseException] = []

    def write(engine, side: str) -> None:
        try:
            for n in range(5):
                with engine.batch() as batch:
                    key = f"{side}-{n}"
                    batch.add(entry(key=key, contract_no=key, number=key))
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=write, args=(e, side))
        for e, side in zip(engines, "ab", strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert engines[0].count() == engines[1].count() == 10


def test_an_unknown_engine_is_refused(tmp_path):
    with pytest.raises(ValueError, match="tantivy, whoosh, postgresql"):
        get_engine("lucene", tmp_path)
    with pytest.raises(ValueError, match="database_url"):
        get_engine("postgresql", tmp_path)


def test_an_engine_opens_itself_and_survives_a_lost_generation(make_engine):
    engine = make_engine()
    assert engine.search("车床").total == 0  # opened (and created) on first use
    fill(engine, first_contract())
    engine.close()
    lose_current_generation(engine)
    reopened = make_engine().open()
    assert reopened.count() == 0  # empty, not broken: a consistency check refills it
    fill(reopened, first_contract())
    assert reopened.count() == 3
