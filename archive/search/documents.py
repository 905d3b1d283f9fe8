"""What an entry becomes in an index: the same token strings for every engine.

Each searchable field has an ordinary token stream (``t_…``, with positions, for terms and
phrases) and a prefix stream (``p_…``, one term per prefix query). ``body`` is the whole
text of the document plus its title, parties, products and numbers, so a word without a
field finds a document by any of them. ``w_names`` holds jieba words of the short name-like
fields, only to rank whole-word matches in names first. The query side's counterparts
(:func:`match_field`, :func:`rank_words`) live here so the two cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from archive.search.analysis import analyse, analyse_short, join, words
from archive.search.query import Match, Node, positive_matches

if TYPE_CHECKING:
    from archive.search.engine import Entry

TEXT_FIELDS = ("body", "buyer", "seller", "product", "contract_no", "number")
TOKEN_FIELDS = tuple(f"t_{name}" for name in TEXT_FIELDS)
PREFIX_FIELDS = tuple(f"p_{name}" for name in TEXT_FIELDS)
WORDS_FIELD = "w_names"
_NAME_FIELDS = (None, "buyer", "seller", "product")
RANK_BOOST = 2.0  # weight of whole jieba words in names against fragment matches


def token_fields(entry: Entry) -> dict[str, str]:
    """Field name → space-joined tokens, for every analysed field of ``entry``."""
    short = {
        "buyer": analyse_short(entry.buyer),
        "seller": analyse_short(entry.seller),
        "product": analyse_short(entry.products),
        "contract_no": analyse_short(entry.contract_no),
        "number": analyse_short(entry.number),
    }
    extra = (analyse(entry.title), analyse(entry.archival_code))
    body = join((analyse(entry.text), *extra, *short.values()))
    fields: dict[str, str] = {}
    for name, analysed in (("body", body), *short.items()):
        fields[f"t_{name}"] = analysed.tokens
        fields[f"p_{name}"] = " ".join(analysed.prefixes)
    fields[WORDS_FIELD] = " ".join(words((entry.buyer, entry.seller, entry.products, entry.title)))
    return fields


def stored(entry: Entry) -> dict[str, Any]:
    """What an engine keeps of an entry to show a hit and to check consistency."""
    return {
        "key": entry.key,
        "contract_no": entry.contract_no,
        "number": entry.number,
        "kind": entry.kind,
        "title": entry.title,
        "archival_code": entry.archival_code,
        "region": entry.region,
        "year": entry.year,
        "status": entry.status,
        "payment_state": entry.payment_state,
        "signed_on": entry.signed_on.isoformat(),
        "text": entry.text,
        "fingerprint": entry.fingerprint,
    }


def day_number(day: dt.date) -> int:
    """2025-03-03 → 20250303: sortable and range-queryable as a plain integer."""
    return day.year * 10000 + day.month * 100 + day.day


def date_sort_key(entry: Entry) -> str:
    """Sorts ascending as signing date descending, then key ascending, in one string."""
    return f"{99999999 - day_number(entry.signed_on):08d}{entry.key}"


def match_field(match: Match) -> str:
    """The field a text match searches (``t_…``/``p_…``): body unless a field was named."""
    return match.field or "body"


def rank_words(node: Node) -> list[str]:
    """jieba words of the query's free-text matches: a boost where names hold them whole."""
    texts = [m.text for m in positive_matches(node) if m.field in _NAME_FIELDS]
    return sorted(set(words(texts)))
