"""The boxed half of a template upload: ``python -m templates.template_worker KIND [LIMITS]``.

Reads a Word file on stdin and writes one JSON header line, followed by the cleaned .docx and
the sample rendered with it when the file may become a template of KIND:

    {"problems": [["message", "place"], …], "fixes": ["…"], "size": 41234, "sample": 52001}\\n
    <size bytes of .docx><sample bytes of .docx>
    {"error": "macros"}\\n

It lowers its own limits first (``upload_worker.apply_limits``), then reads the zip by its
directory only within bounds (members, sizes, names), refuses what a template must never
carry (macros, embedded objects, content fetched from elsewhere), tags East-Asian text as
zh-CN, inspects the tags and parts, and renders the hard cases of its kind (25 and 200
product lines, a price of 100,000,000.00, long models, either 密级: ``templates.proof``) — so
a template built to exhaust the renderer costs this process its seconds, never the service.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import zipfile
from xml.etree import ElementTree

from templates import inspection, proof
from templates.render import Renderer
from templates.upload_worker import Refused, answer, apply_limits
from templates.uploads import UploadLimits

log = logging.getLogger(__name__)

MAX_MEMBERS = 300
# Parts whose ``w:lang`` says what language East-Asian text is in.
_TEXT_PART = re.compile(r"word/(document|styles|header\d*|footer\d*)\.xml")
_LANG = re.compile(r"<w:lang\b[^>]*?/?>")
_EAST_ASIA = re.compile(r'\bw:eastAsia="[^"]*"')
ZH_CN = 'w:eastAsia="zh-CN"'
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
# Relationships a template must never have, wherever they point: objects LibreOffice would
# run or import, documents it would pull in, and templates and frames it would load.
FORBIDDEN = {"oleObject", "package", "control", "aFChunk", "subDocument", "attachedTemplate",
             "frame", "externalLinkPath", "vbaProject", "activeXControlBinary",
             "activeXControl"}  # fmt: skip
# The only elements that may name an external target: a link a reader follows by hand.
LINKS = {f"{W}hyperlink", f"{A}hlinkClick", f"{A}hlinkHover"}
FORBIDDEN_CONTENT = ("macroEnabled", "vbaProject", "oleObject", "activeX")


def clean(data: bytes, limits: UploadLimits) -> tuple[bytes, list[str]]:
    """The file as it will be kept, and what was changed in it (in Chinese)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise Refused("not_docx") from None
    if len(members) > MAX_MEMBERS:
        raise Refused("members")
    names = {m.filename for m in members}
    if "word/document.xml" not in names or "[Content_Types].xml" not in names:
        raise Refused("not_docx")
    if sum(m.file_size for m in members) > limits.max_decompressed:
        raise Refused("decompressed")
    for m in members:
        if m.filename.startswith("/") or ".." in m.filename.split("/"):
            raise Refused("damaged")
        lower = m.filename.lower()
        if "vbaproject" in lower or lower.endswith((".bin", ".exe", ".dll")):
            raise Refused("macros" if "vba" in lower else "embedded")
        if lower.startswith(("word/embeddings/", "word/activex/")):
            raise Refused("embedded")
    parts = {m.filename: archive.read(m) for m in members}  # within the declared sizes
    types = parts["[Content_Types].xml"].decode("utf-8", "replace")
    if "macroEnabled" in types or "vbaProject" in types:
        raise Refused("macros")
    if any(kind in types for kind in FORBIDDEN_CONTENT):
        raise Refused("embedded")
    _relationships(parts)
    fixes = []
    if _tag_chinese(parts):
        fixes.append("中文文字已标为简体中文（zh-CN），以便按中文规则排版、断行")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for m in members:
            z.writestr(m.filename, parts[m.filename])
    return (out.getvalue() if fixes else data), fixes


def _relationships(parts: dict[str, bytes]) -> None:
    """Refuse what the file links or embeds that a template must not: a forbidden kind of
    relationship (in any part), or an external target anything but a hyperlink uses — a
    picture or a frame linked from elsewhere would be fetched by LibreOffice."""
    for name, body in parts.items():
        if not name.endswith(".rels"):
            continue
        external = set()
        for relationship in _xml(body):
            kind = (relationship.get("Type") or "").rstrip("/").rsplit("/", 1)[-1]
            if kind in FORBIDDEN:
                raise Refused("embedded")
            if (relationship.get("TargetMode") or "").strip().lower() == "external":
                if kind != "hyperlink":
                    raise Refused("external")
                external.add(relationship.get("Id"))
        folder, _, rels = name.rpartition("_rels/")
        owner = parts.get(folder + rels.removesuffix(".rels"))
        if not external or owner is None:
            continue
        for element in _xml(owner).iter():
            # Any attribute naming it, in whatever namespace (transitional, strict, VML's
            # o:relid …): only a hyperlink element may.
            if external & set(element.attrib.values()) and element.tag not in LINKS:
                raise Refused("external")


def _xml(body: bytes) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise Refused("damaged") from None


def _tag_chinese(parts: dict[str, bytes]) -> bool:
    """Set every ``w:lang``'s East-Asian language to zh-CN, and give the document defaults
    one when they have none: Word and LibreOffice break lines and choose punctuation by it."""
    changed = False
    for name in [n for n in parts if _TEXT_PART.fullmatch(n)]:
        xml = parts[name].decode("utf-8")
        fixed = _LANG.sub(_zh_cn, xml)
        if name == "word/styles.xml":
            fixed = _default_lang(fixed)
        if fixed != xml:
            parts[name] = fixed.encode("utf-8")
            changed = True
    return changed


def _zh_cn(match: re.Match[str]) -> str:
    element = match[0]
    if _EAST_ASIA.search(element):
        return _EAST_ASIA.sub(ZH_CN, element)
    return element.replace("<w:lang", f"<w:lang {ZH_CN}", 1)


def _default_lang(xml: str) -> str:
    lang = f"<w:lang {ZH_CN}/>"
    defaults = re.search(r"<w:rPrDefault>.*?</w:rPrDefault>", xml, re.S)
    if defaults and "<w:lang" in defaults[0]:
        return xml
    if defaults and "<w:rPr>" in defaults[0]:
        block = defaults[0].replace("</w:rPr>", f"{lang}</w:rPr>", 1)
    elif defaults or "<w:rPrDefault/>" in xml:
        block = f"<w:rPrDefault><w:rPr>{lang}</w:rPr></w:rPrDefault>"
        if not defaults:
            return xml.replace("<w:rPrDefault/>", block, 1)
    else:
        block = f"<w:rPrDefault><w:rPr>{lang}</w:rPr></w:rPrDefault>"
        if "<w:docDefaults>" in xml:
            return xml.replace("<w:docDefaults>", f"<w:docDefaults>{block}", 1)
        opening = re.search(r"<w:styles\b[^>]*>", xml)
        if not opening:
            return xml
        head, tail = xml[: opening.end()], xml[opening.end() :]
        return f"{head}<w:docDefaults>{block}</w:docDefaults>{tail}"
    return xml[: defaults.start()] + block + xml[defaults.end() :]


def check(data: bytes, kind: str, limits: UploadLimits) -> tuple[dict, bytes]:
    """The header and what follows it (see the module's docstring)."""
    if not data:
        raise Refused("empty")
    if len(data) > limits.max_bytes:
        raise Refused("too_large")
    kept, fixes = clean(data, limits)
    problems = inspection.inspect(kept, kind, trial=False) or inspection.font_problems(kept, kind)
    sample = b""
    renderer = Renderer()  # compiles the parts once for every trial
    for n, (name, context) in enumerate([] if problems else proof.trial_contexts(kind)):
        problems, rendered = inspection.trial_render(kept, kind, context, name=name,
                                                     renderer=renderer)  # fmt: skip
        if problems:
            break
        if n == 0:  # the hard case: converted to PDF/A by the parent
            sample = rendered or b""
    header = {"problems": [[p.message, p.place] for p in problems], "fixes": fixes,
              "size": len(kept), "sample": len(sample)}  # fmt: skip
    return header, kept + sample


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    kind = args[0]
    limits = UploadLimits(**json.loads(args[1])) if len(args) > 1 else UploadLimits()
    apply_limits(limits)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    data = sys.stdin.buffer.read(limits.max_bytes + 1)
    return answer(lambda: check(data, kind, limits))


if __name__ == "__main__":
    sys.exit(main())
