"""Regenerate the bundled Word templates under templates/.

The templates are committed as .docx so a person can open and edit them in Word;
this script is how they were made, and rebuilding them is reproducible:

    .venv/bin/python tools/make_templates.py

Every run sets one CJK font for all scripts and tags East-Asian text zh-CN, so
LibreOffice picks Simplified-Chinese glyph forms (see TOOLCHAIN-NOTES).
"""

from __future__ import annotations

import copy
import io
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from templates.office_worker import drop_parts, slim_docx

FONT = "Noto Serif CJK SC"
OUT = Path(__file__).resolve().parent.parent / "templates"


# Parts python-docx's default template carries that no page needs: Word 2010's copy of every
# style (LibreOffice reads it anyway) and a thumbnail of somebody else's document.
_DROPPED = ("word/stylesWithEffects.xml", "docProps/thumbnail.jpeg")


def save(doc, name: str) -> None:
    """Write template ``name`` without what only costs: the table styles no table uses and
    the parts in ``_DROPPED`` (the same pages, a fifth less LibreOffice time per document)."""
    raw = io.BytesIO()
    doc.save(raw)
    with zipfile.ZipFile(io.BytesIO(slim_docx(raw.getvalue()))) as zin:
        order = zin.namelist()
        parts = {item: zin.read(item) for item in order}
    drop_parts(parts, [item for item in _DROPPED if item in parts])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in order:
            if item in parts:
                zout.writestr(item, parts[item])
    (OUT / f"{name}.docx").write_bytes(out.getvalue())


def _set_fonts(rpr) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        if attr.lower().endswith("theme"):
            del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "zh-CN")
    lang.set(qn("w:eastAsia"), "zh-CN")


def new_document(title: str):
    doc = Document()
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(defaults)
    for rpr in styles.iter(qn("w:rPr")):
        _set_fonts(rpr)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(2)
    normal.paragraph_format.line_spacing = 1.15
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(2.2)
    section.top_margin = section.bottom_margin = Cm(2.0)
    props = doc.core_properties
    props.title, props.author, props.language = title, "hetong", "zh-CN"
    props.comments = props.subject = props.keywords = ""
    return doc


def heading(doc, text: str, size: int = 20) -> None:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run(text)
    run.bold = True
    run.font.size = Pt(size)


def clause(doc, label: str, text: str) -> None:
    p = doc.add_paragraph()
    p.add_run(label).bold = True
    p.add_run(text)


def table(doc, header: list[str], widths: list[float]):
    t = doc.add_table(rows=1, cols=len(header))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    t.widths = widths
    for cell, text in zip(t.rows[0].cells, header, strict=True):
        cell.paragraphs[0].add_run(text).bold = True
    return t


def fix_widths(t, *, right: tuple[int, ...] = ()) -> None:
    """Word and LibreOffice read a column's width from every cell: set them all."""
    for i, column in enumerate(t.columns):
        column.width = Cm(t.widths[i])
    for r in t.rows:
        for i, cell in enumerate(r.cells):
            if cell._tc.grid_span == 1 and i < len(t.widths):
                cell.width = Cm(t.widths[i])
            if i in right and r._index > 0:
                for p in cell.paragraphs:
                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def row(t, texts: list[str]) -> None:
    cells = t.add_row().cells
    for cell, text in zip(cells, texts, strict=False):
        cell.text = text


def footer(doc, text: str, *, pages: bool = False) -> None:
    """The footer line; with ``pages``, followed by 第 X 页 共 Y 页 (PAGE / NUMPAGES fields)."""
    p = doc.sections[0].footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run(text).font.size = Pt(9)
    if pages:
        for piece in ("　第 ", "PAGE", " 页 共 ", "NUMPAGES", " 页"):
            if piece.isupper():
                field = OxmlElement("w:fldSimple")
                field.set(qn("w:instr"), f" {piece} ")
                run = OxmlElement("w:r")
                text_el = OxmlElement("w:t")
                text_el.text = "1"
                run.append(text_el)
                field.append(run)
                p._p.append(field)
            else:
                p.add_run(piece).font.size = Pt(9)


def confidential_header(doc) -> None:
    """密级 (issue 11): a boxed, bold ★ 机密 at the top right of every page when the context's
    ``confidential`` is true; when false, the header is one empty paragraph.

    The condition sits inside the paragraph, not around it (``{%p if %}``): a header part
    must keep a paragraph. The header starts 1.0 cm from the page edge and holds a single
    line at 1.0 line spacing, so even with the mark it fits in the 2.0 cm top margin and the
    body starts where it did before the templates had a header: a confidential document and
    a normal one break their pages alike, and a normal one looks as it always did."""
    section = doc.sections[0]
    section.header_distance = Cm(1.0)
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    p.paragraph_format.line_spacing = 1.0
    p.paragraph_format.space_before = p.paragraph_format.space_after = Pt(0)
    p.add_run("{% if confidential %}")
    mark = p.add_run("★ 机密")
    mark.bold = True
    mark.font.size = Pt(12)
    rpr = mark._r.get_or_add_rPr()
    border = OxmlElement("w:bdr")  # a box round the run; after w:sz, before w:lang (schema order)
    for attr, value in (("val", "single"), ("sz", "8"), ("space", "1"), ("color", "auto")):
        border.set(qn(f"w:{attr}"), value)
    rpr.append(border)
    _set_fonts(rpr)  # spelled out on the run: the CJK font and zh-CN, whatever the style says
    p.add_run("{% endif %}")


def repeat_header_keep_rows(t) -> None:
    """The header row repeats on every page; no row is split across pages."""
    t.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for r in t.rows:
        r._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def small_text(t, size: float) -> None:
    for r in t.rows:
        for cell in r.cells:
            for p in cell.paragraphs:
                p.paragraph_format.line_spacing = 1.0
                p.paragraph_format.space_after = Pt(0)
                for run in p.runs:
                    run.font.size = Pt(size)


def cell_margins(t, cm: float) -> None:
    """Left and right cell padding: narrow columns keep their width for what they hold."""
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(round(cm * 567)))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    t._tbl.tblPr.append(margins)


def keep_together(t) -> None:
    """A table that is one block (signatures): no row splits, every row keeps with the next,
    the last with the paragraph after the table."""
    for r in t.rows:
        r._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        for cell in r.cells:
            for p in cell.paragraphs:
                p.paragraph_format.keep_with_next = True


def row_height(t, index: int, cm: float) -> None:
    height = OxmlElement("w:trHeight")
    height.set(qn("w:val"), str(round(cm * 567)))
    height.set(qn("w:hRule"), "atLeast")
    t.rows[index]._tr.get_or_add_trPr().append(height)


def latin_in_english(doc) -> None:
    """Tag Latin text en-US, East-Asian text stays zh-CN (its glyph forms). LibreOffice
    breaks figures tagged zh-CN anywhere (¥384,400. / 00, 2019 年 5 月 1 / 0 日); with
    Western line-breaking rules an amount, a date or a code stays whole on its line."""
    parts = [doc.styles.element, doc.element]
    parts += [section.footer._element for section in doc.sections]
    # Only headers a template has: asking python-docx for another would add an empty one.
    parts += [s.header._element for s in doc.sections if not s.header.is_linked_to_previous]
    for part in parts:
        for lang in part.iter(qn("w:lang")):
            lang.set(qn("w:val"), "en-US")


def no_further_text(doc) -> None:
    """（以下无正文）: the text ends here and keeps with the signature block below it."""
    p = doc.add_paragraph("（以下无正文）")
    p.paragraph_format.keep_with_next = True


def items_table(doc, var: str, collection: str, caption: str = "") -> None:
    """Products with quantities, prices and amounts, and the total in figures and 大写.

    Portrait A4 less its margins is 16.6 cm. At 9 pt with 1 mm cell padding, 规格型号 holds
    a model like QJ-2000X/SS-B12 on one line, 数量 nine digits, the price and amount columns
    100,000,000.00 (and the amount column more); the product name takes the rest and wraps.
    With a ``caption`` (a delivery notice's copy), a first row names the copy on every page.
    """
    header = ["序号", "产品名称", "规格型号", "单位", "数量", "单价（元）", "金额（元）"]
    t = table(doc, header, [1.0, 2.9, 3.6, 1.0, 2.0, 2.8, 3.3])
    if caption:
        first = t.rows[0]._tr
        first.addprevious(copy.deepcopy(first))
        cells = t.rows[0].cells
        merged = cells[0].merge(cells[-1])
        for p in merged.paragraphs[1:]:
            p._p.getparent().remove(p._p)
        merged.paragraphs[0].clear()
        merged.paragraphs[0].add_run(caption)
        merged.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    row(t, [f"{{%tr for {var} in {collection} %}}"])
    row(
        t,
        [
            f"{{{{ {var}.{key} }}}}"
            for key in ("no", "name", "spec", "unit", "quantity", "unit_price", "amount")
        ],
    )
    row(t, ["{%tr endfor %}"])
    total = t.add_row().cells
    merged = total[0].merge(total[5])
    merged.text = "合计人民币（大写）：{{ total_upper }}"
    total[6].text = "¥{{ total }}"
    fix_widths(t, right=(4, 5, 6))
    cell_margins(t, 0.1)
    small_text(t, 9)
    heads = 2 if caption else 1
    for r in t.rows[:heads]:
        r._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
        for cell in r.cells:
            for p in cell.paragraphs:
                if not caption or r._index:
                    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for r in t.rows:
        r._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    for i in (0, 3):  # 序号, 单位
        t.rows[heads + 1].cells[i].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER


def sales_contract() -> None:
    doc = new_document("销售合同")
    heading(doc, "销 售 合 同")
    doc.add_paragraph("合同编号：{{ contract_no }}")
    doc.add_paragraph("签订日期：{{ signed_on }}　　签订地点：{{ signed_at }}")
    doc.add_paragraph("供方（卖方）：{{ seller.name }}")
    doc.add_paragraph("需方（买方）：{{ buyer.name }}")
    doc.add_paragraph(
        "根据《中华人民共和国民法典》及有关法律法规的规定，供需双方本着平等互利、协商一致的原则，"
        "签订本合同，共同遵守。"
    )
    clause(doc, "一、产品名称、规格型号、数量、价格", "")
    items_table(doc, "item", "items")
    clause(doc, "二、质量标准：", "{{ quality_standard }}。")
    clause(
        doc,
        "三、运输方式及运费承担：",
        "运输方式：{{ transport.method }}；运费由{{ transport.freight_payer }}承担。",
    )
    clause(
        doc,
        "四、交货期限、地点及验收方法：",
        "供方应于{{ delivery.deadline }}前交货；交货地点：{{ delivery.place }}；"
        "验收方法：{{ delivery.acceptance }}。",
    )
    clause(
        doc,
        "五、结算方式及期限：",
        "付款方式：{{ payment.method }}；付款约定：{{ payment.terms }}；"
        "需方最迟于{{ payment.due_on }}前付清全部货款。",
    )
    clause(doc, "六、免责条款：", "{{ liability_exemptions }}。")
    clause(doc, "七、违约责任：", "{{ breach_liability }}。")
    clause(doc, "八、争议解决：", "{{ dispute_resolution }}。")
    clause(doc, "九、其他约定（可选择条款）：", "{% if not extra_clauses %}无。{% endif %}")
    doc.add_paragraph("{%p for text in extra_clauses %}")
    doc.add_paragraph("{{ loop.index }}. {{ text }}。")
    doc.add_paragraph("{%p endfor %}")
    p = doc.add_paragraph()
    p.add_run("十、合同生效：").bold = True
    p.add_run("本合同自双方签字盖章之日起生效。")
    p.paragraph_format.keep_with_next = True
    no_further_text(doc)
    signature_block(
        doc,
        [
            ("单位名称", "name"),
            ("地址", "address"),
            ("法定代表人/委托代理人", "representative"),
            ("电话", "phone"),
            ("开户银行", "bank"),
            ("账号", "account"),
            ("税号", "tax_id"),
        ],
    )
    doc.add_paragraph("业务员：{{ salesperson }}")
    footer(doc, "合同编号：{{ contract_no }}", pages=True)
    confidential_header(doc)
    latin_in_english(doc)
    save(doc, "sales_contract")


SEAL_CM = 4.4  # a 4 cm round company seal, with room around it


def signature_block(doc, fields: list[tuple[str, str]]) -> None:
    """Both parties side by side: their particulars, a seal area at least 4 cm high for each,
    the date; one block that never splits and keeps with the paragraph before it."""
    sig = table(doc, ["供方（盖章）", "需方（盖章）"], [8.3, 8.3])
    for label, key in fields:
        row(sig, [f"{label}：{{{{ seller.{key} }}}}", f"{label}：{{{{ buyer.{key} }}}}"])
    row(sig, ["签字并盖章：", "签字并盖章："])
    row_height(sig, len(sig.rows) - 1, SEAL_CM)
    row(sig, ["日期：　　　　年　　月　　日", "日期：　　　　年　　月　　日"])
    fix_widths(sig)
    keep_together(sig)


def amendment() -> None:
    doc = new_document("补充协议")
    heading(doc, "补 充 协 议")
    doc.add_paragraph("协议编号：{{ number }}")
    doc.add_paragraph("原合同编号：{{ contract_no }}　　原合同签订日期：{{ contract_signed_on }}")
    doc.add_paragraph("供方（卖方）：{{ seller.name }}")
    doc.add_paragraph("需方（买方）：{{ buyer.name }}")
    doc.add_paragraph(
        "供需双方于{{ contract_signed_on }}签订了编号为{{ contract_no }}的《销售合同》（以下简称原合同）。"
        "因{{ reason }}，经双方协商一致，对原合同作如下变更："
    )
    # 变更前 / 变更后 hold ¥100,000,000.00 元 or a date on one line at 9 pt.
    t = table(doc, ["序号", "变更项目", "变更前", "变更后", "变更原因"], [1.0, 4.2, 3.5, 3.5, 4.4])
    row(t, ["{%tr for c in changes %}"])
    row(t, ["{{ c.no }}", "{{ c.label }}", "{{ c.before }}", "{{ c.after }}", "{{ c.reason }}"])
    row(t, ["{%tr endfor %}"])
    fix_widths(t)
    cell_margins(t, 0.1)
    small_text(t, 9)
    repeat_header_keep_rows(t)
    for cell in (*t.rows[0].cells, t.rows[2].cells[0]):
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    clause(
        doc,
        "变更后合同总金额：",
        "人民币 ¥{{ total_after }} 元（大写：{{ total_upper }}）；变更前为 ¥{{ total_before }} 元。",
    )
    clause(
        doc,
        "生效：",
        "本协议自{{ effective_on }}起生效，是原合同不可分割的组成部分，"
        "与原合同具有同等法律效力；本协议未约定的事项，仍按原合同执行。",
    )
    p = doc.add_paragraph()
    p.add_run("份数：").bold = True
    p.add_run("本协议一式两份，双方各执一份。")
    p.paragraph_format.keep_with_next = True
    no_further_text(doc)
    signature_block(doc, [("单位名称", "name"), ("法定代表人/委托代理人", "representative")])
    footer(doc, "补充协议编号：{{ number }}　原合同编号：{{ contract_no }}", pages=True)
    confidential_header(doc)
    latin_in_english(doc)
    save(doc, "amendment")


def delivery_notice() -> None:
    doc = new_document("发货通知单")
    doc.add_paragraph("{%p for copy in copies %}")
    heading(doc, "发 货 通 知 单", size=18)
    p = doc.add_paragraph("第{{ copy.ordinal }}联　{{ copy.label }}　（一式六联）")
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph("通知单号：{{ number }}　　合同编号：{{ contract_no }}")
    doc.add_paragraph("购货单位：{{ buyer }}")
    doc.add_paragraph("收货地址：{{ ship_to }}")
    doc.add_paragraph(
        "发货日期：{{ delivery_date }}　　承运单位：{{ carrier }}　　物流单号：{{ tracking_no }}"
    )
    items_table(
        doc, "line", "lines", caption="{{ number }}　第{{ copy.ordinal }}联　{{ copy.label }}"
    )
    doc.add_paragraph("供方：{{ seller }}　　制单人：{{ prepared_by }}")
    doc.add_paragraph("{%p if copy.receipt %}")
    p = doc.add_paragraph()
    p.add_run("收货确认：").bold = True
    p.add_run("上述货物已如数收到，包装完好。请签字盖章后将本联寄回供方。")
    p.paragraph_format.keep_with_next = True
    receipt = doc.add_table(rows=1, cols=2)
    receipt.style = "Table Grid"
    receipt.alignment = WD_TABLE_ALIGNMENT.CENTER
    receipt.autofit = False
    receipt.widths = [8.3, 8.3]
    receipt.rows[0].cells[0].text = "收货单位（盖章）："
    receipt.rows[0].cells[1].text = "收货人签字："
    receipt.rows[0].cells[1].add_paragraph("收货日期：　　　　年　　月　　日")
    row_height(receipt, 0, SEAL_CM)
    fix_widths(receipt)
    keep_together(receipt)
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p if not loop.last %}")
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p endfor %}")
    footer(doc, "发货通知单号：{{ number }}", pages=True)
    confidential_header(doc)
    latin_in_english(doc)
    save(doc, "delivery_notice")


def volume_contents() -> None:
    doc = new_document("卷内目录")
    section = doc.sections[0]  # landscape: the register has many columns
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    heading(doc, "卷 内 目 录", size=18)
    p = doc.add_paragraph("{{ title }}　　档号：{{ codes }}")
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # Landscape A4 less its margins is 25.3 cm; codes, numbers and dates get the width they
    # need at 9 pt so they never break, the title takes what is left and wraps.
    t = table(
        doc,
        ["序号", "档号", "文件编号", "题名", "日期", "页数", "页号"],
        [1.2, 4.4, 4.2, 8.4, 3.7, 1.6, 1.8],
    )
    row(t, ["{%tr for e in entries %}"])
    row(
        t,
        [
            "{{ e.no }}",
            "{{ e.code }}",
            "{{ e.number }}",
            "{{ e.title }}",
            "{{ e.date }}",
            "{{ e.pages }}",
            "{{ e.page }}",
        ],
    )
    row(t, ["{%tr endfor %}"])
    fix_widths(t, right=(5, 6))
    small_text(t, 9)
    repeat_header_keep_rows(t)
    doc.add_paragraph("{{ note }}")
    footer(doc, "{{ title }}　卷内目录", pages=True)
    latin_in_english(doc)
    save(doc, "volume_contents")


def volume_cover() -> None:
    """案卷封面 (DA/T 22 style): who kept it, what it is, how long, how much, which codes."""
    doc = new_document("案卷封面")
    p = doc.add_paragraph("档号：{{ codes }}")
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for _ in range(3):
        doc.add_paragraph()
    heading(doc, "{{ fonds }}", size=16)
    doc.add_paragraph()
    heading(doc, "{{ title }}", size=22)
    for _ in range(3):
        doc.add_paragraph()
    t = table(doc, ["全宗名称", "{{ fonds }}"], [3.6, 10.0])
    for label, key in [
        ("案卷题名", "title"),
        ("年　　度", "year"),
        ("区　　域", "region"),
        ("保管期限", "retention"),
        ("件　　数", "count"),
        ("页　　数", "pages"),
        ("档　　号", "codes"),
        ("立 卷 人", "person"),
        ("日　　期", "date"),
    ]:
        row(t, [label, f"{{{{ {key} }}}}"])
    fix_widths(t)
    for r in t.rows:
        r.cells[0].paragraphs[0].runs[0].bold = True
        r.cells[1].paragraphs[0].runs[0].bold = False
        r._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        for cell in r.cells:
            cell.paragraphs[0].paragraph_format.space_before = Pt(6)
            cell.paragraphs[0].paragraph_format.space_after = Pt(6)
            cell.paragraphs[0].runs[0].font.size = Pt(12)
    latin_in_english(doc)
    save(doc, "volume_cover")


def volume_notes() -> None:
    """卷内备考表 at the end of the volume: what it holds, what is not in it, who bound it."""
    doc = new_document("卷内备考表")
    heading(doc, "卷 内 备 考 表", size=18)
    p = doc.add_paragraph("{{ title }}　　档号：{{ codes }}")
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    clause(doc, "本卷情况说明：", "")
    doc.add_paragraph("{{ summary }}")
    doc.add_paragraph("{%p if destroyed %}")
    doc.add_paragraph("{{ destroyed_note }}")
    t = table(doc, ["合同编号", "档号", "需方", "签订日期", "销毁记录编号"],
              [3.0, 3.6, 4.2, 3.2, 2.6])  # fmt: skip
    row(t, ["{%tr for d in destroyed %}"])
    row(t, ["{{ d.contract_no }}", "{{ d.code }}", "{{ d.buyer }}", "{{ d.signed_on }}",
            "{{ d.certificate }}"])  # fmt: skip
    row(t, ["{%tr endfor %}"])
    fix_widths(t)
    small_text(t, 9)
    repeat_header_keep_rows(t)
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p for line in remarks %}")
    doc.add_paragraph("{{ line }}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph()
    sig = table(doc, ["立卷人：{{ person }}", "立卷时间：{{ date }}"], [8.3, 8.3])
    row(sig, ["检查人：", "检查时间：　　　　年　　月　　日"])
    fix_widths(sig)
    for r in sig.rows:
        r._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        for cell in r.cells:
            cell.paragraphs[0].paragraph_format.space_before = Pt(10)
            cell.paragraphs[0].paragraph_format.space_after = Pt(10)
            for run in cell.paragraphs[0].runs:
                run.bold = False
    footer(doc, "{{ title }}　卷内备考表", pages=True)
    latin_in_english(doc)
    save(doc, "volume_notes")


def destruction() -> None:
    doc = new_document("销毁记录")
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    heading(doc, "{{ title }}", size=18)
    p = doc.add_paragraph("编号：{{ number }}")
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph("{{ intro }}")
    # Landscape A4 less its margins is 25.3 cm. Numbers, codes, dates and amounts get the
    # width they need at 9 pt so they never break; what belongs together shares a cell (a
    # number and its 档号, a date and its amount), as LibreOffice's time grows with the
    # cells of a table: five cells a row instead of seven convert a fifth faster.
    t = table(
        doc,
        ["序号", "合同编号\n档号", "供方\n需方", "签订日期\n金额（元）", "文件及 SHA-256 前 12 位"],
        [1.1, 3.7, 6.4, 3.0, 11.1],
    )
    row(t, ["{%tr for r in rows %}"])
    row(
        t, ["{{ r.no }}", "{{ r.numbers }}", "{{ r.parties }}", "{{ r.when }}", "{{ r.documents }}"]
    )
    row(t, ["{%tr endfor %}"])
    fix_widths(t, right=(3,))
    small_text(t, 9)
    repeat_header_keep_rows(t)
    # The approval and the signatures are one block: never split across pages.
    doc.add_paragraph("{{ approval }}").paragraph_format.keep_with_next = True
    doc.add_paragraph(
        "档案管理人员：　　　　　　　　　监销人："
    ).paragraph_format.keep_with_next = True
    # The audit chain's head as the document was made: evidence against a later rewrite.
    chain = doc.add_paragraph("{{ chain }}")
    chain.runs[0].font.size = Pt(8)
    footer(doc, "{{ number }}（永久保存）", pages=True)
    latin_in_english(doc)
    save(doc, "destruction")


if __name__ == "__main__":
    for make in (
        sales_contract,
        amendment,
        delivery_notice,
        volume_contents,
        volume_cover,
        volume_notes,
        destruction,
    ):
        make()
        print(f"wrote {OUT / make.__name__}.docx")
