"""The archivist's query language, parsed here into a small immutable tree.

Syntax: words, ``"quoted phrases"`` (also ``“…”``), ``AND``, ``OR``, ``NOT`` or a leading
``-``, parentheses, ``field:value`` and ``field:"phrase"``. Words next to each other are
ANDed; ``NOT`` binds tighter than ``AND``, which binds tighter than ``OR``. Operators are
upper case only, so a lower-case ``and`` is an ordinary word.

What matches (the same in every engine, fixed by :func:`plan`):

- a word: each of its runs, anywhere in the field; Han text as that exact sequence of
  characters (``平精工``, never across punctuation), one Han character wherever it occurs,
  letters and digits by prefix of a number or of any part of it (``HT-2025``, ``CK61``,
  ``86660000``): bare ``CK6150`` also finds ``CK61500``; an amount with or without
  thousands separators (``1,001.10``, ``1001.10``), a size whichever times sign it has
  (``4×0.5``, ``4x0.5``, ``4*0.5``);
- a quoted phrase: its runs in order, whitespace between them allowed, punctuation only
  where the phrase has it; letters and digits whole (``"CK6150"`` does not find ``CK61500``);
- an empty query: every document; only negations (``NOT 刀具``): every document but those;
- words with nothing searchable in them (``!!!``) are dropped; a query left with nothing
  at all is refused.

No engine's own query parser is ever used: tantivy's turns ``精工机械`` into one term.
Each engine compiles the tree with :func:`plan`, which fixes the match semantics once.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass

from archive.errors import ArchiveError
from archive.search.analysis import BOUNDARY, MAX_PREFIX, Run, fold, joined, runs

log = logging.getLogger(__name__)

# Fields a query may name. Text fields match like free text within that field only; the
# others are exact filters.
TEXT_FIELDS = ("buyer", "seller", "product", "contract_no", "number")
EXACT_FIELDS = ("region", "status", "kind", "payment_state", "year")
FIELDS = TEXT_FIELDS + EXACT_FIELDS

MAX_LENGTH = 200
MAX_TERMS = 20
MAX_DEPTH = 8

_QUOTES = '"“”'
_FIELD = re.compile(r"([A-Za-z_]+):(.*)", re.DOTALL)


class QueryError(ArchiveError):
    """The search query cannot be understood; the message says why, in Chinese."""

    code = "bad_query"


class QueryTooLarge(QueryError):
    """The query is beyond what one search may cost (length, terms, nesting)."""

    code = "query_too_large"


# -- the tree -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """A word or phrase, in one field (None: the whole text) or an exact filter value."""

    field: str | None
    text: str
    phrase: bool = False
    runs: tuple[Run, ...] = ()


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class All:
    """Every document (the empty query)."""


Node = Match | And | Or | Not | All


def positive_matches(node: Node) -> list[Match]:
    """Matches that must be present for a hit (not under a NOT): to rank and highlight."""
    found: list[Match] = []
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        item, negated = stack.pop()
        if isinstance(item, Match):
            if not negated:
                found.append(item)
        elif isinstance(item, And | Or):
            stack.extend((child, negated) for child in reversed(item.children))
        elif isinstance(item, Not):
            stack.append((item.child, not negated))
    return found


# -- what a match looks up (shared by every engine) -----------------------------------------


@dataclass(frozen=True)
class Slot:
    """One position of a phrase: a token, or a pattern a token must fully match.

    A pattern is always one Han character at a phrase's edge (:func:`_single`): ``char``
    names it, ``ends`` allows a token ending with it (``.?共``), ``starts`` one starting
    with it (``台.?``), for engines that cannot run a regular expression."""

    text: str
    pattern: bool = False
    char: str = ""
    ends: bool = False
    starts: bool = False


@dataclass(frozen=True)
class Prefix:
    """One term of the prefix stream."""

    text: str


Clause = Prefix | tuple[Slot, ...]


def _single(char: str, *, left: bool, right: bool) -> Slot:
    # A one-character run is a unigram, or sits inside a bigram of a longer run. At a
    # phrase's left edge it must end its run (``.?共``), at the right edge start it (``台.?``).
    options = []
    if left:
        options.append(f".?{char}")
    if right:
        options.append(f"{char}.?")
    return Slot("|".join(options), pattern=True, char=char, ends=left, starts=right)


def plan(match: Match) -> list[Clause]:
    """The clauses a text match needs, all of which must hold.

    A word: each run on its own; a Han run as the phrase of its bigrams, one Han character
    as any token holding it, any other run by prefix (one term of the prefix stream). A
    phrase: one sequence of its runs' tokens, other runs matched whole, a boundary where
    the phrase has punctuation."""
    if match.phrase:
        slots: list[Slot] = []
        last = len(match.runs) - 1
        for i, run in enumerate(match.runs):
            if run.broken:
                slots.append(Slot(BOUNDARY))
            if run.han and len(run.text) == 1 and i in (0, last):
                slots.append(_single(run.text, left=i == 0, right=i == last))
            elif run.han and len(run.text) == 1:
                slots.append(Slot(run.text))  # inside a phrase: a run of its own
            else:
                slots.extend(Slot(token) for token in run.tokens())
        return [tuple(slots)]
    clauses: list[Clause] = []
    for run in match.runs:
        if run.han:
            if len(run.text) == 1:
                clauses.append((_single(run.text, left=True, right=True),))
            else:
                clauses.append(tuple(Slot(token) for token in run.tokens()))
        elif len(run.text) <= MAX_PREFIX:
            clauses.append(Prefix(run.text))
        else:  # longer than any indexed prefix: the whole token
            clauses.append((Slot(run.text),))
    return clauses


# -- scanning -----------------------------------------------------------------------------

_LPAREN, _RPAREN, _AND, _OR, _NOT = "(", ")", "AND", "OR", "NOT"
_OPERATORS = {"AND": _AND, "OR": _OR, "NOT": _NOT}
Token = str | Match | None  # an operator, a term (None when nothing searchable is left)


def _term(field: str | None, value: str, phrase: bool) -> Match | None:
    if field in EXACT_FIELDS:
        value = value.strip()
        if field == "year" and not re.fullmatch(r"\d{4}", value):
            raise QueryError(f"year 的值必须是四位年份，例如 year:2025，而不是“{value}”。")
        return Match(field, value, phrase) if value else None
    # A word's amounts and sizes in their joined form (1,001.10 → 1001.10, 4×0.5 → 4x0.5),
    # which every way of writing them is indexed under; a phrase keeps its exact text.
    found = tuple(runs(fold(value) if phrase else joined(fold(value))))
    return Match(field, value, phrase, found) if found else None


def _scan(text: str, max_terms: int, max_depth: int) -> list[Token]:
    tokens: list[Token] = []
    depth = terms = 0
    i, n = 0, len(text)

    def add_term(field: str | None, value: str, phrase: bool) -> None:
        nonlocal terms
        terms += 1
        if terms > max_terms:
            raise QueryTooLarge(f"检索词过多：最多 {max_terms} 个。")
        tokens.append(_term(field, value, phrase))

    def phrase_at(start: int) -> int:
        end = next((j for j in range(start + 1, n) if text[j] in _QUOTES), -1)
        if end < 0:
            raise QueryError("引号不成对：短语缺少结束的引号。")
        return end

    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "(":
            depth += 1
            if depth > max_depth:
                raise QueryTooLarge(f"括号嵌套过深：最多 {max_depth} 层。")
            tokens.append(_LPAREN)
            i += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise QueryError("括号不成对：多了一个右括号。")
            tokens.append(_RPAREN)
            i += 1
        elif ch in _QUOTES:
            end = phrase_at(i)
            add_term(None, text[i + 1 : end], True)
            i = end + 1
        elif ch == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] != "-":
            tokens.append(_NOT)  # a leading minus: -刀具
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in "()" + _QUOTES:
                j += 1
            word, i = text[i:j], j
            if word in _OPERATORS:
                tokens.append(_OPERATORS[word])
                continue
            named = _FIELD.fullmatch(word)
            if named is None:
                add_term(None, word, False)
                continue
            field, value = named.group(1).lower(), named.group(2)
            if field not in FIELDS:
                raise QueryError(f"未知字段 {field}：可用的字段有 {'、'.join(FIELDS)}。")
            if value:
                add_term(field, value, False)
            elif i < n and text[i] in _QUOTES:
                end = phrase_at(i)
                add_term(field, text[i + 1 : end], True)
                i = end + 1
            else:
                raise QueryError(f"字段 {field} 后缺少要检索的内容。")
    if depth:
        raise QueryError("括号不成对：缺少右括号。")
    return tokens


# -- parsing ------------------------------------------------------------------------------


class _Parser:
    """Recursive descent; the scanner has already bounded the nesting, so recursion is
    at most a few frames per parenthesis level."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> Token | str:
        return self.tokens[self.at] if self.at < len(self.tokens) else "END"

    def take(self) -> Token | str:
        token = self.peek()
        self.at += 1
        return token

    def expression(self) -> Node | None:
        items = [self.conjunction()]
        while self.peek() is _OR:
            self.take()
            items.append(self.conjunction())
        return _combine(Or, items)

    def conjunction(self) -> Node | None:
        items = [self.unary()]
        while self.peek() not in ("END", _RPAREN, _OR):
            if self.peek() is _AND:
                self.take()
            items.append(self.unary())
        return _combine(And, items)

    def unary(self) -> Node | None:
        negated = False
        while self.peek() is _NOT:  # a loop, not recursion: NOT NOT NOT … stays flat
            self.take()
            negated = not negated
        node = self.primary()
        return Not(node) if negated and node is not None else node

    def primary(self) -> Node | None:
        token = self.take()
        if token is _LPAREN:
            node = self.expression() if self.peek() is not _RPAREN else None
            self.take()  # the scanner checked that it is there
            return node
        if token in (_AND, _OR, _NOT, _RPAREN, "END"):
            raise QueryError("运算符 AND、OR、NOT 的两侧都需要检索词。")
        return token  # a Match, or None when the word held nothing searchable


def _combine(kind: type[And] | type[Or], items: list[Node | None]) -> Node | None:
    kept = [item for item in items if item is not None]
    if len(kept) <= 1:
        return kept[0] if kept else None
    return kind(tuple(kept))


def parse(
    text: str | None,
    *,
    max_length: int = MAX_LENGTH,
    max_terms: int = MAX_TERMS,
    max_depth: int = MAX_DEPTH,
) -> Node:
    """The query tree of ``text``; :class:`QueryError` when it cannot be understood."""
    text = unicodedata.normalize("NFKC", text or "").strip()  # （ ） ： ＂ → ( ) : "
    if not text:
        return All()
    if len(text) > max_length:
        raise QueryTooLarge(f"查询过长：最多 {max_length} 个字符。")
    parser = _Parser(_scan(text, max_terms, max_depth))
    node = parser.expression()
    if parser.peek() != "END":
        raise QueryError("括号不成对：多了一个右括号。")
    if node is None:
        raise QueryError("查询中没有可检索的文字或数字。")
    log.debug("query %r parsed as %r", text, node)
    return node
