"""The archival copy of an uploaded PDF: what a viewer would run goes, what it shows stays.

``sanitize`` edits a pikepdf document in place and says, in Chinese, what it took out. It keeps
in-document navigation (``/GoTo`` links, bookmarks and open destinations) and removes every other
action wherever a viewer looks for one: the document's ``/OpenAction`` and ``/AA``, document-level
JavaScript, page ``/AA``, annotation ``/A`` and ``/AA``, bookmark actions. Embedded files,
file-attachment and multimedia annotations, portfolios and forms (AcroForm and XFA) go as well;
form widgets that have an appearance are drawn into the page first, so filled-in values stay
visible. Anything no longer referenced is not written when the document is saved.

It runs inside the bounded upload worker (``templates.upload_worker``), never in the web process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pikepdf
from pikepdf import Array, Dictionary, Name

ACTION_KINDS = {
    "/GoTo": "跳转", "/JavaScript": "JavaScript", "/Launch": "启动程序", "/URI": "打开网址",
    "/SubmitForm": "提交表单", "/ImportData": "导入数据", "/ResetForm": "重置表单",
    "/GoToR": "打开其他文件", "/GoToE": "打开嵌入文件", "/Rendition": "播放媒体",
    "/Sound": "播放声音", "/Movie": "播放影片", "/RichMediaExecute": "多媒体命令",
    "/Named": "菜单命令", "/Hide": "隐藏注释", "/SetOCGState": "切换图层",
}  # fmt: skip
SAFE_KIND = ACTION_KINDS["/GoTo"]
MEDIA = {"/RichMedia", "/Screen", "/Movie", "/Sound", "/3D"}
NAME_TREES = {
    "/JavaScript": "文档级 JavaScript {n} 段",
    "/EmbeddedFiles": "",  # its files are counted where their contents are removed
    "/AlternatePresentations": "演示文稿 {n} 个",
    "/Renditions": "媒体剪辑 {n} 个",
}
NOUNS = {"/Link": "链接", "/Widget": "表单域"}
# More outline items, name-tree nodes, chained actions or parents than this is not a document
# but a trap; walks stop there.
MAX_NODES = 100_000


class Report:
    """Removals in order of discovery; those found on pages become one line a kind."""

    def __init__(self) -> None:
        self._lines: dict[str, list[int]] = {}

    def add(self, line: str, page: int | None = None) -> None:
        pages = self._lines.setdefault(line, [])
        if page is not None:
            pages.append(page)

    def lines(self) -> list[str]:
        return [line.format(pages=_pages(p)) if p else line for line, p in self._lines.items()]


def _pages(numbers: list[int]) -> str:
    unique = sorted(set(numbers))
    if len(unique) <= 10:
        return f"第 {'、'.join(map(str, unique))} 页"
    return f"{len(unique)} 页（第 {'、'.join(map(str, unique[:5]))} 页等）"


def sanitize(pdf: pikepdf.Pdf) -> list[str]:
    report = Report()
    # Embedded files hang off file specifications that may sit anywhere (/Names, /AF on the
    # catalogue, pages or annotations, attachment annotations): empty every one first.
    files = 0
    for d in _reachable(pdf):
        if "/EF" in d:
            del d["/EF"]
            files += 1
    if files:
        report.add(f"嵌入文件 {files} 个")
    _document(pdf.Root, report)
    _outlines(pdf.Root, report)
    for number, page in enumerate(pdf.pages, 1):
        _page(page.obj, number, report)
    _forms(pdf, report)
    # What the passes above did not expect, wherever it is: script bodies and trigger tables.
    leftovers = [d for d in _reachable(pdf) if "/JS" in d or "/AA" in d]
    for d in leftovers:
        for key in ("/JS", "/AA"):
            if key in d:
                del d[key]
    if leftovers:
        report.add(f"其他位置的脚本或附加动作 {len(leftovers)} 处")
    return report.lines()


def _reachable(pdf: pikepdf.Pdf) -> Iterator[Dictionary]:
    """Every dictionary (and stream dictionary) that saving would write, each once.

    Changes made to a dictionary while it is being looked at hold for the walk: what it no
    longer references is not visited.
    """
    stack: list[object] = [pdf.trailer]
    seen: set[tuple[int, int]] = set()
    while stack:
        obj = stack.pop()
        if isinstance(obj, (Dictionary, Array, pikepdf.Stream)) and obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        if isinstance(obj, Array):
            stack.extend(x for x in obj if isinstance(x, (Dictionary, Array, pikepdf.Stream)))
        elif isinstance(obj, (Dictionary, pikepdf.Stream)):
            yield obj
            stack.extend(
                v for v in obj.values() if isinstance(v, (Dictionary, Array, pikepdf.Stream))
            )


def _as_list(obj: object) -> list:
    if isinstance(obj, Array):
        return list(obj)
    return [] if obj is None else [obj]


def _walk(start: object, *links: str) -> Iterator[Dictionary]:
    """The dictionaries reachable from ``start`` through ``links``, each once, at most MAX_NODES:
    action chains, name trees and outlines may all loop."""
    stack, seen, visits = [start], set(), 0
    while stack and visits < MAX_NODES:
        node = stack.pop()
        visits += 1
        if not isinstance(node, Dictionary) or (node.is_indirect and node.objgen in seen):
            continue
        if node.is_indirect:
            seen.add(node.objgen)
        yield node
        for link in links:
            stack.extend(_as_list(node.get(link)))


def _kinds(action: object) -> list[str]:
    """What an action and the actions chained to it by ``/Next`` do, in words."""
    # Unknown kinds are not named: the name comes from the file, the label goes to the page.
    kinds = [ACTION_KINDS.get(str(a.get("/S", "")), "其他") for a in _walk(action, "/Next")]
    return list(dict.fromkeys(kinds)) or ["无效"]


def _harmless(action: object) -> bool:
    return _kinds(action) == [SAFE_KIND]


def _document(root: Dictionary, report: Report) -> None:
    action = root.get("/OpenAction")
    # A destination array only says where the document opens; keep it.
    if action is not None and not isinstance(action, Array) and not _harmless(action):
        del root["/OpenAction"]
        report.add(f"文档打开动作（{'、'.join(_kinds(action))}）")
    if "/AA" in root:
        triggers = root["/AA"]
        kinds = [k for a in (triggers.values() if isinstance(triggers, Dictionary) else [])
                 for k in _kinds(a)]  # fmt: skip
        del root["/AA"]
        report.add(f"文档级附加动作（{'、'.join(dict.fromkeys(kinds)) or '无效'}）")
    names = root.get("/Names")
    if isinstance(names, Dictionary):
        for key, line in NAME_TREES.items():
            if key in names:
                count = _count_names(names[key])
                del names[key]
                if line:
                    report.add(line.format(n=count))
    if "/Collection" in root:
        del root["/Collection"]
        report.add("文件包（Portfolio）视图")


def _count_names(tree: object) -> int:
    return sum(len(_as_list(node.get("/Names"))) // 2 for node in _walk(tree, "/Kids"))


def _outlines(root: Dictionary, report: Report) -> None:
    outlines = root.get("/Outlines")
    if not isinstance(outlines, Dictionary):
        return
    removed, kinds = 0, []
    for item in _walk(outlines.get("/First"), "/Next", "/First"):
        action = item.get("/A")
        if action is not None and not _harmless(action):
            del item["/A"]
            removed += 1
            kinds += _kinds(action)
    if removed:
        report.add(f"书签中的动作 {removed} 个（{'、'.join(dict.fromkeys(kinds))}）")


def _page(page: Dictionary, number: int, report: Report) -> None:
    if "/AA" in page:
        del page["/AA"]
        report.add("{pages}的页面动作", number)
    annots = page.get("/Annots")
    if annots is None:
        return
    kept = Array()
    for annot in _as_list(annots):
        if not isinstance(annot, Dictionary):
            continue  # not an annotation; viewers ignore it, so can the archive
        subtype = str(annot.get("/Subtype", ""))
        if subtype == "/FileAttachment":
            report.add("{pages}的附件注释", number)
            continue
        if subtype in MEDIA:
            report.add("{pages}的多媒体注释", number)
            continue
        noun = NOUNS.get(subtype, "注释")
        for key in ("/A", "/PA"):  # /PA: a link's former URI action, kept "for reference"
            action = annot.get(key)
            if action is not None and not _harmless(action):
                del annot[key]
                report.add(f"{{pages}}{noun}的动作（{'、'.join(_kinds(action))}）", number)
        if "/AA" in annot:
            del annot["/AA"]
            report.add(f"{{pages}}{noun}的附加动作", number)
        kept.append(annot)
    page["/Annots"] = kept


def _inherited(node: Dictionary, key: str) -> object:
    for _ in range(64):  # page trees are shallow; a /Parent loop is not
        if key in node:
            return node[key]
        parent = node.get("/Parent")
        if not isinstance(parent, Dictionary):
            return None
        node = parent
    return None


def _widgets(page: pikepdf.Page) -> list[Dictionary]:
    return [a for a in _as_list(page.obj.get("/Annots"))
            if isinstance(a, Dictionary) and a.get("/Subtype") == Name.Widget]  # fmt: skip


def _forms(pdf: pikepdf.Pdf, report: Report) -> None:
    acroform = pdf.Root.get("/AcroForm")
    widgets = [(page, w) for page in pdf.pages for w in _widgets(page)]
    if isinstance(acroform, Dictionary):
        if "/XFA" in acroform:
            report.add("XFA 表单")
        if acroform.get("/NeedAppearances"):
            # The stored appearances may predate the values; qpdf redraws text and choice fields.
            with contextlib.suppress(pikepdf.PdfError):
                pdf.generate_appearance_streams()
    shown = signatures = 0
    wrapped: set[tuple[int, int]] = set()
    for page, widget in widgets:
        signatures += _inherited(widget, "/FT") == Name.Sig
        shown += _draw(pdf, page, widget, wrapped)
    for page in pdf.pages:
        if _widgets(page):  # every entry is a dictionary once _page has run
            annots = page.obj["/Annots"]
            page.obj["/Annots"] = Array(a for a in annots if a.get("/Subtype") != Name.Widget)
    if "/AcroForm" in pdf.Root:
        del pdf.Root["/AcroForm"]
    if widgets:
        details = [f"{shown} 个的外观已并入页面"] if shown else ["外观未能并入页面"]
        if signatures:
            details.append(f"含数字签名 {signatures} 个，以原件为准")
        report.add(f"表单域 {len(widgets)} 个（{'；'.join(details)}）")


def _draw(pdf: pikepdf.Pdf, page: pikepdf.Page, widget: Dictionary, wrapped: set) -> bool:
    """Draw a visible widget's normal appearance into the page content, as printing would."""
    annotation = pikepdf.Annotation(widget)
    appearance = annotation.get_appearance_stream(Name.N)
    if not isinstance(appearance, pikepdf.Stream):
        return False
    appearance.Type, appearance.Subtype = Name.XObject, Name.Form  # some writers leave them out
    if page.obj.objgen not in wrapped:
        wrapped.add(page.obj.objgen)
        # Resources may be inherited from the page tree; the page gets its own to add to.
        page.obj["/Resources"] = _inherited(page.obj, "/Resources") or Dictionary()
        # Balance the existing content's graphics state so the appearance lands where it belongs.
        page.contents_add(pdf.make_stream(b"q\n"), prepend=True)
        page.contents_add(pdf.make_stream(b"\nQ\n"), prepend=False)
    name = page.add_resource(appearance, Name.XObject, prefix="Fxo")
    rotate = _inherited(page.obj, "/Rotate")
    content = annotation.get_page_content_for_appearance(
        name, int(rotate) if isinstance(rotate, int) else 0
    )
    if not content:
        return False
    page.contents_add(pdf.make_stream(content), prepend=False)
    return True
