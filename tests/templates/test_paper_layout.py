"""The contract, the amendment and the delivery notice as a clerk prints them: the hard cases
(25 and 200 lines, 100,000,000.00 and 0.01, long models and tracking numbers, clauses that
already end in punctuation) through the real LibreOffice, read back with ``pdftotext -layout``.

Every amount, date, number and code is whole on one line; every page carries its page number
and its document number; continuation pages start with the table header; no table row is split;
punctuation never doubles; the text closes with （以下无正文） and the signature block never
stands alone on the last page."""

from __future__ import annotations

import copy
import io
import json
import re
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from schemas import ContractSchema
from templates import amendment, delivery_notice, sales_contract
from templates.render import Renderer
from templates.sales_contract import line_amount

DATA = Path(__file__).parent.parent / "data" / "contract.json"
CONTRACT_NO = "HT-202611-0001"
AMENDMENT_NO = "HT-202611-0001-BC01"
NOTICE_NO = "FH-202612-0001"
TRACKING_NO = "SF1402837465921"
MODELS = ("FX5-16EX/ES-A1", "CK6150", "QJ-2000X/SS-B12", "")
PRICES = ("100000000.00", "0.01", "185000.00", "1250.50")
QUANTITIES = ("1", "100000000", "2", "10.5")
NAME = "精密数控车床及配套附件"  # wraps in its column: a row of two lines
DOUBLED = re.compile(r"[。；，、,;][。；，、,;]")


def terms(lines: int) -> dict:
    """The example contract with ``lines`` items and clauses that end in punctuation."""
    data = json.loads(DATA.read_text("utf-8"))
    data["items"] = [
        {"name": NAME, "spec": MODELS[i % 4], "unit": "台", "quantity": QUANTITIES[i % 4],
         "unit_price": PRICES[i % 4]}
        for i in range(lines)
    ]  # fmt: skip
    data["transport"]["method"] = "公路运输。"
    data["delivery"]["place"] = "需方杭州临平厂区；"
    data["payment"]["method"] = "银行转账，"
    data["payment"]["terms"] = "合同生效后预付30%，验收合格后30日内付清余款，质保金5%。"
    data["quality_standard"] = "符合国家标准GB/T 25659及出厂检验标准。"
    data["extra_clauses"] = ["本合同一式两份，双方各执一份。", "未尽事宜双方另行协商；"]
    return data


def pdf_pages(converter, word: bytes, folder: Path) -> list[str]:
    pdf = folder / "out.pdf"
    pdf.write_bytes(converter.to_pdf(word))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    return [page for page in text.split("\f") if page.strip()]


def squeezed(pages: list[str]) -> str:
    """All lines with the spaces pdftotext puts between characters removed; lines stay lines."""
    return "\n".join(re.sub(r"\s+", "", line) for page in pages for line in page.splitlines())


def whole(token: str, text: str) -> int:
    """How often ``token`` stands whole (not inside a longer number) in ``text``: the text as
    pdftotext gives it, where neighbouring cells are apart by at least a space."""
    return len(re.findall(rf"(?<![\d,.]){re.escape(token)}(?![\d,])", text))


def contract_rendering(converter, tmp_path_factory, lines: int) -> SimpleNamespace:
    data = ContractSchema().load(terms(lines))
    context = sales_contract.context(CONTRACT_NO, data)
    word = Renderer().render(sales_contract.TEMPLATE, context,
                             properties=sales_contract.properties(CONTRACT_NO, data))  # fmt: skip
    pages = pdf_pages(converter, word.data, tmp_path_factory.mktemp(f"contract{lines}"))
    return SimpleNamespace(data=data, context=context, word=word.data, pages=pages)


@pytest.fixture(scope="module")
def contract25(converter, tmp_path_factory):
    return contract_rendering(converter, tmp_path_factory, 25)


@pytest.fixture(scope="module")
def contract200(converter, tmp_path_factory):
    return contract_rendering(converter, tmp_path_factory, 200)


def seen_contract(lines: int) -> SimpleNamespace:
    return SimpleNamespace(contract_no=CONTRACT_NO, signed_on="2026-11-20", region="华东",
                           buyer_name="杭州临平精工机械有限公司", terms=terms(lines))  # fmt: skip


@pytest.fixture(scope="module")
def amended(converter, tmp_path_factory):
    contract = seen_contract(4)
    record = {"reason": "数控车床增订一台。", "effective_on": "2026-12-05", "changes": [
        {"field": "quantity", "item": 0, "label": "第1项（精密数控车床）数量", "before": "1",
         "after": "2", "reason": "需方增订。"},
        {"field": "unit_price", "item": 1, "label": "第2项单价", "before": "0.01",
         "after": "100000000.00", "reason": "按新报价执行"}]}  # fmt: skip
    # A total whose words put the total before it at the end of a line, where LibreOffice
    # broke it after the decimal point (¥384,400. / 00) while Latin text was tagged zh-CN.
    context = amendment.context(AMENDMENT_NO, contract, contract.terms, record,
                                Decimal("384400.00"), Decimal("3000000000.55"))  # fmt: skip
    word = Renderer().render(amendment.TEMPLATE, context,
                             properties=amendment.properties(AMENDMENT_NO, contract))  # fmt: skip
    pages = pdf_pages(converter, word.data, tmp_path_factory.mktemp("amendment"))
    return SimpleNamespace(context=context, word=word.data, pages=pages)


def shipped(contract: SimpleNamespace) -> dict:
    """A delivery of every line of ``contract`` (what the notice's context is given)."""
    lines = [
        {"item": i, "name": item["name"], "spec": item["spec"], "unit": item["unit"],
         "quantity": item["quantity"], "unit_price": item["unit_price"],
         "amount": str(line_amount(Decimal(item["quantity"]), Decimal(item["unit_price"])))}
        for i, item in enumerate(contract.terms["items"])
    ]  # fmt: skip
    record = {"delivery_date": "2026-12-10", "ship_to": "浙江省杭州市临平区东湖街道99号",
              "carrier": "顺丰速运", "tracking_no": TRACKING_NO, "prepared_by": "李明",
              "lines": lines}  # fmt: skip
    return record


@pytest.fixture(scope="module")
def notice(converter, tmp_path_factory):
    contract = seen_contract(25)
    record = shipped(contract)
    context = delivery_notice.context(NOTICE_NO, contract, record)
    properties = delivery_notice.properties(NOTICE_NO, contract)
    word = Renderer().render(delivery_notice.TEMPLATE, context, properties=properties)
    pages = pdf_pages(converter, word.data, tmp_path_factory.mktemp("notice"))
    return SimpleNamespace(context=context, word=word.data, pages=pages)


# -- 1. numbers and codes are whole ------------------------------------------------------------


def assert_items_whole(items: list[dict], text: str, copies: int = 1) -> None:
    for key in ("unit_price", "amount", "quantity"):
        for value in {item[key] for item in items}:
            expected = copies * sum(1 for item in items if item[key] == value)
            assert whole(value, text) >= expected, f"{key} {value} is broken across lines"
    for model in filter(None, MODELS):
        expected = copies * sum(1 for item in items if item["spec"] == model)
        assert text.count(model) == expected, f"model {model} is broken across lines"


@pytest.mark.parametrize("fixture", ["contract25", "contract200"])
def test_contract_amounts_models_dates_and_numbers_are_whole(fixture, request):
    done = request.getfixturevalue(fixture)
    assert_items_whole(done.context["items"], "\n".join(done.pages))
    text = squeezed(done.pages)
    assert whole(done.context["total"], text) >= 1
    for token in (CONTRACT_NO, "2026年11月20日", "2026年12月31日", "2027年1月31日", "021-58880000",
                  "0571-86660000", "1001234509876543210", "91310115MA1H7XXXX1"):  # fmt: skip
        assert token in text, f"{token} is broken across lines"


def test_amendment_amounts_and_numbers_are_whole(amended):
    text = squeezed(amended.pages)
    for token in ("¥3,000,000,000.55", "¥384,400.00", "100,000,000.00元", "0.01元",
                  AMENDMENT_NO, CONTRACT_NO, "2026年11月20日", "2026年12月5日"):  # fmt: skip
        assert token in text, f"{token} is broken across lines"


def test_delivery_notice_amounts_models_and_tracking_number_are_whole(notice):
    assert_items_whole(notice.context["lines"], "\n".join(notice.pages), copies=6)
    text = squeezed(notice.pages)
    assert text.count(TRACKING_NO) == 6
    assert text.count("2026年12月10日") >= 6


# -- 2. page numbers, document numbers, table headers, rows, signature --------------------------

HEADER = re.compile(r"序号\s*产品名称\s*规格型号\s*单位\s*数量\s*单价")


def assert_numbered(pages: list[str], number: str) -> None:
    for n, page in enumerate(pages, 1):
        assert re.search(rf"第\s*{n}\s*页\s*共\s*{len(pages)}\s*页", page), f"page {n} unnumbered"
        assert number in page, f"page {n} does not carry {number}"


def assert_header_repeated(pages: list[str]) -> None:
    """A page that holds item rows shows the table header before them, at its top when the
    table continues there from the page before."""
    row = re.compile(rf"^\s*\d+\s+{NAME[:4]}", re.MULTILINE)
    for n, page in enumerate(pages, 1):
        first = row.search(page)
        if not first:
            continue
        header = HEADER.search(page)
        assert header and header.start() < first.start(), f"page {n} has no table header"
        if n > 1 and row.search(pages[n - 2]) and "合计" not in pages[n - 2]:
            top = [line for line in page.splitlines() if line.strip()][:3]
            assert any(HEADER.search(line) for line in top), f"page {n} does not start with it"


def assert_rows_whole(pages: list[str]) -> None:
    """A row's two lines (its name wraps) are on one page."""
    for page in pages:
        starts = re.findall(rf"^\s*\d+\s+{NAME[:4]}", page, flags=re.MULTILINE)
        assert len(starts) == page.count(NAME[-2:]), "a table row is split"


@pytest.mark.parametrize("fixture", ["contract25", "contract200"])
def test_contract_pages_are_numbered_with_headers_and_whole_rows(fixture, request):
    done = request.getfixturevalue(fixture)
    assert len(done.pages) > 1
    assert_numbered(done.pages, CONTRACT_NO)
    assert_header_repeated(done.pages)
    assert_rows_whole(done.pages)


def test_amendment_pages_are_numbered(amended):
    assert_numbered(amended.pages, AMENDMENT_NO)


def test_delivery_notice_pages_are_numbered_and_labelled_by_copy(notice):
    assert len(notice.pages) >= 6
    assert_numbered(notice.pages, NOTICE_NO)
    assert_header_repeated(notice.pages)
    assert_rows_whole(notice.pages)
    ordinals = [re.search(r"第\s*([一二三四五六])\s*联", page) for page in notice.pages]
    assert all(ordinals), "a page without its copy label"
    seen = [m.group(1) for m in ordinals]
    assert seen == sorted(seen, key="一二三四五六".index) and set(seen) == set("一二三四五六")


def assert_signature_page(pages: list[str]) -> None:
    """The text closes with （以下无正文）, which shares the last page with the signatures."""
    text = squeezed(pages)
    assert text.count("（以下无正文）") == 1
    last = squeezed(pages[-1:])
    assert "（以下无正文）" in last, "the signature block stands alone on the last page"
    block = last[last.index("（以下无正文）") :]
    assert block.count("供方（盖章）") == 1, "the signatures do not follow （以下无正文）"
    for label in ("单位名称", "法定代表人/委托代理人", "签字并盖章", "日期"):
        assert block.count(label) == 2, f"{label} is not on the signature page"


@pytest.mark.parametrize("fixture", ["contract25", "contract200", "amended"])
def test_the_signature_block_closes_the_text_on_its_page(fixture, request):
    assert_signature_page(request.getfixturevalue(fixture).pages)


@pytest.mark.parametrize("fixture", ["contract25", "amended"])
def test_each_party_has_room_for_a_4cm_seal(fixture, request):
    """A row of the signature table at least 4 cm (2268 twips) high."""
    word = request.getfixturevalue(fixture).word
    xml = zipfile.ZipFile(io.BytesIO(word)).read("word/document.xml").decode("utf-8")
    heights = [int(h) for h in re.findall(r'<w:trHeight [^>]*w:val="(\d+)"', xml)]
    assert heights and max(heights) >= 2268


# -- 3. punctuation, representatives -----------------------------------------------------------


@pytest.mark.parametrize("fixture", ["contract25", "amended", "notice"])
def test_punctuation_never_doubles(fixture, request):
    text = squeezed(request.getfixturevalue(fixture).pages)
    assert not DOUBLED.search(text), DOUBLED.search(text)


def test_clauses_keep_their_own_words(contract25):
    text = squeezed(contract25.pages).replace("\n", "")
    for words in ("质保金5%；需方最迟于", "运输方式：公路运输；", "付款方式：银行转账；",
                  "出厂检验标准。", "未尽事宜双方另行协商。"):  # fmt: skip
        assert words in text


def test_the_amendment_names_both_representatives(amended):
    text = squeezed(amended.pages).replace("\n", "")
    assert "数控车床增订一台，经双方协商一致" in text
    assert "王建国" in text and "陈晓" in text


def test_the_context_strips_what_the_template_adds():
    data = copy.deepcopy(terms(1))
    context = sales_contract.context(CONTRACT_NO, ContractSchema().load(data))
    assert context["payment"]["terms"].endswith("质保金5%")
    assert context["transport"]["method"] == "公路运输"
