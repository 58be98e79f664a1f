"""The CLI as a newcomer and cron meet it: init, env files, secrets, help, errors, warnings."""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from alerts.signing import verify
from tests.conftest import SECRET, WebServer, newswatch_cli

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]


def newswatch(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess; ``env`` replaces the environment (as cron's would)."""
    return newswatch_cli(*args, base_env=env, cwd=cwd, timeout=timeout)


def cron_env() -> dict[str, str]:
    """What cron gives a job: a bare PATH, HOME, SHELL and nothing of the user's shell."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "SHELL": "/bin/sh"}


def test_no_arguments_lists_the_commands(tmp_path: Path) -> None:
    result = newswatch(cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for command in ("demo", "init", "run", "check", "match", "alerts", "review", "secret"):
        assert f"    {command} " in result.stdout


@pytest.mark.parametrize("action", ["deliver", "status", "retry"])
def test_help_of_each_alerts_action_describes_it(tmp_path: Path, action: str) -> None:
    result = newswatch("alerts", action, "--help", cwd=tmp_path)
    assert result.returncode == 0
    described = {"deliver": "Send every alert", "status": "Show how many", "retry": "dead alert"}
    assert described[action] in result.stdout
    assert f"usage: newswatch alerts {action}" in result.stdout


def test_missing_config_says_how_to_name_one(tmp_path: Path) -> None:
    result = newswatch("run", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "newswatch.toml: no such config file in" in lines[0]
    assert "-c FILE" in lines[0] and "$NEWSWATCH_CONFIG" in lines[0]
    assert "newswatch init" in lines[0]


def test_init_writes_a_starter_that_check_accepts(tmp_path: Path) -> None:
    result = newswatch("init", "site", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "site"
    assert sorted(p.name for p in folder.iterdir()) == [
        "newswatch.env", "newswatch.toml", "watchlist.toml"]
    assert (folder / "newswatch.env").stat().st_mode & 0o777 == 0o600
    env_text = (folder / "newswatch.env").read_text(encoding="utf-8")
    secret = next(line.split("=", 1)[1] for line in env_text.splitlines()
                  if line.startswith("NEWSWATCH_WEBHOOK_SECRET="))
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    assert "{{" not in env_text
    assert "check -c site/newswatch.toml" in result.stdout  # what to do next

    # The config may come before or after the command.
    for args in (("check", "-c", "site/newswatch.toml"), ("-c", "site/newswatch.toml", "check")):
        checked = newswatch(*args, cwd=tmp_path, env=cron_env())
        assert checked.returncode == 0, checked.stderr
        assert checked.stdout.startswith("site/newswatch.toml: ok: 1 sources, 3 watches")
        assert not checked.stderr

    again = newswatch("init", "site", cwd=tmp_path)
    assert again.returncode == 2
    assert "exists; not overwritten (use --force" in again.stderr
    assert (folder / "newswatch.env").read_text(encoding="utf-8") == env_text
    forced = newswatch("init", "site", "--force", cwd=tmp_path)
    assert forced.returncode == 0
    assert (folder / "newswatch.env").read_text(encoding="utf-8") != env_text  # a new secret


def test_secret_prints_a_fresh_standard_webhooks_secret(tmp_path: Path) -> None:
    first, second = (newswatch("secret", cwd=tmp_path).stdout.strip() for _ in range(2))
    assert first != second
    for secret in (first, second):
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) >= 24


CRON_CONFIG = """
database = "nw.db"
watchlist = ["watchlist.toml"]
env_file = "secrets.env"

[alerts]
backfill_hours = 0

[crawl]
autothrottle = false
retries = 0

[[source]]
name = "rss20"
feed = "{base}/feeds/rss20.xml"
allow_private = true

[[channel]]
id = "hook"
type = "webhook"
url_env = "NW_CRON_HOOK_URL"
secret_env = "NW_CRON_HOOK_SECRET"
"""

WATCHLIST = """
[[watch]]
id = "aigerim-tulegenova"
name = "Aigerim Tulegenova"
aliases = ["Айгерим Тулегенова"]
channels = ["hook"]
"""


def write_cron_setup(folder: Path, web: WebServer, hook: str, secret: str) -> Path:
    folder.mkdir()
    (folder / "newswatch.toml").write_text(CRON_CONFIG.format(base=web.url), encoding="utf-8")
    (folder / "watchlist.toml").write_text(WATCHLIST, encoding="utf-8")
    env_file = folder / "secrets.env"
    env_file.write_text(
        "# written by hand\n"
        f"export NW_CRON_HOOK_URL={web.hook_url(hook)}\n"
        f"NW_CRON_HOOK_SECRET='{secret}'\n",
        encoding="utf-8",
    )
    env_file.chmod(0o600)
    return env_file


def test_run_from_cron_reads_secrets_from_the_env_file(tmp_path: Path, web: WebServer) -> None:
    secret = newswatch("secret", cwd=tmp_path).stdout.strip()
    write_cron_setup(tmp_path / "nw", web, "cli-cron", secret)

    result = newswatch("-vv", "run", "-c", "newswatch.toml", cwd=tmp_path / "nw", env=cron_env())
    assert result.returncode == 0, result.stderr
    assert "sources 1 ok" in result.stdout
    received = web.hook_requests("cli-cron")
    assert received, "no webhook arrived"
    assert all(verify(secret, request["headers"], request["body"]) for request in received)
    # Not even -vv shows a value from the env file.
    for output in (result.stdout, result.stderr):
        assert secret not in output and secret.removeprefix("whsec_") not in output
        assert web.hook_url("cli-cron") not in output


def test_environment_wins_over_the_env_file(tmp_path: Path, web: WebServer) -> None:
    secret = newswatch("secret", cwd=tmp_path).stdout.strip()
    write_cron_setup(tmp_path / "nw", web, "cli-file", secret)
    env = {**cron_env(), "NW_CRON_HOOK_URL": web.hook_url("cli-environment")}
    result = newswatch("run", "-c", "nw/newswatch.toml", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert web.hook_requests("cli-environment")
    assert not web.hook_requests("cli-file")


def test_an_env_file_others_can_read_is_refused(tmp_path: Path, web: WebServer) -> None:
    env_file = write_cron_setup(tmp_path / "nw", web, "cli-refused", "whsec_c2VjcmV0c2VjcmV0")
    env_file.chmod(0o644)
    result = newswatch("check", "--json", "-c", "nw/newswatch.toml", cwd=tmp_path, env=cron_env())
    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert any(
        "secrets.env: group or others may read this file of secrets (mode 0644)" in error
        and "chmod 600" in error
        for error in report["errors"]
    ), report
    assert "c2VjcmV0c2VjcmV0" not in result.stdout + result.stderr
    assert not (tmp_path / "nw" / "nw.db").exists()


def test_a_malformed_env_file_names_the_line(tmp_path: Path, web: WebServer) -> None:
    env_file = write_cron_setup(tmp_path / "nw", web, "cli-malformed", SECRET)
    env_file.write_text(env_file.read_text(encoding="utf-8") + "this is not a variable\n")
    result = newswatch("check", "-c", "nw/newswatch.toml", cwd=tmp_path, env=cron_env())
    assert result.returncode == 2
    assert "secrets.env: line 4: expected KEY=value" in result.stderr


def test_check_json_reports_errors_as_json(tmp_path: Path) -> None:
    (tmp_path / "newswatch.toml").write_text(
        '[[watch]]\nid = "x"\nkind = "celebrity"\nname = "X Y"\n', encoding="utf-8"
    )
    result = newswatch("check", "--json", cwd=tmp_path)
    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["errors"] == [
        "newswatch.toml: watch[0].kind: expected person | organisation | case, got 'celebrity'"
    ]
    missing = newswatch("check", "--json", "-c", "absent.toml", cwd=tmp_path)
    assert missing.returncode == 2
    assert json.loads(missing.stdout)["errors"][0].startswith("absent.toml: no such config file")


def test_an_empty_config_passes_check_with_warnings(tmp_path: Path) -> None:
    (tmp_path / "newswatch.toml").write_text('database = "nw.db"\n', encoding="utf-8")
    result = newswatch("check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no [[source]]: nothing will be fetched" in result.stderr
    assert "no [[watch]] here or in its watchlist files" in result.stderr
    report = json.loads(newswatch("check", "--json", cwd=tmp_path).stdout)
    assert report["ok"] is True
    assert len(report["warnings"]) == 3

    run = newswatch("run", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "no [[source]]" in run.stderr and "sources 0 ok" in run.stdout
    with sqlite3.connect(tmp_path / "nw.db") as db:
        assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
