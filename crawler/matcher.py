"""Compile the watchlist into one Aho-Corasick automaton plus queries, and find watches in a text.

Every name and alias of a person or organisation becomes automaton entries, one
per generated variant (name order, hyphen/space spellings, a surname that
counts only near a context term); a new kind of variant is one more generator
in :func:`variants`. Cases are compiled queries. ``Matcher.compile`` does all the
work once; ``Matcher.match`` folds a text once and only looks things up.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import ahocorasick

from .config import Watch
from .models import Hit
from .query import Query, compile_query
from .textnorm import Folded, Tokens, fold, fold_key, is_word_char, tokenize

EXACT = 0.97  # the name or an alias as written
SPELLING = 0.95  # the same words with hyphens and spaces swapped
REVERSED = 0.9  # family name first
CASE = 0.8  # a case query matched
SURNAME = 0.6  # the family name alone, near a context term

CONTEXT_WINDOW = 30  # words between a surname-only mention and a context term
SURNAME_MIN_LETTERS = 4
SNIPPET_WIDTH = 200


@dataclass(frozen=True, slots=True)
class Pattern:
    """One automaton entry: a form of a watch's name and what finding it means."""

    watch_id: str
    form: str  # the variant as a person would write it
    key: str  # its folded form, what the automaton looks for
    reason: str
    confidence: float
    needs_context: bool = False  # a surname alone: a hit only near a context term


def _spellings(text: str) -> Iterator[str]:
    """The same name with hyphens read as spaces, as nothing, and spaces as hyphens."""
    if "-" in text:
        yield text.replace("-", " ")
        yield text.replace("-", "")
    if " " in text:
        yield text.replace(" ", "-")


def variants(watch: Watch) -> list[Pattern]:
    """Every form the matcher looks for to find ``watch`` (none for a case), best first."""
    if watch.kind == "case":
        return []
    named = [(watch.name, "name")] if watch.name.strip() else []
    named += [(alias, f"alias {alias!r}") for alias in watch.aliases if alias.strip()]
    found: dict[str, Pattern] = {}

    def add(form: str, reason: str, confidence: float, needs_context: bool = False) -> None:
        key = fold_key(form)
        if key and (key not in found or found[key].confidence < confidence):
            found[key] = Pattern(watch.id, form, key, reason, confidence, needs_context)

    for text, label in named:
        text = " ".join(text.split())
        add(text, label, EXACT)
        for spelling in _spellings(text):
            add(spelling, f"{label} (hyphen/space variant)", SPELLING)
        words = text.split(" ")
        if watch.kind != "person" or len(words) < 2:
            continue
        family, given = words[-1], " ".join(words[:-1])
        add(f"{family} {given}", f"{label} (family name first)", REVERSED)
        letters = sum(1 for c in fold_key(family) if is_word_char(c))
        if watch.context and letters >= SURNAME_MIN_LETTERS:
            add(family, f"surname {family!r}", SURNAME, needs_context=True)
    return sorted(found.values(), key=lambda p: -p.confidence)


@dataclass(frozen=True, slots=True)
class _Entry:
    """The automaton's value for one key: its length, where to check word boundaries, patterns."""

    length: int
    check_left: bool
    check_right: bool
    patterns: tuple[Pattern, ...]


@dataclass(slots=True)
class _Found:
    """The best mention of one watch so far, as a folded span."""

    start: int
    end: int
    confidence: float
    reason: str


@dataclass(frozen=True, slots=True)
class _Rules:
    """The compiled queries of one watch."""

    watch: Watch
    query: Query | None
    exclude: tuple[Query, ...]
    context: tuple[tuple[str, Query], ...]


def _compile(watch: Watch, key: str, text: str) -> Query:
    try:
        return compile_query(text)
    except ValueError as exc:
        raise ValueError(f"{watch.origin or 'watch ' + repr(watch.id)}.{key}: {exc}") from None


class Matcher:
    """The compiled watchlist: one automaton for names, compiled queries for the rest."""

    __slots__ = ("_automaton", "_rules", "patterns")

    def __init__(self, patterns: Sequence[Pattern], rules: Sequence[_Rules]) -> None:
        self.patterns = tuple(patterns)
        self._rules = {r.watch.id: r for r in rules}
        by_key: dict[str, list[Pattern]] = {}
        for pattern in patterns:
            by_key.setdefault(pattern.key, []).append(pattern)
        self._automaton: ahocorasick.Automaton | None = None
        if by_key:
            automaton = ahocorasick.Automaton()
            for key, group in by_key.items():
                entry = _Entry(len(key), is_word_char(key[0]), is_word_char(key[-1]), tuple(group))
                automaton.add_word(key, entry)
            automaton.make_automaton()
            self._automaton = automaton

    @classmethod
    def compile(cls, watches: Sequence[Watch]) -> Matcher:
        """Compile every watch; a malformed query raises ValueError naming the watch."""
        patterns: list[Pattern] = []
        rules: list[_Rules] = []
        for watch in watches:
            patterns.extend(variants(watch))
            rules.append(
                _Rules(
                    watch=watch,
                    query=_compile(watch, "query", watch.query) if watch.kind == "case" else None,
                    exclude=tuple(_compile(watch, "exclude", t) for t in watch.exclude),
                    context=tuple((t, _compile(watch, "context", t)) for t in watch.context),
                )
            )
        return cls(patterns, rules)

    def match(self, text: str) -> list[Hit]:
        """The watches found in ``text``: at most one hit each, the best, in text order."""
        folded = fold(text)
        found: dict[str, _Found] = {}
        surnames: dict[str, list[tuple[int, int, Pattern]]] = {}
        for start, end, pattern in self._mentions(folded.text):
            if pattern.needs_context:
                surnames.setdefault(pattern.watch_id, []).append((start, end, pattern))
                continue
            best = found.get(pattern.watch_id)
            if best is None or pattern.confidence > best.confidence:
                found[pattern.watch_id] = _Found(start, end, pattern.confidence, pattern.reason)

        tokens: Tokens | None = None  # tokenised on first need: many texts match nothing

        def words() -> Tokens:
            nonlocal tokens
            if tokens is None:
                tokens = tokenize(folded)
            return tokens

        for watch_id, mentions in surnames.items():
            if watch_id in found:
                continue
            near = self._near_context(words(), self._rules[watch_id], mentions)
            if near is not None:
                found[watch_id] = near

        for rules in self._rules.values():
            if rules.query is None:
                continue
            result = rules.query.evaluate(words())
            if result.first_span is not None:
                first, stop = result.first_span
                found[rules.watch.id] = _Found(
                    words().starts[first], words().ends[stop - 1], CASE, "case query"
                )

        hits = []
        for watch_id, best in found.items():
            if any(q.evaluate(words()).matched for q in self._rules[watch_id].exclude):
                continue
            hits.append(_hit(folded, watch_id, best))
        hits.sort(key=lambda h: (h.start, h.watch_id))
        return hits

    def _mentions(self, text: str) -> Iterator[tuple[int, int, Pattern]]:
        """Every automaton match standing as whole words, as (start, end, pattern)."""
        if self._automaton is None:
            return
        size = len(text)
        for last, entry in self._automaton.iter(text):
            start, end = last - entry.length + 1, last + 1
            if entry.check_left and start > 0 and is_word_char(text[start - 1]):
                continue
            if entry.check_right and end < size and is_word_char(text[end]):
                continue
            for pattern in entry.patterns:
                yield start, end, pattern

    @staticmethod
    def _near_context(
        tokens: Tokens, rules: _Rules, mentions: list[tuple[int, int, Pattern]]
    ) -> _Found | None:
        """The first surname-only mention with a context term within the window."""
        context = [(term, query.evaluate(tokens).spans) for term, query in rules.context]
        for start, end, pattern in mentions:
            first = tokens.token_at(start)
            stop = tokens.token_at(end - 1) + 1
            for term, spans in context:
                for c_first, c_stop in spans:
                    if c_first >= stop:
                        between = c_first - stop
                    elif first >= c_stop:
                        between = first - c_stop
                    else:
                        continue  # the surname itself is not its own context
                    if between <= CONTEXT_WINDOW:
                        reason = f"{pattern.reason} near context {term!r}"
                        return _Found(start, end, pattern.confidence, reason)
        return None


def _hit(folded: Folded, watch_id: str, found: _Found) -> Hit:
    text = folded.original
    start, end = folded.span(found.start, found.end)
    return Hit(
        watch_id=watch_id,
        matched=text[start:end],
        start=start,
        end=end,
        snippet=snippet(text, start, end),
        confidence=found.confidence,
        reason=found.reason,
    )


def snippet(text: str, start: int, end: int, width: int = SNIPPET_WIDTH) -> str:
    """About ``width`` characters of ``text`` around ``[start, end)``, cut between words."""
    room = max(0, width - (end - start))
    left = max(0, start - room // 2)
    right = min(len(text), end + room - (start - left))
    left = max(0, start - (room - (right - end)))
    if left > 0 and not text[left - 1].isspace():
        gap = text[left:start]
        cut = next((i for i, c in enumerate(gap) if c.isspace()), None)
        if cut is not None:
            left += cut + 1
    if right < len(text) and not text[right].isspace():
        gap = text[end:right]
        cut = next((i for i in range(len(gap) - 1, -1, -1) if gap[i].isspace()), None)
        if cut is not None:
            right = end + cut
    body = " ".join(text[left:right].split())
    return ("…" if left > 0 else "") + body + ("…" if right < len(text) else "")
