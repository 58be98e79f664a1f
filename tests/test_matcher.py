"""Finding watched people, organisations and cases in article text, and saying why."""

from __future__ import annotations

import pytest

from crawler.config import Watch
from crawler.matcher import Matcher, variants
from crawler.models import Hit

UMAROVA = Watch(
    id="aiman-umarova",
    kind="person",
    name="Aiman Umarova",
    aliases=("Айман Умарова",),
    origin="watchlist.toml: watch[0]",
)
UMIROVA = Watch(id="zhanna-umirova", kind="person", name="Zhanna Umirova")
SAUYTBAY = Watch(id="sayragul-sauytbay", kind="person", name="Sayragul Sauytbay")
BILASH = Watch(
    id="serikzhan-bilash",
    kind="person",
    name="Serikzhan Bilash",
    aliases=("Серікжан Біләш", "Серикжан Бияш"),
    context=("Atajurt", "Атажұрт*"),
)
ATAJURT = Watch(id="atajurt", kind="organisation", name="Atajurt Eriktileri")
RUSAFA = Watch(
    id="rusafa-women",
    kind="case",
    query='("Rusafa" OR "Русафа") AND (Kazakhstan* OR Казахстан*) NEAR/30 (women OR женщин*)',
)
WATCHLIST = (UMAROVA, UMIROVA, SAUYTBAY, BILASH, ATAJURT, RUSAFA)

ARTICLE_UMAROVA = (
    "ALMATY — Human-rights lawyer Aiman Umarova said on Tuesday that her client, "
    "Sayragul Sauytbay, had been threatened again. Umarova’s office in Almaty received "
    "a letter, she told reporters."
)
ARTICLE_RUSAFA = (
    "Six Kazakhstani women remain in Rusafa prison in Baghdad, according to activist "
    "Zhanna Umirova, who has campaigned for their return."
)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.compile(WATCHLIST)


def by_watch(hits: list[Hit]) -> dict[str, Hit]:
    assert len({h.watch_id for h in hits}) == len(hits), "at most one hit per watch"
    return {h.watch_id: h for h in hits}


def assert_spans_map_back(text: str, hits: list[Hit]) -> None:
    for hit in hits:
        assert text[hit.start : hit.end] == hit.matched


def test_umarova_and_umirova_are_never_confused(matcher: Matcher) -> None:
    hits = by_watch(matcher.match(ARTICLE_UMAROVA))
    assert set(hits) == {"aiman-umarova", "sayragul-sauytbay"}
    assert hits["aiman-umarova"].matched == "Aiman Umarova"
    assert hits["aiman-umarova"].reason == "name"
    assert hits["aiman-umarova"].confidence >= 0.95

    hits = by_watch(matcher.match(ARTICLE_RUSAFA))
    assert "aiman-umarova" not in hits
    assert hits["zhanna-umirova"].matched == "Zhanna Umirova"


def test_a_name_never_matches_inside_a_longer_word() -> None:
    matcher = Matcher.compile([Watch(id="umarov", kind="person", name="Aiman Umarov")])
    assert matcher.match("Aiman Umarova spoke to the court.") == []
    assert matcher.match("Aiman Umarovich") == []
    assert matcher.match("XAiman Umarov") == []
    assert [h.matched for h in matcher.match("(Aiman Umarov)")] == ["Aiman Umarov"]


def test_an_inflected_russian_form_is_not_the_alias_yet(matcher: Matcher) -> None:
    # Inflection is a later variant generator; a longer word must not match meanwhile.
    assert matcher.match("Суд отказал Айман Умаровой в иске.") == []


@pytest.mark.parametrize("apostrophe", ["'", "’", "ʼ"])
def test_english_possessive(matcher: Matcher, apostrophe: str) -> None:
    text = f"It was Aiman Umarova{apostrophe}s third appeal."
    hits = by_watch(matcher.match(text))
    assert hits["aiman-umarova"].matched == "Aiman Umarova"
    assert_spans_map_back(text, list(hits.values()))


def test_cyrillic_alias(matcher: Matcher) -> None:
    text = "Адвокат АЙМАН УМАРОВА заявила, что обжалует решение суда."
    [hit] = matcher.match(text)
    assert hit.watch_id == "aiman-umarova"
    assert hit.matched == "АЙМАН УМАРОВА"
    assert hit.reason == "alias 'Айман Умарова'"
    assert hit.confidence >= 0.95


def test_kazakh_alias_folds_its_own_letters(matcher: Matcher) -> None:
    text = "Белсенді Серікжан Біләш Алматыда сөз сөйледі."
    [hit] = matcher.match(text)
    assert (hit.watch_id, hit.matched) == ("serikzhan-bilash", "Серікжан Біләш")


def test_case_and_diacritics_do_not_matter(matcher: Matcher) -> None:
    text = "Interview: AÏMAN ÙMÀROVA on the trial"
    [hit] = matcher.match(text)
    assert hit.watch_id == "aiman-umarova"
    assert hit.matched == "AÏMAN ÙMÀROVA"


def test_name_order_and_hyphen_variants(matcher: Matcher) -> None:
    [hit] = matcher.match("Defence counsel Umarova Aiman filed the appeal.")
    assert (hit.watch_id, hit.matched) == ("aiman-umarova", "Umarova Aiman")
    assert hit.reason == "name (family name first)"
    assert hit.confidence < 0.95

    [hit] = matcher.match("Volunteers of Atajurt-Eriktileri met in Almaty.")
    assert (hit.watch_id, hit.matched) == ("atajurt", "Atajurt-Eriktileri")
    # An organisation's name is never reversed.
    assert matcher.match("Eriktileri Atajurt") == []


def test_line_breaks_and_extra_spaces_inside_a_name(matcher: Matcher) -> None:
    text = "said lawyer Aiman\n   Umarova."
    [hit] = matcher.match(text)
    assert hit.matched == "Aiman\n   Umarova"


def test_exclude_vetoes_the_watch() -> None:
    watch = Watch(
        id="aiman-umarova",
        kind="person",
        name="Aiman Umarova",
        exclude=('"Umarova Fashion"', "volleyball"),
    )
    matcher = Matcher.compile([watch, UMIROVA])
    text = "Aiman Umarova and Zhanna Umirova watched the VOLLEYBALL final."
    assert [h.watch_id for h in matcher.match(text)] == ["zhanna-umirova"]
    assert [h.watch_id for h in matcher.match("Aiman Umarova spoke.")] == ["aiman-umarova"]


def test_surname_alone_counts_only_near_a_context_term(matcher: Matcher) -> None:
    near = "Bilash, who founded Atajurt, was detained in Almaty."
    [hit] = matcher.match(near)
    assert (hit.watch_id, hit.matched) == ("serikzhan-bilash", "Bilash")
    assert hit.reason == "surname 'Bilash' near context 'Atajurt'"
    assert hit.confidence == pytest.approx(0.6)

    # The context term is a wildcard: Атажұрт* matches an inflected form.
    [hit] = matcher.match("Біләш — «Атажұрттың» негізін қалаушы.")
    assert hit.matched == "Біләш"
    assert hit.reason == "surname 'Біләш' near context 'Атажұрт*'"

    assert matcher.match("Bilash was detained in Almaty.") == []
    far = "Bilash was detained. " + "The court met again. " * 10 + "Atajurt protested."
    assert matcher.match(far) == []


def test_surname_alone_is_no_hit_without_context() -> None:
    matcher = Matcher.compile([UMAROVA])
    assert matcher.match("Umarova’s office received a letter about the lawyer.") == []


def test_full_name_beats_a_surname_mention(matcher: Matcher) -> None:
    text = "Bilash of Atajurt spoke. Later Serikzhan Bilash was detained."
    [hit] = matcher.match(text)
    assert hit.matched == "Serikzhan Bilash"
    assert hit.reason == "name"


def test_case_query_matches_english_and_russian(matcher: Matcher) -> None:
    hits = by_watch(matcher.match(ARTICLE_RUSAFA))
    case = hits["rusafa-women"]
    assert (case.matched, case.reason, case.confidence) == ("Kazakhstani women", "case query", 0.8)

    russian = "В тюрьме Русафа остаются гражданки Казахстана: шесть женщин и их дети."
    hits = by_watch(matcher.match(russian))
    assert hits["rusafa-women"].matched == "Русафа"  # the earliest satisfying span

    apart = "Rusafa holds citizens of Kazakhstan. " + "The ministry said so. " * 15 + "Women."
    assert matcher.match(apart) == []


def test_snippet_shows_the_mention_and_is_short(matcher: Matcher) -> None:
    text = " ".join(["Earlier, the court heard several witnesses describe the events."] * 8)
    text += " Then Aiman Umarova spoke for the defence. " + text
    [hit] = matcher.match(text)
    assert "Aiman Umarova" in hit.snippet
    assert len(hit.snippet) <= 240
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    # Cut between words: the words next to the ellipses are whole words of the text.
    first, last = hit.snippet[1:].split()[0], hit.snippet[:-1].split()[-1]
    assert first in text.split() and last in text.split()

    short = "Aiman Umarova spoke."
    [hit] = matcher.match(short)
    assert hit.snippet == short


@pytest.mark.parametrize(
    "prefix",
    [
        "Die Straße der Anwältin: ",  # ß folds to two letters
        "İİİ İstanbul: ",  # İ loses its dot
        "Café\u0301 re\u0301sume\u0301 ",  # decomposed accents are dropped
        "ﬁnally, ½ of them — ",  # ligature and fraction expand
        "zero\u200bwidth\u00adsoft ",  # format characters are dropped
        "a\t\t\n\n  b ",  # whitespace runs collapse
    ],
)
def test_spans_map_back_to_the_original_text(matcher: Matcher, prefix: str) -> None:
    text = prefix + "lawyer AIMAN UMAROVA\u0301’s client Sayragul Sauytbay."
    hits = by_watch(matcher.match(text))
    assert_spans_map_back(text, list(hits.values()))
    assert hits["aiman-umarova"].matched == "AIMAN UMAROVA\u0301"
    assert hits["sayragul-sauytbay"].matched == "Sayragul Sauytbay"


def test_variants_are_listed_best_first() -> None:
    forms = [(p.form, p.confidence, p.needs_context) for p in variants(BILASH)]
    assert forms[0] == ("Serikzhan Bilash", 0.97, False)
    assert ("Bilash Serikzhan", 0.9, False) in forms
    assert ("Bilash", 0.6, True) in forms
    assert ("Біләш", 0.6, True) in forms
    assert variants(RUSAFA) == []


def test_a_bad_query_names_the_watch() -> None:
    bad = Watch(id="bad", kind="case", query="(Rusafa", origin="watchlist.toml: watch[3]")
    with pytest.raises(ValueError) as caught:
        Matcher.compile([bad])
    assert str(caught.value) == (
        "watchlist.toml: watch[3].query: query: position 8: expected ')' to close the '(' "
        "at position 1, got end of query"
    )


def test_an_empty_watchlist_matches_nothing() -> None:
    assert Matcher.compile([]).match("Aiman Umarova") == []
