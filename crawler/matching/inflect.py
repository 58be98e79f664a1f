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

import re
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
    # The genitive's ң as the English-language press spells it: Sauytbaydyng, Kemarovanyng.
    + tuple(s.translate(str.maketrans("ндтаеиы", "ndtaeiy")) + "g" for s in suffixes[:2])
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
    for size in (4, 3, 2):
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


# Patronymics, folded, in every case form: Умаровна, Умаровны, Умаровной (folded ой is ои),
# Кемелевичу, Ильич; Umarovna, Kemelevich; Kazakh Біләшұлы, Омарқызы (also with a case suffix).
_PATRONYMIC = re.compile(
    r"(?:"
    r"[ое]вич(?:а|у|ем|е)?|ич(?:а|у|ем|е)?|[ое]вн(?:а|ы|е|у|ои|ою)|ичн(?:а|ы|е|у|ои|ою)"
    r"|[oe]vich(?:a|u|em|e)?|ich|[oe]vn(?:a|y|e|u|oi|oy|oyu)|ichn(?:a|y|e|u|oi|oy)"
    r"|улы|кызы|uly|uli|ugli|ogly|oglu|kyzy|qyzy|kizi|qizi"
    r")$"
)
PATRONYMIC_WORDS = frozenset(
    ["улы", "кызы", "uly", "uli", "ugli", "ogly", "oglu", "kyzy", "qyzy", "kizi", "qizi"]
)
"""Folded words that make the word before them a patronymic (Умар ұлы, Omar kyzy)."""


@lru_cache(maxsize=65536)
def is_patronymic(word: str) -> bool:
    """Whether a folded word is a patronymic form of some name (never a family name's typo).

    Russian -ович/-овна/-евич/-евна/-ич/-ична in any case, their Latin spellings, and the
    Kazakh -ұлы/-қызы (-uly/-kyzy), with or without a Kazakh case suffix after it.
    """
    if len(word) < 5:
        return False
    return any(_PATRONYMIC.search(stem) for stem in strip_kazakh_suffix(word))


@lru_cache(maxsize=65536)
def is_patronymic_word(word: str) -> bool:
    """Whether a folded word is ұлы/қызы (uly/kyzy) written apart, with any case suffix."""
    return any(stem in PATRONYMIC_WORDS for stem in strip_kazakh_suffix(word))


# Russian nouns and adjectives (not names: petrovich knows those) by their ending, folded:
# what the ending becomes in the oblique cases. Folded й is и, ё is е.
_NOUN_ENDINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ия", ("ии", "ию", "иеи", "иею")),  # Россия: России, Россию, Россией
    ("ая", ("ои", "ую", "ою")),  # Русафская: Русафской
    ("яя", ("еи", "юю", "ею")),
    ("ыи", ("ого", "ому", "ым", "ом")),  # Красный
    ("ои", ("ого", "ому", "ым", "ом", "оя", "ою", "оем", "ое")),  # Толстой; Кой-Кой
    ("ии", ("его", "ему", "им", "ем", "ия", "ию", "ием", "ие", "ии")),  # Зимний; Дмитрий
    ("ое", ("ого", "ому", "ым", "ом")),
    ("ее", ("его", "ему", "им", "ем")),
    ("а", ("ы", "и", "е", "у", "ои", "ою")),  # Русафа: Русафы, Русафе, Русафу, Русафой
    ("я", ("и", "е", "ю", "еи", "ею")),  # Катя: Кати, Кате, Катю, Катей
    ("и", ("я", "ю", "ем", "е")),  # Китай (folded Китаи): Китая, Китаю, Китаем, Китае
    ("ь", ("я", "ю", "ем", "е", "и", "ью")),  # either gender: Кремль, Керчь
)
_SOFT_HUSHING = "гкхжшчщ"  # after these, ы is written и
_INDECLINABLE_END = "оеуыэю"


@lru_cache(maxsize=65536)
def noun_forms(word: str) -> frozenset[str]:
    """The oblique case forms (singular) of a folded Cyrillic noun or adjective, by its ending.

    For query terms: "Русафа" finds «Русафе», «Русафы»; "Казахстан" «Казахстане». Words in
    -о, -е, -у, -ы, -э, -ю do not decline (Алматы, Бишкеке is a consonant stem).
    """
    if len(word) < 3 or not ("\u0400" <= word[-1] <= "\u04ff"):
        return frozenset()
    for ending, oblique in _NOUN_ENDINGS:
        if word.endswith(ending):
            stem = word[: -len(ending)]
            found = {stem + o for o in oblique}
            if ending == "а" and stem[-1:] in _SOFT_HUSHING:
                found.discard(stem + "ы")
            elif ending == "а":
                found.discard(stem + "и")
            return frozenset(found - {word})
    if word[-1] in _INDECLINABLE_END:
        return frozenset()
    # A consonant: masculine second declension (Казахстан: -а, -у, -ом, -е; after ж, ш, ц -ем).
    return frozenset({word + "а", word + "у", word + "ом", word + "ем", word + "е"})


# Kazakh forms a place or a thing takes besides the case suffixes: -дағы "the one in"
# (Русафадағы түрме), folded.
_LOCATIVE_ADJECTIVE = {"да": "дагы", "де": "деги", "та": "тагы", "те": "теги",
                       "da": "dagy", "de": "degi", "ta": "tagy", "te": "tegi"}  # fmt: skip


@lru_cache(maxsize=65536)
def term_suffixes(word: str) -> frozenset[str]:
    """The Kazakh endings a folded query term may take: its case suffixes and -дағы."""
    suffixes = kazakh_suffixes(word)
    return suffixes | {_LOCATIVE_ADJECTIVE[s] for s in suffixes if s in _LOCATIVE_ADJECTIVE}


@lru_cache(maxsize=65536)
def term_forms(word: str) -> frozenset[str]:
    """Every form of a folded query term: itself, Russian case forms, Kazakh suffixed forms."""
    found = {word, *noun_forms(word)}
    found.update(word + suffix for suffix in term_suffixes(word))
    return frozenset(found)
