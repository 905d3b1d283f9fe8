"""Uploaded PDFs are checked, cleaned and read in a bounded worker: hostile files are generated
here, fed to ``inspect_upload``, and must cost the worker, never this process."""

from __future__ import annotations

import hashlib
import io
import resource
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from docx import Document
from pikepdf import Array, Dictionary, Name, String

from templates.upload_worker import Refused, _lzw, _run_length
from templates.uploads import Inspection, UploadLimits, UploadRejected, inspect_upload
from tests.helpers import pdf_text

MiB = 1024 * 1024
OPERATORS = b"BT /F1 1 Tf (x) Tj ET\n"


# --- building PDFs -------------------------------------------------------------------------------


def text_pdf(*texts: str) -> pikepdf.Pdf:
    """One page a text, in Helvetica (not embedded: pypdf reads it all the same)."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    )
    for text in texts:
        page = pdf.add_blank_page(page_size=(612, 792))
        page.obj.Resources = Dictionary(Font=Dictionary(F1=font))
        page.obj.Contents = pdf.make_stream(b"BT /F1 24 Tf 72 720 Td (%s) Tj ET" % text.encode())
    return pdf


def save(pdf: pikepdf.Pdf) -> bytes:
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def raw_pdf(*objects: bytes) -> bytes:
    """A PDF written byte by byte (object 1 is the catalogue): for structures that no library
    would write, and for streams that must stay compressed exactly as given."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def stream(data: bytes, entries: bytes = b"") -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (entries, len(data), data)


def one_page(contents: bytes) -> bytes:
    """A one-page PDF whose content stream object is ``contents``, as written."""
    return raw_pdf(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        contents,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    )


def operators_bomb(megabytes: int) -> bytes:
    """One page whose Flate content stream inflates to ``megabytes`` MiB of text operators,
    compressed piece by piece so that this process never holds it inflated."""
    compressor = zlib.compressobj(9)
    chunk = OPERATORS * (MiB // len(OPERATORS))
    data = b"".join([compressor.compress(chunk) for _ in range(megabytes)] + [compressor.flush()])
    return one_page(stream(data, b"/Filter /FlateDecode"))


def slow_page() -> bytes:
    """Inflates to 6 MB only (under the decompression limit) but costs pypdf seconds of CPU and
    hundreds of MB to read: the file of the issue."""
    return one_page(stream(zlib.compress(OPERATORS * (6_000_000 // len(OPERATORS)), 9),
                           b"/Filter /FlateDecode"))  # fmt: skip


# --- looking at the result -----------------------------------------------------------------------


def reopen(result: Inspection) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(result.clean_pdf))


def dictionaries(pdf: pikepdf.Pdf) -> list[tuple[str, Dictionary]]:
    """Every dictionary in the file, direct ones inside others included, with where it is."""
    found = []
    stack = [(f"object {obj.objgen}", obj) for obj in pdf.objects]
    while stack:
        where, obj = stack.pop()
        if isinstance(obj, Dictionary | pikepdf.Stream):
            found.append((where, obj))
            children = obj.items()
        elif isinstance(obj, Array):
            children = enumerate(obj)
        else:
            continue
        stack += [
            (f"{where} {key}", v)
            for key, v in children
            if isinstance(v, Dictionary | Array | pikepdf.Stream) and not v.is_indirect
        ]
    return found


def active_content(pdf: pikepdf.Pdf) -> list[str]:
    """Everything in the document that a viewer could run or open, by where it is."""
    found = []
    for where, obj in dictionaries(pdf):
        found += [f"{where} {key}" for key in ("/JS", "/AA", "/EF", "/XFA") if key in obj]
        if obj.get("/Subtype") in (Name.FileAttachment, Name.RichMedia, Name.Widget):
            found.append(f"{where} {obj.Subtype}")
        if obj.get("/Type") == Name.EmbeddedFile:
            found.append(f"{where} embedded file")
        for key in ("/A", "/OpenAction", "/Next"):
            action = obj.get(key)
            if isinstance(action, Dictionary) and action.get("/S") != Name.GoTo:
                found.append(f"{where} {key} {action.get('/S')}")
    for key in ("/AcroForm", "/AA"):
        if key in pdf.Root:
            found.append(f"catalogue {key}")
    names = pdf.Root.get("/Names", Dictionary())
    found += [f"names {key}" for key in ("/JavaScript", "/EmbeddedFiles") if key in names]
    return found


def workers_left() -> list[str]:
    """This process's children that are upload workers or zombies."""
    left = []
    for children in Path("/proc/self/task").glob("*/children"):
        for pid in children.read_text().split():
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if state == "Z" or "upload_worker" in command:
                left.append(f"{pid} {state} {command}")
    return left


def peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def refused(data: bytes, limits: UploadLimits | None = None) -> tuple[str, float]:
    """The message of the refusal and how long it took; no worker may be left behind."""
    started = time.monotonic()
    with pytest.raises(UploadRejected) as caught:
        inspect_upload(data, limits or UploadLimits())
    assert caught.value.field == "file"
    assert workers_left() == []
    return str(caught.value), time.monotonic() - started


# --- what passes -----------------------------------------------------------------------------


def test_a_normal_pdf_passes_with_its_pages_and_text():
    data = save(text_pdf("Hello hetong", "Second   page"))
    result = inspect_upload(data)
    assert result.pages == 2
    assert result.text == "Hello hetong\nSecond page"
    assert result.removed == []
    assert result.original_sha256 == hashlib.sha256(data).hexdigest()
    assert pdf_text(result.clean_pdf) == pdf_text(data)
    assert workers_left() == []


def test_a_real_chinese_pdf_a_keeps_its_text_and_conformance(converter):
    doc = Document()
    doc.add_paragraph("销售合同 甲方：华东机械有限公司")
    out = io.BytesIO()
    doc.save(out)
    result = inspect_upload(converter.to_pdf(out.getvalue()))
    assert result.pages == 1
    assert result.text == "销售合同 甲方：华东机械有限公司"
    assert result.removed == []
    with reopen(result) as clean, clean.open_metadata(set_pikepdf_as_editor=False) as meta:
        assert meta.pdfa_status == "2B"


def test_a_scans_images_do_not_count_against_the_decompression_limit():
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(612, 792))
    compressor = zlib.compressobj(9)
    pixels = b"".join(
        [compressor.compress(b"\x80" * MiB) for _ in range(40)] + [compressor.flush()]
    )
    image = pikepdf.Stream(pdf, b"")
    image.write(pixels, filter=Name.FlateDecode)  # 40 MiB of grey once inflated
    image.Type, image.Subtype, image.ColorSpace = Name.XObject, Name.Image, Name.DeviceGray
    image.Width, image.Height, image.BitsPerComponent = 4096, 10240, 8
    page.obj.Resources = Dictionary(XObject=Dictionary(Im0=image))
    page.obj.Contents = pdf.make_stream(b"q 612 0 0 792 0 0 cm /Im0 Do Q")
    out = io.BytesIO()
    pdf.save(out, stream_decode_level=pikepdf.StreamDecodeLevel.none)

    result = inspect_upload(out.getvalue(), UploadLimits(max_decompressed=8 * MiB))
    assert (result.pages, result.text, result.removed) == (1, "", [])


def test_text_is_cut_at_its_limit():
    result = inspect_upload(save(text_pdf("abcdefghij", "klmnop")), UploadLimits(max_text=12))
    assert result.text == "abcdefghij\nk"


# --- what is refused, and at what cost -------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "文件为空。"),
        (b"PK\x03\x04 a zip, not a PDF", "不是 PDF 文件。"),
        (b"%PDF-1.7\nnothing else", "PDF 文件已损坏，无法读取。"),
        (save(pikepdf.new()), "PDF 没有页面。"),
    ],
    ids=["empty", "zip", "damaged", "no-pages"],
)
def test_what_is_not_a_readable_pdf_is_refused(data, message):
    assert refused(data)[0] == message


@pytest.mark.parametrize("user", ["user-secret", ""], ids=["password", "owner-only"])
def test_an_encrypted_pdf_is_refused(user):
    out = io.BytesIO()
    text_pdf("secret").save(out, encryption=pikepdf.Encryption(user=user, owner="owner-secret"))
    assert refused(out.getvalue())[0] == "PDF 已加密，请上传未加密的文件。"


def test_a_file_over_the_size_limit_is_refused_before_any_worker_starts():
    assert (
        refused(save(text_pdf("x")), UploadLimits(max_bytes=100))[0]
        == "文件过大（上限 100 字节）。"
    )


# The resource-limit tests need a page heavy enough to burn seconds: allow it past the page
# limit (which alone would refuse it at once) so the limit under test is the one that acts.
BIG_PAGES = {"max_page_content": 64 * MiB}


def test_a_compression_bomb_is_refused_by_the_decompression_limit_in_the_worker():
    bomb = operators_bomb(80)  # 80 MiB of operators in 200 KB: deflate's ratio is about 400:1 here
    assert len(bomb) < 256 * 1024
    before = peak_rss_kb()
    # One page holds it all: with pages allowed that much, the total limit is what stops it.
    message, seconds = refused(bomb, UploadLimits(max_page_content=128 * MiB))
    assert message == "PDF 解压后内容超过上限（64 MB）。"
    assert seconds < 30
    # Inflated here, 80 MiB would have raised this process's peak by at least that much.
    assert peak_rss_kb() - before < 40_000


def test_a_file_that_needs_too_much_memory_kills_the_worker_not_this_process():
    before = peak_rss_kb()
    message, seconds = refused(
        slow_page(), UploadLimits(memory_bytes=128 * MiB, cpu_seconds=30, **BIG_PAGES)
    )
    assert message == "检查 PDF 所需内存超过上限。"
    assert seconds < 30
    assert peak_rss_kb() - before < 40_000


def test_a_file_that_burns_cpu_is_stopped_by_the_cpu_limit():
    message, seconds = refused(slow_page(), UploadLimits(cpu_seconds=1, **BIG_PAGES))
    assert message == "检查 PDF 超时（1 秒），文件可能被构造为耗尽资源。"
    assert seconds < 30


def test_the_wall_clock_limit_kills_the_worker_and_leaves_nothing():
    message, seconds = refused(
        slow_page(), UploadLimits(cpu_seconds=30, wall_seconds=1, **BIG_PAGES)
    )
    assert message == "检查 PDF 超时（1 秒），文件可能被构造为耗尽资源。"
    assert seconds < 30


def test_ten_thousand_pages_are_refused_by_the_page_limit():
    kids = b" ".join(b"%d 0 R" % (n + 4) for n in range(10_000))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>"
    data = raw_pdf(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count 10000 >>" % kids,
        stream(b"BT ET"),
        *[page] * 10_000,
    )
    assert refused(data)[0] == "PDF 页数超过上限（200 页）。"


def test_a_hundred_thousand_nested_arrays_are_refused():
    nested = b"[" * 100_000 + b"]" * 100_000
    data = raw_pdf(
        b"<< /Type /Catalog /Pages 2 0 R /Trap 4 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        nested,
    )
    assert refused(data)[0] == "PDF 结构嵌套过深或对象过多，超出解析上限。"


def test_a_loop_in_the_page_tree_is_refused():
    data = raw_pdf(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    )
    assert refused(data)[0] == "PDF 文件已损坏，无法读取。"


def test_the_worker_decoders_stop_at_their_cap():
    # The example of ISO 32000-1, 7.4.4.2: codes 256 45 258 258 65 259 66 257.
    assert _lzw(bytes.fromhex("800B6050220C0C8501"), 100, 1) == b"-----A---B"
    with pytest.raises(Refused):
        _lzw(bytes.fromhex("800B6050220C0C8501"), 5, 1)
    assert _run_length(b"\x02abc\xfex\x80", 100) == b"abcxxx"
    with pytest.raises(Refused):
        _run_length(b"\x81x" * 1000, 10_000)  # 128 bytes from every 2


# --- what the clean copy lacks ---------------------------------------------------------------


def js(code: str) -> Dictionary:
    return Dictionary(S=Name.JavaScript, JS=String(code))


def goto(pdf: pikepdf.Pdf, page: int = 0, **more) -> Dictionary:
    return Dictionary(S=Name.GoTo, D=Array([pdf.pages[page].obj, Name.Fit]), **more)


def add_link(pdf: pikepdf.Pdf, action: Dictionary) -> None:
    link = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[72, 700, 300, 740], A=action)
    pdf.pages[0].obj.Annots = pdf.make_indirect(Array([pdf.make_indirect(link)]))


def add_field(pdf: pikepdf.Pdf) -> None:
    """A filled-in text field whose appearance shows its value."""
    page = pdf.pages[0].obj
    appearance = pdf.make_stream(
        b"BT /F1 12 Tf 2 6 Td (Signed by Li) Tj ET",
        Type=Name.XObject, Subtype=Name.Form, BBox=[0, 0, 200, 20],
        Resources=Dictionary(Font=Dictionary(F1=page.Resources.Font.F1)),
    )  # fmt: skip
    field = pdf.make_indirect(Dictionary(
        Type=Name.Annot, Subtype=Name.Widget, FT=Name.Tx, T=String("signer"),
        V=String("Signed by Li"), Rect=[72, 600, 272, 620], F=4, P=page,
        AP=Dictionary(N=appearance), AA=Dictionary(K=js("event.rc = true")),
    ))  # fmt: skip
    page.Annots = Array([field])
    pdf.Root.AcroForm = Dictionary(Fields=Array([field]))


HOSTILE: dict[str, tuple[Callable[[pikepdf.Pdf], None], list[str]]] = {
    "open-action-javascript": (
        lambda pdf: setattr(pdf.Root, "OpenAction", js("app.alert(1)")),
        ["文档打开动作（JavaScript）"],
    ),
    "launch-link": (
        lambda pdf: add_link(pdf, Dictionary(S=Name.Launch, F=String("calc.exe"))),
        ["第 1 页链接的动作（启动程序）"],
    ),
    "page-aa": (
        lambda pdf: setattr(pdf.pages[0].obj, "AA", Dictionary(O=js("app.alert(2)"))),
        ["第 1 页的页面动作"],
    ),
    "javascript-link": (
        lambda pdf: add_link(pdf, js("app.alert(3)")),
        ["第 1 页链接的动作（JavaScript）"],
    ),
    "goto-then-uri-link": (
        lambda pdf: add_link(pdf, goto(pdf, Next=Dictionary(S=Name.URI, URI=String("http://x/")))),
        ["第 1 页链接的动作（跳转、打开网址）"],
    ),
    "embedded-files": (
        lambda pdf: pdf.attachments.update({"a.exe": b"MZ...", "b.txt": b"hello"}),
        ["嵌入文件 2 个"],
    ),
    "form-field": (add_field, ["第 1 页表单域的附加动作", "表单域 1 个（1 个的外观已并入页面）"]),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_active_content_is_removed_and_named(case):
    add, removed = HOSTILE[case]
    pdf = text_pdf("Contract page")
    add(pdf)
    original = save(pdf)
    assert active_content(pikepdf.open(io.BytesIO(original)))  # the test file is hostile

    result = inspect_upload(original)
    assert result.removed == removed
    with reopen(result) as clean:
        assert active_content(clean) == []
        assert len(clean.pages) == 1
    assert result.text.startswith("Contract page")
    assert pdf_text(result.clean_pdf).startswith("Contract page")


def test_a_form_fields_value_stays_on_the_page():
    pdf = text_pdf("Contract page")
    add_field(pdf)
    result = inspect_upload(save(pdf))
    assert result.text == "Contract page Signed by Li"
    with reopen(result) as clean:
        assert "/AcroForm" not in clean.Root
        assert list(clean.pages[0].obj.get("/Annots", [])) == []


def test_everything_at_once_and_a_safe_link_is_kept():
    pdf = text_pdf("Page one", "Page two")
    add_field(pdf)
    pdf.Root.OpenAction = goto(pdf, 1, Next=js("app.alert(4)"))
    pdf.Root.AA = Dictionary(WC=js("app.alert(5)"))
    pdf.Root.AcroForm.XFA = pdf.make_stream(b"<xdp:xdp/>")
    pdf.Root.Names = Dictionary(JavaScript=Dictionary(Names=Array([String("a"), js("x")])))
    pdf.attachments["invoice.xml"] = b"<invoice/>"  # also listed in the catalogue's /AF
    bookmark = pdf.make_indirect(Dictionary(Title=String("Run"), A=js("app.alert(6)")))
    pdf.Root.Outlines = pdf.make_indirect(Dictionary(First=bookmark, Last=bookmark, Count=1))
    two = pdf.pages[1].obj
    two.AA = Dictionary(C=js("app.alert(7)"))
    two.Annots = Array([
        Dictionary(Type=Name.Annot, Subtype=Name.FileAttachment, Rect=[0, 0, 9, 9],
                   FS=Dictionary(Type=Name.Filespec, F=String("x.exe"),
                                 EF=Dictionary(F=pdf.make_stream(b"MZ", Type=Name.EmbeddedFile)))),
        Dictionary(Type=Name.Annot, Subtype=Name.RichMedia, Rect=[0, 0, 9, 9]),
        Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[0, 0, 9, 9], A=goto(pdf)),
    ])  # fmt: skip

    result = inspect_upload(save(pdf))
    assert result.removed == [
        "嵌入文件 2 个",
        "文档打开动作（跳转、JavaScript）",
        "文档级附加动作（JavaScript）",
        "文档级 JavaScript 1 段",
        "书签中的动作 1 个（JavaScript）",
        "第 1 页表单域的附加动作",
        "第 2 页的页面动作",
        "第 2 页的附件注释",
        "第 2 页的多媒体注释",
        "XFA 表单",
        "表单域 1 个（1 个的外观已并入页面）",
    ]
    with reopen(result) as clean:
        assert active_content(clean) == []
        links = list(clean.pages[1].obj.Annots)
        assert [(link.Subtype, link.A.S) for link in links] == [(Name.Link, Name.GoTo)]
    assert result.text == "Page one Signed by Li\nPage two"


def test_the_worker_runs_on_its_own_from_the_command_line():
    answer = subprocess.run(
        [sys.executable, "-m", "templates.upload_worker"],
        input=save(text_pdf("Hello")), capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    header, _, clean = answer.stdout.partition(b"\n")
    assert header.startswith(b'{"pages": 1, "text": "Hello", "removed": [], "size": ')
    assert clean.startswith(b"%PDF-")


def test_a_page_of_six_megabytes_of_drawing_instructions_is_refused_at_once():
    """The attack from the issue: 15 KB on disk, 6 MB of text operators on one page."""
    operators = b"BT /F1 1 Tf 1 0 0 1 10 10 Tm (x) Tj ET\n" * (6 * 1024 * 1024 // 38)
    pdf = pikepdf.new()
    page = pdf.add_blank_page()
    page.obj.Contents = pdf.make_stream(operators)
    out = io.BytesIO()
    pdf.save(out, compress_streams=True)
    assert len(out.getvalue()) < 100_000
    with pytest.raises(UploadRejected) as refused:
        inspect_upload(out.getvalue())
    assert "单页内容超过上限" in refused.value.message
