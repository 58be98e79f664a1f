"""Worker processes for the pure stages: a crash of one loses no page; no Scrapy in here.

``ProcessPool`` runs one function over inputs in worker processes, each set up once by
an initializer. When a worker process dies (killed, out of memory, a crash in a C
library), Python's pool breaks and fails every input in flight with
``BrokenProcessPool``; which of them killed it is unknown. So each of those is tried
again *alone*, in a fresh single-worker pool, one after another: an innocent input
succeeds there, and the one that kills its worker again is given up, logged by name
and answered with the ``give_up`` value. New inputs go to a fresh pool meanwhile.

Worker processes are started by a fork server (``multiprocessing``'s "forkserver"),
never forked from the crawling process itself: that process has threads (the
reactor's, the pools' own), and a child forked while another thread holds a lock
(an import, a buffered stream) can wait on it for ever (the likely cause of a crawl
that hung once in CI, its retry worker never answering). The server is one plain
process that imports the modules named in ``preload`` once; workers fork from it in
milliseconds and share what it loaded. A worker starts on its parent's clock
(``clock.adopt``).

Python's pool can also lose an input outright: one submitted in the instant the pool
breaks is added after the pool has failed what it held, and no one ever answers it.
So a broken pool is swept once it has wound down, and every input it left
unanswered is tried again alone like the others.

``AnalysisPool`` is the one newswatch uses: ``Analyser.page`` with the watchlist
compiled once per worker. The crawl's item pipeline adapts it to Scrapy
(``crawler/pipelines.py``); a distributed ingest can submit to it the same way.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import BaseContext
from typing import Any, Generic, TypeVar

from crawler import clock
from crawler.config import Watch
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


def _context(preload: Sequence[str]) -> BaseContext:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" not in methods:  # not on a POSIX system: each worker starts afresh
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # The server reads the list when it starts (once per process); "__main__" keeps
    # multiprocessing's default, so tasks defined in the main script unpickle; this
    # module holds every worker's first step.
    context.set_forkserver_preload(["__main__", __name__, *preload])
    return context


def _start(moment: clock.Clock, initializer: Callable[..., None] | None,
           initargs: tuple[Any, ...]) -> None:
    """A worker process's first step: its parent's clock, then the pool's initializer."""
    clock.adopt(moment)
    if initializer is not None:
        initializer(*initargs)


class ProcessPool(Generic[In, Out]):
    """``task(input)`` in ``workers`` processes, each prepared by ``initializer(*initargs)``.

    ``submit`` returns a future that always gets a result, never an exception: the
    task's own, or ``give_up(input, reason)`` when the task raised or its worker died
    twice on the input. Inputs given up are listed in ``failed`` (by ``name(input)``).
    ``preload`` names modules the fork server imports once for every worker.
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
        preload: Sequence[str] = (),
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
        self._preload = tuple(preload)
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None  # started by the first input
        self._alone: ProcessPoolExecutor | None = None  # the single-worker pool for retries
        # First tries not yet answered, per pool: whoever takes an entry out answers it.
        self._trying: dict[ProcessPoolExecutor, dict[Future[Out], tuple[In, Future[Out]]]] = {}
        self._broken: set[ProcessPoolExecutor] = set()  # each swept once
        self._suspects: deque[tuple[In, Future[Out]]] = deque()
        self._retrying = False
        self._unanswered: set[Future[Out]] = set()  # what close() waits for
        self._closed = False
        self._warm = False  # the fork server asked to start

    def submit(self, item: In) -> Future[Out]:
        """Start the task on ``item``; the future's result is its output (or ``give_up``'s)."""
        result: Future[Out] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the pool is closed")
            self._unanswered.add(result)
            result.add_done_callback(self._answered)
            pool = self._pool = self._pool or self._executor(self.workers)
            try:
                running = pool.submit(self.task, item)
            except BrokenProcessPool:  # it broke just now: its inputs are being retried
                pool = self._pool = self._executor(self.workers)
                running = pool.submit(self.task, item)
            self._trying.setdefault(pool, {})[running] = (item, result)
        running.add_done_callback(lambda done: self._settled(done, pool))
        return result

    def warm(self) -> None:
        """Have the fork server start loading the preloaded modules now, in the background
        (it takes seconds): the first input then waits less for it. Starts no worker, so
        a cycle that never submits waits for nothing at its end."""
        if self._warm:
            return
        self._warm = True
        if _context(self._preload).get_start_method() == "forkserver":
            multiprocessing.forkserver.ensure_running()

    def close(self) -> None:
        """Wait until every input is answered, then stop the worker processes."""
        with self._lock:
            self._closed = True
            unanswered = list(self._unanswered)
        wait(unanswered)
        with self._lock:
            pools = [self._pool, self._alone]
        for pool in pools:
            if pool is not None:
                pool.shutdown(wait=True)

    def __enter__(self) -> ProcessPool[In, Out]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals ------------------------------------------------------------------------

    def _executor(self, workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            workers, mp_context=_context(self._preload), initializer=_start,
            initargs=(clock.current(), self._initializer, self._initargs),
        )

    def _answered(self, result: Future[Out]) -> None:
        with self._lock:
            self._unanswered.discard(result)

    def _settled(self, done: Future[Out], pool: ProcessPoolExecutor) -> None:
        """A first try finished: its output, or (the worker died) a retry alone."""
        with self._lock:
            entry = self._trying.get(pool, {}).pop(done, None)
        if entry is None:  # the sweep took it
            return
        item, result = entry
        error = done.exception()
        if error is None:
            result.set_result(done.result())
        elif not isinstance(error, BrokenProcessPool):
            result.set_result(self._given_up(item, f"{type(error).__name__}: {error}"))
        else:
            self._broke(pool, [entry])

    def _broke(self, pool: ProcessPoolExecutor, entries: list[tuple[In, Future[Out]]]) -> None:
        """Inputs whose pool broke under them: each is tried again alone, in turn."""
        with self._lock:
            first = pool not in self._broken  # the first to hear: new inputs go elsewhere
            if first:
                self._broken.add(pool)
                if self._pool is pool:
                    self._pool = None
                log.warning("a worker process died; the inputs it had are tried again alone")
            self.retried += len(entries)
            self._suspects.extend(entries)
            start = not self._retrying and bool(self._suspects)
            self._retrying = self._retrying or start
        if first:
            threading.Thread(target=self._sweep, args=(pool,), daemon=True).start()
        if start:
            self._retry_next()

    def _sweep(self, pool: ProcessPoolExecutor) -> None:
        """Once a broken pool has wound down, retry whatever it never answered."""
        pool.shutdown(wait=True)  # its manager thread has failed what it knew of
        with self._lock:
            left = self._trying.pop(pool, {})
        lost = list(left.values())
        if lost:
            log.warning("%d input(s) the broken pool never answered are tried again", len(lost))
            self._broke(pool, lost)

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
            preload=("crawler.extraction.preloaded",),
        )

    def submit(self, page: Page) -> Future[Analysis]:
        """Analyse a page; its raw body stays here (extraction reads ``html``)."""
        return super().submit(dataclasses.replace(page, body=b""))


def worth_analysing(page: Page) -> bool:
    """Whether ``Ingest.process`` would extract this page (a 304, an error, an empty
    revisit need no worker)."""
    return bool(page.html) and page.status == 200 and not page.error
