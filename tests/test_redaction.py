"""No secret reaches any output: -vv runs, deliveries, status and the review desk, all scanned."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from alerts.redaction import MARK, redact, secret_forms
from tests.conftest import STARTUP_TIMEOUT, MailServers, TlsFiles, WebServer, _first_line

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]

WEBHOOK_SECRET = "whsec_TmV3c3dhdGNoUmVkYWN0aW9uVGVzdEtleTEyMzQ="
SLACK_PATH = "T0REDACT1/B0REDACT2/xoxRedactToken9876"
APPRISE_TOKEN = "AppriseTok3nValue42"
APPRISE_PASSWORD = "Appr1sePassw0rd"
SMTP_PASSWORD = "smtp-Passw0rd-$and#hash"
REVIEW_PASSWORD = "review desk passphrase 77"


def all_secrets(web: WebServer) -> dict[str, str]:
    """The variables of the env file: every value is a secret."""
    host = web.url.removeprefix("http://")
    return {
        "NW_R_HOOK_URL": web.hook_url("redact-hook"),
        "NW_R_HOOK_SECRET": WEBHOOK_SECRET,
        "NW_R_SLACK_URL": f"{web.hook_url('redact-slack')}/{SLACK_PATH}",
        "NW_R_APPRISE_URL": (
            f"json://newswatch:{APPRISE_PASSWORD}@{host}/_hook/redact-apprise/{APPRISE_TOKEN}"
        ),
        "NW_R_SMTP_USER": "alerts-user",
        "NW_R_SMTP_PASSWORD": SMTP_PASSWORD,
        "NW_R_REVIEW_PASSWORD": REVIEW_PASSWORD,
    }


def write_setup(folder: Path, web: WebServer, mail_port: int, ca: Path) -> Path:
    env_file = folder / "secrets.env"
    env_file.write_text(
        "".join(f"{key}='{value}'\n" for key, value in all_secrets(web).items()),
        encoding="utf-8",
    )
    env_file.chmod(0o600)
    config = folder / "newswatch.toml"
    config.write_text(
        f"""
database = "nw.db"
env_file = "secrets.env"

[alerts]
backfill_hours = 0

[crawl]
autothrottle = false
retries = 0

[review]
password_env = "NW_R_REVIEW_PASSWORD"

[[source]]
name = "rss20"
feed = "{web.url}/feeds/rss20.xml"
allow_private = true

[[channel]]
id = "hook"
type = "webhook"
url_env = "NW_R_HOOK_URL"
secret_env = "NW_R_HOOK_SECRET"

[[channel]]
id = "slack"
type = "slack"
url_env = "NW_R_SLACK_URL"

[[channel]]
id = "phones"
type = "apprise"
url_env = "NW_R_APPRISE_URL"

[[channel]]
id = "mail"
type = "email"
host = "127.0.0.1"
port = {mail_port}
security = "starttls"
username_env = "NW_R_SMTP_USER"
password_env = "NW_R_SMTP_PASSWORD"
from = "newswatch <alerts@example.org>"
to = ["editors@example.org"]
ca_file = "{ca}"

[[watch]]
id = "aigerim-tulegenova"
name = "Aigerim Tulegenova"
aliases = ["Айгерим Тулегенова"]
channels = ["hook", "slack", "phones", "mail"]
""",
        encoding="utf-8",
    )
    return config


def leaks(output: str, web: WebServer) -> list[str]:
    """Every secret (or secret-bearing piece) found in ``output``."""
    pieces = [
        WEBHOOK_SECRET, WEBHOOK_SECRET.removeprefix("whsec_"), SLACK_PATH, "xoxRedactToken9876",
        APPRISE_TOKEN, APPRISE_PASSWORD, SMTP_PASSWORD, REVIEW_PASSWORD,
        *all_secrets(web).values(),
    ]
    return [piece for piece in pieces if piece in output and piece != "alerts-user"]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args], capture_output=True, text=True,
        timeout=180, cwd=cwd, env=env,
    )


def test_no_secret_in_any_output_at_vv(
    tmp_path: Path, web: WebServer, smtp: MailServers, tls_files: TlsFiles
) -> None:
    mail = smtp.start("starttls", login=("alerts-user", SMTP_PASSWORD))
    web.script("redact-slack/" + SLACK_PATH, [{"status": 500, "body": "try later"}])
    config = write_setup(tmp_path, web, mail.port, tls_files.ca)

    outputs = {}
    run = cli("-vv", "run", "-c", "newswatch.toml", cwd=tmp_path)
    outputs["run"] = run.stdout + run.stderr
    assert "sources 1 ok" in run.stdout, run.stderr
    assert web.hook_requests("redact-hook") and mail.messages  # the channels worked
    assert web.hook_requests(f"redact-apprise/{APPRISE_TOKEN}")
    for args in (("alerts", "deliver"), ("alerts", "status"), ("check",)):
        result = cli("-vv", *args, "-c", "newswatch.toml", cwd=tmp_path)
        outputs[" ".join(args)] = result.stdout + result.stderr

    # The desk at -vv, with a failed and a good login.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "PYTHONPATH": str(ROOT)}
    desk = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "-vv", "review", "-c", str(config), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env,
    )
    try:
        line = _first_line(desk, STARTUP_TIMEOUT)
        url = re.search(r"http://\S+/-/newswatch/", line)
        assert url, line
        with httpx.Client(base_url=url.group(0)) as http:
            http.get("")
            page = http.get("login").text
            token = re.search(r'name="csrftoken" value="([^"]+)"', page)
            form = {"name": "Editor", "csrftoken": token.group(1) if token else ""}
            http.post("login", data={**form, "password": "wrong " + REVIEW_PASSWORD[:5]})
            http.post("login", data={**form, "password": REVIEW_PASSWORD})
    finally:
        desk.terminate()
        out, err = desk.communicate(timeout=30)
    outputs["review"] = line + out + err
    assert "GET /-/newswatch/" in outputs["review"]  # the desk did log at -vv

    found = {name: leaks(text, web) for name, text in outputs.items()}
    assert not any(found.values()), found
    assert MARK in outputs["run"]  # something was redacted: the secrets were there to leak


def test_secret_forms_cover_tokens_in_urls() -> None:
    forms = secret_forms(["tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-1001234/",
                          "https://hooks.slack.com/services/T0001/B0002/XXXXyyyyZZZZ1234"])
    assert "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" in forms
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" in forms
    assert "XXXXyyyyZZZZ1234" in forms and "services" not in forms
    line = "POST https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/send"
    assert "AAHdq" not in redact(line, ["tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/1/"])

