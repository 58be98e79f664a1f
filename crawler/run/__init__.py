"""One cron cycle: the lock, the crawl through the ingest stage, source health, delivery."""

from crawler.run.cycle import RunSummary, cycle_with, run_cycle
from crawler.run.ingest import Ingest

__all__ = ["Ingest", "RunSummary", "cycle_with", "run_cycle"]
