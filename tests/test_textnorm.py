"""Folding: Kazakh letters, look-alikes of the other script, and the way back to the original."""

from __future__ import annotations

import pytest

from crawler.matching.textnorm import fold, tokenize


def test_kazakh_letters_fold_to_their_russian_counterparts() -> None:
    assert fold("Серікжан Біләш").text == "серикжан билаш"
    assert fold("Қасым-Жомарт Тоқаев").text == "касым-жомарт токаев"
    assert fold("ӘҒҚҢӨҰҮҺІ").text == "агкноуухи"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Umаrova", "umarova"),  # Cyrillic а in a Latin word
        ("Умaрова", "умарова"),  # Latin a in a Cyrillic word
        ("Вilash", "bilash"),  # Cyrillic capital В for B
        ("ТOКАЕВ", "токаев"),  # Latin O among Cyrillic capitals
        ("Bіlash", "bilash"),  # Kazakh/Ukrainian і for i
    ],
)
def test_look_alike_letters_are_read_in_the_word_s_script(text: str, folded: str) -> None:
    assert fold(text).text == folded


def test_a_truly_mixed_word_is_left_alone() -> None:
    # д has no Latin look-alike: a brand with a Kazakh suffix, not a homoglyph.
    assert fold("iPhoneдағы").text == "iphoneдагы"
    assert fold("ab аб").text == "ab аб"  # separate words keep their scripts


def test_homoglyph_fixes_keep_positions() -> None:
    text = "Адвокат Aйман Умaрова\u0301 выступила"
    folded = fold(text)
    tokens = tokenize(folded)
    originals = [text[slice(*tokens.span(i, i + 1))] for i in range(len(tokens))]
    assert originals == ["Адвокат", "Aйман", "Умaрова\u0301", "выступила"]
    assert tokens.words[1:3] == ["аиман", "умарова"]
