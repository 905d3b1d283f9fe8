"""An archivist types what she remembers of a contract and finds it (both engines)."""

from __future__ import annotations

import pytest

from tests.archive.search.contracts import (
    FIRST,
    SECOND,
    THIRD,
    contracts,
    entry,
    fill,
    first_contract,
)

REMEMBERED = [
    "申远",
    "申远机电",
    "远机",
    "平精工",
    "上海申远机电设备有限公司",
    "车床",
    "数控车床",
    "CK6150",
    "ck6150",
    "ＣＫ６１５０",
    "CK61",
    "HT-202611",
    "0571-86660000",
    "86660000",
    "仲裁委员会",
    "buyer:临平",
    "product:刀具",
    '"上海仲裁委员会"',
    "车床 AND 刀具",
    "contract_no:HT-2026",
    "number:FH-2026",
    "seller:申远",
    "region:华东 车床",
]


@pytest.mark.parametrize("query", REMEMBERED)
def test_what_she_remembers_finds_the_first_contract_only(archive, query):
    assert contracts(archive.search(query)) == {FIRST}


def test_either_of_two_machines_finds_both_contracts(archive):
    assert contracts(archive.search("铣床 OR 车床")) == {FIRST, SECOND}


def test_one_character_finds_every_word_holding_it(engine):
    fill(engine, first_contract())
    assert contracts(engine.search("床")) == {FIRST}
    assert contracts(engine.search("台")) == {FIRST}  # 2 台 / 台已: a run of its own


@pytest.mark.parametrize("query", ["铣床", "北京", "CK6151", "车床 NOT 刀具", "buyer:申远"])
def test_what_is_not_there_finds_nothing(engine, query):
    fill(engine, [entry()])  # the sales contract alone
    assert engine.search(query).total == 0


def test_each_document_of_a_dossier_is_matched_on_its_own(engine):
    fill(engine, first_contract())
    found = engine.search("车床 NOT 刀具")  # the delivery notice ships lathes, not tools
    assert [hit["number"] for hit in found.hits] == ["FH-202611-0003"]


def test_a_fragment_across_punctuation_is_not_a_match(engine):
    fill(engine, [entry(text="检测水平精，精工机械", buyer="", seller="", products="")])
    assert engine.search("平精工").total == 0
    assert engine.search('"水平精 精工"').total == 0
    assert engine.search('"水平精，精工"').total == 1  # the phrase has the punctuation too
    assert engine.search("精工机械").total == 1


@pytest.mark.parametrize("query", ["共20台", "20台", "台", '"共20台"', '"20台"', "设备共"])
def test_numbers_between_han_characters_are_found(engine, query):
    fill(engine, [entry(text="设备共20台已验收", buyer="", seller="", products="")])
    assert engine.search(query).total == 1


def test_whitespace_does_not_break_a_phrase_but_punctuation_does(engine):
    fill(
        engine,
        [
            entry(key="a", contract_no="a", products="", text="数控车床\nCK6150 两台"),
            entry(key="b", contract_no="b", products="", text="数控车床，CK6150。两台"),
        ],
    )
    assert contracts(engine.search('"数控车床 CK6150"')) == {"a"}
    assert contracts(engine.search('"车床CK6150两台"')) == {"a"}
    assert contracts(engine.search("车床CK6150两台")) == {"a", "b"}  # a word: each run


def test_a_model_number_quoted_is_whole_and_bare_is_a_prefix(engine):
    """Bare words match Latin tokens by prefix (CK61 finds CK6150); quoted, only whole."""
    exact = entry(
        key="exact",
        contract_no="exact",
        products="",
        text="CK6150 主轴；CK6150 尾座；随机附 CK6150 说明书。",
    )
    longer = [
        entry(key=f"l{i}", contract_no=f"l{i}", products="", text=f"型号 CK61500-{i}")
        for i in range(50)
    ]
    shorter = [
        entry(key=f"s{i}", contract_no=f"s{i}", products="", text=f"型号 CK615，{i} 台")
        for i in range(50)
    ]
    fill(engine, [exact, *longer, *shorter])
    assert contracts(engine.search('"CK6150"')) == {"exact"}
    assert engine.search("CK6150", per_page=100).total == 51
    assert engine.search("CK615", per_page=100).total == 101
    assert engine.search('"CK615"', per_page=100).total == 50


def test_parts_of_numbers_are_found_by_prefix(engine):
    fill(engine, first_contract())
    for query in ["0001", "202611", "86660", "25659.1", "gb/t", "t-2"]:
        assert contracts(engine.search(query)) == {FIRST}, query


PRICED = "电缆 RVV {size}，100 米，单价 {price} 元；合计人民币 {total} 元。"


@pytest.mark.parametrize(("price", "total"), [("1,001.10", "100,110.00"),
                                              ("1001.10", "100110.00")])  # fmt: skip
def test_an_amount_is_found_with_or_without_thousands_separators(engine, price, total):
    fill(engine, [entry(products="", text=PRICED.format(size="4×0.5", price=price,
                                                        total=total))])  # fmt: skip
    for query in ("1001.10", "1,001.10", "１，００１．１０", "1001", "1,001", "100110",
                  "100110.00", "100,110", "100,110.00", "单价 1,001.10"):  # fmt: skip
        assert contracts(engine.search(query)) == {FIRST}, query
    for query in ("1001.11", "1,001.11", "100,111"):
        assert engine.search(query).total == 0, query


@pytest.mark.parametrize("size", ["4×0.5", "4x0.5", "4X0.5", "4*0.5", "4 × 0.5", "４×０.５"])
def test_a_size_is_found_whichever_times_sign_was_typed(engine, size):
    text = PRICED.format(size=size, price="1.10", total="110.00")
    fill(engine, [entry(products=f"电缆 RVV {size}", text=text)])
    for query in ("4×0.5", "4x0.5", "4X0.5", "4*0.5", "４×０.５", "RVV 4×0.5",
                  "product:4x0.5", "0.5"):  # fmt: skip
        assert contracts(engine.search(query)) == {FIRST}, query
    for query in ("4×0.6", "5x0.5", "product:4x0.6"):
        assert engine.search(query).total == 0, query


def test_field_queries_search_only_that_field(archive):
    assert contracts(archive.search("buyer:重工")) == {SECOND}
    assert contracts(archive.search('seller:"申远机电"')) == {FIRST}
    assert archive.search("number:FH").total == 1
    assert contracts(archive.search("year:2025")) == {SECOND, THIRD}
    assert archive.search("kind:amendment").total == 1
    assert contracts(archive.search("status:completed OR payment_state:partially_paid")) == {
        SECOND,
        THIRD,
    }


def test_a_query_of_negations_means_everything_else(archive):
    found = archive.search("NOT 车床")
    assert {hit["number"] for hit in found.hits} == {f"{FIRST}-BC01", SECOND, THIRD}
    assert contracts(archive.search("-申远 -天津")) == {THIRD}


def test_the_empty_query_lists_everything(archive):
    assert archive.search("").total == 5
    assert archive.search("   ").total == 5


def test_a_phrase_with_an_edge_character_keeps_dots_literal(engine):
    fill(
        engine,
        [
            entry(key="a", contract_no="a", products="", text="规格 3.5-a 台"),
            entry(key="b", contract_no="b", products="", text="规格 3x5-a 台"),
        ],
    )
    assert contracts(engine.search('"3.5-a 台"')) == {"a"}
