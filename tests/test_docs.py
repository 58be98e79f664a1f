"""The README documents every command and option the CLI defines, and the two set-up commands."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from crawler.cli import build_parser

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def walk(parser: argparse.ArgumentParser, prefix: str) -> list[tuple[str, str]]:
    """(command, option) pairs for every option of every subcommand."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((f"{prefix} {name}", ""))
                found += walk(sub, f"{prefix} {name}")
        elif action.option_strings and action.dest != "help":
            found.append((prefix, max(action.option_strings, key=len)))
        elif action.choices and action.dest == "action":
            found += [(f"{prefix} {choice}", "") for choice in action.choices]
    return found


def test_every_command_and_option_is_in_the_readme() -> None:
    missing = []
    for command, option in walk(build_parser(), "newswatch"):
        if option and option not in README:
            missing.append(f"{command} {option}")
        if not option and f"`{command}" not in README:
            missing.append(command)
    assert not missing, f"README.md does not document: {missing}"


def test_readme_gives_the_two_setup_commands() -> None:
    assert "pip install -e . && .venv/bin/newswatch demo" in README
    assert "pip install -e '.[test]' && .venv/bin/python -m pytest" in README
    # CI runs both verbatim: it reads them from the README's "Two commands" block.
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert 'bash -c "$demo_command"' in ci and 'bash -c "$test_command"' in ci
    assert "pip install -q --upgrade pip" not in ci  # a newcomer's pip is the bundled one
    block = README.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    lines = block.splitlines()
    for number in ("1", "2"):
        index = next(i for i, line in enumerate(lines) if line.startswith(f"# {number}. "))
        assert lines[index + 1].startswith("python3 -m venv .venv && ")


def test_every_config_key_is_in_the_readme() -> None:
    from crawler.config import (
        CHANNEL_OPTIONS,
        AlertSettings,
        CrawlSettings,
        DedupSettings,
        EvidenceSettings,
        ReviewSettings,
        RevisitSettings,
        Source,
        Watch,
        keys,
    )

    tables = {"source": Source, "watch": Watch, "crawl": CrawlSettings, "alerts": AlertSettings,
              "review": ReviewSettings, "dedup": DedupSettings, "revisit": RevisitSettings,
              "evidence": EvidenceSettings}
    tables |= {f"channel ({kind})": cls for kind, cls in CHANNEL_OPTIONS.items()}
    missing = [
        f"{table}.{key.name}"
        for table, cls in tables.items()
        for key in keys(cls)
        if not re.search(rf"(^|[\s`#\[]){re.escape(key.name)}( = |`)", README, re.M)
    ]
    missing += [key for key in ("database", "watchlist", "env_file", "review_url")
                if f"{key} = " not in README]
    assert not missing, f"README.md does not document these config keys: {missing}"
