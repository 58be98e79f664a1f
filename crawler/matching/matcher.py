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
from urllib.parse import unquote_plus, urlsplit

import ahocorasick

from crawler.config import Watch
from crawler.matching.inflect import (
    is_patronymic,
    is_patronymic_word,
    kazakh_suffixes,
    other_gender,
    strip_kazakh_suffix,
)
from crawler.matching.namelists import given_names
from crawler.matching.query import Query, compile_query
from crawler.matching.scripts import Guard
from crawler.matching.surnames import common_surnames
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
from crawler.matching.typos import MIN_LETTERS as MIN_TYPO_LETTERS
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
    script_forms,
    variants,
)
from crawler.models import Hit

__all__ = ["CASE", "EXACT", "Matcher", "Variant", "snippet", "variants"]

CASE = 0.8  # a case query matched
SURNAME = KIND_CONFIDENCE["surname+context"]
SURNAME_ALONE = KIND_CONFIDENCE["surname alone"]
_SURNAME_ONLY = frozenset({"surname+context", "surname alone"})
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
class _Scripted:
    """Automaton target: a CJK or Arabic-script name, with the guard its script needs."""

    watch: int
    form: Form
    guard: Guard


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
    alone: tuple[int, ...] = ()  # watches in ``family`` whose surname alone may count
    phrases: tuple[_Phrase, ...] = ()
    typo_leads: tuple[_TypoLead, ...] = ()
    scripted: tuple[_Scripted, ...] = ()


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

    def settled(self) -> dict[int, list[_Found]]:
        """Per watch, its mentions no other watch reads more surely, the best one first."""
        kept: dict[int, list[_Found]] = {}
        for number, found in self._all:
            if found.confidence < self._surest[(found.start, found.end)]:
                continue
            mentions = kept.setdefault(number, [])
            best = mentions[0] if mentions else None
            if best is None or (found.confidence, -found.start) > (best.confidence, -best.start):
                mentions.insert(0, found)
            else:
                mentions.append(found)
        return kept


# A family form found with no given name or initial of anyone attached:
# (folded start, end, the automaton entry, its Kazakh case suffix or "").
_Bare = tuple[int, int, _Entry, str]
# Watches whose given name and family initial were found: (leads, start, family start).
_Leads = tuple[tuple[_TypoLead, ...], int, int]


def _surname_alone(folded: Folded, mentions: list[tuple[int, int, Form]]) -> _Found | None:
    """The first capitalised mention of a distinctive family name alone, as a hit."""
    for start, end, form in mentions:
        if not _capitalised(folded, start):
            continue
        span = folded.span(start, end)
        reason = f"surname alone {folded.original[slice(*span)]!r}"
        if form.kinds or form.source != "name":
            reason += f" ({', '.join((form.source, *form.kinds))})"
        return _Found(start, end, SURNAME_ALONE, reason, "surname alone")
    return None


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


def _surname_policies(
    watches: Sequence[Watch], persons: Sequence[PersonForms | None], lexicon: frozenset[str]
) -> tuple[str, ...]:
    """Per watch, when its family name alone counts: "always", "context" or "never".

    ``auto`` is "always" for a distinctive family name: no other watch has any of its
    forms (either gender, any script), it is not a common surname
    (:mod:`crawler.matching.surnames`) and not a given name; otherwise "context".
    """
    owners: dict[str, set[int]] = {}
    for number, person in enumerate(persons):
        if person is None:
            continue
        for key, form in person.family.items():
            owners.setdefault(key, set()).add(number)
            if "inflection" not in form.kinds:
                for other in other_gender(key):
                    owners.setdefault(other, set()).add(number)
    common = common_surnames()
    policies = []
    for number, (watch, person) in enumerate(zip(watches, persons, strict=True)):
        policy = watch.surname_alone if person is not None else "never"
        if policy == "auto":
            assert person is not None
            shared = any(owners[key] != {number} for key in person.family)
            usual = any(
                key in common or key in lexicon
                for key, form in person.family.items()
                if "inflection" not in form.kinds
            )
            policy = "context" if shared or usual else "always"
        policies.append(policy)
    return tuple(policies)


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
        "_alone",
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
        self._alone = _surname_policies(self.watches, persons, self._lexicon)
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
            for form, guard in script_forms(watch):
                _entry(entries, form.text).scripted += (_Scripted(number, form, guard),)
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
        policy = self._alone[number]
        alone = policy == "always" or (policy == "context" and bool(watch.context))
        for key, form in person.family.items():
            inflected = "inflection" in form.kinds
            suffixes = frozenset() if inflected else kazakh_suffixes(key)
            target = _entry(entries, key)
            target.family[number] = _Family(number, form, suffixes)
            if alone and sum(c.isalpha() for c in key) >= SURNAME_MIN_LETTERS:
                target.alone += (number,)
            # A typo of a spelling made there and back is too far from the name. Russian
            # case forms are looked up too (a typo before the ending: Умароввой).
            self._typos.add(key, number, target=form.steps < 2)
            if inflected:
                continue
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
        typo_leads: list[_Leads] = []
        bare: list[_Bare] = []
        if self._automaton is not None:
            self._scan(folded, found, surnames, typo_leads, bare)

        tokens: Tokens | None = None  # tokenised on first need: most texts match nothing

        def words() -> Tokens:
            nonlocal tokens
            if tokens is None:
                tokens = tokenize(folded)
            return tokens

        self._typos_found(folded, found, typo_leads)
        for number, mentions in surnames.items():
            if number in found:
                continue
            rules = self._rules[number]
            alone: _Found | None = None
            if rules.context and any(q.may_match(folded.text) for _, q in rules.context):
                alone = self._near_context(words(), rules, mentions)
            if alone is None and self._alone[number] == "always":
                alone = _surname_alone(folded, mentions)
            if alone is not None:
                found.add(number, alone)
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
        for number, kept in found.settled().items():
            exclude = self._rules[number].exclude
            if any(q.may_match(folded.text) and q.evaluate(words()).matched for q in exclude):
                continue
            spans = self._mention_spans(folded, number, kept, bare)
            hits.append(_hit(folded, self.watches[number].id, kept[0], spans))
        hits.sort(key=lambda h: (h.start, h.watch_id))
        return hits

    def _typos_found(self, folded: Folded, found: _Mentions, typo_leads: list[_Leads]) -> None:
        """Decide the typo leads: the word after a given name is looked up once, for every
        watch with that given name and the initial of its family name."""
        looked_up: dict[int, list[tuple[str, frozenset[int], str, int]]] = {}
        for leads, start, family_start in typo_leads:
            waiting = [lead for lead in leads if lead.watch not in found]
            if not waiting or not _capitalised(folded, start):
                continue
            typos = looked_up.get(family_start)
            if typos is None:
                typos = looked_up[family_start] = self._typos_at(folded, family_start)
            for meant, owners, suffix, end in typos:
                for lead in waiting:
                    if lead.watch in owners and lead.watch not in found:
                        found.add(lead.watch, self._typo_hit(lead, meant, suffix, start, end))

    def _typos_at(self, folded: Folded, start: int) -> list[tuple[str, frozenset[int], str, int]]:
        """What the word at ``start`` mistypes: (form, the watches owning it, its Kazakh case
        suffix or "", where the word ends); nothing for a patronymic or an exact form."""
        text = folded.text
        end = word_end(text, start)
        if end < len(text) and (text[end].isalnum() or text[end] == "-"):
            return []
        if not _capitalised(folded, start):
            return []
        word = text[start:end]
        if len(word) < MIN_TYPO_LETTERS or word in self._typos:
            return []  # too short to risk, or someone's name as it is
        found = []
        for stem in strip_kazakh_suffix(word):  # the word itself first, then without a suffix
            owners, forms = self._typos.near(stem)
            if not owners:
                continue
            meant = self._typos.meant(stem, forms)
            suffix = word[len(stem) :]
            if meant is not None and (not suffix or suffix in kazakh_suffixes(meant)):
                found.append((meant, owners, suffix, end))
                break
        if found and is_patronymic(word):
            return []  # Aiman Umarovna Smagulova: a patronymic, then another family name
        after = _token_after(text, end) if found else None
        if after is not None and is_patronymic_word(text[after[0] : after[1]]):
            return []
        return found

    def _typo_hit(self, lead: _TypoLead, meant: str, suffix: str, start: int, end: int) -> _Found:
        """A typo hit of the lead's watch: the word after its given name mistypes ``meant``."""
        person = self._persons[lead.watch]
        assert person is not None
        inflected = ("inflection",) if suffix else ()
        kinds = combine_kinds(lead.form.kinds, person.family[meant].kinds, ("typo",), inflected)
        shown = [f"typo of {meant!r}" if k == "typo" else k for k in kinds]
        reason = explain(lead.form.source, shown)
        return _Found(start, end, confidence_of(kinds), reason, "typo")

    def _mention_spans(
        self, folded: Folded, number: int, kept: list[_Found], bare: list[_Bare]
    ) -> tuple[tuple[int, int], ...]:
        """Every mention of watch ``number``, as original spans: ``kept`` and, after the first
        full-name mention (or anywhere, for a surname that counts alone), the family name alone.
        """
        spans = {(f.start, f.end) for f in kept}
        full = [f.end for f in kept if f.variant not in _SURNAME_ONLY and f.variant != "case"]
        if self._persons[number] is not None and bare:
            after = min(full) if full else None
            if after is None and self._alone[number] == "always":
                after = 0
            if after is not None:
                for start, end, entry, ending in bare:
                    target = entry.family.get(number)
                    if target is None or start < after:
                        continue
                    if not ending or ending in target.suffixes:
                        spans.add((start, end))
        return tuple(folded.span(start, end) for start, end in sorted(spans))

    def _scan(
        self,
        folded: Folded,
        found: _Mentions,
        surnames: dict[int, list[tuple[int, int, Form]]],
        typo_leads: list[_Leads],
        bare: list[_Bare],
    ) -> None:
        """Run the automaton once and decide what each whole-word match means."""
        assert self._automaton is not None
        text = folded.text
        size = len(text)
        for last, entry in self._automaton.iter(text):
            start = last - entry.length + 1
            end = last + 1
            if entry.scripted:
                self._scripted(found, text, entry, start, end)
            if start > 0 and text[start - 1].isalnum():
                continue
            if entry.typo_leads:
                typo_leads.append((entry.typo_leads, start, last))
                if not (entry.family or entry.phrases):
                    continue  # "given name + initial": decided later, if at all
            if end < size and text[end].isalnum():
                stop = word_end(text, end)
                ending = text[end:stop]
            else:
                stop, ending = end, ""
            for phrase in entry.phrases:
                if not ending or ending in phrase.suffixes:
                    kinds = combine_kinds(phrase.form.kinds, ("inflection",) if ending else ())
                    self._keep(found, phrase.watch, start, stop, kinds, phrase.form.source)
            if entry.family:
                self._people(folded, found, surnames, bare, entry, start, stop, ending)

    def _scripted(self, found: _Mentions, text: str, entry: _Entry, start: int, end: int) -> None:
        """Keep the CJK or Arabic-script names at folded ``[start, end)`` their guards let pass."""
        for target in entry.scripted:
            accepted = target.guard.accepts(text, start, end)
            if accepted is None:
                continue
            stop, ending = accepted
            kinds = combine_kinds(target.form.kinds, ("inflection",) if ending else ())
            confidence = confidence_of(kinds)
            reason = f"{explain(target.form.source, kinds)}: {target.guard.note}"
            variant = _variant(kinds, target.form.source)
            found.add(target.watch, _Found(start, stop, confidence, reason, variant))

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
        bare: list[_Bare],
        entry: _Entry,
        start: int,
        end: int,
        ending: str,
    ) -> None:
        """Decide what a family form at folded ``[start, end)`` says about the people it may name.

        Looks for a given name, a patronymic and given name, or initials before it, and a
        given name or initials after it (family name first); what is left is the family name
        alone (kept in ``bare``), unless another given name or initial is attached, and may
        count by itself near a context term or, where distinctive, anywhere. A family form
        followed by ұлы/қызы (uly, kyzy) is a father's name: nobody's family name.
        """
        text = folded.text
        family = entry.family
        done: set[int] = set()
        after = _token_after(text, end) if not ending else None  # Kazakh inflects the last word
        if after is not None and is_patronymic_word(text[after[0] : after[1]]):
            return

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
                other_name = self._names_someone(folded, b_start, word)
        if "." in text[max(0, start - 2) : start]:
            match = _INITIALS_BEFORE.search(text, max(0, start - 12), start)
            if match is not None:
                initials(tuple(g for g in match.groups() if g), match.start(1), end)
                other_name = True

        if after is not None:
            a_start, a_end = after
            word = text[a_start:a_end]
            for stem in strip_kazakh_suffix(word):
                name(self._given.get(stem), start, a_end, a_start, "name order")
            later = _token_after(text, a_end)
            if later is not None:
                pair = f"{word} {text[later[0] : later[1]]}"
                name(self._given.get(pair), start, later[1], a_start, "name order")
            if word in self._lexicon and _capitalised(folded, a_start):
                other_name = True
        if not ending and "." in text[end + 2 : end + 5]:
            match = _INITIALS_AFTER.match(text, end, min(len(text), end + 12))
            if match is not None:
                initials(tuple(g for g in match.groups() if g), start, match.end(), "name order")
                other_name = True

        if other_name:
            return
        bare.append((start, end, entry, ending))
        for number in entry.alone:
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
    if folded.aligned:
        return folded.original[start].isupper()
    return folded.original[folded.to_original(start)].isupper()


def _opens_sentence(text: str, start: int) -> bool:
    """Whether the word at ``start`` is the first of a sentence (or of the text)."""
    pos = start - 1
    while pos >= 0 and text[pos] in " «\"'“„(":
        pos -= 1
    return pos < 0 or text[pos] in _SENTENCE_END


def _hit(
    folded: Folded, watch_id: str, found: _Found, mentions: tuple[tuple[int, int], ...] = ()
) -> Hit:
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
        mentions=mentions or ((start, end),),
    )


def snippet(text: str, start: int, end: int, width: int = SNIPPET_WIDTH) -> str:
    """About ``width`` characters of ``text`` around ``[start, end)``, cut between words."""
    room = max(0, width - (end - start))
    left = max(0, start - room // 2)
    right = min(len(text), end + room - (start - left))
    left = max(0, start - (room - (right - end)))
    if left > 0 and not text[left - 1].isspace():
        space = _SPACE.search(text, left, start)
        if space is not None:
            left = space.start() + 1
    if right < len(text) and not text[right].isspace():
        last = _SPACE.search(text[end:right][::-1])
        if last is not None:
            right -= last.start() + 1
    body = " ".join(text[left:right].split())
    return ("…" if left > 0 else "") + body + ("…" if right < len(text) else "")


_SPACE = re.compile(r"\s")


# Stands for a name while the title is searched again; never a word character.
_MASK = "\ue000"


@lru_cache(maxsize=64)
def _name_matcher(watch: Watch) -> Matcher:
    return Matcher.compile([dataclasses.replace(watch, context=(), exclude=())])


def url_names(url: str, watch: Watch) -> bool:
    """True if the URL's path or query names the watch in any form the matcher knows
    (slugs such as ``/serikzhan-bilash-detained-in-almaty`` or ``?q=Серикжан+Бияш``)."""
    if not url or watch.kind == "case":
        return False
    parts = urlsplit(url)
    words = " ".join(_SLUG_BREAKS.split(unquote_plus(f"{parts.path} {parts.query}")))
    return hide_names(words, watch) != words


_SLUG_BREAKS = re.compile(r"[-_/.+=&?%,;:~!*'()]+")


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
