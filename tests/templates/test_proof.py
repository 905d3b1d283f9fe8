"""``hetong templates proof``: every template filled with the hard cases, as a PDF and page
images a person looks at before a release — through the real LibreOffice and pdftoppm."""

from __future__ import annotations

import re

from pypdf import PdfReader

from service.cli import main
from templates.listener import free_port
from templates.render import Renderer


def test_proof_writes_a_pdf_and_page_images_of_every_template(runner, tmp_path):
    out = tmp_path / "proof"
    result = runner.invoke(main, ["templates", "proof", "-o", str(out)])
    assert result.exit_code == 0, result.output

    pdfs = sorted(out.glob("*.pdf"))
    for name in Renderer().names():
        mine = [p for p in pdfs if re.fullmatch(rf"{name}-[a-z0-9-]+", p.stem)]
        assert mine, f"no proof of {name}"
        for pdf in mine:
            pages = len(PdfReader(pdf).pages)
            images = sorted(out.glob(f"{pdf.stem}-*.png"))
            assert [p.name for p in images] == sorted(f"{pdf.stem}-{n}.png"
                                                      for n in range(1, pages + 1))  # fmt: skip
            assert all(p.stat().st_size > 1000 for p in images)
    for path in [*pdfs, *out.glob("*.png")]:  # each file written is printed
        assert str(path) in result.output

    long_contract = out / "sales_contract-200-lines.pdf"
    assert len(PdfReader(long_contract).pages) >= 4  # 200 rows: many pages
    assert (out / "sales_contract-25-lines.pdf").exists()
    assert {"list", "certificate"} <= {p.stem.removeprefix("destruction-") for p in pdfs}


def test_proof_without_pdftoppm_says_so_in_chinese(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = runner.invoke(main, ["templates", "proof", "-o", str(tmp_path / "proof")])
    assert result.exit_code != 0
    assert "pdftoppm" in result.output and "poppler-utils" in result.output
    assert not list(tmp_path.glob("proof/*.pdf")), "nothing converted before the check"


def test_proof_without_libreoffice_says_so_in_chinese(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("HETONG_CONVERTER_URL", f"http://127.0.0.1:{free_port()}")  # nobody there
    result = runner.invoke(main, ["templates", "proof", "-o", str(tmp_path / "proof")])
    assert result.exit_code == 5
    assert "文档生成暂不可用" in result.output
