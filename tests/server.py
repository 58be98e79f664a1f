"""Local test HTTP server: static test sites, a request log, fault endpoints and webhook receivers.

Run ``python tests/server.py --root tests/data/web``: it binds 127.0.0.1 on a free port, prints
one line ``listening on http://127.0.0.1:PORT`` and serves until killed. Endpoints:

    GET  /<path>                   static files under --root ({{BASE}} replaced, ETag, 304s)
    GET  /_log[?path=PREFIX]       recorded requests as JSON (method, path, headers, body, time)
    POST /_reset                   clear the log, hook recordings and scripts
    GET  /_fault/status/<code>     answer <code> (?retry_after=N adds Retry-After)
    GET  /_fault/slow?seconds=N    sleep N seconds, then a 200 HTML page
    GET  /_fault/truncated-feed    RSS 2.0 cut mid-item (?dataloss=1: Content-Length too long)
    GET  /_fault/big?bytes=N       an HTML page of exactly N bytes, streamed
    GET  /_fault/redirect?to=URL   302 to URL (?status=301|307|308 for others)
    GET  /_fault/loop              302 to /_fault/loop?back=1, which redirects back here
    GET  /_fault/notfeed           200 HTML where a feed was expected
    GET  /_fault/gzip/<path>       the gzip file <path> under --root as is, with Content-Encoding:
                                   gzip and the type of its name without ".gz" (a bomb, say)
    GET  /s/<channel>[?before=N]   a Telegram-like channel preview: s/<channel>/index.html, or
                                   s/<channel>/before-N.html, under --root
    GET  /<channel>/<id>?embed=1   one post's page: s/<channel>/post-<id>.html
    POST /_script/<name>           {"responses": [{"status", "headers", "body", "delay"}, ...]}
                                   (with "path": "/x?y" the GETs of that path answer them first)
    POST /_hook/<name>             record, answer the next scripted response (else 200 "ok")
    GET  /_hook/<name>             JSON list of recorded POSTs: {headers, body, time, path}

A ``_routes.json`` file in --root, re-read on every request, makes static paths answer
otherwise: ``{"/a.html": {"status": 503}, "/b.html": {"status": 301, "location": "/"}}``
(``{{BASE}}`` in a location is replaced), so a test can take an article down, move it or
break it between two runs.

Control endpoints (/_log, /_reset, /_script, GET /_hook) are not themselves logged.

A request in absolute form (``GET http://203.0.113.9/feed.xml``, as a client sends it to a
proxy) is served as its path, and logged with its ``host``: with ``http_proxy`` set to this
server, a crawl reaches it under any host name or address, a public one included.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

try:
    from crawler.demo.server import SiteHandler, serve
except ImportError:  # not installed: run from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from crawler.demo.server import SiteHandler, serve

HTML = "text/html; charset=utf-8"
EMBED = re.compile(r"/[A-Za-z][A-Za-z0-9_]{3,31}/[0-9]+")  # a Telegram post's own page
JSON = "application/json"

TRUNCATED_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0">
<channel>
<title>Truncated Wire</title>
<link>{base}/feeds/</link>
<description>A feed whose body was cut off mid-item.</description>
<item>
<title>Supporters of Aigerim Tulegenova gather outside court</title>
<link>{base}/feeds/articles/court-tulegenova.html</link>
<pubDate>Mon, 16 Nov 2026 08:00:00 GMT</pubDate>
</item>
<item>
<title>City council passes the winter budget</title>
<link>{base}/feeds/articles/city-budget.html</link>
<pubDate>Tue, 17 Nov 2026 09:30:00 GMT</pubDate>
</item>
<item>
<title>Interview cut short</title>
<link>{base}/feeds/articles/ru-tulegenova-interview.html</link>
<descr"""


class State:
    """What the server remembers between requests; one lock guards all of it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.log: list[dict[str, Any]] = []
        self.hooks: dict[str, list[dict[str, Any]]] = {}
        self.scripts: dict[str, list[dict[str, Any]]] = {}

    def clear(self) -> None:
        with self.lock:
            self.log.clear()
            self.hooks.clear()
            self.scripts.clear()


STATE = State()


class TestServerHandler(SiteHandler):
    """SiteHandler plus the request log, fault endpoints and scriptable webhook receivers."""

    __test__ = False  # not a pytest test class
    # Headers and body go out in two writes; without TCP_NODELAY the body waits ~40 ms
    # for the client's delayed ACK, which would make every webhook POST take that long.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self.route("GET")

    def do_HEAD(self) -> None:
        self.route("HEAD")

    def do_POST(self) -> None:
        self.route("POST")

    def do_PUT(self) -> None:
        self.route("PUT")

    def read_body(self) -> bytes:
        """The request body, by Content-Length or chunked transfer coding."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def route(self, method: str) -> None:
        parts = urlsplit(self.path)
        host = self.headers.get("Host", "")
        if parts.scheme in ("http", "https") and parts.netloc:  # sent to us as a proxy
            host = parts.netloc
            self.path = parts.path + (f"?{parts.query}" if parts.query else "")
            parts = urlsplit(self.path)
        path = parts.path
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        entry: dict[str, Any] = {
            "method": method,
            "path": self.path,
            "host": host,
            "headers": {name.lower(): value for name, value in self.headers.items()},
            "body": self.read_body().decode("utf-8", "replace"),
            "time": time.time(),
        }
        control = path in ("/_log", "/_reset") or path.startswith("/_script/")
        if not control and not (method == "GET" and path.startswith("/_hook/")):
            with STATE.lock:
                STATE.log.append(entry)

        if path == "/_log" and method == "GET":
            prefix = query.get("path", "")
            with STATE.lock:
                items = [e for e in STATE.log if e["path"].startswith(prefix)]
            self.send_body(200, json.dumps(items, ensure_ascii=False), JSON)
        elif path == "/_reset" and method == "POST":
            STATE.clear()
            self.send_body(200, "ok", "text/plain")
        elif path.startswith("/_script/") and method == "POST":
            self.script(path.removeprefix("/_script/"), entry["body"])
        elif path.startswith("/_hook/"):
            self.hook(path.removeprefix("/_hook/"), method, entry)
        elif method == "GET" and self.scripted_get():
            pass
        elif path.startswith("/_fault/") and method in ("GET", "HEAD"):
            self.fault(path.removeprefix("/_fault/"), query, head_only=method == "HEAD")
        elif path.startswith("/s/") and method in ("GET", "HEAD"):
            self.preview(path.removeprefix("/s/"), query, head_only=method == "HEAD")
        elif "embed" in query and method in ("GET", "HEAD") and EMBED.fullmatch(path):
            channel, _, post_id = path.strip("/").partition("/")
            self.path = f"/s/{channel}/post-{post_id}.html"
            self.send_static(head_only=method == "HEAD")
        elif method in ("GET", "HEAD") and (override := self.override(path)) is not None:
            status = int(override.get("status", 200))
            location = str(override.get("location", "")).replace("{{BASE}}", self.base_url)
            headers = {"Location": location} if location else {}
            self.send_body(status, f"<h1>{status}</h1>", headers=headers,
                           head_only=method == "HEAD")
        elif method in ("GET", "HEAD"):
            self.send_static(head_only=method == "HEAD")
        else:
            self.send_body(405, "<h1>405 Method Not Allowed</h1>", headers={"Allow": "GET, HEAD"})

    def override(self, path: str) -> dict[str, Any] | None:
        """What ``_routes.json`` in the served folder says this path answers, if anything."""
        routes = Path(self.directory) / "_routes.json"
        try:
            table = json.loads(routes.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        found = table.get(path) if isinstance(table, dict) else None
        return found if isinstance(found, dict) else None

    def script(self, name: str, body: str) -> None:
        try:
            script = json.loads(body)
            responses = script["responses"]
            if not isinstance(responses, list) or not all(isinstance(r, dict) for r in responses):
                raise ValueError("responses must be a list of objects")
        except (ValueError, KeyError, TypeError) as exc:
            self.send_body(400, f"bad script: {exc}", "text/plain")
            return
        if script.get("path"):
            name = f"GET {script['path']}"
        with STATE.lock:
            STATE.scripts[name] = list(responses)
        self.send_body(200, "ok", "text/plain")

    def scripted_get(self) -> bool:
        """Answer a GET from its path's script, if one is queued; whether it did."""
        with STATE.lock:
            queue = STATE.scripts.get(f"GET {self.path}") or []
            response = queue.pop(0) if queue else None
        if response is None:
            return False
        headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
        self.send_body(
            int(response.get("status", 200)),
            str(response.get("body", "")),
            headers.pop("Content-Type", "text/html; charset=utf-8"),
            headers,
        )
        return True

    def preview(self, channel: str, query: dict[str, str], head_only: bool) -> None:
        """A channel preview page from s/<channel>/index.html or s/<channel>/before-N.html."""
        before = query.get("before", "")
        if not channel.replace("_", "").isalnum() or (before and not before.isdigit()):
            self.send_body(404, "<h1>no such channel</h1>", head_only=head_only)
            return
        self.path = f"/s/{channel}/" + (f"before-{before}.html" if before else "index.html")
        self.send_static(head_only=head_only)

    def hook(self, name: str, method: str, entry: dict[str, Any]) -> None:
        if method == "GET":
            with STATE.lock:
                items = list(STATE.hooks.get(name, []))
            self.send_body(200, json.dumps(items, ensure_ascii=False), JSON)
            return
        record = {k: entry[k] for k in ("headers", "body", "time", "path")}
        with STATE.lock:
            STATE.hooks.setdefault(name, []).append(record)
            queue = STATE.scripts.get(name) or []
            response = queue.pop(0) if queue else {}
        time.sleep(float(response.get("delay", 0)))
        headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
        self.send_body(
            int(response.get("status", 200)),
            str(response.get("body", "ok")),
            headers.pop("Content-Type", "text/plain; charset=utf-8"),
            headers,
        )

    def fault(self, name: str, query: dict[str, str], head_only: bool) -> None:
        base = self.base_url
        if name.startswith("status/") and name.removeprefix("status/").isdigit():
            code = int(name.removeprefix("status/"))
            headers = {"Retry-After": query["retry_after"]} if "retry_after" in query else {}
            self.send_body(code, f"<h1>{code}</h1>", headers=headers, head_only=head_only)
        elif name == "slow":
            time.sleep(min(float(query.get("seconds", "5")), 300))
            page = "<html><head><title>Slow</title></head><body><p>Finally.</p></body></html>"
            self.send_body(200, page, head_only=head_only)
        elif name == "truncated-feed":
            feed = TRUNCATED_FEED.format(base=base).encode("utf-8")
            if query.get("dataloss") != "1":
                self.send_body(200, feed, "application/rss+xml; charset=utf-8", head_only=head_only)
                return
            # Promise more bytes than are sent, then hang up.
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(feed) + 4096))
            self.send_header("Connection", "close")
            self.end_headers()
            if not head_only:
                self.wfile.write(feed)
        elif name == "big":
            self.send_big(int(query.get("bytes", str(10 * 1024 * 1024))), head_only)
        elif name == "redirect":
            status = int(query.get("status", "302"))
            self.send_body(status, "", headers={"Location": query.get("to", "/")})
        elif name == "loop":
            target = "/_fault/loop" if query.get("back") else "/_fault/loop?back=1"
            self.send_body(302, "", headers={"Location": target})
        elif name == "notfeed":
            page = (
                '<!DOCTYPE html><html lang="en"><head><title>Not a feed</title></head>'
                "<body><h1>Welcome</h1><p>This page is HTML, not RSS or Atom.</p></body></html>"
            )
            self.send_body(200, page, head_only=head_only)
        elif name.startswith("gzip/"):
            self.send_gzip_encoded(name.removeprefix("gzip/"), head_only)
        else:
            self.send_body(404, "<h1>no such fault</h1>", head_only=head_only)

    def send_gzip_encoded(self, relative: str, head_only: bool) -> None:
        """Send a gzip file under the root unchanged, declared as Content-Encoding: gzip."""
        path = Path(self.directory) / relative
        if ".." in Path(relative).parts or not path.is_file():
            self.send_body(404, "<h1>404 Not Found</h1>", head_only=head_only)
            return
        plain = path.with_suffix("") if path.suffix == ".gz" else path
        self.send_body(
            200,
            path.read_bytes(),
            self.content_type(plain, b""),
            headers={"Content-Encoding": "gzip"},
            head_only=head_only,
        )

    def send_big(self, size: int, head_only: bool) -> None:
        """Stream an HTML page of exactly ``size`` bytes (at least the frame)."""
        head, tail = b"<!DOCTYPE html><html><body>\n", b"</body></html>\n"
        line = (
            b"<p>" + b"Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 15 + b"</p>\n"
        )
        filler = max(size - len(head) - len(tail), 0)
        self.send_response(200)
        self.send_header("Content-Type", HTML)
        self.send_header("Content-Length", str(len(head) + filler + len(tail)))
        self.end_headers()
        if head_only:
            return
        self.wfile.write(head)
        while filler > 0:
            chunk = line * 64 if filler >= len(line) * 64 else b" " * filler
            self.wfile.write(chunk)
            filler -= len(chunk)
        self.wfile.write(tail)


def main(argv: list[str] | None = None) -> int:
    """Start the server, print its URL on one line, serve until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="directory to serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server, url = serve(args.root.resolve(), args.host, args.port, handler=TestServerHandler)
    print(f"listening on {url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
