"""Archivists find filed contracts by a fragment of a name, a model number, a clause…"""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor

import pytest

from service import create_app


@pytest.fixture
def search(client, auth):
    def _search(query: str = "", role: str = "archivist", **params):
        params = {"q": query, **params}
        response = client.get("/api/v1/search", query_string=params, headers=auth(role))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    return _search


def numbers(body) -> list[str]:
    return [hit["number"] for hit in body["hits"]]


def other_contract(payload, *, buyer, product, spec, region="华北", signed_on="2025-06-01"):
    body = copy.deepcopy(payload)
    body["buyer"]["name"] = buyer
    body["items"] = [{"name": product, "spec": spec, "unit": "台", "quantity": "1",
                      "unit_price": "98000.00"}]  # fmt: skip
    body["region"], body["signed_on"] = region, signed_on
    body["delivery"]["deadline"] = body["payment"]["due_on"] = "2026-12-31"
    return body


@pytest.mark.parametrize(
    "query",
    ["申远", "申远机电", "远机", "平精工", "上海申远机电设备有限公司", "车床", "数控车床",
     "CK6150", "ck6150", "ＣＫ６１５０", "CK61", "HT-202611", "0571-86660000", "仲裁委员会",
     "buyer:临平", "product:刀具", '"上海仲裁委员会"', "车床 AND 刀具", "铣床 OR 车床"],
)  # fmt: skip
def test_fragments_model_numbers_and_full_width_find_the_contract(search, create, query):
    number = create()["contract_no"]
    assert numbers(search(query)) == [number]


@pytest.mark.parametrize("query", ["铣床", "北京", "CK6151", "车床 NOT 刀具", "buyer:申远"])
def test_what_is_not_there_is_not_found(search, create, query):
    create()
    assert search(query)["total"] == 0


def test_highlights_mark_the_matched_text(search, create):
    create()
    hit = search("平精工")["hits"][0]
    assert hit["title"].startswith("销售合同 ")
    assert hit["score"] > 0
    assert any("<mark>平精工</mark>" in h for h in hit["highlights"])
    model = search("ck6150")["hits"][0]["highlights"]
    assert any("<mark>CK6150</mark>" in h for h in model)


def test_whole_words_rank_before_fragments(search, create, payload):
    fragment = create(other_contract(payload, buyer="北京车床厂", product="车工工具",
                                     spec="X1"))["contract_no"]  # fmt: skip
    # "车床" is a word here; in 北京车床厂 jieba cuts 车床 too, so compare with a clause
    word = create(other_contract(payload, buyer="天津重工", product="数控机床", spec="Y2"))
    found = numbers(search("数控"))
    assert word["contract_no"] in found
    assert fragment not in found


def test_filters_and_facets_add_up(search, create, payload):
    a = create()["contract_no"]  # 华东, 2026, 382505.00
    b = create(other_contract(payload, buyer="天津重工", product="龙门铣床", spec="XK2120"))
    c = create(other_contract(payload, buyer="南京机床", product="摇臂钻床", spec="Z3050",
                              region="华东", signed_on="2025-03-03"))  # fmt: skip
    everything = search()
    assert everything["total"] == 3
    facets = everything["facets"]
    assert facets["region"] == {"华东": 2, "华北": 1}
    assert facets["year"] == {"2025": 2, "2026": 1}
    assert facets["kind"] == {"sales_contract": 3}
    assert sum(facets["status"].values()) == sum(facets["payment_state"].values()) == 3

    assert numbers(search(region="华东", year="2025")) == [c["contract_no"]]
    assert set(numbers(search(amount_min="100000"))) == {a}
    assert set(numbers(search(amount_max="100000"))) == {b["contract_no"], c["contract_no"]}
    assert set(numbers(search(signed_from="2025-06-01", signed_to="2025-12-31"))) == {
        b["contract_no"]
    }
    assert numbers(search("床", sort="date"))[:0] == []
    by_date = numbers(search(sort="date"))
    assert by_date == [a, b["contract_no"], c["contract_no"]]
    paged = search(per_page=2, page=2)
    assert paged["total"] == 3 and len(paged["hits"]) == 1


@pytest.mark.parametrize(
    "params",
    [{"q": '"unclosed'}, {"q": "(车床"}, {"q": "colour:red"}, {"q": "!!!"}],
)
def test_malformed_queries_are_400_with_a_message(client, auth, create, params):
    create()
    response = client.get("/api/v1/search", query_string=params, headers=auth("archivist"))
    assert response.status_code == 400
    assert response.get_json()["message"]


@pytest.mark.parametrize(
    "params", [{"year": "twenty"}, {"signed_from": "2025/1/1"}, {"amount_min": "lots"},
               {"page": "0"}, {"per_page": "1000"}, {"sort": "random"}],
)  # fmt: skip
def test_bad_filters_are_422_naming_the_parameter(client, auth, params):
    response = client.get("/api/v1/search", query_string=params, headers=auth("archivist"))
    assert response.status_code == 422
    assert set(params) <= set(response.get_json()["errors"])


def test_every_document_of_the_dossier_is_found_with_its_contract(client, auth, search, effective):
    number = effective()
    client.post(f"/api/v1/contracts/{number}/amendments", headers=auth(), json={
        "reason": "更换型号", "effective_on": "2026-12-01",
        "changes": [{"field": "spec", "line": 1, "after": "CK6180"}]})  # fmt: skip
    client.post(f"/api/v1/contracts/{number}/deliveries", headers=auth(), json={
        "delivery_date": "2026-12-10", "items": [{"line": 2, "quantity": "2"}],
        "carrier": "中通快运", "tracking_no": "ZT998877", "prepared_by": "张敏"})  # fmt: skip
    assert set(numbers(search("临平"))) == {number, f"{number}-BC01", "FH-202612-0001"}
    assert numbers(search("ZT998877")) == ["FH-202612-0001"]
    assert numbers(search("CK6180", kind="amendment")) == [f"{number}-BC01"]
    # The state of the contract is searchable on all its documents.
    assert search(status="effective")["total"] == 3


def test_reindex_gives_the_same_results_as_incremental_indexing(
    archive, runner, search, create, payload
):
    from service.cli import main

    create()
    create(other_contract(payload, buyer="天津重工", product="龙门铣床", spec="XK2120"))
    queries = ["临平", "铣床", "CK6150", "", "HT-2025"]
    before = [(numbers(search(q)), search(q)["facets"]) for q in queries]
    result = runner.invoke(main, ["reindex"])
    assert result.exit_code == 0, result.output
    assert "2 个文件" in result.output
    assert [(numbers(search(q)), search(q)["facets"]) for q in queries] == before
    assert runner.invoke(main, ["index", "check"]).exit_code == 0


def test_reindex_of_an_empty_index_builds_it_once(archive, runner, search, create, monkeypatch):
    """After switching engines the index is empty: `hetong reindex` builds it, and the start
    of the command does not build it first as every other command would."""
    from archive.indexing import Indexer
    from service.cli import main

    number = create()["contract_no"]
    archive.index.rebuild([])  # as a newly chosen engine starts
    assert search("临平")["total"] == 0
    builds = []
    rebuild = Indexer.rebuild
    monkeypatch.setattr(
        Indexer, "rebuild", lambda self, **kw: builds.append(1) or rebuild(self, **kw)
    )
    result = runner.invoke(main, ["reindex"])
    assert result.exit_code == 0, result.output
    assert len(builds) == 1
    assert numbers(search("临平")) == [number]


def test_a_crash_between_commit_and_indexing_is_healed_at_start(
    settings, archive, auth, create, search, monkeypatch
):
    from archive.indexing import Indexer

    def crash(self):
        raise RuntimeError("the process died before the index was written")

    monkeypatch.setattr(Indexer, "apply_pending", crash)
    number = create()["contract_no"]
    assert search("临平")["total"] == 0
    report = archive.indexer.check()
    assert report["missing"] == [number] and report["pending"] == [number]
    monkeypatch.undo()

    restarted = create_app(settings)  # start-up applies the outbox
    response = restarted.test_client().get("/api/v1/search", query_string={"q": "临平"},
                                           headers=auth("archivist"))  # fmt: skip
    assert [h["number"] for h in response.get_json()["hits"]] == [number]
    restarted.extensions["hetong.archive"].close()


def test_parallel_filing_loses_no_index_entry(app, auth, payload, search, runner):
    from service.cli import main

    def post(n):
        body = other_contract(payload, buyer=f"并发测试{n:02d}号公司", product="数控车床",
                              spec=f"P{n:02d}")  # fmt: skip
        return app.test_client().post("/api/v1/contracts", json=body, headers=auth()).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(post, range(12))) == [201] * 12
    assert search("并发测试")["total"] == 12
    for n in range(12):
        assert search(f"P{n:02d}")["total"] == 1
    assert runner.invoke(main, ["index", "check"]).exit_code == 0
