"""Shared pytest fixtures: the local test HTTP server (tests/server.py) in a subprocess."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
WEB_ROOT = DATA / "web"
STARTUP_TIMEOUT = 20.0


class WebServer:
    """A client for the running test server: its base URL, request log and webhook receivers."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.client = httpx.Client(base_url=self.url, timeout=10.0)

    def log(self, prefix: str = "") -> list[dict[str, Any]]:
        """Recorded requests (method, path, headers, body, time) whose path starts with prefix."""
        response = self.client.get("/_log", params={"path": prefix} if prefix else None)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    def reset(self) -> None:
        """Forget the request log, webhook recordings and scripted responses."""
        self.client.post("/_reset").raise_for_status()

    def script(self, name: str, responses: list[dict[str, Any]]) -> None:
        """Queue the responses POST /_hook/<name> gives next ({"status", "headers", "body"})."""
        self.client.post(f"/_script/{name}", json={"responses": responses}).raise_for_status()

    def hook_requests(self, name: str) -> list[dict[str, Any]]:
        """The POSTs /_hook/<name> received: [{"headers": {lower-case}, "body": str, "time"}]."""
        response = self.client.get(f"/_hook/{name}")
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    def hook_url(self, name: str) -> str:
        """The URL of the webhook receiver ``name``."""
        return f"{self.url}/_hook/{name}"

    def close(self) -> None:
        self.client.close()


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    """Read the server's first stdout line, or fail after ``timeout`` seconds."""
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


@pytest.fixture(scope="session")
def web() -> Iterator[WebServer]:
    """The test server (tests/server.py) serving tests/data/web, for the whole session."""
    process = subprocess.Popen(
        [sys.executable, str(TESTS / "server.py"), "--root", str(WEB_ROOT)],
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    server = None
    try:
        line = _first_line(process, STARTUP_TIMEOUT).strip()
        if not line.startswith("listening on http"):
            raise RuntimeError(f"test server did not start (first line: {line!r})")
        server = WebServer(line.removeprefix("listening on ").strip())
        yield server
    finally:
        if server is not None:
            server.close()
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
