"""The words of a rendered Word document, as a person reads them (for the search index).

Read straight from ``word/document.xml`` with lxml: a paragraph per line, table cells in
order. Taken at filing time from the bytes in hand, so the index never reopens the file.
"""

from __future__ import annotations

import io
import zipfile

from lxml import etree

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# Bounded: a rendered document is small; anything past this is not ours to index.
MAX_XML = 50 * 1024 * 1024


def docx_text(data: bytes) -> str:
    """Paragraph texts of the body (tables included), one per line, empty ones dropped."""
    with zipfile.ZipFile(io.BytesIO(data)) as docx:
        info = docx.getinfo("word/document.xml")
        if info.file_size > MAX_XML:
            raise ValueError("word/document.xml is larger than a rendered document can be")
        root = etree.fromstring(docx.read(info), etree.XMLParser(resolve_entities=False))
    lines = []
    for paragraph in root.iter(f"{W}p"):
        parts = []
        for node in paragraph.iter(f"{W}t", f"{W}tab", f"{W}br"):
            parts.append(node.text or "" if node.tag == f"{W}t" else " ")
        line = "".join(parts).strip()
        if line:
            lines.append(line)
    return "\n".join(lines)
