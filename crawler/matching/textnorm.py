"""Fold text for matching (case, diacritics, script variants, homoglyphs) and split it into words.

Folding is what makes spellings equal before any variant is generated: case,
combining accents and stress marks, Turkish-style İ/ı, Kazakh letters read as
their Russian counterparts (Біләш = Билаш, Тоқаев = Токаев), and look-alike
letters of the other script inside a word (a Cyrillic "а" in "Umаrova").
Arabic script (Arabic, Persian, Uyghur) folds too: vowel marks (harakat) and
directional marks drop out, tatweel goes, alef and hamza forms are one alef (or
their carrier letter), alef maqsura is ya, taa marbuta is ha, and Persian kaf and
ya are the Arabic ones. Traditional Han characters read as simplified (OpenCC's
character table), and the middle dots of transcribed names (·, ・, ‧, •) are one.
Every step keeps a way back to the original text's positions.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

# Applied to each character before and after Unicode decomposition: letters that
# do not decompose but are read as a plain Latin letter, and punctuation that
# sites spell in several ways.
_SPECIAL = str.maketrans(
    {
        "ı": "i",  # Turkish/Kazakh Latin dotless i
        # Kazakh Cyrillic letters as Russian spelling writes them: one Cyrillic
        # form per name, whichever alphabet an outlet uses.
        "ә": "а",
        "ғ": "г",
        "қ": "к",
        "ң": "н",
        "ө": "о",
        "ұ": "у",
        "ү": "у",
        "һ": "х",
        "і": "и",
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "ħ": "h",
        "æ": "ae",
        "œ": "oe",
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "ʻ": "'",
        "`": "'",
        "´": "'",  # NFKD would turn it into a space and an accent
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "–": "-",
        "—": "-",
        "―": "-",
        "−": "-",
        # Arabic script: one letter per sound, whichever regional form a site types.
        "\u0640": "",  # tatweel (kashida), a stretch of the line
        "\u0671": "\u0627",  # alef wasla
        "\u0649": "\u064a",  # alef maqsura
        "\u06cc": "\u064a",  # Persian ya
        "\u06a9": "\u0643",  # Persian kaf (keheh)
        "\u06aa": "\u0643",  # swash kaf
        "\u0629": "\u0647",  # taa marbuta
        "\u06d5": "\u0647",  # ae (what ۀ decomposes to; Uyghur's e, where ha is written ھ)
        # The middle dot between the parts of a transcribed name (CJK).
        "\u30fb": "\u00b7",
        "\u2027": "\u00b7",
        "\u2022": "\u00b7",
        "\u2219": "\u00b7",
        "\u22c5": "\u00b7",
    }
)
_DROPPED_CATEGORIES = frozenset({"Mn", "Me", "Cf"})  # combining marks, soft hyphen, ZWSP, BOM


def fold_char(char: str) -> str:
    """The folded form of one character: "" when it is dropped, several when it expands."""
    if char.isspace():
        return " "
    text = unicodedata.normalize("NFKD", char.translate(_SPECIAL)).casefold()
    text = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in text if unicodedata.category(c) not in _DROPPED_CATEGORIES)
    if kept.isspace():
        return " "
    kept = kept.translate(_SPECIAL)
    return simplified(kept) if len(kept) == 1 and is_han(kept) else kept


# Han ideographs: CJK unified, extension A, extensions B-G, compatibility forms.
HAN = re.compile("[\u4e00-\u9fff\u3400-\u4dbf\U00020000-\U0003134f\uf900-\ufaff]")


def is_han(char: str) -> bool:
    """Whether ``char`` is a Han ideograph (CJK unified, its extensions, compatibility forms)."""
    return HAN.fullmatch(char) is not None


@lru_cache(maxsize=1)
def _t2s() -> Any:
    from opencc import OpenCC  # pure Python, with OpenCC's own dictionaries

    return OpenCC("t2s")


def simplified(char: str) -> str:
    """The simplified form of a traditional Han character (itself when it has none)."""
    found = str(_t2s().convert(char))
    return found if len(found) == 1 else char


class _FoldTable:
    """Per-character fold results, filled lazily for the characters actually seen.

    ``str.translate`` does the folding in C; only characters whose fold is not
    exactly one character ("irregular": dropped marks, 'ß', ligatures)
    need offset bookkeeping, and a regex finds those.
    """

    def __init__(self) -> None:
        self.table: dict[int, str] = {}
        self.irregular: dict[str, str] = {}
        self.irregular_re: re.Pattern[str] | None = None
        # Finds a character not in the table yet: a scan in C instead of a set of the text.
        self.unknown_re = re.compile("[^\x00-\x00]")
        self.lock = threading.Lock()

    def learn(self, text: str) -> None:
        """Make sure every character of ``text`` has its fold in the table."""
        if self.unknown_re.search(text) is None:
            return
        with self.lock:
            new = {c: fold_char(c) for c in set(text) if ord(c) not in self.table}
            irregular = {c: f for c, f in new.items() if len(f) != 1}
            if irregular:
                self.irregular.update(irregular)
                chars = "".join(sorted(self.irregular))
                self.irregular_re = re.compile("[" + re.escape(chars) + "]")
            # Last, so a character found in the table is already in irregular_re.
            self.table.update({ord(c): f for c, f in new.items()})
            known = "".join(sorted(chr(c) for c in self.table))
            self.unknown_re = re.compile("[^" + re.escape(known) + "]")


_TABLE = _FoldTable()
_SPACE_RUN = re.compile(" {2,}")
_WORD = re.compile(r"[^\W_]+")

# Folded letters that look alike in Latin and Cyrillic (lower or upper case).
_CYRILLIC_LOOKALIKES = "авекмнорстухиј"
_LATIN_LOOKALIKES = "abekmhopctyxij"
_TO_LATIN = str.maketrans(_CYRILLIC_LOOKALIKES, _LATIN_LOOKALIKES)
_TO_CYRILLIC = str.maketrans(_LATIN_LOOKALIKES, _CYRILLIC_LOOKALIKES)
_LATIN = re.compile("[a-z]")
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_SCRIPT_SEAM = re.compile("[a-z][\u0400-\u04ff]|[\u0400-\u04ff][a-z]")
_WORD_REST = re.compile(r"[^\W_]*")


def word_end(text: str, pos: int) -> int:
    """Where the word going on at ``pos`` ends (``pos`` itself if no letter or digit is there)."""
    match = _WORD_REST.match(text, pos)
    return match.end() if match is not None else pos


def _unmix_scripts(text: str) -> str:
    """``text`` with the look-alike letters of a word's minority script read in its majority script.

    A word is rewritten only when every letter of the minority script has a
    look-alike; "iphoneдаги" stays as it is. One letter for one, so positions hold.
    """
    if _LATIN.search(text) is None or _CYRILLIC.search(text) is None:
        return text  # one script only: two quick scans instead of the slower seam search
    seam = _SCRIPT_SEAM.search(text)
    if seam is None:
        return text
    pieces: list[str] = []
    done = 0
    while seam is not None:
        start = seam.start()
        while start > 0 and text[start - 1].isalpha():
            start -= 1
        end = word_end(text, seam.start())
        word = text[start:end]
        latin = len(_LATIN.findall(word))
        cyrillic = len(_CYRILLIC.findall(word))
        if latin > cyrillic:
            fixed = word.translate(_TO_LATIN)
            if _CYRILLIC.search(fixed):
                fixed = word
        elif cyrillic > latin:
            fixed = word.translate(_TO_CYRILLIC)
            if _LATIN.search(fixed):
                fixed = word
        else:
            fixed = word
        if fixed is not word:
            pieces.append(text[done:start])
            pieces.append(fixed)
            done = end
        seam = _SCRIPT_SEAM.search(text, end)
    pieces.append(text[done:])
    return "".join(pieces)


@dataclass(frozen=True, slots=True)
class _OffsetMap:
    """A piecewise map from positions in one string to positions in another.

    Between breakpoints the map advances one for one; a breakpoint says "from
    this position on, position p maps to q + (p - this position)".
    """

    at: list[int] = field(default_factory=list)
    to: list[int] = field(default_factory=list)

    def __call__(self, pos: int) -> int:
        if not self.at:  # most texts: nothing dropped or expanded, no runs of spaces
            return pos
        index = bisect_right(self.at, pos) - 1
        if index < 0:
            return pos
        return self.to[index] + (pos - self.at[index])


@dataclass(frozen=True, slots=True)
class Folded:
    """A folded text and the way back from its positions to the original's."""

    original: str
    text: str
    _chars: _OffsetMap  # folded-per-character positions -> original positions
    _spaces: _OffsetMap  # folded positions -> folded-per-character positions
    # Nothing dropped, expanded or squeezed: a folded position is the original one.
    aligned: bool = False

    def to_original(self, pos: int) -> int:
        """The original position of the character at folded position ``pos``."""
        if self.aligned:
            return pos
        return self._chars(self._spaces(pos))

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of folded ``[start, end)``, with any dropped marks that follow."""
        if end <= start:
            first = self.to_original(start)
            return first, first
        last = self.to_original(end - 1)
        return self.to_original(start), max(self.to_original(end), last + 1)


def fold(text: str) -> Folded:
    """Fold ``text`` for matching: NFKD without marks, casefolded, one space per whitespace run."""
    _TABLE.learn(text)
    chars = _OffsetMap()
    pattern = _TABLE.irregular_re
    if pattern is not None and pattern.search(text):
        delta = 0  # folded position minus original position so far
        for match in pattern.finditer(text):
            pos = match.start()
            out = len(_TABLE.irregular[match.group()])
            here = pos + delta
            for extra in range(1, out):
                chars.at.append(here + extra)
                chars.to.append(pos)
            chars.at.append(here + out)
            chars.to.append(pos + 1)
            delta += out - 1
    per_char = text.translate(_TABLE.table)

    spaces = _OffsetMap()
    if "  " in per_char:
        pieces: list[str] = []
        last = 0
        removed = 0
        for match in _SPACE_RUN.finditer(per_char):
            start, end = match.span()
            pieces.append(per_char[last : start + 1])
            removed += end - start - 1
            spaces.at.append(end - removed)
            spaces.to.append(end)
            last = end
        pieces.append(per_char[last:])
        folded = "".join(pieces)
    else:
        folded = per_char
    aligned = not chars.at and not spaces.at
    return Folded(text, _unmix_scripts(folded), chars, spaces, aligned)


@lru_cache(maxsize=1 << 17)
def fold_key(text: str) -> str:
    """The folded form of a name or term as a search key, trimmed of outer spaces."""
    return fold(text).text.strip()


class Tokens:
    """The words of a folded text, in order, with their folded character spans.

    Word lookups (exact and by prefix) build their index on first use, so a text
    is indexed once however many queries run over it.
    """

    __slots__ = ("_index", "_sorted", "ends", "folded", "starts", "words")

    def __init__(self, folded: Folded) -> None:
        self.folded = folded
        spans = [m.span() for m in _WORD.finditer(folded.text)]
        self.starts = [s for s, _ in spans]
        self.ends = [e for _, e in spans]
        text = folded.text
        self.words = [text[s:e] for s, e in spans]
        self._index: dict[str, list[int]] | None = None
        self._sorted: list[str] | None = None

    def __len__(self) -> int:
        return len(self.words)

    def _word_index(self) -> dict[str, list[int]]:
        if self._index is None:
            index: dict[str, list[int]] = {}
            for position, word in enumerate(self.words):
                index.setdefault(word, []).append(position)
            self._index = index
        return self._index

    def positions(self, word: str) -> list[int]:
        """Token positions holding exactly ``word`` (folded)."""
        return self._word_index().get(word, [])

    def prefix_positions(self, prefix: str) -> list[int]:
        """Token positions whose word starts with ``prefix`` (folded), ascending."""
        index = self._word_index()
        if self._sorted is None:
            self._sorted = sorted(index)
        found: list[int] = []
        words = self._sorted
        for i in range(bisect_left(words, prefix), len(words)):
            if not words[i].startswith(prefix):
                break
            found.extend(index[words[i]])
        found.sort()
        return found

    def positions_where(self, test: Callable[[str], bool], part: str) -> list[int]:
        """Token positions whose word contains ``part`` and passes ``test``, ascending."""
        index = self._word_index()
        found = [p for word in index if part in word and test(word) for p in index[word]]
        found.sort()
        return found

    def token_at(self, pos: int) -> int:
        """The position of the token containing folded position ``pos``, or the one before it."""
        return bisect_right(self.starts, pos) - 1

    def span(self, first: int, stop: int) -> tuple[int, int]:
        """The original character span of tokens ``[first, stop)``."""
        return self.folded.span(self.starts[first], self.ends[stop - 1])


def words_between(a: tuple[int, int], b: tuple[int, int]) -> int | None:
    """Words between two token spans ``[first, stop)``, either order; None if they overlap."""
    if b[0] >= a[1]:
        return b[0] - a[1]
    if a[0] >= b[1]:
        return a[0] - b[1]
    return None


def tokenize(text: str | Folded) -> Tokens:
    """Split a text (folding it first if given a plain string) into words."""
    return Tokens(fold(text) if isinstance(text, str) else text)


def is_word_char(char: str) -> bool:
    """Whether ``char`` (folded) is part of a word: a letter or digit in any script."""
    return char.isalnum()
