"""Extraction: main text without boilerplate, title, date, language, canonical URL."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from crawler.extraction.article import (
    content_hash,
    detect_language,
    extract,
    extract_links,
    normalize_date,
    text_length,
)
from crawler.models import Article, Page

PAGES = Path(__file__).parent / "data" / "pages"

EN_URL = "https://www.steppewire.com/news/2024/05/rusafa-women"
EN_CANONICAL = "https://steppewire.com/news/2024/05/rusafa-women"
RU_URL = "https://m.vestistepi.kz/news/society/2024-03-02/umarova-appeal/?utm_source=telegram"
KK_URL = "https://daluni.kz/qogam/2024/04/18/bilash/"
FLAT_URL = "https://eurasiabrief.com/asia/rusafa-appeal"
SYNDICATED_URL = "https://centralasiadigest.org/wire/bilash-fined"


def html(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def page(name: str, url: str, **fields: str) -> Page:
    return Page(
        source="test",
        url=url,
        html=html(name),
        fetched_at="2024-06-01T12:00:00Z",
        **fields,
    )


def article(name: str, url: str, **fields: str) -> Article:
    result = extract(page(name, url, **fields))
    assert result is not None, name
    return result


def body(words: int = 60) -> str:
    sentence = "The regional court adjourned the hearing until next week, the lawyer said."
    return " ".join([sentence] * (words // 12 + 1))


# Each page has names in its text and other watched names only in navigation, sidebars,
# "latest news" blocks, "read also" links, comments, cookie banners and footers.
BOILERPLATE_CASES = [
    (
        "en_article.html",
        EN_URL,
        ["Zhanna Umirova", "Rusafa prison"],
        ["Aiman Umarova", "Sayragul Sauytbay", "Serikzhan Bilash", "cookies", "All rights"],
    ),
    (
        "ru_article.html",
        RU_URL,
        ["Айман Умарова", "Умаровой"],
        ["Бияш", "Биляш", "Сауытбай", "Умирова", "Поделиться", "USD", "Политика"],
    ),
    (
        "kk_article.html",
        KK_URL,
        ["Серікжан Біләш", "Атажұрт"],
        ["Омарова", "Сауытбай", "cookie", "Ирактағы", "Саясат", "құқықтар қорғалған"],
    ),
    (
        "en_flat_layout.html",
        FLAT_URL,
        ["Rusafa prison"],
        ["Aiman Umarova", "Serikzhan Bilash", "Sayragul Sauytbay", "Zhanna Umirova"],
    ),
    (
        "en_article_amp.html",
        "https://amp.steppewire.com/news/2024/05/rusafa-women/amp/",
        ["Zhanna Umirova"],
        ["Aiman Umarova", "Sayragul Sauytbay", "Serikzhan Bilash", "View full version"],
    ),
]


@pytest.mark.parametrize(("name", "url", "kept", "dropped"), BOILERPLATE_CASES)
def test_names_only_in_boilerplate_are_not_article_text(
    name: str, url: str, kept: list[str], dropped: list[str]
) -> None:
    raw = html(name)
    result = article(name, url)
    for phrase in kept:
        assert phrase in result.text
    for phrase in dropped:
        assert phrase in raw, f"test page {name} lost its {phrase!r}"
        assert phrase not in result.text


def test_english_article() -> None:
    result = article("en_article.html", EN_URL + "?utm_source=tw&utm_medium=social")
    assert result.title == "Six Kazakhstani women still held in Rusafa prison, activists say"
    assert result.published_at == "2024-05-14T04:30:00Z"  # 09:30 at +05:00
    assert result.language == "en"
    assert result.canonical_url == EN_CANONICAL
    assert result.other_urls == ()
    assert result.url == EN_URL + "?utm_source=tw&utm_medium=social"
    assert result.source == "test"
    assert result.fetched_at == "2024-06-01T12:00:00Z"
    assert result.content_hash == content_hash(result.text)
    assert len(result.text.split()) > 200


def test_russian_article() -> None:
    result = article("ru_article.html", RU_URL)
    assert result.title == "Адвокат Айман Умарова обжаловала приговор подзащитной"
    assert result.published_at == "2024-03-02T09:45:00Z"  # 15:45 at +06:00
    assert result.language == "ru"
    # rel=canonical wins over og:url (which points at the mobile site, with utm)
    assert result.canonical_url == "https://vestistepi.kz/news/society/2024-03-02/umarova-appeal/"
    assert result.other_urls == ()


def test_kazakh_article() -> None:
    result = article("kk_article.html", KK_URL)
    assert result.title == "Серікжан Біләш сотқа шақырылды"
    assert result.published_at == "2024-04-18T00:00:00Z"  # <time datetime> with a date only
    assert result.language == "kk"
    assert result.canonical_url == KK_URL  # no canonical on the page: its own URL


def test_russian_text_quoting_kazakh_names_stays_russian() -> None:
    paragraph = (
        "<p>Активист Серікжан Біләш, основатель движения «Атажұрт», заявил журналистам, что "
        "продолжит помогать родственникам задержанных в Синьцзяне. По его словам, суд не "
        "учёл доводы защиты, а полиция снова вызвала его для дачи объяснений. Біләш "
        "намерен обжаловать решение в вышестоящей инстанции в течение десяти дней.</p>"
    )
    raw = f'<html lang="kk"><body><article><h1>Біләш</h1>{paragraph * 2}</article></body></html>'
    result = extract(Page(source="test", url="https://ex.kz/a", html=raw))
    assert result is not None
    assert result.language == "ru"


def test_kazakh_without_lang_attribute_or_hint_is_kazakh() -> None:
    raw = html("kk_article.html").replace('<html lang="kk">', "<html>")
    result = extract(Page(source="test", url=KK_URL, html=raw, language_hint="ru"))
    assert result is not None
    assert result.language == "kk"


POLISH = (
    "<p>Sąd w Ałmaty nałożył w poniedziałek grzywnę na aktywistę, który wziął udział w pikiecie "
    "przed siedzibą władz miasta. Jego prawnik zapowiedział apelację i powiedział, że jego klient "
    "jedynie stał w milczeniu z plakatem. Organizacje praw człowieka skrytykowały tę decyzję i "
    "wezwały władze do poszanowania prawa do zgromadzeń.</p>"
)


@pytest.mark.parametrize(
    ("html_attributes", "hint"),
    [(' lang="pl-PL"', ""), ("", "pl"), (' lang="polish"', "pl"), (' lang=""', "pl")],
)
def test_unsure_detection_falls_back_to_declared_language(html_attributes: str, hint: str) -> None:
    # Polish is outside the identifier's languages, so it is unsure: the page's word counts.
    raw = f"<html{html_attributes}><body><article><h1>Grzywna</h1>{POLISH}</article></body></html>"
    result = extract(Page(source="test", url="https://ex.pl/a", html=raw, language_hint=hint))
    assert result is not None
    assert result.language == "pl"


def test_amp_page_is_the_same_article_as_the_original() -> None:
    original = article("en_article.html", EN_URL)
    amp_url = "https://amp.steppewire.com/news/2024/05/rusafa-women/amp/"
    amp = article("en_article_amp.html", amp_url)
    assert amp.canonical_url == original.canonical_url == EN_CANONICAL
    assert amp.content_hash == original.content_hash
    assert amp.title == original.title
    assert amp.published_at == original.published_at
    # the page's rel=canonical joins them; the AMP address itself is kept as another URL
    # (canonicalization no longer drops a path segment because it reads "amp")
    assert amp.other_urls == ("https://steppewire.com/news/2024/05/rusafa-women/amp/",)


@pytest.mark.parametrize(
    "url",
    [
        EN_URL,
        EN_URL + "?utm_source=telegram&utm_medium=social",
        EN_URL + "?fbclid=IwAR0xyz#comments",
        "https://m.steppewire.com/news/2024/05/rusafa-women?utm_campaign=may&gclid=1",
        "http://steppewire.com/news/2024/05/rusafa-women?at_medium=RSS",
    ],
)
def test_utm_variants_give_one_canonical_url_and_hash(url: str) -> None:
    reference = article("en_article.html", EN_URL)
    variant = article("en_article.html", url)
    assert variant.canonical_url == reference.canonical_url
    assert variant.content_hash == reference.content_hash


def test_tracking_variants_without_a_canonical_tag_agree_too() -> None:
    a = article("kk_article.html", KK_URL + "?utm_source=facebook&fbclid=abc")
    b = article("kk_article.html", "https://www.daluni.kz/qogam/2024/04/18/bilash/#top")
    assert a.canonical_url == b.canonical_url == KK_URL
    assert a.content_hash == b.content_hash


def test_requested_url_and_redirect_target_are_kept_as_other_urls() -> None:
    result = article(
        "en_article.html",
        "https://steppewire.com/news/2024/05/rusafa-women-2?utm_source=tg",
        requested_url="https://t.co/AbC123",
    )
    assert result.canonical_url == EN_CANONICAL
    assert result.other_urls == (
        "https://steppewire.com/news/2024/05/rusafa-women-2",
        "https://t.co/AbC123",
    )


def test_off_site_canonical_is_ignored() -> None:
    result = article("en_syndicated_offsite_canonical.html", SYNDICATED_URL + "?utm_source=x")
    assert result.canonical_url == SYNDICATED_URL
    assert "globalwire-agency" not in result.canonical_url
    assert result.title == "Activist Serikzhan Bilash fined over unsanctioned picket"
    assert result.published_at == "2024-02-20T00:00:00Z"  # <meta name="date">, via trafilatura
    assert "Serikzhan Bilash" in result.text


def test_relative_canonical_resolves_and_a_home_page_canonical_is_ignored() -> None:
    raw = html("kk_article.html")
    relative = raw.replace("</head>", '<link rel="canonical" href="/qogam/bilash/"></head>')
    result = extract(Page(source="test", url=KK_URL, html=relative))
    assert result is not None
    assert result.canonical_url == "https://daluni.kz/qogam/bilash/"

    home = raw.replace("</head>", '<link rel="canonical" href="https://daluni.kz/"></head>')
    result = extract(Page(source="test", url=KK_URL, html=home))
    assert result is not None
    assert result.canonical_url == KK_URL


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("en_section_index.html", "https://www.steppewire.com/human-rights/"),
        ("ru_section_teasers.html", "https://vestistepi.kz/news/society/"),
    ],
)
def test_section_pages_are_not_articles(name: str, url: str) -> None:
    assert extract(page(name, url)) is None


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   \n\t",
        "plain text, no markup at all " * 20,
        "<html>",
        "<html><body></body></html>",
        "<p>a fragment</p>",
        "<html><body><p>Too short to be an article.</p></body></html>",
        "<html><body>\x00\x01\x02<p>" + body() + "</p></body>",
        "<html><body><div><div><p>" + body() + "<div><span><table><tr><td>",
        "<?xml version='1.0' encoding='utf-8'?><html><body><p>" + body() + "</p></body></html>",
        "<html><body>" + "<div>" * 5000 + body() + "</div>" * 5000 + "</body></html>",
        "<html><head><script type='application/ld+json'>{broken,,</script>"
        "<link rel='canonical' href='http://[::1'><meta property='article:published_time' "
        "content='yesterday'></head><body><article><h1>T</h1><p>" + body() + "</p>"
        "<time datetime='2999-01-01'>future</time></article></body></html>",
        "Ð\x9fÑ\x80Ð¸Ð²ÐµÑ\x82 <html><body><p>" + "Ð¿Ñ\x80Ð°Ð²Ð¾ " * 80 + "</p></body></html>",
    ],
)
def test_bad_input_never_raises(raw: str) -> None:
    result = extract(Page(source="test", url="https://ex.com/a", html=raw))
    if result is not None:
        assert len(result.text.split()) >= 40
        assert result.canonical_url == "https://ex.com/a"
        assert result.published_at is None


def test_broken_markup_still_gives_the_text() -> None:
    raw = "<html><head><title>Court hears appeal | Ex</title><body><div><p>" + body()
    result = extract(Page(source="test", url="https://ex.com/a", html=raw))
    assert result is not None
    assert result.title == "Court hears appeal"
    assert "adjourned the hearing" in result.text


def test_title_falls_back_to_title_element_without_site_suffix() -> None:
    raw = (
        "<html><head><title>Court fines activist over picket - Steppe Wire</title>"
        '<meta property="og:site_name" content="Steppe Wire"></head>'
        f"<body><div class='text'><p>{body()}</p></div></body></html>"
    )
    result = extract(Page(source="test", url="https://steppewire.com/a", html=raw))
    assert result is not None
    assert result.title == "Court fines activist over picket"


def test_feed_title_and_date_fill_in_when_the_page_is_silent() -> None:
    raw = f"<html><body><div><p>{body()}</p></div></body></html>"
    result = extract(
        Page(
            source="test",
            url="https://ex.com/a",
            html=raw,
            feed_title="From the feed",
            feed_published="Tue, 14 May 2024 09:30:00 +0500",
        )
    )
    assert result is not None
    assert result.title == "From the feed"
    assert result.published_at == "2024-05-14T04:30:00Z"


def test_page_date_wins_over_feed_date() -> None:
    result = extract(replace(page("kk_article.html", KK_URL), feed_published="2024-04-20"))
    assert result is not None
    assert result.published_at == "2024-04-18T00:00:00Z"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-14T09:30:00+05:00", "2024-05-14T04:30:00Z"),
        ("2024-05-14T09:30:00+0500", "2024-05-14T04:30:00Z"),
        ("2024-05-14T04:30:00Z", "2024-05-14T04:30:00Z"),
        ("2024-05-14T04:30:00.123456Z", "2024-05-14T04:30:00Z"),
        ("2024-05-14 04:30", "2024-05-14T04:30:00Z"),
        ("2024-05-14", "2024-05-14T00:00:00Z"),
        (" 2024-05-14T04:30:00 ", "2024-05-14T04:30:00Z"),
        ("Tue, 14 May 2024 09:30:00 +0500", "2024-05-14T04:30:00Z"),
        ("Tue, 14 May 2024 04:30:00 GMT", "2024-05-14T04:30:00Z"),
        ("2024-05-14T09:30:00+05:00Z", "2024-05-14T09:30:00Z"),
        ("", None),
        ("yesterday", None),
        ("2024-13-45", None),
        ("1970-01-01T00:00:00Z", None),
        ("2999-01-01", None),
    ],
)
def test_normalize_date(value: str, expected: str | None) -> None:
    assert normalize_date(value) == expected


def test_content_hash_normalises_case_width_and_whitespace() -> None:
    assert content_hash("Aiman  Umarova\nfiled\tan appeal") == content_hash(
        "aiman umarova filed an appeal "
    )
    assert content_hash("ﬁled ＡＰＰＥＡＬ") == content_hash("filed appeal")
    assert content_hash("Умарова") == content_hash("УМАРОВА")
    assert content_hash("a") != content_hash("b")
    assert len(content_hash("")) == 64


def test_extract_links_from_a_section_page() -> None:
    links = extract_links(html("en_section_index.html"), "https://ignored-by-base-href.com/")
    assert links == [
        "https://www.steppewire.com/",
        "https://www.steppewire.com/news/",
        "https://www.steppewire.com/human-rights/",
        "https://www.steppewire.com/news/2024/05/rusafa-women?utm_source=section",
        "https://www.steppewire.com/news/2024/05/umarova-appeal",
        "https://www.steppewire.com/news/2024/05/bilash-court",
        "https://www.steppewire.com/news/2024/05/sauytbay-award",
        "https://partner.example.org/story/123",
        "https://www.steppewire.com/human-rights/?page=2",
        "https://www.steppewire.com/about",
        "https://www.steppewire.com/privacy",
    ]


def test_extract_links_resolves_against_the_page_url() -> None:
    raw = (
        "<a href='../politics/'>up</a> <a href=' story-1\n'>1</a> <a href='#top'>top</a>"
        "<a href='//cdn.ex.com/x.js#frag'>cdn</a> <a href='HTTPS://EX.COM/Upper'>u</a>"
        "<a href='tel:+7700'>call</a> <a href='http://[::1'>bad</a> <a>no href</a>"
        "<a href='story-1'>dup</a>"
    )
    assert extract_links(raw, "https://ex.com/news/society/") == [
        "https://ex.com/news/politics/",
        "https://ex.com/news/society/story-1",
        "https://cdn.ex.com/x.js",
        "https://EX.COM/Upper",
    ]


@pytest.mark.parametrize("raw", ["", "no markup", "<html>", "\x00<a href='/a'>"])
def test_extract_links_never_raises(raw: str) -> None:
    assert isinstance(extract_links(raw, "https://ex.com/"), list)


def test_a_bug_in_extraction_is_reported_not_taken_for_not_an_article(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real page cannot make the extractor raise; a bug can. Stand one in.
    from alerts.outbox import enqueue
    from crawler.config import Config
    from crawler.extraction import article as extraction
    from crawler.matching.matcher import Matcher
    from crawler.models import Page
    from crawler.run.ingest import Ingest
    from crawler.storage.store import open_database

    def broken(page: Page) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(extraction, "_extract", broken)
    page = Page(source="orda", url="https://orda.kz/a", html="<p>text</p>")
    with pytest.raises(extraction.ExtractionFailed, match="KeyError: 'a bug'"):
        extraction.extract(page)
    config = Config(tmp_path / "nw.toml", tmp_path / "nw.db", (), (), ())
    ingest = Ingest(config, open_database(config.database), Matcher.compile(()), enqueue)
    assert ingest.process(page).outcome == "not_stored"
    assert ingest.counts["articles_failed"] == 1 and ingest.counts["not_article"] == 0
    assert ingest.not_stored == [("orda", "https://orda.kz/a",
                                  "article not extracted: KeyError: 'a bug'")]


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("Aigerim Tulegenova spoke in court", 5),
        ("新疆集中营证人", 3.5),  # seven characters, two to the word
        ("サイラグル・サウトバイさん", 6.0),  # the middle dot is no letter
        ("证人 Sayragul Sauytbay 说", 3.5),  # two words and three characters
        ("قالت الناشطة جانا عميروفا", 4),  # Arabic script is spaced: words
    ],
)
def test_text_length_counts_characters_where_words_are_not_spaced(
    text: str, length: float
) -> None:
    assert text_length(text) == length


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("新疆集中营证人萨依拉古丽·沙吾提巴依周二在记者会上再次讲述了她的经历。", "zh"),
        ("新疆集中營的證人薩依拉古麗・沙吾提巴依近日再次遭到官方媒體的攻擊。", "zh"),
        ("サイラグル・サウトバイさんが、ストックホルムで講演を行った。", "ja"),
        ("قالت الناشطة جانا عميروفا إن ست نساء كازاخيات محتجزات في سجن الرصافة", "ar"),
        ("سایراگل ساویتبای درباره اردوگاه‌های سین‌کیانگ شهادت داد و گفت که", "fa"),
        ("سايراگۈل ساۋۇتباي شىنجاڭدىكى لاگېرلار ھەققىدە گۇۋاھلىق بەردى", "ug"),
    ],
)
def test_short_texts_in_cjk_and_arabic_script_get_their_language(
    text: str, language: str
) -> None:
    # Shorter than the identifier's minimum: the script's own letters decide.
    assert len(text) < 200
    assert detect_language(text, "en") == language


def test_a_short_chinese_article_is_an_article() -> None:
    body = (
        "<p>阿拉木图讯——曾在新疆集中营担任教师的萨依拉古丽·沙吾提巴依周二在记者会上再次讲述了"
        "她的经历。她表示，营中的被关押者每天被迫学习政治课程，许多人至今下落不明。</p>"
        "<p>她的律师说，沙吾提巴依女士目前在瑞典生活，仍然受到网络攻击。</p>"
    )
    html = f"<html lang='zh'><body><article><h1>证人再次发声</h1>{body}</article></body></html>"
    article = extract(Page(source="t", url="http://news.test/zh.html", html=html))
    assert article is not None and article.language == "zh"
    assert "萨依拉古丽·沙吾提巴依" in article.text
