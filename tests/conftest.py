"""Shared pytest fixtures: the local test HTTP server (tests/server.py), a local SMTP server."""

from __future__ import annotations

import contextlib
import email
import email.policy
import functools
import hashlib
import ipaddress
import os
import queue
import socket
import ssl
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from alerts.payload import AlertMessage

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
# The webhook signing secret the tests share (Standard Webhooks' own example format).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
DATA = TESTS / "data"
WEB_ROOT = DATA / "web"
STARTUP_TIMEOUT = 20.0


class WebServer:
    """A client for the running test server: its base URL, request log and webhook receivers."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.client = httpx.Client(base_url=self.url, timeout=10.0)

    def log(self, prefix: str = "") -> list[dict[str, Any]]:
        """Recorded requests (method, path, host, headers, body, time) whose path starts with
        prefix."""
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

    def script_get(self, path: str, responses: list[dict[str, Any]]) -> None:
        """Queue the responses the next GETs of ``path`` (with its query) get, before the
        file it names: ``[{"status": 429, "headers": {"Retry-After": "1"}}]``."""
        self.client.post(
            "/_script/get", json={"path": path, "responses": responses}
        ).raise_for_status()

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


def newswatch_cli(
    *args: str,
    env: Mapping[str, str] | None = None,
    base_env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``newswatch ARGS`` (this checkout's) in a subprocess and wait for it.

    The environment is ``base_env`` (default: this process's, without any
    NEWSWATCH_CONFIG or NEWSWATCH_NOW it happens to carry) with ``env`` over it.
    """
    environment = {**(os.environ if base_env is None else base_env)}
    if base_env is None:
        environment.pop("NEWSWATCH_CONFIG", None)
        environment.pop("NEWSWATCH_NOW", None)
    environment.update(env or {})
    environment["PYTHONPATH"] = str(ROOT)  # the package from this checkout, wherever cwd is
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        capture_output=True, text=True, timeout=timeout, cwd=cwd, env=environment,
    )


def stop_process(process: subprocess.Popen[str], timeout: float = 10) -> None:
    """Terminate a server subprocess, kill it if it lingers, and close its pipe."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


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
    with serve_web(WEB_ROOT) as server:
        yield server


@contextlib.contextmanager
def serve_web(root: Path) -> Iterator[WebServer]:
    """Run another tests/server.py over ``root`` (e.g. a temp dir a test rewrites between runs)."""
    process = subprocess.Popen(
        [sys.executable, str(TESTS / "server.py"), "--root", str(root)],
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
        stop_process(process, timeout=5)


def listening_ports(pid: int) -> list[int]:
    """The TCP ports process ``pid`` listens on: its socket inodes (``/proc/PID/fd``) looked
    up in its network namespace's TCP tables (``/proc/PID/net/tcp``, ``tcp6``)."""
    inodes: set[str] = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):  # closed meanwhile
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target.removeprefix("socket:[").rstrip("]"))
    ports = []
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


# --- a real SMTP server (aiosmtpd) with TLS from a CA the tests generate ---------------------


@dataclass(frozen=True)
class TlsFiles:
    """A test CA and a server certificate for 127.0.0.1/localhost that it signed (PEM files)."""

    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def _make_tls_files(directory: Path) -> TlsFiles:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def build(subject: str, issuer: x509.Name | None, key: Any, signer: Any, ca: bool) -> Any:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer or name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(True, False, False, False, False, True, True, False, False), True
            )
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            ).add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), False)
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = build("newswatch test CA", None, ca_key, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = build("127.0.0.1", ca_cert.subject, key, ca_key, ca=False)
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A CA (pass ``tls_files.ca`` to a channel as ``ca_file``) and the server's certificate."""
    return _make_tls_files(tmp_path_factory.mktemp("tls"))


def free_port() -> int:
    """A TCP port nothing listens on right now (connecting to it is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MailServer:
    """One running aiosmtpd server; ``messages`` holds what it accepted, parsed."""

    def __init__(
        self,
        tls: TlsFiles,
        security: str,
        port: int,
        login: tuple[str, str] | None,
        eight_bit: bool = True,
    ) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.host, self.port, self.security = "127.0.0.1", port, security
        self.eight_bit = eight_bit
        self.messages: list[dict[str, Any]] = []

        def authenticate(*args: Any) -> AuthResult:
            auth_data = args[-1]
            given = (auth_data.login.decode(), auth_data.password.decode())
            return AuthResult(success=login is not None and given == login, handled=False)

        options: dict[str, Any] = {"authenticator": authenticate} if login else {}
        if security == "starttls":
            options |= {"tls_context": tls.server_context(), "require_starttls": True}
        elif security == "tls":
            options |= {"ssl_context": tls.server_context()}
        self.controller = Controller(self, hostname=self.host, port=port, **options)
        if security == "tls":
            # aiosmtpd checks the server is up with a TLS handshake that must trust it.
            client = ssl.create_default_context(cafile=str(tls.ca))
            self.controller._trigger_server = lambda: _tls_poke(self.host, port, client)
        self.controller.start()

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        """EHLO's answer; without ``eight_bit`` the server does not offer 8BITMIME."""
        session.host_name = hostname
        if self.eight_bit:
            return responses
        return [line for line in responses if "8BITMIME" not in line.upper()]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        self.messages.append(
            {
                "mail_options": list(envelope.mail_options),
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "raw": raw,
                "message": email.message_from_bytes(raw, policy=email.policy.default),
                "tls": server.transport.get_extra_info("ssl_object") is not None,
                "authenticated": bool(session.authenticated),
            }
        )
        return "250 OK"

    def stop(self) -> None:
        self.controller.stop()


def _tls_poke(host: str, port: int, context: ssl.SSLContext) -> None:
    with (
        socket.create_connection((host, port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=host) as sock,
    ):
        sock.recv(1024)


class MailServers:
    """Starts SMTP servers for one test and stops them all at its end."""

    def __init__(self, tls: TlsFiles) -> None:
        self.tls = tls
        self.running: list[MailServer] = []

    def start(
        self,
        security: str = "starttls",
        *,
        port: int | None = None,
        login: tuple[str, str] | None = None,
        eight_bit: bool = True,
    ) -> MailServer:
        """security: "starttls" (STARTTLS offered and required), "tls" (implicit) or "plain";
        ``eight_bit=False``: a server that does not offer 8BITMIME."""
        server = MailServer(self.tls, security, port or free_port(), login, eight_bit)
        self.running.append(server)
        return server

    def stop_all(self) -> None:
        for server in self.running:
            server.stop()
        self.running.clear()


@pytest.fixture
def smtp(tls_files: TlsFiles) -> Iterator[MailServers]:
    """Start local SMTP servers: ``smtp.start("starttls")``; stopped when the test ends."""
    servers = MailServers(tls_files)
    try:
        yield servers
    finally:
        servers.stop_all()


# --- stored hits with queued alerts ------------------------------------------------------


def save_hit(
    db: Any,
    *,
    watch_id: str,
    name: str,
    url: str,
    text: str,
    channels: tuple[str, ...],
    title: str = "",
    source: str = "orda",
    published: str | None = None,
    language: str = "en",
    snippet: str | None = None,
    backfill_hours: float = 24.0,
) -> Any:
    """Store one article with one hit on ``name`` through the real store and outbox.

    The article is an hour old unless ``published`` says otherwise (news, not
    backfill); the snippet is the whole text unless given. Returns the ``SaveResult``.
    """
    from alerts import enqueue
    from crawler.models import Article, Hit
    from crawler.storage.store import iso, save_article

    article = Article(
        url=url,
        canonical_url=url,
        source=source,
        title=title,
        text=text,
        published_at=published or iso(datetime.now(UTC) - timedelta(hours=1)),
        language=language,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
    )
    start = max(text.find(name), 0)
    shown = text if snippet is None else snippet
    hit = Hit(watch_id, name, start, start + len(name), shown, 0.95, "name")
    queue = functools.partial(enqueue, backfill_hours=backfill_hours)
    return save_article(db, article, [hit], lambda _: channels, queue)


def config_for(tmp_path: Path, channels: Any, watches: Any, **settings: Any) -> Any:
    """A ``Config`` with these channels and watches, its database in ``tmp_path``.

    ``settings`` sets other fields (``alerts=AlertSettings(max_attempts=3)``).
    """
    from crawler.config import Config

    return Config(
        path=tmp_path / "newswatch.toml",
        database=tmp_path / "newswatch.db",
        sources=(),
        watches=tuple(watches),
        channels=tuple(channels),
        **settings,
    )


def unique(prefix: str) -> str:
    """A name of its own for each test (a webhook receiver: the server lives all session)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def webhook_channel(
    channel_id: str, url: str, secret: str | None = SECRET, **options: Any
) -> Any:
    """A webhook ``Channel`` posting to ``url``, signed with ``secret`` unless it is None."""
    from crawler.config import Channel

    secrets = {"url": url} | ({"secret": secret} if secret else {})
    return Channel(id=channel_id, type="webhook", options=options, secrets=secrets)


def slack_channel(channel_id: str, url: str, **options: Any) -> Any:
    """A Slack ``Channel`` posting to ``url``."""
    from crawler.config import Channel

    return Channel(id=channel_id, type="slack", options=options, secrets={"url": url})


def alert_message(**fields: Any) -> AlertMessage:
    """An ``AlertMessage`` for channel tests: Serikzhan Bilash in Orda, overridable per field."""
    base: dict[str, Any] = {
        "id": "nw_0123456789abcdef0123456789abcdef",
        "timestamp": "2026-11-16T08:05:00Z",
        "watch_id": "serikzhan-bilash",
        "watch_name": "Serikzhan Bilash",
        "story_id": 3,
        "url": "https://orda.kz/bilash",
        "title": "Activist Serikzhan Bilash freed",
        "source": "orda",
        "published_at": "2026-11-16T08:00:00Z",
        "language": "ru",
        "matched": "Серікжан Біләш",
        "snippet": "Activist Serikzhan Bilash said he was freed.",
        "confidence": 0.9,
        "also_reported_by": ("https://a.kz/1",),
    }
    return AlertMessage(**{**base, **fields})

