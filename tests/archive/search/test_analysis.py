"""Analysis: the token streams every engine indexes."""

from __future__ import annotations

import unicodedata

from archive.search.analysis import (
    analyse,
    fold,
    fold_for_tokens,
    fold_with_offsets,
    prefixes,
    runs,
    words,
)


def test_folding_is_nfkc_and_lower_case():
    assert fold("ＣＫ６１５０，ＨＴ－２０２６") == "ck6150,ht-2026"
    assert fold("Ⅻ①ﬁ") == unicodedata.normalize("NFKC", "Ⅻ①ﬁ").lower()


def test_the_cheap_fold_gives_the_same_runs():
    for text in [
        "上海申远，CK6150。",
        "ＣＫ６１５０",
        "3․5",
        "e\u0301t",
        "㈱申远",
        "２０２６－１１",
    ]:
        assert runs(fold_for_tokens(text)) == runs(fold(text)), text


def test_the_offset_map_points_back_to_the_original():
    folded, offsets = fold_with_offsets("ＣＫ６１５０")
    assert folded == "ck6150" and offsets is None
    folded, offsets = fold_with_offsets("㈱申远")  # one character folds into three
    assert folded == "(株)申远" and offsets == [0, 0, 0, 1, 2]


def test_han_text_becomes_bigrams_other_runs_stay_whole():
    assert analyse("上海申远机电").tokens == "上海 海申 申远 远机 机电"
    assert analyse("数控车床CK6150两台").tokens == "数控 控车 车床 ck6150 两台"
    assert analyse("编号 HT-202611-0001 与 GB/T 3.5").tokens == "编号 ht-202611-0001 与 gb/t 3.5"
    assert analyse("共20台").tokens == "共 20 台"


def test_punctuation_leaves_a_boundary_whitespace_does_not():
    assert analyse("检测水平精，精工机械").tokens == "检测 测水 水平 平精 | 精工 工机 机械"
    assert analyse("车床\n  刀具").tokens == "车床 刀具"
    assert analyse("车床。\n刀具").tokens == "车床 | 刀具"
    assert analyse("车床\n——\n刀具").tokens == "车床 | 刀具"
    assert analyse("，车床、、刀具。").tokens == "车床 | 刀具"


def test_prefixes_of_whole_tokens_and_of_their_parts():
    assert prefixes("ck61") == {"c", "ck", "ck6", "ck61"}
    found = prefixes("ht-2026-01")
    assert {"ht-2026", "ht-2026-0", "2026", "01", "0"} <= found
    assert "ht-" not in found and "ht-2026-" not in found
    assert len(max(prefixes("x" * 100), key=len)) == 32
    assert analyse("电话 0571-86660000").prefixes == prefixes("0571-86660000")


def test_jieba_words_for_ranking():
    assert words(["杭州临平精工机械有限公司"]) == [
        "杭州",
        "临平",
        "精工",
        "机械",
        "有限",
        "公司",
        "有限公司",
    ]
    assert words(["数控车床 CK6150"]) == ["数控", "车床", "数控车床", "ck6150"]
