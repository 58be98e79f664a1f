"""``newswatch init``: a commented starter config, watchlist and env file, ready for ``check``."""

from __future__ import annotations

import os
import secrets
from importlib import resources
from pathlib import Path

from alerts.signing import new_secret
from crawler.config import ConfigError

FILES = ("newswatch.toml", "watchlist.toml", "newswatch.env")
PRIVATE = "newswatch.env"  # holds secrets: written mode 0600


def write_starter(directory: Path, *, force: bool = False) -> list[Path]:
    """Write the starter files into ``directory`` (created if need be); return their paths.

    Refuses (ConfigError naming each file) to overwrite anything unless ``force``.
    The env file gets a fresh webhook signing secret and review-desk password.
    """
    targets = [directory / name for name in FILES]
    existing = [path for path in targets if path.exists()]
    if existing and not force:
        raise ConfigError(
            [f"{path}: exists; not overwritten (use --force to replace it)" for path in existing]
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError([f"{directory}: cannot create the folder: {exc.strerror}"]) from None
    values = {
        "{{WEBHOOK_SECRET}}": new_secret(),
        "{{REVIEW_PASSWORD}}": secrets.token_urlsafe(18),
    }
    for path in targets:
        text = resources.files(__package__).joinpath(path.name).read_text(encoding="utf-8")
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        _write(path, text, private=path.name == PRIVATE)
    return targets


def _write(path: Path, text: str, *, private: bool) -> None:
    """Write ``text``; a private file is created 0600 from the start, never readable by others."""
    mode = 0o600 if private else 0o644
    try:
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise ConfigError([f"{path}: cannot write: {exc.strerror}"]) from None
