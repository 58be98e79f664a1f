"""Finding watched people, organisations and cases in article text, and saying why."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.config import Watch
from crawler.matching.matcher import Matcher, variants
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


def test_russian_case_forms_of_an_alias(matcher: Matcher) -> None:
    for text, matched in [
        ("Суд отказал Айман Умаровой в иске.", "Айман Умаровой"),
        ("Полиция вызвала Айман Умарову на допрос.", "Айман Умарову"),
    ]:
        [hit] = matcher.match(text)
        assert (hit.watch_id, hit.matched) == ("aiman-umarova", matched)
        assert hit.reason == "alias 'Айман Умарова' (inflection)"
        assert hit.variant == "inflection"
    # The given name declines too, and a Latin-only watch gets its Cyrillic forms generated.
    [hit] = matcher.match("Журналисты позвонили Жанне Умировой.")
    assert (hit.watch_id, hit.matched) == ("zhanna-umirova", "Жанне Умировой")
    assert hit.reason == "name (inflection, transliteration)"


def test_only_real_forms_of_a_name_count() -> None:
    matcher = Matcher.compile([UMAROVA])
    assert matcher.match("Айман Умарович выступил.") == []
    assert matcher.match("Айман Умаров выступил.") == []
    assert matcher.match("Айман Умаровым не знакома.") == []  # not a form of a woman's name
    assert matcher.match("Айман Умаровская") == []


@pytest.mark.parametrize(
    ("text", "watch_id", "matched"),
    [
        ("Сот Серікжан Біләшті кінәлі деп тапты.", "serikzhan-bilash", "Серікжан Біләшті"),
        ("Серікжан Біләштің сөзі", "serikzhan-bilash", "Серікжан Біләштің"),
        ("Серікжан Біләшке хат келді.", "serikzhan-bilash", "Серікжан Біләшке"),
        ("Sot Serıkjan Bıläştı kınälı dep tapty.", "serikzhan-bilash", "Serıkjan Bıläştı"),
        ("Журналистер Айман Умароваға хат жазды.", "aiman-umarova", "Айман Умароваға"),
    ],
)
def test_kazakh_case_suffixes_on_the_last_word(text: str, watch_id: str, matched: str) -> None:
    [hit] = Matcher.compile([BILASH, UMAROVA]).match(text)
    assert (hit.watch_id, hit.matched) == (watch_id, matched)
    assert "inflection" in hit.reason


def test_a_suffix_the_last_sound_does_not_take_is_no_form() -> None:
    matcher = Matcher.compile([BILASH, UMAROVA])
    assert matcher.match("Серікжан Біләшны") == []  # -ны follows a vowel, not ш
    assert matcher.match("Айман Умаровақа") == []  # -қа follows a voiceless consonant


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
    assert hit.reason == "name (name order)"
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


def test_surname_alone_counts_only_near_a_context_term() -> None:
    bilash = dataclasses.replace(BILASH, surname_alone="context")
    matcher = Matcher.compile([bilash, ATAJURT])
    near = "Bilash, who founded Atajurt, was detained in Almaty."
    [hit] = [h for h in matcher.match(near) if h.watch_id == "serikzhan-bilash"]
    assert (hit.watch_id, hit.matched) == ("serikzhan-bilash", "Bilash")
    assert hit.reason == "surname 'Bilash' near context 'Atajurt'"
    assert hit.confidence == pytest.approx(0.6)

    # The context term is a wildcard: Атажұрт* matches an inflected form.
    [hit] = matcher.match("Біләш — «Атажұрттың» негізін қалаушы.")
    assert hit.matched == "Біләш"
    assert hit.reason == "surname 'Біләш' near context 'Атажұрт*' (alias 'Серікжан Біләш')"
    assert hit.variant == "surname+context"

    assert matcher.match("Bilash was detained in Almaty.") == []
    far = "Bilash was detained. " + "The court met again. " * 10 + "Atajurt protested."
    assert matcher.match(far) == []


def test_surname_alone_is_no_hit_without_context() -> None:
    matcher = Matcher.compile([UMAROVA])
    assert matcher.match("Umarova’s office received a letter about the lawyer.") == []


# --- surname_alone ------------------------------------------------------------------------

KEMAROVA = Watch(id="kemarova", kind="person", name="Aliya Kemarova", aliases=("Алия Кемарова",))


def test_a_distinctive_surname_counts_alone_with_lower_confidence() -> None:
    matcher = Matcher.compile([KEMAROVA, UMAROVA])
    [hit] = matcher.match("Lawyer Kemarova filed the appeal on Monday.")
    assert (hit.watch_id, hit.matched, hit.variant) == ("kemarova", "Kemarova", "surname alone")
    assert hit.reason == "surname alone 'Kemarova'"
    assert hit.confidence < matcher.match("Aliya Kemarova filed it.")[0].confidence
    # Russian case forms and Kazakh suffixes, Cyrillic too.
    assert [h.matched for h in matcher.match("Суд отклонил жалобу Кемаровой.")] == ["Кемаровой"]
    assert [h.matched for h in matcher.match("Кемарованың шағымы қаралды.")] == ["Кемарованың"]


@pytest.mark.parametrize(
    "text",
    [
        "Umarova’s office received a letter.",  # Umarova is common (Umarov too)
        "Адвокат Умарова подала жалобу.",
        "Ivanova and Akhmetova spoke at the forum.",
        "Dilnoza Kemarova spoke at the forum.",  # another given name: another person
        "D. Kemarova spoke at the forum.",  # another initial
        "the kemarova rule",  # not written as a name
    ],
)
def test_a_common_or_attached_surname_never_counts_alone(text: str) -> None:
    ivanova = Watch(id="ivanova", kind="person", name="Anna Ivanova")
    akhmetova = Watch(id="akhmetova", kind="person", name="Айгуль Ахметова")
    matcher = Matcher.compile([KEMAROVA, UMAROVA, ivanova, akhmetova])
    assert matcher.match(text) == []


def test_a_surname_two_watches_share_is_not_distinctive() -> None:
    other = Watch(id="timur-kemarov", kind="person", name="Timur Kemarov")
    matcher = Matcher.compile([KEMAROVA, other])
    assert matcher.match("Kemarova filed the appeal.") == []
    assert matcher.match("Kemarov filed the appeal.") == []
    assert [h.watch_id for h in matcher.match("Aliya Kemarova filed it.")] == ["kemarova"]


@pytest.mark.parametrize(
    ("setting", "text", "expected"),
    [
        ("never", "Kemarova filed the appeal in Atajurt's name.", []),
        ("context", "Kemarova filed the appeal.", []),
        ("context", "Kemarova filed the appeal for Atajurt.", ["kemarova"]),
        ("always", "Umarova filed the appeal.", ["umarova"]),
        ("always", "Dilnoza Umarova filed the appeal.", []),  # still not beside another name
        ("auto", "Umarova filed the appeal for Atajurt.", ["umarova"]),  # common: context
        ("auto", "Umarova filed the appeal.", []),
    ],
)
def test_surname_alone_settings(setting: str, text: str, expected: list[str]) -> None:
    watches = [
        Watch(id="kemarova", kind="person", name="Aliya Kemarova", context=("Atajurt",),
              surname_alone=setting),
        Watch(id="umarova", kind="person", name="Aiman Umarova", context=("Atajurt",),
              surname_alone=setting),
    ]  # fmt: skip
    assert [h.watch_id for h in Matcher.compile(watches).match(text)] == expected


def test_later_surname_mentions_belong_to_the_hit() -> None:
    matcher = Matcher.compile([UMAROVA])
    text = (
        "Umarova’s office was searched. Lawyer Aiman Umarova said the search was illegal. "
        "Umarova will appeal; Dilnoza Umarova, her sister, was not there. Умаровой звонили."
    )
    [hit] = matcher.match(text)
    assert hit.matched == "Aiman Umarova"
    shown = [text[start:end] for start, end in hit.mentions]
    # The headline's mention comes before the full name; the sister is another person.
    assert shown == ["Aiman Umarova", "Umarova", "Умаровой"]


# --- patronymics and typos ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Айман Умаровна Смагулова выступила на форуме.",
        "Aiman Umarovna Smagulova spoke at the forum.",
        "Айман Умаровны Смагуловой не было на форуме.",
        "Aiman Umar kyzy Smagulova spoke at the forum.",
        "Айман Умарқызы Смағұлова сөз сөйледі.",
    ],
)
def test_a_patronymic_is_never_a_typo_of_a_family_name(text: str) -> None:
    assert Matcher.compile([UMAROVA]).match(text) == []


def test_given_name_patronymic_and_the_watched_family_name_is_the_person() -> None:
    [hit] = Matcher.compile([UMAROVA]).match("Айман Кайратовна Умарова выступила.")
    assert hit.variant == "patronymic"


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("Сайрагүл Сайуытбайдың ісі қаралды.", "Сайрагүл Сайуытбайдың"),
        ("Sayragul Sayuytbaydyng isi qaraldy.", "Sayragul Sayuytbaydyng"),
        ("Sayragul Sayuytbayga hat jazdy.", "Sayragul Sayuytbayga"),
        ("Суд выслушал Сайрагуль Сайуытбай вчера.", "Сайрагуль Сайуытбай"),
        ("Жалобу Айман Умаровлй отклонили.", "Айман Умаровлй"),  # л beside о: a typo before -ой
    ],
)
def test_a_typo_with_a_case_suffix(text: str, matched: str) -> None:
    watches = [UMAROVA, Watch(id="s", kind="person", name="Sayragul Sauytbay",
                              aliases=("Сайрагүл Сауытбай",))]  # fmt: skip
    [hit] = Matcher.compile(watches).match(text)
    assert (hit.matched, hit.variant) == (matched, "typo")


@pytest.mark.parametrize(
    "text",
    [
        "Sayragul Sayuytbaypen keldi.",  # -pen follows a voiceless sound, not y
        "Айман Умировой звонили.",  # a vowel for a vowel: another name, with a suffix too
        "Zhanna Umarpvanyng isi.",  # not after the watch's given name
        "Свой роман Новиковы закончили.",  # a given name that is a common word
    ],
)
def test_suffixed_typos_keep_the_guards(text: str) -> None:
    watches = [UMAROVA, Watch(id="s", kind="person", name="Sayragul Sauytbay"),
               Watch(id="n", kind="person", name="Роман Новиков")]  # fmt: skip
    assert Matcher.compile(watches).match(text) == []


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
    listed = [(v.part, v.form.text, v.form.confidence) for v in variants(BILASH)]
    assert listed[0][2] == 0.97
    assert ("family", "bilash", 0.97) in listed
    assert ("given", "serikzhan", 0.97) in listed
    assert ("family", "билашем", 0.93) in listed  # a Russian case form, folded
    assert [v.form.confidence for v in variants(BILASH)] == sorted(
        (v.form.confidence for v in variants(BILASH)), reverse=True
    )
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


TOKAYEV = Watch(
    id="kassym-jomart-tokayev",
    kind="person",
    name="Kassym-Jomart Tokayev",
    aliases=("Қасым-Жомарт Тоқаев",),
)


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("President Kassym-Zhomart Tokaev signed it.", "Kassym-Zhomart Tokaev"),  # passport style
        ("Qasym-Jomart Toqaev jiynda söz söiledı.", "Qasym-Jomart Toqaev"),  # Kazakh Latin 2021
        ("President Kassym-Zhomart Tokayev", "Kassym-Zhomart Tokayev"),  # BGN/PCGN, Wikipedia
        ("Касым-Жомарт Токаев подписал указ.", "Касым-Жомарт Токаев"),  # Russian spelling
    ],
)
def test_transliterations_of_a_name(text: str, matched: str) -> None:
    [hit] = Matcher.compile([TOKAYEV]).match(text)
    assert hit.matched == matched
    assert hit.confidence >= 0.9


def test_a_latin_only_name_is_found_in_cyrillic_and_other_romanisations(matcher: Matcher) -> None:
    [hit] = matcher.match("Сайрагуль Сауытбай получила убежище в Швеции.")
    assert (hit.watch_id, hit.variant) == ("sayragul-sauytbay", "transliteration")
    [hit] = matcher.match("Activist Sayragul Sauytbai was granted asylum.")
    assert hit.watch_id == "sayragul-sauytbay"
    [hit] = matcher.match("L'avocate Aïman Oumarova a fait appel.")
    assert (hit.watch_id, hit.matched) == ("aiman-umarova", "Aïman Oumarova")


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("Указ подписал К.-Ж. Токаев.", "К.-Ж. Токаев"),
        ("Указ подписал К. Ж. Токаев.", "К. Ж. Токаев"),
        ("Decree signed by K.-Zh. Tokayev", "K.-Zh. Tokayev"),
        ("Токаев К.-Ж. подписал указ.", "Токаев К.-Ж."),
        ("signed by A. Umarova, the lawyer", "A. Umarova"),
    ],
)
def test_initials_for_the_given_name(text: str, matched: str) -> None:
    [hit] = Matcher.compile([TOKAYEV, UMAROVA]).match(text)
    assert (hit.matched, hit.variant) == (matched, "initials")


def test_initials_of_another_given_name_are_another_person() -> None:
    matcher = Matcher.compile([TOKAYEV, UMAROVA, BILASH])
    assert matcher.match("signed by A. Umarova, the lawyer")[0].reason == "name (initials)"
    assert matcher.match("The report by B. Umarova was published.") == []
    assert matcher.match("Указ подписал Б. Токаев.") == []
    # Even where the surname alone would count (near a context term), another initial is
    # another person.
    assert [h.variant for h in matcher.match("Atajurt founder S. Bilash spoke.")] == ["initials"]
    assert [h.variant for h in matcher.match("Atajurt founder Bilash spoke.")] == [
        "surname+context"
    ]
    assert matcher.match("Atajurt founder O. Bilash spoke.") == []


def test_a_patronymic_or_middle_name_between_given_and_family_name() -> None:
    matcher = Matcher.compile([TOKAYEV])
    [hit] = matcher.match("Касым-Жомарт Кемелевич Токаев выступил с посланием.")
    assert hit.matched == "Касым-Жомарт Кемелевич Токаев"
    assert hit.variant == "patronymic"
    [hit] = matcher.match("Касыма-Жомарта Кемелевича Токаева поздравили.")
    assert hit.matched == "Касыма-Жомарта Кемелевича Токаева"
    # Two words between them are no longer one name.
    assert matcher.match("Касым-Жомарт и Кемел Токаев") == []


def test_hyphen_and_space_spellings_of_a_given_name() -> None:
    matcher = Matcher.compile([TOKAYEV])
    for text in ("Kassym Jomart Tokayev", "Kassymjomart Tokayev", "Қасым Жомарт Тоқаев"):
        [hit] = matcher.match(text)
        assert hit.matched == text
        assert hit.variant == "spelling"


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("Lawyer Aimаn Umаrova spoke.", "Aimаn Umаrova"),  # Cyrillic а inside Latin words
        ("Адвокат Aйман Умaрова выступила.", "Aйман Умaрова"),  # Latin A, a inside Cyrillic
        ("АЙМА́Н УМАРО́ВА: интервью", "АЙМА́Н УМАРО́ВА"),  # stress marks
        ("AİMAN UMAROVA", "AİMAN UMAROVA"),  # Turkish-style dotted capital I
        ("aıman umarova", "aıman umarova"),  # dotless i
    ],
)
def test_text_noise_does_not_hide_a_name(matcher: Matcher, text: str, matched: str) -> None:
    [hit] = matcher.match(text)
    assert (hit.watch_id, hit.matched) == ("aiman-umarova", matched)


@pytest.mark.parametrize(
    "text",
    [
        "Kemel Tokayev, a businessman, opened a factory.",
        "Бизнесмен Кемел Токаев открыл завод.",
        "Dilnoza Umarova won the chess tournament.",
        "Дильноза Умарова стала чемпионкой.",
        "Tokayev Kemel opened a factory.",
    ],
)
def test_a_family_name_with_another_given_name_is_another_person(text: str) -> None:
    tokayev = Watch(id="t", kind="person", name="Kassym-Jomart Tokayev", context=("factory",))
    umarova = Watch(id="u", kind="person", name="Aiman Umarova", context=("chess", "шахмат*"))
    assert Matcher.compile([tokayev, umarova]).match(text) == []


def test_another_given_name_blocks_a_surname_with_context(matcher: Matcher) -> None:
    assert matcher.match("Oleksandr Bilash wrote the song; Atajurt was not involved.") == []
    assert matcher.match("Composer Oleksandr Bilash and Atajurt.") == []
    # A title is not a given name.
    [hit] = matcher.match("Activist Bilash, who founded Atajurt, spoke.")
    assert hit.watch_id == "serikzhan-bilash"


def test_a_surname_alone_in_russian_case_form_near_context(matcher: Matcher) -> None:
    [hit] = matcher.match("Билаша, основателя «Атажурта», задержали.")
    assert hit.reason == (
        "surname 'Билаша' near context 'Атажұрт*' (alias 'Серікжан Біләш', inflection)"
    )
    assert (hit.watch_id, hit.matched, hit.variant) == (
        "serikzhan-bilash",
        "Билаша",
        "surname+context",
    )


def test_a_typo_next_to_an_exact_given_name(matcher: Matcher) -> None:
    text = "Her client Sayragul Sayuytbay was threatened again."
    [hit] = matcher.match(text)
    assert (hit.watch_id, hit.matched, hit.variant) == (
        "sayragul-sauytbay",
        "Sayragul Sayuytbay",
        "typo",
    )
    assert hit.reason == "name (typo of 'sauytbay')"
    assert hit.confidence == pytest.approx(0.7)


@pytest.mark.parametrize(
    "text",
    [
        "Sayuytbay was mentioned in the report.",  # not next to the given name
        "Sayragul sayuytbay said",  # not written as a name
        "Sayragul Saitbai spoke.",  # sounds alike, two edits: phonetics are never enough
        "Sayragul Sayuytbayev spoke.",  # two edits
    ],
)
def test_typo_guardrails(matcher: Matcher, text: str) -> None:
    assert matcher.match(text) == []


def test_one_letter_apart_names_are_never_merged() -> None:
    alone = Matcher.compile([UMAROVA])
    # A different vowel is a different name, even with no other watch to compare with.
    assert alone.match("Aiman Umirova of the council") == []
    both = Matcher.compile([UMAROVA, UMIROVA])
    assert [h.watch_id for h in both.match("Zhanna Umirova and Aiman Umarova")] == [
        "zhanna-umirova",
        "aiman-umarova",
    ]
    # "Umarpva" is a typo of Umarova (p is next to o)... unless another watch is as close.
    assert [h.variant for h in alone.match("Aiman Umarpva")] == ["typo"]
    umarpva = Watch(id="w", kind="person", name="Zhanna Umarpva")
    assert Matcher.compile([UMAROVA, umarpva]).match("Aiman Umarpva") == []
    # The other gender's form is another person, not a typo.
    assert (
        Matcher.compile([Watch(id="m", kind="person", name="Aiman Umarovv")]).match("Aiman Umarova")
        == []
    )


def test_an_organisation_in_the_other_script() -> None:
    atajurt = Watch(id="a", kind="organisation", name="Atajurt Eriktileri")
    [hit] = Matcher.compile([atajurt]).match("«Атажурт еріктілері» ұйымының мүшелері")
    assert (hit.matched, hit.variant) == ("Атажурт еріктілері", "transliteration")


def test_initials_two_watched_people_share_name_neither() -> None:
    yelena = Watch(id="yelena", kind="person", name="Yelena Orlova")
    yekaterina = Watch(id="yekaterina", kind="person", name="Yekaterina Orlova")
    assert Matcher.compile([yelena, yekaterina]).match("signed by Y. Orlova") == []
    assert [h.watch_id for h in Matcher.compile([yelena]).match("signed by Y. Orlova")] == [
        "yelena"
    ]


def test_a_given_name_that_is_also_a_common_word_must_be_capitalised() -> None:
    matcher = Matcher.compile([Watch(id="novikov", kind="person", name="Роман Новиков")])
    assert matcher.match("Свой роман Новиков закончил в тюрьме.") == []  # "his novel"
    assert [h.matched for h in matcher.match("Писатель Роман Новиков")] == ["Роман Новиков"]
    assert [h.matched for h in matcher.match("роман новиков")] == ["роман новиков"]  # all lower


def test_the_same_words_belong_to_the_watch_that_reads_them_as_written() -> None:
    tulegenova = Watch(
        id="f", kind="person", name="Aigerim Tulegenova", aliases=("Айгерим Тулегенова",)
    )
    tulegenov = Watch(id="m", kind="person", name="Aigerim Tulegenov")
    matcher = Matcher.compile([tulegenova, tulegenov])
    # Also the genitive of "Айгерим Тулегенов", but first of all Aigerim Tulegenova as written.
    assert [h.watch_id for h in matcher.match("Суд над Айгерим Тулегенова отложен.")] == ["f"]
    assert [h.watch_id for h in matcher.match("Дело Айгерим Тулегенова и Aigerim Tulegenov")] == [
        "f",
        "m",
    ]


def test_newswatch_match_explains_each_hit(tmp_path: Path) -> None:
    config = tmp_path / "newswatch.toml"
    config.write_text(
        '[[watch]]\nid = "aiman-umarova"\nkind = "person"\nname = "Aiman Umarova"\n'
        'aliases = ["Айман Умарова"]\n',
        encoding="utf-8",
    )
    lines = "Суд отказал Айман Умаровой.\nNothing here.\nA. Umarova signed it.\n"
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "match", "--lines", "--json", "-c", str(config), "-"],
        input=lines,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [len(o["hits"]) for o in outputs] == [1, 0, 1]
    first = outputs[0]["hits"][0]
    assert first["matched"] == "Айман Умаровой"
    assert (first["start"], first["end"]) == (12, 26)
    assert first["variant"] == "inflection"
    assert first["reason"] == "alias 'Айман Умарова' (inflection)"
    assert first["confidence"] == 0.93
    assert first["snippet"] == "Суд отказал Айман Умаровой."
    assert outputs[2]["hits"][0]["variant"] == "initials"


def test_exclude_and_context_terms_match_their_case_forms() -> None:
    bilash = dataclasses.replace(BILASH, context=("Атажұрт",), surname_alone="context")
    umarova = dataclasses.replace(UMAROVA, exclude=('"Umarova Fashion"', "Мода"))
    matcher = Matcher.compile([bilash, umarova])
    # A capitalised context term without '*' finds «Атажұртта» (locative) and «Атажұрттың».
    assert [h.watch_id for h in matcher.match("Біләш Атажұртта сөйледі.")] == ["serikzhan-bilash"]
    assert matcher.match("Біләш сөйледі.") == []
    # Exclude terms veto in their case forms too: «Моды», "Umarova Fashionda".
    assert matcher.match("Айман Умарова, основательница Недели моды, пришла.") == []
    assert matcher.match("Aiman Umarova Fashionda jańa kolleksiia.") == []
    assert [h.watch_id for h in matcher.match("Айман Умарова пришла.")] == ["aiman-umarova"]
