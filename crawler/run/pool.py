"""Worker processes for the pure stages: a crash of one loses no page; no Scrapy in here.

``ProcessPool`` runs one function over inputs in worker processes, each set up once by
an initializer. When a worker process dies (killed, out of memory, a crash in a C
library), Python's pool breaks and fails every input in flight with
``BrokenProcessPool``; which of them killed it is unknown. So each of those is tried
again *alone*, in a fresh single-worker pool, one after another: an innocent input
succeeds there, and the one that kills its worker again is given up, logged by name
and answered with the ``give_up`` value. New inputs go to a fresh pool meanwhile.

``AnalysisPool`` is the one newswatch uses: ``Analyser.page`` with the watchlist
compiled once per worker. The crawl's item pipeline adapts it to Scrapy
(``crawler/pipelines.py``); a distributed ingest can submit to it the same way.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import BaseContext
from typing import Any, Generic, TypeVar

from crawler.config import Watch
from crawler.extraction.article import preload
from crawler.matching.matcher import Matcher
from crawler.models import Page
from crawler.run.analysis import Analyser, Analysis

log = logging.getLogger(__name__)

In = TypeVar("In")
Out = TypeVar("Out")

# Inputs in flight per worker: one being worked on, one waiting, so no worker idles
# between two; more would only hold pages in memory.
IN_FLIGHT_PER_WORKER = 2


def default_workers() -> int:
    """One worker process per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _context() -> BaseContext:
    # fork: a worker starts in milliseconds with the modules already imported, and it
    # inherits the process's clock (tests move a FakeClock; NEWSWATCH_NOW shifts it).
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


class ProcessPool(Generic[In, Out]):
    """``task(input)`` in ``workers`` processes, each prepared by ``initializer(*initargs)``.

    ``submit`` returns a future that always gets a result, never an exception: the
    task's own, or ``give_up(input, reason)`` when the task raised or its worker died
    twice on the input. Inputs given up are listed in ``failed`` (by ``name(input)``).
    """

    def __init__(
        self,
        task: Callable[[In], Out],
        give_up: Callable[[In, str], Out],
        *,
        workers: int = 0,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
        name: Callable[[In], str] = repr,
        preload: Callable[[], None] | None = None,
    ) -> None:
        self.task = task
        self.give_up = give_up
        self.workers = workers or default_workers()
        self.capacity = self.workers * IN_FLIGHT_PER_WORKER  # what a caller should keep in flight
        self.name = name
        self.failed: list[str] = []
        self.retried = 0  # inputs tried again alone after a worker died
        self._initializer = initializer
        self._initargs = initargs
        self._preload = preload  # run here once, before the first worker forks
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None  # started by the first input
        self._alone: ProcessPoolExecutor | None = None  # the single-worker pool for retries
        self._suspects: deque[tuple[In, Future[Out]]] = deque()
        self._retrying = False
        self._closed = False

    def submit(self, item: In) -> Future[Out]:
        """Start the task on ``item``; the future's result is its output (or ``give_up``'s)."""
        result: Future[Out] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the pool is closed")
            pool = self._pool = self._pool or self._executor(self.workers)
            try:
                running = pool.submit(self.task, item)
            except BrokenProcessPool:  # it broke just now: its inputs are being retried
                pool = self._pool = self._executor(self.workers)
                running = pool.submit(self.task, item)
        running.add_done_callback(lambda done: self._settled(item, result, done, pool))
        return result

    def close(self) -> None:
        """Wait for the inputs in flight, then stop the worker processes."""
        with self._lock:
            self._closed = True
            pools = [self._pool, self._alone]
        for pool in pools:
            if pool is not None:
                pool.shutdown(wait=True)
        with self._lock:  # a retry may have started a pool meanwhile
            pools = [self._alone]
        for pool in pools:
            if pool is not None:
                pool.shutdown(wait=True)

    def __enter__(self) -> ProcessPool[In, Out]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals ------------------------------------------------------------------------

    def _executor(self, workers: int) -> ProcessPoolExecutor:
        if self._preload is not None:
            preload, self._preload = self._preload, None
            preload()
        return ProcessPoolExecutor(
            workers, mp_context=_context(), initializer=self._initializer, initargs=self._initargs
        )

    def _settled(
        self, item: In, result: Future[Out], done: Future[Out], pool: ProcessPoolExecutor
    ) -> None:
        """A first try finished: its output, or (the worker died) a retry alone."""
        error = done.exception()
        if error is None:
            result.set_result(done.result())
            return
        if not isinstance(error, BrokenProcessPool):
            result.set_result(self._given_up(item, f"{type(error).__name__}: {error}"))
            return
        with self._lock:
            if self._pool is pool:  # the first of its inputs to hear: new inputs go elsewhere
                self._pool = None
                log.warning("a worker process died; the inputs it had are tried again alone")
            self.retried += 1
            self._suspects.append((item, result))
            start = not self._retrying
            self._retrying = True
        pool.shutdown(wait=False)
        if start:
            self._retry_next()

    def _retry_next(self) -> None:
        """Try the next suspect alone; one at a time, so a death names its input."""
        with self._lock:
            if not self._suspects:
                self._retrying = False
                return
            item, result = self._suspects.popleft()
            alone = self._alone = self._alone or self._executor(1)
        try:
            running = alone.submit(self.task, item)
        except BrokenProcessPool as exc:
            running = Future()
            running.set_exception(exc)
        running.add_done_callback(lambda done: self._retried(item, result, done, alone))

    def _retried(
        self, item: In, result: Future[Out], done: Future[Out], alone: ProcessPoolExecutor
    ) -> None:
        error = done.exception()
        if error is None:
            result.set_result(done.result())
        elif isinstance(error, BrokenProcessPool):
            with self._lock:
                if self._alone is alone:
                    self._alone = None
            alone.shutdown(wait=False)
            result.set_result(self._given_up(item, "its worker process died on it twice"))
        else:
            result.set_result(self._given_up(item, f"{type(error).__name__}: {error}"))
        self._retry_next()

    def _given_up(self, item: In, reason: str) -> Out:
        name = self.name(item)
        with self._lock:
            self.failed.append(name)
        log.error("gave up on %s: %s", name, reason)
        return self.give_up(item, reason)


# --- the analysis pool ----------------------------------------------------------------------

_analyser: Analyser | None = None  # the worker process's own, made once by _start_worker


def _start_worker(watches: tuple[Watch, ...]) -> None:
    """Compile the watchlist once, in the worker process."""
    global _analyser
    _analyser = Analyser(Matcher.compile(watches), watches)


def analyse(page: Page) -> Analysis:
    """``Analyser.page`` with the worker's compiled watchlist."""
    if _analyser is None:
        raise RuntimeError("analyse() runs in a worker started by AnalysisPool")
    return _analyser.page(page)


def _not_analysed(page: Page, reason: str) -> Analysis:
    return Analysis(None, failure=f"not analysed: {reason}")


def _page_name(page: Page) -> str:
    return f"{page.url} (source {page.source})"


class AnalysisPool(ProcessPool[Page, Analysis]):
    """Extract and match pages in worker processes; the caller stores what they made.

    A page given up comes back as an ``Analysis`` with ``failure`` set, which
    ``Ingest.process`` counts as not stored and names in the source's health.
    """

    def __init__(self, watches: Sequence[Watch], workers: int = 0) -> None:
        super().__init__(
            analyse,
            _not_analysed,
            workers=workers,
            initializer=_start_worker,
            initargs=(tuple(watches),),
            name=_page_name,
            preload=preload,
        )

    def submit(self, page: Page) -> Future[Analysis]:
        """Analyse a page; its raw body stays here (extraction reads ``html``)."""
        return super().submit(dataclasses.replace(page, body=b""))


def worth_analysing(page: Page) -> bool:
    """Whether ``Ingest.process`` would extract this page (a 304, an error, an empty
    revisit need no worker)."""
    return bool(page.html) and page.status == 200 and not page.error
