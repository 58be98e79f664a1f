"""Variant generation: transliteration, inflection, name forms and the matcher's typo rules."""

from __future__ import annotations

import pytest

from crawler.config import Watch
from crawler.matching.inflect import (
    FEMALE,
    MALE,
    genders,
    kazakh_suffixes,
    other_gender,
    russian_forms,
)
from crawler.matching.translit import to_cyrillic, to_latin
from crawler.matching.typos import TypoIndex, is_typo
from crawler.matching.variants import person_forms, phrase_forms


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("Касым-Жомарт Токаев", {"kasym-zhomart tokayev", "kasym-jomart tokaev"}),  # BGN, MVD
        ("Касым-Жомарт Токаев", {"qasym-jomart toqaev"}),  # Kazakh 2021 from a Russian spelling
        ("Серікжан Біләш", {"serikzhan bilash", "serikjan bilas"}),  # press, 2021 (ş folds)
        ("Айман Умарова", {"aiman umarova", "ayman umarova", "aiman oumarova"}),  # ICAO, BGN, FR
        ("Юлия Щербакова", {"yuliya shcherbakova", "iuliia shcherbakova", "julija scerbakova"}),
    ],
)
def test_cyrillic_to_the_latin_spellings_the_press_uses(cyrillic: str, latin: set[str]) -> None:
    assert latin <= to_latin(cyrillic)


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        ("Zhanna Umirova", "жанна умирова"),
        ("Sayragul Sauytbay", "сайрагуль сауытбай"),
        ("Serıkjan Bıläş", "серикжан билаш"),  # Kazakh 2021 letters before folding
        ("Yerlan Tokayev", "ерлан токаев"),
        ("Kassym-Jomart Tokayev", "касым-жомарт токаев"),
    ],
)
def test_latin_back_to_cyrillic_candidates(latin: str, cyrillic: str) -> None:
    assert cyrillic in to_cyrillic(latin)
    assert len(to_cyrillic(latin)) <= 16


def test_russian_case_forms_by_gender() -> None:
    assert genders("Айман", "Умарова") == (FEMALE,)
    assert genders("Касым-Жомарт", "Токаев") == (MALE,)
    assert genders("Касым-Жомарт", "Токаев", "Кемелевич") == (MALE,)
    assert genders("Серикжан", "Билаш") == (MALE, FEMALE)  # the endings do not tell
    assert russian_forms("умарова", "family", FEMALE) == {"умаровой", "умарову"}
    assert russian_forms("токаев", "family", MALE) == {
        "токаева", "токаеву", "токаевым", "токаеве",
    }  # fmt: skip
    assert russian_forms("жанна", "given", FEMALE) == {"жанны", "жанне", "жанну", "жанной"}
    assert russian_forms("сауытбай", "family", FEMALE) == {"сауытбай"}  # does not decline


def test_kazakh_suffixes_follow_the_last_sound() -> None:
    assert {"нын", "га", "ны", "дан"} <= kazakh_suffixes("тулегенова")  # after a vowel
    assert {"тын", "ка", "ты", "тан", "пен"} <= kazakh_suffixes("билаш")  # voiceless
    assert "нын" not in kazakh_suffixes("билаш")
    assert {"nyn", "ga", "ny"} <= kazakh_suffixes("tulegenova")  # Kazakh Latin, folded
    assert {"tyn", "qa", "ty"} <= kazakh_suffixes("toqaev")


def test_other_gender_of_a_family_name() -> None:
    assert other_gender("умарова") == {"умаров"}
    assert other_gender("tokayev") == {"tokayeva"}
    assert other_gender("sauytbay") == frozenset()


def test_person_forms_keep_given_and_family_apart_with_their_kinds() -> None:
    watch = Watch(id="u", kind="person", name="Aiman Umarova", aliases=("Айман Умарова",))
    forms = person_forms(watch)
    assert forms is not None
    assert forms.given["aiman"].source == "name" and forms.given["aiman"].kinds == ()
    assert forms.family["умаровои"].kinds == ("inflection",)  # folded: й is и
    assert forms.family["oumarova"].kinds == ("transliteration",)
    assert ("a",) in forms.initials and ("а",) in forms.initials
    one_word = Watch(id="m", kind="person", name="Madonna")
    assert person_forms(one_word) is None
    assert "madonna" in phrase_forms(one_word)


def test_typo_rules() -> None:
    assert is_typo("sayuytbay", "sauytbay")  # a letter added
    assert is_typo("sautbay", "sauytbay")  # a letter dropped
    assert is_typo("umraova", "umarova")  # neighbours swapped
    assert is_typo("tokayec", "tokayev")  # c is next to v on the keyboard
    assert is_typo("умаррва", "умарова")  # р is next to о on ЙЦУКЕН
    assert not is_typo("umirova", "umarova")  # a vowel for a vowel is another name
    assert not is_typo("tokayeb", "tokayeq")  # not neighbours
    assert not is_typo("umarova", "umarova")
    assert not is_typo("sauytbayev", "sauytbay")  # two edits


def test_typo_index_refuses_when_another_watch_is_as_close() -> None:
    index = TypoIndex()
    index.add("umarova", 0)
    index.add("umarova", 0)
    assert index.typo_of("umarpva", 0) == "umarova"
    index.add("umarpvaa", 1)  # another watch one edit away from the same word
    assert index.typo_of("umarpva", 0) is None
    assert index.typo_of("umarov", 0) is None  # too short to risk
