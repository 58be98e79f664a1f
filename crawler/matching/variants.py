"""Generate, once per watch, every form the matcher looks for, and record how each form was made.

A person's name and aliases are split into given name, optional patronymic or
middle name, and family name; each part is then spelled in the other script
(:mod:`crawler.matching.translit`), put into its Russian case forms
(:mod:`crawler.matching.inflect`)
and given its hyphen/space spellings. Given and family forms are kept apart:
the matcher finds a family form and looks beside it for a given form, an
initial or a patronymic, in either order. Organisations (and one-word names)
are phrases, spelled in both scripts.

Every form is folded and carries the kinds of variation that made it, which
set its confidence and the reason a hit shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from crawler.config import Watch
from crawler.matching.inflect import genders, russian_forms
from crawler.matching.scripts import Guard, script_keys, script_of
from crawler.matching.textnorm import fold_key
from crawler.matching.translit import is_cyrillic, is_latin, russian_reading, to_cyrillic, to_latin

EXACT = 0.97  # a name or an alias as written
KIND_CONFIDENCE = {
    "spelling": 0.95,  # hyphens and spaces swapped
    "inflection": 0.93,  # a Russian case form or a Kazakh case suffix
    "transliteration": 0.92,  # spelled in the other script or another romanisation
    "patronymic": 0.9,  # a patronymic or middle name between given and family name
    "name order": 0.9,  # family name first
    "initials": 0.8,  # initials for the given name
    "typo": 0.7,  # one slip of the finger in a long family name, next to the given name
    "surname+context": 0.6,  # the family name alone, near a context term
    "surname alone": 0.55,  # a distinctive family name alone (surname_alone = auto/always)
}
KIND_ORDER = tuple(KIND_CONFIDENCE)

_PATRONYMIC = re.compile(
    r"(?:ович|евич|ич|овна|евна|ична|улы|ұлы|кызы|қызы|ovich|evich|ovna|evna|uly|kyzy|qyzy)$"
)
_DIGRAPHS = frozenset({"zh", "sh", "ch", "kh", "ts", "ya", "yu", "ye", "yo", "ia", "iu"})


@dataclass(frozen=True, slots=True)
class Form:
    """One folded form of a name part, where it came from and how it was made."""

    text: str  # folded
    source: str  # "name" or "alias 'Айман Умарова'"
    kinds: tuple[str, ...] = ()  # the variations that made it; () means as written
    steps: int = 0  # script conversions on the way: 2 is there and back (Latin → Cyrillic → Latin)

    @property
    def confidence(self) -> float:
        """How sure a match on this form alone is: the weakest of its variations."""
        return min((KIND_CONFIDENCE[k] for k in self.kinds), default=EXACT)


def combine_kinds(*groups: Iterable[str]) -> tuple[str, ...]:
    """The kinds of several parts together, once each, in a fixed order."""
    return _ordered(frozenset(k for group in groups for k in group))


@lru_cache(maxsize=1024)
def _ordered(kinds: frozenset[str]) -> tuple[str, ...]:
    return tuple(k for k in KIND_ORDER if k in kinds)


def explain(source: str, kinds: Sequence[str]) -> str:
    """A hit's reason: where the form came from, then the kinds of variation, if any."""
    return f"{source} ({', '.join(kinds)})" if kinds else source


def confidence_of(kinds: Iterable[str]) -> float:
    """The confidence of a mention made with these kinds of variation."""
    return min((KIND_CONFIDENCE[k] for k in kinds), default=EXACT)


class _Forms(dict[str, Form]):
    """Folded text → the best way found so far to make it."""

    def add(self, text: str, source: str, kinds: tuple[str, ...] = (), steps: int = 0) -> None:
        key = fold_key(text)
        if not key or not any(c.isalnum() for c in key):
            return
        form = Form(key, source, combine_kinds(kinds), steps)
        old = self.get(key)
        if old is None or _rank(form) > _rank(old):
            self[key] = form


def _rank(form: Form) -> tuple[float, int, int]:
    return form.confidence, -form.steps, -len(form.kinds)


@dataclass(frozen=True)
class PersonForms:
    """The generated given and family forms of one person."""

    given: dict[str, Form] = field(default_factory=dict)
    family: dict[str, Form] = field(default_factory=dict)
    initials: frozenset[tuple[str, ...]] = frozenset()


@dataclass(frozen=True, slots=True)
class _Parts:
    given: str
    patronymic: str
    family: str


def _split(name: str) -> _Parts | None:
    words = name.split()
    if len(words) < 2:
        return None
    if len(words) == 3 and _PATRONYMIC.search(words[1].lower()):
        return _Parts(words[0], words[1], words[2])
    return _Parts(" ".join(words[:-1]), "", words[-1])


def _spellings(text: str) -> Iterator[str]:
    """The same part with hyphens read as spaces or as nothing, and spaces as hyphens."""
    if "-" in text:
        yield text.replace("-", " ")
        yield text.replace("-", "")
    if " " in text:
        yield text.replace(" ", "-")


def _sources(watch: Watch, scripts: bool = False) -> list[tuple[str, str]]:
    """The watch's name and aliases with where each came from: those in Latin or Cyrillic,
    or (``scripts``) those in CJK or Arabic script (:mod:`crawler.matching.scripts`)."""
    named = [(" ".join(watch.name.split()), "name")] if watch.name.strip() else []
    for alias in watch.aliases:
        if alias.strip():
            named.append((" ".join(alias.split()), f"alias {alias!r}"))
    return [(text, source) for text, source in named if (script_of(text) is not None) == scripts]


def script_forms(watch: Watch) -> list[tuple[Form, Guard]]:
    """Every key of the watch's CJK and Arabic-script names, each with the guard it needs."""
    found: list[tuple[Form, Guard]] = []
    for text, source in _sources(watch, scripts=True):
        for key, guard, respelled in script_keys(text):
            found.append((Form(key, source, ("spelling",) if respelled else ()), guard))
    return found


def _cyrillic_spellings(parts: _Parts) -> list[tuple[_Parts, tuple[str, ...]]]:
    """The name in Cyrillic (lower case), with its kinds."""
    if is_cyrillic(parts.given + parts.family):
        return [(_Parts(*(p.lower() for p in _astuple(parts))), ())]
    found: list[tuple[_Parts, tuple[str, ...]]] = []
    for given in sorted(to_cyrillic(parts.given)):
        for family in sorted(to_cyrillic(parts.family)):
            patronymic = min(to_cyrillic(parts.patronymic), default="")
            found.append((_Parts(given, patronymic, family), ("transliteration",)))
    return found


def _astuple(parts: _Parts) -> tuple[str, str, str]:
    return parts.given, parts.patronymic, parts.family


def person_forms(watch: Watch) -> PersonForms | None:
    """Every given and family form of a person, or None when the name is one word."""
    given = _Forms()
    family = _Forms()
    for text, source in _sources(watch):
        parts = _split(text)
        if parts is None:
            continue
        given.add(parts.given, source)
        family.add(parts.family, source)
        if " " in parts.given:
            given.add(parts.given.split()[0], source, ("patronymic",))
        for spelling in _spellings(parts.given):
            given.add(spelling, source, ("spelling",))
        for spelling in _spellings(parts.family):
            family.add(spelling, source, ("spelling",))
        for cyrillic, kinds in _cyrillic_spellings(parts):
            steps = len(kinds)
            given.add(cyrillic.given, source, kinds, steps)
            family.add(cyrillic.family, source, kinds, steps)
            translit = (*kinds, "transliteration")
            for latin in to_latin(cyrillic.given):
                given.add(latin, source, translit, steps + 1)
                for spelling in _spellings(latin):
                    given.add(spelling, source, (*translit, "spelling"), steps + 1)
            for latin in to_latin(cyrillic.family):
                family.add(latin, source, translit, steps + 1)
            inflected = (*kinds, "inflection")
            russian = _Parts(*(russian_reading(p) for p in _astuple(cyrillic)))
            for gender in genders(russian.given, russian.family, russian.patronymic):
                for form in russian_forms(russian.given, "given", gender):
                    given.add(form, source, inflected, steps)
                    for spelling in _spellings(form):
                        given.add(spelling, source, (*inflected, "spelling"), steps)
                for form in russian_forms(russian.family, "family", gender):
                    family.add(form, source, inflected, steps)
    if not family:
        return None
    return PersonForms(dict(given), dict(family), _initials(given.values()))


def _initials(forms: Iterable[Form]) -> frozenset[tuple[str, ...]]:
    """The initials a given name is abbreviated to, per script: ("к", "ж"), ("k", "zh"), ("k",)."""
    found: set[tuple[str, ...]] = set()
    for form in forms:
        if "inflection" in form.kinds or "patronymic" in form.kinds:
            continue
        parts = [p for p in re.split(r"[-\s]+", form.text) if p]
        if not parts:
            continue
        letters = [(p[0],) + ((p[:2],) if p[:2] in _DIGRAPHS else ()) for p in parts]
        combos: list[tuple[str, ...]] = [()]
        for options in letters:
            combos = [(*c, o) for c in combos for o in options]
        found.update(combos)
        found.update(c[:1] for c in combos)
    return frozenset(found)


def phrase_forms(watch: Watch) -> dict[str, Form]:
    """Every form of an organisation's (or a one-word) name: as written, respelled, other script."""
    forms = _Forms()
    for text, source in _sources(watch):
        forms.add(text, source)
        for spelling in _spellings(text):
            forms.add(spelling, source, ("spelling",))
        if is_cyrillic(text):
            cyrillic = [russian_reading(text).lower()]
        elif is_latin(text):
            cyrillic = sorted(to_cyrillic(text))
            for form in cyrillic:
                forms.add(form, source, ("transliteration",), 1)
        else:
            cyrillic = []
        for form in cyrillic:
            for latin in to_latin(form):
                forms.add(latin, source, ("transliteration",), 1 + is_latin(text))
    return dict(forms)


@dataclass(frozen=True, slots=True)
class Variant:
    """One generated form, for listing: which part of the name it stands for."""

    watch_id: str
    part: str  # "given", "family" or "phrase"
    form: Form


def variants(watch: Watch) -> list[Variant]:
    """Every form generated for ``watch`` (none for a case), best first."""
    if watch.kind == "case":
        return []
    person = person_forms(watch) if watch.kind == "person" else None
    listed = [Variant(watch.id, "phrase", form) for form, _ in script_forms(watch)]
    if person is None:
        listed += [Variant(watch.id, "phrase", f) for f in phrase_forms(watch).values()]
    else:
        listed += [Variant(watch.id, "given", f) for f in person.given.values()]
        listed += [Variant(watch.id, "family", f) for f in person.family.values()]
    return sorted(listed, key=lambda v: (-v.form.confidence, v.part, v.form.text))
