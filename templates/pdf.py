"""Checking a converted PDF with pypdf before it is archived: PDF/A-2b, its title, every font
embedded (a CJK one among them); and whether a font a template names is installed."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from functools import lru_cache

from pypdf import PdfReader

from templates.errors import FontMissing, RenderError

# Subset font names as LibreOffice writes them, e.g. BAAAAA+NotoSerifCJKjp-Regular.
CJK_FONT_NAME = re.compile(r"CJK|SimSun|SimHei|Song|Hei|Kai|FangSong|Ming|WenQuanYi", re.I)


def check(pdf: bytes, *, title: str) -> None:
    """A PDF fit to archive: PDF/A-2b as LibreOffice declared it, titled as the document, every
    font embedded and a CJK one among them.

    LibreOffice writes the Info dictionary and the XMP packet (with ``pdfaid``) from the
    .docx's core properties, so nothing is rewritten here; a PDF that lacks them is refused
    rather than silently patched."""
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.xmp_metadata
    if xmp is None or (xmp.pdfaid_part, xmp.pdfaid_conformance) != ("2", "B"):
        raise RenderError("LibreOffice 未生成 PDF/A-2b 文件")
    found = reader.metadata.title if reader.metadata else None
    if found != title or (xmp.dc_title or {}).get("x-default") != title:
        raise RenderError(f"PDF 的标题与文件不符：{found!r}")
    require_cjk_font(pdf, reader)


def embedded_fonts(pdf: bytes, reader: PdfReader | None = None) -> dict[str, bool]:
    """Base font name → whether its program is embedded, over every page."""
    reader = reader or PdfReader(io.BytesIO(pdf))
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


def require_cjk_font(pdf: bytes, reader: PdfReader | None = None) -> None:
    """Refuse a PDF in which Chinese text would not show with an embedded CJK font."""
    fonts = embedded_fonts(pdf, reader)
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
