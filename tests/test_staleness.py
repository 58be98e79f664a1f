"""Quiet sources and watches in-process: the rhythm rule, the status a run writes, the notices
in every channel type, the schema step, and the helpers discover and sources test rest on."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.console import ConsoleChannel
from alerts.payload import Notice, RetryableError
from alerts.silence import watch_silence
from alerts.slack import render_notice
from alerts.source_alerts import source_alerts
from alerts.templates import Templates, notice_context
from crawler.clock import FakeClock, using
from crawler.config import Channel, Config, Source, Watch
from crawler.run.coverage import Coverage, SourceLinks, article_likeness, blind_reason
from crawler.run.health import SourceHealth
from crawler.run.staleness import DAY, describe_seconds, judge, learn, parse_duration
from crawler.sources.discover import default_name, shape
from crawler.storage.store import MIGRATIONS, migrate, open_database
from tests.conftest import save_hit

START = datetime(2026, 12, 1, 8, tzinfo=UTC)


def days(*offsets: float) -> list[datetime]:
    return [START + timedelta(days=offset) for offset in offsets]


# --- the rule ---------------------------------------------------------------------------------


def test_until_four_gaps_are_known_the_limit_is_seven_days() -> None:
    assert learn([]).stale_after == 7 * DAY and not learn([]).learned
    assert learn(days(0, 1, 2, 3)).stale_after == 7 * DAY  # three gaps


def test_the_limit_is_one_and_a_half_times_the_longest_gap_never_under_a_day() -> None:
    rhythm = learn(days(0, 1, 2, 3, 6, 7))  # a three-day lull among daily gaps
    assert rhythm.learned and rhythm.longest_gap == 3 * DAY and rhythm.usual_gap == DAY
    assert rhythm.stale_after == 4.5 * DAY
    hourly = learn([START + timedelta(hours=n) for n in range(48)])
    assert hourly.stale_after == DAY  # the floor


def test_the_rhythm_comes_from_the_thirty_days_before_the_last_arrival() -> None:
    # A 20-day holiday long ago, then daily arrivals for 40 days: the holiday is forgotten.
    old = days(0, 20, *range(21, 61))
    assert learn(old).stale_after == 1.5 * DAY
    # ...but a weekend lull inside the window is remembered, however busy the weekdays.
    busy = [START + timedelta(minutes=15 * n) for n in range(400)]
    after_weekend = busy[-1] + timedelta(hours=63)
    weekend = learn([*busy, after_weekend, *(after_weekend + timedelta(minutes=15 * n)
                                              for n in range(1, 400))])
    assert weekend.stale_after == pytest.approx(1.5 * 63 * 3600)


def test_durations() -> None:
    assert parse_duration("36h") == 36 * 3600 and parse_duration("3d") == 3 * DAY
    assert parse_duration("90m") == 90 * 60
    for bad in ("3", "3 days", "0d", "-1d", "d"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert describe_seconds(600) == "10 min"
    assert describe_seconds(36 * 3600) == "36 h"
    assert describe_seconds(4.4 * DAY) == "4 days"


# --- what a run writes ------------------------------------------------------------------------


def config_with(tmp_path: Path, sources: tuple[Source, ...], channels: tuple[Channel, ...] = (),
                watches: tuple[Watch, ...] = (), operator: str = "") -> Config:
    from crawler.config import AlertSettings

    return Config(
        path=tmp_path / "newswatch.toml",
        database=tmp_path / "nw.db",
        sources=sources,
        watches=watches,
        channels=channels,
        alerts=AlertSettings(operator_channel=operator),
    )


class Recorder:
    """A channel that keeps what it was told (and fails when asked to)."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []
        self.fail = False

    def send(self, message: object) -> None:
        raise AssertionError("no alert expected")

    def notify(self, notice: Notice) -> None:
        if self.fail:
            raise RetryableError("HTTP 503")
        self.notices.append(notice)

    def close(self) -> None:
        pass


def run_once(db: object, config: Config, health: SourceHealth, coverage: Coverage) -> list:
    from crawler.run.staleness import last_article_id

    first = last_article_id(db)  # type: ignore[arg-type]
    health.finish(db)  # type: ignore[arg-type]
    return judge(db, config, health, first_new_id=first, coverage=coverage)  # type: ignore[arg-type]


def test_a_blind_site_is_stale_and_told_once_and_a_quiet_feed_after_its_limit(
    tmp_path: Path,
) -> None:
    site = Source(name="courier", site="https://courier.example/",
                  sections=("https://courier.example/news/",), follow=(r"/news/\d{4}/",))
    feed = Source(name="wire", feed="https://wire.example/rss", stale_after="2d")
    config = config_with(tmp_path, (site, feed), (Channel("ops", "console"),), operator="ops")
    ops = Recorder()
    with using(FakeClock("2026-12-01T08:00:00Z")) as fake:
        db = open_database(config.database)
        health, coverage = SourceHealth(config.sources), Coverage()
        health.ok("courier")
        for n in range(37):
            coverage.link("courier", f"https://courier.example/articles/2026/12/story-{n}", False)
        health.ok("wire")
        coverage.offer("wire")
        save_hit(db, watch_id="w", name="x", url="https://wire.example/1", text="x said.",
                 channels=(), source="wire")
        verdicts = {v.source: v for v in run_once(db, config, health, coverage)}
        assert verdicts["courier"].status == "stale" and verdicts["courier"].blind
        assert verdicts["courier"].reason.startswith(
            "no link on the section pages matched follow ['/news/\\d{4}/']; 37 links seen, "
            "e.g. /articles/2026/12/story-")
        assert verdicts["wire"].status == "ok"
        assert source_alerts(db, config, senders={"ops": ops}) == ["source courier has gone quiet"]
        assert ops.notices[0].type == "source.stale"
        assert ops.notices[0].data["reason"] == verdicts["courier"].reason

        fake.advance(days=2, hours=1)  # the wire answers 304 for two days: stale (stale_after)
        health = SourceHealth(config.sources)
        health.ok("courier")
        health.ok("wire", not_modified=True)
        coverage = Coverage()
        coverage.link("courier", "https://courier.example/news/2026/12/fixed", True)
        coverage.offer("courier")
        verdicts = {v.source: v for v in run_once(db, config, health, coverage)}
        assert verdicts["wire"].status == "stale" and verdicts["wire"].short == "quiet 2 days"
        assert verdicts["courier"].status == "ok"  # offers links again, quiet < 7 days
        ops.fail = True  # the operator's channel is down: nothing is marked told
        assert source_alerts(db, config, senders={"ops": ops}) == []
        ops.fail = False
        told = source_alerts(db, config, senders={"ops": ops})
        # No new article from the courier yet: its quiet spell is not over, nothing to say.
        assert told == ["source wire has gone quiet"]
        assert source_alerts(db, config, senders={"ops": ops}) == []
        rows = {r[0]: r[1:] for r in db.execute(
            "SELECT name, status, stale_since, stale_after_seconds FROM sources")}
        assert rows["wire"] == ("stale", "2026-12-03T09:00:00Z", 2 * DAY)
        db.close()


# --- quiet watches in every channel type ------------------------------------------------------


def test_watch_silent_reaches_console_slack_email_and_webhook_renderings(tmp_path: Path) -> None:
    watch = Watch(id="aiman-umarova", name="Aiman Umarova", channels=("console", "hook"),
                  silence_days=5)
    hidden = Watch(id="secret-case", kind="case", query="x", channels=("console",),
                   silence_days=5, redact=True)
    config = config_with(tmp_path, (), (Channel("console", "console"), Channel("hook", "webhook")),
                         (watch, hidden))
    out = io.StringIO()
    hook = Recorder()
    senders = {"console": ConsoleChannel(stream=out), "hook": hook}
    with using(FakeClock("2026-12-01T08:00:00Z")) as fake:
        db = open_database(config.database)
        from alerts.state import note_run

        note_run(db, config, "2026-12-01T08:00:00Z")
        save_hit(db, watch_id="aiman-umarova", name="Aiman Umarova", url="https://a.kz/1",
                 text="Aiman Umarova said.", channels=())
        fake.advance(days=4, hours=23)
        assert watch_silence(db, config, senders=senders) == []
        fake.advance(hours=2)
        told = watch_silence(db, config, senders=senders)
        assert told == ["aiman-umarova -> console", "aiman-umarova -> hook",
                        "secret-case -> console"]
        assert watch_silence(db, config, senders=senders) == []  # once per silent period
        db.close()
    notice = hook.notices[0]
    payload = notice.payload()
    assert payload["type"] == "watch.silent"
    assert payload["data"]["watch_id"] == "aiman-umarova" and payload["data"]["days"] == 5
    assert payload["data"]["watch_name"] == "Aiman Umarova"
    assert payload["data"]["last_hit_at"] == "2026-12-01T08:00:00Z"
    assert "── no new hit for Aiman Umarova in 5 days ──" in out.getvalue()
    assert "no new hit for secret-case in 5 days" in out.getvalue()  # redacted: its id
    slack = json.dumps(render_notice(notice))
    assert "no new hit for Aiman Umarova in 5 days" in slack
    text, html = Templates().render("notice", notice_context(notice))
    assert "Aiman Umarova" in text and "Aiman Umarova" in html


def test_a_channel_that_failed_is_told_at_the_next_run(tmp_path: Path) -> None:
    watch = Watch(id="w", name="W", channels=("hook",), silence_days=1)
    config = config_with(tmp_path, (), (Channel("hook", "webhook"),), (watch,))
    hook = Recorder()
    with using(FakeClock("2026-12-01T08:00:00Z")) as fake:
        db = open_database(config.database)
        from alerts.state import note_run

        note_run(db, config, "2026-12-01T08:00:00Z")
        fake.advance(days=2)
        hook.fail = True
        assert watch_silence(db, config, senders={"hook": hook}) == []
        hook.fail = False
        assert watch_silence(db, config, senders={"hook": hook}) == ["w -> hook"]
        assert hook.notices[0].data["last_hit_at"] is None
        db.close()


# --- the schema step --------------------------------------------------------------------------


def test_the_schema_step_learns_arrivals_from_articles_already_stored(tmp_path: Path) -> None:
    import sqlite_utils

    db = sqlite_utils.Database(tmp_path / "old.db")
    names = [step.__name__ for step in MIGRATIONS]  # later steps may follow this one
    before = names.index("_quiet_sources_and_watches")
    for number, step in enumerate(MIGRATIONS[:before], start=1):
        step(db)
        db.execute(f"PRAGMA user_version = {number}")
    db.execute("INSERT INTO sources (name, url, consecutive_failures) VALUES ('wire', 'u', 0)")
    db.execute("INSERT INTO runs (started_at, finished_at, status) VALUES "
               "('2026-12-01T08:00:00Z', '2026-12-01T08:01:00Z', 'ok')")
    for n, fetched in enumerate(("2026-12-01T08:00:10Z", "2026-12-01T08:00:20Z",
                                 "2026-12-02T08:00:10Z")):
        db.execute("INSERT INTO articles (url, canonical_url, source, fetched_at) "
                   "VALUES (?, ?, 'wire', ?)", [f"u{n}", f"u{n}", fetched])
    db.conn.commit()
    migrate(db)
    arrivals = [r[0] for r in db.execute("SELECT seen_at FROM source_arrivals ORDER BY 1")]
    # The two articles of the first run are one arrival, at the run's end.
    assert arrivals == ["2026-12-01T08:01:00Z", "2026-12-02T08:00:10Z"]
    assert db.execute("SELECT status, last_new_article_at FROM sources").fetchone() == (
        "ok", "2026-12-02T08:00:10Z")


# --- the helpers of discover and sources test -------------------------------------------------


def test_what_looks_like_an_article_and_its_shape() -> None:
    articles = [
        "https://orda.kz/news/2026/11/aktivist-zaderzhan.html",
        "https://orda.kz/articles/123456-sud-otlozhen",
        "https://orda.kz/kz/zhanalyqtar/bilash-sotqa-shaqyryldy/",
    ]
    pages = ["https://orda.kz/", "https://orda.kz/about/", "https://orda.kz/tag/courts/",
             "https://orda.kz/news/", "https://orda.kz/page/2/", "https://orda.kz/logo.png"]
    assert all(article_likeness(url) >= 2 for url in articles)
    assert all(article_likeness(url) <= 1 for url in pages)
    assert [shape(url) for url in articles] == [
        r"/news/\d{4}/", r"/articles/\d+", r"/kz/zhanalyqtar/[^/]+-[^/]+-"]
    assert default_name("https://www.orda.kz/news/") == "orda"
    assert default_name("http://127.0.0.1:8080/") == "127-0-0-1"


def test_blind_reasons_say_why() -> None:
    feed = Source(name="f", feed="https://x.example/rss")
    assert blind_reason(feed, None) == "the feed answered but lists no item with a link"
    site = Source(name="s", site="https://x.example/", sitemaps=("https://x.example/s.xml",))
    assert blind_reason(site, SourceLinks()) == "no same-site link at all on the sitemaps"
