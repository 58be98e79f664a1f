"""The forms a name takes in a sentence: Russian case forms by gender, Kazakh case suffixes.

Russian declension of given, family and patronymic names comes from petrovich
(its rules cover Kazakh names written in Russian: Айман Умаровой, Серикжану
Билашу, Сайрагуль Сауытбай stays). Kazakh adds a case suffix to the last word
of a name, chosen by the word's last sound (-ның after a vowel, -тың after a
voiceless consonant); both vowel harmonies are allowed because Russian-born
surnames go either way in the press (Тоқаевтың, Біләшті). The suffixes are
returned folded, for Cyrillic and for Kazakh Latin.
"""

from __future__ import annotations

from functools import lru_cache

from petrovich.enums import Case, Gender
from petrovich.main import Petrovich

MALE = Gender.MALE
FEMALE = Gender.FEMALE

_FEMALE_FAMILY = ("ова", "ева", "ёва", "ина", "ына", "ская", "цкая", "ая")
_MALE_FAMILY = ("ов", "ев", "ёв", "ин", "ын", "ский", "цкий")
_FEMALE_PATRONYMIC = ("вна", "чна", "кызы", "қызы")
_MALE_PATRONYMIC = ("вич", "ич", "улы", "ұлы")
_MALE_IN_A = frozenset({"илья", "никита", "кузьма", "фома", "лука", "муса", "иса", "габбас"})

_petrovich: Petrovich | None = None


def _engine() -> Petrovich:
    global _petrovich
    if _petrovich is None:
        _petrovich = Petrovich()
    return _petrovich


def genders(given: str, family: str, patronymic: str = "") -> tuple[str, ...]:
    """The grammatical genders a Cyrillic name may have: one when the endings tell, else both."""
    given, family, patronymic = given.lower(), family.lower(), patronymic.lower()
    if patronymic.endswith(_FEMALE_PATRONYMIC):
        return (FEMALE,)
    if patronymic.endswith(_MALE_PATRONYMIC):
        return (MALE,)
    if family.endswith(_FEMALE_FAMILY):
        return (FEMALE,)
    if family.endswith(_MALE_FAMILY):
        return (MALE,)
    if given.endswith(("а", "я")) and given not in _MALE_IN_A:
        return (FEMALE,)
    return (MALE, FEMALE)


@lru_cache(maxsize=65536)
def russian_forms(word: str, role: str, gender: str) -> frozenset[str]:
    """The five oblique case forms of a Cyrillic name part (lower case, not folded).

    ``role`` is "given", "family" or "patronymic"; the nominative is not included.
    """
    engine = _engine()
    inflect = {
        "given": engine.firstname,
        "family": engine.lastname,
        "patronymic": engine.middlename,
    }[role]
    return frozenset(inflect(word, case, gender).lower() for case in Case.CASES)


# Kazakh case suffixes by the class of the word's last sound, folded (ң→н, ғ→г, қ→к, і→и).
_VOWEL, _NASAL, _SONORANT, _VOICED, _VOICELESS = range(5)
_CYRILLIC_SUFFIXES = {
    _VOWEL: ("нын", "нин", "га", "ге", "ны", "ни", "да", "де", "дан", "ден", "мен"),
    _NASAL: ("нын", "нин", "га", "ге", "ды", "ди", "да", "де", "нан", "нен", "мен"),
    _SONORANT: ("дын", "дин", "га", "ге", "ды", "ди", "да", "де", "дан", "ден", "мен"),
    _VOICED: ("дын", "дин", "га", "ге", "ды", "ди", "да", "де", "дан", "ден", "бен"),
    _VOICELESS: ("тын", "тин", "ка", "ке", "га", "ге", "ты", "ти", "та", "те", "тан", "тен", "пен"),
}
_LATIN_SUFFIXES = {
    sound: tuple(
        s.translate(str.maketrans("нгкдтмбпаеиы", "ngqdtmbpaeiy")).replace("qe", "ke")
        for s in suffixes
    )
    for sound, suffixes in _CYRILLIC_SUFFIXES.items()
}
_CYRILLIC_SOUNDS = {
    **dict.fromkeys("аеёиоуыэюяә", _VOWEL),
    **dict.fromkeys("мнң", _NASAL),
    **dict.fromkeys("лрйу", _SONORANT),
    **dict.fromkeys("жз", _VOICED),
}
_LATIN_SOUNDS = {
    **dict.fromkeys("aeiouy", _VOWEL),
    **dict.fromkeys("mn", _NASAL),
    **dict.fromkeys("lrw", _SONORANT),
    **dict.fromkeys("jz", _VOICED),
}


def _sounds(word: str) -> tuple[int, ...]:
    """The sound classes a folded word may end in (folded и is also й, a sonorant)."""
    last = word[-1:]
    if not last:
        return ()
    if "\u0400" <= last <= "\u04ff":
        if last == "и":
            return (_VOWEL, _SONORANT)
        return (_CYRILLIC_SOUNDS.get(last, _VOICELESS),)
    if last in "iy":
        return (_VOWEL, _SONORANT)
    return (_LATIN_SOUNDS.get(last, _VOICELESS),)


@lru_cache(maxsize=65536)
def kazakh_suffixes(word: str) -> frozenset[str]:
    """The folded Kazakh case suffixes a folded word (Cyrillic or Latin) may take."""
    cyrillic = bool(word) and "\u0400" <= word[-1] <= "\u04ff"
    table = _CYRILLIC_SUFFIXES if cyrillic else _LATIN_SUFFIXES
    found: set[str] = set()
    for sound in _sounds(word):
        found.update(table[sound])
    return frozenset(found)


@lru_cache(maxsize=4096)
def strip_kazakh_suffix(word: str) -> tuple[str, ...]:
    """``word`` without each Kazakh case suffix it could end in (the word itself first)."""
    found = [word]
    for size in (3, 2):
        stem = word[:-size]
        if len(stem) >= 2 and word[-size:] in kazakh_suffixes(stem):
            found.append(stem)
    return tuple(found)


_GENDER_PAIRS = (
    ("ов", "ова"), ("ев", "ева"), ("ин", "ина"), ("ын", "ына"), ("скии", "ская"), ("цкии", "цкая"),
    ("ov", "ova"), ("ev", "eva"), ("in", "ina"), ("yn", "yna"), ("sky", "skaya"),
    ("skiy", "skaya"), ("skii", "skaya"),
)  # fmt: skip


def other_gender(family: str) -> frozenset[str]:
    """The folded family name of the other gender (Umarov for Umarova and back): another person."""
    found = set()
    for male, female in _GENDER_PAIRS:
        if family.endswith(female):
            found.add(family[: -len(female)] + male)
        elif family.endswith(male):
            found.add(family[: -len(male)] + female)
    return frozenset(found)
