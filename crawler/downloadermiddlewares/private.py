"""PrivateAddressMiddleware: no request reaches a loopback, private or link-local address.

A feed or page is third-party content: a link or a redirect to ``127.0.0.1``,
``10.0.0.5`` or ``metadata.internal`` would otherwise make the crawler fetch the
operator's own network and send what it found out in an alert. Every request
passes ``process_request`` on every hop (Scrapy schedules a redirect, a retry or a
meta refresh as a new request), so one check here covers them all. A request is
refused unless its source (``request.meta["source"]``) sets ``allow_private = true``
when its host is, or resolves to, an address that is not global unicast.

Requests Scrapy makes on its own (robots.txt) carry no source; they may reach a
private host only when a source with ``allow_private = true`` uses that host, or
a request of such a source was let through to it.

Limits, by design of a check made before the connection:

- DNS rebinding: the host is resolved here, through the reactor's resolver, which
  is the one Twisted then connects with; with Scrapy's DNS cache on (the default)
  the connection reuses the answer checked here. The window stays open when that
  cache is off (``DNSCACHE_ENABLED = False``) or has evicted the host (it holds
  ``DNSCACHE_SIZE`` names), or when something else resolves the name: an HTTP
  proxy (``http_proxy`` in the environment) resolves the target itself, and so
  would a download handler other than Scrapy's Twisted one.
- Only the request's host is checked, never a proxy's.
"""

from __future__ import annotations

import ipaddress
import logging
import unicodedata
from typing import TYPE_CHECKING, Any, Self, cast
from urllib.parse import urldefrag, urlsplit

from scrapy import Request
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IAddress,
    IHostResolution,
    IReactorPluggableNameResolver,
    IResolutionReceiver,
)
from twisted.web.client import URI
from zope.interface import implementer

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.config import Source

log = logging.getLogger(__name__)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

FETCHED_SCHEMES = ("http", "https")
HINT = "set allow_private = true on the source to allow it"
# NAT64's well-known prefix: the last 32 bits are the IPv4 address a gateway connects to.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# NAT64 prefixes for local use (RFC 8215): where they lead is the network's own business.
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


class RequestRefused(IgnoreRequest):
    """A request newswatch will not make; the message is the one-line reason."""


class PrivateAddressRefused(RequestRefused):
    """The request's host is, or resolves to, a loopback, private or link-local address."""


class SchemeRefused(RequestRefused):
    """The request is not for an http(s) URL."""


def is_private(address: Address) -> bool:
    """True unless ``address`` is global unicast: loopback, RFC 1918 and unique-local,
    link-local, unspecified (``0.0.0.0``, ``::``), shared (100.64/10), reserved,
    documentation and multicast addresses all count as private. An IPv4-mapped or
    NAT64 address (``::ffff:127.0.0.1``, ``64:ff9b::7f00:1``) is what the IPv4 address
    in it is; a 6to4 or Teredo address is private when the IPv4 address in it is."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # a socket connects to the IPv4 address itself
            return is_private(address.ipv4_mapped)
        if address in _NAT64:
            return is_private(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address in _NAT64_LOCAL:
            return True
        embedded = [address.sixtofour, address.teredo[1] if address.teredo else None]
        if any(inner is not None and is_private(inner) for inner in embedded):
            return True
    return (
        not address.is_global
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address.is_loopback
        or address.is_link_local
    )


def ip_literal(host: str) -> Address | None:
    """The address a host names literally (``127.0.0.1``, ``::1``, ``fe80::1%eth0``), or None.

    Only the standard forms count; ``2130706433`` or ``0177.0.0.1`` are names here,
    which the resolver turns into an address like any other name.
    """
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def request_hosts(url: str) -> list[str]:
    """The hosts a URL may lead to: the one Python's URL parser sees and the one Twisted's
    agent connects to (they differ on odd URLs, e.g. with user info), lower case."""
    hosts: list[str] = []
    try:
        parsed = urlsplit(url).hostname
    except ValueError:
        parsed = None
    if parsed:
        hosts.append(parsed.lower())
    try:
        uri = URI.fromBytes(urldefrag(url)[0].encode("ascii"))  # type: ignore[no-untyped-call]
        twisted_host = uri.host.decode("ascii")
    except (UnicodeError, ValueError):
        twisted_host = ""
    # HostnameEndpoint resolves the NFC form of the host.
    twisted_host = unicodedata.normalize("NFC", twisted_host).lower()
    if twisted_host and twisted_host not in hosts:
        hosts.append(twisted_host)
    return hosts


@implementer(IResolutionReceiver)
class _Collector:
    """Collects the addresses one ``resolveHostName`` call finds."""

    def __init__(self) -> None:
        self.addresses: list[str] = []
        self.done: Deferred[list[str]] = Deferred()

    def resolutionBegan(self, resolutionInProgress: IHostResolution) -> None:
        """Twisted's receiver interface: nothing to do."""

    def addressResolved(self, address: IAddress) -> None:
        """Keep the address's host part."""
        host = getattr(address, "host", None)
        if isinstance(host, str):
            self.addresses.append(host)

    def resolutionComplete(self) -> None:
        """Hand over what was found."""
        self.done.callback(self.addresses)


class PrivateAddressMiddleware:
    """Refuses requests to non-http(s) URLs, and to private addresses unless the request's
    source allows them (see the module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.resolved: dict[str, tuple[str, ...]] = {}  # host -> addresses, for this run
        self.vouched: set[str] = set()  # hosts a source with allow_private was let through to
        self._sources: dict[str, Source] | None = None
        self._private_hosts: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """The middleware for one crawler (its spider names the sources)."""
        return cls(crawler)

    def sources(self) -> dict[str, Source]:
        """The spider's sources by name (none for a spider that is not newswatch's)."""
        if self._sources is None:
            sources: tuple[Source, ...] = getattr(self.crawler.spider, "sources", ())
            self._sources = {source.name: source for source in sources}
            for source in sources:
                if source.allow_private:
                    for url in (source.url, *source.sitemaps, *source.sections):
                        self._private_hosts.update(request_hosts(url))
        return self._sources

    async def process_request(self, request: Request) -> None:
        """Let the request through, or raise a ``RequestRefused`` naming the reason."""
        scheme = urlsplit(request.url).scheme.lower()
        if scheme not in FETCHED_SCHEMES:
            self._count("newswatch/requests_refused/scheme")
            raise SchemeRefused(f"refused: only http(s) URLs are fetched, not {scheme}:")
        hosts = request_hosts(request.url)
        if not hosts:
            raise RequestRefused("refused: no host in the URL")
        name = request.meta.get("source")
        sources = self.sources()
        if name is None:
            # Scrapy's robots.txt request, for a host some source's request has just been
            # let through to (this runs before RobotsTxtMiddleware): allowed where a source
            # with allow_private goes.
            if any(host in self.vouched or host in self._private_hosts for host in hosts):
                return
        else:
            source = sources.get(str(name))
            if source is not None and source.allow_private:
                self.vouched.update(hosts)
                return
        for host in hosts:
            await self._check(host)

    async def _check(self, host: str) -> None:
        literal = ip_literal(host)
        if literal is not None:
            if is_private(literal):
                self._refuse(f"{host} is a private address")
            return
        addresses = await self._resolve(host)
        for text in addresses:
            address = ip_literal(text)
            if address is None or is_private(address):
                self._refuse(f"{host} resolves to {text}, a private address")

    def _refuse(self, what: str) -> None:
        self._count("newswatch/requests_refused/private")
        raise PrivateAddressRefused(f"refused: {what} ({HINT})")

    async def _resolve(self, host: str) -> tuple[str, ...]:
        """The addresses Twisted would connect to for ``host``, resolved as its
        ``HostnameEndpoint`` does (through the reactor's name resolver, which Scrapy's
        DNS cache sits in), without blocking the reactor; cached for the run."""
        if host in self.resolved:
            return self.resolved[host]
        from twisted.internet import reactor

        collector = _Collector()
        # Any: mypy reads zope interface methods as if they took ``self``.
        resolver: Any = cast(IReactorPluggableNameResolver, reactor).nameResolver
        resolver.resolveHostName(collector, host, portNumber=0)
        found: list[str] = await maybe_deferred_to_future(collector.done)
        addresses = tuple(found)
        if not addresses:
            # Failing here, rather than letting the download resolve again, keeps a name
            # that fails now and resolves to a private address a moment later out.
            raise CannotResolveHostError(f"Couldn't find the hostname '{host}'")
        self.resolved[host] = addresses
        return addresses

    def _count(self, key: str) -> None:
        stats: Any = self.crawler.stats
        if stats is not None:
            stats.inc_value(key)
