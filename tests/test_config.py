"""Config validation: each problem names the file, the key, what was expected and found."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from crawler.config import ConfigError, load_config
from tests.conftest import SECRET, newswatch_cli

GOOD = """
database = "state/nw.db"
watchlist = ["people.toml"]

[[source]]
name = "orda"
feed = "https://orda.kz/rss"
language = "ru"

[[source]]
name = "example"
site = "https://example.org/"
sitemaps = ["https://example.org/sitemap.xml"]
sections = ["https://example.org/news/"]
follow = ['/news/\\d{4}/']

[[channel]]
id = "hook"
type = "webhook"
url_env = "NW_TEST_HOOK_URL"
secret_env = "NW_TEST_HOOK_SECRET"

[[watch]]
id = "rusafa-women"
kind = "case"
query = '("Rusafa" OR "Русафа") AND (Kazakhstan* OR Казахстан*) NEAR/30 (women OR женщин*)'
channels = ["hook"]
"""

PEOPLE = """
[[watch]]
id = "aiman-umarova"
name = "Aiman Umarova"
aliases = ["Айман Умарова"]
channels = ["hook"]
"""

ENV = {"NW_TEST_HOOK_URL": "http://127.0.0.1:9/hook", "NW_TEST_HOOK_SECRET": SECRET}


def write(tmp_path: Path, config: str, people: str = PEOPLE) -> Path:
    (tmp_path / "people.toml").write_text(people, encoding="utf-8")
    path = tmp_path / "newswatch.toml"
    path.write_text(config, encoding="utf-8")
    return path


def problems(
    tmp_path: Path, config: str, people: str = PEOPLE, env: dict[str, str] = ENV
) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, config, people), env=env)
    return info.value.problems


def test_good_config_loads_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD), env=ENV)
    assert config.database == tmp_path / "state" / "nw.db"
    assert [s.name for s in config.sources] == ["orda", "example"]
    assert [w.id for w in config.watches] == ["rusafa-women", "aiman-umarova"]
    assert config.channel("hook").secrets == {
        "url": ENV["NW_TEST_HOOK_URL"],
        "secret": ENV["NW_TEST_HOOK_SECRET"],
    }
    assert config.watches[1].origin == "people.toml: watch[0]"


def test_a_case_is_named_by_its_id_in_words_unless_it_has_a_name(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD), env=ENV)
    case, person = config.watches
    assert (case.kind, case.name, case.label) == ("case", "", "Rusafa women")
    assert person.label == "Aiman Umarova"
    named = GOOD.replace('kind = "case"', 'kind = "case"\nname = "Six women in Rusafa prison"')
    case = load_config(write(tmp_path, named), env=ENV).watches[0]
    assert (case.name, case.label) == ("Six women in Rusafa prison", "Six women in Rusafa prison")
    dotted = GOOD.replace('id = "rusafa-women"', 'id = "kz_women.rusafa--2024"')
    assert load_config(write(tmp_path, dotted), env=ENV).watches[0].label == (
        "Kz women rusafa 2024"
    )


def test_bad_url_names_file_key_expected_and_found(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace("https://orda.kz/rss", "orda.kz/rss"))
    assert found == [
        f"{tmp_path / 'newswatch.toml'}: source[0].feed: expected an http(s) URL, got 'orda.kz/rss'"
    ]


def test_unknown_keys_are_errors_in_config_and_watchlist(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        GOOD.replace('language = "ru"', 'langauge = "ru"'),
        PEOPLE.replace("aliases", "alias"),
    )
    assert any("source[0].langauge: unknown key" in p for p in found)
    assert any(p.startswith("people.toml: watch[0].alias: unknown key") for p in found)


def test_missing_environment_variable_is_named_and_secret_never_shown(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD, env={"NW_TEST_HOOK_URL": "http://127.0.0.1:9/hook"})
    assert found == [
        f"{tmp_path / 'newswatch.toml'}: channel[0].secret_env: "
        "environment variable NW_TEST_HOOK_SECRET is not set"
    ]
    found = problems(tmp_path, GOOD, env={**ENV, "NW_TEST_HOOK_SECRET": "hunter2-secret"})
    assert len(found) == 1 and "whsec_" in found[0] and "hunter2" not in found[0]


def test_unknown_channel_duplicate_ids_and_bad_kind(tmp_path: Path) -> None:
    people = PEOPLE + PEOPLE.replace('channels = ["hook"]', 'channels = ["slack"]\nkind = "pet"')
    found = problems(tmp_path, GOOD, people)
    assert any("id 'aiman-umarova' is used twice" in p for p in found)
    assert any(
        p.startswith("people.toml: watch[1].kind: expected person | organisation | case")
        for p in found
    )
    assert any(
        "people.toml: watch[1].channels[0]: expected a channel id" in p and "'slack'" in p
        for p in found
    )


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD + "\n[[source]\n")
    assert len(found) == 1 and "newswatch.toml: invalid TOML" in found[0] and "line" in found[0]


def test_missing_watchlist_file(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace("people.toml", "nobody.toml"))
    assert found == [f"{tmp_path / 'newswatch.toml'}: watchlist[0]: nobody.toml: file not found"]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return newswatch_cli(*args, base_env=env)


def test_check_exits_2_with_one_line_per_problem_and_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("NEAR/30", "NEAR/").replace("https://orda.kz/rss", "x"))
    result = run_cli("check", "-c", str(path), env={"PATH": "/usr/bin:/bin", **ENV})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert any("source[0].feed: expected an http(s) URL, got 'x'" in line for line in lines)


def test_check_reports_malformed_query_with_watch_and_position(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("(women OR", "(women OR OR"))
    result = run_cli("check", "-c", str(path), env={"PATH": "/usr/bin:/bin", **ENV})
    assert result.returncode == 2
    assert "newswatch.toml: watch[0].query:" in result.stderr
    assert "position" in result.stderr


def test_check_ok(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    result = run_cli("check", "--json", "-c", str(path), env={"PATH": "/usr/bin:/bin", **ENV})
    assert result.returncode == 0, result.stderr
    assert '"watches": 2' in result.stdout


def test_commands_that_send_nothing_do_not_need_secrets(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    bare = {"PATH": "/usr/bin:/bin"}
    check = run_cli("check", "-c", str(path), env=bare)
    assert check.returncode == 2
    assert "channel[0].url_env: environment variable NW_TEST_HOOK_URL is not set" in check.stderr
    match = run_cli("match", "--json", "-c", str(path), "Aiman Umarova spoke", env=bare)
    assert match.returncode == 0, match.stderr
    assert '"watch_id": "aiman-umarova"' in match.stdout
    config = load_config(path, env={}, need_secrets=False)
    assert config.channel("hook").secrets == {}


@pytest.mark.parametrize(
    ("table", "key", "value", "expected"),
    [
        ("crawl", "download_timeout", "nan", "a finite number"),
        ("alerts", "backfill_hours", "inf", "a finite number"),
        ("dedup", "window_days", "-inf", "a finite number"),
        ("crawl", "download_timeout", "86400", "a number from 1 to 600"),
        ("crawl", "max_page_bytes", "10", "a number from 1024 to"),
        ("crawl", "retries", "1000", "a number from 0 to 10"),
        ("alerts", "cap", "0", "a number from 1 to 10000"),
        ("alerts", "max_attempts", "100000", "a number from 1 to 100"),
    ],
)
def test_numbers_must_be_finite_and_within_bounds(
    tmp_path: Path, table: str, key: str, value: str, expected: str
) -> None:
    found = problems(tmp_path, GOOD + f"\n[{table}]\n{key} = {value}\n")
    assert len(found) == 1, found
    assert f"newswatch.toml: {table}.{key}: expected {expected}" in found[0]


def test_nan_in_a_channel_or_source_number_is_refused(tmp_path: Path) -> None:
    config = GOOD.replace('language = "ru"', 'language = "ru"\nmax_articles = nan')
    config = config.replace('secret_env = "NW_TEST_HOOK_SECRET"',
                            'secret_env = "NW_TEST_HOOK_SECRET"\ntimeout = inf')
    found = problems(tmp_path, config)
    assert any("source[0].max_articles: expected a finite number" in p for p in found), found
    assert any("channel[0].timeout: expected a finite number" in p for p in found), found
