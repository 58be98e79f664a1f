"""The ``newswatch`` command: the only place that turns errors into messages and exit codes.

Exit codes: 0 ok; 1 some sources or deliveries failed (the rest was done);
2 bad config or usage; 75 (EX_TEMPFAIL) another run holds the lock.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import shlex
import shutil
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.config import Config, ConfigError, config_warnings, load_config, validate_queries

if TYPE_CHECKING:
    import redis

    from crawler.run.cycle import RunSummary

EXIT_OK, EXIT_PARTIAL, EXIT_CONFIG, EXIT_LOCKED = 0, 1, 2, 75
DEFAULT_CONFIG = "newswatch.toml"

log = logging.getLogger("newswatch")


ALERT_ACTIONS = {
    "deliver": (
        "send the alerts that are due now",
        "Send every alert whose time has come (new ones, retries whose backoff has "
        "passed, digests whose slot has come), each channel on its own; exit 1 if a "
        "delivery failed (it stays queued and is retried later).",
    ),
    "status": (
        "count the outbox: pending, sending, failed, dead, sent",
        "Show how many alerts are pending, being sent, failed (to be retried), dead "
        "(given up) and sent; the oldest pending one and its age; channels disabled "
        "or resting. Sends nothing.",
    ),
    "retry": (
        "re-queue dead alerts and re-enable disabled channels",
        "Put every dead alert back in the queue with a fresh set of attempts, and "
        "re-enable channels that were disabled (HTTP 410, a Slack channel gone, a "
        "mail server refusing the login); the next run or `alerts deliver` sends them.",
    ),
}


USER_ACTIONS = {
    "add": "add an editor's account (asks for its password)",
    "remove": "remove an account: its sessions and feed tokens end; its verdicts stay signed",
    "list": "list the accounts",
    "passwd": "change an account's password: every session of the account ends",
    "token": "print a new feed token for an account's feed reader (or --revoke them all)",
}

SOURCE_ACTIONS = {
    "test": (
        "fetch sources now as a run would, and show what they would collect",
        "Crawl the named sources now with the run's settings, spiders, robots.txt and "
        "extraction, and print each article they would collect (URL, title, date, language, "
        "words, the follow rule that took it), the same-site links no follow rule took (those "
        "that look like articles first) and why a source would collect nothing. Stores nothing, "
        "sends nothing; the database need not exist. Exit 1 if a source has a problem.",
    ),
    "discover": (
        "find an outlet's feeds, sitemaps and article links; print a [[source]] block",
        "From an outlet's home page, find its feeds (<link rel=\"alternate\"> and common "
        "paths), its sitemaps (robots.txt, /sitemap.xml, indexes, Google News sitemaps) and "
        "the shape of its article links, and print ready [[source]] blocks whose comments say "
        "what was found where. Loopback, private and link-local addresses are refused unless "
        "--allow-private.",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; the README documents every command and option it defines.

    ``-c/--config`` and ``-v/--verbose`` are accepted before or after the command.
    """
    parser = argparse.ArgumentParser(
        prog="newswatch",
        description="Watch news sites and feeds for named people and cases; alert staff.",
        epilog="Start with `newswatch demo`, or `newswatch init DIR` for a config of your own.",
    )
    parser.add_argument("--version", action="version", version="newswatch 0.1.0")
    _common_options(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(
        name: str, help_text: str, parent: argparse._SubParsersAction[Any] = commands, **kw: Any
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = parent.add_parser(
            name, help=help_text, description=kw.pop("description", help_text), **kw
        )
        _common_options(sub)
        return sub

    demo = command("demo", "run the whole job offline on the embedded demo site")
    demo.add_argument(
        "--dir",
        default="newswatch-demo",
        help="where the demo writes its config and database (default: %(default)s)",
    )

    init = command(
        "init",
        "write a commented starter config, watchlist and env file into a folder",
        description="Write newswatch.toml, watchlist.toml and newswatch.env (mode 0600, "
        "with a fresh webhook signing secret) into DIR, ready for `newswatch check`. "
        "Existing files are left alone unless --force.",
    )
    init.add_argument("dir", nargs="?", default=".", help="the folder (default: the current one)")
    init.add_argument("--force", action="store_true", help="overwrite files that exist")

    command(
        "secret",
        "print a fresh webhook signing secret (whsec_ + base64 of 32 random bytes)",
    )

    run = command("run", "one cron cycle: fetch, match, dedup, store, deliver")
    run.add_argument("--json", action="store_true", help="print the run summary as JSON")

    check = command("check", "validate the config and watchlist")
    check.add_argument(
        "--json",
        action="store_true",
        help='print {"ok": ..., "errors": [...], "warnings": [...]} as JSON',
    )

    match = command("match", "show which watches match a text, and why")
    match.add_argument("text", help="the text to match, or - to read standard input")
    match.add_argument(
        "--lines", action="store_true", help="treat each input line as a separate text"
    )
    match.add_argument(
        "--json",
        action="store_true",
        help='print {"hits": [...]} as JSON (one object per line with --lines)',
    )

    alerts = command("alerts", "deliver pending alerts, show the outbox, re-queue dead alerts")
    actions = alerts.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, (help_text, description) in ALERT_ACTIONS.items():
        sub = command(action, help_text, actions, description=description)
        sub.add_argument("--json", action="store_true", help="print the result as JSON")

    sources = command("sources", "test a source now; discover an outlet's feeds and sitemaps")
    source_actions = sources.add_subparsers(dest="action", metavar="ACTION", required=True)
    test = command("test", SOURCE_ACTIONS["test"][0], source_actions,
                   description=SOURCE_ACTIONS["test"][1])
    test.add_argument("names", nargs="*", metavar="NAME", help="sources to test, by name")
    test.add_argument("--all", action="store_true", help="test every configured source")
    discover = command("discover", SOURCE_ACTIONS["discover"][0], source_actions,
                       description=SOURCE_ACTIONS["discover"][1])
    discover.add_argument("url", help="the outlet's home page, http(s)")
    discover.add_argument("--name", default="", help="the source name (default: from the host)")
    discover.add_argument(
        "--allow-private",
        action="store_true",
        help="fetch loopback, private and link-local addresses too (an intranet, a test site)",
    )
    discover.add_argument(
        "--test", action="store_true", help="then test the sources it proposes (as `sources test`)"
    )
    for sub in (test, discover):
        sub.add_argument(
            "--max-articles",
            type=int,
            default=20,
            metavar="N",
            help="articles fetched per source at most; the rest are listed (default: %(default)s)",
        )
        sub.add_argument(
            "--json",
            action="store_true",
            help="print JSON: one object per source (test), one object (discover)",
        )

    evidence = command("evidence", "check the kept raw responses (WARC records) of articles")
    evidence_actions = evidence.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = command(
        "verify",
        "re-hash every evidence record against the evidence table",
        evidence_actions,
        description="Read every WARC record the evidence table names, hash its body and "
        "compare with the table (sha256, record id, URL); print each mismatch and exit 1 "
        "if there is any, or if a file is missing.",
    )
    verify.add_argument("--json", action="store_true", help="print the result as JSON")

    review = command("review", "serve the review desk (Datasette) over the database")
    review.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    review.add_argument(
        "--port", type=int, default=8001, help="port, 0 for any free one (default: %(default)s)"
    )

    users = command("users", "editors' accounts for the review desk, and their feed tokens")
    user_actions = users.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, help_text in USER_ACTIONS.items():
        sub = command(action, help_text, user_actions)
        if action != "list":
            sub.add_argument("name", metavar="NAME", help="the account name")
        if action in ("add", "passwd"):
            sub.add_argument(
                "--password-stdin",
                action="store_true",
                help="read the password from the first line of standard input "
                "(default: ask twice on the terminal)",
            )
        if action == "token":
            sub.add_argument(
                "--revoke", action="store_true", help="revoke every feed token of the account"
            )
        if action == "list":
            sub.add_argument("--json", action="store_true", help="print the accounts as JSON")

    ingest = command("ingest", "distributed mode: one cycle consuming crawled items from Redis")
    ingest.add_argument(
        "--wait",
        type=float,
        default=900.0,
        help="seconds to wait at most for the crawl workers to finish (default: %(default)s)",
    )
    ingest.add_argument("--json", action="store_true", help="print the run summary as JSON")
    crawl = command("crawl", "distributed mode: a crawl worker fed through Redis")
    crawl.add_argument(
        "--idle-exit",
        type=int,
        default=0,
        metavar="SECONDS",
        help="exit after this long without work (default: 0, keep running)",
    )
    for sub in (ingest, crawl):
        sub.add_argument(
            "--redis",
            default=None,
            help="Redis URL, e.g. redis://host:6379/0 (default: $NEWSWATCH_REDIS_URL, "
            "also read from the config's env_file)",
        )
    return parser


def _common_options(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """-c and -v, on the top parser and on every command; the two places are merged."""
    # Separate destinations, so `newswatch -c a.toml run` is not undone by the
    # command's own default, and `-v run -v` counts both.
    parser.add_argument(
        "-c",
        "--config",
        dest="top_config" if top else "config",
        default=argparse.SUPPRESS if not top else None,
        metavar="FILE",
        help="config file (default: $NEWSWATCH_CONFIG, else newswatch.toml)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        dest="top_verbose" if top else "verbose",
        action="count",
        default=argparse.SUPPRESS if not top else 0,
        help="more logging: -v info, -vv debug (default: warnings only)",
    )


def _resolve_common(args: argparse.Namespace) -> None:
    """Merge -c/-v given before and after the command; note where the config came from."""
    args.verbose = int(getattr(args, "top_verbose", 0) or 0) + int(getattr(args, "verbose", 0))
    given = getattr(args, "config", None) or args.top_config
    args.config_named = bool(given or os.environ.get("NEWSWATCH_CONFIG"))
    args.config = given or os.environ.get("NEWSWATCH_CONFIG") or DEFAULT_CONFIG


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``newswatch`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:  # plain `newswatch`: what can it do?
        parser.print_help()
        return EXIT_OK
    _resolve_common(args)
    _configure_logging(args.verbose)
    try:
        return int(COMMANDS[args.command](args))
    except ConfigError as exc:
        if getattr(args, "json", False) and args.command == "check":
            _print_json({"ok": False, "config": str(args.config), "errors": exc.problems})
        else:
            for problem in exc.problems:
                print(f"newswatch: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except sqlite3.OperationalError as exc:  # locked past the busy timeout, disk full, ...
        print(
            f"newswatch: {getattr(args, 'config', '')}: the database failed: {exc}; "
            "nothing stored was lost, and the next run starts over",
            file=sys.stderr,
        )
        return EXIT_PARTIAL


def _configure_logging(verbosity: int) -> None:
    from alerts.redaction import install_log_redaction
    from crawler.logs import configure_logging

    configure_logging(verbosity)
    install_log_redaction()  # every line on stderr, at every verbosity


def _load(args: argparse.Namespace, *, need_secrets: bool = True) -> Config:
    """The validated config named by the arguments; ConfigError says how to name one."""
    if not Path(args.config).exists():
        where = "" if args.config_named else f" in {Path.cwd()}"
        raise ConfigError(
            [
                f"{args.config}: no such config file{where}; name one with -c FILE or "
                "$NEWSWATCH_CONFIG, or write a starter with `newswatch init DIR`"
            ]
        )
    config = load_config(args.config, need_secrets=need_secrets)
    from alerts.redaction import add_log_secrets

    add_log_secrets(config.secret_values())  # from here on, no log line shows one
    from crawler.matching.query import compile_query

    problems = validate_queries(config, compile_query)
    if problems:
        raise ConfigError(problems)
    return config


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, sort_keys=False))


def _scrapy_level(args: argparse.Namespace) -> str:
    levels = ("WARNING", "INFO", "DEBUG")
    return levels[min(int(args.verbose), 2)]


def _cycle(args: argparse.Namespace, run: Callable[[], RunSummary]) -> int:
    """Run one cycle; print its summary line (or JSON); exit 75 if another run holds the lock."""
    from crawler.run.lock import Locked

    try:
        summary = run()
    except Locked as exc:
        print(f"newswatch: {exc}; not starting", file=sys.stderr)
        return EXIT_LOCKED
    if args.json:
        _print_json(summary.as_dict())
    else:
        print(summary.line())
    return summary.exit_code


def cmd_run(args: argparse.Namespace) -> int:
    """``newswatch run``."""
    from crawler.run.cycle import run_cycle

    config = _load(args)
    for warning in config_warnings(config):
        log.warning("%s", warning)
    return _cycle(args, lambda: run_cycle(config, log_level=_scrapy_level(args)))


def _redis(args: argparse.Namespace, config: Config) -> redis.Redis | None:
    """The checked Redis client for ``--redis``, or None after printing why there is none.

    Without ``--redis`` the URL comes from ``NEWSWATCH_REDIS_URL``, in the
    environment or the config's env file; ``args.redis`` is set to what was used.
    """
    from crawler.distributed.consumer import RedisUnavailable, connect

    args.redis = args.redis or config.getenv("NEWSWATCH_REDIS_URL")
    if not args.redis:
        raise ConfigError(
            ["--redis: required (or set NEWSWATCH_REDIS_URL, in the environment or env_file)"]
        )
    try:
        return connect(args.redis)
    except RedisUnavailable as exc:
        print(f"newswatch: {exc}", file=sys.stderr)
        return None


def cmd_ingest(args: argparse.Namespace) -> int:
    """``newswatch ingest``: one cycle of the ingest side of distributed mode."""
    from crawler.distributed.consumer import ingest_cycle

    config = _load(args)
    server = _redis(args, config)
    if server is None:
        return EXIT_PARTIAL
    return _cycle(args, lambda: ingest_cycle(config, server, wait=args.wait))


def cmd_crawl(args: argparse.Namespace) -> int:
    """``newswatch crawl``: a crawl worker of distributed mode, until stopped or idle."""
    from crawler.distributed.worker import run_worker

    config = _load(args, need_secrets=False)
    if _redis(args, config) is None:
        return EXIT_PARTIAL
    run_worker(config, args.redis, idle_exit=args.idle_exit, log_level=_scrapy_level(args))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """``newswatch check``."""
    from crawler.matching.matcher import Matcher

    config = _load(args)
    Matcher.compile(config.watches)
    warnings = config_warnings(config)
    result = {
        "ok": True,
        "config": str(config.path),
        "database": str(config.database),
        "sources": len(config.sources),
        "watches": len(config.watches),
        "channels": len(config.channels),
        "errors": [],
        "warnings": warnings,
    }
    if args.json:
        _print_json(result)
    else:
        for warning in warnings:
            print(f"newswatch: warning: {warning}", file=sys.stderr)
        print(
            f"{config.path}: ok: {result['sources']} sources, {result['watches']} watches, "
            f"{result['channels']} channels; database {config.database}"
        )
    return EXIT_OK


def cmd_match(args: argparse.Namespace) -> int:
    """``newswatch match``."""
    from crawler.matching.matcher import Matcher

    config = _load(args, need_secrets=False)
    matcher = Matcher.compile(config.watches)
    names = {watch.id: watch.label for watch in config.watches}
    text = sys.stdin.read() if args.text == "-" else args.text
    texts = text.splitlines() if args.lines else [text]
    for number, item in enumerate(texts, start=1):
        hits = matcher.match(item)
        rows = [
            {
                "watch_id": hit.watch_id,
                "watch_name": names.get(hit.watch_id, hit.watch_id),
                "matched": hit.matched,
                "start": hit.start,
                "end": hit.end,
                "reason": hit.reason,
                "variant": hit.variant,
                "confidence": round(hit.confidence, 3),
                "snippet": hit.snippet,
                "mentions": [list(span) for span in hit.mentions],
            }
            for hit in hits
        ]
        if args.json:
            _print_json({"hits": rows})
            continue
        prefix = f"line {number}: " if args.lines else ""
        if not rows:
            print(f"{prefix}no match")
        for hit, row in zip(hits, rows, strict=True):
            print(
                f"{prefix}{row['watch_id']} ({row['watch_name']}): {row['matched']!r} "
                f"at {row['start']}-{row['end']}, {row['reason']}, "
                f"confidence {row['confidence']:.2f}"
                + (f", {len(hit.mentions)} mentions" if len(hit.mentions) > 1 else "")
            )
            print(f"    {row['snippet']}")
    return EXIT_OK


def cmd_alerts(args: argparse.Namespace) -> int:
    """``newswatch alerts deliver|status|retry``."""
    from alerts.delivery import deliver
    from alerts.outbox import retry_dead, status, status_text
    from alerts.silence import silent_watches
    from alerts.source_alerts import source_status, source_status_lines
    from alerts.state import enable_channels
    from crawler.storage.store import open_database

    config = _load(args, need_secrets=args.action == "deliver")
    db = open_database(config.database)
    try:
        if args.action == "deliver":
            report = deliver(db, config)
            data: dict[str, Any] = report.as_dict()
            code = EXIT_OK if report.ok else EXIT_PARTIAL
            text = report.summary()
        elif args.action == "status":
            from crawler.storage import evidence

            data = status(db)
            data["evidence"] = evidence.usage(evidence.evidence_dir(config.database), db.conn)
            data["sources"] = source_status(db, config)
            data["silent_watches"] = silent_watches(db, config)
            code = EXIT_OK
            used = data["evidence"]
            lines = [
                status_text(data),
                f"evidence: {used['records']} records of {used['articles']} articles in "
                f"{used['files']} WARC files, {_megabytes(used['bytes'])} in {used['directory']}",
                *source_status_lines(data["sources"]),
            ]
            lines += [
                f"watch {item['watch_id']} silent for {item['days_silent']} days "
                f"(silence_days = {item['silence_days']}; "
                f"last hit {item['last_hit_at'] or 'never'})"
                for item in data["silent_watches"]
            ]
            text = "\n".join(lines)
        else:
            count = retry_dead(db)
            enabled = enable_channels(db)
            data = {"requeued": count, "enabled_channels": enabled}
            code = EXIT_OK
            text = f"alerts: {count} dead alerts re-queued"
            if enabled:
                text += f"; channels enabled again: {', '.join(enabled)}"
    finally:
        db.close()
    if args.json:
        _print_json(data)
    else:
        print(text)
    return code


def cmd_sources(args: argparse.Namespace) -> int:
    """``newswatch sources test|discover``."""
    if args.action == "discover":
        return _discover(args)
    config = _load(args, need_secrets=False)
    by_name = {source.name: source for source in config.sources}
    if args.all == bool(args.names):
        raise ConfigError(["sources test: name one or more sources, or give --all"])
    unknown = [name for name in args.names if name not in by_name]
    if unknown:
        raise ConfigError(
            [
                f"{config.path}: sources test: no source named {name!r} "
                f"(configured: {', '.join(by_name) or 'none'})"
                for name in unknown
            ]
        )
    chosen = list(config.sources) if args.all else [by_name[name] for name in args.names]
    return _test_sources(args, chosen, config.crawl, _known_urls(config.database))


def _test_sources(
    args: argparse.Namespace,
    sources: list[Any],
    crawl: Any,
    known: Callable[[str], bool] | None = None,
    *,
    prefix: list[Any] | None = None,
) -> int:
    """Crawl ``sources`` once and print a report per source; exit 1 if one has a problem."""
    from crawler.sources.preview import settings_for, test_sources

    reports = test_sources(
        sources,
        settings_for(crawl, _scrapy_level(args)),
        max_articles=max(1, args.max_articles),
        known=known,
        telegram_base=crawl.telegram_base,
        telegram_delay=crawl.telegram_delay,
    )
    if args.json and prefix is not None:  # discover --test: one object holding both
        _print_json({**prefix[0], "test": [report.as_dict() for report in reports]})
    elif args.json:
        for report in reports:
            _print_json(report.as_dict())
    else:
        print("\n\n".join(report.text() for report in reports))
    return EXIT_OK if all(report.ok for report in reports) else EXIT_PARTIAL


def _known_urls(database: Path) -> Callable[[str], bool] | None:
    """Whether a URL leads to a stored article, read-only; None without a database."""
    if not database.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        conn.execute("SELECT 1 FROM article_urls LIMIT 1").fetchall()
    except sqlite3.Error:
        return None

    def known(url: str) -> bool:
        try:
            row = conn.execute("SELECT 1 FROM article_urls WHERE url = ? LIMIT 1", [url])
            return row.fetchone() is not None
        except sqlite3.Error:
            return False

    return known


def _discover(args: argparse.Namespace) -> int:
    """``newswatch sources discover URL``."""
    from crawler.config import CrawlSettings
    from crawler.sources.discover import DiscoveryError, Refused, discover

    crawl = CrawlSettings()
    if Path(args.config).exists():
        crawl = _load(args, need_secrets=False).crawl
    elif args.config_named:
        _load(args, need_secrets=False)  # raises: the named file does not exist
    try:
        found = discover(args.url, crawl, allow_private=args.allow_private, name=args.name)
    except (Refused, DiscoveryError) as exc:
        print(f"newswatch: sources discover: {exc}", file=sys.stderr)
        return EXIT_PARTIAL
    if not args.test:
        if args.json:
            _print_json(found.as_dict())
        else:
            print(found.toml(), end="")
        return EXIT_OK
    proposed = found.sources()
    if not args.json:
        print(found.toml())
    if not proposed:
        if args.json:
            _print_json({**found.as_dict(), "test": []})
        print("newswatch: sources discover: nothing to test", file=sys.stderr)
        return EXIT_PARTIAL
    return _test_sources(args, proposed, crawl, prefix=[found.as_dict()] if args.json else None)


def _megabytes(count: int) -> str:
    return f"{count / 1024 / 1024:.1f} MB"


def cmd_evidence(args: argparse.Namespace) -> int:
    """``newswatch evidence verify``: every record re-read and re-hashed against the table."""
    from crawler.storage import evidence
    from crawler.storage.store import open_database

    config = _load(args, need_secrets=False)
    if not config.database.exists():
        print(f"newswatch: {config.database}: no database yet", file=sys.stderr)
        return EXIT_CONFIG
    db = open_database(config.database)
    try:
        checked, mismatches = evidence.verify(db.conn, config.database.parent)
    finally:
        db.close()
    if args.json:
        _print_json(
            {
                "checked": checked,
                "ok": not mismatches,
                "mismatches": [
                    {
                        "evidence_id": item.evidence_id,
                        "article_id": item.article_id,
                        "warc_file": item.warc_file,
                        "warc_offset": item.warc_offset,
                        "problem": item.problem,
                    }
                    for item in mismatches
                ],
            }
        )
    else:
        for item in mismatches:
            print(f"newswatch: {item.line()}", file=sys.stderr)
        print(
            f"evidence: {checked} records checked, {len(mismatches)} "
            f"mismatch{'es' if len(mismatches) != 1 else ''}"
        )
    return EXIT_PARTIAL if mismatches else EXIT_OK


def cmd_review(args: argparse.Namespace) -> int:
    """``newswatch review``: Datasette with the desk plugin; prints its URL, then serves."""
    config = _load(args, need_secrets=False)
    if not config.database.exists():
        print(
            f"newswatch: {config.database}: no database yet; run `newswatch run -c "
            f"{args.config}` first",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    from crawler.review import serve

    try:
        return serve(config, host=args.host, port=args.port, verbose=args.verbose)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        print(f"newswatch: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return EXIT_CONFIG


def cmd_users(args: argparse.Namespace) -> int:
    """``newswatch users add|remove|list|passwd|token``: the desk's accounts."""
    from crawler.review import accounts
    from crawler.storage.store import open_database

    config = _load(args, need_secrets=False)
    db = open_database(config.database)
    try:
        conn = db.conn
        if args.action == "list":
            found = accounts.list_accounts(conn)
            if args.json:
                _print_json([dataclasses.asdict(account) for account in found])
            for account in found if not args.json else []:
                print(
                    f"{account.name}\tsince {account.created_at}\tpassword changed "
                    f"{account.password_changed_at}\t{account.feed_tokens} feed token(s)"
                )
            if not found and not args.json:
                print("no accounts: the desk uses [review] password_env, or local names")
            return EXIT_OK
        name = args.name
        if args.action in ("add", "passwd"):
            password = _new_password(args)
            if args.action == "add":
                accounts.add_account(conn, name, password)
                print(f"account {name} added")
            else:
                accounts.set_password(conn, name, password)
                print(f"password of {name} changed; its sessions have ended")
        elif args.action == "remove":
            accounts.remove_account(conn, name)
            print(f"account {name} removed")
        elif args.revoke:
            count = accounts.revoke_feed_tokens(conn, name)
            print(f"{count} feed token(s) of {name} revoked")
        else:
            token = accounts.new_feed_token(conn, name)
            print(token)
            print(
                f"feed URL: {config.review_url.rstrip('/')}/-/newswatch/feed/WATCH_ID.atom"
                f"?token={token}",
                file=sys.stderr,
            )
    except accounts.AccountError as exc:
        print(f"newswatch: {config.database}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    finally:
        db.close()
    return EXIT_OK


def _new_password(args: argparse.Namespace) -> str:
    """The new password: one line of standard input, or asked twice on the terminal."""
    from crawler.review.accounts import AccountError

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("new password: ")
    if getpass.getpass("again: ") != first:
        raise AccountError("the two passwords differ")
    return first


def cmd_demo(args: argparse.Namespace) -> int:
    """``newswatch demo``: serve the embedded site, crawl it, match, store, print alerts."""
    from crawler.demo import run_demo

    return run_demo(Path(args.dir), verbose=args.verbose, program=program())


def program(*, absolute: bool = False) -> str:
    """How to start newswatch again the way the user just did, for commands we print.

    ``newswatch`` when that name on $PATH is this program; else the path it was
    started by (``.venv/bin/newswatch``), or ``python -m crawler.cli``.
    """
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else "newswatch"
    path = Path(argv0)
    if path.name in ("cli.py", "__main__.py", "-c"):
        return f"{shlex.quote(sys.executable)} -m crawler.cli"
    found = shutil.which(path.name)
    if not absolute and found and Path(found).resolve() == path.resolve():
        return path.name
    return shlex.quote(str(path.absolute() if absolute else path))


def cmd_init(args: argparse.Namespace) -> int:
    """``newswatch init``: starter config, watchlist and env file, and what to do next."""
    from crawler.starter import write_starter

    directory = Path(args.dir)
    written = write_starter(directory, force=args.force)
    for path in written:
        print(f"wrote {path}")
    config = shlex.quote(str(directory / "newswatch.toml"))
    folder = shlex.quote(str(directory.absolute()))
    print(
        f"""
next:
  1. edit {shlex.quote(str(directory / "watchlist.toml"))} (who you watch) and the sources in \
{config}
  2. {program()} check -c {config}
  3. {program()} run -c {config}
  4. from cron, every 15 minutes (crontab -e):
     */15 * * * * cd {folder} && {program(absolute=True)} run -c newswatch.toml >> run.log 2>&1"""
    )
    return EXIT_OK


def cmd_secret(args: argparse.Namespace) -> int:
    """``newswatch secret``: a fresh Standard Webhooks signing secret on standard output."""
    from alerts.signing import new_secret

    print(new_secret())
    return EXIT_OK


COMMANDS = {
    "run": cmd_run,
    "check": cmd_check,
    "match": cmd_match,
    "alerts": cmd_alerts,
    "sources": cmd_sources,
    "review": cmd_review,
    "users": cmd_users,
    "evidence": cmd_evidence,
    "demo": cmd_demo,
    "init": cmd_init,
    "secret": cmd_secret,
    "ingest": cmd_ingest,
    "crawl": cmd_crawl,
}


if __name__ == "__main__":
    sys.exit(main())
