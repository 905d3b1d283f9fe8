"""The boxed half of upload inspection: ``python -m templates.upload_worker [LIMITS-JSON]``.

Reads a PDF on stdin and writes one JSON header line to stdout, followed by the clean PDF when
the upload is accepted:

    {"pages": 3, "text": "…", "removed": ["…"], "size": 18234}\\n<size bytes of PDF>
    {"error": "decompressed"}\\n

Before it reads a byte it lowers its own limits (CPU seconds, address space, file size, no core
dumps); the parent (``templates.uploads``) adds the wall clock and caps what it reads back. Inside
those, it also counts what it decompresses, so that a bomb is named as one instead of just
running out of time.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import os
import re
import resource
import stat
import sys
import traceback
import zlib
from collections.abc import Callable
from io import BytesIO

import pikepdf
from pypdf import PdfReader

from templates.upload_clean import sanitize
from templates.uploads import UploadLimits

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
MAX_FILTERS = 16
CONTROLS = dict.fromkeys([*range(0x20), 0x7F], " ") | dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A)], None
)  # C0 controls become spaces; bidirectional overrides go


class Refused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def apply_limits(limits: UploadLimits) -> None:
    """Lower this process's own ceilings; they hold for everything it does from here on."""
    _lower(resource.RLIMIT_CORE, 0)
    # The soft limit sends SIGXCPU; the hard one, a second later, SIGKILL for code that ignores it.
    cpu = math.ceil(limits.cpu_seconds)  # setrlimit takes whole seconds
    _lower(resource.RLIMIT_CPU, cpu, cpu + 1)
    _lower(resource.RLIMIT_AS, limits.memory_bytes)
    # Nothing here writes files. Only when stdout itself is a file (someone running the command by
    # hand with "> out") may it grow, and then only to what the parent would accept anyway.
    to_file = stat.S_ISREG(os.fstat(sys.stdout.fileno()).st_mode)
    _lower(resource.RLIMIT_FSIZE, limits.output_cap() if to_file else 0)
    sys.dont_write_bytecode = True
    os.nice(5)  # the web process keeps its share of the cores while a bomb burns its seconds


def _lower(which: int, soft: int, hard: int | None = None) -> None:
    current = resource.getrlimit(which)[1]
    hard = soft if hard is None else hard
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(which, (soft, hard))


def inspect(data: bytes, limits: UploadLimits) -> tuple[dict, bytes]:
    """The header and the clean PDF; ``Refused`` with a code when the upload is not acceptable."""
    if not data:
        raise Refused("empty")
    if len(data) > limits.max_bytes:
        raise Refused("too_large")
    if data.lstrip()[:5] != b"%PDF-":
        raise Refused("not_pdf")
    try:
        pdf = pikepdf.open(BytesIO(data))
    except pikepdf.PasswordError:
        raise Refused("encrypted") from None
    with pdf:
        if pdf.is_encrypted:  # opened with an empty user password: still not what we archive
            raise Refused("encrypted")
        pages = len(pdf.pages)  # qpdf walks the page tree here, refusing loops
        _check_warnings(pdf)
        if pages == 0:
            raise Refused("no_pages")
        if pages > limits.max_pages:
            raise Refused("pages")
        measure(pdf, limits.max_decompressed, limits.max_page_content)
        _check_warnings(pdf)
        removed = sanitize(pdf)
        out = BytesIO()
        # Streams are copied as they are (no decoding, so no inflation on the way out); only
        # streams that were stored uncompressed get compressed.
        # The metadata stays as it was (fix_metadata_version would parse the XMP packet).
        pdf.save(out, stream_decode_level=pikepdf.StreamDecodeLevel.none,
                 fix_metadata_version=False, deterministic_id=True)  # fmt: skip
    clean = out.getvalue()
    text = extract_text(clean, limits.max_text)
    return {"pages": pages, "text": text, "removed": removed, "size": len(clean)}, clean


def _check_warnings(pdf: pikepdf.Pdf) -> None:
    # qpdf replaces what exceeds its parser limits (nesting depth, container size) by null and
    # goes on; a file built to hit those limits is refused rather than silently repaired.
    if any("limits error" in warning for warning in pdf.get_warnings()):
        raise Refused("structure")


def measure(pdf: pikepdf.Pdf, limit: int, page_limit: int) -> None:
    """Decode every stream that the worker or a viewer would decode as content, counting the
    bytes against ``limit``; ``Refused("decompressed")`` as soon as it is exceeded, and
    ``Refused("page_content")`` for one page whose drawing instructions exceed ``page_limit``
    (a real page, even a dense one, needs far less: a page of megabytes of operators is built to
    make every reader of it spend seconds).

    Image data (``/Subtype /Image``) is left out: nothing here decodes it, and a scan's images
    alone may inflate well beyond the limit. Page contents are measured whatever they claim to be.
    Embedded files are left out too: they are removed from the clean copy unread.
    """
    remaining, seen = limit, set()
    for page in pdf.pages:
        on_page = 0
        for stream in _as_list(page.obj.get("/Contents")):
            if isinstance(stream, pikepdf.Stream):
                page_left = page_limit - on_page
                try:
                    size = len(decode(stream, min(remaining, page_left)))
                except Refused as exc:
                    if exc.code == "decompressed" and page_left <= remaining:
                        raise Refused("page_content") from None
                    raise
                on_page += size
                if stream.objgen not in seen:
                    seen.add(stream.objgen)
                    remaining -= size
    others = (
        obj for obj in pdf.objects
        if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") != pikepdf.Name.Image
        and obj.get("/Type") != pikepdf.Name.EmbeddedFile and obj.objgen not in seen
    )  # fmt: skip
    for stream in others:
        seen.add(stream.objgen)
        remaining -= len(decode(stream, remaining))


def _as_list(obj: object) -> list:
    if isinstance(obj, pikepdf.Array):
        return list(obj)
    return [] if obj is None else [obj]


def decode(stream: pikepdf.Stream, cap: int) -> bytes:
    """The stream's data through its filters, as far as they can be undone here, never holding
    more than ``cap`` decoded bytes (``Refused("decompressed")`` instead)."""
    filters = _as_list(stream.get("/Filter"))
    parms = _as_list(stream.get("/DecodeParms"))
    if len(filters) > MAX_FILTERS:
        raise Refused("damaged")
    # The raw data is bounded by the size of the upload: qpdf reads /Length bytes, or up to
    # "endstream" when /Length is wrong.
    data = stream.read_raw_bytes()
    for i, name in enumerate(filters):
        parm = parms[i] if i < len(parms) and isinstance(parms[i], pikepdf.Dictionary) else {}
        decoded = _stage(str(name), data, parm, cap)
        if decoded is None:
            break
        data = decoded
    if len(data) > cap:
        raise Refused("decompressed")
    return data


def _stage(name: str, data: bytes, parm, cap: int) -> bytes | None:
    """One filter undone, or None where measuring stops: image codecs (nothing here decodes
    images), Crypt (encryption is refused), unknown filters and data that does not decode.

    Predictors are not undone: they shrink the data by at most a byte a row, so the count stays an
    upper bound.
    """
    try:
        if name in ("/FlateDecode", "/Fl"):
            return _inflate(data, cap)
        if name in ("/LZWDecode", "/LZW"):
            return _lzw(data, cap, int(parm.get("/EarlyChange", 1)))
        if name in ("/RunLengthDecode", "/RL"):
            return _run_length(data, cap)
        if name in ("/ASCIIHexDecode", "/AHx"):  # output at most half the input
            hexdigits = re.sub(rb"\s", b"", data.split(b">", 1)[0])
            return binascii.unhexlify(hexdigits + b"0" * (len(hexdigits) % 2))
        if name in ("/ASCII85Decode", "/A85"):  # output at most 4/5 of the input, "z" aside
            body = data.strip().removeprefix(b"<~").split(b"~>", 1)[0]
            return _capped(base64.a85decode(body, ignorechars=b" \t\n\r\f\v\0"), cap)
    except (ValueError, TypeError, zlib.error, binascii.Error):
        return None
    return None


def _capped(data: bytes, cap: int) -> bytes:
    if len(data) > cap:
        raise Refused("decompressed")
    return data


def _inflate(data: bytes, cap: int) -> bytes:
    # Like qpdf and pypdf, accept a raw deflate stream when the zlib header is missing.
    for wbits in (zlib.MAX_WBITS | 32, -zlib.MAX_WBITS):
        inflater, out, size, pending = zlib.decompressobj(wbits), [], 0, data
        try:
            while not inflater.eof:
                chunk = inflater.decompress(pending, CHUNK)  # never more than CHUNK at a time
                pending = inflater.unconsumed_tail
                if not chunk:
                    break
                size += len(chunk)
                if size > cap:
                    raise Refused("decompressed")
                out.append(chunk)
        except zlib.error:
            if not out:
                continue
        return b"".join(out)  # what a lenient reader would recover from a truncated stream
    raise zlib.error("neither zlib nor raw deflate data")


def _lzw(data: bytes, cap: int, early: int) -> bytes:
    table = [bytes([i]) for i in range(256)] + [b"", b""]  # 256: clear table, 257: end of data
    width, pos, previous, out = 9, 0, b"", bytearray()
    while pos + width <= len(data) * 8:
        window = int.from_bytes(data[pos // 8 : pos // 8 + 3].ljust(3, b"\0"), "big")
        code = (window >> (24 - pos % 8 - width)) & ((1 << width) - 1)
        pos += width
        if code == 256:
            del table[258:]
            width, previous = 9, b""
            continue
        if code == 257:
            break
        if code < len(table):
            entry = table[code]
        elif code == len(table) and previous:
            entry = previous + previous[:1]
        else:
            break  # corrupt: keep what was decoded, as a lenient reader would
        if previous and len(table) < 4096:
            table.append(previous + entry[:1])
        out += entry
        if len(out) > cap:
            raise Refused("decompressed")
        previous = entry
        # EarlyChange 1 (the default) widens the codes one entry before the table needs it.
        if len(table) + early >= 1 << width and width < 12:
            width += 1
    return bytes(out)


def _run_length(data: bytes, cap: int) -> bytes:
    out = bytearray()
    i = 0
    while i < len(data) and data[i] != 128:
        n = data[i]
        if n < 128:
            out += data[i + 1 : i + 2 + n]
            i += n + 2
        else:
            out += data[i + 1 : i + 2] * (257 - n)
            i += 2
        if len(out) > cap:
            raise Refused("decompressed")
    return bytes(out)


def extract_text(clean: bytes, max_text: int) -> str:
    """Page texts, whitespace collapsed, one line a page, cut at ``max_text`` characters.

    Read from the clean copy, which qpdf has rewritten and whose streams were all measured. A page
    whose text cannot be read is skipped: scans usually have none, and the page itself has opened.
    """
    lines: list[str] = []
    size = 0
    for page in PdfReader(BytesIO(clean)).pages:
        try:
            raw = page.extract_text() or ""
        except MemoryError:
            raise
        except Exception as exc:
            log.warning("no text from a page: %r", exc)
            continue
        # Lone surrogates (from broken /ToUnicode maps) cannot travel as UTF-8: replace them.
        raw = raw.encode("utf-8", "replace").decode("utf-8")
        line = " ".join(raw.translate(CONTROLS).split())
        if line:
            lines.append(line)
            size += len(line) + 1
        if size >= max_text:  # enough for the index: the remaining pages would only cost time
            break
    return "\n".join(lines)[:max_text]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    limits = UploadLimits(**json.loads(args[0])) if args else UploadLimits()
    apply_limits(limits)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    data = sys.stdin.buffer.read(limits.max_bytes + 1)
    return answer(lambda: inspect(data, limits), _qpdf_memory)


def _qpdf_memory(exc: Exception) -> str | None:
    """qpdf reports its own failed allocations as a PdfError naming bad_alloc."""
    return "memory" if isinstance(exc, pikepdf.PdfError) and "bad_alloc" in str(exc) else None


def answer(work: Callable[[], tuple[dict, bytes]],
           classify: Callable[[Exception], str | None] = lambda exc: None) -> int:  # fmt: skip
    """Write what ``work`` gives — a JSON header line and the bytes after it — or the error
    it ends in (``{"error": code}``; ``classify`` may name an exception's code) to stdout."""
    try:
        header, body = work()
    except Refused as exc:
        header, body = {"error": exc.code}, b""
    except MemoryError:
        header, body = {"error": "memory"}, b""
    except Exception as exc:  # RecursionError and anything else a hostile file provokes
        traceback.print_exc()
        header, body = {"error": classify(exc) or "damaged"}, b""
    sys.stdout.buffer.write(json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n")
    sys.stdout.buffer.write(body)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
