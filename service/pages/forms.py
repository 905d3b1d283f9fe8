"""HTML form fields ↔ the JSON shapes the domain validates. Field names are the JSON
paths (``seller.name``, ``items.1.quantity``), so an error path names its input."""

from __future__ import annotations

import re
from typing import Any

from werkzeug.datastructures import MultiDict

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
