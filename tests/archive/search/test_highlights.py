"""The hit list shows where each word was found, in the document's own text."""

from __future__ import annotations

import re

from tests.archive.search.contracts import entry, fill, first_contract


def highlights(engine, query: str, number: str | None = None) -> list[str]:
    for hit in engine.search(query).hits:
        if number is None or hit["number"] == number:
            return hit["highlights"]
    raise AssertionError(f"{number} not found by {query}")


def test_the_matched_fragment_is_marked(engine):
    fill(engine, first_contract())
    (fragment,) = highlights(engine, "平精工", "HT-202611-0001")
    assert "杭州临<mark>平精工</mark>机械" in fragment


def test_the_original_characters_are_marked_full_width_or_not(engine):
    fill(engine, first_contract())
    assert "数控车床 <mark>CK6150</mark>，2 台" in highlights(engine, "ck6150", "HT-202611-0001")[0]
    assert "<mark>ＣＫ６１５０</mark>" in highlights(engine, "CK6150", "FH-202611-0003")[0]
    # A prefix marks the whole model number it begins.
    assert "<mark>ＣＫ６１５０</mark>" in highlights(engine, "ＣＫ61", "FH-202611-0003")[0]


def test_a_prefix_marks_the_rest_of_its_part(engine):
    fill(engine, first_contract())
    (fragment,) = highlights(engine, "86660", "HT-202611-0001")
    assert "0571-<mark>86660000</mark>" in fragment


def test_an_amount_or_a_size_is_marked_as_it_is_written(engine):
    fill(engine, [entry(text="电缆 RVV 4 × 0.5，单价 1,001.10 元。")])
    assert "单价 <mark>1,001.10</mark> 元" in highlights(engine, "1001.10")[0]
    assert "RVV <mark>4 × 0.5</mark>，" in highlights(engine, "4x0.5")[0]


def test_a_phrase_is_marked_whole(engine):
    fill(engine, first_contract())
    (fragment,) = highlights(engine, '"上海仲裁委员会"', "HT-202611-0001")
    assert "争议提交<mark>上海仲裁委员会</mark>仲裁" in fragment


def test_text_is_escaped_and_whitespace_collapsed(engine):
    fill(engine, [entry(text="A&B <贸易> 公司\t采购  数控车床 两台")])
    (fragment,) = highlights(engine, "车床")
    assert fragment == "A&amp;B &lt;贸易&gt; 公司 采购 数控<mark>车床</mark> 两台"


def test_long_text_is_cut_with_an_ellipsis(engine):
    fill(engine, [entry(text="前" * 60 + "数控车床" + "后" * 60)])
    (fragment,) = highlights(engine, "车床")
    assert fragment.startswith("…") and fragment.endswith("…")
    assert len(re.sub(r"</?mark>", "", fragment)) <= 2 + 2 * 18 + 2


def test_a_repeated_passage_is_shown_once(engine):
    fill(engine, first_contract())  # the delivery notice repeats its text in six copies
    fragments = highlights(engine, "木箱", "FH-202611-0003")
    assert len(fragments) == 1
    assert "<mark>木箱</mark>包装" in fragments[0]


def test_at_most_three_fragments(engine):
    fill(engine, [entry(text="\n".join(f"第{i}行 数控车床" for i in range(10)))])
    assert len(highlights(engine, "车床")) == 3


def test_filters_and_negations_mark_nothing(engine):
    fill(engine, first_contract())
    assert highlights(engine, "region:华东", "HT-202611-0001") == []
    assert "刀具" not in "".join(highlights(engine, "车床 NOT 铣床 -刀具", "FH-202611-0003"))
