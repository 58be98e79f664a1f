"""Tell a typo of a watched family name from a different name: a one-edit index with guardrails.

Every family form of every watch goes into a deletion index (the form and each
of its one-letter deletions, as in SymSpell), so the watches with a form one
edit away from a word are found with a handful of dictionary look-ups. A word
counts as a typo of a form only when the edit is one a finger makes: a letter
added or dropped, two neighbours swapped, or a letter replaced by its neighbour
on the keyboard (QWERTY or ЙЦУКЕН), never one vowel for another: Umirova is not
Umarova, it is another family name.
"""

from __future__ import annotations

MIN_LETTERS = 7  # only long words: in short ones one edit makes another name
_VOWELS = frozenset("aeiouyаеиоуыэюяё")
_ROWS = (
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "ицукенгшщзхъ",  # ЙЦУКЕН, folded (й is и)
    "фывапролджэ",
    "ячсмитьбю",
)


def _neighbours() -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for index, row in enumerate(_ROWS):
        block = index // 3 * 3
        for col, char in enumerate(row):
            near = found.setdefault(char, set())
            near.update(row[max(0, col - 1) : col + 2])
            for other in (index - 1, index + 1):
                if block <= other < block + 3:
                    near.update(_ROWS[other][max(0, col - 1) : col + 2])
            near.discard(char)
    return {c: frozenset(n) for c, n in found.items()}


_NEIGHBOURS = _neighbours()


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _edit(word: str, form: str) -> tuple[str, str] | None:
    """The one edit that turns ``form`` into ``word``: ("", "") none, ("+", "") a letter added
    or dropped, ("<>", "") two neighbours swapped, (typed, meant) a letter replaced; None if more.
    """
    if word == form:
        return "", ""
    size, other = len(word), len(form)
    if abs(size - other) > 1:
        return None
    if size != other:
        longer, shorter = (word, form) if size > other else (form, word)
        return ("+", "") if shorter in _deletions(longer) else None
    diff = [i for i in range(size) if word[i] != form[i]]
    if len(diff) == 2:
        i, j = diff
        swapped = j == i + 1 and word[i] == form[j] and word[j] == form[i]
        return ("<>", "") if swapped else None
    if len(diff) != 1:
        return None
    return word[diff[0]], form[diff[0]]


def is_typo(word: str, form: str) -> bool:
    """Whether ``word`` is ``form`` with one slip of the finger (see the module docstring)."""
    edit = _edit(word, form)
    if edit is None or edit == ("", ""):
        return False
    typed, meant = edit
    if typed in ("+", "<>"):
        return True
    if typed in _VOWELS and meant in _VOWELS:
        return False
    return typed in _NEIGHBOURS.get(meant, frozenset())


class TypoIndex:
    """Family forms of all watches, looked up by words one edit away."""

    __slots__ = ("_near", "_not_targets", "_owners")

    def __init__(self) -> None:
        self._near: dict[str, str | tuple[str, ...]] = {}  # form or deletion -> forms
        self._owners: dict[str, int | frozenset[int]] = {}  # form -> watch number(s)
        self._not_targets: set[str] = set()

    def add(self, form: str, owner: int, target: bool = True) -> None:
        """Index one folded family form of watch number ``owner``.

        A form that is not a ``target`` only keeps other watches' typos away.
        """
        if len(form) < MIN_LETTERS - 1 or " " in form:
            return
        if not target:
            self._not_targets.add(form)
        old_owner = self._owners.get(form)
        if old_owner is not None:
            if isinstance(old_owner, int):
                if old_owner != owner:
                    self._owners[form] = frozenset((old_owner, owner))
            elif owner not in old_owner:
                self._owners[form] = old_owner | {owner}
            return
        self._owners[form] = owner
        near = self._near
        for key in (form, *_deletions(form)):
            old = near.get(key)
            if old is None:
                near[key] = form
            elif isinstance(old, str):
                near[key] = (old, form)
            else:
                near[key] = (*old, form)

    def __contains__(self, word: str) -> bool:
        """Whether ``word`` is an indexed form (a name as it is, of a watch or another)."""
        return word in self._owners

    def near(self, word: str) -> tuple[frozenset[int], tuple[str, ...]]:
        """The watches that own every form within one edit of ``word``, and those forms.

        A form is a typo of one watch's name only when no other name is as close: two
        watches sharing a family name both own it, but a form of another family name
        (Umirova beside Umarova) or of the other gender leaves no owner in common.
        """
        if len(word) < MIN_LETTERS or word in self._owners:
            return frozenset(), ()  # a form of someone's name as it is, whoever's, is no typo
        forms: set[str] = set()
        near = self._near
        for key in (word, *_deletions(word)):
            found = near.get(key)
            if found is None:
                continue
            if isinstance(found, str):
                forms.add(found)
            else:
                forms.update(found)
        common: frozenset[int] | None = None
        kept = []
        for form in forms:
            if _edit(word, form) is None:
                continue
            owners = self._owners[form]
            mine = frozenset((owners,)) if isinstance(owners, int) else owners
            common = mine if common is None else common & mine
            if not common:
                return frozenset(), ()
            kept.append(form)
        return common or frozenset(), tuple(sorted(kept))

    def meant(self, word: str, forms: tuple[str, ...]) -> str | None:
        """The first of ``forms`` (from :meth:`near`) that ``word`` mistypes, if any."""
        targets = (f for f in forms if f not in self._not_targets)
        return next((f for f in targets if is_typo(word, f)), None)

    def typo_of(self, word: str, owner: int) -> str | None:
        """The form of ``owner`` that ``word`` mistypes, if no other name is as close."""
        owners, forms = self.near(word)
        return self.meant(word, forms) if owner in owners else None
