"""Derive crawler/matching/surnames.py's frequency list from names-dataset (PyPI), offline.

Run once by hand, with the names-dataset wheel unpacked somewhere:

    pip download --no-deps -d /tmp/nd names-dataset==3.3.1
    unzip /tmp/nd/names_dataset-3.3.1-py3-none-any.whl -d /tmp/nd/x
    .venv/bin/python tools/derive_surnames.py /tmp/nd/x/names_dataset/v3/last_names.pkl.gz

It prints, per country, the most frequent last names (``--top`` for KZ and RU,
``--top-english`` for GB and US) that are written in one script (Cyrillic or
Latin letters, a hyphen allowed) and are not patronymics, most frequent first,
as the blocks crawler/matching/surnames.py holds.
"""

from __future__ import annotations

import argparse
import gzip
import pickle
import re
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.matching.inflect import is_patronymic
from crawler.matching.textnorm import fold_key

_ONE_SCRIPT = re.compile(r"^(?:[А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі-]+|[A-Za-z-]+)$")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pickle", type=Path, help="names_dataset/v3/last_names.pkl.gz")
    parser.add_argument("--top", type=int, default=1000)
    parser.add_argument("--top-english", type=int, default=500)
    args = parser.parse_args()
    with gzip.open(args.pickle) as handle:
        names = pickle.load(handle)  # name -> {"country": ..., "rank": {alpha2: rank}, ...}
    for country, top in (("KZ", args.top), ("RU", args.top), ("GB", args.top_english),
                         ("US", args.top_english)):  # fmt: skip
        ranked = sorted(
            (info["rank"][country], name)
            for name, info in names.items()
            if country in info["rank"]
        )
        kept: list[str] = []
        for _, name in ranked:
            if len(kept) == top:
                break
            if not _ONE_SCRIPT.match(name) or is_patronymic(fold_key(name)):
                continue
            kept.append(name)
        print(f"{country}_TOP = \"\"\"")
        print(textwrap.fill(" ".join(kept), width=96))
        print('"""')


if __name__ == "__main__":
    main()
