"""One warm LibreOffice, driven through UNO: the process behind each worker of the pool.

The pool (``templates.workers.LocalWorker``) runs this file by path,

    PYTHON office_worker.py --fd N --profile DIR [--pdf-option NAME=VALUE ...]

with an interpreter that has ``uno`` (Debian's python3-uno), in a session of its own. It starts
soffice with the profile DIR on a private pipe, connects, says it is ready and then converts
one .docx per request on the socket N, until that socket closes (the pool hung up, or died);
then it ends its LibreOffice. Only the standard library and ``uno`` are imported here, so the
interpreter need not be the pool's.

Frames on the socket: one kind byte, an 8-byte big-endian length, the body.

    pool → worker   C <docx>        convert this to PDF
    worker → pool   R <json>        ready: {"version", "soffice_pid"}
                    P <pdf>         the PDF
                    E <utf-8 text>  this document failed; the worker carries on
                    F <utf-8 text>  the worker failed and is ending
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import logging
import re
import shutil
import socket
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

log = logging.getLogger("hetong.office_worker")

HEADER = struct.Struct(">cQ")
SOFFICE = "/usr/lib/libreoffice/program/soffice"

# -- frames ------------------------------------------------------------------------------------


def _deadline(sock: socket.socket, deadline: float | None) -> None:
    if deadline is not None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no answer in time")
        sock.settimeout(left)


def send_frame(
    sock: socket.socket, kind: bytes, body: bytes, deadline: float | None = None
) -> None:
    _deadline(sock, deadline)
    sock.sendall(HEADER.pack(kind, len(body)))
    _deadline(sock, deadline)
    sock.sendall(body)


def _recv_exactly(sock: socket.socket, size: int, deadline: float | None) -> bytes:
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        _deadline(sock, deadline)
        n = sock.recv_into(view[got:])
        if n == 0:
            raise EOFError("the other end closed the socket")
        got += n
    return bytes(buffer)


def recv_frame(sock: socket.socket, deadline: float | None = None) -> tuple[bytes, bytes]:
    """The next frame; ``deadline`` (time.monotonic) raises TimeoutError when passed."""
    kind, size = HEADER.unpack(_recv_exactly(sock, HEADER.size, deadline))
    return kind, _recv_exactly(sock, size, deadline)


# -- the input ---------------------------------------------------------------------------------

_STYLE_OPEN = b"<w:style "
_STYLE_CLOSE = b"</w:style>"
_STYLE_ID = re.compile(rb'w:styleId="([^"]*)"')
_STYLE_TYPE = re.compile(rb'w:type="([^"]*)"')
_DEFAULT = re.compile(rb'w:default="(?:1|true|on)"')
# Where the other parts name a style: pStyle, rStyle, tblStyle, numbering's styleLink and
# numStyleLink, settings' defaultTableStyle and clickAndTypeStyle.
_STYLE_REF = re.compile(rb'<w:(?:\w*Style|styleLink|numStyleLink)\s+w:val="([^"]*)"')
# What a kept style brings along inside the styles part.
_STYLE_CHAIN = re.compile(rb'<w:(?:basedOn|link|next)\s+w:val="([^"]*)"')
_LATENT_OPEN, _LATENT_CLOSE = b"<w:latentStyles", b"</w:latentStyles>"
# WordprocessingML bound to another prefix (or as the default namespace), single-quoted
# attributes, comments: not the shape Word writes, and our patterns would misread them.
_MAIN_NS = (rb"http://schemas\.openxmlformats\.org/wordprocessingml/2006/main"
            rb"|http://purl\.oclc\.org/ooxml/wordprocessingml/main")  # fmt: skip
_ODD_SHAPE = re.compile(rb'xmlns(?!:w=)(?::\w+)?="(?:' + _MAIN_NS + rb')"|w:\w+=\'|<!--')
# What uses the theme: theme fonts and colours (w:asciiTheme, w:themeColor, DrawingML's
# schemeClr, +mj-/+mn- fonts and style references such as fontRef idx="minor"), and charts
# and diagrams, which take their colours from it. Settings only map the theme.
_THEME_USE = re.compile(rb"[Tt]heme|schemeClr|\+m[jn]-|Ref\s+idx=")
_THEME_USERS = re.compile(r"word/(?:charts|diagrams|embeddings)/")
_THEME_PART = re.compile(r"word/theme/[^/]+\.xml")
# Fields whose results LibreOffice regenerates (``_convert`` updates every index) or that
# find paragraphs by their style's name: with one, no paragraph or character style may go.
_INSTRUCTION = re.compile(rb"<w:instrText\b[^>]*>([^<]*)</w:instrText>|w:instr=\"([^\"]*)\"")
_BY_STYLE = re.compile(rb"\b(?:TOC|STYLEREF|INDEX|TOA|BIBLIOGRAPHY|CITATION)\b", re.I)
# Below this size a styles part holds few styles: not worth rewriting the package; above
# MAX_PACKAGE (unpacked) it is not worth reading it twice.
_SLIM_FROM = {"template": 32 * 1024, "conversion": 8 * 1024}
MAX_PACKAGE = 64 * 1024 * 1024


def slim_docx(docx: bytes, *, compress: bool = False, purpose: str = "template") -> bytes:
    """The same document without the styles nothing in it uses.

    python-docx's default template (and so every template made with it, and Word's own) carries
    100 table styles and some 60 paragraph and character styles; LibreOffice imports every one
    of them, which is most of what it spends on a small contract, and they change nothing on
    the page. For a ``"template"`` (a file people edit in Word) only the unused table styles
    go: the paragraph styles are Word's style gallery. For a ``"conversion"`` (the copy
    LibreOffice turns into the PDF, never seen in Word) every unused style goes, the
    latent-style list Word's gallery is built from, and the theme when nothing uses it. Kept:
    the default styles, those another part names, and what they are based on, linked to or
    followed by; with a table of contents, an index or a STYLEREF field, every paragraph and
    character style. Anything unexpected leaves the document as it was: this never raises.
    ``compress`` deflates the package (for a conversion host across the network).
    """
    if purpose not in _SLIM_FROM:
        raise ValueError(f"unknown purpose {purpose!r}")
    try:
        return _slim(docx, compress, purpose)
    except Exception:  # a package we cannot read is converted (or refused) as it is
        log.debug("left the package as it was", exc_info=True)
        return docx


def _slim(docx: bytes, compress: bool, purpose: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        infos = package.infolist()
        styles_info = next((i for i in infos if i.filename == "word/styles.xml"), None)
        if styles_info is None or styles_info.file_size < _SLIM_FROM[purpose]:
            return docx
        if sum(i.file_size for i in infos) > MAX_PACKAGE:
            return docx
        parts = {i.filename: package.read(i) for i in infos}
    conversion = purpose == "conversion"
    named: set[bytes] = set()
    everything, theme_unused = conversion, conversion
    for name, data in parts.items():
        if not name.endswith(".xml"):
            continue
        if conversion and _ODD_SHAPE.search(data):
            return docx
        if name.startswith("word/") and "styles" not in name.lower():
            named.update(_STYLE_REF.findall(data))
            instructions = b"".join(a or b for a, b in _INSTRUCTION.findall(data))
            if everything and _BY_STYLE.search(instructions):
                everything = False
        if (theme_unused and not _THEME_PART.fullmatch(name)
                and name not in ("word/settings.xml", "word/styles.xml", "[Content_Types].xml")
                and (_THEME_USERS.match(name) or _THEME_USE.search(data))):  # fmt: skip
            theme_unused = False  # (the styles are looked at once slimmed)
    # Which kinds of style may go when not every kind may.
    kinds = {b"table", b"numbering"} if conversion else {b"table"}
    # Cut the styles part after each </w:style>: every piece but the last ends one style.
    pieces = parts["word/styles.xml"].split(_STYLE_CLOSE)
    styles: dict[bytes, int] = {}  # styleId → index of its piece
    droppable: set[bytes] = set()
    for i, piece in enumerate(pieces[:-1]):
        start = piece.find(_STYLE_OPEN)
        if start < 0 or piece.find(_STYLE_OPEN, start + 1) >= 0:
            return docx  # not the shape Word and python-docx write
        opening = piece[start : piece.find(b">", start) + 1]
        if not (sid := _STYLE_ID.search(opening)):
            continue
        styles[sid.group(1)] = i
        kind = _STYLE_TYPE.search(opening)
        if kind and (everything or kind.group(1) in kinds):
            droppable.add(sid.group(1))
    keep = {sid for sid, i in styles.items() if _DEFAULT.search(pieces[i])} | named
    pending = [sid for sid in keep if sid in styles]
    while pending:  # a kept style's chain is kept too
        for other in _STYLE_CHAIN.findall(pieces[styles[pending.pop()]]):
            if other not in keep and other in styles:
                keep.add(other)
                pending.append(other)
    unused = {styles[sid] for sid in droppable - keep}
    for i in unused:
        piece = pieces[i]
        pieces[i] = piece[: piece.find(_STYLE_OPEN)]  # what came before it stays
    kept = [p + _STYLE_CLOSE if i not in unused else p for i, p in enumerate(pieces[:-1])]
    latent = False
    if conversion and kept and (start := kept[0].find(_LATENT_OPEN)) >= 0:
        close = kept[0].find(_LATENT_CLOSE, start)
        if close >= 0:
            kept[0] = kept[0][:start] + kept[0][close + len(_LATENT_CLOSE) :]
            latent = True
    styles_xml = b"".join(kept) + pieces[-1]
    theme = []
    if theme_unused and not _THEME_USE.search(styles_xml):
        theme = [name for name in parts if _THEME_PART.fullmatch(name)]
    if not unused and not latent and not theme:
        return docx
    parts["word/styles.xml"] = styles_xml
    drop_parts(parts, theme)  # a theme nothing uses: LibreOffice would still import it
    out = io.BytesIO()
    # Stored unless asked: the package only travels to LibreOffice on this machine.
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(out, "w", method, compresslevel=1 if compress else None) as package:
        for info in infos:
            if info.filename in parts:
                package.writestr(info.filename, parts[info.filename])
    return out.getvalue()


def drop_parts(parts: dict[str, bytes], names: list[str]) -> None:
    """Take the parts ``names`` out of a package's ``parts`` (name → bytes), with the
    relationships that point at them and their content-type overrides."""
    for name in names:
        del parts[name]
        leaf = re.escape(name.rsplit("/", 1)[-1].encode())
        link = re.compile(rb"<(?:Relationship|Override)\b[^>]*[/\"]" + leaf + rb'"[^>]*/>')
        for other in parts:
            if other.endswith(".rels") or other == "[Content_Types].xml":
                parts[other] = link.sub(b"", parts[other])


# -- LibreOffice -------------------------------------------------------------------------------


class DocumentFailed(Exception):
    """LibreOffice could not open or export this document, and is still fine."""


class Office:
    """soffice with its own profile, on a private pipe, and the UNO objects to drive it."""

    def __init__(self, profile: Path, pdf_options: list[str], start_timeout: float) -> None:
        self.profile = profile
        self.pdf_options = pdf_options
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.desktop = None
        self.version = ""
        # Inside the profile, so a worker killed mid-conversion leaves nothing in /tmp.
        self.scratch = profile / "convert"
        self.done = None  # the document last converted, until ``tidy`` closes it

    def start(self) -> None:
        import uno
        from com.sun.star.connection import NoConnectException

        self.scratch.mkdir(parents=True, exist_ok=True)
        # Named after the profile: LibreOffice replaces the socket file a killed predecessor
        # left in /tmp instead of leaving one more behind per restart.
        pipe = "hetong-" + hashlib.sha256(str(self.profile.resolve()).encode()).hexdigest()[:20]
        soffice = shutil.which("soffice") or SOFFICE
        log.info("Starting LibreOffice (%s, profile %s)", soffice, self.profile)
        started = time.monotonic()
        # The `soffice` launcher (oosplash) restarts LibreOffice once when it creates a new
        # profile; it stays in this session, so the pool's killpg reaches all of it.
        self.process = subprocess.Popen([
            soffice, "--headless", "--invisible", "--nocrashreport", "--nodefault", "--nologo",
            "--nofirststartwizard", "--norestore",
            f"-env:UserInstallation={self.profile.resolve().as_uri()}",
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ], stdin=subprocess.DEVNULL)  # fmt: skip
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local
        )
        while True:
            try:
                context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except NoConnectException:
                if self.process.poll() is not None:
                    raise RuntimeError(f"soffice exited ({self.process.returncode})") from None
                if time.monotonic() - started > self.start_timeout:
                    raise RuntimeError("soffice did not answer in time") from None
                time.sleep(0.05)
        manager = context.ServiceManager
        self.desktop = manager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
        self.version = self._version(manager, context)
        log.info("Started LibreOffice %s in %.1f s", self.version, time.monotonic() - started)

    @staticmethod
    def _version(manager, context) -> str:
        from com.sun.star.beans import PropertyValue

        provider = manager.createInstanceWithContext(
            "com.sun.star.configuration.ConfigurationProvider", context
        )
        node = PropertyValue(Name="nodepath", Value="/org.openoffice.Setup/Product")
        access = provider.createInstanceWithArguments(
            "com.sun.star.configuration.ConfigurationAccess", (node,)
        )
        return str(access.getByName("ooSetupVersionAboutBox"))

    def alive(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            return False
        try:
            self.desktop.getComponents()
        except Exception:  # the bridge is gone: LibreOffice crashed
            return False
        return True

    def convert(self, docx: bytes) -> bytes:
        try:
            return self._convert(slim_docx(docx, purpose="conversion"))
        except Exception as exc:
            if self.alive():
                raise DocumentFailed(f"{type(exc).__name__}: {exc}") from exc
            raise

    def _convert(self, docx: bytes) -> bytes:
        import uno
        from com.sun.star.beans import PropertyValue

        with contextlib.suppress(Exception):  # the last one's close failing is not this one's
            self.tidy()
        source, target = self.scratch / "in.docx", self.scratch / "out.pdf"
        source.write_bytes(docx)
        target.unlink(missing_ok=True)
        load = (
            PropertyValue(Name="Hidden", Value=True),
            PropertyValue(Name="ReadOnly", Value=True),
        )
        document = self.desktop.loadComponentFromURL(source.as_uri(), "_blank", 0, load)
        if document is None:
            raise DocumentFailed("LibreOffice 无法打开该文档")
        try:
            # As unoserver did: fields and indexes (a table of contents) are brought up to date.
            document.refresh()
            indexes = document.getDocumentIndexes()
            for i in range(indexes.getCount()):
                indexes.getByIndex(i).update()
            data = tuple(PropertyValue(Name=k, Value=v) for k, v in self._options())
            store = (
                PropertyValue(Name="FilterName", Value="writer_pdf_Export"),
                PropertyValue(
                    Name="FilterData", Value=uno.Any("[]com.sun.star.beans.PropertyValue", data)
                ),
            )
            document.storeToURL(target.as_uri(), store)
        except BaseException:
            document.close(True)
            raise
        self.done = document
        return target.read_bytes()

    def tidy(self) -> None:
        """Close the document last converted. ``serve`` calls it once the PDF is on its way,
        so closing overlaps with the caller's work instead of adding to its wait."""
        document, self.done = self.done, None
        if document is not None:
            document.close(True)

    def _options(self) -> list[tuple[str, object]]:
        options: list[tuple[str, object]] = []
        for option in self.pdf_options:
            name, _, raw = option.partition("=")
            value: object = raw
            if raw in ("true", "false"):
                value = raw == "true"
            elif raw.isdecimal():
                value = int(raw)
            options.append((name, value))
        return options

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(Exception):
                self.tidy()
            # The bridge goes away as LibreOffice ends: an exception here is expected.
            with contextlib.suppress(Exception):
                self.desktop.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.scratch, ignore_errors=True)


def serve(sock: socket.socket, office: Office) -> int:
    ready = {"version": office.version, "soffice_pid": office.process.pid}
    send_frame(sock, b"R", json.dumps(ready).encode())
    while True:
        try:
            kind, body = recv_frame(sock)
        except (EOFError, OSError):
            return 0  # the pool hung up
        if kind != b"C":
            send_frame(sock, b"F", f"unknown request {kind!r}".encode())
            return 2
        try:
            pdf = office.convert(body)
        except DocumentFailed as exc:
            log.warning("conversion failed: %s", exc)
            send_frame(sock, b"E", str(exc).encode())
            continue
        except Exception as exc:
            log.exception("LibreOffice failed")
            send_frame(sock, b"F", f"{type(exc).__name__}: {exc}".encode())
            return 1
        send_frame(sock, b"P", pdf)
        try:
            office.tidy()
        except Exception as exc:  # the next conversion finds out whether LibreOffice is fine
            log.warning("closing a converted document failed: %s", exc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--profile", type=Path, required=True)
    parser.add_argument("--pdf-option", action="append", default=[])
    parser.add_argument("--start-timeout", type=float, default=90)
    parser.add_argument("--name", default="")
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO,
        format=f"%(asctime)s office worker {args.name} [%(process)d] %(message)s",
    )  # fmt: skip
    sock = socket.socket(fileno=args.fd)
    office = Office(args.profile, args.pdf_option, args.start_timeout)
    try:
        try:
            office.start()
        except Exception as exc:
            log.exception("LibreOffice did not start")
            send_frame(sock, b"F", f"{type(exc).__name__}: {exc}".encode())
            return 1
        return serve(sock, office)
    finally:
        office.stop()
        sock.close()


if __name__ == "__main__":
    sys.exit(main())
