"""The query language: what it means, and a clear Chinese answer when it cannot be read."""

from __future__ import annotations

import random
import re

import pytest

from archive.search import QueryError
from archive.search.query import All, And, Match, Not, Or, parse, plan, positive_matches

MALFORMED = {
    '"unclosed': "引号",
    "(车床": "括号",
    "车床)": "括号",
    "colour:red": "未知字段 colour",
    "!!!": "没有可检索",
    "(" * 2000: "查询过长",
    "车" * 201: "最多 200 个字符",
    " ".join(["车床"] * 21): "最多 20 个",
    "车床 AND": "运算符",
    "OR 车床": "运算符",
    "NOT": "运算符",
    "buyer:": "缺少",
    "year:去年": "year",
    "()": "没有可检索",
}


@pytest.mark.parametrize(("query", "says"), MALFORMED.items())
def test_a_malformed_query_is_refused_in_chinese(engine, query, says):
    with pytest.raises(QueryError) as refused:
        engine.search(query)
    too_large = says in ("查询过长", "最多 200 个字符", "最多 20 个")
    assert refused.value.code == ("query_too_large" if too_large else "bad_query")
    assert says in refused.value.message
    assert re.search(r"[\u4e00-\u9fff]", refused.value.message)


def test_an_unknown_field_lists_the_known_ones():
    with pytest.raises(QueryError, match="buyer、seller、product、contract_no"):
        parse("colour:red")


def test_deep_nesting_is_refused_without_recursion():
    with pytest.raises(QueryError, match="最多 8 层"):
        parse("(" * 2000 + "车床" + ")" * 2000, max_length=10_000)
    with pytest.raises(QueryError, match="最多 3 层"):
        parse("((((车床))))", max_depth=3)
    assert parse("((((((((车床))))))))") == parse("车床")
    assert parse("NOT " * 5000 + "车床", max_length=100_000) == parse("车床")


def test_limits_are_parameters():
    assert parse(" ".join(["车床"] * 21), max_terms=30)
    with pytest.raises(QueryError, match="最多 10 个字符"):
        parse("数控车床 AND 刀具套装", max_length=10)


def test_operators_bind_not_then_and_then_or():
    a, b, c = (Match(None, w, False, parse(w).runs) for w in ("甲乙", "丙丁", "戊己"))
    assert parse("甲乙 OR 丙丁 戊己") == Or((a, And((b, c))))
    assert parse("甲乙 AND 丙丁 OR 戊己") == Or((And((a, b)), c))
    assert parse("甲乙 NOT 丙丁") == And((a, Not(b)))
    assert parse("甲乙 -丙丁") == And((a, Not(b)))
    assert parse("(甲乙 OR 丙丁) 戊己") == And((Or((a, b)), c))
    assert parse("甲乙 and 丙丁") == And((a, Match(None, "and", False, parse("and").runs), b))


def test_full_width_syntax_is_understood():
    assert parse("（车床）") == parse("车床")
    assert parse("buyer：临平") == parse("buyer:临平")
    assert parse("“上海仲裁”") == parse('"上海仲裁"')


def test_words_without_anything_searchable_are_dropped():
    assert parse("车床 !!! ，") == parse("车床")
    assert parse("") == All() and parse("  ") == All()


def test_exact_fields_keep_their_value():
    assert parse("region:华东") == Match("region", "华东")
    assert parse("year:2025") == Match("year", "2025")


def test_only_matches_outside_a_not_are_positive():
    found = positive_matches(parse("车床 NOT (刀具 OR NOT 铣床) buyer:临平"))
    assert [(m.field, m.text) for m in found] == [(None, "车床"), (None, "铣床"), ("buyer", "临平")]


def test_what_a_word_looks_up():
    (match,) = [parse("平精工")]
    assert [[s.text for s in clause] for clause in plan(match)] == [["平精", "精工"]]
    clauses = plan(parse("共20台"))
    assert [getattr(c, "text", None) or [s.text for s in c] for c in clauses] == [
        [".?共|共.?"],
        "20",
        [".?台|台.?"],
    ]
    (phrase,) = plan(parse('"共20台"'))
    assert [s.text for s in phrase] == [".?共", "20", "台.?"]
    (phrase,) = plan(parse('"水平精，精工"'))
    assert [s.text for s in phrase] == ["水平", "平精", "|", "精工"]


def test_any_typed_text_gives_hits_or_a_query_error(engine):
    """Whatever an archivist types, the answer is hits or a QueryError, never a crash."""
    from tests.archive.search.contracts import fill, first_contract

    fill(engine, first_contract())
    typed = '车床 床 申远 CK61 0571- - -- " “ ( ) （ ） AND OR NOT buyer: year: region: colour:'
    pieces = [*typed.split(" "), ":", "|", ".?", "*", "\\", "，", "。", "ｘ", "①", "㈱", "_", "/"]
    pieces += ["a.b", "!", " ", "  ", "\u3000", "\t"]
    rng = random.Random(20261124)
    for _ in range(300):
        query = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        try:
            engine.search(query)
        except QueryError as refused:
            assert re.search(r"[\u4e00-\u9fff]", refused.message), query
