"""The boolean query language of cases, exclude and context terms: parse once, evaluate often.

Grammar, binding tightest first (NEAR, NOT, AND, OR)::

    query    := and_expr ("OR" and_expr)*
    and_expr := not_expr (["AND"] not_expr)*      # adjacency means AND; "a NOT b" = a AND NOT b
    not_expr := "NOT" not_expr | near
    near     := primary ("NEAR/n" primary)*       # at most n words between the two sides
    primary  := term | "phrase" | "(" query ")"

A term or a phrase word may end in ``*`` to match any word it begins. Terms fold
like names (:mod:`crawler.matching.textnorm`); operators are upper case, so a lower-case
``and`` is a term. A term that folds to several words (``Umarova's``,
``Sayragul-Sauytbay``) is a phrase. A capitalised term and every word of a quoted
phrase also match their case forms, as names do (:func:`crawler.matching.inflect.term_forms`):
``"Русафа"`` finds «Русафе», «Русафы» and the Kazakh «Русафада» (Russian forms on
every Cyrillic word, Kazakh suffixes on the last word); a lower-case bare term
matches exactly, or as a prefix with ``*``.

Evaluation works on token positions: every part of a query that matches yields
the token spans that made it match, so a hit can point at them.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from crawler.matching.inflect import noun_forms, term_suffixes
from crawler.matching.scripts import ARABIC, CJK, affixed_readings, script_of
from crawler.matching.textnorm import Tokens, fold, is_word_char, words_between

Span = tuple[int, int]  # token positions [first, stop)

_QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»"}
_STOPS = frozenset("()").union(_QUOTES)  # characters that end a bare term
_NEAR = re.compile(r"NEAR/(\d+)")
_FOLDED_WORD = re.compile(r"[^\W_]+(\*)?|\*")


@dataclass(frozen=True, slots=True)
class QueryResult:
    """Whether a query matched a text, and the token spans that satisfied it, in order."""

    matched: bool
    spans: tuple[Span, ...] = ()

    @property
    def first_span(self) -> Span | None:
        """The earliest satisfying span, if the match has any."""
        return self.spans[0] if self.spans else None


@dataclass(frozen=True, slots=True)
class _Word:
    text: str  # folded
    prefix: bool
    forms: frozenset[str] = frozenset()  # its case forms too, for an inflected word
    script: str | None = None  # CJK: anywhere in a run of characters; Arabic: with affixes

    def matches(self, word: str) -> bool:
        if self.script == ARABIC:
            if self.prefix:  # كازاخ* finds والكازاخيات: the prefixes come off first
                return any(r.startswith(self.text) for r in affixed_readings(word))
            return self.text in affixed_readings(word)
        if self.prefix:
            return word.startswith(self.text)
        if self.script == CJK:
            return self.text in word
        return word == self.text or word in self.forms

    @property
    def literal(self) -> str:
        """What every matching word contains: the text, or the stem its forms share."""
        if self.script == ARABIC and self.text.startswith("ال") and len(self.text) > 4:
            return self.text[2:]  # للرصافة: the article's alef goes after ل
        if not self.forms:
            return self.text
        stem = self.text
        for form in self.forms:
            while not form.startswith(stem):
                stem = stem[:-1]
        return stem

    def __str__(self) -> str:
        return self.text + ("*" if self.prefix else "~" if self.forms else "")


def _inflected(word: _Word, last: bool) -> _Word:
    """``word`` with its Russian case forms and, on the last word of a term, Kazakh suffixes."""
    if word.prefix or word.script is not None or len(word.text) < 3:
        return word
    forms = set(noun_forms(word.text))
    if last:
        forms.update(word.text + suffix for suffix in term_suffixes(word.text))
    return _Word(word.text, False, frozenset(forms))


class _Node:
    """A parsed query part; ``evaluate`` returns its spans, or None when it does not match."""

    positive = True  # can it match by presence (and so yield spans)?

    def evaluate(self, tokens: Tokens) -> list[Span] | None:
        raise NotImplementedError


class _Term(_Node):
    def __init__(self, words: tuple[_Word, ...]) -> None:
        self.words = words

    def evaluate(self, tokens: Tokens) -> list[Span] | None:
        first, rest = self.words[0], self.words[1:]
        if first.script is not None:
            starts = tokens.positions_where(first.matches, first.literal)
        elif first.prefix:
            starts = tokens.prefix_positions(first.text)
        elif first.forms:
            starts = sorted(p for w in (first.text, *first.forms) for p in tokens.positions(w))
        else:
            starts = tokens.positions(first.text)
        size = len(self.words)
        if not rest:
            spans = [(p, p + 1) for p in starts]
        else:
            words = tokens.words
            limit = len(words) - size
            spans = [
                (p, p + size)
                for p in starts
                if p <= limit and all(w.matches(words[p + k]) for k, w in enumerate(rest, 1))
            ]
        return spans or None

    def __str__(self) -> str:
        inner = " ".join(str(w) for w in self.words)
        return f'"{inner}"' if len(self.words) > 1 else inner


class _Not(_Node):
    positive = False

    def __init__(self, child: _Node) -> None:
        self.child = child

    def evaluate(self, tokens: Tokens) -> list[Span] | None:
        return [] if self.child.evaluate(tokens) is None else None

    def __str__(self) -> str:
        return f"(NOT {self.child})"


class _And(_Node):
    def __init__(self, children: list[_Node]) -> None:
        self.children = children
        self.positive = any(c.positive for c in children)

    def evaluate(self, tokens: Tokens) -> list[Span] | None:
        spans: set[Span] = set()
        for child in self.children:
            found = child.evaluate(tokens)
            if found is None:
                return None
            spans.update(found)
        return sorted(spans)

    def __str__(self) -> str:
        return "(" + " AND ".join(str(c) for c in self.children) + ")"


class _Or(_Node):
    def __init__(self, children: list[_Node]) -> None:
        self.children = children
        self.positive = any(c.positive for c in children)

    def evaluate(self, tokens: Tokens) -> list[Span] | None:
        spans: set[Span] = set()
        matched = False
        for child in self.children:
            found = child.evaluate(tokens)
            if found is not None:
                matched = True
                spans.update(found)
        return sorted(spans) if matched else None

    def __str__(self) -> str:
        return "(" + " OR ".join(str(c) for c in self.children) + ")"


class _Near(_Node):
    def __init__(self, left: _Node, right: _Node, distance: int) -> None:
        self.left = left
        self.right = right
        self.distance = distance

    def evaluate(self, tokens: Tokens) -> list[Span] | None:
        left = self.left.evaluate(tokens)
        if not left:
            return None
        right = self.right.evaluate(tokens)
        if not right:
            return None
        n = self.distance
        right_starts = [s for s, _ in right]
        longest = max(stop - start for start, stop in right)
        spans: set[Span] = set()
        for l_start, l_stop in left:
            lo = bisect_left(right_starts, l_start - n - longest)
            hi = bisect_right(right_starts, l_stop + n)
            for r_start, r_stop in right[lo:hi]:
                # The same words cannot stand on both sides (an overlap is None).
                between = words_between((l_start, l_stop), (r_start, r_stop))
                if between is not None and between <= n:
                    spans.add((min(l_start, r_start), max(l_stop, r_stop)))
        return sorted(spans) or None

    def __str__(self) -> str:
        return f"({self.left} NEAR/{self.distance} {self.right})"


def _literals(node: _Node) -> set[str] | None:
    """The folded words under ``node``; None if it holds a NOT (it may match on absence)."""
    if isinstance(node, _Term):
        return {w.literal for w in node.words}
    if isinstance(node, _Not):
        return None
    if isinstance(node, _Near):
        children = [node.left, node.right]
    elif isinstance(node, _And | _Or):
        children = node.children
    else:
        return None
    found: set[str] = set()
    for child in children:
        words = _literals(child)
        if words is None:
            return None
        found |= words
    return found


class Query:
    """A compiled query; evaluate it over the tokens of any number of texts."""

    __slots__ = ("_literals", "_root", "text")

    def __init__(self, text: str, root: _Node) -> None:
        self.text = text
        self._root = root
        words = _literals(root)
        self._literals = None if words is None else tuple(sorted(words))

    def may_match(self, folded_text: str) -> bool:
        """False when ``folded_text`` cannot match: none of the query's words is in it at all.

        A cheap substring test to run before tokenising a text; True means "evaluate".
        """
        if self._literals is None:
            return True
        return any(word in folded_text for word in self._literals)

    def evaluate(self, tokens: Tokens) -> QueryResult:
        """Whether the query matches these tokens, and the spans that satisfy it."""
        spans = self._root.evaluate(tokens)
        if spans is None:
            return QueryResult(False)
        return QueryResult(True, tuple(spans))

    def __str__(self) -> str:
        """The query fully parenthesised, with folded terms: shows how it was read."""
        return str(self._root)

    def __repr__(self) -> str:
        return f"Query({self.text!r})"


@dataclass(frozen=True, slots=True)
class _Lexeme:
    kind: str  # "(", ")", "AND", "OR", "NOT", "NEAR", "TERM", "PHRASE", "END"
    text: str
    pos: int  # 0-based index into the query
    distance: int = 0

    def shown(self) -> str:
        return "end of query" if self.kind == "END" else repr(self.text)


def _error(pos: int, expected: str, got: str) -> ValueError:
    return ValueError(f"query: position {pos + 1}: expected {expected}, got {got}")


def _lex(text: str) -> list[_Lexeme]:
    lexemes: list[_Lexeme] = []
    i, size = 0, len(text)
    while i < size:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            lexemes.append(_Lexeme(char, char, i))
            i += 1
        elif char in _QUOTES:
            close = text.find(_QUOTES[char], i + 1)
            if close < 0:
                raise _error(
                    size,
                    f"closing {_QUOTES[char]!r} for the phrase at position {i + 1}",
                    "end of query",
                )
            lexemes.append(_Lexeme("PHRASE", text[i : close + 1], i))
            i = close + 1
        else:
            start = i
            while i < size and not (text[i].isspace() or text[i] in _STOPS):
                i += 1
            word = text[start:i]
            near = _NEAR.fullmatch(word)
            if word in ("AND", "OR", "NOT"):
                lexemes.append(_Lexeme(word, word, start))
            elif near:
                lexemes.append(_Lexeme("NEAR", word, start, int(near.group(1))))
            elif word == "NEAR" or word.startswith("NEAR/"):
                raise _error(start, "NEAR/n with n a whole number of words", repr(word))
            else:
                lexemes.append(_Lexeme("TERM", word, start))
    lexemes.append(_Lexeme("END", "", size))
    return lexemes


def _words(raw: str, pos: int, inflect: bool = False) -> tuple[_Word, ...]:
    """The folded words of a term or phrase; ``pos`` is where ``raw`` starts in the query.

    With ``inflect``, each word also matches its case forms (:func:`_inflected`).
    """
    folded = fold(raw)
    text = folded.text
    words = []
    for match in _FOLDED_WORD.finditer(text):
        end = match.end()
        star = pos + folded.to_original(end - 1)  # where the '*' is, if there is one
        if match.group() == "*" or (
            match.group(1) and end < len(text) and (is_word_char(text[end]) or text[end] == "*")
        ):
            raise _error(star, "'*' only at the end of a word", repr(raw))
        words.append(_Word(match.group().rstrip("*"), bool(match.group(1))))
    if not words:
        raise _error(pos, "a word (letters or digits)", repr(raw))
    scripts = {script_of(w.text) for w in words}
    if scripts == {CJK} and not any(w.prefix for w in words):
        # No spaces between CJK words: a phrase is its characters in a row.
        return (_Word("".join(w.text for w in words), False, script=CJK),)
    if ARABIC in scripts:
        words = [_Word(w.text, w.prefix, script=ARABIC) if script_of(w.text) else w for w in words]
    elif CJK in scripts:
        words = [_Word(w.text, False, script=CJK) if script_of(w.text) else w for w in words]
    if inflect:
        words = [_inflected(w, i == len(words) - 1) for i, w in enumerate(words)]
    return tuple(words)


class _Parser:
    def __init__(self, text: str) -> None:
        self.lexemes = _lex(text)
        self.index = 0

    @property
    def next(self) -> _Lexeme:
        return self.lexemes[self.index]

    def take(self) -> _Lexeme:
        lexeme = self.lexemes[self.index]
        self.index += 1
        return lexeme

    def query(self) -> _Node:
        children = [self.and_expr()]
        while self.next.kind == "OR":
            self.take()
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else _Or(children)

    def and_expr(self) -> _Node:
        children = [self.not_expr()]
        while self.next.kind in ("AND", "NOT", "TERM", "PHRASE", "("):
            if self.next.kind == "AND":
                self.take()
            children.append(self.not_expr())
        return children[0] if len(children) == 1 else _And(children)

    def not_expr(self) -> _Node:
        if self.next.kind == "NOT":
            self.take()
            return _Not(self.not_expr())
        return self.near()

    def near(self) -> _Node:
        node = self.primary()
        while self.next.kind == "NEAR":
            operator = self.take()
            right = self.primary()
            if not (node.positive and right.positive):
                raise _error(
                    operator.pos, f"words on both sides of {operator.text}", "a side with only NOT"
                )
            node = _Near(node, right, operator.distance)
        return node

    def primary(self) -> _Node:
        lexeme = self.take()
        if lexeme.kind == "TERM":
            capitalised = lexeme.text[:1].isupper()
            return _Term(_words(lexeme.text, lexeme.pos, inflect=capitalised))
        if lexeme.kind == "PHRASE":
            return _Term(_words(lexeme.text[1:-1], lexeme.pos + 1, inflect=True))
        if lexeme.kind == "(":
            node = self.query()
            close = self.take()
            if close.kind != ")":
                raise _error(
                    close.pos, f"')' to close the '(' at position {lexeme.pos + 1}", close.shown()
                )
            return node
        raise _error(lexeme.pos, "a term, a \"phrase\" or '('", lexeme.shown())


def compile_query(text: str) -> Query:
    """Parse a query; raise ValueError naming the position and what was expected."""
    parser = _Parser(text)
    root = parser.query()
    rest = parser.next
    if rest.kind != "END":
        raise _error(rest.pos, "end of query (no '(' is open)", rest.shown())
    if not root.positive:
        raise _error(0, "at least one term that is not under NOT", repr(text))
    return Query(text, root)
