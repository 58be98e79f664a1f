"""Load and validate newswatch.toml and its watchlist files into plain dataclasses.

Everything is checked before the first request. Every problem becomes one line
that names the file, the key path, what was expected and what was found, e.g.
``newswatch.toml: source[3].feed: expected an http(s) URL, got 'orda.kz/rss'``.
All problems in a file are reported together.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

WATCH_KINDS = ("person", "organisation", "case")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Watch:
    """One watched person, organisation or case."""

    id: str
    kind: str
    name: str = ""
    aliases: tuple[str, ...] = ()
    query: str = ""
    exclude: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    origin: str = ""  # "watchlist.toml: watch[2]", for messages about this watch
    priority: str = "normal"  # "urgent": sent at once even where a channel sends digests
    redact: bool = False  # channel payloads show the watch id, never the name or snippet

    @property
    def label(self) -> str:
        """The name every channel and the review desk show: ``name``, else the id in words.

        ``rusafa-women`` reads "Rusafa women": hyphens, underscores and dots
        become spaces, the first letter a capital (a case usually has no name).
        """
        if self.name:
            return self.name
        words = " ".join(re.sub(r"[-_.]+", " ", self.id).split())
        return words[:1].upper() + words[1:] if words else self.id


@dataclass(frozen=True)
class Source:
    """A feed or a site to fetch every run."""

    name: str
    feed: str = ""
    site: str = ""
    sitemaps: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    follow: tuple[str, ...] = ()
    language: str = ""
    max_articles: int = 200
    # Loopback, private and link-local addresses are refused unless this is set
    # (an intranet source, a test server): a feed may link or redirect anywhere.
    allow_private: bool = False

    @property
    def url(self) -> str:
        """The source's entry URL: the feed, or the site's home page."""
        return self.feed or self.site


@dataclass(frozen=True)
class Channel:
    """An alert channel; ``secrets`` holds values read from the environment."""

    id: str
    type: str
    options: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class CrawlSettings:
    """Politeness and limits for the crawl; defaults suit a handful of news sites."""

    user_agent: str = "newswatch/0.1 (+https://github.com/newswatch/newswatch; media monitoring)"
    obey_robots: bool = True
    concurrency_per_domain: int = 4
    download_timeout: float = 30.0
    max_page_bytes: int = 5 * 1024 * 1024
    retries: int = 2
    autothrottle: bool = True


@dataclass(frozen=True)
class AlertSettings:
    """How alerts are delivered: retries, flood cap, backfill, who hears of broken sources."""

    max_attempts: int = 8
    cap: int = 20  # messages per channel per run; the rest become one summary message
    backfill_hours: float = 24.0  # older items at a source's or watch's first run: stored, not sent
    operator_channel: str = ""  # told when a source keeps failing, and when it recovers
    source_failure_threshold: int = 5  # consecutive failed runs before the operator is told


@dataclass(frozen=True)
class ReviewSettings:
    """Access to the review desk: the password's variable, and whether localhost may read."""

    password_env: str = ""  # names the variable holding the shared password; read when serving
    open_on_localhost: bool = True  # loopback clients may read without logging in


@dataclass(frozen=True)
class DedupSettings:
    """When two articles are one story: the similarity that joins them, and how far back."""

    # Estimated Jaccard similarity of word shingles; tuned on tests/data/dedup (bench/README.md).
    threshold: float = 0.5
    window_days: int = 30  # a new article joins only stories with an article seen this recently


@dataclass(frozen=True)
class Config:
    """The whole validated configuration."""

    path: Path
    database: Path
    sources: tuple[Source, ...]
    watches: tuple[Watch, ...]
    channels: tuple[Channel, ...]
    crawl: CrawlSettings = CrawlSettings()
    alerts: AlertSettings = AlertSettings()
    review_url: str = "http://127.0.0.1:8001/"
    review: ReviewSettings = ReviewSettings()
    dedup: DedupSettings = DedupSettings()
    # The environment the config was read with: the process's, over the env file's.
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    env_file_keys: tuple[str, ...] = ()  # the variables the env file set

    def secret_values(self) -> list[str]:
        """Every secret this config reaches: channel secrets, the env file's values, the
        review password, Datasette's signing secret and a Redis URL; for log redaction."""
        values = [value for channel in self.channels for value in channel.secrets.values()]
        values += [self.getenv(key) for key in self.env_file_keys]
        names = (self.review.password_env, "DATASETTE_SECRET", "NEWSWATCH_REDIS_URL")
        values += [self.getenv(name) for name in names if name]
        return [value for value in values if value]

    def getenv(self, name: str) -> str:
        """A variable from the process environment or the env file ('' if set in neither)."""
        return os.environ.get(name) or self.env.get(name) or ""

    def channel(self, channel_id: str) -> Channel:
        """The channel with this id (KeyError if none)."""
        for channel in self.channels:
            if channel.id == channel_id:
                return channel
        raise KeyError(channel_id)


# Channel types and the keys each accepts. Keys ending in _env name environment
# variables holding secrets; the value is read at load time.
CHANNEL_KEYS: dict[str, dict[str, bool]] = {
    # key -> required
    "console": {"cap": False},
    "webhook": {"url_env": True, "secret_env": False, "timeout": False, "cap": False},
    "slack": {"url_env": True, "timeout": False, "cap": False},
    "email": {
        "host": True,
        "port": False,
        "security": False,  # starttls (default) | tls | plain-local-relay
        "username_env": False,
        "password_env": False,
        "from": True,
        "to": True,
        "mode": False,  # immediate (default) | digest
        "every": False,  # digest period: "1h", "1d", "30m", ...
        "at": False,  # "HH:MM" UTC the digest periods count from
        "list_id": False,
        "ca_file": False,  # extra CA bundle to trust, relative to the config file
        "template_dir": False,  # alert.html/.txt, digest.html/.txt, notice.html/.txt
        "timeout": False,
        "cap": False,
    },
    "apprise": {"url_env": True, "timeout": False, "cap": False},
}
EMAIL_SECURITY = ("starttls", "tls", "plain-local-relay")
EMAIL_MODES = ("immediate", "digest")
DURATION_RE = re.compile(r"^([1-9][0-9]*)([mhd])$")
CLOCK_RE = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
ADDRESS_RE = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")


# Sensible bounds of every numeric key (by its last name): a value outside them is a
# mistake (a timeout of a week, a cap of a million alerts), not a preference.
BOUNDS: dict[str, tuple[float, float | None]] = {
    "max_articles": (1, 100_000),
    "timeout": (1, 600),
    "cap": (1, 10_000),
    "port": (1, 65_535),
    "concurrency_per_domain": (1, 64),
    "download_timeout": (1, 600),
    "max_page_bytes": (1024, 1024**3),
    "retries": (0, 10),
    "max_attempts": (1, 100),
    "backfill_hours": (0, 24 * 366),
    "source_failure_threshold": (1, 1000),
    "window_days": (1, 3650),
}


class _Checker:
    """Collects problems about one file."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[str] = []

    def problem(self, key: str, expected: str, found: object, hint: str = "") -> None:
        line = f"{self.file}: {key}: expected {expected}, got {_show(found)}"
        if hint:
            line += f" ({hint})"
        self.problems.append(line)

    def unknown_keys(self, key: str, table: Mapping[str, Any], allowed: set[str]) -> None:
        for name in table:
            if name not in allowed:
                where = f"{key}.{name}" if key else name
                self.problems.append(
                    f"{self.file}: {where}: unknown key (expected one of: "
                    f"{', '.join(sorted(allowed))})"
                )

    def string(self, key: str, value: object, *, required: bool = False) -> str:
        if value is None:
            if required:
                self.problems.append(f"{self.file}: {key}: required key is missing")
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem(key, "a non-empty string", value)
            return ""
        return value

    def strings(self, key: str, value: object) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.problem(key, "a list of non-empty strings", value)
            return ()
        return tuple(value)

    def url(self, key: str, value: object) -> str:
        text = self.string(key, value)
        if text and not _is_http_url(text):
            self.problem(key, "an http(s) URL", text)
            return ""
        return text

    def number(self, key: str, value: object, kind: type, minimum: float) -> Any:
        """A finite number of ``kind`` within the bounds of ``key`` (see ``BOUNDS``)."""
        low, high = BOUNDS.get(key.rpartition(".")[2], (minimum, None))
        expected = f"a number from {low} to {high}" if high is not None else f"a number >= {low}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problem(key, expected, value)
            return None
        if not math.isfinite(value):  # TOML allows nan and inf; no setting means either
            self.problem(key, f"a finite number ({expected[2:]})", value)
            return None
        if kind is int and not isinstance(value, int):
            self.problem(key, "a whole number", value)
            return None
        if value < low or (high is not None and value > high):
            self.problem(key, expected, value)
            return None
        return value


def _show(value: object) -> str:
    if value is None:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_http_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _read_toml(path: Path, shown: str) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError([f"{shown}: file not found"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{shown}: invalid TOML: {exc}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{shown}: cannot read: {exc}"]) from None


def load_config(
    path: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    *,
    need_secrets: bool = True,
) -> Config:
    """Read and validate a config file; raise ConfigError listing every problem.

    With ``need_secrets=False`` (commands that send nothing: match, review, a
    crawl worker) a channel's unset ``*_env`` variable is not a problem and the
    channel simply has no secret.
    """
    env = os.environ if env is None else env
    config_path = Path(path)
    shown = str(path)
    data = _read_toml(config_path, shown)
    check = _Checker(shown)
    base = config_path.resolve().parent
    check.unknown_keys(
        "",
        data,
        {
            "database",
            "watchlist",
            "source",
            "watch",
            "channel",
            "crawl",
            "alerts",
            "review_url",
            "review",
            "dedup",
            "env_file",
        },
    )
    env, env_file_keys = _with_env_file(check, base, data.get("env_file"), env)
    env_file = str(data.get("env_file") or "")

    database = check.string("database", data.get("database", "newswatch.db"))
    review_url = check.url("review_url", data.get("review_url", "http://127.0.0.1:8001/"))

    sources = _sources(check, data.get("source", []))
    channels = _channels(check, data.get("channel", []), env, base, need_secrets, env_file)
    crawl = _crawl(check, data.get("crawl", {}))
    alerts = _alerts(check, data.get("alerts", {}))
    review = _review(check, data.get("review", {}))
    dedup = _dedup(check, data.get("dedup", {}))

    watches: list[Watch] = _watches(check, data.get("watch", []), "watch")
    problems: list[str] = []
    for index, name in enumerate(check.strings("watchlist", data.get("watchlist"))):
        file_path = (base / name) if not Path(name).is_absolute() else Path(name)
        try:
            file_data = _read_toml(file_path, name)
        except ConfigError as exc:
            problems.append(f"{shown}: watchlist[{index}]: {exc}")
            continue
        sub = _Checker(name)
        sub.unknown_keys("", file_data, {"watch"})
        watches.extend(_watches(sub, file_data.get("watch", []), "watch"))
        problems.extend(sub.problems)
    problems[:0] = check.problems

    _cross_check(problems, shown, sources, watches, channels)
    operator = alerts.operator_channel
    if operator and operator not in {channel.id for channel in channels}:
        problems.append(
            f"{shown}: alerts.operator_channel: expected a channel id, got {operator!r}"
        )
    if problems:
        raise ConfigError(problems)
    return Config(
        path=config_path,
        database=(base / database) if not Path(database).is_absolute() else Path(database),
        sources=tuple(sources),
        watches=tuple(watches),
        channels=tuple(channels),
        crawl=crawl,
        alerts=alerts,
        review_url=review_url or "http://127.0.0.1:8001/",
        review=review,
        dedup=dedup,
        env=env,
        env_file_keys=env_file_keys,
    )


def _with_env_file(
    check: _Checker, base: Path, value: object, env: Mapping[str, str]
) -> tuple[Mapping[str, str], tuple[str, ...]]:
    """``env`` over the variables of the config's ``env_file`` (dotenv syntax), and their names.

    The file holds secrets, so it must be private to its owner (mode 0600): one
    that group or others may read is refused. Variables already set in ``env``
    win; values are never put in a message.
    """
    if value is None:
        return env, ()
    name = check.string("env_file", value, required=True)
    if not name:
        return env, ()
    path = Path(name) if Path(name).is_absolute() else base / name
    try:
        values = read_env_file(path)
    except ConfigError as exc:
        check.problems.extend(f"{check.file}: env_file: {problem}" for problem in exc.problems)
        return env, ()
    return {**values, **env}, tuple(values)


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of a dotenv file (``KEY=value``, ``export KEY="value"``, ``# comments``).

    No ``${VAR}`` expansion: a password holding ``$`` stays as written. Raises
    ConfigError naming the file and line of every problem, and for a file that
    group or others may read (``chmod 600`` it). Values never reach a message.
    """
    from dotenv.parser import parse_stream

    shown = str(path)
    try:
        mode = path.stat().st_mode
        if os.name == "posix" and mode & 0o077:
            raise ConfigError(
                [
                    f"{shown}: group or others may read this file of secrets "
                    f"(mode {mode & 0o777:04o}); run: chmod 600 {shown}"
                ]
            )
        with path.open(encoding="utf-8") as handle:
            bindings = list(parse_stream(handle))
    except FileNotFoundError:
        raise ConfigError([f"{shown}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{shown}: cannot read: {type(exc).__name__}"]) from None
    problems = [
        f"{shown}: line {binding.original.line}: expected KEY=value (dotenv syntax)"
        for binding in bindings
        if binding.error
    ]
    if problems:
        raise ConfigError(problems)
    return {
        binding.key: binding.value
        for binding in bindings
        if binding.key is not None and binding.value is not None
    }


def _tables(check: _Checker, key: str, value: object) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        check.problem(key, f"an array of tables ([[{key}]])", value)
        return []
    tables = []
    for index, item in enumerate(value):
        where = f"{key}[{index}]"
        if not isinstance(item, dict):
            check.problem(where, "a table", item)
            continue
        tables.append((where, item))
    return tables


def _sources(check: _Checker, value: object) -> list[Source]:
    sources = []
    allowed = {"name", "feed", "site", "sitemaps", "sections", "follow", "language", "max_articles"}
    allowed.add("allow_private")
    for where, table in _tables(check, "source", value):
        check.unknown_keys(where, table, allowed)
        name = check.string(f"{where}.name", table.get("name"), required=True)
        if name and not ID_RE.match(name):
            check.problem(f"{where}.name", "letters, digits, '-', '_' or '.'", name)
        feed = check.url(f"{where}.feed", table.get("feed"))
        site = check.url(f"{where}.site", table.get("site"))
        if "feed" in table and "site" in table:
            check.problem(where, "either feed or site, not both", sorted(table))
        elif "feed" not in table and "site" not in table:
            check.problems.append(
                f"{check.file}: {where}: expected a 'feed' or a 'site' key, got neither"
            )
        sitemaps = tuple(
            check.url(f"{where}.sitemaps[{i}]", u)
            for i, u in enumerate(check.strings(f"{where}.sitemaps", table.get("sitemaps")))
        )
        sections = tuple(
            check.url(f"{where}.sections[{i}]", u)
            for i, u in enumerate(check.strings(f"{where}.sections", table.get("sections")))
        )
        if feed and (sitemaps or sections):
            check.problem(where, "sitemaps and sections only on a site source", "a feed source")
        follow = check.strings(f"{where}.follow", table.get("follow"))
        for i, pattern in enumerate(follow):
            try:
                re.compile(pattern)
            except re.error as exc:
                check.problem(f"{where}.follow[{i}]", "a regular expression", pattern, str(exc))
        language = check.string(f"{where}.language", table.get("language"))
        max_articles = check.number(f"{where}.max_articles", table.get("max_articles", 200), int, 1)
        sources.append(
            Source(
                name=name,
                feed=feed,
                site=site,
                sitemaps=sitemaps,
                sections=sections,
                follow=follow,
                language=language,
                max_articles=max_articles or 200,
                allow_private=_flag(
                    check, f"{where}.allow_private", table.get("allow_private", False)
                ),
            )
        )
    return sources


def _watches(check: _Checker, value: object, key: str) -> list[Watch]:
    watches = []
    allowed = {"id", "kind", "name", "aliases", "query", "exclude", "context", "channels"}
    allowed |= {"priority", "redact"}
    for where, table in _tables(check, key, value):
        check.unknown_keys(where, table, allowed)
        watch_id = check.string(f"{where}.id", table.get("id"), required=True)
        if watch_id and not ID_RE.match(watch_id):
            check.problem(f"{where}.id", "letters, digits, '-', '_' or '.'", watch_id)
        kind = table.get("kind", "person")
        if kind not in WATCH_KINDS:
            check.problem(f"{where}.kind", " | ".join(WATCH_KINDS), kind)
        name = check.string(f"{where}.name", table.get("name"))
        query = check.string(f"{where}.query", table.get("query"))
        aliases = check.strings(f"{where}.aliases", table.get("aliases"))
        if kind == "case":
            if not query:
                check.problems.append(f"{check.file}: {where}.query: a case needs a query")
            if aliases:
                check.problem(f"{where}.aliases", "no aliases on a case (use query)", aliases)
        elif kind in WATCH_KINDS:
            if not name and not aliases:
                check.problems.append(
                    f"{check.file}: {where}.name: a {kind} needs a name or aliases"
                )
            if query:
                check.problem(f"{where}.query", f"no query on a {kind} (use kind = 'case')", query)
        watches.append(
            Watch(
                id=watch_id,
                kind=kind if isinstance(kind, str) else "person",
                name=name,
                aliases=aliases,
                query=query,
                exclude=check.strings(f"{where}.exclude", table.get("exclude")),
                context=check.strings(f"{where}.context", table.get("context")),
                channels=check.strings(f"{where}.channels", table.get("channels")),
                origin=f"{check.file}: {where}",
                priority=_watch_priority(check, where, table.get("priority", "normal")),
                redact=_flag(check, f"{where}.redact", table.get("redact", False)),
            )
        )
    return watches


def _channels(
    check: _Checker,
    value: object,
    env: Mapping[str, str],
    base: Path | None = None,
    need_secrets: bool = True,
    env_file: str = "",
) -> list[Channel]:
    channels = []
    for where, table in _tables(check, "channel", value):
        channel_id = check.string(f"{where}.id", table.get("id"), required=True)
        kind = table.get("type")
        if kind not in CHANNEL_KEYS:
            check.problem(f"{where}.type", " | ".join(CHANNEL_KEYS), kind)
            continue
        keys = CHANNEL_KEYS[kind]
        check.unknown_keys(where, table, {"id", "type", *keys})
        options: dict[str, Any] = {}
        secrets: dict[str, str] = {}
        for key, required in keys.items():
            if key not in table:
                if required:
                    check.problems.append(f"{check.file}: {where}.{key}: required key is missing")
                continue
            if key.endswith("_env"):
                var = check.string(f"{where}.{key}", table[key], required=True)
                if var and var not in env and need_secrets:
                    check.problems.append(
                        f"{check.file}: {where}.{key}: environment variable {var} is not set"
                        + (f" (nor in env_file {env_file})" if env_file else "")
                    )
                elif var and var in env:
                    secrets[key[: -len("_env")]] = env[var]
            elif key == "timeout":
                options[key] = check.number(f"{where}.{key}", table[key], float, 1)
            elif key in ("cap", "port"):
                options[key] = check.number(f"{where}.{key}", table[key], int, 1)
            else:
                options[key] = table[key]
        if kind == "email":
            _email_options(check, where, options, secrets, base)
        if kind in ("webhook", "slack") and "url" in secrets and not _is_http_url(secrets["url"]):
            check.problems.append(
                f"{check.file}: {where}.url_env: expected the variable to hold an http(s) URL"
            )
        if "secret" in secrets and not secrets["secret"].startswith("whsec_"):
            check.problems.append(
                f"{check.file}: {where}.secret_env: expected the variable to hold a "
                "'whsec_' + base64 secret (Standard Webhooks)"
            )
        channels.append(Channel(id=channel_id, type=kind, options=options, secrets=secrets))
    return channels


def _watch_priority(check: _Checker, where: str, value: object) -> str:
    if value not in ("normal", "urgent"):
        check.problem(f"{where}.priority", "normal | urgent", value)
        return "normal"
    return str(value)


def _flag(check: _Checker, key: str, value: object) -> bool:
    if not isinstance(value, bool):
        check.problem(key, "true or false", value)
        return False
    return value


def _email_options(
    check: _Checker,
    where: str,
    options: dict[str, Any],
    secrets: Mapping[str, str],
    base: Path | None,
) -> None:
    """Check an email channel's keys in place; fill in defaults (port by security, mode)."""
    security = options.setdefault("security", "starttls")
    if security not in EMAIL_SECURITY:
        check.problem(f"{where}.security", " | ".join(EMAIL_SECURITY), security)
    elif security == "plain-local-relay" and ("username" in secrets or "password" in secrets):
        check.problem(
            f"{where}.security",
            "starttls or tls when logging in",
            security,
            "a password is never sent over a plaintext connection",
        )
    default_port = {"starttls": 587, "tls": 465}.get(str(security), 25)
    options["port"] = options.get("port") or default_port
    check.string(f"{where}.host", options.get("host"), required=True)
    sender = check.string(f"{where}.from", options.get("from"), required=True)
    if sender and not ADDRESS_RE.match(sender.rpartition("<")[2].rstrip(">").strip()):
        check.problem(f"{where}.from", "an email address", sender)
    recipients = check.strings(f"{where}.to", options.get("to"))
    for index, address in enumerate(recipients):
        if not ADDRESS_RE.match(address):
            check.problem(f"{where}.to[{index}]", "an email address", address)
    options["to"] = recipients
    mode = options.setdefault("mode", "immediate")
    if mode not in EMAIL_MODES:
        check.problem(f"{where}.mode", " | ".join(EMAIL_MODES), mode)
    every = options.setdefault("every", "1d")
    if not isinstance(every, str) or not DURATION_RE.match(every):
        check.problem(f"{where}.every", 'a period such as "1h" or "1d"', every)
    at = options.setdefault("at", "00:00")
    if not isinstance(at, str) or not CLOCK_RE.match(at):
        check.problem(f"{where}.at", 'a time of day "HH:MM" (UTC)', at)
    if "list_id" in options:
        check.string(f"{where}.list_id", options["list_id"], required=True)
    for key in ("ca_file", "template_dir"):
        if key not in options:
            continue
        name = check.string(f"{where}.{key}", options[key], required=True)
        path = Path(name) if Path(name).is_absolute() or base is None else base / name
        if name and not path.exists():
            check.problem(f"{where}.{key}", "an existing path", name)
        options[key] = str(path) if name else ""


def _settings_table(
    check: _Checker, key: str, value: object, defaults: Any, kinds: Mapping[str, type]
) -> dict[str, Any]:
    if not isinstance(value, dict):
        check.problem(key, "a table", value)
        return {}
    check.unknown_keys(key, value, set(kinds))
    out: dict[str, Any] = {}
    for name, kind in kinds.items():
        if name not in value:
            continue
        item = value[name]
        if kind is bool:
            if isinstance(item, bool):
                out[name] = item
            else:
                check.problem(f"{key}.{name}", "true or false", item)
        elif kind is str:
            out[name] = check.string(f"{key}.{name}", item, required=True)
        else:
            minimum = 0 if name in ("retries", "backfill_hours", "threshold") else 1
            number = check.number(f"{key}.{name}", item, kind, minimum)
            if number is not None:
                out[name] = number
    return out


def _crawl(check: _Checker, value: object) -> CrawlSettings:
    kinds: dict[str, type] = {
        "user_agent": str,
        "obey_robots": bool,
        "concurrency_per_domain": int,
        "download_timeout": float,
        "max_page_bytes": int,
        "retries": int,
        "autothrottle": bool,
    }
    return CrawlSettings(**_settings_table(check, "crawl", value, CrawlSettings, kinds))


def _alerts(check: _Checker, value: object) -> AlertSettings:
    kinds: dict[str, type] = {
        "max_attempts": int,
        "cap": int,
        "backfill_hours": float,
        "operator_channel": str,
        "source_failure_threshold": int,
    }
    return AlertSettings(**_settings_table(check, "alerts", value, AlertSettings, kinds))


def _review(check: _Checker, value: object) -> ReviewSettings:
    kinds: dict[str, type] = {"password_env": str, "open_on_localhost": bool}
    return ReviewSettings(**_settings_table(check, "review", value, ReviewSettings, kinds))


def _dedup(check: _Checker, value: object) -> DedupSettings:
    kinds: dict[str, type] = {"threshold": float, "window_days": int}
    settings = _settings_table(check, "dedup", value, DedupSettings, kinds)
    if not 0 < settings.get("threshold", DedupSettings.threshold) <= 1:
        check.problem(
            "dedup.threshold",
            "a number above 0 and at most 1",
            settings.pop("threshold"),
            "the estimated Jaccard similarity at which two articles are one story",
        )
    return DedupSettings(**settings)


def _cross_check(
    problems: list[str],
    shown: str,
    sources: list[Source],
    watches: list[Watch],
    channels: list[Channel],
) -> None:
    def duplicates(items: list[str]) -> set[str]:
        seen: set[str] = set()
        return {i for i in items if i and (i in seen or seen.add(i))}  # type: ignore[func-returns-value]

    for name in sorted(duplicates([s.name for s in sources])):
        problems.append(f"{shown}: source: name {name!r} is used twice (names must be unique)")
    for name in sorted(duplicates([w.id for w in watches])):
        problems.append(f"{shown}: watch: id {name!r} is used twice (ids must be unique)")
    for name in sorted(duplicates([c.id for c in channels])):
        problems.append(f"{shown}: channel: id {name!r} is used twice (ids must be unique)")
    known = {c.id for c in channels}
    for watch in watches:
        for index, channel in enumerate(watch.channels):
            if channel not in known:
                problems.append(
                    f"{watch.origin}.channels[{index}]: expected a channel id defined in "
                    f"{shown} ({', '.join(sorted(known)) or 'none defined'}), got {channel!r}"
                )


def validate_queries(config: Config, compile_query: Callable[[str], object]) -> list[str]:
    """Compile every case query; return one problem line per malformed query."""
    problems = []
    for watch in config.watches:
        for key, texts in (
            ("query", (watch.query,)),
            ("exclude", watch.exclude),
            ("context", watch.context),
        ):
            for text in texts:
                if not text:
                    continue
                try:
                    compile_query(text)
                except ValueError as exc:
                    problems.append(f"{watch.origin}.{key}: {exc}")
    return problems


def config_warnings(config: Config) -> list[str]:
    """What a valid config still lacks for a useful run: sources, watches, channels.

    None of these stops a run; each is one line naming the file and what to add.
    """
    shown = str(config.path)
    warnings = []
    if not config.sources:
        warnings.append(
            f"{shown}: no [[source]]: nothing will be fetched (add a feed or a site source)"
        )
    if not config.watches:
        warnings.append(
            f"{shown}: no [[watch]] here or in its watchlist files: nothing will be matched"
        )
    if not config.channels:
        warnings.append(f"{shown}: no [[channel]]: hits are stored but no alert is sent")
    for watch in config.watches:
        if not watch.channels and config.channels:
            warnings.append(
                f"{watch.origin}.channels: empty: hits for {watch.id!r} are stored, never sent"
            )
    return warnings
