"""A tiny static HTTP server for the demo news site: ETag, Last-Modified, 304s, {{BASE}} links.

``serve(root)`` starts a ``ThreadingHTTPServer`` in a daemon thread and returns it with its
base URL. Every file is read, ``{{BASE}}`` is replaced by that base URL (so feeds, sitemaps and
canonical links hold absolute URLs to the port chosen at run time), and the response carries a
strong ETag over the replaced bytes and a Last-Modified from the file's mtime. A matching
``If-None-Match`` (or, without it, ``If-Modified-Since``) gets ``304 Not Modified``.

``SiteHandler`` is meant to be subclassed (the test server adds fault and webhook endpoints).
"""

from __future__ import annotations

import email.utils
import functools
import hashlib
import logging
import mimetypes
import threading
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["PLACEHOLDER", "SiteHandler", "SiteServer", "serve"]

logger = logging.getLogger(__name__)

PLACEHOLDER = b"{{BASE}}"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".rdf": "application/rdf+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".css": "text/css; charset=utf-8",
}

# An .xml file is served as a feed when its root element says so.
FEED_SNIFF = (
    (b"<rss", "application/rss+xml; charset=utf-8"),
    (b"<rdf:RDF", "application/rdf+xml; charset=utf-8"),
    (b"<feed", "application/atom+xml; charset=utf-8"),
)


class SiteServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its base URL and stays quiet on client disconnects."""

    daemon_threads = True
    block_on_close = False
    base_url = ""

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log unexpected handler errors instead of printing them to stderr."""
        logger.debug("error while serving %s", client_address, exc_info=True)


class SiteHandler(SimpleHTTPRequestHandler):
    """Serve a directory read-only with {{BASE}} replacement, validators and 304s.

    Subclasses add routes by overriding ``do_GET``/``do_POST`` and calling
    ``super().do_GET()`` (or ``send_static``) for everything else; ``send_body`` sends a
    complete response with a correct Content-Length.
    """

    server_version = "newswatch-demo/0.1"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    @property
    def base_url(self) -> str:
        """The server's base URL, without a trailing slash."""
        base = getattr(self.server, "base_url", "")
        if isinstance(base, str) and base:
            return base
        address = self.server.server_address
        if isinstance(address, tuple):
            return f"http://{address[0]!s}:{address[1]!s}"
        return "http://localhost"

    def log_message(self, format: str, *args: Any) -> None:
        """Route the access log to logging at debug level instead of stderr."""
        logger.debug("%s - %s", self.address_string(), format % args)

    def handle(self) -> None:
        """Handle requests, ignoring clients that hang up mid-response."""
        try:
            super().handle()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def do_GET(self) -> None:
        """Serve a static file (or a directory's index.html)."""
        self.send_static(head_only=False)

    def do_HEAD(self) -> None:
        """Like GET without a body."""
        self.send_static(head_only=True)

    def send_body(
        self,
        status: int,
        body: bytes | str = b"",
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
        head_only: bool = False,
    ) -> None:
        """Send a whole response: status, headers, Content-Length and (unless HEAD) the body."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        if status != HTTPStatus.NOT_MODIFIED and status >= 200 and status != 204:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if data and not head_only and status not in (204, 304):
            self.wfile.write(data)

    def send_static(self, head_only: bool = False) -> None:
        """Serve the file the request path names, with {{BASE}} replaced and validators set."""
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not self.path.split("?", 1)[0].endswith("/"):
                location = self.path.split("?", 1)[0] + "/"
                self.send_body(HTTPStatus.MOVED_PERMANENTLY, b"", headers={"Location": location})
                return
            path = path / "index.html"
        if not path.is_file():
            self.send_body(HTTPStatus.NOT_FOUND, b"<h1>404 Not Found</h1>", head_only=head_only)
            return
        try:
            raw = path.read_bytes()
            mtime = int(path.stat().st_mtime)
        except OSError:
            self.send_body(HTTPStatus.NOT_FOUND, b"<h1>404 Not Found</h1>", head_only=head_only)
            return
        body = raw.replace(PLACEHOLDER, self.base_url.encode("utf-8"))
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        validators = {
            "ETag": etag,
            "Last-Modified": email.utils.formatdate(mtime, usegmt=True),
            "Cache-Control": "no-cache",
        }
        if self.not_modified(etag, mtime):
            self.send_body(HTTPStatus.NOT_MODIFIED, headers=validators)
            return
        self.send_body(
            HTTPStatus.OK, body, self.content_type(path, body), validators, head_only=head_only
        )

    def not_modified(self, etag: str, mtime: int) -> bool:
        """Whether the request's conditional headers match (If-None-Match wins, as RFC 9110)."""
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
            return "*" in tags or etag in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since:
            try:
                since = email.utils.parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                return False
            return since.tzinfo is not None and mtime <= since.timestamp()
        return False

    def content_type(self, path: Path, body: bytes) -> str:
        """The Content-Type for a file: by extension, with .xml feeds sniffed by root element."""
        suffix = path.suffix.lower()
        if suffix == ".xml":
            head = body[:1024]
            for marker, feed_type in FEED_SNIFF:
                if marker in head:
                    return feed_type
        if suffix in CONTENT_TYPES:
            return CONTENT_TYPES[suffix]
        guessed, _ = mimetypes.guess_type(path.name)
        return guessed or "application/octet-stream"


def serve(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    handler: type[SiteHandler] = SiteHandler,
) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``root`` from a daemon thread; return the server and its base URL (no slash).

    Stop it with ``server.shutdown(); server.server_close()``.
    """
    server = SiteServer((host, port), functools.partial(handler, directory=str(root)))
    bound_host, bound_port = server.server_address[:2]
    shown = "127.0.0.1" if bound_host in ("0.0.0.0", "") else str(bound_host)
    if ":" in shown:
        shown = f"[{shown}]"
    server.base_url = f"http://{shown}:{bound_port!s}"
    thread = threading.Thread(target=server.serve_forever, name="demosite", daemon=True)
    thread.start()
    return server, server.base_url
