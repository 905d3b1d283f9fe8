"""A file as a download: its Chinese name for browsers that read ``filename*`` (RFC 6266),
and a plain ASCII name that still says what it is for those that do not."""

from __future__ import annotations

import io
import re
import unicodedata
from urllib.parse import quote

from flask import Response, send_file

_UNSAFE = re.compile(r"[^A-Za-z0-9._\- ]")  # all but what a quoted header value carries as is
_RUNS = re.compile(r"([-_. ])[-_. ]+")


def ascii_name(name: str, fallback: str = "download") -> str:
    """``销售合同-HT-202611-0001.pdf`` → ``HT-202611-0001.pdf``: the name's ASCII part,
    without the separators that stood next to the characters left out."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    plain = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    plain = _RUNS.sub(r"\1", _UNSAFE.sub("", plain)).strip("-_. ") or fallback
    suffix = _UNSAFE.sub("", extension).strip("-_. ")
    return f"{plain}.{suffix}" if suffix else plain


def disposition(name: str, plain: str | None = None) -> str:
    """``attachment; filename="HT-202611-0001.pdf"; filename*=UTF-8''%E9%94%80…``."""
    plain = plain or ascii_name(name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def send_download(data: bytes, name: str, mimetype: str, *, plain: str | None = None,
                  **kwargs) -> Response:  # fmt: skip
    """``send_file`` for stored bytes, never cached, named as above."""
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                         download_name=name, max_age=0, **kwargs)  # fmt: skip
    response.headers["Content-Disposition"] = disposition(name, plain)
    return response
