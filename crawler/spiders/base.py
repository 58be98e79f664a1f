"""What the feed and site spiders share: entry-request bookkeeping and article requests."""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from OpenSSL import SSL
from scrapy import exceptions as scrapy_exceptions
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as twisted_errors
from twisted.python.failure import Failure
from twisted.web.client import ResponseNeverReceived
from twisted.web.error import SchemeNotSupported
from twisted.web.http import PotentialDataLoss

from crawler.config import Source
from crawler.downloadermiddlewares.private import FETCHED_SCHEMES, RequestRefused
from crawler.extraction.urls import canonicalize
from crawler.logs import exception_line, fold
from crawler.models import Page
from crawler.run.coverage import Coverage
from crawler.run.health import SourceHealth
from crawler.run.ingest import Ingest
from crawler.run.pool import AnalysisPool
from crawler.run.revisit import KnownArticle, Revisit
from crawler.spiders.revisits import RevisitRequests, raw_headers, revisit_of
from crawler.storage.store import utcnow

log = logging.getLogger(__name__)


def describe_failure(failure: Failure) -> str:
    """A one-line reason for a failed request, e.g. "connection refused" or "HTTP 503".

    Others: "timed out after 30 s", "DNS lookup failed for host.example", "forbidden by
    robots.txt", "TLS error: ...", "too big: ...", else ``ExcType: message``.
    """
    error = failure.value if failure.value is not None else Exception("unknown failure")
    return describe_error(error, getattr(failure, "request", None))


def describe_error(error: BaseException, request: scrapy.Request | None = None) -> str:
    """The reason ``describe_failure`` gives for a download exception (``request`` adds detail)."""
    if isinstance(error, HttpError):
        return f"HTTP {error.response.status}"
    if isinstance(error, RequestRefused):
        return fold(str(error))
    if isinstance(error, IgnoreRequest):
        text = fold(str(error))
        return "forbidden by robots.txt" if "robots" in text.lower() else f"ignored: {text}"
    causes = _causes(error)
    for kinds, reason in _REASONS:
        for cause in causes:
            if isinstance(cause, kinds):
                return reason(cause, causes, request)
    # Otherwise the innermost error says most: a wrapper's text is a list of Failure reprs.
    unwrapped = [cause for cause in causes if not getattr(cause, "reasons", None)]
    return exception_line(unwrapped[-1] if unwrapped else error)


# How a kind of failure reads: (the matching cause, every cause, the request or None) -> reason.
_Reason = Callable[[BaseException, list[BaseException], Any], str]


def _scrapy_error(name: str) -> tuple[type[BaseException], ...]:
    """Scrapy's exception class ``name``, or none where this Scrapy lacks it (an older Scrapy
    raises Twisted's errors, which the newer wrappers keep as their ``__cause__``)."""
    found = getattr(scrapy_exceptions, name, None)
    return (found,) if isinstance(found, type) and issubclass(found, BaseException) else ()


def _causes(error: BaseException) -> list[BaseException]:
    """The error, what caused it, and the reasons a Twisted response failure carries."""
    found: list[BaseException] = []
    pending = [error]
    while pending:
        current = pending.pop(0)
        if any(current is seen for seen in found):
            continue
        found.append(current)
        for reason in getattr(current, "reasons", None) or ():
            value = getattr(reason, "value", reason)
            if isinstance(value, BaseException):
                pending.append(value)
        if current.__cause__ is not None:
            pending.append(current.__cause__)
    return found


def _host(request: scrapy.Request | None, error: BaseException) -> str:
    if request is not None and (host := urlsplit(request.url).hostname):
        return host
    return fold(str(error)).rsplit(": ", 1)[-1].rstrip(".")


def _timeout(cause: BaseException, causes: list[BaseException], request: Any) -> str:
    seconds = request.meta.get("download_timeout") if request is not None else None
    if not isinstance(seconds, int | float):
        found = re.search(r"took longer than ([\d.]+) seconds", str(cause))
        seconds = float(found.group(1)) if found else None
    return f"timed out after {seconds:g} s" if seconds else "timed out"


def _tls(cause: BaseException, causes: list[BaseException], request: Any) -> str:
    detail = ""
    if isinstance(cause, SSL.Error) and cause.args and isinstance(cause.args[0], list):
        # pyOpenSSL: [(library, function, reason), ...]
        parts = [str(part[-1]) for part in cause.args[0] if isinstance(part, tuple) and part]
        detail = ", ".join(dict.fromkeys(part for part in parts if part))
    elif isinstance(cause, ssl.SSLError):
        detail = cause.reason or ""
    return f"TLS error: {detail or fold(str(cause)) or type(cause).__name__}"


def _too_big(cause: BaseException, causes: list[BaseException], request: Any) -> str:
    text = str(cause)
    found = re.search(r"(\d+) bytes which is larger than download max size \((\d+)\)", text)
    if not found:
        return f"download cancelled: {fold(text)}" if text.strip() else "download cancelled"
    size, limit = found.groups()
    if text.startswith("Expected"):
        return f"too big: {size} bytes, over max_page_bytes ({limit})"
    return f"too big: over max_page_bytes ({limit})"


def _closed(cause: BaseException, causes: list[BaseException], request: Any) -> str:
    if any(isinstance(other, ResponseNeverReceived) for other in causes):
        return "connection closed before any response"
    return "connection lost mid-response"


def _fixed(text: str) -> _Reason:
    return lambda cause, causes, request: text


# Kinds of download failure, most telling first; each cause in the chain is tried per kind.
_REASONS: tuple[tuple[tuple[type[BaseException], ...], _Reason], ...] = (
    (
        (twisted_errors.ConnectionRefusedError, *_scrapy_error("DownloadConnectionRefusedError")),
        _fixed("connection refused"),
    ),
    (
        (
            twisted_errors.DNSLookupError,
            twisted_errors.UnknownHostError,
            *_scrapy_error("CannotResolveHostError"),
        ),
        lambda cause, causes, request: f"DNS lookup failed for {_host(request, cause)}",
    ),
    ((twisted_errors.TCPTimedOutError,), _fixed("connection timed out")),
    ((twisted_errors.TimeoutError, *_scrapy_error("DownloadTimeoutError")), _timeout),
    ((SSL.Error, ssl.SSLError, twisted_errors.SSLError), _tls),
    (
        (PotentialDataLoss, *_scrapy_error("ResponseDataLossError")),
        _fixed("connection closed before the whole response arrived"),
    ),
    (_scrapy_error("DownloadCancelledError"), _too_big),
    (
        (SchemeNotSupported, *_scrapy_error("UnsupportedURLSchemeError")),
        lambda cause, causes, request: f"unsupported URL scheme: {fold(str(cause))}",
    ),
    ((twisted_errors.ConnectionClosed,), _closed),
    ((twisted_errors.NoRouteError,), _fixed("no route to host")),
    (
        (twisted_errors.ConnectError,),
        lambda cause, causes, request: f"cannot connect: {fold(str(cause))}",
    ),
)


def _never(url: str) -> bool:
    return False


def _unknown(url: str) -> KnownArticle | None:
    return None


class NewswatchSpider(RevisitRequests, scrapy.Spider):
    """Base for newswatch spiders: knows the sources, the health log and the known-URL check."""

    def __init__(
        self,
        sources: tuple[Source, ...] = (),
        health: SourceHealth | None = None,
        ingest: Ingest | None = None,
        coverage: Coverage | None = None,
        revisits: tuple[Revisit, ...] = (),
        pool: AnalysisPool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sources = sources
        self.pool = pool  # worker processes that extract and match for the item pipeline
        # Shared by the spiders of one crawl: each article fetched once, whoever links it.
        self.coverage = coverage
        self.health = health or SourceHealth(sources)
        self.ingest = ingest  # the item pipeline stores pages through it
        self.is_known: Callable[[str], bool] = ingest.is_known if ingest else _never
        # A stored article met again as a link: fetched again if its date says it changed.
        self.known_article: Callable[[str], KnownArticle | None] = (
            ingest.known_article if ingest else _unknown
        )
        self.revisits = revisits  # stored articles due for a revisit (crawler/run/revisit.py)
        self.revisiting: set[int] = set()
        self.queued: dict[str, set[str]] = {source.name: set() for source in sources}

    async def start(self) -> AsyncIterator[Any]:
        """The entry requests of every source (crawl workers take theirs from Redis instead),
        then the revisits due."""
        for source in self.sources:
            for request in self.entry_requests(source):
                yield request
        for request in self.revisit_requests():
            yield request

    def entry_requests(self, source: Source) -> Iterator[scrapy.Request]:
        """The requests a source's crawl begins with (its feed; its sitemaps and sections)."""
        raise NotImplementedError

    def entry_failed(self, failure: Failure) -> None:
        """Errback of a source's entry request (feed, sitemap, section page)."""
        request = failure.request  # type: ignore[attr-defined]
        self.health.failed(request.meta["source"], request.url, describe_failure(failure))

    def article_failed(self, failure: Failure) -> None:
        """Errback of an article request: counted, logged and noted in the source's health
        (the source carries on, and stays ok if its entry requests worked)."""
        request = failure.request  # type: ignore[attr-defined]
        self.crawler.stats.inc_value("newswatch/article_errors")
        reason = describe_failure(failure)
        url = (request.meta.get("redirect_urls") or [request.url])[0]  # the link, before hops
        log.info("article %s of source %s failed: %s", url, request.meta["source"], reason)
        if reason != "forbidden by robots.txt":  # the site's wish, not a failure
            self.health.article_failed(request.meta["source"], url, reason)

    def link_request(self, source: str, url: str, **kwargs: Any) -> scrapy.Request | None:
        """A request for a link found in a feed, sitemap or page, or None (counted as
        ``newswatch/links_refused``) when it is not an http(s) URL Scrapy can request:
        ``javascript:``, ``mailto:``, ``file:``, or malformed like ``http://[::1``."""
        scheme = url.partition(":")[0].strip().lower() if ":" in url else ""
        problem = ""
        if scheme not in FETCHED_SCHEMES:
            problem = f"not an http(s) URL ({scheme or 'no'} scheme)"
        else:
            try:
                if not urlsplit(url).hostname:
                    problem = "no host"
                else:
                    return scrapy.Request(url, **kwargs)
            except ValueError as exc:  # bad IPv6 literal, port out of range...
                problem = f"malformed: {fold(str(exc))}"
        self.crawler.stats.inc_value("newswatch/links_refused")
        log.info("source %s: skipping link %.200r: %s", source, url, problem)
        return None

    def article_request(
        self, source: Source, url: str, *, title: str = "", published: str = "", updated: str = ""
    ) -> scrapy.Request | None:
        """A request for an article link, or None if it is known, queued, over the limit
        or not a link to fetch (see ``link_request``).

        A known article whose ``updated`` date (sitemap lastmod, feed entry updated) is
        later than when it was last fetched is fetched again, conditionally.
        """
        canonical = canonicalize(url)
        queued = self.queued[source.name]
        fetchable = url.partition(":")[0].strip().lower() in FETCHED_SCHEMES
        if self.coverage is not None and canonical not in queued and fetchable:
            self.coverage.offer(source.name)
        if canonical in queued or len(queued) >= source.max_articles:
            return None
        if self.is_known(url):
            known = self.known_article(url) if updated else None
            if (
                known is not None
                and known.article_id not in self.revisiting
                and known.changed_since_checked(updated)
            ):
                queued.add(canonical)
                return self.revisit_request(known.revisit(url, source.name))
            self.crawler.stats.inc_value("newswatch/articles_known")
            return None
        request = self.link_request(
            source.name,
            url,
            callback=self.parse_article,
            errback=self.article_failed,
            meta={
                "source": source.name,
                "feed_title": title,
                "feed_published": published,
                "language": source.language,
            },
        )
        if request is None:
            return None
        queued.add(canonical)
        if self.coverage is not None and not self.coverage.claim(source.name, canonical):
            # Another source queued it in this crawl: fetched once, credited to both.
            self.crawler.stats.inc_value("newswatch/articles_queued_by_another_source")
            return None
        if self.pool is not None:  # a page to extract is coming: get the workers ready
            self.pool.warm()
        return request

    def final_url_problem(self, source: str, url: str) -> str:
        """Why an article that ended up at ``url`` (after redirects) is not to be stored, or
        "" (feed articles may land anywhere the fetch allowed; site spiders check more)."""
        return ""

    def parse_article(self, response: Response) -> Any:
        """Hand the article page (and its raw response) to the ingest pipeline as a ``Page``.

        A revisit's answer always goes on, whatever it is (304, 404, not HTML); one that
        redirected outside the source goes without its text (not the source's article).
        """
        meta = response.meta
        revisit = revisit_of(meta)
        problem = self.final_url_problem(meta["source"], response.url)
        if problem and not revisit:
            self.crawler.stats.inc_value("newswatch/articles_offsite")
            requested = (meta.get("redirect_urls") or [response.url])[0]
            log.info("article %s of source %s not stored: %s", requested, meta["source"], problem)
            self.health.article_failed(meta["source"], requested, problem)
            return
        is_text = hasattr(response, "text") and response.status == 200 and not problem
        if not is_text and not revisit:
            self.crawler.stats.inc_value("newswatch/not_html")
            return
        yield Page(
            source=meta["source"],
            url=response.url,
            html=response.text if is_text else "",
            requested_url=(meta.get("redirect_urls") or [response.url])[0],
            fetched_at=utcnow(),
            feed_title=meta.get("feed_title", ""),
            feed_published=meta.get("feed_published", ""),
            language_hint=meta.get("language", ""),
            status=response.status,
            headers=raw_headers(response),
            body=response.body,
            revisit_of=revisit,
        )
