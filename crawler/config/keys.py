"""Every config key, declared once: its type, default, bounds or choices, and help.

Each table of the config file is a frozen dataclass here, and each of its
keys a field made by ``setting()``. The loader validates a table by walking
its fields (type, required, bounds, choices; unknown keys are errors), fills
in the defaults from them, and the Scrapy settings come from the ``scrapy``
names of ``CrawlSettings``. ``tests/test_docs.py`` checks the README names
every key declared here.
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

WATCH_KINDS = ("person", "organisation", "case")
SURNAME_ALONE = ("auto", "always", "context", "never")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DURATION_RE = re.compile(r"^([1-9][0-9]*)([mhd])$")
CLOCK_RE = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
ADDRESS_RE = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")
T = TypeVar("T")
DEFAULT_USER_AGENT = "newswatch/0.1 (+https://github.com/newswatch/newswatch; media monitoring)"


WEBHOOK_SECRET_PREFIX = "whsec_"
MIN_WEBHOOK_KEY_BYTES = 24  # Standard Webhooks: keys of 24 to 64 bytes


def webhook_key(secret: str) -> bytes:
    """The key bytes of a Standard Webhooks secret (``whsec_`` + base64), read as the
    reference library reads it: surrounding whitespace (a trailing newline in the
    variable) ignored, padding optional. ValueError if it is not base64 or is empty."""
    import base64
    import binascii

    encoded = "".join(secret.strip().removeprefix(WEBHOOK_SECRET_PREFIX).split())
    encoded += "=" * (-len(encoded) % 4)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the signing secret is not 'whsec_' + base64") from None
    if not key:
        raise ValueError("the signing secret is empty")
    return key


def setting(
    default: Any,
    help: str,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] = (),
    required: bool = False,
    key: str = "",
    scrapy: str = "",
) -> Any:
    """A config key: a dataclass field carrying its help, bounds, choices and TOML name.

    ``key`` is the TOML name where it differs from the field's (``from``);
    ``scrapy`` the Scrapy setting it becomes; a key ending in ``_env`` names an
    environment variable holding a secret.
    """
    meta = {"help": help, "low": low, "high": high, "choices": choices,
            "required": required, "key": key, "scrapy": scrapy}
    if isinstance(default, (list, dict, set)):
        raise TypeError("use a tuple or a frozen value as a setting's default")
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Key:
    """One declared key, as the loader and the docs test see it."""

    name: str  # the TOML name
    attribute: str  # the dataclass field
    type: Any
    default: Any
    help: str
    low: float | None
    high: float | None
    choices: tuple[str, ...]
    required: bool
    scrapy: str

    @property
    def secret(self) -> bool:
        """A ``*_env`` key: its value names an environment variable holding a secret."""
        return self.name.endswith("_env")


def keys(table: type) -> list[Key]:
    """The declared keys of a settings dataclass, in declaration order."""
    return list(_keys(table))


@functools.cache
def _keys(table: type) -> tuple[Key, ...]:
    # Read once per table: the loader asks for every source and watch of the config.
    hints = typing.get_type_hints(table)
    found = []
    for item in dataclasses.fields(table):
        meta = item.metadata
        if "help" not in meta:
            continue  # not a config key (an id, the channel type)
        found.append(
            Key(
                name=meta["key"] or item.name,
                attribute=item.name,
                type=hints[item.name],
                default=item.default,
                help=meta["help"],
                low=meta["low"],
                high=meta["high"],
                choices=meta["choices"],
                required=meta["required"],
                scrapy=meta["scrapy"],
            )
        )
    return tuple(found)


# --- sources and watches ------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A feed, a site or a public Telegram channel to fetch every run (``[[source]]``)."""

    name: str = setting("", "a unique id, shown in alerts and the desk", required=True)
    feed: str = setting("", "an RSS or Atom feed URL (a feed source)")
    site: str = setting("", "the home page of a site source")
    telegram: str = setting(
        "", "a public Telegram channel: its name, or a t.me/name or t.me/s/name URL"
    )
    sitemaps: tuple[str, ...] = setting((), "a site's sitemaps (indexes and Google News too)")
    sections: tuple[str, ...] = setting((), "a site's pages that list articles")
    follow: tuple[str, ...] = setting((), "regular expressions an article URL must match")
    follow_links: bool = setting(
        False, "a Telegram source: also fetch the news articles its posts link to"
    )
    language: str = setting("", "a language hint; detection still runs")
    max_articles: int = setting(200, "articles per source per run", low=1, high=100_000)
    # Loopback, private and link-local addresses are refused unless this is set
    # (an intranet source, a test server): a feed may link or redirect anywhere.
    allow_private: bool = setting(
        False, "allow loopback, private and link-local addresses (intranet, tests)"
    )
    stale_after: str = setting(
        "", 'quiet this long without a new article is stale: "36h", "3d" (default: learned)'
    )

    @property
    def url(self) -> str:
        """The source's entry URL: the feed, the site's home page, or the channel's preview."""
        if self.telegram:
            return f"https://t.me/s/{self.telegram}"
        return self.feed or self.site


@dataclass(frozen=True)
class Watch:
    """One watched person, organisation or case (``[[watch]]``)."""

    id: str = setting("", "a unique id: letters, digits, '-', '_', '.'", required=True)
    kind: str = setting("person", "what is watched", choices=WATCH_KINDS)
    name: str = setting("", "the full name as the organisation knows it (a case's title)")
    aliases: tuple[str, ...] = setting((), "other full names, in any script")
    query: str = setting("", "a case's boolean query")
    exclude: tuple[str, ...] = setting((), "terms that veto a hit in the same article")
    context: tuple[str, ...] = setting((), "terms near which a surname alone counts")
    surname_alone: str = setting(
        "auto",
        "when a person's family name alone counts: auto (when distinctive, else near context),"
        " always, context (only near a context term), never",
        choices=SURNAME_ALONE,
    )
    channels: tuple[str, ...] = setting((), "the channel ids its alerts go to")
    priority: str = setting(
        "normal", "urgent: sent at once even where a channel sends digests",
        choices=("normal", "urgent"),
    )
    redact: bool = setting(False, "channels get the id, never the name or a snippet")
    notify_removals: bool = setting(
        False, "tell its channels when an article with its hit is taken down or edited to drop it"
    )
    silence_days: int = setting(
        0, "tell its channels when this many days pass without a new hit (0: never)",
        low=0, high=3650,
    )
    origin: str = ""  # "watchlist.toml: watch[2]", for messages about this watch

    @property
    def label(self) -> str:
        """A human name for the watch: its name, or its id in words ("Rusafa women")."""
        if self.name:
            return self.name
        words = " ".join(re.split(r"[-_.]+", self.id)).strip()
        return words[:1].upper() + words[1:] if words else self.id


# --- the settings tables --------------------------------------------------------------------


@dataclass(frozen=True)
class CrawlSettings:
    """Politeness and limits for the crawl (``[crawl]``); defaults suit a few news sites."""

    user_agent: str = setting(DEFAULT_USER_AGENT, "the User-Agent sent", scrapy="USER_AGENT")
    obey_robots: bool = setting(True, "obey robots.txt", scrapy="ROBOTSTXT_OBEY")
    concurrency_per_domain: int = setting(
        4, "requests at once per site", low=1, high=64, scrapy="CONCURRENT_REQUESTS_PER_DOMAIN"
    )
    download_timeout: float = setting(
        30.0, "seconds before a request is given up", low=1, high=600, scrapy="DOWNLOAD_TIMEOUT"
    )
    max_page_bytes: int = setting(
        5 * 1024 * 1024, "the largest page or feed read (bytes)", low=1024, high=1024**3,
        scrapy="DOWNLOAD_MAXSIZE",
    )
    retries: int = setting(2, "retries of a failed request", low=0, high=10, scrapy="RETRY_TIMES")
    autothrottle: bool = setting(
        True, "slow down for slow sites (AutoThrottle)", scrapy="AUTOTHROTTLE_ENABLED"
    )
    # Not Scrapy settings: the cycle and the Telegram spider read them themselves.
    workers: int = setting(
        0, "worker processes that extract and match pages while the crawl goes on "
        "(0: one per core)", low=0, high=256,
    )
    telegram_base: str = setting(
        "https://t.me", "where Telegram channel previews are read (a local server in tests)"
    )
    telegram_delay: float = setting(
        1.0, "seconds between two requests for Telegram previews", low=0, high=600
    )

    def scrapy_settings(self) -> dict[str, Any]:
        """The keys of this table that are Scrapy settings, by their Scrapy names."""
        return {
            key.scrapy: getattr(self, key.attribute) for key in keys(type(self)) if key.scrapy
        }


@dataclass(frozen=True)
class AlertSettings:
    """How alerts are delivered (``[alerts]``): retries, flood cap, backfill, the operator."""

    max_attempts: int = setting(8, "attempts before an alert is dead", low=1, high=100)
    cap: int = setting(20, "alerts per channel per run, then one summary", low=1, high=10_000)
    backfill_hours: float = setting(
        24.0, "older items at a source's or watch's first run are stored, not sent (0: off)",
        low=0, high=24 * 366,
    )
    operator_channel: str = setting("", "told when a source keeps failing, and recovers")
    source_failure_threshold: int = setting(
        5, "consecutive failed runs before the operator is told", low=1, high=1000
    )


@dataclass(frozen=True)
class ReviewSettings:
    """Access to the review desk (``[review]``)."""

    password_env: str = setting("", "the variable holding the desk's shared password")
    open_on_localhost: bool = setting(True, "a browser on this machine may read without login")


@dataclass(frozen=True)
class DedupSettings:
    """When two articles are one story (``[dedup]``)."""

    # Estimated Jaccard similarity of word shingles; tuned on tests/data/dedup (bench/README.md).
    # Above 0 and at most 1: the loader checks that bound itself, with its meaning.
    threshold: float = setting(
        0.5, "estimated Jaccard similarity of 4-word shingles that joins two articles", low=0
    )
    window_days: int = setting(
        30, "join only stories with an article seen this recently", low=1, high=3650
    )


@dataclass(frozen=True)
class RevisitSettings:
    """Fetching stored articles again, to see them change or vanish (``[revisit]``)."""

    enabled: bool = setting(True, "revisit stored articles on a schedule (false: never)")
    # Offsets from an article's first fetch; each run revisits what is due, oldest first.
    intervals: tuple[str, ...] = setting(
        ("1h", "6h", "24h", "72h", "7d"),
        "when an article with a hit is fetched again, counted from its first fetch",
    )
    recent_intervals: tuple[str, ...] = setting(
        ("6h", "24h"), "when a recent article without a hit is fetched again"
    )
    recent_days: float = setting(
        2.0, "an article published this recently (in days) at its first fetch is recent",
        low=0, high=365,
    )
    budget: int = setting(
        500, "scheduled revisits per run at most, the longest overdue first", low=0, high=1_000_000
    )


@dataclass(frozen=True)
class EvidenceSettings:
    """WARC records of every fetch of an article with a hit (``[evidence]``)."""

    enabled: bool = setting(True, "keep the raw responses of articles with hits as WARC records")
    max_file_mb: int = setting(
        512, "start another WARC file of the day when one reaches this size (MB)",
        low=1, high=100_000,
    )
    warn_total_mb: int = setting(
        0, "warn in every run once all WARC files together exceed this (MB; 0: never)",
        low=0, high=100_000_000,
    )


# --- channels -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelOptions:
    """What every channel type takes."""

    cap: int = setting(0, "alerts per run for this channel (default: [alerts] cap)",
                       low=1, high=10_000)


@dataclass(frozen=True)
class ConsoleOptions(ChannelOptions):
    """``type = "console"``: alerts printed on standard output."""


@dataclass(frozen=True)
class HttpOptions(ChannelOptions):
    """What the channels that post to a URL take."""

    url_env: str = setting("", "the variable holding the URL (Slack's, Apprise's...)",
                           required=True)
    timeout: float = setting(20.0, "seconds for each of connect, read, write", low=1, high=600)


@dataclass(frozen=True)
class WebhookOptions(HttpOptions):
    """``type = "webhook"``: signed JSON POSTs (Standard Webhooks)."""

    secret_env: str = setting("", "the variable holding the whsec_ signing secret")


@dataclass(frozen=True)
class SlackOptions(HttpOptions):
    """``type = "slack"``: a Slack incoming webhook."""


@dataclass(frozen=True)
class AppriseOptions(HttpOptions):
    """``type = "apprise"``: Telegram, Matrix, Signal, Teams and the rest through Apprise."""


EMAIL_SECURITY = ("starttls", "tls", "plain-local-relay")
EMAIL_PORTS = {"starttls": 587, "tls": 465, "plain-local-relay": 25}


@dataclass(frozen=True)
class EmailOptions(ChannelOptions):
    """``type = "email"``: one mail per alert, or digests, over SMTP."""

    host: str = setting("", "the SMTP server", required=True)
    port: int = setting(0, "default: 587 starttls, 465 tls, 25 plain-local-relay",
                        low=1, high=65_535)
    security: str = setting("starttls", "how the connection is protected",
                            choices=EMAIL_SECURITY)
    username_env: str = setting("", "the variable holding the SMTP user name")
    password_env: str = setting("", "the variable holding the SMTP password")
    sender: str = setting("", "the From address", required=True, key="from")
    to: tuple[str, ...] = setting((), "the recipients", required=True)
    mode: str = setting("immediate", "one mail per alert, or digests",
                        choices=("immediate", "digest"))
    every: str = setting("1d", 'the digest period: "30m", "1h", "1d", ...')
    at: str = setting("00:00", "UTC time of day the digest periods count from")
    list_id: str = setting("", "the List-Id header (default: one per channel)")
    ca_file: str = setting("", "an extra CA bundle to trust, relative to the config file")
    template_dir: str = setting("", "your own alert, digest and notice templates")
    timeout: float = setting(20.0, "seconds for each SMTP step", low=1, high=600)

    @property
    def effective_port(self) -> int:
        """The port, or the default of the security mode."""
        return self.port or EMAIL_PORTS.get(self.security, 587)


CHANNEL_OPTIONS: dict[str, type[ChannelOptions]] = {
    "console": ConsoleOptions,
    "webhook": WebhookOptions,
    "slack": SlackOptions,
    "email": EmailOptions,
    "apprise": AppriseOptions,
}


def options_from(kind: str, values: Mapping[str, Any]) -> ChannelOptions:
    """Typed options from already-validated values (TOML names or field names)."""
    cls = CHANNEL_OPTIONS.get(kind, ChannelOptions)
    names = {key.name: key.attribute for key in keys(cls)}
    fields = {item.name for item in dataclasses.fields(cls)}
    given: dict[str, Any] = {}
    for name, value in values.items():
        attribute = names.get(name, name)
        if attribute in fields and value is not None:
            given[attribute] = tuple(value) if isinstance(value, list) else value
    return cls(**given)


@dataclass(frozen=True)
class Channel:
    """An alert channel (``[[channel]]``); ``secrets`` holds values read from the environment.

    ``options`` may be given as a mapping (by a test or a tool): it becomes the
    typed options of the channel's type.
    """

    id: str
    type: str
    options: ChannelOptions = field(default_factory=ChannelOptions)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        wanted = CHANNEL_OPTIONS.get(self.type, ChannelOptions)
        if isinstance(self.options, wanted):
            return
        given: Any = self.options
        values = dataclasses.asdict(given) if isinstance(given, ChannelOptions) else given
        object.__setattr__(self, "options", options_from(self.type, values))

    def options_as(self, cls: builtins.type[T]) -> T:
        """The options as the type a channel class needs (TypeError if they are not)."""
        if not isinstance(self.options, cls):
            shown = type(self.options).__name__
            raise TypeError(f"channel {self.id!r}: {shown}, not {cls.__name__}")
        return self.options
