"""HTML form fields ↔ the JSON shapes the domain validates. Field names are the JSON
paths (``seller.name``, ``items.1.quantity``), so an error path names its input."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from flask import flash
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from archive.errors import ArchiveError, InvalidData
from schemas import flatten_errors
from schemas.labels import error_lines, field_label
from templates.errors import ConverterUnavailable, FontMissing

_INDEXED = re.compile(r"^(\w+)\.(\d+)\.(\w+)$")


def to_payload(form: MultiDict, *, lists: tuple[str, ...] = ("items",),
               lines: tuple[str, ...] = ()) -> dict[str, Any]:  # fmt: skip
    """Nested dict from dotted names; blank optional fields are left out, wholly blank
    rows of a list are dropped, and ``lines`` fields become a list, one entry per line."""
    data: dict[str, Any] = {}
    rows: dict[str, dict[int, dict[str, str]]] = {name: {} for name in lists}
    for key, raw in form.items(multi=False):
        if key == "csrf":
            continue
        value = raw.strip() if key not in lines else raw
        match = _INDEXED.match(key)
        if match and match.group(1) in rows:
            name, index, leaf = match.group(1), int(match.group(2)), match.group(3)
            rows[name].setdefault(index, {})[leaf] = value
            continue
        if key in lines:
            data[key] = [line.strip() for line in value.splitlines() if line.strip()]
            continue
        if value == "":
            continue
        target = data
        *parents, leaf = key.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    for name, by_index in rows.items():
        kept = [{k: v for k, v in row.items() if v != ""} for _, row in sorted(by_index.items())]
        kept = [row for row in kept if row]
        if kept or name in form or any(k.startswith(f"{name}.") for k in form):
            data[name] = kept
    return data


def flat(data: Any, prefix: str = "") -> dict[str, str]:
    """The reverse, to refill a form: {"seller.name": "…", "items.0.quantity": "2"}."""
    out: dict[str, str] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(flat(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list) and all(not isinstance(v, dict | list) for v in data):
        out[prefix] = "\n".join(str(v) for v in data)
    elif isinstance(data, list):
        for n, value in enumerate(data):
            out.update(flat(value, f"{prefix}.{n}"))
    else:
        out[prefix] = "" if data is None else str(data)
    return out


def query_args(
    args: MultiDict, *schemas: Schema, labels: dict[str, str] | None = None
) -> tuple[dict[str, Any], str | None]:
    """A page's query string loaded by ``schemas`` (a form sends empty fields for filters
    left open: they are left out), and what is wrong with it in words, each field by its
    label (``labels``), or None."""
    wanted = {key: value for key, value in args.items() if value != ""}
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for schema in schemas:
        try:
            data.update(schema.load(wanted))
        except ValidationError as exc:
            errors.update(flatten_errors(exc.messages))
    names = labels or {}
    message = "；".join(f"{names.get(name) or field_label(name)}：{' '.join(found)}"
                       for name, found in errors.items())  # fmt: skip
    return data, message or None


def kept(args: MultiDict) -> dict[str, str]:
    """The query string a page's links keep (its filters, order and page size), minus the page."""
    return {key: value for key, value in args.items() if value != "" and key != "page"}


# Thousands grouped by commas or spaces (after folding), in groups of exactly three.
_GROUPED = re.compile(r"\d{1,3}(?:[, ]\d{3})+(?:\.\d*)?")


def typed_number(text: str) -> str:
    """A figure as people type it (``31,225.98``, ``３１，２２５．９８``, ``31 225.98``,
    ``¥31,225.98``, ``31225.98 元``) as the schemas read it (``31225.98``): full-width
    characters folded, the currency sign and unit and the thousands separators dropped.
    Anything else (``31.225,98``, ``3,12,25``) is left as typed for the schema to refuse."""
    folded = unicodedata.normalize("NFKC", text).strip()
    folded = folded.removeprefix("¥").removesuffix("元").strip()
    if _GROUPED.fullmatch(folded):
        return folded.replace(",", "").replace(" ", "")
    return folded


def flash_outcome(action: Callable[[], object], success: str | Callable[[], str]) -> bool:
    """Run a domain action a form asked for; its outcome comes back as messages on the page
    the form redirects to: each field error of bad input (金额：不是有效的数字。), a refusal
    with what it names, or ``success`` (a text, or made once the action has succeeded)."""
    try:
        action()
    except InvalidData as exc:
        for line in error_lines(exc.errors):
            flash(line, "error")
    except (ArchiveError, ConverterUnavailable, FontMissing) as exc:
        flash(str(exc), "error")
        for line in error_lines(getattr(exc, "details", {}).get("errors") or {}):
            flash(line, "error")
    else:
        flash(success if isinstance(success, str) else success(), "ok")
        return True
    return False
