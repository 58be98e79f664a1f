"""One cron cycle: lock, crawl every source through the ingest pipeline, deliver, record the run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from alerts.delivery import DeliveryReport, counts_text, deliver
from alerts.outbox import enqueue, undelivered
from alerts.removals import removal_notices
from alerts.silence import watch_silence
from alerts.source_alerts import source_alerts
from alerts.state import note_run
from crawler.config import Config, CrawlSettings, Source
from crawler.run import revisit
from crawler.run.coverage import Coverage
from crawler.run.health import SourceHealth
from crawler.run.ingest import Ingest
from crawler.run.lock import RunLock
from crawler.run.pool import AnalysisPool
from crawler.run.staleness import judge, last_article_id, stale_summary
from crawler.spiders.feeds import FeedSpider
from crawler.spiders.sites import SiteSpider
from crawler.spiders.telegram import TelegramSpider
from crawler.storage import evidence
from crawler.storage.store import finish_run, open_database, source_state, start_run, utcnow
from crawler.storage.telegram import load_progress

log = logging.getLogger(__name__)

EXIT_UNAVAILABLE = 69  # sysexits EX_UNAVAILABLE: the cycle could not run (Redis gone)


@dataclass
class RunSummary:
    """The counts a cycle reports, stored in ``runs`` and printed as one line.

    The alert counts split the alerts the run had to deliver, each counted
    once: those queued by this run (``alerts_queued``) plus those earlier runs
    left undelivered (``alerts_carried``) end up ``alerts_sent`` (alone or in a
    digest), ``alerts_summarized`` (beyond a channel's cap, told as a count in
    one summary message), ``alerts_failed`` (a delivery attempt failed in this
    run: ``alerts_retrying`` will be tried again after a backoff,
    ``alerts_dead`` were given up), ``alerts_withdrawn`` (dropped unsent: an
    editor marked the story irrelevant) or ``alerts_pending`` (not tried in
    this run: not yet due, waiting for a digest, or their channel is disabled,
    resting or unreachable). So ``sent + summarized + failed + withdrawn +
    pending == queued + carried``, unless ``newswatch alerts deliver`` runs at
    the same time.
    """

    run_id: int = 0
    sources_ok: int = 0
    sources_failed: int = 0
    sources_not_modified: int = 0
    sources_stale: int = 0  # answered, but quiet beyond their rhythm or blind (among the ok)
    pages_fetched: int = 0
    articles_new: int = 0
    articles_duplicate: int = 0
    articles_failed: int = 0  # fetched but not stored (the database stayed locked)
    articles_revisited: int = 0  # stored articles fetched again (scheduled, or dated later)
    articles_changed: int = 0  # ... whose text had changed (the old one kept as a revision)
    articles_removed: int = 0  # ... found gone: 404, 410, a redirect to a non-article
    hits: int = 0
    stories_new: int = 0
    alerts_queued: int = 0
    alerts_carried: int = 0
    alerts_sent: int = 0
    alerts_summarized: int = 0
    alerts_failed: int = 0
    alerts_retrying: int = 0
    alerts_dead: int = 0
    alerts_withdrawn: int = 0
    alerts_pending: int = 0
    removals_notified: int = 0  # article.removed / mention.removed notices sent
    removals_failed: int = 0  # ... that could not be sent (tried again next run)
    failed_sources: list[str] = field(default_factory=list)
    stale_sources: list[str] = field(default_factory=list)  # "orda [quiet 4 days]"
    # Why the crawl stopped short, if it could not run to the end ("Redis unreachable
    # for 120 s"): what was stored is counted, and the exit code is EXIT_UNAVAILABLE.
    interrupted: str = ""

    @property
    def exit_code(self) -> int:
        """0 when everything worked; 1 when a source or a delivery failed (the rest was done);
        69 when the crawl could not run to the end (``interrupted``)."""
        if self.interrupted:
            return EXIT_UNAVAILABLE
        failed = self.sources_failed or self.alerts_failed or self.articles_failed
        return 1 if failed or self.removals_failed else 0

    def line(self) -> str:
        """The one summary line a run ends with."""
        failed = f" ({', '.join(self.failed_sources)})" if self.failed_sources else ""
        stale = (
            f", {self.sources_stale} stale: {', '.join(self.stale_sources)}"
            if self.sources_stale
            else ""
        )
        not_stored = f", {self.articles_failed} not stored" if self.articles_failed else ""
        alerts = counts_text(
            sent=self.alerts_sent,
            summarized=self.alerts_summarized,
            retrying=self.alerts_retrying,
            dead=self.alerts_dead,
            withdrawn=self.alerts_withdrawn,
            waiting=self.alerts_pending,
        )
        return (
            f"newswatch run {self.run_id}: sources {self.sources_ok} ok "
            f"({self.sources_not_modified} not modified{stale}), "
            f"{self.sources_failed} failed{failed}; "
            f"articles {self.articles_new} new{not_stored}, {self.articles_revisited} revisited "
            f"({self.articles_changed} changed, {self.articles_removed} removed); "
            f"hits {self.hits}; "
            f"stories {self.stories_new} new; "
            f"alerts {alerts}"
            + (f"; interrupted: {self.interrupted}" if self.interrupted else "")
        )

    def as_dict(self) -> dict[str, Any]:
        """Machine-readable form for ``--json``."""
        return {**asdict(self), "exit_code": self.exit_code}


def scrapy_settings(crawl: CrawlSettings, log_level: str = "WARNING") -> Settings:
    """newswatch's Scrapy settings with the config's [crawl] table on top."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.setdict(
        {
            **crawl.scrapy_settings(),  # each [crawl] key names the Scrapy setting it becomes
            "LOG_LEVEL": log_level,
            # The CLI owns logging; Scrapy must not add its own root handler.
            "LOG_INSTALL_ROOT_HANDLER": False,
        },
        priority="cmdline",
    )
    return settings


# Articles stored in one transaction while the crawl is busy: one fsync instead of fifty,
# and the desk waits at most for fifty saves (a few tenths of a second) to write a verdict.
COMMIT_BATCH = 50


def crawl(
    config: Config,
    ingest: Ingest,
    health: SourceHealth,
    log_level: str,
    coverage: Coverage | None = None,
) -> int:
    """Run the feed, site and Telegram spiders together until all finish; return pages
    fetched.

    The spiders share ``coverage``: an article linked by several sources is fetched once.
    """
    process = CrawlerProcess(scrapy_settings(config.crawl, log_level))
    coverage = coverage if coverage is not None else Coverage()
    # Its worker processes start with the first page to extract: a cycle that finds
    # nothing new starts none (the spiders warm it at their first article request).
    pool = AnalysisPool(config.watches, config.crawl.workers)
    feeds = tuple(source for source in config.sources if source.feed)
    sites = tuple(source for source in config.sources if source.site)
    due = tuple(revisit.due(ingest.db, config))  # each spider takes those of its sources
    crawlers = []

    def schedule(spider: type[Any], sources: tuple[Source, ...], **extra: Any) -> None:
        """One crawler for these sources, with what every spider of the cycle shares."""
        crawler = process.create_crawler(spider)
        process.crawl(
            crawler, sources=sources, health=health, ingest=ingest, revisits=due,
            coverage=coverage, pool=pool, **extra,
        )
        crawlers.append(crawler)

    if feeds:
        states = {source.name: source_state(ingest.db, source.name) for source in feeds}
        schedule(FeedSpider, feeds, states=states)
    if sites:
        schedule(SiteSpider, sites)
    channels = tuple(source for source in config.sources if source.telegram)
    if channels:
        progress = {s.name: load_progress(ingest.db, s.name, s.telegram) for s in channels}
        schedule(
            TelegramSpider, channels, progress=progress, base=config.crawl.telegram_base,
            delay=config.crawl.telegram_delay,
        )
    ingest.batch_size = COMMIT_BATCH
    try:
        if crawlers:
            process.start()
    finally:
        pool.close()
        ingest.flush()
        ingest.batch_size = 1
    pages = 0
    for crawler in crawlers:
        if crawler.stats is not None:
            pages += int(crawler.stats.get_value("downloader/response_count") or 0)
    return pages


@dataclass(frozen=True)
class Fetched:
    """What a fetch stage reports: pages fetched, and why it stopped short ("" if it ran
    to the end)."""

    pages: int
    interrupted: str = ""


# The fetch stage of a cycle: fills the ingest and the source health, returns pages fetched.
Fetch = Callable[[Ingest, SourceHealth], int | Fetched]


def run_cycle(config: Config, *, log_level: str = "WARNING") -> RunSummary:
    """Fetch, match, store and deliver once; ``lock.Locked`` if another run holds the lock."""
    coverage = Coverage()
    return cycle_with(
        config,
        lambda ingest, health: crawl(config, ingest, health, log_level, coverage),
        coverage=coverage,
    )


def _warn_evidence_size(config: Config) -> None:
    """One warning line when the WARC files together exceed ``[evidence] warn_total_mb``."""
    limit = config.evidence.warn_total_mb
    if not limit:
        return
    used = evidence.usage(evidence.evidence_dir(config.database))
    if used["bytes"] > limit * 1024 * 1024:
        log.warning(
            "evidence: %d WARC files take %.0f MB in %s, over warn_total_mb = %d "
            "(archive the older files: see the README)",
            used["files"],
            used["bytes"] / 1024 / 1024,
            used["directory"],
            limit,
        )


def cycle_with(config: Config, fetch: Fetch, *, coverage: Coverage | None = None) -> RunSummary:
    """One cycle around a fetch stage (in-process Scrapy, or the Redis consumer).

    Takes the lock (``lock.Locked`` if held), records the ``runs`` row, and after
    ``fetch`` writes source health and status (failing, stale: ``crawler.run.staleness``,
    judged with the crawl's ``coverage`` when it ran in this process), delivers
    alerts and tells the operator and the channels of watches gone quiet.
    """
    with RunLock(config.database):
        db = open_database(config.database)
        summary = RunSummary(run_id=start_run(db))
        status = "failed"
        try:
            note_run(db, config, utcnow())  # first runs of new watches: the backfill baseline
            summary.alerts_carried = undelivered(db)
            first_new_id = last_article_id(db)
            backfill = config.alerts.backfill_hours
            # The watchlist compiles when a page is first matched in this process.
            ingest = Ingest(config, db, None, partial(enqueue, backfill_hours=backfill))
            health = SourceHealth(config.sources)
            fetched = fetch(ingest, health)
            if isinstance(fetched, Fetched):
                summary.pages_fetched, summary.interrupted = fetched.pages, fetched.interrupted
            else:
                summary.pages_fetched = fetched
            for source, url, reason in ingest.not_stored:
                health.failed(source, url, reason)
            ok, failed, not_modified = health.finish(db)
            summary.sources_ok, summary.sources_failed = ok, failed
            summary.sources_not_modified = not_modified
            summary.failed_sources = health.failed_names
            verdicts = judge(db, config, health, first_new_id=first_new_id, coverage=coverage)
            summary.stale_sources = stale_summary(verdicts)
            summary.sources_stale = len(summary.stale_sources)
            for key in (
                "articles_new",
                "articles_duplicate",
                "articles_failed",
                "articles_revisited",
                "articles_changed",
                "articles_removed",
                "hits",
                "stories_new",
                "alerts_queued",
            ):
                setattr(summary, key, ingest.counts[key])
            report: DeliveryReport = deliver(db, config)
            summary.alerts_sent = report.sent
            summary.alerts_summarized = report.summarized
            summary.alerts_retrying = report.failed
            summary.alerts_dead = report.dead
            summary.alerts_failed = report.failed + report.dead
            summary.alerts_withdrawn = report.withdrawn
            summary.alerts_pending = report.pending
            source_alerts(db, config)  # tell the operator: sources failing, stale, recovered
            removals = removal_notices(db, config)  # watches with notify_removals = true
            summary.removals_notified, summary.removals_failed = removals.sent, removals.failed
            watch_silence(db, config)  # tell watches' channels: no new hit for silence_days
            _warn_evidence_size(config)
            status = {0: "ok", EXIT_UNAVAILABLE: "interrupted"}.get(summary.exit_code, "partial")
        finally:
            counts = summary.as_dict()
            counts.pop("run_id")
            counts["failed_sources"] = ", ".join(summary.failed_sources)
            counts["stale_sources"] = ", ".join(summary.stale_sources)
            finish_run(db, summary.run_id, status, counts)
            db.close()
    return summary
