"""Settings: declared once here, with their defaults.

Precedence (lowest first): defaults below, the TOML file named by ``HETONG_CONFIG``,
``HETONG_<NAME>`` environment variables, then the mapping passed to ``create_app``.
Every path derives from ``DATA_DIR``.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas.labels import BUSINESS_TYPES, REVIEW_STEPS, zone


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("DATA_DIR", "./var", "Data root: catalogue, stored files, converter profile."),
    Setting(
        "DATABASE_URL", "", "SQLAlchemy URL; empty means SQLite at DATA_DIR/catalogue.sqlite3."
    ),
    Setting(
        "TEMPLATE_DIR",
        "",
        "Folder of Word templates registered as version 1 where the template register lacks "
        "one; empty means the bundled ones. New wording is uploaded to the register.",
    ),
    Setting(
        "BUSINESS_TYPES",
        list(BUSINESS_TYPES),
        "Business types (销售业务类型) that get a sales-contract template at start; "
        "administrators can add more in the template register.",
    ),
    Setting(
        "DEFAULT_BUSINESS_TYPE",
        "",
        "Business type of a contract that names none; empty means the first of BUSINESS_TYPES.",
    ),
    Setting(
        "SELLER",
        {},
        "Our company (供方), filled into every contract that names no seller: a TOML table "
        "[seller] or JSON in HETONG_SELLER with name, address, representative, phone, bank, "
        "account, tax_id (name and address required). Empty: each contract names its seller.",
    ),
    Setting(
        "REVIEW_STEPS",
        list(REVIEW_STEPS),
        "The review chain a draft goes through before it takes effect, in order. 销售经理 is "
        "decided by a sales manager of the contract's region, every other step by the people "
        "given it as a duty (hetong users duties). Empty: a manager approves drafts directly.",
    ),
    Setting(
        "SIGNED_COPY_DAYS",
        14,
        "Days after approval within which the signed copy (回签) should be uploaded; an "
        "effective contract without one after that is listed as waiting (待办, hetong "
        "contracts unsigned).",
    ),
    Setting(
        "CONTRACT_NUMBER_PATTERN",
        "HT-{year:04d}{month:02d}-{seq:04d}",
        "Contract number pattern; {year} {month} come from the signing date.",
    ),
    Setting(
        "RETENTION_YEARS",
        {"sales_contract": 5},
        "Years kept per document kind, counted from the end of the signing year; "
        "amendments, delivery notices and scans follow their contract.",
    ),
    Setting(
        "ARCHIVAL_CODE_PATTERN",
        "HT·{year}·{region}·{seq:04d}",
        "档号 pattern: one series per volume (signing year × region).",
    ),
    Setting(
        "DELIVERY_NUMBER_PATTERN",
        "FH-{year:04d}{month:02d}-{seq:04d}",
        "Delivery-notice number pattern; {year} {month} come from the delivery date.",
    ),
    Setting(
        "MAJOR_CHANGE_SHARE",
        "0.10",
        "An amendment that changes the total by more than this share of it needs a manager.",
    ),
    Setting(
        "REGIONS",
        ["华北", "东北", "华东", "华中", "华南", "西南", "西北"],
        "Allowed sales regions; an empty list allows any.",
    ),
    Setting(
        "DEPARTMENTS",
        ["销售部", "财务部", "仓储部", "法务部", "档案室", "总经理办公室"],
        "Departments people belong to; people of 销售部 (sales) may have a sales region.",
    ),
    Setting(
        "TIMEZONE",
        "Asia/Shanghai",
        "Time zone (IANA name) of the times people read: pages, documents, the command line; "
        "times are stored, and the API gives them, in UTC.",
    ),
    Setting(
        "CONVERTER_URL",
        "",
        "Use an already running unoserver (http://host:port) instead of LibreOffice workers.",
    ),
    Setting(
        "CONVERTER_URLS",
        [],
        "Conversion hosts: unoserver URLs, used in turn; a failing one is retried later.",
    ),
    Setting("CONVERTER_WORKERS", 0, "LibreOffice workers started on demand; 0 means one per core."),
    Setting("CONVERTER_RECYCLE", 200, "A worker is restarted after this many conversions."),
    Setting(
        "CONVERTER_QUEUE",
        0,
        "Callers that may wait for a free worker (more get 503); 0 means twice the workers.",
    ),
    Setting("CONVERTER_QUEUE_WAIT", 30, "Seconds a caller waits for a free worker before a 503."),
    Setting("CONVERTER_PYTHON", "", "Interpreter that has `uno`; empty means this one."),
    Setting("CONVERTER_TIMEOUT", 60, "Seconds before a conversion counts as hung."),
    Setting("CONVERTER_START_TIMEOUT", 90, "Seconds LibreOffice may take to start."),
    Setting(
        "SEARCH_ENGINE",
        "",
        "Search engine: tantivy (embedded), whoosh (pure Python, small archives) or postgresql "
        "(in the catalogue's database, for several machines); empty means postgresql when the "
        "catalogue is PostgreSQL, else tantivy.",
    ),
    Setting(
        "COOKIE_SECURE",
        False,
        "Send the sign-in cookie over HTTPS only; turn on behind TLS (see the README).",
    ),
    Setting("SECRET_KEY", "", "Signs session cookies; empty means a random key kept in DATA_DIR."),
    Setting(
        "TOKEN_DAYS",
        90,
        "Days a new API token is valid (1–365): every token expires; `hetong users tokens` "
        "issues new ones.",
    ),
    Setting(
        "BACKUP_TARGETS",
        [],
        "Folders backups go to (`hetong backup create`): the first local, the next off-site "
        "(a mounted share); each also gets the destruction journal when a destruction is "
        "approved.",
    ),
    Setting("BACKUP_KEEP_LAST", 3, "Backups kept per target: the newest N, whatever their age…"),
    Setting("BACKUP_KEEP_DAILY", 7, "…the newest of each of the last N days that have one…"),
    Setting("BACKUP_KEEP_MONTHLY", 12, "…and of each of the last N months; others are pruned."),
    Setting("HOST", "127.0.0.1", "Address `hetong serve` listens on."),
    Setting("PORT", 8000, "Port `hetong serve` listens on."),
    Setting("THREADS", 8, "Worker threads of the WSGI server."),
    Setting("MAX_CONTENT_LENGTH", 20 * 1024 * 1024, "Largest accepted request body, bytes."),
    Setting("UPLOAD_MAX_PAGES", 200, "Most pages an uploaded PDF may have."),
    Setting(
        "UPLOAD_MAX_DECOMPRESSED",
        64 * 1024 * 1024,
        "Most bytes an upload's streams may decompress to, in all (images aside).",
    ),
    Setting(
        "UPLOAD_MAX_PAGE_CONTENT",
        4 * 1024 * 1024,
        "Most bytes of drawing instructions one page of an upload may hold.",
    ),
    Setting("UPLOAD_MAX_TEXT", 200_000, "Characters of an upload's text kept for search."),
    Setting("UPLOAD_CPU_SECONDS", 10, "CPU seconds the worker that checks an upload may spend."),
    Setting(
        "UPLOAD_WALL_SECONDS", 20, "Seconds before the worker that checks an upload is killed."
    ),
    Setting(
        "UPLOAD_MEMORY",
        1024 * 1024 * 1024,
        "Address space of the worker that checks an upload, bytes.",
    ),
)

DEFAULTS = {s.name: s.default for s in SETTINGS}


def _coerce(name: str, raw: str) -> Any:
    default = DEFAULTS[name]
    if isinstance(default, bool):
        return raw.lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, list):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(default, dict) and raw.lstrip().startswith("{"):  # JSON
        return json.loads(raw)
    if isinstance(default, dict):  # kind=5,other=10
        pairs = (part.split("=", 1) for part in raw.split(",") if "=" in part)
        return {key.strip(): int(value) for key, value in pairs}
    return raw


def load(overrides: dict[str, Any] | None = None, *, environ=os.environ) -> dict[str, Any]:
    """Resolve every setting; unknown names in a file or mapping are an error."""
    values = dict(DEFAULTS)
    config_file = environ.get("HETONG_CONFIG")
    if config_file:
        with open(config_file, "rb") as fh:
            from_file = {k.upper(): v for k, v in tomllib.load(fh).items()}
        _reject_unknown(from_file, f"config file {config_file}")
        values.update(from_file)
    for name in DEFAULTS:
        raw = environ.get(f"HETONG_{name}")
        if raw is not None:
            values[name] = _coerce(name, raw)
    extra = {k: v for k, v in (overrides or {}).items() if k.isupper()}
    values.update(extra)
    zone(values["TIMEZONE"])  # an unknown zone stops the start, naming it
    _check_people(values)
    values["DATA_DIR"] = str(Path(values["DATA_DIR"]).expanduser().resolve())
    return values


def _check_people(values: dict[str, Any]) -> None:
    """Departments and token days the catalogue can hold: a wrong one stops the start."""
    departments = values["DEPARTMENTS"]
    if isinstance(departments, str):  # a TOML file may give one string
        departments = values["DEPARTMENTS"] = [d.strip() for d in departments.split(",")
                                               if d.strip()]  # fmt: skip
    if not departments or any(len(d) > 20 for d in departments):
        raise ValueError("HETONG_DEPARTMENTS：须至少有一个部门，每个部门名称至多 20 个字符。")
    if not 1 <= int(values["TOKEN_DAYS"]) <= 365:
        raise ValueError("HETONG_TOKEN_DAYS 须为 1–365 天：令牌总会到期。")


def _reject_unknown(mapping: dict[str, Any], origin: str) -> None:
    unknown = sorted(set(mapping) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown setting(s) in {origin}: {', '.join(unknown)}")


def settings_table() -> str:
    """The settings as a Markdown table (kept in sync with the README by a test)."""
    rows = ["| Setting | Default | Meaning |", "|---|---|---|"]
    for s in SETTINGS:
        default = s.default
        if isinstance(default, list):
            default = ",".join(default)
        elif isinstance(default, dict):
            default = ",".join(f"{k}={v}" for k, v in default.items())
        rows.append(f"| `HETONG_{s.name}` | `{default}` | {s.help} |")
    return "\n".join(rows)


__all__ = ["DEFAULTS", "SETTINGS", "Setting", "load", "settings_table"]
