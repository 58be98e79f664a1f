"""The query language: how queries are read, what they match, and what a malformed one says."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.config import load_config, validate_queries
from crawler.matching.query import compile_query
from crawler.matching.textnorm import fold, tokenize

RUSAFA = '("Rusafa" OR "Русафа") AND (Kazakhstan* OR Казахстан*) NEAR/30 (women OR женщин*)'

ENGLISH = (
    "Six Kazakhstani women and their children are held in Rusafa prison in Baghdad, "
    "relatives told reporters on Monday."
)
RUSSIAN = (
    "В багдадской тюрьме Русафа остаются гражданки Казахстана: по словам родственников, "
    "там находятся шесть женщин и их дети."
)
FILLER = " ".join(["the", "ministry", "said", "in", "a", "statement"] * 10)  # 60 words
FAR_APART = f"Rusafa prison holds citizens of Kazakhstan. {FILLER} Among them are women."


def matches(query: str, text: str) -> bool:
    return compile_query(query).evaluate(tokenize(text)).matched


@pytest.mark.parametrize(
    ("query", "reading"),
    [
        ("a OR b AND c", "(a OR (b AND c))"),
        ("a AND b OR c", "((a AND b) OR c)"),
        ("NOT a AND b", "((NOT a) AND b)"),
        ("a NOT b", "(a AND (NOT b))"),
        ("a b OR c d", "((a AND b) OR (c AND d))"),
        ("NOT a NEAR/3 b AND c", "((NOT (a NEAR/3 b)) AND c)"),
        ("a NEAR/2 b OR c", "((a NEAR/2 b) OR c)"),
        ("a AND b NEAR/5 c", "(a AND (b NEAR/5 c))"),
        ("(a OR b) AND c", "((a OR b) AND c)"),
        ("a NEAR/1 b NEAR/4 c", "((a NEAR/1 b) NEAR/4 c)"),
        (
            RUSAFA,
            "((rusafa~ OR русафа~) AND ((kazakhstan* OR казахстан*) NEAR/30 (women OR женщин*)))",
        ),  # ~: a capitalised term or a phrase word matches its case forms too
        ('"Kazakhstan* women"', '"kazakhstan* women~"'),
        ("Umarova’s", '"umarova s"'),
        ("Sayragul-Sauytbay", '"sayragul sauytbay~"'),
        ("ÜMÏT and İstanbul", "(umit~ AND and AND istanbul~)"),
    ],
)
def test_precedence_and_folding(query: str, reading: str) -> None:
    assert str(compile_query(query)) == reading


def test_precedence_changes_what_matches() -> None:
    # NOT binds tighter than AND, AND tighter than OR.
    assert matches("NOT a AND b", "b only")
    assert not matches("NOT a AND b", "a and b")
    assert matches("a OR b AND c", "a alone")
    assert not matches("(a OR b) AND c", "a alone")
    # "a NOT b" is "a AND NOT b".
    assert matches("Umarova NOT Umirova", "Aiman Umarova spoke")
    assert not matches("Umarova NOT Umirova", "Aiman Umarova and Zhanna Umirova spoke")


def test_spec_query_matches_english_and_russian() -> None:
    assert matches(RUSAFA, ENGLISH)
    assert matches(RUSAFA, RUSSIAN)


def test_spec_query_fails_when_the_words_are_far_apart() -> None:
    assert not matches(RUSAFA, FAR_APART)


def test_spec_query_reports_the_spans_that_satisfied_it() -> None:
    tokens = tokenize(ENGLISH)
    result = compile_query(RUSAFA).evaluate(tokens)
    spans = [ENGLISH[slice(*tokens.span(first, stop))] for first, stop in result.spans]
    assert spans == ["Kazakhstani women", "Rusafa"]
    assert result.first_span is not None
    assert ENGLISH[slice(*tokens.span(*result.first_span))] == "Kazakhstani women"


@pytest.mark.parametrize(
    ("between", "expected"),
    [(0, True), (3, True), (4, False), (10, False)],
)
def test_near_counts_the_words_between(between: int, expected: bool) -> None:
    text = "Bilash " + "word " * between + "Atajurt"
    assert matches("Bilash NEAR/3 Atajurt", text) is expected
    assert matches("Atajurt NEAR/3 Bilash", text) is expected  # either order


def test_near_needs_two_different_words() -> None:
    assert not matches("women NEAR/5 wom*", "six women")
    assert matches("women NEAR/5 wom*", "six women, many women")


def test_wildcards_in_terms_and_phrases() -> None:
    assert matches("Kazakhstan*", "Kazakhstani citizens")
    assert matches("Kazakhstan*", "KAZAKHSTAN")
    assert not matches("Kazakhstan", "Kazakhstani citizens")
    assert matches('"Kazakhstan* women"', "six Kazakhstani women")
    assert not matches('"Kazakhstan* women"', "Kazakhstani and Uzbek women")
    assert matches("Атажұрт*", "правозащитная организация «Атажұрт еріктілері»")
    assert matches("женщин*", "шесть ЖЕНЩИНАМ")


def test_phrases_need_the_words_in_order() -> None:
    assert matches('"Aiman Umarova"', "lawyer Aiman  Umarova.")
    assert not matches('"Aiman Umarova"', "Umarova Aiman")
    assert matches('"Aiman Umarova"', "Aiman\nUmarova")


def test_terms_fold_case_diacritics_and_script_variants() -> None:
    assert matches("Sauytbay", "SAUYTBAY")
    assert matches("Sauytbáy", "Sauytbay")
    assert matches("Ёрмек", "ермек")
    assert matches("Сейдахметов Рахим", "РАХИМ сейдахметов")  # two terms: AND
    assert matches("İstanbul", "istanbul")
    assert matches("Straße", "STRASSE")
    assert matches("Umarova’s", "Umarova's client")


def test_a_term_is_a_whole_word() -> None:
    assert not matches("Umarov", "Aiman Umarova")
    assert not matches("умарова", "Айман Умаровой")  # lower case: exactly this word


@pytest.mark.parametrize(
    "text",
    [
        "шесть женщин остаются в тюрьме Русафы",
        "в Русафе остаются шесть женщин",
        "Русафаға қатысты",
        "Русафада алты әйел отыр",
        "Русафадағы түрмеде",
        "Rusafada alty áiel otyr",
        "Rusafanyng túrmesi",
    ],
)
def test_a_capitalised_or_quoted_term_matches_its_case_forms(text: str) -> None:
    assert matches('"Русафа" OR "Rusafa"', text)
    assert matches("Русафа OR Rusafa", text)
    assert not matches("русафа OR rusafa", text)  # lower case and bare: exact


def test_case_forms_keep_a_term_a_whole_word() -> None:
    assert not matches('"Русафа"', "Русафанов")
    assert not matches("Казахстан", "казахстанских")  # a prefix needs its *
    assert matches("Казахстан", "гражданки Казахстана")
    assert matches('"Атажұрт"', "«Атажұрттың» негізін")
    assert not matches('"Русафа" NEAR/2 тюрьма', "Русафой руководил, а потом тюрьма")


# The README's example query, with the Kazakh words a Kazakh text uses.
README_RUSAFA = (
    '("Rusafa" OR "Русафа") AND (Kazakhstan* OR Казахстан* OR Қазақстан*) '
    "NEAR/30 (women OR женщин* OR әйел*)"
)


@pytest.mark.parametrize(
    "text",
    [
        "Шесть казахстанских женщин с детьми остаются в багдадской тюрьме Русафы.",
        "В тюрьме Русафе, по словам родственников, находятся шесть женщин из Казахстана.",
        "Бағдаттағы Русафа түрмесінде алты қазақстандық әйел балаларымен отыр.",
        "Русафадағы түрмеде Қазақстанның алты азаматшасы, әйелдер мен балалар отыр.",
        "Six Kazakhstani women are held in Rusafa prison in Baghdad.",
    ],
)
def test_the_readme_query_finds_its_sentences_in_every_language(text: str) -> None:
    assert matches(README_RUSAFA, text)


def test_compiled_query_evaluates_many_texts() -> None:
    query = compile_query(RUSAFA)
    texts = [ENGLISH, RUSSIAN, FAR_APART, ""]
    assert [query.evaluate(tokenize(t)).matched for t in texts] == [True, True, False, False]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "(Rusafa OR Bagh",
            "query: position 16: expected ')' to close the '(' at position 1, got end of query",
        ),
        (
            "Rusafa AND",
            "query: position 11: expected a term, a \"phrase\" or '(', got end of query",
        ),
        ("", "query: position 1: expected a term, a \"phrase\" or '(', got end of query"),
        (
            "Rusafa OR OR women",
            "query: position 11: expected a term, a \"phrase\" or '(', got 'OR'",
        ),
        ("Rusafa)", "query: position 7: expected end of query (no '(' is open), got ')'"),
        (
            '"Rusafa prison',
            "query: position 15: expected closing '\"' for the phrase at "
            "position 1, got end of query",
        ),
        (
            "Rusafa NEAR women",
            "query: position 8: expected NEAR/n with n a whole number of words, got 'NEAR'",
        ),
        (
            "Rusafa NEAR/ten women",
            "query: position 8: expected NEAR/n with n a whole number of words, got 'NEAR/ten'",
        ),
        ("Kaz*stan", "query: position 4: expected '*' only at the end of a word, got 'Kaz*stan'"),
        ("*stan", "query: position 1: expected '*' only at the end of a word, got '*stan'"),
        ('women ""', "query: position 8: expected a word (letters or digits), got ''"),
        (
            "NOT Rusafa",
            "query: position 1: expected at least one term that is not under NOT, got 'NOT Rusafa'",
        ),
        (
            "women NEAR/5 (NOT Rusafa)",
            "query: position 7: expected words on both sides of NEAR/5, got a side with only NOT",
        ),
    ],
)
def test_malformed_queries_say_where_and_what(query: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        compile_query(query)
    assert str(caught.value) == message


def test_config_check_reports_a_bad_query_with_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "watchlist.toml").write_text(
        '[[watch]]\nid = "rusafa-women"\nkind = "case"\n'
        'query = \'("Rusafa" OR "Русафа") AND (women\'\n',
        encoding="utf-8",
    )
    config_path = tmp_path / "newswatch.toml"
    config_path.write_text('watchlist = ["watchlist.toml"]\n', encoding="utf-8")
    problems = validate_queries(load_config(config_path, env={}), compile_query)
    assert problems == [
        "watchlist.toml: watch[0].query: query: position 34: expected ')' to close the '(' "
        "at position 28, got end of query"
    ]


def test_fold_keeps_a_way_back_to_the_original() -> None:
    text = "Die Straße in İstanbul:\n\n  Umarova\u0301’s ﬁle"
    folded = fold(text)
    assert folded.text == "die strasse in istanbul: umarova's file"
    tokens = tokenize(folded)
    originals = [text[slice(*tokens.span(i, i + 1))] for i in range(len(tokens))]
    assert originals == ["Die", "Straße", "in", "İstanbul", "Umarova\u0301", "s", "ﬁle"]
