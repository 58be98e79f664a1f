"""Load and validate newswatch.toml and its watchlist files into plain dataclasses.

Everything is checked before the first request. Every problem becomes one line
that names the file, the key path, what was expected and what was found, e.g.
``newswatch.toml: source[3].feed: expected an http(s) URL, got 'orda.kz/rss'``.
All problems in a file are reported together.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from crawler.config.keys import (
    ADDRESS_RE,
    CHANNEL_OPTIONS,
    CLOCK_RE,
    DURATION_RE,
    ID_RE,
    MIN_WEBHOOK_KEY_BYTES,
    WEBHOOK_SECRET_PREFIX,
    AlertSettings,
    Channel,
    CrawlSettings,
    DedupSettings,
    EmailOptions,
    EvidenceSettings,
    Key,
    ReviewSettings,
    RevisitSettings,
    Source,
    Watch,
    keys,
    webhook_key,
)
from crawler.config.mailheaders import from_problem, list_id_problem

T = TypeVar("T")


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Config:
    """The whole validated configuration."""

    path: Path
    database: Path
    sources: tuple[Source, ...]
    watches: tuple[Watch, ...]
    channels: tuple[Channel, ...]
    crawl: CrawlSettings = field(default_factory=CrawlSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    review_url: str = "http://127.0.0.1:8001/"
    review: ReviewSettings = field(default_factory=ReviewSettings)
    dedup: DedupSettings = field(default_factory=DedupSettings)
    revisit: RevisitSettings = field(default_factory=RevisitSettings)
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings)
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

    def number(
        self, key: str, value: object, kind: type, low: float, high: float | None = None
    ) -> Any:
        """A finite number of ``kind`` from ``low`` to ``high``."""
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
            "revisit",
            "evidence",
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
    alerts = _table(check, "alerts", data.get("alerts", {}), AlertSettings)
    review = _table(check, "review", data.get("review", {}), ReviewSettings)
    dedup = _dedup(check, data.get("dedup", {}))
    revisit = _revisit(check, data.get("revisit", {}))
    evidence = _table(check, "evidence", data.get("evidence", {}), EvidenceSettings)

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
        revisit=revisit,
        evidence=evidence,
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


def _values(
    check: _Checker,
    where: str,
    table: Mapping[str, Any],
    cls: type,
    *,
    ignore: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The keys of ``table`` that ``cls`` declares, each checked against its declaration.

    Returns ``{attribute: value}`` for the keys present and valid; unknown keys,
    missing required keys and bad values become problems. Defaults are left to
    the dataclass.
    """
    declared = keys(cls)
    check.unknown_keys(where, table, {key.name for key in declared} | set(ignore))
    values: dict[str, Any] = {}
    for key in declared:
        if key.name not in table:
            if key.required:
                check.problems.append(f"{check.file}: {where}.{key.name}: required key is missing")
            continue
        value = _value(check, f"{where}.{key.name}" if where else key.name, table[key.name], key)
        if value is not None:
            values[key.attribute] = value
    return values


def _value(check: _Checker, path: str, value: object, key: Key) -> Any:
    """One value checked against its key's type, bounds and choices (None if it is bad)."""
    if key.type is bool:
        if not isinstance(value, bool):
            check.problem(path, "true or false", value)
            return None
        return value
    if key.type in (int, float):
        low = key.low if key.low is not None else 0
        return check.number(path, value, key.type, low, key.high)
    if key.type == tuple[str, ...]:
        return check.strings(path, value) or None
    text = check.string(path, value, required=key.required or key.secret)
    if text and key.choices and text not in key.choices:
        check.problem(path, " | ".join(key.choices), text)
        return None
    return text or None


def _sources(check: _Checker, value: object) -> list[Source]:
    sources = []
    for where, table in _tables(check, "source", value):
        channel = _telegram_channel(check, where, table.get("telegram"))
        if channel and "name" not in table:
            table = {**table, "name": channel}  # a channel's name is id enough
        values = _values(check, where, table, Source)
        if "telegram" in values:
            if channel:
                values["telegram"] = channel
            else:
                del values["telegram"]
        name = values.get("name", "")
        if name and not ID_RE.match(name):
            check.problem(f"{where}.name", "letters, digits, '-', '_' or '.'", name)
        for key in ("feed", "site"):
            if values.get(key) and not _is_http_url(values[key]):
                check.problem(f"{where}.{key}", "an http(s) URL", values.pop(key))
        kinds = [key for key in ("feed", "site", "telegram") if key in table]
        if len(kinds) > 1:
            check.problem(where, "one of feed, site or telegram", f"{' and '.join(kinds)}")
        elif not kinds:
            check.problems.append(
                f"{check.file}: {where}: expected a 'feed', 'site' or 'telegram' key, got none"
            )
        for key in ("sitemaps", "sections"):
            for index, url in enumerate(values.get(key, ())):
                if not _is_http_url(url):
                    check.problem(f"{where}.{key}[{index}]", "an http(s) URL", url)
        if not values.get("site") and (values.get("sitemaps") or values.get("sections")):
            kind = "a Telegram source" if "telegram" in table else "a feed source"
            check.problem(where, "sitemaps and sections only on a site source", kind)
        if values.get("follow_links") and "telegram" not in table:
            check.problem(
                f"{where}.follow_links", "follow_links only on a Telegram source", True,
                "a site source follows the links its follow rules match",
            )
        stale_after = values.get("stale_after")
        if stale_after and not DURATION_RE.match(stale_after):
            check.problem(f"{where}.stale_after", 'a duration such as "36h" or "3d"',
                          values.pop("stale_after"))
        for index, pattern in enumerate(values.get("follow", ())):
            try:
                re.compile(pattern)
            except re.error as exc:
                check.problem(f"{where}.follow[{index}]", "a regular expression", pattern, str(exc))
        sources.append(Source(**values))
    return sources


# A public channel's username: 5 to 32 letters, digits and underscores, a letter first
# (a few older ones are shorter, so 4 is allowed).
_CHANNEL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_TELEGRAM_HOSTS = ("t.me", "telegram.me", "www.t.me", "www.telegram.me")


def _telegram_channel(check: _Checker, where: str, value: object) -> str:
    """A channel name from ``name``, ``@name``, ``t.me/name`` or ``https://t.me/s/name``."""
    if value is None:
        return ""
    key = f"{where}.telegram"
    expected = "a public channel's name or its t.me URL"
    if not isinstance(value, str) or not value.strip():
        check.problem(key, expected, value)
        return ""
    text = value.strip().removeprefix("@")
    if "/" in text or "." in text:
        parts = urlsplit(text if "://" in text else f"https://{text}")
        path = [part for part in parts.path.split("/") if part]
        if path[:1] == ["s"]:
            path = path[1:]
        if parts.scheme not in ("http", "https") or parts.hostname not in _TELEGRAM_HOSTS:
            hint = "e.g. 'steppe_rights' or 'https://t.me/s/steppe_rights'"
            check.problem(key, expected, value, hint)
            return ""
        if not path or path[0].startswith("+") or path[0] == "joinchat":
            hint = "an invite link is a private chat, without a public preview"
            check.problem(key, expected, value, hint)
            return ""
        text = path[0]
    if not _CHANNEL_RE.match(text):
        check.problem(key, expected, value, "4 to 32 letters, digits and '_', a letter first")
        return ""
    return text


def _watches(check: _Checker, value: object, key: str) -> list[Watch]:
    watches = []
    for where, table in _tables(check, key, value):
        values = _values(check, where, table, Watch)
        watch_id = values.get("id", "")
        if watch_id and not ID_RE.match(watch_id):
            check.problem(f"{where}.id", "letters, digits, '-', '_' or '.'", watch_id)
        kind = values.get("kind", "person")
        name, query, aliases = values.get("name"), values.get("query"), values.get("aliases")
        if kind == "case":
            if not query:
                check.problems.append(f"{check.file}: {where}.query: a case needs a query")
            if aliases:
                check.problem(f"{where}.aliases", "no aliases on a case (use query)", aliases)
        elif "kind" in values or "kind" not in table:
            if not name and not aliases:
                check.problems.append(
                    f"{check.file}: {where}.name: a {kind} needs a name or aliases"
                )
            if query:
                check.problem(f"{where}.query", f"no query on a {kind} (use kind = 'case')", query)
        watches.append(Watch(**values, origin=f"{check.file}: {where}"))
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
        cls = CHANNEL_OPTIONS.get(kind) if isinstance(kind, str) else None
        if cls is None:
            check.problem(f"{where}.type", " | ".join(CHANNEL_OPTIONS), kind)
            continue
        values = _values(check, where, table, cls, ignore=("id", "type"))
        secrets: dict[str, str] = {}
        for key in keys(cls):
            var = values.get(key.attribute)
            if not key.secret or not var:
                continue
            if var in env:
                secrets[key.name.removesuffix("_env")] = env[var]
            elif need_secrets:
                check.problems.append(
                    f"{check.file}: {where}.{key.name}: environment variable {var} is not set"
                    + (f" (nor in env_file {env_file})" if env_file else "")
                )
        options = cls(**values)
        if isinstance(options, EmailOptions):
            options = _email_options(check, where, options, secrets, base)
        if kind in ("webhook", "slack") and "url" in secrets and not _is_http_url(secrets["url"]):
            check.problems.append(
                f"{check.file}: {where}.url_env: expected the variable to hold an http(s) URL"
            )
        if "secret" in secrets:
            check.problems += _webhook_secret_problems(
                f"{check.file}: {where}.secret_env", secrets["secret"]
            )
        channels.append(Channel(id=channel_id, type=str(kind), options=options, secrets=secrets))
    return channels


def _webhook_secret_problems(where: str, secret: str) -> list[str]:
    """What is wrong with a Standard Webhooks secret: its form, or a key under 24 bytes."""
    expected = "expected the variable to hold a 'whsec_' + base64 secret (Standard Webhooks)"
    if not secret.strip().startswith(WEBHOOK_SECRET_PREFIX):
        return [f"{where}: {expected}"]
    try:
        key = webhook_key(secret)
    except ValueError as exc:
        return [f"{where}: {expected}; {exc}"]
    if len(key) < MIN_WEBHOOK_KEY_BYTES:
        return [
            f"{where}: the key is {len(key)} bytes; Standard Webhooks keys are at least "
            f"{MIN_WEBHOOK_KEY_BYTES} (make one with `newswatch secret`)"
        ]
    return []


def _email_options(
    check: _Checker,
    where: str,
    options: EmailOptions,
    secrets: Mapping[str, str],
    base: Path | None,
) -> EmailOptions:
    """What an email channel's keys must satisfy together; paths made absolute."""
    if options.security == "plain-local-relay" and ("username" in secrets or "password" in secrets):
        check.problem(
            f"{where}.security",
            "starttls or tls when logging in",
            options.security,
            "a password is never sent over a plaintext connection",
        )
    sender = options.sender
    if sender and from_problem(sender):
        check.problem(f"{where}.from", from_problem(sender), sender)
    if options.list_id and list_id_problem(options.list_id):
        check.problem(f"{where}.list_id", list_id_problem(options.list_id), options.list_id)
    for index, address in enumerate(options.to):
        if not ADDRESS_RE.match(address):
            check.problem(f"{where}.to[{index}]", "an email address", address)
    if not DURATION_RE.match(options.every):
        check.problem(f"{where}.every", 'a period such as "1h" or "1d"', options.every)
    if not CLOCK_RE.match(options.at):
        check.problem(f"{where}.at", 'a time of day "HH:MM" (UTC)', options.at)
    paths = {}
    for key in ("ca_file", "template_dir"):
        name = getattr(options, key)
        if not name:
            continue
        path = Path(name) if Path(name).is_absolute() or base is None else base / name
        if not path.exists():
            check.problem(f"{where}.{key}", "an existing path", name)
        paths[key] = str(path)
    return dataclasses.replace(
        options,
        ca_file=paths.get("ca_file", options.ca_file),
        template_dir=paths.get("template_dir", options.template_dir),
    )


def _table(check: _Checker, key: str, value: object, cls: type[T]) -> T:
    """A settings table (``[crawl]``, ``[alerts]``...) from its declared keys."""
    if not isinstance(value, dict):
        check.problem(key, "a table", value)
        return cls()
    return cls(**_values(check, key, value, cls))


def _crawl(check: _Checker, value: object) -> CrawlSettings:
    settings = _table(check, "crawl", value, CrawlSettings)
    base = settings.telegram_base
    if not _is_http_url(base) or urlsplit(base).query or urlsplit(base).fragment:
        check.problem("crawl.telegram_base", "an http(s) URL without query", base)
        settings = dataclasses.replace(settings, telegram_base=CrawlSettings.telegram_base)
    else:
        settings = dataclasses.replace(settings, telegram_base=base.rstrip("/"))
    return settings


def _dedup(check: _Checker, value: object) -> DedupSettings:
    settings = _table(check, "dedup", value, DedupSettings)
    if not 0 < settings.threshold <= 1:
        check.problem(
            "dedup.threshold",
            "a number above 0 and at most 1",
            settings.threshold,
            "the estimated Jaccard similarity at which two articles are one story",
        )
        settings = dataclasses.replace(settings, threshold=DedupSettings.threshold)
    return settings


def _revisit(check: _Checker, value: object) -> RevisitSettings:
    settings = _table(check, "revisit", value, RevisitSettings)
    for key in ("intervals", "recent_intervals"):
        periods: tuple[str, ...] = getattr(settings, key)
        seconds = [duration_seconds(period) or 0 for period in periods]
        bad = [period for period, second in zip(periods, seconds, strict=True) if not second]
        if bad:
            check.problem(f"revisit.{key}", 'periods such as "1h", "6h" or "7d"', bad[0])
        elif any(later <= earlier for earlier, later in itertools.pairwise(seconds)):
            check.problem(
                f"revisit.{key}",
                "growing periods",
                list(periods),
                "each is counted from the article's first fetch",
            )
        else:
            continue
        settings = dataclasses.replace(settings, **{key: getattr(RevisitSettings, key)})
    return settings


def duration_seconds(text: str) -> int | None:
    """Seconds in a period such as "30m", "6h" or "7d"; None if it is not one."""
    found = DURATION_RE.match(text)
    if found is None:
        return None
    return int(found.group(1)) * {"m": 60, "h": 3600, "d": 86400}[found.group(2)]


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
