"""Chinese-aware text analysis for the index.

Two token streams, for two index fields:

- ``grams``: every pair of adjacent Han characters (character bigrams), so any fragment
  of two or more characters of a name or clause is found (``远机``, ``平精工``), plus Latin
  and digit tokens (model numbers, contract and phone numbers) whole and in parts.
  Queries look Han text up as a phrase of bigrams and Latin tokens by prefix.
- ``words``: jieba's search-mode words, only to rank whole words first.

Text is NFKC-folded character by character (full-width ``ＣＫ６１５０`` is ``ck6150``)
and lower-cased; character offsets are kept for highlighting.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import warnings
from collections.abc import Iterator
from functools import lru_cache

from whoosh.analysis import Token, Tokenizer

# jieba's sources contain escape sequences newer Pythons warn about; they are harmless.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import jieba

jieba.setLogLevel(logging.WARNING)

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A Han run, or a Latin/digit run that may hold inner - . / _ (HT-202611-0001, GB/T, 3.5).
RUNS = re.compile(rf"[{_HAN}]+|[0-9a-z]+(?:[-./_][0-9a-z]+)*")
_PARTS = re.compile(r"[0-9a-z]+")


def fold(text: str) -> str:
    """NFKC per character (same length, so offsets survive) and lower case."""
    out = []
    for ch in text:
        folded = unicodedata.normalize("NFKC", ch)
        out.append(folded.lower() if len(folded) == 1 else ch.lower())
    return "".join(out)


def is_han(text: str) -> bool:
    return bool(re.fullmatch(rf"[{_HAN}]+", text))


@lru_cache(maxsize=1)
def _jieba() -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()  # loads the dictionary once (~1 s)
    return tokenizer


def warm() -> None:
    _jieba()


Piece = tuple[str, int, int]  # text, start and end offset within its run


class _Base(Tokenizer):
    """Folds the text, splits it into Han and Latin runs and numbers the tokens; a subclass
    says which tokens a run yields, as groups that share one position."""

    def _groups(self, word: str, mode: str) -> Iterator[list[Piece]]:
        raise NotImplementedError

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs) -> Iterator[Token]:  # fmt: skip
        pos = start_pos
        for run in RUNS.finditer(fold(value)):
            word, at = run.group(), start_char + run.start()
            for group in self._groups(word, mode):
                for text, begin, end in group:
                    token = Token(positions=positions, chars=chars, removestops=False,
                                  mode=mode, **kwargs)  # fmt: skip
                    token.text, token.boost, token.stopped = text, 1.0, False
                    if keeporiginal:
                        token.original = text
                    if positions:
                        token.pos = pos
                    if chars:
                        token.startchar, token.endchar = at + begin, at + end
                    yield token
                pos += 1


class GramTokenizer(_Base):
    """Index: Han bigrams + Latin tokens whole and in parts. Query: the same minus parts."""

    def _groups(self, word: str, mode: str) -> Iterator[list[Piece]]:
        if is_han(word):
            if len(word) == 1:
                yield [(word, 0, 1)]
            for i in range(len(word) - 1):
                yield [(word[i : i + 2], i, i + 2)]
            return
        group = [(word, 0, len(word))]
        parts = _PARTS.findall(word)
        if mode != "query" and len(parts) > 1:  # HT-202611-0001 also as ht, 202611, 0001
            offset = 0
            for part in parts:
                i = word.index(part, offset)
                offset = i + len(part)
                group.append((part, i, offset))
        yield group


class WordTokenizer(_Base):
    """jieba search-mode words of Han runs, plus whole Latin tokens."""

    def _groups(self, word: str, mode: str) -> Iterator[list[Piece]]:
        if not is_han(word):
            yield [(word, 0, len(word))]
            return
        for piece, begin, end in _jieba().tokenize(word, mode="search"):
            if len(piece) > 1 or len(word) == 1:
                yield [(piece, begin, end)]


def gram_analyzer() -> GramTokenizer:
    return GramTokenizer()


def word_analyzer() -> WordTokenizer:
    return WordTokenizer()
