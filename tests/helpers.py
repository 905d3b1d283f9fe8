"""Reading what a user receives: PDF text and fonts (pypdf), .docx text (python-docx); and
Word templates as a person edits them."""

from __future__ import annotations

import io
import zipfile

from docx import Document
from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def pdf_fonts(data: bytes) -> dict[str, bool]:
    """Font name → embedded?"""
    fonts = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            target = (
                font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            )
            descriptor = target["/FontDescriptor"].get_object()
            fonts[font["/BaseFont"]] = any(
                k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")
            )
    return fonts


def docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def docx_part(data: bytes, name: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read(name).decode("utf-8")


def offered(edit=None, kind: str = "sales_contract") -> bytes:
    """The bundled template of ``kind``, as a person might have edited it in Word."""
    from templates import BUNDLED

    document = Document(io.BytesIO((BUNDLED / f"{kind}.docx").read_bytes()))
    if edit:
        edit(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def paragraph_with(document, text: str):
    """(its number in the body, from 1; the paragraph) of the first paragraph holding text."""
    found = [(n, p) for n, p in enumerate(document.paragraphs, 1) if text in p.text]
    assert found, text
    return found[0]


def misspell(document) -> None:
    """``{{ buyer.name }}`` typed as ``{{ buyer.nmae }}``."""
    _, paragraph = paragraph_with(document, "{{ buyer.name }}")
    for run in paragraph.runs:
        run.text = run.text.replace("buyer.name", "buyer.nmae")


def split_tag(document) -> None:
    """``{{ buyer.name }}`` split over three runs, the middle one bold, as Word leaves a tag
    whose middle was reformatted."""
    _, paragraph = paragraph_with(document, "{{ buyer.name }}")
    text = paragraph.text
    for run in paragraph.runs:
        run.text = ""
    start = text.index("{{ buyer.name }}")
    head, tail = text[: start + 5], text[start + 5 :]  # "…{{ bu" | "yer.name }}…"
    paragraph.runs[0].text = head
    middle = paragraph.add_run(tail[:4])
    middle.bold = True
    paragraph.add_run(tail[4:])
