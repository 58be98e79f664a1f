"""``newswatch review``: Datasette over the state file, with the desk plugin and its metadata."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from typing import Any

from crawler.config import Config, ConfigError
from crawler.storage.store import open_database

TITLE = "newswatch review desk"


def metadata(config: Config) -> dict[str, Any]:
    """Datasette metadata for the desk: title, table notes and the plugin's settings."""
    plugin: dict[str, Any] = {
        "database": config.database.stem,
        "open_on_localhost": config.review.open_on_localhost,
        "watches": {watch.id: watch.label for watch in config.watches},
        "home": True,
        "review_url": config.review_url,
    }
    if config.review.password_env:
        plugin["password_env"] = config.review.password_env
    return {
        "title": TITLE,
        "description": "Review newswatch hits: confirm, dismiss, note; search and export.",
        "databases": {
            config.database.stem: {
                "tables": {
                    "hits": {
                        "description": "One row per (article, watch) match; status is "
                        "the editors' verdict."
                    },
                    "reviews": {"description": "Every verdict: who, when, what."},
                    "articles": {"description": "Stored articles; full-text searchable."},
                }
            }
        },
        "plugins": {"newswatch": plugin},
    }


def register() -> None:
    """Register the plugin with Datasette unless its entry point already has.

    Installed (``pip install``), Datasette loads ``crawler.review.plugin`` through the
    entry point; a checkout run without installing needs this.
    """
    from datasette.plugins import pm

    from crawler.review import plugin

    if not pm.is_registered(plugin) and pm.get_plugin("newswatch") is None:
        pm.register(plugin, name="newswatch")


def serve(config: Config, *, host: str, port: int, verbose: int = 0) -> int:
    """Migrate the database, start Datasette with the desk, print its URL, serve until stopped."""
    import uvicorn
    from datasette.app import Datasette

    env = config.review.password_env
    if env and not config.getenv(env):
        raise ConfigError(
            [f"{config.path}: review.password_env: environment variable {env} is not set"]
        )
    if env:  # the desk reads it per request, from this process's environment
        os.environ.setdefault(env, config.getenv(env))
    db = open_database(config.database)  # brings an older file up to the current schema
    from crawler.review.accounts import has_accounts

    with_accounts = has_accounts(db.conn)
    db.close()
    register()
    datasette = Datasette(
        [str(config.database)],
        metadata=metadata(config),
        secret=config.getenv("DATASETTE_SECRET") or None,
        settings={"sql_time_limit_ms": 3000},
    )
    asyncio.run(datasette.invoke_startup())
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family)
    bound = listener.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"review desk: http://{shown}:{bound}/-/newswatch/ (Ctrl-C to stop)", flush=True)
    if not config.review.password_env and not with_accounts:
        print(
            "no accounts (newswatch users add) and no [review] password_env: only this "
            "machine can log in and record verdicts",
            file=sys.stderr,
            flush=True,
        )
    level = ["warning", "info", "debug"][min(verbose, 2)]
    server = uvicorn.Server(
        # log_config=None: uvicorn logs through the CLI's handlers, which redact secrets.
        uvicorn.Config(
            datasette.app(), log_level=level, log_config=None, lifespan="on", workers=1
        )
    )
    server.run(sockets=[listener])
    return 0
