"""Spell a name in the other script: Cyrillic (Russian, Kazakh) to the press's Latin, and back.

Russian romanisations come from iuliia's schemas (Wikipedia/BGN-PCGN "Tokayev",
passport ICAO "Tokaev", ISO 9, French-style "Oumarova", scientific, the informal
one of messengers). Kazakh has its own tables: the 2021 official Latin alphabet
("Qasym-Jomart Toqaev", "Serıkjan Bıläş") and the English-language press style
("Qasym-Zhomart", "Serikzhan"); Kazakh letters also go through the Russian
schemas after reading them as Russian letters ("Serikzhan Bilash").

Latin back to Cyrillic is ambiguous, so :func:`to_cyrillic` returns a few
lower-case candidates. :func:`to_latin` returns folded spellings
(:func:`crawler.matching.textnorm.fold_key`).
"""

from __future__ import annotations

import re
from functools import lru_cache

import iuliia

from crawler.matching.textnorm import fold_key

# The Russian schemas whose spellings news sites actually print.
RUSSIAN_SCHEMAS = (
    iuliia.WIKIPEDIA,  # Yuliya, Tokayev, Sayragul
    iuliia.BGN_PCGN,
    iuliia.ICAO_DOC_9303,  # passports: Iuliia, Tokaev, Sairagul
    iuliia.GOST_779,  # ISO 9: Ûliâ, Ŝerbakova
    iuliia.MVD_310_FR,  # French style: Oumarova, Aiguerim
    iuliia.SCIENTIFIC,  # Julija, Ščerbakova
    iuliia.TELEGRAM,  # informal: Hasanov, Coi
)

_KAZAKH_LETTERS = frozenset("әғқңөұүһі")
_RUSSIAN_READING = str.maketrans("әғқңөұүһіӘҒҚҢӨҰҮҺІ", "агкноуухиАГКНОУУХИ")


def russian_reading(text: str) -> str:
    """Kazakh letters read as the Russian ones the press puts for them (Біләш → Билаш)."""
    return text.translate(_RUSSIAN_READING)


# Kazakh Cyrillic to Latin, one table per system; letters not listed go through as they are.
_KAZAKH_2021 = {
    "а": "a", "ә": "ä", "б": "b", "в": "v", "г": "g", "ғ": "ğ", "д": "d", "е": "e",
    "ё": "io", "ж": "j", "з": "z", "и": "i", "й": "i", "к": "k", "қ": "q", "л": "l",
    "м": "m", "н": "n", "ң": "ñ", "о": "o", "ө": "ö", "п": "p", "р": "r", "с": "s",
    "т": "t", "у": "u", "ұ": "ū", "ү": "ü", "ф": "f", "х": "h", "һ": "h", "ц": "ts",
    "ч": "ç", "ш": "ş", "щ": "şş", "ъ": "", "ы": "y", "і": "ı", "ь": "", "э": "e",
    "ю": "iu", "я": "ia",
}  # fmt: skip
_KAZAKH_PRESS = {
    **_KAZAKH_2021,
    "ә": "a", "ғ": "gh", "ж": "zh", "ң": "ng", "ө": "o", "ұ": "u", "ү": "u", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "і": "i", "й": "y", "х": "kh", "ю": "yu",
    "я": "ya",
}  # fmt: skip
_KAZAKH_SYSTEMS = (_KAZAKH_2021, _KAZAKH_PRESS)
_BACK_K = re.compile("к(?=[аоуы])|(?<=[аоуы])к(?![еиіәөүэ])")

_MARKS = str.maketrans("", "", "'ʹʺ’ʼ\u0361·")  # soft signs and ligature ties the press drops
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_LATIN = re.compile("[a-zA-Z]")


def is_cyrillic(text: str) -> bool:
    """Whether ``text`` has any Cyrillic letter."""
    return _CYRILLIC.search(text) is not None


def is_latin(text: str) -> bool:
    """Whether ``text`` has any basic Latin letter."""
    return _LATIN.search(text) is not None


@lru_cache(maxsize=65536)
def to_latin(text: str) -> frozenset[str]:
    """The folded Latin spellings of a Cyrillic name or word, Russian and Kazakh systems."""
    lower = text.lower()
    russian = russian_reading(lower)
    found = {fold_key(schema.translate(russian).translate(_MARKS)) for schema in RUSSIAN_SCHEMAS}
    # A Kazakh name typed in Russian spelling is still written in Kazakh Latin
    # (Токаев → Toqaev): native к next to a back vowel is қ.
    kazakh = lower if _KAZAKH_LETTERS.intersection(lower) else _BACK_K.sub("қ", lower)
    for table in _KAZAKH_SYSTEMS:
        found.add(fold_key("".join(table.get(c, c) for c in kazakh).translate(_MARKS)))
    found.discard("")
    return frozenset(found)


# Latin (folded) back to Cyrillic (folded): longest spelling first, each with its readings.
_VOWELS = frozenset("aeiouy")
_FROM_LATIN: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("shch", ("щ",)), ("sch", ("щ", "ш")), ("zh", ("ж",)), ("kh", ("х",)), ("gh", ("г",)),
    ("ts", ("ц", "тс")), ("ch", ("ч",)), ("sh", ("ш",)), ("yu", ("ю",)), ("iu", ("ю", "иу")),
    ("ju", ("ю", "жу")), ("ya", ("я",)), ("ia", ("я", "иа")), ("ja", ("я", "жа")),
    ("yo", ("ё",)), ("ye", ("е",)), ("ou", ("у", "оу")), ("ss", ("с", "сс")), ("a", ("а",)),
    ("b", ("б",)), ("c", ("ц", "к")), ("d", ("д",)), ("e", ("е", "э")), ("f", ("ф",)),
    ("g", ("г",)), ("h", ("х",)), ("i", ("и",)), ("j", ("ж", "й")), ("k", ("к",)),
    ("l", ("л", "ль")), ("m", ("м",)), ("n", ("н",)), ("o", ("о",)), ("p", ("п",)),
    ("q", ("к",)), ("r", ("р",)), ("s", ("с",)), ("t", ("т",)), ("u", ("у",)), ("v", ("в",)),
    ("w", ("в",)), ("x", ("кс",)), ("y", ("ы", "й")), ("z", ("з",)),
)  # fmt: skip
_MAX_READINGS = 8


def _readings(latin: str, pos: int) -> tuple[str, ...]:
    """Which Cyrillic spellings the Latin letters starting at ``pos`` may stand for."""
    for spelling, readings in _FROM_LATIN:
        if not latin.startswith(spelling, pos):
            continue
        before = latin[pos - 1] if pos > 0 else ""
        after = latin[pos + len(spelling)] if pos + len(spelling) < len(latin) else ""
        if spelling == "y":
            # y after a consonant is ы; after a vowel й, but after u before a consonant also ы.
            if before and before not in _VOWELS:
                return ("ы",)
            if not after or after in _VOWELS or before != "u":
                return ("й",)  # Сайрагуль, but Сауытбай
        if spelling == "e" and before:
            return ("е",)  # э only opens a word
        if spelling == "l" and after in _VOWELS:
            return ("л",)  # a soft sign stands before a consonant or at the end
        return readings
    return ("",)  # anything else (digits, marks) is left out


@lru_cache(maxsize=65536)
def _word_to_cyrillic(word: str) -> tuple[str, ...]:
    results = [""]
    pos = 0
    while pos < len(word):
        spelling = next((s for s, _ in _FROM_LATIN if word.startswith(s, pos)), word[pos])
        readings = _readings(word, pos)
        results = [r + reading for r in results for reading in readings][:_MAX_READINGS]
        pos += len(spelling)
    return tuple(results)


# Kazakh 2021 Latin letters that folding would merge with plain ones (ş with s).
_KAZAKH_LATIN = str.maketrans({"ş": "sh", "Ş": "sh", "ç": "ch", "Ç": "ch", "ı": "i", "I": "i"})


@lru_cache(maxsize=65536)
def to_cyrillic(text: str) -> frozenset[str]:
    """Lower-case Cyrillic candidates for a Latin name or word (at most a few per word)."""
    key = fold_key(text.translate(_KAZAKH_LATIN))
    if not is_latin(key):
        return frozenset()
    parts = re.split(r"([^a-z]+)", key)
    results = [""]
    for part in parts:
        options = _word_to_cyrillic(part) if part and part[0].isalpha() else (part,)
        results = [r + o for r in results for o in options][: _MAX_READINGS * 2]
    return frozenset(r for r in results if r)
