"""Telegram channels: the preview parser, posts as articles, which pages a run reads, the
config keys, and posts through the ingest stage (stories shared with the articles they link)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from alerts import enqueue
from crawler import clock
from crawler.config import ConfigError, CrawlSettings, load_config
from crawler.distributed.consumer import decode_item, encode_item
from crawler.extraction.telegram import (
    MAX_GAPS,
    ChannelReader,
    Post,
    PreviewPage,
    Progress,
    embed_url,
    followable,
    parse_preview,
    post_article,
    post_of_url,
    post_title,
    read_post,
)
from crawler.matching.matcher import Matcher
from crawler.models import Page
from crawler.run.ingest import Ingest
from crawler.spiders.telegram import retry_after
from crawler.storage.store import open_database
from crawler.storage.telegram import load_progress, save_progress
from tests.conftest import DATA
from tests.telegram_pages import TgPost, embed_page, render_page

FIXTURE = (DATA / "telegram" / "steppe_rights.html").read_text(encoding="utf-8")


def fixture_page() -> PreviewPage:
    return parse_preview(
        FIXTURE,
        source="steppe",
        channel="steppe_rights",
        page_url="https://t.me/s/steppe_rights",
        fetched_at="2026-11-14T13:00:00Z",
        language_hint="ru",
    )


# --- the parser ---------------------------------------------------------------------------


def test_a_preview_page_becomes_posts_in_page_order() -> None:
    page = fixture_page()
    assert page.is_preview
    assert page.ids == [202, 203, 204, 205, 206, 207]  # the service message 201 is not a post
    assert page.before == 201  # <link rel="prev">: the older page
    posts = {post.id: post for post in page.posts}
    russian = posts[202]
    assert russian.url == "https://t.me/steppe_rights/202"
    assert russian.source == "steppe" and russian.channel == "steppe_rights"
    assert russian.published_at == "2026-11-14T07:30:00Z"
    # <br> is a line break, runs of spaces collapse, a link stays as the text it shows,
    # an emoji image as its character.
    assert russian.text == (
        "Суд над Айгерим Тулегеновой отложен\n\n"
        "Заседание по делу правозащитницы перенесли на 20 ноября. Адвокат подала ходатайство "
        "об изменении меры пресечения.\nПодробности: courier.example/news/… ⚖"
    )
    assert russian.links == ("https://courier.example/news/2026/11/tulegenova-hearing",)
    assert posts[203].text == "" and posts[203].links == ()  # a photo alone


def test_forwards_link_previews_captions_and_replies() -> None:
    posts = {post.id: post for post in fixture_page().posts}
    assert posts[204].text.startswith("Айгерим Тулегенованың жақтастары")  # a photo's caption
    forwarded = posts[205]
    assert forwarded.forwarded_from == "Atajurt Volunteers"
    assert forwarded.forwarded_url == "https://t.me/atajurt_volunteers/4410"
    preview = posts[206]
    assert preview.text == "Our statement on the verdict: read it here"
    assert preview.preview_title == "Lawyers for Aigerim Tulegenova appeal the verdict"
    assert preview.preview_description == "The defence says the court ignored\nthree witnesses."
    assert preview.preview_site == "Northern Courier"
    assert preview.links == (
        "https://courier.example/news/2026/11/statement?utm_source=telegram",
    )
    # A reply quotes the post it answers; the quote is not the reply's text.
    assert posts[207].text == "Update: the hearing will be open to the press."


def test_pages_that_are_not_a_channel_preview() -> None:
    user_page = (
        "<html><body><div class='tgme_page'><div class='tgme_page_title'>Aigerim</div>"
        "<a class='tgme_action_button_new' href='tg://resolve?domain=someone'>Send Message</a>"
        "</div></body></html>"
    )
    for html in ("", "   ", "not html at all", user_page):
        assert not parse_preview(html, source="s", channel="someone").is_preview
    # A channel with no post yet is still a channel.
    empty = render_page("steppe_rights", [], None)
    page = parse_preview(empty, source="s", channel="steppe_rights")
    assert page.is_preview and page.posts == () and page.before is None


def test_posts_of_another_channel_and_bad_links_are_left_out() -> None:
    html = render_page(
        "steppe_rights",
        [TgPost(5, 'See <a href="javascript:alert(1)">this</a> and <a href="tg://x">that</a>')],
        None,
    ).replace('data-post="steppe_rights/5"', 'data-post="Steppe_Rights/5"')
    other = html.replace('data-post="Steppe_Rights/5"', 'data-post="elsewhere/5"')
    post = parse_preview(html, source="s", channel="steppe_rights").posts[0]
    assert post.channel == "Steppe_Rights" and post.url == "https://t.me/Steppe_Rights/5"
    assert post.links == ()
    assert parse_preview(other, source="s", channel="steppe_rights").posts == ()


def test_a_post_read_again_alone_or_gone() -> None:
    assert post_of_url("https://t.me/steppe_rights/202") == ("steppe_rights", 202)
    assert post_of_url("https://t.me/s/steppe_rights") is None
    assert post_of_url("https://courier.example/steppe_rights/202") is None
    assert embed_url("http://127.0.0.1:8080/", "steppe_rights", 202) == (
        "http://127.0.0.1:8080/steppe_rights/202?embed=1&mode=tme"
    )
    alone = embed_page("steppe_rights", TgPost(202, "Aigerim Tulegenova was released."))
    found, gone = read_post(alone, source="s", channel="steppe_rights", post_id=202)
    assert found is not None and found.text == "Aigerim Tulegenova was released." and not gone
    missing = embed_page("steppe_rights", None)
    assert read_post(missing, source="s", channel="steppe_rights", post_id=202) == (None, True)
    other = read_post(alone, source="s", channel="steppe_rights", post_id=7)
    assert other == (None, False)  # not this post, and not "not found": no verdict
    assert read_post("<html><body>Bad gateway</body></html>", source="s",
                     channel="steppe_rights", post_id=202) == (None, False)


# --- posts as articles --------------------------------------------------------------------


def test_a_post_becomes_an_article() -> None:
    posts = {post.id: post for post in fixture_page().posts}
    article = post_article(posts[202])
    assert article is not None
    assert article.url == article.canonical_url == "https://t.me/steppe_rights/202"
    assert article.source == "steppe"
    assert article.title == "Суд над Айгерим Тулегеновой отложен"
    assert article.published_at == "2026-11-14T07:30:00Z"
    assert article.fetched_at == "2026-11-14T13:00:00Z"
    assert article.language == "ru" and article.content_hash
    assert post_article(posts[203]) is None  # no text: not an article

    kazakh = post_article(posts[204])
    assert kazakh is not None and kazakh.language == "kk"
    assert kazakh.title.endswith("…") and len(kazakh.title) <= 101

    forwarded = post_article(posts[205])
    assert forwarded is not None and forwarded.language == "en"  # the hint is only a hint
    assert forwarded.text.splitlines()[0] == "Forwarded from Atajurt Volunteers"
    assert forwarded.title.startswith("Serikzhan Bilash will speak")

    preview = post_article(posts[206])
    assert preview is not None
    assert preview.text == (
        "Our statement on the verdict: read it here\n\n"
        "Lawyers for Aigerim Tulegenova appeal the verdict\n"
        "The defence says the court ignored\nthree witnesses."
    )
    assert preview.title == "Our statement on the verdict: read it here"


def test_titles_are_the_first_line_cut_at_a_word() -> None:
    assert post_title("\n\n  First line  \nsecond") == "First line"
    long = "word " * 40
    assert post_title(long) == ("word " * 20).strip() + "…"
    assert post_title("x" * 150) == "x" * 100 + "…"


def test_links_to_follow_leave_telegram_out() -> None:
    links = [
        "https://t.me/other_channel/5",
        "https://telegram.me/joinchat/abc",
        "http://127.0.0.1:8080/s/steppe_rights?before=3",
        "http://127.0.0.1:8080/news/2026/11/a.html",
        "https://courier.example/news/b",
    ]
    assert list(followable(links, "http://127.0.0.1:8080")) == links[3:]


# --- which pages a run reads --------------------------------------------------------------


def page_of(ids: list[int], before: int | None, text: bool = True) -> PreviewPage:
    posts = tuple(
        Post("s", "c", n, f"https://t.me/c/{n}", text=f"post {n}" if text else "") for n in ids
    )
    return PreviewPage(is_preview=True, posts=posts, before=before)


def channel(newest: int, per_page: int = 5) -> dict[int | None, PreviewPage]:
    """Preview pages of a channel whose posts are 1..newest, keyed by ``before``."""
    pages: dict[int | None, PreviewPage] = {}
    for before in [None, *range(1, newest + 2)]:
        ids = [n for n in range(1, newest + 1) if before is None or n < before][-per_page:]
        pages[before] = page_of(ids, ids[0] if ids and ids[0] > 1 else None)
    return pages


def read(
    reader: ChannelReader, pages: dict[int | None, PreviewPage], fail_at: int | None = -1
) -> tuple[list[int | None], list[int]]:
    """Drive a reader like the spider: the ``before`` of each page asked, the ids taken."""
    asked: list[int | None] = []
    taken: list[int] = []
    before = reader.before
    while True:
        asked.append(before)
        if before == fail_at:
            reader.failed()
            return asked, taken
        posts, before = reader.take(pages[before])
        taken += [post.id for post in posts]
        if before is None:
            return asked, taken


def test_a_first_run_reads_back_as_far_as_max_articles() -> None:
    reader = ChannelReader(Progress("s", "c"), budget=12)
    asked, taken = read(reader, channel(30))
    assert asked == [None, 26, 21]
    assert taken == list(range(30, 18, -1))
    # What is older than the first run's reach is not a gap: history is not backfilled.
    assert reader.progress() == Progress("s", "c", newest=30)


def test_later_runs_read_back_to_the_newest_post_read() -> None:
    reader = ChannelReader(Progress("s", "c", newest=30), budget=200)
    asked, taken = read(reader, channel(30))
    assert (asked, taken) == ([None], [])  # an idle channel: one page
    reader = ChannelReader(Progress("s", "c", newest=30), budget=200)
    asked, taken = read(reader, channel(42))
    assert asked == [None, 38, 33]
    assert taken == list(range(42, 30, -1))
    assert reader.progress() == Progress("s", "c", newest=42)


def test_a_failed_page_leaves_a_gap_the_next_run_fills() -> None:
    reader = ChannelReader(Progress("s", "c", newest=30), budget=200)
    asked, taken = read(reader, channel(45), fail_at=36)
    assert asked == [None, 41, 36] and taken == list(range(45, 35, -1))
    assert reader.progress() == Progress("s", "c", newest=45, gaps=((30, 36),))

    reader = ChannelReader(reader.progress(), budget=200)
    asked, taken = read(reader, channel(47))
    assert asked == [None, 36]  # the two new posts, then the gap from where it stopped
    assert taken == [47, 46, *range(35, 30, -1)]
    assert reader.progress() == Progress("s", "c", newest=47)


def test_the_budget_of_a_later_run_leaves_a_gap_too() -> None:
    reader = ChannelReader(Progress("s", "c", newest=10), budget=7)
    asked, taken = read(reader, channel(30))
    assert asked == [None, 26]
    assert taken == list(range(30, 23, -1))
    assert reader.progress() == Progress("s", "c", newest=30, gaps=((10, 24),))
    reader = ChannelReader(reader.progress(), budget=100)
    asked, taken = read(reader, channel(30))
    assert asked == [None, 24, 19, 14]
    assert taken == list(range(23, 10, -1))
    assert reader.progress().gaps == ()


def test_posts_without_text_count_and_a_failed_first_page_changes_nothing() -> None:
    pages = {None: page_of([8, 9, 10], 8, text=False), 8: page_of([6, 7], None)}
    reader = ChannelReader(Progress("s", "c", newest=5), budget=200)
    asked, taken = read(reader, pages)
    assert asked == [None, 8] and taken == [10, 9, 8, 7, 6]
    start = Progress("s", "c", newest=5, gaps=((1, 3),))
    reader = ChannelReader(start, budget=200)
    read(reader, pages, fail_at=None)
    assert reader.progress() == start


def test_at_most_max_gaps_are_kept_the_newest() -> None:
    gaps = tuple((n * 10, n * 10 + 5) for n in range(MAX_GAPS + 5, 0, -1))
    reader = ChannelReader(Progress("s", "c", newest=1000, gaps=gaps), budget=10)
    reader.failed()
    kept = reader.progress().gaps
    assert len(kept) == MAX_GAPS and kept[0] == gaps[0]


def test_progress_is_stored_per_source_and_forgotten_for_another_channel(
    tmp_path: Path,
) -> None:
    db = open_database(tmp_path / "nw.db")
    assert load_progress(db, "steppe", "steppe_rights") == Progress("steppe", "steppe_rights")
    save_progress(db, Progress("steppe", "steppe_rights", 42, ((30, 36),)))
    assert load_progress(db, "steppe", "Steppe_Rights") == Progress(
        "steppe", "Steppe_Rights", 42, ((30, 36),)
    )
    assert load_progress(db, "steppe", "other_channel").newest == 0


def test_posts_and_progress_travel_as_json() -> None:
    post = fixture_page().posts[-2]
    assert decode_item(encode_item(post)) == post
    progress = Progress("steppe", "steppe_rights", 42, ((30, 36), (10, 12)))
    assert decode_item(encode_item(progress).encode()) == progress


def test_retry_after_in_seconds_or_as_a_date() -> None:
    with clock.using(clock.FakeClock("2026-11-16T08:00:00Z")):
        assert retry_after(b"120") == 120.0
        assert retry_after("Mon, 16 Nov 2026 08:00:30 GMT") == 30.0
        assert retry_after("Mon, 16 Nov 2026 07:00:00 GMT") == 0.0
        assert retry_after("soon") is None and retry_after(None) is None


# --- the config ---------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "newswatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_channel_by_name_or_url(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
[[source]]
telegram = "https://t.me/s/steppe_rights?before=20"
language = "ru"
follow_links = true
follow = ['/news/']

[[source]]
name = "volunteers"
telegram = "@atajurt_volunteers"

[[source]]
telegram = "t.me/Qala_Wire"

[crawl]
telegram_base = "http://127.0.0.1:8080/"
telegram_delay = 0.5
""",
        ),
    )
    steppe, volunteers, qala = config.sources
    assert (steppe.name, steppe.telegram, steppe.follow_links) == (
        "steppe_rights",
        "steppe_rights",
        True,
    )
    assert steppe.url == "https://t.me/s/steppe_rights"
    assert (volunteers.name, volunteers.telegram) == ("volunteers", "atajurt_volunteers")
    assert qala.telegram == "Qala_Wire"
    assert config.crawl.telegram_base == "http://127.0.0.1:8080"
    assert config.crawl.telegram_delay == 0.5
    # Keys without a Scrapy name are not Scrapy settings.
    assert "" not in config.crawl.scrapy_settings()
    assert set(CrawlSettings().scrapy_settings()) >= {"USER_AGENT", "DOWNLOAD_TIMEOUT"}


def test_bad_telegram_sources_are_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[source]]
telegram = "https://t.me/+AbCdEf123"

[[source]]
name = "both"
telegram = "steppe_rights"
feed = "https://example.org/rss"

[[source]]
name = "short"
telegram = "ab"

[[source]]
name = "elsewhere"
telegram = "https://example.org/s/steppe_rights"

[[source]]
name = "feedlinks"
feed = "https://example.org/rss"
follow_links = true

[crawl]
telegram_base = "t.me"
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    problems = caught.value.problems
    shown = str(path)
    expected = [
        f"{shown}: source[0].telegram: expected a public channel's name or its t.me URL, got "
        "'https://t.me/+AbCdEf123' (an invite link is a private chat, without a public preview)",
        f"{shown}: source[1]: expected one of feed, site or telegram, got 'feed and telegram'",
        f"{shown}: source[2].telegram: expected a public channel's name or its t.me URL, got "
        "'ab' (4 to 32 letters, digits and '_', a letter first)",
        f"{shown}: source[3].telegram: expected a public channel's name or its t.me URL, got "
        "'https://example.org/s/steppe_rights' (e.g. 'steppe_rights' or "
        "'https://t.me/s/steppe_rights')",
        f"{shown}: source[4].follow_links: expected follow_links only on a Telegram source, "
        "got True (a site source follows the links its follow rules match)",
        f"{shown}: crawl.telegram_base: expected an http(s) URL without query, got 't.me'",
    ]
    for line in expected:
        assert line in problems, problems


# --- posts through the ingest stage -------------------------------------------------------

WATCHES = """
[[watch]]
id = "aigerim-tulegenova"
name = "Aigerim Tulegenova"
aliases = ["Айгерим Тулегенова"]
"""

ARTICLE_HTML = """<!DOCTYPE html><html lang="en"><head><title>Hearing postponed</title>
<meta property="og:type" content="article"></head><body><article><h1>Court postpones the
hearing of Aigerim Tulegenova</h1><p>{body}</p></article></body></html>"""


def ingest_for(tmp_path: Path) -> Ingest:
    config = load_config(
        write(tmp_path, 'database = "nw.db"\n[[source]]\ntelegram = "steppe_rights"\n' + WATCHES)
    )
    db = open_database(config.database)
    queue = functools.partial(enqueue, backfill_hours=0)
    return Ingest(config, db, Matcher.compile(config.watches), queue)


def linked_page(url: str) -> Page:
    body = (
        "The regional court in Almaty postponed on Monday the hearing in the case of the "
        "human rights defender Aigerim Tulegenova until the twentieth of November, after "
        "her lawyer asked for more time to study the new evidence presented by the "
        "prosecution, which includes transcripts of intercepted phone calls and the "
        "testimony of two witnesses who did not appear in court last week."
    )
    return Page(source="steppe_rights", url=url, html=ARTICLE_HTML.format(body=body),
                fetched_at="2026-11-14T13:00:00Z")


def test_a_post_and_the_article_it_links_are_one_story_either_way(tmp_path: Path) -> None:
    url = "https://courier.example/news/2026/11/tulegenova-hearing"
    post = next(p for p in fixture_page().posts if p.id == 202)
    first = ingest_for(tmp_path / "post-first")
    by_post = first.process_post(post)
    by_article = first.process(linked_page(url))
    assert by_post.outcome == by_article.outcome == "stored"
    assert by_post.saved is not None and by_article.saved is not None
    assert by_article.saved.story_id == by_post.saved.story_id
    assert by_article.saved.alerts_queued == 0  # one alert per (watch, story)
    row = first.db.execute(
        "SELECT channel, post_id, links FROM telegram_posts WHERE article_id = ?",
        [by_post.saved.article_id],
    ).fetchone()
    assert row == ("steppe_rights", 202, f'["{url}"]')

    second = ingest_for(tmp_path / "article-first")
    by_article = second.process(linked_page(url + "?utm_source=telegram"))
    by_post = second.process_post(post)
    assert by_post.saved is not None and by_article.saved is not None
    assert by_post.saved.story_id == by_article.saved.story_id


def test_a_photo_alone_is_not_an_article(tmp_path: Path) -> None:
    ingest = ingest_for(tmp_path)
    photo = next(p for p in fixture_page().posts if p.id == 203)
    assert ingest.process_post(photo).outcome == "not_article"
    assert ingest.db.execute("SELECT COUNT(*) FROM articles").fetchone() == (0,)
