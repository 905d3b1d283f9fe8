"""Highlighted fragments, cut in Python from a hit's stored original text.

Engines' own snippet generators show analysed tokens (bigrams), not the text people read,
so matches are located in the folded text and mapped back to the original through the fold
offset map: ``ＣＫ６１５０`` in the text is marked where ``ck6150`` matched.
"""

from __future__ import annotations

import logging
import re
from html import escape

from archive.search.analysis import ALNUM, HAN, MAX_PREFIX, fold_with_offsets
from archive.search.query import Match

log = logging.getLogger(__name__)

_SPACE = re.compile(r"\s+")
_BETWEEN = rf"[^{HAN}\w]*"  # between a phrase's runs: spaces or punctuation
_START = rf"(?<!{ALNUM})"  # a token or one of its parts starts here
_WHOLE_START = rf"(?<!{ALNUM})(?<!{ALNUM}[-./_])"
_WHOLE_END = rf"(?!{ALNUM})(?![-./_]{ALNUM})"
_TIMES_WRITTEN = r" ?[x×*＊✕✖] ?"


def _as_written(text: str) -> str:
    """A word's joined figures as they may be written: ``1001.10`` also as ``1,001.10``,
    ``4x0.5`` also as ``4 × 0.5`` or ``4*0.5`` (see ``analysis.joined``)."""
    out, decimals = [], False
    for i, ch in enumerate(text):
        between = 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()
        if ch == "x" and between:
            out.append(_TIMES_WRITTEN)
            decimals = False
            continue
        out.append(re.escape(ch))
        decimals = (decimals or ch == ".") and (ch.isdigit() or ch == ".")
        if ch.isdigit() and not decimals and i + 1 < len(text) and text[i + 1].isdigit():
            out.append("[,，]?")
    return "".join(out)


def _word_patterns(match: Match) -> list[str]:
    out = []
    for run in match.runs:
        if run.han:
            out.append(re.escape(run.text))
        elif len(run.text) <= MAX_PREFIX:  # matched by prefix: mark the rest of that part
            out.append(f"{_START}{_as_written(run.text)}{ALNUM}*")
        else:
            out.append(f"{_WHOLE_START}{re.escape(run.text)}{_WHOLE_END}")
    return out


def _phrase_pattern(match: Match) -> str:
    parts = []
    for run in match.runs:
        if run.han:
            parts.append(re.escape(run.text))
        else:
            parts.append(f"{_WHOLE_START}{re.escape(run.text)}{_WHOLE_END}")
    return _BETWEEN.join(parts)


def patterns(matches: list[Match]) -> list[re.Pattern[str]]:
    """One compiled pattern per thing to mark, built once per search (not per hit)."""
    found: dict[str, None] = {}
    for match in matches:
        if not match.runs:  # exact filters (region:华东) mark nothing
            continue
        if match.phrase:
            found[_phrase_pattern(match)] = None
        else:
            found.update(dict.fromkeys(_word_patterns(match)))
    return [re.compile(p) for p in found]


def _spans(text: str, marks: list[re.Pattern[str]]) -> list[tuple[int, int]]:
    folded, offsets = fold_with_offsets(text)
    spans = []
    for pattern in marks:
        for found in pattern.finditer(folded):
            start, end = found.span()
            if end > start:
                if offsets is not None:
                    start, end = offsets[start], offsets[end - 1] + 1
                spans.append((start, end))
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def highlights(
    text: str, marks: list[re.Pattern[str]], *, limit: int = 3, context: int = 18
) -> list[str]:
    """Up to ``limit`` fragments of ``text`` with matches in ``<mark>…</mark>``.

    Everything else is HTML-escaped, whitespace collapsed, ``…`` where the text was cut,
    and a fragment already shown (a delivery notice repeats its text per copy) is skipped."""
    if not marks or not text:
        return []
    spans = _spans(text, marks)
    fragments: list[str] = []
    seen: set[str] = set()
    shown_until = 0
    for index, (start, end) in enumerate(spans):
        if start < shown_until:
            continue
        # Context stays within the paragraph: a fragment never runs into the next copy of
        # a repeated passage, so repeats give identical fragments and are shown once.
        left = max(start - context, text.rfind("\n", 0, start) + 1)
        newline = text.find("\n", end)
        right = min(end + context, len(text) if newline < 0 else newline)
        out, cursor = [], left
        for s, e in spans[index:]:
            if s >= right:
                break
            e = min(e, right)
            out.append(escape(text[cursor:s]))
            out.append(f"<mark>{escape(text[s:e])}</mark>")
            cursor = e
        out.append(escape(text[cursor:right]))
        shown_until = right
        body = _SPACE.sub(" ", "".join(out)).strip()
        if body in seen:
            continue
        seen.add(body)
        cut_left, cut_right = (
            left > 0 and text[left - 1] != "\n",
            right < len(text) and text[right] != "\n",
        )
        fragments.append(("…" if cut_left else "") + body + ("…" if cut_right else ""))
        if len(fragments) == limit:
            break
    return fragments
