"""The worker pool: real worker processes, killed for real mid-task; no page is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import Future
from pathlib import Path

import pytest

from crawler import clock
from crawler.config import Watch
from crawler.matching.matcher import Matcher
from crawler.models import Page
from crawler.run.analysis import Analyser
from crawler.run.pool import AnalysisPool, ProcessPool
from tests.conftest import DATA, ROOT, SECRET, WebServer
from tests.test_run import FEEDS, make_config, rows

RESULT_TIMEOUT = 120  # a hung pool fails the test instead of hanging it

POISON = 99  # outside the ranges below


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def square_or_die(n: int) -> int:
    """Kills its worker process on POISON, every time."""
    if n == POISON:
        _die()
    return n * n


def square_dying_once(job: tuple[str, int]) -> int:
    """Kills its worker the first time it meets the job the marker file names."""
    marker, n = job
    if n == POISON and not os.path.exists(marker):
        Path(marker).write_text("died once")
        _die()
    return n * n


def square_or_raise(n: int) -> int:
    if n == POISON:
        raise ValueError("no square for you")
    return n * n


def gave_up(n: object, reason: str) -> int:
    return -1


def results(futures: list[Future[int]]) -> list[int]:
    return [future.result(timeout=RESULT_TIMEOUT) for future in futures]


def test_a_worker_killed_mid_task_loses_nothing_but_its_killer() -> None:
    with ProcessPool(square_or_die, gave_up, workers=2, name=lambda n: f"job {n}") as pool:
        numbers = [*range(30), POISON, *range(30, 40)]
        futures = [pool.submit(n) for n in numbers]
        out = results(futures)
    assert out == [-1 if n == POISON else n * n for n in numbers]
    assert pool.failed == [f"job {POISON}"]
    assert pool.retried >= 1  # the killer at least, and whatever shared its pool


def test_a_worker_that_dies_once_costs_a_retry_not_a_page(tmp_path: Path) -> None:
    marker = str(tmp_path / "died")
    with ProcessPool(square_dying_once, gave_up, workers=2) as pool:
        numbers = [*range(20), POISON, *range(20, 30)]
        futures = [pool.submit((marker, n)) for n in numbers]
        out = results(futures)
    assert out == [n * n for n in numbers]
    assert Path(marker).exists()  # a worker did die
    assert pool.failed == [] and pool.retried >= 1


def test_the_pool_serves_new_inputs_after_a_death() -> None:
    with ProcessPool(square_or_die, gave_up, workers=1) as pool:
        assert results([pool.submit(POISON)]) == [-1]
        assert results([pool.submit(n) for n in (2, 3)]) == [4, 9]
        assert results([pool.submit(POISON), pool.submit(5)]) == [-1, 25]
    assert pool.failed == [repr(POISON), repr(POISON)]


def test_inputs_submitted_from_many_threads_while_workers_die_are_all_answered() -> None:
    # Submits race with the pool breaking (the crawl submits from the reactor while a
    # pool's own thread fails what it held): every input still gets its answer.
    batches = [[*range(100 + k * 40, 140 + k * 40)] for k in range(3)]  # POISON not among them
    for batch in batches:
        batch[7] = batch[29] = POISON
    futures: dict[int, list[Future[int]]] = {}
    with ProcessPool(square_or_die, gave_up, workers=2) as pool:

        def send(k: int) -> None:
            futures[k] = [pool.submit(n) for n in batches[k]]

        threads = [threading.Thread(target=send, args=(k,)) for k in range(len(batches))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        answered = {k: results(futures[k]) for k in futures}
    assert answered == {k: [-1 if n == POISON else n * n for n in batch]
                        for k, batch in enumerate(batches)}
    assert len(pool.failed) == 6


def test_a_worker_starts_on_its_parents_clock() -> None:
    with clock.using(clock.FakeClock("2031-05-01T12:00:00Z")), \
            ProcessPool(iso_now, gave_up, workers=1) as pool:
        assert results([pool.submit(0)]) == ["2031-05-01T12:00:00Z"]


def iso_now(_: object) -> str:
    return clock.iso_now()


def test_a_task_that_raises_is_given_up_without_killing_anything() -> None:
    with ProcessPool(square_or_raise, gave_up, workers=2) as pool:
        out = results([pool.submit(n) for n in (1, POISON, 2)])
    assert out == [1, -1, 4]
    assert pool.failed == [repr(POISON)] and pool.retried == 0


def test_workers_compile_the_watchlist_and_analyse_as_in_process() -> None:
    watches = [Watch(id="aigerim", kind="person", name="Aigerim Tulegenova",
                     aliases=("Айгерим Тулегенова",), channels=("hook",))]
    articles = DATA / "web" / "feeds" / "articles"
    pages = [
        Page(source="t", url=f"http://news.example/{path.name}",
             html=path.read_text(encoding="utf-8"), fetched_at="2026-11-20T10:00:00Z",
             body=b"raw bytes stay in the crawling process")
        for path in sorted(articles.glob("*.html"))
    ]
    in_process = Analyser(Matcher.compile(watches), watches)
    with AnalysisPool(watches, workers=2) as pool:
        futures = [pool.submit(page) for page in pages]
        analysed = [future.result(timeout=RESULT_TIMEOUT) for future in futures]
    assert analysed == [in_process.page(page) for page in pages]
    assert any(analysis.hits for analysis in analysed)


KILLER = """
import os, signal, sys
from crawler.run import pool

analyse = pool.analyse

def killing(page):
    if "/court-tulegenova.html" in page.url:
        os.kill(os.getpid(), signal.SIGKILL)
    return analyse(page)

pool.analyse = killing  # the pool takes it; workers find it in this script, as __mp_main__

if __name__ == "__main__":
    from crawler.cli import main
    sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.e2e
def test_a_crawl_whose_worker_dies_on_a_page_stores_the_rest_and_names_it(
    tmp_path: Path, web: WebServer
) -> None:
    config = make_config(tmp_path, web, "pool-kill", FEEDS, extra="workers = 2")
    script = tmp_path / "killer.py"
    script.write_text(KILLER, encoding="utf-8")
    env = {**os.environ, "NW_HOOK_URL": web.hook_url("pool-kill"), "NW_HOOK_SECRET": SECRET,
           "PYTHONPATH": str(ROOT)}  # this checkout's package
    env.pop("NEWSWATCH_NOW", None)
    result = subprocess.run(
        [sys.executable, str(script), "run", "--json", "-c", str(config)],
        capture_output=True, text=True, timeout=180, env=env,
    )
    assert result.returncode == 1, result.stderr  # a page not stored fails the run
    summary = json.loads(result.stdout)
    assert summary["articles_failed"] == 1
    assert "court-tulegenova.html" in result.stderr  # named in the log
    db = tmp_path / "nw.db"
    urls = {row["canonical_url"].removeprefix(web.url)
            for row in rows(db, "SELECT canonical_url FROM articles")}
    assert urls == {f"/feeds/articles/{name}.html" for name in
                    ("city-budget", "ru-tulegenova-interview", "kk-tulegenova-sot", "ru-weather")}
    assert summary["articles_new"] == 4
    errors = [row["last_error"] for row in rows(db, "SELECT last_error FROM sources")]
    assert any("court-tulegenova.html" in (error or "") for error in errors)
    assert [row["status"] for row in rows(db, "SELECT status FROM runs")] == ["partial"]


def test_a_batch_of_stores_commits_once_and_holds_nothing_after_flush(tmp_path: Path) -> None:
    import sqlite3

    from alerts.outbox import enqueue
    from crawler.run.ingest import Ingest
    from crawler.storage.store import open_database
    from tests.conftest import config_for

    watches = [Watch(id="aigerim", kind="person", name="Aigerim Tulegenova", channels=("c",))]
    config = config_for(tmp_path, (), watches)
    articles = sorted((DATA / "web" / "feeds" / "articles").glob("*.html"))
    pages = [Page(source="t", url=f"http://news.example/{path.name}",
                  html=path.read_text(encoding="utf-8"), fetched_at="2026-11-20T10:00:00Z")
             for path in articles]

    def stored() -> int:  # what another connection (the desk) sees
        with sqlite3.connect(config.database) as other:
            return int(other.execute("SELECT count(*) FROM articles").fetchone()[0])

    ingest = Ingest(config, open_database(config.database), None, enqueue)
    ingest.batch_size = 3
    outcomes = [ingest.process(page).outcome for page in pages[:3]]
    assert outcomes == ["stored"] * 3 and stored() == 3  # a full batch commits
    assert ingest.process(pages[3]).outcome == "stored"
    assert stored() == 3  # held in the next batch...
    ingest.flush()
    assert stored() == 4 and not ingest.db.conn.in_transaction  # ...until flushed
    ingest.flush()  # nothing held: nothing to do
    ingest.batch_size = 1
    assert ingest.process(pages[4]).outcome == "stored" and stored() == 5  # commits alone
    assert ingest.counts["articles_new"] == 5 and ingest.counts["hits"] >= 1
    assert ingest.not_stored == []


def test_an_article_prepared_in_a_worker_is_stored_as_one_prepared_here(tmp_path: Path) -> None:
    """Search words, story signature and the CJK trigram row made ahead (``prepare``, in the
    worker) give the same rows as when ``save_article`` works them out itself."""
    from crawler.storage.store import open_database, prepare, save_article
    from crawler.storage.stories import StoryIndex
    from tests.test_search import CHINESE, KEMAROVA, _article

    tables = ("articles_search", "articles_trigram", "article_signatures")
    contents = []
    for name, ahead in (("here", False), ("ahead", True)):
        with clock.using(clock.FakeClock("2026-11-20T10:00:00Z")):  # the same times in both
            db = open_database(tmp_path / f"{name}.db")
            stories = StoryIndex.load(db, threshold=0.5, window_days=30)
            for url, language, title, text in CHINESE + KEMAROVA:
                article = _article(url, language, title, text)
                save_article(db, article, [], lambda w: [], lambda *a: 0, stories=stories,
                             prepared=prepare(article) if ahead else None)
        contents.append({table: sorted(map(tuple, db.execute(f"SELECT * FROM {table}")))
                         for table in tables})
    assert contents[0] == contents[1]
    assert all(contents[0][table] for table in tables)  # CJK rows and signatures are there
