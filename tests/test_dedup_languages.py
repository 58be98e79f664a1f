"""One story across languages: an article and its translation or retelling join; others don't.

Labelled set: tests/data/xlang/stories.toml (run with ``-s`` for the figures).
"""

from __future__ import annotations

import itertools
import tomllib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from alerts.outbox import enqueue as outbox_enqueue
from crawler.config import Watch
from crawler.extraction.article import content_hash
from crawler.matching.matcher import Matcher
from crawler.models import Article
from crawler.review.queries import Filters, load_queue
from crawler.run.analysis import matchable_text
from crawler.storage.store import open_database, save_article, story_versions
from crawler.storage.stories import (
    CROSS_THRESHOLD,
    CROSS_WINDOW_DAYS,
    Entities,
    StoryIndex,
    cross_similarity,
    entities,
)

DATA = tomllib.loads(
    (Path(__file__).parent / "data" / "xlang" / "stories.toml").read_text(encoding="utf-8")
)
ARTICLES: list[dict[str, Any]] = sorted(DATA["article"], key=lambda a: (a["published"], a["id"]))
MATCHER = Matcher.compile(
    [
        Watch(id=w["id"], kind=w["kind"], name=w["name"], aliases=tuple(w["aliases"]))
        for w in DATA["watch"]
    ]
)


def enqueue(*args: Any) -> int:
    """The outbox's enqueue without the backfill rule: the set's dates are in the past."""
    return outbox_enqueue(*args, backfill_hours=0)


def article_of(item: dict[str, Any]) -> Article:
    url = f"https://{item['lang']}.example/{item['id']}"
    return Article(
        url=url,
        canonical_url=url,
        source=f"{item['lang']}-news",
        title=item["title"],
        text=item["text"],
        published_at=f"{item['published']}T09:00:00Z",
        language="kk" if item["lang"] == "kk" else item["lang"],
        content_hash=content_hash(item["text"]),
    )


def found_in(item: dict[str, Any]) -> tuple[Article, Any, Entities]:
    article = article_of(item)
    text = matchable_text(article)
    hits = MATCHER.match(text)
    return article, hits, entities(text, hits)


FOUND = {item["id"]: found_in(item) for item in ARTICLES}


def candidate_pairs() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Pairs a cross-language join may consider (other language, a watched person in common,
    within the window): the same story (positives) and different stories (hard negatives)."""
    positives, negatives = [], []
    for a, b in itertools.combinations(ARTICLES, 2):
        ea, eb = FOUND[a["id"]][2], FOUND[b["id"]][2]
        days = abs(int(a["published"][-2:]) - int(b["published"][-2:]))
        if a["lang"] == b["lang"] or not ea.watches & eb.watches or days > CROSS_WINDOW_DAYS:
            continue
        (positives if a["story"] == b["story"] else negatives).append((a["id"], b["id"]))
    return positives, negatives


def test_the_labelled_set_is_big_enough_and_every_article_names_someone() -> None:
    positives, negatives = candidate_pairs()
    assert len(positives) >= 20 and len(negatives) >= 40
    assert all(FOUND[item["id"]][2].watches for item in ARTICLES)
    assert {item["lang"] for item in ARTICLES} == {"en", "ru", "kk"}


def test_pairs_precision_and_recall() -> None:
    positives, negatives = candidate_pairs()
    print(f"\ncross-language pairs: {len(positives)} same story, {len(negatives)} hard negatives")
    for threshold in (0.1, 0.15, 0.2, 0.25, 0.3, 0.4):
        joined = [p for p in positives if cross_similarity(*(FOUND[i][2] for i in p)) >= threshold]
        wrong = [p for p in negatives if cross_similarity(*(FOUND[i][2] for i in p)) >= threshold]
        precision = len(joined) / max(1, len(joined) + len(wrong))
        shown = f"{threshold:.2f}" + (" (default)" if threshold == CROSS_THRESHOLD else "")
        print(
            f"  threshold {shown:14} precision {precision:.3f} "
            f"recall {len(joined) / len(positives):.3f} ({len(joined)}/{len(positives)}), "
            f"wrong joins {len(wrong)}"
        )
    def joins(pair: tuple[str, str]) -> bool:
        return cross_similarity(FOUND[pair[0]][2], FOUND[pair[1]][2]) >= CROSS_THRESHOLD

    joined = [pair for pair in positives if joins(pair)]
    wrong = [pair for pair in negatives if joins(pair)]
    assert wrong == []
    assert len(joined) / len(positives) >= 0.9


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    return open_database(tmp_path / "nw.db")


def store_all(db: sqlite_utils.Database, cross: bool = True) -> dict[str, int]:
    """Store every labelled article in publication order, as the ingest does; story per id."""
    stories = StoryIndex.load(db, threshold=0.5, window_days=30)
    story_of = {}
    for item in ARTICLES:
        article, hits, found = FOUND[item["id"]]
        result = save_article(
            db, article, hits, lambda _: ("hook",), enqueue, stories=stories,
            entities=found if cross else None,
        )  # fmt: skip
        assert result.story_id is not None
        story_of[item["id"]] = result.story_id
    return story_of


def test_versions_join_one_story_and_alert_once(db: sqlite_utils.Database) -> None:
    story_of = store_all(db)
    labelled: dict[str, set[int]] = defaultdict(set)
    for item in ARTICLES:
        labelled[item["story"]].add(story_of[item["id"]])
    owners: dict[int, set[str]] = defaultdict(set)
    for item in ARTICLES:
        owners[story_of[item["id"]]].add(item["story"])
    # Precision first: no stored story mixes two labelled stories.
    assert all(len(stories) == 1 for stories in owners.values()), owners
    split = {story for story, ids in labelled.items() if len(ids) > 1}
    whole = len(labelled) - len(split)
    print(f"\nstories stored whole: {whole} of {len(labelled)}; split: {sorted(split)}")
    assert len(split) <= 2
    # One alert per (watch, story): a translation adds no alert of its own.
    alerts = db.execute("SELECT watch_id, story_id FROM alerts").fetchall()
    assert len(alerts) == len(set(alerts))
    expected = {
        (hit.watch_id, story_of[item["id"]]) for item in ARTICLES for hit in FOUND[item["id"]][1]
    }
    assert set(alerts) == expected
    assert len(alerts) < sum(len(FOUND[item["id"]][1]) for item in ARTICLES)
    # The story lists its versions by language.
    versions = story_versions(db, story_of["m1-en"])
    assert sorted(versions) == ["en", "kk", "ru"]
    assert versions["kk"] == ["https://kk.example/m1-kk"]
    joined = db.execute(
        "SELECT COUNT(*) FROM articles WHERE story_similarity IS NOT NULL"
    ).fetchone()[0]
    assert joined >= 20
    # The review queue shows them as one story with its versions' languages.
    queue = load_queue(db.conn, Filters(watch="max-bokayev"), page_size=50)
    by_story = {group.story_id: group for group in queue.groups}
    assert by_story[story_of["m1-en"]].languages == ["en", "kk", "ru"]
    assert len(by_story[story_of["m1-en"]].hits) == 3


def test_without_entities_every_version_is_its_own_story(db: sqlite_utils.Database) -> None:
    story_of = store_all(db, cross=False)
    assert len(set(story_of.values())) == len(ARTICLES)


def test_the_cross_language_index_is_restored_in_the_next_run(
    db: sqlite_utils.Database,
) -> None:
    first = FOUND["z1-en"]
    stories = StoryIndex.load(db, threshold=0.5, window_days=30)
    kept = save_article(db, first[0], first[1], lambda _: ("hook",), enqueue, stories=stories,
                        entities=first[2])  # fmt: skip
    restored = StoryIndex.load(db, threshold=0.5, window_days=30)
    assert len(restored.cross) == 1
    later = FOUND["z1-kk"]
    joined = save_article(db, later[0], later[1], lambda _: ("hook",), enqueue, stories=restored,
                          entities=later[2])  # fmt: skip
    assert joined.story_id == kept.story_id and joined.cross_language
    assert joined.alerts_queued == 0 and kept.alerts_queued == 1


def test_same_person_same_day_other_story_stays_apart() -> None:
    # Bilash detained (b1) and Bilash's press conference (b2), both on 5 November.
    counts = Counter(
        cross_similarity(FOUND[a][2], FOUND[b][2]) >= CROSS_THRESHOLD
        for a in ("b1-en", "b1-ru", "b1-kk")
        for b in ("b2-ru", "b2-kk")
        if a[-2:] != b[-2:]
    )
    assert counts[True] == 0 and counts[False] == 4
