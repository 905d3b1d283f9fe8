"""Whole words in names rank before fragments that merely occur in body text."""

from __future__ import annotations

from tests.archive.search.contracts import entry, fill


def test_a_whole_word_in_a_name_ranks_first(engine):
    named = entry(
        key="named",
        contract_no="named",
        buyer="杭州临平精工机械有限公司",
        products="数控车床",
        text="需方：杭州临平精工机械有限公司。产品：数控车床两台，"
        "交货期三十日，质量标准按国家标准执行，验收合格后付款。",
    )
    fragments = [
        entry(
            key=f"body{i}",
            contract_no=f"body{i}",
            buyer="天津重工机械股份有限公司",
            seller="北方机床销售有限公司",
            products="龙门铣床",
            text="本批铣床精工细作，精工品质，精工检验。",
        )
        for i in range(3)
    ]
    fill(engine, [*fragments, named])
    found = engine.search("精工")
    assert found.total == 4
    assert found.hits[0]["contract_no"] == "named"


def test_the_boost_needs_the_word_itself(engine):
    fill(
        engine,
        [
            entry(key="a", contract_no="a", buyer="临平精工", text="临平精工"),
            entry(key="b", contract_no="b", buyer="临平精密", text="临平精密 精工"),
        ],
    )
    assert [h["contract_no"] for h in engine.search("精工").hits] == ["a", "b"]
