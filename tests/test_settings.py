"""newswatch's Scrapy settings: only http(s) fetched, nothing listening, in both run modes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scrapy.settings import Settings
from scrapy.utils.conf import build_component_list

from crawler.config import CrawlSettings, load_config
from crawler.distributed.worker import worker_settings
from crawler.run.cycle import scrapy_settings
from tests.conftest import WebServer, listening_ports

# Extensions that open a port: Scrapy's telnet console and (2.19) its remote-control
# HTTP server, which runs Python sent to it and writes its port and token to a file.
LISTENING = (
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.remote_control.RemoteControl",
)


def both_modes(tmp_path: Path) -> list[Settings]:
    config = tmp_path / "newswatch.toml"
    config.write_text(
        'database = "nw.db"\n[[source]]\nname = "a"\nfeed = "https://example.org/rss"\n'
        '[[channel]]\nid = "c"\ntype = "console"\n[[watch]]\nid = "w"\nname = "A B"\n'
        'channels = ["c"]\n',
        encoding="utf-8",
    )
    return [
        scrapy_settings(CrawlSettings()),
        worker_settings(load_config(config), "redis://127.0.0.1:1/0", 0, "WARNING"),
    ]


def test_no_extension_that_listens_is_enabled_in_either_mode(tmp_path: Path) -> None:
    for settings in both_modes(tmp_path):
        enabled = build_component_list(settings.getwithbase("EXTENSIONS"))
        assert not [name for name in enabled if name in LISTENING], enabled
        assert not settings.getbool("TELNETCONSOLE_ENABLED")
        assert not settings.getbool("REMOTE_CONTROL_ENABLED")
    worker = both_modes(tmp_path)[1]
    assert "crawler.distributed.worker.WorkerHeartbeat" in worker.getdict("EXTENSIONS")


def test_only_http_handlers_and_the_private_address_check_in_either_mode(
    tmp_path: Path,
) -> None:
    for settings in both_modes(tmp_path):
        handlers = {k: v for k, v in settings.getwithbase("DOWNLOAD_HANDLERS").items() if v}
        assert sorted(handlers) == ["http", "https"]
        middlewares = build_component_list(settings.getwithbase("DOWNLOADER_MIDDLEWARES"))
        private = "crawler.downloadermiddlewares.private.PrivateAddressMiddleware"
        # A crawl worker's robots.txt middleware is Scrapy's, reading robots.txt each cycle.
        robots = next(
            name
            for name in middlewares
            if name
            in (
                "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware",
                "crawler.distributed.worker.CycleRobotsTxtMiddleware",
            )
        )
        assert middlewares.index(private) < middlewares.index(robots)


@pytest.mark.e2e
def test_a_running_crawl_listens_on_no_port_and_leaves_no_token_file(
    tmp_path: Path, web: WebServer
) -> None:
    config = tmp_path / "newswatch.toml"
    config.write_text(
        'database = "nw.db"\n[crawl]\nretries = 0\nautothrottle = false\n'
        f'[[source]]\nname = "slow"\nfeed = "{web.url}/_fault/slow?seconds=3"\n'
        "allow_private = true\n"
        '[[channel]]\nid = "c"\ntype = "console"\n[[watch]]\nid = "w"\nname = "A B"\n'
        'channels = ["c"]\n',
        encoding="utf-8",
    )
    # Scrapy's remote control writes its job file under the user's state directory.
    state, home = tmp_path / "state", tmp_path / "home"
    state.mkdir()
    home.mkdir()
    env = {**os.environ, "XDG_STATE_HOME": str(state), "HOME": str(home)}
    started = time.time()
    crawl = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "run", "-c", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        # Wait until the slow feed request is in flight: the engine is running.
        deadline = time.time() + 30
        while not [e for e in web.log("/_fault/slow") if e["time"] >= started]:
            assert time.time() < deadline and crawl.poll() is None, "the crawl did not start"
            time.sleep(0.05)
        time.sleep(0.5)
        assert listening_ports(crawl.pid) == []
        assert [p for p in [*state.rglob("*"), *home.rglob("*")] if p.is_file()] == []
    finally:
        crawl.communicate(timeout=60)
    assert crawl.returncode == 1  # the slow page is no feed
    assert [p for p in [*state.rglob("*"), *home.rglob("*")] if p.is_file()] == []
