"""The matcher on labelled snippets (EN, RU, Kazakh Cyrillic and Latin): recall, false positives.

Run with ``-s`` to see the figures per label.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import pytest

from crawler.config import Watch
from crawler.extraction.article import extract
from crawler.matching.matcher import Matcher
from crawler.models import Page
from crawler.run.analysis import matchable_text

DATA = Path(__file__).parent / "data"
LABELLED = tomllib.loads((DATA / "labelled" / "snippets.toml").read_text(encoding="utf-8"))
SNIPPETS = LABELLED["snippet"]


def _watch(table: dict[str, object]) -> Watch:
    def strings(key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        assert isinstance(value, list)
        return tuple(str(v) for v in value)

    return Watch(
        id=str(table["id"]),
        kind=str(table["kind"]),
        name=str(table.get("name", "")),
        aliases=strings("aliases"),
        query=str(table.get("query", "")),
        exclude=strings("exclude"),
        context=strings("context"),
        surname_alone=str(table.get("surname_alone", "auto")),
    )


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.compile([_watch(w) for w in LABELLED["watch"]])


def test_the_set_covers_every_language_variant_kind_and_guard() -> None:
    assert len(SNIPPETS) >= 100
    assert {s["lang"] for s in SNIPPETS} == {"en", "ru", "kk", "kk-latn"}
    positive = {s["label"] for s in SNIPPETS if s["expect"]}
    negative = {s["label"] for s in SNIPPETS if not s["expect"]}
    assert positive >= {
        "name", "alias", "inflection", "transliteration", "name order", "initials",
        "patronymic", "spelling", "homoglyph", "accents and case", "typo", "surname+context",
        "surname alone", "case inflection", "suffixed typo",
    }  # fmt: skip
    assert negative >= {
        "another given name", "another initial", "one letter apart", "inside a longer word",
        "only real forms", "surname without context", "typo guard", "exclude",
        "common surname alone", "patronymic, other family name", "case",
    }  # fmt: skip


def _score(
    matcher: Matcher, snippets: list[dict[str, object]], title: str
) -> tuple[float, int, list[str]]:
    """Print recall and false positives (in total, then per label) and return them."""
    expected = found = false = 0
    count: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    wrong: list[str] = []
    for snippet in snippets:
        text, label, expect = snippet["text"], snippet["label"], snippet["expect"]
        assert isinstance(text, str) and isinstance(label, str) and isinstance(expect, list)
        want = set(expect)
        got = {hit.watch_id for hit in matcher.match(text)}
        expected += len(want)
        found += len(want & got)
        false += len(got - want)
        count[label] += 1
        errors[label] += len(want ^ got)
        if want != got:
            wrong.append(f"{label}: {text!r}: want {sorted(want)}, got {sorted(got)}")
    print(
        f"\n{title}: {len(snippets)} snippets, {expected} expected mentions: "
        f"recall {found / expected:.3f} ({found}/{expected}), false positives {false}"
    )
    for label in sorted(count):
        print(f"  {label:24} {count[label]:3} snippets, {errors[label]} wrong")
    for line in wrong:
        print(f"  miss or false: {line}")
    return found / expected, false, wrong


def test_recall_and_false_positives(matcher: Matcher) -> None:
    tuned = [s for s in SNIPPETS if not s.get("held_out")]
    recall, false, wrong = _score(matcher, tuned, "labelled set")
    assert not wrong
    assert (recall, false) == (1.0, 0)


def test_held_out_snippets(matcher: Matcher) -> None:
    held_out = [s for s in SNIPPETS if s.get("held_out")]
    recall, false, wrong = _score(matcher, held_out, "held-out snippets")
    # Known misses: a closing quote inside an organisation's name, and "Sauytbey", a vowel
    # swap the typo guard refuses on purpose (Umirova/Umarova). No false positive.
    assert len(wrong) <= 2
    assert recall >= 0.8 and false == 0


@pytest.mark.parametrize(
    ("path", "matched", "reason"),
    [
        (
            "web/news1/news/2026/11/sud-nad-tulegenovoy-otlozhen.html",
            "Айгерим Тулегеновой",  # only Russian case forms, the first in the title
            "alias 'Айгерим Тулегенова' (inflection)",
        ),
        (
            "web/feeds/articles/kk-tulegenova-sot.html",
            "Айгерім Тулегенова",  # the nominative beats the earlier "Тулегенованың"
            "alias 'Айгерим Тулегенова'",
        ),
    ],
)
def test_fixture_articles_about_aigerim_tulegenova(path: str, matched: str, reason: str) -> None:
    watch = Watch(
        id="aigerim-tulegenova",
        kind="person",
        name="Aigerim Tulegenova",
        aliases=("Айгерим Тулегенова",),
    )
    html = (DATA / path).read_text(encoding="utf-8")
    article = extract(Page(source="test", url=f"http://news.test/{Path(path).name}", html=html))
    assert article is not None
    [hit] = Matcher.compile([watch]).match(matchable_text(article))
    assert (hit.watch_id, hit.matched, hit.reason) == ("aigerim-tulegenova", matched, reason)
    assert matched in hit.snippet


# Issue 19: the same matcher on Chinese, Arabic (with one Persian) and Uyghur snippets.
SCRIPTS = tomllib.loads((DATA / "labelled" / "scripts.toml").read_text(encoding="utf-8"))
SCRIPT_OF_LANG = {"zh": "Chinese", "ar": "Arabic", "fa": "Arabic", "ug": "Uyghur"}


@pytest.fixture(scope="module")
def script_matcher() -> Matcher:
    return Matcher.compile([_watch(w) for w in SCRIPTS["watch"]])


def test_the_scripts_set_covers_every_form_and_hard_negative() -> None:
    snippets = SCRIPTS["snippet"]
    assert len(snippets) >= 40
    assert {s["lang"] for s in snippets} == set(SCRIPT_OF_LANG)
    positive = {s["label"] for s in snippets if s["expect"]}
    negative = {s["label"] for s in snippets if not s["expect"]}
    assert positive >= {
        "alias with middle dot", "alias, other middle dot", "alias without dot",
        "alias with space", "traditional", "Chinese name", "attached prefix", "harakat",
        "tatweel", "alef and hamza forms", "alef maqsura", "directional marks", "Persian ya",
        "Persian kaf", "case", "case, attached prefixes", "case suffix", "alef maqsura and ya",
    }  # fmt: skip
    assert negative >= {
        "longer name containing the alias", "same surname, another person",
        "a word containing the name's letters", "given name alone",
    }  # fmt: skip


@pytest.mark.parametrize("script", ["Chinese", "Arabic", "Uyghur"])
def test_scripts_recall_precision_and_no_hard_negative_hit(
    script_matcher: Matcher, script: str
) -> None:
    snippets = [s for s in SCRIPTS["snippet"] if SCRIPT_OF_LANG[s["lang"]] == script]
    recall, false, wrong = _score(script_matcher, snippets, f"{script} snippets")
    expected = sum(len(s["expect"]) for s in snippets)
    found = round(recall * expected)
    print(f"  precision {found / (found + false):.3f} ({found}/{found + false})")
    assert not wrong
    assert (recall, false) == (1.0, 0)
