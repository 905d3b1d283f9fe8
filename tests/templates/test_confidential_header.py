"""密级 on paper (issue 11): every page of a confidential contract, amendment or delivery notice
carries 机密 at the top right, in the page header; a normal one carries nothing there, and its
pages are laid out exactly as without a header at all. Real LibreOffice, read back per page
with ``pdftotext -f N -l N`` (``-layout`` for the lines, ``-bbox`` for where words stand)."""

from __future__ import annotations

import html
import io
import re
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from schemas import ContractSchema
from templates import amendment, delivery_notice, sales_contract
from templates.check import check
from templates.render import Renderer
from tests.templates.test_paper_layout import (
    AMENDMENT_NO,
    CONTRACT_NO,
    NOTICE_NO,
    seen_contract,
    shipped,
    terms,
)

MARK = "机密"
KINDS = ("contract", "amendment", "notice")
TEMPLATES = (sales_contract.TEMPLATE, amendment.TEMPLATE, delivery_notice.TEMPLATE)
TOP_MARGIN = 2.0 / 2.54 * 72  # the templates' 2.0 cm, in PDF points: the body starts below it
WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)
PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">')


def contract_word(confidential: bool) -> bytes:
    """The 25-line contract of the layout tests: three pages of items, clauses, signatures."""
    data = ContractSchema().load(terms(25))
    context = sales_contract.context(CONTRACT_NO, data, confidential=confidential)
    properties = sales_contract.properties(CONTRACT_NO, data)
    return Renderer().render(sales_contract.TEMPLATE, context, properties=properties).data


def amendment_word(confidential: bool) -> bytes:
    """An amendment changing quantity and price of all 25 lines: a change table of pages."""
    contract = seen_contract(25)
    changes = [
        change
        for i in range(25)
        for change in (
            {"field": "quantity", "item": i, "label": f"第{i + 1}项（精密数控车床）数量",
             "before": "1", "after": "2", "reason": "需方增订。"},
            {"field": "unit_price", "item": i, "label": f"第{i + 1}项单价", "before": "0.01",
             "after": "100000000.00", "reason": "按新报价执行"},
        )
    ]  # fmt: skip
    record = {"reason": "数控车床增订。", "effective_on": "2026-12-05", "changes": changes}
    context = amendment.context(AMENDMENT_NO, contract, contract.terms, record,
                                Decimal("384400.00"), Decimal("3000000000.55"),
                                confidential=confidential)  # fmt: skip
    properties = amendment.properties(AMENDMENT_NO, contract)
    return Renderer().render(amendment.TEMPLATE, context, properties=properties).data


def notice_word(confidential: bool) -> bytes:
    """The six copies of a 25-line delivery notice, each over more than one page."""
    contract = seen_contract(25)
    record = shipped(contract)
    context = delivery_notice.context(NOTICE_NO, contract, record, confidential=confidential)
    properties = delivery_notice.properties(NOTICE_NO, contract)
    return Renderer().render(delivery_notice.TEMPLATE, context, properties=properties).data


WORD_OF = {"contract": contract_word, "amendment": amendment_word, "notice": notice_word}


def headerless(docx: bytes) -> bytes:
    """The same rendering with its page header unhooked: the pages as they were printed
    before the templates had a header."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                data = re.sub(rb"<w:headerReference\b[^>]*/>", b"", data)
            zout.writestr(item, data)
    return out.getvalue()


@pytest.fixture(scope="module")
def printed(converter, tmp_path_factory):
    """``printed(kind, variant)``: the PDF of a ``confidential``, ``normal`` or ``headerless``
    rendering, converted once for the module."""
    folder = tmp_path_factory.mktemp("confidential")
    done: dict[tuple[str, str], Path] = {}

    def get(kind: str, variant: str) -> Path:
        if (kind, variant) not in done:
            word = WORD_OF[kind](variant == "confidential")
            if variant == "headerless":
                word = headerless(word)
            path = folder / f"{kind}-{variant}.pdf"
            path.write_bytes(converter.to_pdf(word))
            done[kind, variant] = path
        return done[kind, variant]

    return get


def pdftotext(pdf: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", *args, str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


def page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE).group(1))


def page_words(pdf: Path, n: int) -> tuple[float, list[tuple[float, float, float, float, str]]]:
    """Page ``n``'s width and its words with their boxes (points from the top left)."""
    xml = pdftotext(pdf, "-bbox", "-f", str(n), "-l", str(n))
    width = float(PAGE.search(xml).group(1))
    words = [(*(round(float(v), 1) for v in m.groups()[:4]), html.unescape(m.group(5)))
             for m in WORD.finditer(xml)]  # fmt: skip
    return width, words


def all_words(pdf: Path) -> list[list[tuple]]:
    return [page_words(pdf, n)[1] for n in range(1, page_count(pdf) + 1)]


def unmarked(pages: list[list[tuple]]) -> list[list[tuple]]:
    """The words of each page but those of the mark (机密 and its ★, above the top margin)."""
    return [[w for w in page if w[3] >= TOP_MARGIN] for page in pages]


@pytest.mark.parametrize("kind", KINDS)
def test_every_page_of_a_confidential_document_carries_the_mark_at_its_top_right(printed, kind):
    pdf = printed(kind, "confidential")
    pages = page_count(pdf)
    assert pages > 1, "the case is a document of several pages"
    for n in range(1, pages + 1):
        lines = [line for line in pdftotext(pdf, "-layout", "-f", str(n), "-l", str(n))
                 .splitlines() if line.strip()]  # fmt: skip
        assert MARK in re.sub(r"\s+", "", lines[0]), f"page {n} does not start with {MARK}"
        assert sum(MARK in re.sub(r"\s+", "", line) for line in lines) == 1, f"page {n}"
        width, words = page_words(pdf, n)
        top = [w for w in words if w[3] < TOP_MARGIN]
        assert MARK in "".join(w[4] for w in top), f"page {n}: {MARK} is not in its header"
        assert min(w[0] for w in top) > width / 2, f"page {n}: {MARK} is not at the right"


@pytest.mark.parametrize("kind", KINDS)
def test_a_normal_document_has_no_mark_and_pages_as_without_a_header(printed, kind):
    pdf = printed(kind, "normal")
    assert MARK not in re.sub(r"\s+", "", pdftotext(pdf))
    # Every word of every page where it stood without a header: the empty header adds no
    # line, moves no title, breaks no page differently.
    assert all_words(pdf) == all_words(printed(kind, "headerless"))


@pytest.mark.parametrize("kind", KINDS)
def test_the_mark_moves_nothing_else_on_the_page(printed, kind):
    """The mark sits in the top margin: a confidential rendering paginates as a normal one."""
    marked = all_words(printed(kind, "confidential"))
    plain = all_words(printed(kind, "headerless"))
    assert unmarked(marked) == plain


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_templates_know_the_variable_and_pass_the_check(name):
    renderer = Renderer()
    assert "confidential" in renderer.variables(name)
    assert check(renderer, name) == []


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_mark_is_bold_chinese_in_the_documents_font(name):
    """The header's mark: bold, the templates' CJK font, East-Asian text tagged zh-CN."""
    with zipfile.ZipFile(Renderer().path(name)) as docx:
        headers = [docx.read(n).decode() for n in docx.namelist()
                   if re.fullmatch(r"word/header\d*\.xml", n)]  # fmt: skip
    assert len(headers) == 1
    run = re.search(rf"<w:r>(?:(?!</w:r>).)*{MARK}(?:(?!</w:r>).)*</w:r>", headers[0], re.DOTALL)
    assert run, f"{name} has no {MARK} in its header"
    assert "<w:b/>" in run.group(0)
    assert 'w:eastAsia="Noto Serif CJK SC"' in run.group(0)
    assert re.search(r'<w:lang [^>]*w:eastAsia="zh-CN"', run.group(0))
