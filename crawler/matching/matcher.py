"""Compile the watchlist into one Aho-Corasick automaton plus queries, and find watches in a text.

What the automaton holds (all folded, :mod:`crawler.matching.textnorm`), built once by
``Matcher.compile`` from the forms :mod:`crawler.matching.variants` generates:

- every family form of every person (as written, transliterated, Russian case
  forms), each allowed the Kazakh case suffixes of its last sound
  (:mod:`crawler.matching.inflect`); a longer word that is not one of those real forms
  (Умаров, Умарович for Умарова) is no match;
- every form of an organisation's name, as a phrase;
- "given name + first letter of the family name", which is where a typo in
  the family name is looked for.

``Matcher.match`` folds a text once and scans it once. A family form is a hit
for a person only with that person's given name (or its initials) beside it,
in either order, with at most a patronymic or middle name between; the family
name alone counts only if the watch has ``context`` terms, a context term is
near, and no other given name or initial is attached to it. A long word one
keystroke away from a family name, right after an exact given name, is a typo
hit unless another watch's form is as close (:mod:`crawler.matching.typos`). Cases are
compiled queries; ``exclude`` terms veto a watch for the whole text.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import ahocorasick

from crawler.config import Watch
from crawler.matching.inflect import kazakh_suffixes, other_gender, strip_kazakh_suffix
from crawler.matching.namelists import given_names
from crawler.matching.query import Query, compile_query
from crawler.matching.textnorm import (
    Folded,
    Tokens,
    fold,
    fold_key,
    tokenize,
    word_end,
    words_between,
)
from crawler.matching.translit import is_cyrillic, to_latin
from crawler.matching.typos import TypoIndex
from crawler.matching.variants import (
    EXACT,
    KIND_CONFIDENCE,
    Form,
    PersonForms,
    Variant,
    combine_kinds,
    confidence_of,
    explain,
    person_forms,
    phrase_forms,
    variants,
)
from crawler.models import Hit

__all__ = ["CASE", "EXACT", "Matcher", "Variant", "snippet", "variants"]

CASE = 0.8  # a case query matched
SURNAME = KIND_CONFIDENCE["surname+context"]
CONTEXT_WINDOW = 30  # words between a surname-only mention and a context term
SURNAME_MIN_LETTERS = 4
SNIPPET_WIDTH = 200
OTHER_NAME = -1  # typo index owner of a name that is nobody's watch but another person's
_INITIAL = Form("", "")  # how an initial was made: kinds come from the "initials" it adds

# Capitalised words that stand before a family name without being a given name.
_TITLE_WORDS = """
    mr mrs ms miss dr prof president minister lawyer activist judge blogger journalist senator
    deputy ambassador general colonel officer citizen comrade sir madam mister господин госпожа
    президент министр адвокат активист судья блогер журналист депутат профессор генерал
    гражданин гражданка правозащитник правозащитница защитник президенті адвокат белсенді
    журналист азамат
"""
TITLES = frozenset(fold_key(w) for w in _TITLE_WORDS.split())

_INITIALS_BEFORE = re.compile(r"(?:^|[\s(«\"'])([^\W\d_]{1,2})\.(?:\s?-?\s?([^\W\d_]{1,2})\.)?\s?$")
_INITIALS_AFTER = re.compile(r"\s([^\W\d_]{1,2})\.(?:\s?-?\s?([^\W\d_]{1,2})\.)?(?!\w)")
_SENTENCE_END = frozenset('.!?…:;"«»“”')


@dataclass(frozen=True, slots=True)
class _Family:
    """Automaton target: a family form of person number ``watch``."""

    watch: int
    form: Form
    suffixes: frozenset[str]  # the Kazakh case suffixes this form may carry


@dataclass(frozen=True, slots=True)
class _Phrase:
    """Automaton target: a whole name of an organisation (or a one-word name)."""

    watch: int
    form: Form
    suffixes: frozenset[str]


@dataclass(frozen=True, slots=True)
class _TypoLead:
    """Automaton target: a given form and the first letter of a family name after it."""

    watch: int
    form: Form


@dataclass(slots=True)
class _Entry:
    """The automaton's value for one key: its length and what finding it may mean."""

    length: int
    family: dict[int, _Family] = field(default_factory=dict)  # by watch number
    context: tuple[int, ...] = ()  # watches in ``family`` whose surname alone may count
    phrases: tuple[_Phrase, ...] = ()
    typo_leads: tuple[_TypoLead, ...] = ()


@dataclass(slots=True)
class _Found:
    """The best mention of one watch so far, as a folded span."""

    start: int
    end: int
    confidence: float
    reason: str
    variant: str


class _Mentions:
    """Every mention found in one text; per watch, the best one no other watch owns more surely.

    Where two watches match the very same words, the surer reading wins: "Айгерим
    Тулегенова" is Aigerim Tulegenova as written, not the genitive of Aigerim Tulegenov.
    """

    __slots__ = ("_all", "_best", "_surest")

    def __init__(self) -> None:
        self._all: list[tuple[int, _Found]] = []
        self._best: dict[int, _Found] = {}
        self._surest: dict[tuple[int, int], float] = {}  # span -> best confidence there

    def __contains__(self, number: int) -> bool:
        return number in self._best

    def confidence(self, number: int) -> float:
        """The watch's best confidence so far (0 if none)."""
        best = self._best.get(number)
        return best.confidence if best is not None else 0.0

    def add(self, number: int, found: _Found) -> None:
        """Record a mention of watch ``number``."""
        self._all.append((number, found))
        span = (found.start, found.end)
        if found.confidence > self._surest.get(span, 0.0):
            self._surest[span] = found.confidence
        if found.confidence > self.confidence(number):
            self._best[number] = found

    def settled(self) -> dict[int, _Found]:
        """Per watch, its best mention among those no other watch reads more surely."""
        chosen: dict[int, _Found] = {}
        for number, found in self._all:
            if found.confidence < self._surest[(found.start, found.end)]:
                continue
            best = chosen.get(number)
            if best is None or (found.confidence, -found.start) > (best.confidence, -best.start):
                chosen[number] = found
        return chosen


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


def _lexicon(persons: Sequence[PersonForms | None]) -> frozenset[str]:
    """Folded given names of anyone: the bundled lists in both scripts, and every watch's."""
    found: set[str] = set()
    for name in given_names():
        found.add(fold_key(name))
        if is_cyrillic(name):
            found.update(to_latin(name.lower()))
    for person in persons:
        if person is not None:
            found.update(person.given)
    return frozenset(found)


def _entry(entries: dict[str, _Entry], key: str) -> _Entry:
    """The automaton entry for ``key``, made on first use."""
    found = entries.get(key)
    if found is None:
        found = entries[key] = _Entry(len(key))
    return found


def _automaton(entries: dict[str, _Entry]) -> ahocorasick.Automaton | None:
    """One Aho-Corasick automaton over every entry's key (None when there is none)."""
    if not entries:
        return None
    automaton = ahocorasick.Automaton()
    for key, value in entries.items():
        automaton.add_word(key, value)
    automaton.make_automaton()
    return automaton


def _variant(kinds: Sequence[str], source: str) -> str:
    """The one word for how a mention was found: its weakest variation, or alias/name."""
    if kinds:
        return min(kinds, key=lambda k: KIND_CONFIDENCE[k])
    return "name" if source == "name" else "alias"


class Matcher:
    """The compiled watchlist: one automaton for names, compiled queries for the rest."""

    __slots__ = (
        "_automaton",
        "_cases",
        "_given",
        "_initials",
        "_lexicon",
        "_persons",
        "_rules",
        "_typos",
        "watches",
    )

    def __init__(self, watches: Sequence[Watch], rules: Sequence[_Rules]) -> None:
        self.watches = tuple(watches)
        self._rules = tuple(rules)
        self._cases = tuple(
            (number, r.query) for number, r in enumerate(self._rules) if r.query is not None
        )
        persons = [person_forms(w) if w.kind == "person" else None for w in self.watches]
        self._persons = tuple(persons)
        self._lexicon = _lexicon(persons)
        self._typos = TypoIndex()
        self._given: dict[str, dict[int, Form]] = {}  # given form -> {watch: how it was made}
        self._initials: dict[tuple[str, ...], set[int]] = {}
        entries: dict[str, _Entry] = {}
        for number, (watch, person) in enumerate(zip(self.watches, persons, strict=True)):
            if watch.kind == "case":
                continue
            if person is None:
                self._add_phrases(entries, number, watch)
            else:
                self._add_person(entries, number, watch, person)
        self._automaton = _automaton(entries)

    @staticmethod
    def _add_phrases(entries: dict[str, _Entry], number: int, watch: Watch) -> None:
        """An organisation's names: whole phrases, with Kazakh suffixes on the last word."""
        for key, form in phrase_forms(watch).items():
            last = key.rsplit(" ", 1)[-1]
            _entry(entries, key).phrases += (_Phrase(number, form, kazakh_suffixes(last)),)

    def _add_person(
        self, entries: dict[str, _Entry], number: int, watch: Watch, person: PersonForms
    ) -> None:
        """A person's family-name forms (with typo blockers), given names, initials, typo leads."""
        for key, form in person.family.items():
            inflected = "inflection" in form.kinds
            suffixes = frozenset() if inflected else kazakh_suffixes(key)
            target = _entry(entries, key)
            target.family[number] = _Family(number, form, suffixes)
            if watch.context and sum(c.isalpha() for c in key) >= SURNAME_MIN_LETTERS:
                target.context += (number,)
            if inflected:
                continue  # typos are looked for in the nominative only
            # A typo of a spelling made there and back is too far from the name.
            self._typos.add(key, number, target=form.steps < 2)
            for other in other_gender(key):
                if other not in person.family:
                    self._typos.add(other, OTHER_NAME)
        for key, form in person.given.items():
            self._given.setdefault(key, {})[number] = form
        for letters in person.initials:
            self._initials.setdefault(letters, set()).add(number)
        firsts = {f[0] for f in person.family}
        for key, form in person.given.items():
            if "inflection" in form.kinds or "spelling" in form.kinds:
                continue
            cyrillic = is_cyrillic(key)
            for first in firsts:
                if is_cyrillic(first) == cyrillic:
                    _entry(entries, f"{key} {first}").typo_leads += (_TypoLead(number, form),)

    @classmethod
    def compile(cls, watches: Sequence[Watch]) -> Matcher:
        """Compile every watch; a malformed query raises ValueError naming the watch."""
        rules = [
            _Rules(
                watch=watch,
                query=_compile(watch, "query", watch.query) if watch.kind == "case" else None,
                exclude=tuple(_compile(watch, "exclude", t) for t in watch.exclude),
                context=tuple((t, _compile(watch, "context", t)) for t in watch.context),
            )
            for watch in watches
        ]
        return cls(watches, rules)

    def automaton_keys(self) -> list[str]:
        """Every key the automaton holds (folded forms), for baselines and diagnostics."""
        return list(self._automaton.keys()) if self._automaton is not None else []

    def automaton(self) -> ahocorasick.Automaton | None:
        """The bare automaton, for measuring a scan without decisions (bench/)."""
        return self._automaton

    def match(self, text: str) -> list[Hit]:
        """The watches found in ``text``: at most one hit each, the best, in text order."""
        folded = fold(text)
        found = _Mentions()
        surnames: dict[int, list[tuple[int, int, Form]]] = {}
        typo_leads: list[tuple[int, int, int, Form]] = []
        if self._automaton is not None:
            self._scan(folded, found, surnames, typo_leads)

        tokens: Tokens | None = None  # tokenised on first need: most texts match nothing

        def words() -> Tokens:
            nonlocal tokens
            if tokens is None:
                tokens = tokenize(folded)
            return tokens

        for number, start, end, form in typo_leads:
            if number not in found:
                typo = self._typo(folded, number, start, end, form)
                if typo is not None:
                    found.add(number, typo)
        for number, mentions in surnames.items():
            rules = self._rules[number]
            if number in found or not any(q.may_match(folded.text) for _, q in rules.context):
                continue
            near = self._near_context(words(), rules, mentions)
            if near is not None:
                found.add(number, near)
        for number, query in self._cases:
            if not query.may_match(folded.text):
                continue
            result = query.evaluate(words())
            if result.first_span is not None:
                first, stop = result.first_span
                tw = words()
                found.add(
                    number, _Found(tw.starts[first], tw.ends[stop - 1], CASE, "case query", "case")
                )

        hits = []
        for number, best in found.settled().items():
            exclude = self._rules[number].exclude
            if any(q.may_match(folded.text) and q.evaluate(words()).matched for q in exclude):
                continue
            hits.append(_hit(folded, self.watches[number].id, best))
        hits.sort(key=lambda h: (h.start, h.watch_id))
        return hits

    def _scan(
        self,
        folded: Folded,
        found: _Mentions,
        surnames: dict[int, list[tuple[int, int, Form]]],
        typo_leads: list[tuple[int, int, int, Form]],
    ) -> None:
        """Run the automaton once and decide what each whole-word match means."""
        assert self._automaton is not None
        text = folded.text
        size = len(text)
        for last, entry in self._automaton.iter(text):
            start = last - entry.length + 1
            if start > 0 and text[start - 1].isalnum():
                continue
            end = last + 1
            for lead in entry.typo_leads:
                typo_leads.append((lead.watch, start, end - 1, lead.form))
            stop = word_end(text, end) if end < size else end
            ending = text[end:stop]
            for phrase in entry.phrases:
                if not ending or ending in phrase.suffixes:
                    kinds = combine_kinds(phrase.form.kinds, ("inflection",) if ending else ())
                    self._keep(found, phrase.watch, start, stop, kinds, phrase.form.source)
            if entry.family:
                self._people(folded, found, surnames, entry, start, stop, ending)

    def _keep(
        self,
        found: _Mentions,
        number: int,
        start: int,
        end: int,
        kinds: tuple[str, ...],
        source: str,
    ) -> None:
        """Record a mention of watch ``number`` made with these kinds of variation."""
        confidence = confidence_of(kinds) if kinds else EXACT
        reason = explain(source, kinds)
        found.add(number, _Found(start, end, confidence, reason, _variant(kinds, source)))

    def _people(
        self,
        folded: Folded,
        found: _Mentions,
        surnames: dict[int, list[tuple[int, int, Form]]],
        entry: _Entry,
        start: int,
        end: int,
        ending: str,
    ) -> None:
        """Decide what a family form at folded ``[start, end)`` says about the people it may name.

        Looks for a given name, a patronymic and given name, or initials before it, and a
        given name or initials after it (family name first); what is left may count as a
        surname alone near a context term, unless another given name or initial is attached.
        """
        text = folded.text
        family = entry.family
        done: set[int] = set()

        def name(
            given: dict[int, Form] | None, first: int, last: int, at: int, *extra: str
        ) -> None:
            """Keep the watches named by a given form at ``at`` and this family form."""
            if not given:
                return
            if not _capitalised(folded, at) and _capitalised(folded, start):
                return  # "адам Ораз Ёунг": a common word, not a given name ("Adam")
            small, large = (given, family) if len(given) < len(family) else (family, given)
            for number in small:
                if number not in large:
                    continue
                target = family[number]
                if ending and ending not in target.suffixes:
                    continue
                inflected = ("inflection",) if ending else ()
                kinds = combine_kinds(target.form.kinds, given[number].kinds, inflected, extra)
                self._keep(found, number, first, last, kinds, target.form.source)
                done.add(number)

        def initials(letters: tuple[str, ...], first: int, last: int, *extra: str) -> None:
            numbers = [n for n in self._initials.get(letters, ()) if n in family]
            if len(numbers) == 1:  # initials two watched people share name neither for sure
                name({numbers[0]: _INITIAL}, first, last, first, "initials", *extra)

        other_name = False
        before = _token_before(text, start)
        if before is not None:
            b_start, b_end, clean = before
            word = text[b_start:b_end]
            if clean:
                name(self._given.get(word), b_start, end, b_start)
                earlier = _token_before(text, b_start)
                if earlier is not None and earlier[2]:
                    e_start, e_end, _ = earlier
                    pair = f"{text[e_start:e_end]} {word}"
                    name(self._given.get(pair), e_start, end, e_start)
                    if word.isalpha():
                        middle = self._given.get(text[e_start:e_end])
                        name(middle, e_start, end, e_start, "patronymic")
                other_name = bool(entry.context) and self._names_someone(folded, b_start, word)
        if "." in text[max(0, start - 2) : start]:
            match = _INITIALS_BEFORE.search(text, max(0, start - 12), start)
            if match is not None:
                initials(tuple(g for g in match.groups() if g), match.start(1), end)
                other_name = True

        after = _token_after(text, end) if not ending else None  # Kazakh inflects the last word
        if after is not None:
            a_start, a_end = after
            word = text[a_start:a_end]
            for stem in strip_kazakh_suffix(word):
                name(self._given.get(stem), start, a_end, a_start, "name order")
            later = _token_after(text, a_end)
            if later is not None:
                pair = f"{word} {text[later[0] : later[1]]}"
                name(self._given.get(pair), start, later[1], a_start, "name order")
            if entry.context and word in self._lexicon and _capitalised(folded, a_start):
                other_name = True
        if not ending and "." in text[end + 2 : end + 5]:
            match = _INITIALS_AFTER.match(text, end, min(len(text), end + 12))
            if match is not None:
                initials(tuple(g for g in match.groups() if g), start, match.end(), "name order")
                other_name = True

        if other_name:
            return
        for number in entry.context:
            if number in done or number in found:
                continue
            target = family[number]
            if not ending or ending in target.suffixes:
                surnames.setdefault(number, []).append((start, end, target.form))

    def _names_someone(self, folded: Folded, start: int, word: str) -> bool:
        """Whether the capitalised word at ``start`` reads as another person's given name."""
        if not word.isalpha() or not _capitalised(folded, start):
            return False
        if word in self._lexicon:
            return True
        return word not in TITLES and not _opens_sentence(folded.text, start)

    def _typo(
        self, folded: Folded, number: int, start: int, family_start: int, form: Form
    ) -> _Found | None:
        """A typo hit: the word after an exact given name mistypes this watch's family name."""
        text = folded.text
        end = word_end(text, family_start)
        if end < len(text) and (text[end].isalnum() or text[end] == "-"):
            return None
        if not _capitalised(folded, family_start):
            return None
        meant = self._typos.typo_of(text[family_start:end], number)
        if meant is None:
            return None
        person = self._persons[number]
        assert person is not None
        kinds = combine_kinds(form.kinds, person.family[meant].kinds, ("typo",))
        shown = [f"typo of {meant!r}" if k == "typo" else k for k in kinds]
        reason = explain(form.source, shown)
        return _Found(start, end, confidence_of(kinds), reason, "typo")

    @staticmethod
    def _near_context(
        tokens: Tokens, rules: _Rules, mentions: list[tuple[int, int, Form]]
    ) -> _Found | None:
        """The first surname-only mention with a context term within the window."""
        context = [(term, query.evaluate(tokens).spans) for term, query in rules.context]
        for start, end, form in mentions:
            first = tokens.token_at(start)
            stop = tokens.token_at(end - 1) + 1
            for term, spans in context:
                for context_span in spans:
                    # The surname itself is not its own context (an overlap is None).
                    between = words_between((first, stop), context_span)
                    if between is not None and between <= CONTEXT_WINDOW:
                        span = tokens.folded.span(start, end)
                        word = tokens.folded.original[slice(*span)]
                        reason = f"surname {word!r} near context {term!r}"
                        if form.kinds or form.source != "name":
                            reason += f" ({', '.join((form.source, *form.kinds))})"
                        return _Found(start, end, SURNAME, reason, "surname+context")
        return None


def _token_before(text: str, start: int) -> tuple[int, int, bool] | None:
    """The space-separated token ending right before ``start``: its span without leading
    punctuation, and whether it ends in a letter (so it is attached to what follows)."""
    if start < 2 or text[start - 1] != " ":
        return None
    end = start - 1
    begin = text.rfind(" ", 0, end) + 1
    while begin < end and not text[begin].isalnum():
        begin += 1
    if begin == end:
        return None
    return begin, end, text[end - 1].isalnum()


def _token_after(text: str, end: int) -> tuple[int, int] | None:
    """The word after a single space at ``end``, without trailing punctuation."""
    if end + 1 >= len(text) or text[end] != " " or not text[end + 1].isalnum():
        return None
    stop = text.find(" ", end + 1)
    stop = len(text) if stop < 0 else stop
    while stop > end + 1 and not text[stop - 1].isalnum():
        stop -= 1
    return end + 1, stop


def _capitalised(folded: Folded, start: int) -> bool:
    """Whether the word at folded ``start`` begins with a capital letter in the original."""
    return folded.original[folded.to_original(start)].isupper()


def _opens_sentence(text: str, start: int) -> bool:
    """Whether the word at ``start`` is the first of a sentence (or of the text)."""
    pos = start - 1
    while pos >= 0 and text[pos] in " «\"'“„(":
        pos -= 1
    return pos < 0 or text[pos] in _SENTENCE_END


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
        variant=found.variant,
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


# Stands for a name while the title is searched again; never a word character.
_MASK = "\ue000"


@lru_cache(maxsize=64)
def _name_matcher(watch: Watch) -> Matcher:
    return Matcher.compile([dataclasses.replace(watch, context=(), exclude=())])


def hide_names(text: str, watch: Watch) -> str:
    """``text`` with every form of the watch's name the matcher finds replaced by the watch id."""
    if not text or watch.kind == "case":
        return text
    for _ in range(50):  # each pass hides one mention; a title has few
        hits = _name_matcher(watch).match(text)
        if not hits:
            break
        hit = hits[0]
        text = text[: hit.start] + _MASK + text[hit.end :]
    for name in sorted({watch.name, *watch.aliases} - {""}, key=len, reverse=True):
        text = re.sub(re.escape(name), _MASK, text, flags=re.IGNORECASE)
    return text.replace(_MASK, watch.id)
