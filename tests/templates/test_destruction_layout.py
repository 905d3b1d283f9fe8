"""A destruction list as an archivist prints it: every number whole on its line, the header
on every page, each page numbered."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pytest

from templates import destruction
from templates.render import Renderer

ROWS = 60  # four landscape pages


def tombstones(n: int) -> list[dict]:
    return [
        {
            "contract_no": f"HT-201905-{i:04d}",
            "archival_code": f"HT·2019·西南·{i:04d}",
            "seller": "上海申远机电设备有限公司",
            "buyer": "成都高新数控技术有限公司",
            "region": "西南",
            "signed_on": "2019-05-10",
            "status": "completed",
            "total": "100000000.00",
            "paid": "100000000.00",
            "documents": [
                {
                    "kind": "sales_contract",
                    "number": f"HT-201905-{i:04d}",
                    "format": "pdf",
                    "sha256": f"{i:02d}" * 32,
                },
                {
                    "kind": "delivery_notice",
                    "number": f"FH-201905-{i:04d}",
                    "format": "pdf",
                    "sha256": f"{i + 1:02d}" * 32,
                },
            ],
        }
        for i in range(1, n + 1)
    ]


@pytest.fixture(scope="module")
def pages(converter, tmp_path_factory) -> list[str]:
    """The list's pages as ``pdftotext -layout`` reads them."""
    number = "XQ-2026-0001"
    context = destruction.list_context(tombstones(ROWS), dt.date(2026, 1, 1),
                                       volume=destruction.volume_name(2019, "西南"))  # fmt: skip
    context["number"] = number
    properties = destruction.properties(number, context["title"])
    word = Renderer().render(destruction.TEMPLATE, context, properties=properties)
    pdf = tmp_path_factory.mktemp("list") / "list.pdf"
    pdf.write_bytes(converter.to_pdf(word.data))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    return [page for page in text.split("\f") if page.strip()]


def test_numbers_codes_dates_amounts_and_hashes_are_never_broken(pages):
    lines = "\n".join(pages)
    for i in range(1, ROWS + 1):
        for whole in (f"HT-201905-{i:04d}", f"HT·2019·西南·{i:04d}", f"FH-201905-{i:04d}",
                      f"{i:02d}" * (destruction.HASH_PREFIX // 2)):  # fmt: skip
            assert re.search(re.escape(whole), lines), f"{whole} is broken across lines"
    assert lines.count("2019-05-10") == ROWS
    assert lines.count("100,000,000.00") == ROWS


def test_every_page_is_numbered_and_repeats_the_table_header(pages):
    assert len(pages) > 1
    for n, page in enumerate(pages, 1):
        assert re.search(rf"第\s*{n}\s*页\s*共\s*{len(pages)}\s*页", page), f"page {n} unnumbered"
        assert "XQ-2026-0001" in page
        assert re.search(r"序号\s+合同编号\s+供方", page), f"page {n} has no table header"


def test_a_row_is_never_split_across_pages(pages):
    for page in pages:
        rows = re.findall(r"^\s*(\d+)\s+HT-201905-(\d{4})", page, flags=re.MULTILINE)
        assert rows and all(int(n) == int(no) for n, no in rows)
        # A row's second line (the buyer, the delivery notice) is on the row's own page.
        assert page.count("上海申远机电设备有限公司") == page.count("成都高新数控技术有限公司")
