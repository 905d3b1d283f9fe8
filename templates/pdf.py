"""Finishing PDFs with pypdf: metadata, and checks that the CJK font really is embedded."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from functools import lru_cache
from xml.sax.saxutils import escape

from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject

from templates.errors import FontMissing, RenderError

# Subset font names as LibreOffice writes them, e.g. BAAAAA+NotoSerifCJKjp-Regular.
CJK_FONT_NAME = re.compile(r"CJK|SimSun|SimHei|Song|Hei|Kai|FangSong|Ming|WenQuanYi", re.I)

XMP = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
   <pdfaid:part>{part}</pdfaid:part>
   <pdfaid:conformance>{conformance}</pdfaid:conformance>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{author}</rdf:li></rdf:Seq></dc:creator>
   <dc:description><rdf:Alt>
    <rdf:li xml:lang="x-default">{subject}</rdf:li>
   </rdf:Alt></dc:description>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdf:Producer>{producer}</pdf:Producer>
   <pdf:Keywords>{keywords}</pdf:Keywords>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
   <xmp:CreatorTool>Writer</xmp:CreatorTool>
   <xmp:CreateDate>{created}</xmp:CreateDate>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


def finish(pdf: bytes, *, title: str, subject: str, keywords: str, author: str = "hetong") -> bytes:
    """Write document metadata into both the Info dictionary and the XMP packet.

    PDF/A requires the two to agree; LibreOffice's XMP is kept (it carries the
    ``pdfaid`` conformance entries) and only its title, description and keywords
    are rewritten.
    """
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    writer.add_metadata(
        {"/Title": title, "/Subject": subject, "/Keywords": keywords, "/Author": author}
    )
    xmp = reader.xmp_metadata
    part = (xmp.pdfaid_part if xmp else None) or "2"
    conformance = (xmp.pdfaid_conformance if xmp else None) or "B"
    created = (xmp.xmp_create_date if xmp else None) or dt.datetime.now(dt.UTC)
    packet = XMP.format(
        part=escape(str(part)), conformance=escape(str(conformance)),
        title=escape(title), subject=escape(subject), keywords=escape(keywords),
        author=escape(author), created=created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        producer=escape(str(reader.metadata.get("/Producer", "LibreOffice") if reader.metadata
                            else "LibreOffice")),
    )  # fmt: skip
    stream = DecodedStreamObject()
    stream.set_data(packet.encode("utf-8"))
    stream[NameObject("/Type")] = NameObject("/Metadata")
    stream[NameObject("/Subtype")] = NameObject("/XML")
    writer._root_object[NameObject("/Metadata")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def embedded_fonts(pdf: bytes) -> dict[str, bool]:
    """Base font name → whether its program is embedded, over every page."""
    reader = PdfReader(io.BytesIO(pdf))
    found: dict[str, bool] = {}
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for ref in (resources.get("/Font") or {}).values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            found[str(font.get("/BaseFont"))] = embedded
    return found


def require_cjk_font(pdf: bytes) -> None:
    """Refuse a PDF in which Chinese text would not show with an embedded CJK font."""
    fonts = embedded_fonts(pdf)
    if not any(embedded and CJK_FONT_NAME.search(name) for name, embedded in fonts.items()):
        raise FontMissing(f"PDF 中未嵌入中文字体（找到：{', '.join(fonts) or '无'}）")
    missing = [name for name, embedded in fonts.items() if not embedded]
    if missing:
        raise RenderError(f"PDF 中有未嵌入的字体：{', '.join(missing)}")


def text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


@lru_cache(maxsize=32)
def font_installed(family: str) -> bool:
    """Ask fontconfig whether ``family`` itself (not a substitute) is installed."""
    if not shutil.which("fc-list"):
        raise FontMissing("找不到 fc-list（fontconfig），无法确认中文字体已安装")
    result = subprocess.run(
        ["fc-list", "--format", "%{family}\n", f":family={family}"],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    return any(family in line.split(",") for line in result.stdout.splitlines())


def require_font_installed(family: str) -> None:
    if not font_installed(family):
        raise FontMissing(
            f"模板要求的中文字体“{family}”未安装；为避免字体被替换，拒绝生成 PDF。"
            "请安装 fonts-noto-cjk（make run 会自动安装）。"
        )
