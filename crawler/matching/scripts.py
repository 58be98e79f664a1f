"""Names and terms in scripts whose words Latin/Cyrillic rules do not bound: Han/kana and Arabic.

Two families of scripts need their own idea of "a whole word":

- **CJK** (Chinese, Japanese): no spaces between words, so an alias sits inside an
  unbroken run of characters and matches there. A transcribed foreign name is
  written with a middle dot between its parts (萨依拉古丽·沙吾提巴依), or without
  one, or with a space: each alias gets all three keys. What guards against a
  *longer name that contains the alias* is decided per alias, from its shape
  (:func:`cjk_guard`), and shown in the reason of every hit it makes:

  - a transcribed name (it has a middle dot, or four or more characters) must not
    be one part of a longer dotted name: no middle dot right before or after it
    (阿合买提·沙吾提巴依 is someone else when the alias is 沙吾提巴依);
  - a Chinese name of two or three characters (surname and given name) must not
    go on into a longer name: the next character, if it is a Han character, must be
    one that usually follows a name (说, 表示, 在, 的, 律师...) rather than a
    given-name character (王伟 does not match 王伟东). Names of this length are
    common; a different person with the same surname (王磊) never matches, since
    the whole alias is the key.

- **Arabic script** (Arabic, Persian, Uyghur): words are spaced, but Arabic
  attaches the conjunctions و and ف, the prepositions ب, ك and ل, and the article
  ال to the next word (وبالرصافة, للمحامي), and Uyghur attaches case suffixes
  (ساۋۇتبايغا, ساۋۇتباينىڭ). A name or query term matches with any combination of
  those prefixes before it and its script's suffixes after it, and never inside
  another word: whatever else is attached makes it no match.
  Arabic and Persian names take prefixes and no suffix (a letter after a name
  makes another word: عمر, عمري); Uyghur names take Uyghur suffixes and no prefix;
  query terms take both (for Arabic: pronoun, plural and nisba endings).

Texts and keys are folded first (:mod:`crawler.matching.textnorm`): vowel marks,
tatweel and directional marks gone, letter variants unified, traditional Han
characters read as simplified.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from crawler.matching.textnorm import HAN, fold_key, is_han, word_end

__all__ = [
    "ARABIC",
    "CJK",
    "DOT",
    "Guard",
    "affixed_readings",
    "cjk_guard",
    "script_keys",
    "script_of",
    "undotted",
]

CJK = "cjk"
ARABIC = "arabic"
DOT = "\u00b7"  # the folded middle dot

_ARABIC_LETTER = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
# Letters only Uyghur writes (before folding): its vowels ۇ ۈ ۆ ې ە and ڭ ۋ ھ.
_UYGHUR_LETTERS = frozenset("\u06c7\u06c8\u06c6\u06d0\u06d5\u06ad\u06cb\u06be")

# Han characters that usually follow a name in running text: verbs of saying, particles,
# prepositions, conjunctions, titles and kin. A given name seldom uses them, so a name
# followed by one of them ends there.
_NAME_FOLLOWERS = frozenset(
    "说称表示指认为在是的和与及跟同等被曾也对向于已将则就都还又并之让给告透呼坦承回谈讲写"
    "目今近此因由涉遭女先律教博案夫妻母父所从自早去再拒获仍正不没未要会能可亦即便虽但而或以"
    "把替请得接提出身一二三日月年后前时至"
)

# Arabic: conjunction, then preposition, then article (ل + ال is written لل).
_CONJUNCTIONS = ("", "و", "ف")
_PREPOSITIONS = ("", "ب", "ك", "ل")


def _prefixes(article: bool) -> frozenset[str]:
    found = set()
    for conjunction in _CONJUNCTIONS:
        for preposition in _PREPOSITIONS:
            if not article:
                found.add(conjunction + preposition)
            elif preposition == "ل":
                found.add(conjunction + "لل")
            else:
                found.add(conjunction + preposition + "ال")
    return frozenset(found)


def _folded(words: str) -> frozenset[str]:
    return frozenset(fold_key(word) for word in words.split())


PREFIXES = _prefixes(article=False)  # و ف ب ك ل and combinations (and none)
ARTICLE_PREFIXES = _prefixes(article=True)  # ال with any of them before it, and لل
# Folded suffixes. Arabic: pronouns, dual and plural, nisba; Persian: plural, ezafe/ya.
ARABIC_SUFFIXES = _folded("ه ها هم هما هن ك كم كن نا ي ان ين ون ات ية يه هاي")
# Uyghur case suffixes (genitive, accusative, dative, locative, ablative, the one in),
# the plural and "also", in both vowel harmonies.
UYGHUR_SUFFIXES = _folded(
    "نىڭ نى غا قا گە كە دا تا دە تە دىن تىن دىكى تىكى لار لەر مۇ چە دەك تەك "
    "غىچە قىچە گىچە كىچە نىڭكى"
)
_MAX_PREFIX = max(len(p) for p in ARTICLE_PREFIXES)


def script_of(text: str) -> str | None:
    """CJK if ``text`` has a Han or kana character, Arabic if it has an Arabic-script letter,
    else None (Latin, Cyrillic: the ordinary word rules)."""
    if HAN.search(text) or _KANA.search(text):  # a regex scan: ~20x a loop over characters
        return CJK
    if _ARABIC_LETTER.search(text):
        return ARABIC
    return None


def undotted(folded: str) -> str:
    """Folded text without the middle dots of transcribed names: 萨依拉古丽·沙吾提巴依 as one run
    of characters, however a site wrote it (for the desk's trigram index)."""
    return folded.replace(DOT, "")


def is_uyghur(text: str) -> bool:
    """Whether an Arabic-script text uses letters only Uyghur writes."""
    return any(c in _UYGHUR_LETTERS for c in text)


@dataclass(frozen=True, slots=True)
class Guard:
    """What must hold around a key found in folded text for it to be a mention.

    ``note`` says it in words (it ends a hit's reason).
    """

    script: str
    note: str
    transcribed: bool = False  # CJK: no middle dot joins it to more of a name
    whole_name: bool = False  # CJK: the next Han character must be a name follower
    prefixes: frozenset[str] = frozenset({""})  # Arabic: what may be attached before it
    suffixes: frozenset[str] = frozenset()  # Arabic: what may be attached after it

    def accepts(self, text: str, start: int, end: int) -> tuple[int, str] | None:
        """Where the mention at folded ``[start, end)`` ends (with any suffix) and the suffix;
        None when the text around it says it is part of something else."""
        if self.script == CJK:
            before = text[start - 1] if start > 0 else ""
            after = text[end] if end < len(text) else ""
            if self.transcribed and DOT in (before, after):
                return None
            if self.whole_name and after and is_han(after) and after not in _NAME_FOLLOWERS:
                return None
            if (after.isascii() and after.isalnum()) or (before.isascii() and before.isalnum()):
                return None  # a Latin word or a number glued to it
            return end, ""
        begin = start
        while begin > 0 and text[begin - 1].isalnum() and start - begin <= _MAX_PREFIX:
            begin -= 1
        if text[begin:start] not in self.prefixes:
            return None
        stop = word_end(text, end)
        ending = text[end:stop]
        if ending and ending not in self.suffixes:
            return None
        return stop, ending


def cjk_guard(alias: str) -> Guard:
    """The guard of a CJK alias, from its shape: a transcribed name or a Chinese name."""
    parts = [p for p in re.split(r"[\s·・‧•]+", alias.strip()) if p]
    letters = sum(len(p) for p in parts)
    if len(parts) > 1 or letters >= 4 or _KANA.search(alias):
        return Guard(CJK, "transcribed name, not part of a longer dotted name", transcribed=True)
    return Guard(CJK, "Chinese name, not followed by a given-name character", whole_name=True)


def _arabic_guard(alias: str, article: bool) -> Guard:
    if is_uyghur(alias):
        return Guard(ARABIC, "Uyghur case suffixes", suffixes=UYGHUR_SUFFIXES)
    if article:
        return Guard(ARABIC, "attached prefixes", prefixes=ARTICLE_PREFIXES)
    return Guard(ARABIC, "attached prefixes", prefixes=PREFIXES)


def script_keys(alias: str) -> list[tuple[str, Guard, bool]]:
    """The automaton keys of a CJK or Arabic-script alias: (folded key, guard, respelled).

    CJK: the alias with its parts joined by a middle dot, by nothing and by a space
    (``respelled`` for the two not written). Arabic script: the alias folded, without
    a leading article (then the article must be attached: البشير, بالبشير, للبشير).
    """
    script = script_of(alias)
    key = fold_key(alias)
    if not key:
        return []
    if script == CJK:
        guard = cjk_guard(alias)
        parts = [p for p in re.split(f"[\\s{DOT}]+", key) if p]
        written = " ".join(key.split())
        keys = {written: False}
        for joiner in (DOT, "", " "):
            keys.setdefault(joiner.join(parts), True)
        return [(k, guard, respelled) for k, respelled in keys.items()]
    if script == ARABIC:
        article = key.startswith("ال") and len(key) > 4
        guard = _arabic_guard(alias, article)
        return [(key[2:] if article else key, guard, False)]
    return []


@lru_cache(maxsize=1 << 15)
def affixed_readings(word: str) -> frozenset[str]:
    """Every folded Arabic-script word ``word`` can be with attached prefixes and suffixes cut
    off (itself included); a stem that had the article cut off is given with it too."""
    found = {word}
    size = len(word)
    stems = [word]
    for prefix in PREFIXES | ARTICLE_PREFIXES:
        if prefix and word.startswith(prefix) and size - len(prefix) >= 2:
            stem = word[len(prefix) :]
            stems.append(stem)
            if prefix.endswith(("ال", "لل")):
                stems.append("ال" + stem)
    for stem in stems:
        found.add(stem)
        for suffix in ARABIC_SUFFIXES | UYGHUR_SUFFIXES:
            if stem.endswith(suffix) and len(stem) - len(suffix) >= 2:
                found.add(stem[: -len(suffix)])
    return frozenset(found)
