"""The index follows the catalogue: each document holds its own words, every change reaches
it through the outbox, and it can always be rebuilt from the catalogue."""

from __future__ import annotations

import shutil
from dataclasses import replace

from sqlalchemy import select, text, update

from archive import contracts
from archive.actor import SYSTEM
from archive.indexing import entries
from archive.models import Document
from archive.search import Filters
from service import create_app
from tests.conftest import BOTH_DATABASES

pytestmark = BOTH_DATABASES


def numbers(archive, query: str = "", **filters) -> list[str]:
    result = archive.index.search(query, filters=Filters(**filters), per_page=100)
    return sorted(hit["number"] for hit in result.hits)


def test_a_delivery_notice_is_found_by_what_it_ships_not_by_the_rest_of_the_contract(
    archive, client, auth, effective
):
    number = effective()  # line 1: 数控车床 CK6150, line 2: 车床刀具套装 T-20
    shipped = client.post(f"/api/v1/contracts/{number}/deliveries", headers=auth(), json={
        "delivery_date": "2026-12-10", "items": [{"line": 2, "quantity": "2"}],
        "carrier": "中通快运", "tracking_no": "ZT998877", "prepared_by": "张敏"})  # fmt: skip
    notice = shipped.get_json()["number"]
    assert numbers(archive, "T-20", kind="delivery_notice") == [notice]
    assert numbers(archive, "CK6150", kind="delivery_notice") == []
    assert numbers(archive, "CK6150") == [number]  # the contract itself names it
    # What the contract's parties and state are, every document of it shares.
    assert numbers(archive, "临平") == sorted([number, notice])


def test_an_amendment_is_found_by_the_products_it_changes(archive, client, auth, effective):
    number = effective()
    client.post(f"/api/v1/contracts/{number}/amendments", headers=auth(), json={
        "reason": "更换刀具型号", "effective_on": "2026-12-01",
        "changes": [{"field": "spec", "line": 2, "after": "T-30"}]})  # fmt: skip
    assert numbers(archive, "T-30") == [f"{number}-BC01"]
    assert numbers(archive, "CK6150", kind="amendment") == []


def test_a_rebuild_reads_the_catalogue_not_the_files_and_agrees_with_incremental(
    archive, create, payload
):
    create()
    payload["buyer"]["name"] = "天津重工机械有限公司"
    create(payload)
    before = {q: numbers(archive, q) for q in ("临平", "重工", "车床", "HT-2026")}
    for digest in list(archive.storage.digests()):  # the rebuild never opens a stored file
        archive.storage.path_for(digest).rename(archive.storage.path_for(digest).with_suffix(".x"))
    assert archive.indexer.rebuild() == 2
    assert {q: numbers(archive, q) for q in before} == before
    assert archive.indexer.check() == {"missing": [], "stale": [], "orphaned": [], "pending": []}


def test_documents_filed_before_texts_were_kept_get_them_from_their_files(archive, create):
    number = create()["contract_no"]
    with archive.catalogue.writing() as session:
        session.execute(update(Document).values(text=None))
    assert archive.indexer.rebuild() == 1
    assert numbers(archive, "平精工") == [number]
    with archive.catalogue.reading() as session:
        texts = session.scalars(select(Document.text).where(Document.format == "docx")).all()
    assert texts and "杭州临平精工机械有限公司" in texts[0]


def test_an_empty_or_replaced_index_is_rebuilt_at_start(
    settings, archive, create, data_dir, database
):
    number = create()["contract_no"]
    if database == "postgresql":  # the index tables are lost
        with archive.catalogue.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA hetong_search CASCADE"))
    archive.close()
    index = data_dir / "index"
    for path in index.glob("tantivy/*"):  # the engine's folder is lost …
        if path.is_dir():
            shutil.rmtree(path)
    index.mkdir(exist_ok=True)
    (index / "MAIN_abc.seg").write_bytes(b"whoosh")  # … and a first release's index remains
    (index / "_MAIN_1.toc").write_bytes(b"whoosh")
    restarted = create_app(settings).extensions["hetong.archive"]
    assert numbers(restarted, "临平") == [number]
    assert not list(index.glob("*.seg")) and not list(index.glob("*.toc"))
    restarted.close()


def test_an_index_built_by_an_older_analysis_is_rebuilt_at_start(
    settings, archive, create, payload, data_dir, database
):
    payload["items"][1]["unit_price"] = "1001.10"  # the contract prints 1,001.10
    number = create(payload)["contract_no"]
    with archive.index.batch() as batch:  # what only the old index holds
        batch.add(replace(entries(contracts.get(archive, number, SYSTEM))[0], key="OLD-1",
                          number="OLD-1"))  # fmt: skip
    assert numbers(archive, "临平") == sorted([number, "OLD-1"])
    if database == "postgresql":
        with archive.catalogue.engine.begin() as connection:
            connection.execute(text("UPDATE hetong_search.state SET analysis = '0-older'"))
    else:
        current = (data_dir / "index" / "tantivy" / "CURRENT").read_text().strip()
        (data_dir / "index" / "tantivy" / current / "ANALYSIS").write_text("1\n")
    archive.close()
    restarted = create_app(settings).extensions["hetong.archive"]
    assert numbers(restarted, "临平") == [number]
    assert numbers(restarted, "1001.10") == numbers(restarted, "1,001.10") == [number]
    restarted.close()


def test_a_change_made_during_a_rebuild_is_in_the_index_after_it(archive, client, auth, effective):
    number = effective()
    paid = []

    def during(done, total):  # the contract is already read when its payment arrives
        if not paid:
            paid.append(client.post(f"/api/v1/contracts/{number}/payments", headers=auth(),
                                    json={"amount": "1000.00", "paid_on": "2026-11-25",
                                          "method": "银行转账"}).status_code)  # fmt: skip

    archive.indexer.rebuild(progress=during)
    assert paid == [201]
    assert numbers(archive, payment_state="partially_paid") == [number]
    assert archive.indexer.check()["stale"] == []
