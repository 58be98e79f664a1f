"""Search keys of words, the same across scripts and case forms: Kemarova = Кемаровой.

The review desk's search index (``articles_search``, FTS5) holds these keys
instead of the words, and a search looks its words up by the same keys, so an
editor who types "Kemarova" finds «Кемарова», «Кемаровой» and "Kemarovanyng",
ranked by FTS5's bm25. A key is made with the matcher's own pieces:

1. the word folded as the matcher folds text (:mod:`crawler.matching.textnorm`);
2. a Kazakh case suffix the word's last sound takes, then a Russian case ending,
   cut off (:func:`crawler.matching.inflect.strip_kazakh_suffix`; the endings of
   :mod:`crawler.matching.inflect`), leaving at least four letters;
3. a Cyrillic word spelled in Latin by the first of the matcher's romanisations
   (:data:`crawler.matching.translit.RUSSIAN_SCHEMAS`, Kazakh letters read as Russian);
4. the spellings the romanisations disagree on made one (kh/h, zh/j, y/i, ng/n,
   doubled letters, the y of "Tokayev"), so Tokaev and Tokayev meet too.
"""

from __future__ import annotations

import re
from functools import lru_cache

from crawler.matching.inflect import strip_kazakh_suffix
from crawler.matching.textnorm import Folded, fold, tokenize
from crawler.matching.translit import RUSSIAN_SCHEMAS, is_cyrillic, russian_reading

__all__ = ["fts_query", "search_key", "search_keys", "search_words"]

MIN_STEM = 4
_CYRILLIC_ENDINGS = (
    "ою", "ои", "ую", "ым", "ом", "ем", "еи", "а", "я", "у", "ю", "е", "ы", "и", "ь",
)  # fmt: skip
_LATIN_ENDINGS = ("oyu", "oy", "oi", "yu", "ym", "om", "a", "u", "e", "y")
_SKELETON = (
    ("shch", "sc"), ("sch", "sc"), ("ch", "c"), ("sh", "s"), ("zh", "j"), ("kh", "h"),
    ("ts", "c"), ("ng", "n"), ("q", "k"), ("w", "v"), ("x", "ks"), ("y", "i"), ("'", ""),
)  # fmt: skip
_DOUBLE = re.compile(r"([a-z])\1+")
_GLIDE = re.compile(r"(?<=[aeiou])i(?=[aeiou])")  # Tokayev/Tokaev: the i between vowels


def _stems(word: str) -> list[str]:
    """``word`` without each Kazakh case suffix it may end in, then without a Russian ending.

    A word may read several ways ("Kazakhstan" could be "Kazakhs" + -tan): each reading
    is kept, and a search matches when any of a word's readings meets any of another's.
    """
    found = []
    for stem in strip_kazakh_suffix(word):
        if len(stem) < MIN_STEM:
            continue
        endings = _CYRILLIC_ENDINGS if is_cyrillic(stem) else _LATIN_ENDINGS
        for ending in endings:
            if stem.endswith(ending) and len(stem) - len(ending) >= MIN_STEM:
                stem = stem[: -len(ending)]
                break
        found.append(stem)
    return found or [word]


def _latin_skeleton(stem: str) -> str:
    if is_cyrillic(stem):
        stem = str(RUSSIAN_SCHEMAS[0].translate(russian_reading(stem))).lower()
    for spelling, skeleton in _SKELETON:
        stem = stem.replace(spelling, skeleton)
    return _GLIDE.sub("", _DOUBLE.sub(r"\1", stem))


@lru_cache(maxsize=1 << 16)
def search_key(word: str) -> tuple[str, ...]:
    """The search keys of one folded word (letters or digits): one per way to read it."""
    if word.isdigit():
        return (word,)
    return tuple(dict.fromkeys(_latin_skeleton(stem) for stem in _stems(word)))


def search_keys(text: str | Folded) -> list[tuple[str, ...]]:
    """The search keys of every word of a text, in order."""
    return [search_key(word) for word in tokenize(text).words]


def search_words(*texts: str) -> str:
    """What the search index stores for an article: every key of its texts' words."""
    return " ".join(
        key for text in texts if text for keys in search_keys(fold(text)) for key in keys
    )


def fts_query(text: str) -> str:
    """A search for ``text``'s words by their keys, as an FTS5 query: every word, any reading."""
    groups = []
    for keys in search_keys(text):
        alternatives = " OR ".join(f'"{key}"' for key in keys)
        groups.append(f"({alternatives})" if len(keys) > 1 else alternatives)
    return " AND ".join(groups)
