"""The review desk across scripts: search (Kemarova, «Кемаровой», Kemarovanyng), mention counts."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import httpx
import pytest
import sqlite_utils

from crawler.db import write_transaction
from crawler.matching.searchkey import fts_query, search_key
from crawler.matching.textnorm import fold_key
from crawler.models import Article
from crawler.storage.store import MIGRATIONS, migrate, open_database, save_article
from tests.test_review import PASSWORD, running_desk, write_config

KEMAROVA = [  # (url, language, title, text)
    (
        "https://en.example/kemarova-appeal",
        "en",
        "Lawyer Aliya Kemarova appeals the bureau's closure",
        "Aliya Kemarova filed the appeal on Monday. Kemarova said the closure was unlawful.",
    ),
    (
        "https://ru.example/kemarova",
        "ru",
        "Суд отклонил жалобу Кемаровой",
        "Адвокат Алия Кемарова обжалует решение. Жалобу Кемаровой суд рассмотрит в январе.",
    ),
    (
        "https://kk.example/kemarova",
        "kk",
        "Кемарованың шағымы қаралды",
        "Адвокат Әлия Кемарова бюроның жабылуына шағым түсірді.",
    ),
    (
        "https://latn.example/kemarova",
        "kk",
        "Kemarovanyng shagymy qaraldy",
        "Advokat Aliya Kemarova buronyng jabyluyna shagym tusirdi.",
    ),
]
OTHERS = [
    ("https://en.example/umarova", "en", "Umarova speaks", "Aiman Umarova spoke in Almaty."),
    ("https://ru.example/kemelova", "ru", "Кемелова на форуме", "Дана Кемелова выступила."),
]


def _article(url: str, language: str, title: str, text: str) -> Article:
    return Article(
        url=url,
        canonical_url=url,
        source=url.split("/")[2],
        title=title,
        text=text,
        language=language,
        published_at="2026-11-20T09:00:00Z",
        content_hash=url,
    )


def test_one_key_for_every_script_and_case_form() -> None:
    words = ["Kemarova", "Кемарова", "Кемаровой", "Кемарову", "Kemarovanyng", "Кемарованың"]
    keys = {word: set(search_key(fold_key(word))) for word in words}
    assert all("kemarov" in found for found in keys.values()), keys
    assert "kemarov" not in search_key(fold_key("Kemelova"))
    assert set(search_key(fold_key("Tokayev"))) & set(search_key(fold_key("Тоқаевтың")))
    assert fts_query("Aliya Kemarova") == '"ali" AND "kemarov"'
    assert fts_query("Kazakhstan") == '("kazahstan" OR "kazahs")'  # -tan may be a suffix


def test_the_migration_indexes_articles_stored_before_it(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    before = MIGRATIONS.index(next(m for m in MIGRATIONS if m.__name__ == "_article_search"))
    for number, step in enumerate(MIGRATIONS[:before], start=1):
        with write_transaction(db):
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
    db.table("articles").insert(
        {
            "url": "https://ru.example/old",
            "canonical_url": "https://ru.example/old",
            "title": "Старая статья",
            "text": "Жалобу Кемаровой отклонили.",
        }
    )
    migrate(db)
    found = db.execute(
        "SELECT rowid FROM articles_search WHERE articles_search MATCH ?", [fts_query("Kemarova")]
    ).fetchall()
    assert found == [(1,)]


@pytest.mark.e2e
def test_the_desk_finds_the_same_articles_in_every_script(tmp_path: Path) -> None:
    db = open_database(tmp_path / "newswatch.db")
    ids = {}
    for url, language, title, text in KEMAROVA + OTHERS:
        item = _article(url, language, title, text)
        ids[url] = save_article(db, item, [], lambda w: [], lambda *a: 0).article_id
    # A changed text is indexed again: the old words go, the new ones are found.
    changed = _article(OTHERS[1][0], "ru", "Кемелова на форуме", "Дана Кемелова и Жанна Умирова.")
    changed = dataclasses.replace(changed, content_hash="changed")
    assert save_article(db, changed, [], lambda w: [], lambda *a: 0).updated
    db.close()
    config = write_config(tmp_path, password_env="NW_TEST_REVIEW_PASSWORD")
    expected = {url for url, *_ in KEMAROVA}
    orders = []
    with running_desk(config, {"NW_TEST_REVIEW_PASSWORD": PASSWORD}) as url, httpx.Client() as http:
        for query in ("Kemarova", "Кемарова", "Кемаровой", "Kemarovanyng"):
            html = http.get(url + "search", params={"q": query}).text
            found = re.findall(r'<h3 class="nw-headline"><a href="([^"]+)"', html)
            assert set(found) == expected, (query, found)
            orders.append(found)
            # The words are marked in whatever form and script the article has them.
            assert "<mark>Кемаровой</mark>" in html and "<mark>Kemarovanyng</mark>" in html
        # Ranked: an article that names her twice comes first, in any script searched.
        assert all(order[0] in {KEMAROVA[0][0], KEMAROVA[1][0]} for order in orders[:3])
        html = http.get(url + "search", params={"q": "Умировой"}).text
        assert re.findall(r'<h3 class="nw-headline"><a href="([^"]+)"', html) == [OTHERS[1][0]]
        # FTS5 syntax still searches the words as written.
        html = http.get(url + "search", params={"q": '"Кемаровой"'}).text
        assert set(re.findall(r'<h3 class="nw-headline"><a href="([^"]+)"', html)) == {
            KEMAROVA[1][0]
        }


def test_every_mention_of_the_hit_is_stored_and_counted_in_the_queue(tmp_path: Path) -> None:
    from crawler.config import Watch
    from crawler.matching.matcher import Matcher
    from crawler.review.queries import Filters, load_queue

    watch = Watch(id="aiman-umarova", kind="person", name="Aiman Umarova")
    text = "Aiman Umarova appealed. Umarova said the court erred. Umarova will go on."
    hits = Matcher.compile([watch]).match(text)
    db = open_database(tmp_path / "newswatch.db")
    item = _article("https://en.example/umarova-appeal", "en", "Appeal", text)
    save_article(db, item, hits, lambda w: [], lambda *a: 0)
    count, spans = db.execute("SELECT mention_count, mention_spans FROM hits").fetchone()
    assert count == 3
    assert [text[a:b] for a, b in json.loads(spans)] == ["Aiman Umarova", "Umarova", "Umarova"]
    [group] = load_queue(db.conn, Filters()).groups
    assert group.hits[0]["mention_count"] == 3


CHINESE = [
    ("https://zh.example/li-ming", "zh", "律师李明被约谈", "据报道，律师李明已被当局约谈。"),
    ("https://zh.example/li-minghua", "zh", "李明华谈判决", "李明华说，他对判决结果感到失望。"),
    (
        "https://tw.example/sauytbay",
        "zh",
        "薩依拉古麗・沙吾提巴依再發聲",
        "證人薩依拉古麗・沙吾提巴依說。",
    ),
    (
        "https://ar.example/umirova",
        "ar",
        "جانا عميروفا",
        "وقالت الناشطة جانا عميروفا إن النساء محتجزات.",
    ),
]


def test_search_finds_chinese_inside_running_text_and_folds_traditional(tmp_path: Path) -> None:
    from crawler.review.queries import Filters, search_articles

    db = open_database(tmp_path / "newswatch.db")
    for url, language, title, text in CHINESE + KEMAROVA:
        save_article(db, _article(url, language, title, text), [], lambda w: [], lambda *a: 0)

    def found(query: str) -> list[str]:
        return [row["url"] for row in search_articles(db.conn, query, Filters())]

    # A two-character name is found as a substring (shorter than a trigram), in both articles.
    assert set(found("李明")) == {CHINESE[0][0], CHINESE[1][0]}
    assert found("李明华") == [CHINESE[1][0]]
    # Simplified finds traditional, with or without the middle dot; the snippet marks it.
    for query in ("萨依拉古丽·沙吾提巴依", "萨依拉古丽沙吾提巴依", "沙吾提巴依"):
        assert found(query) == [CHINESE[2][0]], query
    [row] = search_articles(db.conn, "沙吾提巴依", Filters())
    assert "\x02沙吾提巴依\x03" in row["snippet"]
    # Arabic words stay in the word index; Latin and Cyrillic searches are unchanged.
    assert found("عميروفا") == [CHINESE[3][0]]
    assert set(found("Kemarova")) == {url for url, *_ in KEMAROVA}


def test_the_trigram_migration_indexes_chinese_articles_stored_before_it(tmp_path: Path) -> None:
    db = sqlite_utils.Database(tmp_path / "old.db")
    before = MIGRATIONS.index(next(m for m in MIGRATIONS if m.__name__ == "_cjk_search"))
    for number, step in enumerate(MIGRATIONS[:before], start=1):
        with write_transaction(db):
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
    for url, _, title, text in CHINESE[:3] + KEMAROVA[:1]:
        db.table("articles").insert(
            {"url": url, "canonical_url": url, "title": title, "text": text}
        )
    migrate(db)
    rows = db.execute(
        "SELECT rowid FROM articles_trigram WHERE articles_trigram MATCH ?", ['"萨依拉古丽"']
    ).fetchall()
    assert rows == [(3,)]
    # Only articles with CJK characters are in it.
    assert db.execute("SELECT count(*) FROM articles_trigram").fetchone() == (3,)
