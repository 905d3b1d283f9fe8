"""Text analysis shared by every engine: folded text → token strings.

Every engine indexes the same space-joined token strings and looks them up with the same
query analysis, so a word matches the same documents whichever engine answers.

- Text is folded: NFKC and lower case (``ＣＫ６１５０`` is ``ck6150``).
- Folded text splits into *runs*: Han runs, and runs of other letters and digits that may
  hold inner ``- . / _`` (``ht-202611-0001``, ``gb/t``, ``3.5``, ``0571-86660000``).
- A Han run becomes its character bigrams, at consecutive positions, so any fragment of two
  or more characters is an exact phrase of bigrams (``远机``, ``平精工``); a one-character run
  stays a unigram. Any other run is kept whole.
- Between two runs separated by anything but whitespace (``，、。：``) a :data:`BOUNDARY`
  token is emitted, so a phrase never matches across punctuation. Whitespace (newlines
  included) does not separate.
- A second stream holds edge prefixes of every non-Han token and of its alphanumeric parts,
  so a prefix query (``HT-2025``, ``CK61``, ``86660000``) is one term look-up.
- Figures people write in several ways get their other forms in that stream too: an amount
  with thousands separators (``1,001.10``) also as ``1001.10``, a size (``4×0.5``, ``4 x 0.5``,
  ``4*0.5``) also as ``4x0.5`` and as its numbers; a query word is written the same way
  (:func:`joined`), so ``1001.10`` finds ``1,001.10`` and ``4×0.5`` finds ``4x0.5``.
- jieba's search-mode words of the short name-like fields feed a ranking-only field.

Indexing speed is set by this module (tantivy itself indexes on another core), hence the
caches: lines recur (boilerplate clauses, the six copies of a delivery notice), and so do
names, numbers and Han runs.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from operator import add

# jieba's sources hold escape sequences newer Pythons warn about; harmless, and not ours.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import jieba

jieba.setLogLevel(logging.WARNING)
log = logging.getLogger(__name__)

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Letters and digits of every script but Han (Latin, digits, kana, Cyrillic…).
ALNUM = rf"[^\W_{HAN}]"
# One scan finds a Han run, another run (with inner - . / _), or punctuation.
_SCAN = re.compile(rf"([{HAN}]+)|({ALNUM}+(?:[-./_]{ALNUM}+)*)|(?:[^\w\s]|_)+")
PARTS = re.compile(rf"{ALNUM}+")
SEPARATORS = "-./_"

BOUNDARY = "|"  # never produced by a run, so it cannot collide with a real token
# What an index built by this module holds: bump it whenever the tokens of a text change, so
# that an index built by an older analysis is rebuilt (at start, or by ``hetong reindex``).
VERSION = 2
MAX_PREFIX = 32  # longer prefixes are not indexed; a longer query token matches whole
MAX_TOKEN = 255  # a pathological token (a pasted blob) is cut, identically everywhere

# Full-width ASCII and the ideographic space, NFKC's most common work in Chinese text:
# mapped by a table first so that most texts need no full normalisation at all.
_WIDE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# Characters whose NFKC form is either themselves or punctuation/space as they are, so a
# text made only of them yields the same tokens unnormalised (checked character by
# character: full-width letters, digits and －．／＿ are not among them).
_NO_FOLD_NEEDED = re.compile(
    "[^\x00-\xa7\xb0\xb1\xb7\xd7\u2010-\u2016\u2018-\u2023\u2030-\u2032"
    "\u3000-\u3037\u303b-\u303f\u3400-\u4dbf\u4e00-\u9fff"
    "\uff01-\uff0c\uff1a-\uff20\uff3b-\uff3e\uff40\uff5b-\uff65]"
)


def fold(text: str) -> str:
    """NFKC and lower case, on the whole string (for queries and highlights)."""
    if not unicodedata.is_normalized("NFKC", text):
        text = text.translate(_WIDE)
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
    return text.lower()


def fold_for_tokens(text: str) -> str:
    """Text that yields the same tokens as :func:`fold`, cheaper for typical text: only
    lower case when every character is one NFKC leaves alone or as punctuation."""
    if _NO_FOLD_NEEDED.search(text) is None:
        return text.lower()
    return fold(text)


def fold_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """Folded text and, for each folded character, its offset in ``text``.

    The map is None when folding kept every character in place (the usual case: NFKC of
    ``Ｃ`` or ``，`` is one character each); only otherwise is it built per character."""
    parts = [unicodedata.normalize("NFKC", ch) for ch in text]
    if all(len(p) == 1 for p in parts):
        folded = "".join(parts)
        lowered = folded.lower()
        if len(lowered) == len(folded):  # lower() only ever lengthens (İ → i̇)
            return lowered, None
    out: list[str] = []
    offsets: list[int] = []
    for i, part in enumerate(parts):
        piece = part.lower()
        out.append(piece)
        offsets.extend([i] * len(piece))
    return "".join(out), offsets


# -- runs (queries) -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    """One run of folded text; ``broken`` when punctuation separates it from the run before."""

    text: str
    han: bool
    broken: bool = False

    def tokens(self) -> list[str]:
        """Han bigrams (a one-character run stays a unigram), else the whole token."""
        text = self.text
        if self.han and len(text) > 1:
            return list(map(add, text[:-1], text[1:]))
        return [text]


def runs(folded: str) -> list[Run]:
    """The runs of already folded text."""
    result: list[Run] = []
    broken = False
    for han, other in _SCAN.findall(folded):
        if han or other:
            result.append(Run(han or other[:MAX_TOKEN], bool(han), broken and bool(result)))
            broken = False
        else:
            broken = True
    return result


# -- token streams (indexing) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Analysed:
    """A text's ordinary token string and the set of its prefix tokens."""

    tokens: str
    prefixes: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Line:
    tokens: str
    opens: bool  # punctuation before the first token (or anywhere, in a line without one)
    closes: bool  # punctuation after the last token
    latin: frozenset[str]


# An amount in groups of three (1,001.10), and a size: numbers joined by a times sign.
# (Cheaply folded text may keep full-width commas and asterisks: see fold_for_tokens.)
_GROUPED = re.compile(
    rf"(?<!{ALNUM})(?<![.,，])\d{{1,3}}(?:[,，]\d{{3}})+(?:\.\d+)?(?!{ALNUM})(?![,，]\d)"
)
_TIMES = "x×*＊✕✖"
_SIZE = re.compile(rf"(?<![\d.])\d+(?:\.\d+)?(?: ?[{_TIMES}] ?\d+(?:\.\d+)?)+(?!\d)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SIGNS = ",，" + _TIMES


def _join_size(found: re.Match[str]) -> str:
    return "x".join(_NUMBER.findall(found.group()))


def joined(folded: str) -> str:
    """Folded text with each amount and size in the one form both are indexed under too:
    ``1,001.10`` → ``1001.10``, ``4 × 0.5`` → ``4x0.5`` (how a query word is read)."""
    if "," in folded or "，" in folded:
        folded = _GROUPED.sub(lambda found: re.sub("[,，]", "", found.group()), folded)
    return _SIZE.sub(_join_size, folded)


def _forms(folded: str) -> set[str]:
    """The other forms of the amounts and sizes of a line, for the prefix stream."""
    found: set[str] = set()
    if "," in folded or "，" in folded:
        found.update(re.sub("[,，]", "", m.group()) for m in _GROUPED.finditer(folded))
    for size in _SIZE.finditer(folded):
        numbers = _NUMBER.findall(size.group())
        found.update(["x".join(numbers), *numbers])
    return found


@lru_cache(maxsize=4096)
def _line(folded: str) -> _Line:
    # The same scan as runs(), written out: this loop is the hot path of indexing.
    out: list[str] = []
    latin: set[str] = set()
    extend, append = out.extend, out.append
    opens = broken = False
    for han, other in _SCAN.findall(folded):
        if not (han or other):
            broken = True
            continue
        if broken:
            if out:
                append(BOUNDARY)
            else:
                opens = True
            broken = False
        if han:
            if len(han) > 1:
                extend(map(add, han[:-1], han[1:]))
            else:
                append(han)
        else:
            other = other[:MAX_TOKEN]
            append(other)
            latin.add(other)
    if latin and any(sign in folded for sign in _SIGNS):
        latin |= _forms(folded)
    return _Line(" ".join(out), opens or (broken and not out), broken, frozenset(latin))


@lru_cache(maxsize=16384)
def prefixes(token: str) -> frozenset[str]:
    """Edge prefixes of a non-Han token and of each alphanumeric part of it."""
    if token.isalnum():  # no separators: one part, the token itself
        return frozenset([token[:n] for n in range(1, min(len(token), MAX_PREFIX) + 1)])
    # A query token never ends in a separator, so such prefixes are never looked up.
    out = {
        token[:n]
        for n in range(1, min(len(token), MAX_PREFIX) + 1)
        if token[n - 1] not in SEPARATORS
    }
    for part in PARTS.findall(token):
        out.update([part[:n] for n in range(1, min(len(part), MAX_PREFIX) + 1)])
    return frozenset(out)


def _prefixes(latin: frozenset[str] | set[str]) -> frozenset[str]:
    if len(latin) == 1:
        return prefixes(next(iter(latin)))
    return frozenset().union(*map(prefixes, latin))


def analyse(text: str) -> Analysed:
    """The token streams of one text (line by line, each line's analysis cached)."""
    folded = fold_for_tokens(text)
    if "\n" not in folded:
        found = _line(folded)
        return Analysed(found.tokens, _prefixes(found.latin))
    parts: list[str] = []
    latin: set[str] = set()
    pending = False  # punctuation since the last token
    for line in folded.split("\n"):
        found = _line(line)
        if not found.tokens:
            pending = pending or found.opens
            continue
        if parts and (pending or found.opens):
            parts.append(BOUNDARY)
        parts.append(found.tokens)
        pending = found.closes
        latin |= found.latin
    return Analysed(" ".join(parts), _prefixes(latin))


@lru_cache(maxsize=8192)
def analyse_short(text: str) -> Analysed:
    """:func:`analyse`, cached: names and numbers recur across a contract's documents."""
    return analyse(text)


def join(parts: Iterable[Analysed]) -> Analysed:
    """Several texts as one field, a boundary between each (a phrase never spans two)."""
    kept = [part for part in parts if part.tokens]
    return Analysed(
        f" {BOUNDARY} ".join(part.tokens for part in kept),
        frozenset().union(*(part.prefixes for part in kept)),
    )


# -- jieba words, for ranking only --------------------------------------------------------

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def _jieba() -> jieba.Tokenizer:
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()  # loads the dictionary once (~0.5 s)
                _tokenizer = tokenizer
    return _tokenizer


def warm() -> None:
    """Load jieba's dictionary now rather than on the first search or write."""
    _jieba()


@lru_cache(maxsize=16384)
def _han_words(run: str) -> tuple[str, ...]:
    return tuple(w for w in _jieba().cut_for_search(run) if len(w) > 1)


@lru_cache(maxsize=8192)
def _text_words(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for han, other in _SCAN.findall(fold_for_tokens(text)):
        if len(han) > 1:
            out.extend(_han_words(han))
        elif other:
            out.append(other[:MAX_TOKEN])
    return tuple(out)


def words(texts: Iterable[str]) -> list[str]:
    """jieba search-mode words (two characters or more) and whole non-Han tokens."""
    return [word for text in texts if text for word in _text_words(text)]


def clear_caches() -> None:
    """Forget cached analyses (to free memory, or to measure indexing from cold)."""
    for cached in (_line, prefixes, analyse_short, _han_words, _text_words):
        cached.cache_clear()
