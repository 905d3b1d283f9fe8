"""The converter pool against the real LibreOffice: parallel workers, replacement of dead,
hung and worn workers, the bounded queue, conversion hosts, and one data root's profiles.

Assertions are on the order of events and on states, never on durations."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.oxml import parse_xml
from pypdf import PdfReader

from schemas import ContractSchema
from templates import BUNDLED, sales_contract
from templates import pdf as pdfs
from templates.convert import Converter
from templates.errors import ConverterBusy, ConverterUnavailable
from templates.listener import free_port
from templates.office_worker import slim_docx
from templates.render import Renderer
from tests.service.test_serve import listeners_on

DATA = Path(__file__).resolve().parents[1] / "data" / "contract.json"


@pytest.fixture(scope="module")
def docx() -> bytes:
    data = ContractSchema().load(json.loads(DATA.read_text("utf-8")))
    context = sales_contract.context("HT-202611-0001", data)
    properties = sales_contract.properties("HT-202611-0001", data)
    return Renderer().render("sales_contract", context, properties=properties).data


@pytest.fixture
def pools(tmp_path):
    """Make pools on ``tmp_path/run``; every one is closed, and nothing may outlive it."""
    made: list[Converter] = []

    def make(**options) -> Converter:
        options.setdefault("workers", 1)
        pool = Converter(profile_dir=tmp_path / "run" / "libreoffice-profile",
                         log_file=tmp_path / "run" / "unoserver.log", **options)  # fmt: skip
        made.append(pool)
        return pool

    yield make
    for pool in made:
        pool.close()
    assert listeners_on(tmp_path) == [], "closing a pool stops every LibreOffice it started"


def wait_until(condition, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def in_background(func, *args) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = func(*args)
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def states(pool: Converter) -> list[str]:
    return [w["state"] for w in pool.status()["workers"]]


def session_members(pgid: int) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(proc.name))
    return found


# -- what comes out ------------------------------------------------------------------------


def test_the_pdf_is_pdfa_2b_tagged_with_embedded_fonts(pools, docx):
    pool = pools()
    pdf = pool.to_pdf(docx)
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.xmp_metadata.pdfaid_part == "2"
    assert reader.xmp_metadata.pdfaid_conformance == "B"
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root
    pdfs.require_cjk_font(pdf)  # a CJK font, and every font, embedded
    assert "杭州临平精工机械有限公司" in pdfs.text(pdf)
    assert pool.libreoffice_version()[0].isdigit()


def _table_styles(data: bytes) -> set[str]:
    styles = zipfile.ZipFile(io.BytesIO(data)).read("word/styles.xml").decode()
    return set(re.findall(r'<w:style w:type="table"[^>]*w:styleId="([^"]+)"', styles))


def test_slimming_drops_only_the_table_styles_no_table_uses():
    """A template made with Word or python-docx carries ~100 table styles; one table names
    one of them."""
    made = Document()
    made.add_table(rows=1, cols=2).style = "Table Grid"
    raw = io.BytesIO()
    made.save(raw)
    docx = raw.getvalue()
    before, after = _table_styles(docx), _table_styles(slim_docx(docx))
    assert len(before) > 50
    assert after == {"TableNormal", "TableGrid"}  # the default one, and the one tables name
    slim = slim_docx(docx)
    assert slim_docx(slim) is slim, "nothing left to drop: the same bytes"
    with zipfile.ZipFile(io.BytesIO(docx)) as a, zipfile.ZipFile(io.BytesIO(slim)) as b:
        assert a.namelist() == b.namelist()
        assert a.read("word/document.xml") == b.read("word/document.xml")
    assert slim_docx(b"not a package") == b"not a package"


def _style_ids(data: bytes) -> set[str]:
    styles = zipfile.ZipFile(io.BytesIO(data)).read("word/styles.xml").decode()
    return set(re.findall(r'<w:style [^>]*w:styleId="([^"]+)"', styles))


def _made_in_word_style() -> bytes:
    """A document as Word or python-docx writes it: ~160 styles, a handful used."""
    made = Document()
    made.add_heading("第一条 标的", level=1)
    made.add_paragraph("需方向供方购买下列产品。").add_run("（以附件为准）").style = "Strong"
    made.add_paragraph("数控车床", style="List Number")
    made.add_table(rows=1, cols=2).style = "Table Grid"
    raw = io.BytesIO()
    made.save(raw)
    return raw.getvalue()


def test_the_copy_for_conversion_keeps_only_the_styles_the_document_uses():
    docx = _made_in_word_style()
    before = _style_ids(docx)
    slim = slim_docx(docx, purpose="conversion")
    after = _style_ids(slim)
    assert len(before) > 150
    used = {"Heading1", "Strong", "ListNumber", "TableGrid"}
    defaults = {"Normal", "DefaultParagraphFont", "TableNormal", "NoList"}
    assert used | defaults <= after
    assert "Heading1Char" in after, "what a kept style is linked to stays"
    assert {"Title", "Quote", "LightShading", "Heading2"}.isdisjoint(after)
    assert len(after) < 25
    assert b"latentStyles" not in zipfile.ZipFile(io.BytesIO(slim)).read("word/styles.xml")
    with zipfile.ZipFile(io.BytesIO(docx)) as a, zipfile.ZipFile(io.BytesIO(slim)) as b:
        assert a.read("word/document.xml") == b.read("word/document.xml")
    # A template people edit in Word keeps its style gallery.
    kept = _style_ids(slim_docx(docx))
    assert {"Title", "Quote", "Heading2"} <= kept
    assert "word/theme/theme1.xml" in zipfile.ZipFile(io.BytesIO(slim)).namelist(), (
        "Heading 1 is coloured from the theme"
    )


def test_a_theme_nothing_uses_is_left_out_of_the_copy_for_conversion(docx):
    slim = zipfile.ZipFile(io.BytesIO(slim_docx(docx, purpose="conversion")))
    assert not [name for name in slim.namelist() if "theme" in name]
    assert b"theme" not in slim.read("word/_rels/document.xml.rels")
    assert b"theme" not in slim.read("[Content_Types].xml")
    assert "word/theme/theme1.xml" in zipfile.ZipFile(io.BytesIO(docx)).namelist()


def test_a_document_that_finds_paragraphs_by_style_name_keeps_every_paragraph_style():
    made = Document()
    para = made.add_paragraph()
    field = '<w:fldSimple xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    para._p.append(parse_xml(field + " w:instr=' TOC \\o \"1-3\" '/>"))
    made.add_heading("第一条", level=1)
    raw = io.BytesIO()
    made.save(raw)
    after = _style_ids(slim_docx(raw.getvalue(), purpose="conversion"))
    assert {"Heading2", "Heading3", "Title"} <= after  # a table of contents may want them
    assert "LightShading" not in after


def _edited(data: bytes, edit) -> bytes:
    """``data`` with every part passed through ``edit(name, bytes)`` (a part it answers None
    for is left out)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            changed = edit(info.filename, src.read(info))
            if changed is not None:
                dst.writestr(info.filename.replace("theme1", "officeTheme"), changed)
    return out.getvalue()


def test_default_styles_stay_however_the_file_spells_default():
    """Nothing names the default styles: the paragraph below is Normal because it names none."""
    made = Document()
    made.add_paragraph("需方向供方购买下列产品。")
    raw = io.BytesIO()
    made.save(raw)
    docx = _edited(raw.getvalue(),
                   lambda name, b: b.replace(b'w:default="1"', b'w:default="true"'))  # fmt: skip
    assert {"Normal", "DefaultParagraphFont", "TableNormal", "NoList"} <= _style_ids(
        slim_docx(docx, purpose="conversion")
    )


@pytest.mark.parametrize(
    "instruction",
    [' toc \\o "1-3" ', " INDEX \\h ", " BIBLIOGRAPHY ", ' STYLEREF "Heading 1" '],
)
def test_fields_that_regenerate_or_find_by_style_keep_the_styles(instruction):
    made = Document()
    run = made.add_paragraph().add_run()
    run._r.append(parse_xml(
        '<w:instrText xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"{instruction}</w:instrText>"))  # fmt: skip
    raw = io.BytesIO()
    made.save(raw)
    after = _style_ids(slim_docx(raw.getvalue(), purpose="conversion"))
    assert {"TOCHeading", "Heading2", "Caption", "Title"} <= after, instruction
    assert "LightShading" not in after


@pytest.mark.parametrize("odd", ["prefix", "comment", "quotes"])
def test_a_package_not_shaped_as_word_writes_it_is_left_as_it_is(odd):
    def edit(name: str, data: bytes) -> bytes:
        if name == "word/document.xml" and odd == "prefix":
            return data.replace(b"xmlns:w=", b"xmlns:ns0=").replace(b"<w:", b"<ns0:")\
                .replace(b"</w:", b"</ns0:").replace(b" w:", b" ns0:")  # fmt: skip
        if name == "word/styles.xml" and odd == "comment":
            return data.replace(b"<w:latentStyles", b"<!-- was <w:latentStyles> --><w:latentStyles")
        if name == "word/document.xml" and odd == "quotes":
            return data.replace(b'w:val="Heading1"', b"w:val='Heading1'")
        return data

    docx = _edited(_made_in_word_style(), edit)
    assert slim_docx(docx, purpose="conversion") is docx


def test_a_broken_package_is_handed_on_as_it_is():
    good = _made_in_word_style()
    broken = good[:200] + bytes(64) + good[264:]  # a damaged deflate stream
    assert slim_docx(broken, purpose="conversion") is broken
    junk = b"PK\x03\x04 not a package"
    assert slim_docx(junk, purpose="conversion") is junk


def test_a_theme_under_another_name_goes_with_its_relationship(docx):
    renamed = _edited(docx, lambda name, b: b.replace(b"theme1.xml", b"officeTheme.xml"))
    slim = zipfile.ZipFile(io.BytesIO(slim_docx(renamed, purpose="conversion")))
    assert not [name for name in slim.namelist() if "heme" in name]
    assert b"officeTheme" not in slim.read("word/_rels/document.xml.rels")
    assert b"officeTheme" not in slim.read("[Content_Types].xml")


def test_a_chart_keeps_the_theme_it_takes_its_colours_from(docx):
    with_chart = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as src, zipfile.ZipFile(with_chart, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("word/charts/chart1.xml", b'<c:chartSpace xmlns:c="x"><c:style val="2"/>'
                     b"</c:chartSpace>")  # fmt: skip
    slim = zipfile.ZipFile(io.BytesIO(slim_docx(with_chart.getvalue(), purpose="conversion")))
    assert "word/theme/theme1.xml" in slim.namelist()


def test_styles_the_document_uses_still_shape_the_pdf(pools):
    """The heading and the strong run are set in a bold face after slimming."""
    pdf = pools().to_pdf(_made_in_word_style())
    assert any("Bold" in name for name in pdfs.embedded_fonts(pdf)), pdfs.embedded_fonts(pdf)
    assert "第一条 标的" in pdfs.text(pdf)


def test_the_bundled_templates_are_written_slim():
    for template in BUNDLED.glob("*.docx"):
        data = template.read_bytes()
        assert _table_styles(data) <= {"TableNormal", "TableGrid"}, template.name
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        assert "word/stylesWithEffects.xml" not in names, template.name


# -- parallel workers ----------------------------------------------------------------------


def test_two_workers_convert_at_the_same_time(pools, docx):
    pool = pools(workers=2)
    pool.start()
    first = pool.workers[0]
    assert pool.status()["mode"] == "local" and states(pool) == ["idle", "idle"]
    events: list[str] = []
    os.killpg(first.pid, signal.SIGSTOP)  # the first conversion cannot finish until released
    try:
        slow, outcome = in_background(lambda: (pool.to_pdf(docx), events.append("first done")))
        wait_until(lambda: states(pool)[0] == "busy", "the first worker took the document")
        events.append("second asked")
        assert pool.to_pdf(docx).startswith(b"%PDF")
        events.append("second done")
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    slow.join(30)
    assert "error" not in outcome, outcome
    assert events == ["second asked", "second done", "first done"]
    workers = pool.status()["workers"]
    assert [w["total"] for w in workers] == [1, 1]
    assert workers[0]["pid"] != workers[1]["pid"]


# -- dead, hung and worn workers -----------------------------------------------------------


def test_a_killed_worker_is_replaced_and_the_next_conversion_works(pools, docx):
    pool = pools()
    assert pool.to_pdf(docx).startswith(b"%PDF")
    first_pid = pool.pid
    os.killpg(first_pid, signal.SIGKILL)  # the worker and its LibreOffice
    wait_until(lambda: not pool.running, "the worker is gone")
    assert pool.to_pdf(docx).startswith(b"%PDF")
    second_pid = pool.pid
    assert second_pid != first_pid
    # Only LibreOffice dies (the worker process lives): the document still comes back.
    for pid in session_members(second_pid):
        if pid != second_pid:
            os.kill(pid, signal.SIGKILL)
    assert pool.to_pdf(docx).startswith(b"%PDF")
    assert pool.pid not in (first_pid, second_pid)
    assert pool.status()["workers"][0]["restarts"] == 2


def test_a_hung_conversion_is_killed_after_the_timeout_and_the_pool_recovers(pools, docx):
    pool = pools(timeout=3)
    pool.start()
    hung_pid = pool.pid
    os.killpg(hung_pid, signal.SIGSTOP)  # the worker and its LibreOffice freeze
    with pytest.raises(ConverterUnavailable, match="超时"):
        pool.to_pdf(docx)
    wait_until(lambda: not session_members(hung_pid), "the hung worker and its LibreOffice died")
    assert pool.to_pdf(docx).startswith(b"%PDF")
    assert pool.pid != hung_pid


def test_a_worker_is_recycled_after_n_conversions(pools, docx):
    pool = pools(recycle=2)
    pool.to_pdf(docx)
    first_pid = pool.pid
    pool.to_pdf(docx)  # the second: the worker is replaced in the background
    assert pool.to_pdf(docx).startswith(b"%PDF")
    worker = pool.status()["workers"][0]
    assert worker["pid"] != first_pid
    assert (worker["restarts"], worker["conversions"], worker["total"]) == (1, 1, 3)
    assert first_pid not in listeners_on(pool.workers[0].profile.own.parent)


# -- the queue -----------------------------------------------------------------------------


def test_a_full_queue_answers_busy_at_once_and_a_long_wait_gives_up(pools, docx):
    pool = pools(queue=1, queue_wait=3, timeout=60)
    pool.start()
    frozen = pool.pid
    events: list[str] = []
    os.killpg(frozen, signal.SIGSTOP)
    try:
        converting, first = in_background(pool.to_pdf, docx)
        wait_until(lambda: states(pool) == ["busy"], "the worker took the first document")
        waiting, second = in_background(
            lambda: (pool.to_pdf(docx), events.append("second converted"))
        )
        wait_until(lambda: pool.status()["waiting"] == 1, "a caller waits")
        with pytest.raises(ConverterBusy):
            pool.to_pdf(docx)
        events.append("third refused")
        waiting.join(30)
        events.append("second gave up" if isinstance(second.get("error"), ConverterBusy) else "?")
    finally:
        os.killpg(frozen, signal.SIGCONT)
    converting.join(30)
    assert events == ["third refused", "second gave up"]
    assert first["result"].startswith(b"%PDF"), "the conversion in progress was not harmed"
    assert pool.status()["waiting"] == 0 and states(pool) == ["idle"]


# -- conversion hosts ----------------------------------------------------------------------


def test_an_external_unoserver_converts(converter, docx):
    pool = Converter(url=converter._url)
    try:
        assert not pool.managed and pool.running and pool.pid is None
        assert pool.to_pdf(docx).startswith(b"%PDF")
        assert pool.status()["workers"][0] | {"conversions": 1} == {
            "worker": 1, "url": converter._url, "state": "idle", "conversions": 1,
            "failures": 0,
        }  # fmt: skip
        assert pool.libreoffice_version()[0].isdigit()
    finally:
        pool.close()


def test_hosts_are_used_in_turn_and_a_dead_one_is_set_aside(converter, docx):
    dead = f"http://127.0.0.1:{free_port()}"
    pool = Converter(urls=[dead, converter._url, converter._url])
    try:
        for _ in range(3):
            assert pool.to_pdf(docx).startswith(b"%PDF")
        hosts = pool.status()["workers"]
        assert [h["state"] for h in hosts] == ["down", "idle", "idle"]
        assert hosts[0]["failures"] == 1, "tried once, then skipped while set aside"
        assert [h["conversions"] for h in hosts] == [0, 2, 1]
    finally:
        pool.close()


def test_a_pool_of_unreachable_hosts_is_unavailable(docx):
    pool = Converter(urls=[f"http://127.0.0.1:{free_port()}"])
    try:
        with pytest.raises(ConverterUnavailable):
            pool.to_pdf(docx)
        with pytest.raises(ConverterUnavailable):
            pool.start()
    finally:
        pool.close()


# -- one data root, several processes ------------------------------------------------------

ORPHAN = """
import os, signal, sys
from pathlib import Path
from templates.convert import Converter
c = Converter(profile_dir=Path(sys.argv[1]), workers=1)
c.start()
print(c.pid, flush=True)
if sys.argv[2] == "frozen":
    os.killpg(c.pid, signal.SIGSTOP)  # a hung worker cannot notice its owner died
os._exit(0)  # dies without stopping LibreOffice, as a killed process would
"""


def test_workers_left_by_a_dead_process_do_not_linger(tmp_path, pools):
    profiles = tmp_path / "run" / "libreoffice-profile"

    def orphan(how: str) -> int:
        started = subprocess.run([sys.executable, "-c", ORPHAN, str(profiles), how],
                                 capture_output=True, text=True, check=True)  # fmt: skip
        return int(started.stdout.split()[-1])

    # A healthy worker notices its owner is gone and ends its LibreOffice by itself.
    alive = orphan("alive")
    wait_until(lambda: not session_members(alive), "the orphan ended itself")
    # A frozen one is killed by the next pool that claims its profile.
    frozen = orphan("frozen")
    assert session_members(frozen)
    pool = pools()
    pool.start()
    wait_until(lambda: not session_members(frozen), "the frozen orphan was killed")
    assert pool.status()["workers"][0]["profile"] == "own"


def test_a_second_process_on_the_same_data_root_gets_its_own_profile(tmp_path, pools):
    first, second = pools(), pools()
    first.start()
    second.start()
    assert first.pid != second.pid
    assert first.running and second.running
    assert [w["profile"] for w in (*first.status()["workers"], *second.status()["workers"])] == [
        "own", "temporary",
    ]  # fmt: skip
    second.close()
    profiles = tmp_path / "run" / "libreoffice-profile"
    assert sorted(p.name for p in profiles.iterdir() if p.is_dir()) == ["worker-1"]
