"""Matcher benchmark where typo checking dominates: 10,000 people sharing a few hundred families.

The watchlist of ``match_bench.py`` spreads 10,000 people over ~140 family names;
real watchlists of a region share family names too, and every "given name +
first letter of a family name" in a text is a typo lead for each watched person
with that given name and initial. This benchmark builds:

- ``--list shared`` (default): ``--people`` people over ``--families`` family
  names (the bench's own Kazakh, Russian and English ones, then the most common
  surnames of :mod:`crawler.matching.surnames`), dozens of watches per family; and
  ≈``--mb`` MB of news-like text in English, Russian and Kazakh naming 2-6
  people per article: watched ones (as written, Russian case forms, Kazakh
  suffixes), other people with a watched given name and another family name
  (typo leads that are no typo), one-keystroke typos of watched names (with a
  Kazakh suffix half the time in Kazakh) and given name + patronymic + another
  family name;
- ``--list match``: ``match_bench.py``'s own watchlist and corpus.

It times ``Matcher.match`` on one core (CPU time of this process). With
``--against DIR`` it also imports DIR's ``crawler`` package (an older checkout,
e.g. ``git archive BASE crawler | tar -x -C DIR``) under another name and runs
both on the same corpus, alternating passes so that a busy machine slows both
alike; the best pass of each counts. It reports MB/s, the bare Aho-Corasick scan
of the folded text (the floor), the share of match time spent deciding typos (a
cProfile pass), recall on the inserted mentions and hits not inserted.

Run: .venv/bin/python bench/typo_bench.py [--people 10000] [--families 400] [--mb 10]
         [--list shared|match] [--against DIR] [--repeat 5] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import json
import pstats
import random
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "bench"))

import match_bench  # noqa: E402

from crawler.matching import surnames  # noqa: E402
from crawler.matching.inflect import FEMALE, MALE, kazakh_suffixes, russian_forms  # noqa: E402
from crawler.matching.namelists import ENGLISH, KAZAKH, RUSSIAN  # noqa: E402
from crawler.matching.textnorm import fold_key  # noqa: E402
from crawler.matching.translit import to_cyrillic  # noqa: E402

Person = tuple[str, str, str, str, str, bool]  # id, Latin name, alias, given, family, female


def shared_list(args: argparse.Namespace, rng: random.Random) -> tuple[list[Person], list[str]]:
    """People over a few hundred family names, and those families."""
    masculine = [
        name
        for name in (surnames.KZ_TOP + " " + surnames.RU_TOP).split()
        if name.endswith(("ов", "ев", "ин")) and len(name) >= 6
    ]
    families = list(
        dict.fromkeys(
            [*match_bench.KAZAKH_FAMILY.split(), *match_bench.RUSSIAN_FAMILY.split(), *masculine]
        )
    )[: args.families]
    english_families = match_bench.ENGLISH_FAMILY.split()
    given_pools = [KAZAKH.split(), RUSSIAN.split()]
    people: list[Person] = []
    seen: set[str] = set()
    while len(people) < args.people:
        if rng.random() < 0.1:
            given, family = rng.choice(ENGLISH.split()), rng.choice(english_families)
            cyr_given = min(to_cyrillic(given)).title()
            cyr_family = min(to_cyrillic(family)).title()
            female = given.endswith("a")
            name = f"{given} {family}"
        else:
            given = rng.choice(rng.choice(given_pools))
            female = given.endswith(("а", "я")) or given in {"Айгерім", "Айман", "Жанар"}
            family = rng.choice(families)
            if female and family.endswith(("ов", "ев", "ин")):
                family += "а"
            cyr_given, cyr_family = given, family
            name = f"{match_bench._latin(given)} {match_bench._latin(family)}"
        key = fold_key(f"{cyr_given} {cyr_family}")
        if key in seen:
            continue
        seen.add(key)
        alias = f"{cyr_given} {cyr_family}"
        people.append((f"p{len(people)}", name, alias, cyr_given, cyr_family, female))
    return people, families


def shared_corpus(
    people: list[Person], families: list[str], megabytes: float, rng: random.Random
) -> tuple[list[str], list[set[str]]]:
    """Articles naming watched people, typo leads, typos and patronymics; the ids inserted."""
    seen = {fold_key(p[2]) for p in people}

    def typo(word: str) -> str:
        """One keystroke: a doubled letter or two neighbours swapped, past the third letter."""
        at = rng.randrange(3, len(word) - 2)
        if rng.random() < 0.5:
            return word[:at] + word[at] + word[at:]
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]

    others = KAZAKH.split() + RUSSIAN.split()
    articles: list[str] = []
    mentioned: list[set[str]] = []
    size = 0
    while size < megabytes * 1_000_000:
        lang = rng.choice(("en", "ru", "kk"))
        words = rng.choices(match_bench.FILLER[lang], k=400)
        ids: set[str] = set()
        for at in rng.sample(range(len(words)), rng.randint(2, 6)):
            watch_id, latin, _, given, family, female = rng.choice(people)
            roll = rng.random()
            if roll < 0.35:  # the watched person
                if lang == "en":
                    words[at] = latin
                elif lang == "ru":
                    gender = FEMALE if female else MALE
                    forms = sorted(russian_forms(family.lower(), "family", gender)) or [family]
                    words[at] = f"{given} {rng.choice(forms).title()}"
                else:
                    suffix = rng.choice(sorted(kazakh_suffixes(fold_key(family))))
                    words[at] = f"{given} {family}{suffix}"
                ids.add(watch_id)
            elif roll < 0.75:  # a watched given name, another family (a lead, no typo)
                words[at] = f"{given} {rng.choice(families)}"
                if fold_key(words[at]) in seen:
                    words[at] = f"{rng.choice(others)} {family}"
            elif roll < 0.9 and len(family) >= 7:  # a typo, with a Kazakh suffix half the time
                misspelt = typo(family)
                if lang == "kk" and rng.random() < 0.5:
                    misspelt += rng.choice(sorted(kazakh_suffixes(fold_key(family))))
                words[at] = f"{given} {misspelt}"
                ids.add(watch_id)  # found unless another name is as close (then refused)
            else:  # given name, patronymic, another family name
                words[at] = f"{given} {rng.choice(others)}овна {rng.choice(families)}а"
        text = " ".join(words) + "."
        articles.append(text[0].upper() + text[1:])
        mentioned.append(ids)
        size += len(text.encode("utf-8"))
    return articles, mentioned


def load_other(directory: Path) -> ModuleType:
    """``directory``/crawler imported as the package ``crawler_before``."""
    spec = importlib.util.spec_from_file_location(
        "crawler_before",
        directory / "crawler" / "__init__.py",
        submodule_search_locations=[str(directory / "crawler")],
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules["crawler_before"] = package
    spec.loader.exec_module(package)
    return package


def _module(package: str, name: str) -> ModuleType:
    """``package``.matching.``name``, or ``package``.``name`` in a checkout before the folders."""
    try:
        return importlib.import_module(f"{package}.matching.{name}")
    except ModuleNotFoundError:
        return importlib.import_module(f"{package}.{name}")


class Version:
    """One checkout's matcher over the benchmark's watchlist."""

    def __init__(self, label: str, package: str, people: list[Person], contexts: set[str]) -> None:
        config = importlib.import_module(f"{package}.config")
        matcher = _module(package, "matcher")
        self.textnorm = _module(package, "textnorm")
        self.label = label
        watches = [
            config.Watch(
                id=pid, kind="person", name=name, aliases=(alias,),
                context=("Atajurt",) if pid in contexts else (),
            )
            for pid, name, alias, *_ in people
        ]  # fmt: skip
        started = time.process_time()
        self.matcher = matcher.Matcher.compile(watches)
        self.compile_s = time.process_time() - started
        self.best = float("inf")
        self.raw = float("inf")

    def run(self, articles: list[str]) -> None:
        started = time.process_time()
        for article in articles:
            self.matcher.match(article)
        self.best = min(self.best, time.process_time() - started)

    def run_raw(self, articles: list[str]) -> None:
        automaton = self.matcher.automaton()
        fold = self.textnorm.fold
        started = time.process_time()
        for article in articles:
            for _ in automaton.iter(fold(article).text):
                pass
        self.raw = min(self.raw, time.process_time() - started)

    def report(
        self, articles: list[str], mentioned: list[set[str]], corpus_mb: float, show: bool
    ) -> dict[str, Any]:
        expected = found = extra = 0
        for article, ids in zip(articles, mentioned, strict=True):
            got = {hit.watch_id for hit in self.matcher.match(article)}
            expected += len(ids)
            found += len(ids & got)
            extra += len(got - ids)
        profile = cProfile.Profile()
        profile.enable()
        for article in articles[: max(1, len(articles) // 4)]:
            self.matcher.match(article)
        profile.disable()
        stats = pstats.Stats(profile)
        if show:
            print(f"--- profile of {self.label}")
            stats.sort_stats("tottime").print_stats(15)
        total = typo_time = 0.0
        for (_, _, function), row in stats.stats.items():  # type: ignore[attr-defined]
            if function == "match":
                total = max(total, row[3])
            if function in ("_typo", "_typos_found"):
                typo_time = max(typo_time, row[3])
        return {
            "automaton_keys": len(self.matcher.automaton_keys()),
            "compile_cpu_seconds": round(self.compile_s, 2),
            "recall": round(found / expected, 4),
            "hits_not_inserted": extra,
            "match_mb_per_cpu_second": round(corpus_mb / self.best, 2),
            "raw_ac_mb_per_cpu_second": round(corpus_mb / self.raw, 2),
            "match_to_raw_ac": round(self.raw / self.best, 2),
            "typo_share_of_match": round(typo_time / total, 3) if total else None,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--families", type=int, default=400)
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--list", choices=("shared", "match"), default="shared")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--against", type=Path, help="a checkout whose crawler/ to compare")
    parser.add_argument("--repeat", type=int, default=5, help="timed passes; the best counts")
    parser.add_argument("--profile", action="store_true", help="print each profile's top")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    if args.list == "shared":
        people, families = shared_list(args, rng)
        articles, mentioned = shared_corpus(people, families, args.mb, rng)
        contexts: set[str] = set()
    else:
        listed = match_bench.watchlist(args.people, rng)
        people = [
            (w.id, w.name, w.aliases[0], given, family, female)
            for w, given, family, female in listed
        ]
        contexts = {w.id for w, *_ in listed if w.context}
        articles, mentioned = match_bench.corpus(listed, args.mb, rng)
    corpus_mb = sum(len(a.encode("utf-8")) for a in articles) / 1_000_000

    versions = [Version("this checkout", "crawler", people, contexts)]
    if args.against is not None:
        load_other(args.against)
        versions.insert(0, Version(f"{args.against}", "crawler_before", people, contexts))
    for _ in range(args.repeat):  # alternate, so that a busy machine slows each alike
        for version in versions:
            version.run(articles)
            version.run_raw(articles)

    report: dict[str, Any] = {
        "list": args.list,
        "people": len(people),
        "families": len({p[4] for p in people}),
        "corpus_mb": round(corpus_mb, 2),
        "articles": len(articles),
        "inserted_mentions": sum(len(ids) for ids in mentioned),
    }
    for version in versions:
        report[version.label] = version.report(articles, mentioned, corpus_mb, args.profile)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / f"typo-{args.list}.json").write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    for key, value in report.items():
        if not isinstance(value, dict):
            print(f"{key:28} {value}")
    labels = [v.label for v in versions]
    print(f"{'':28}" + "".join(f"{label[-24:]:>26}" for label in labels))
    for key in report[labels[0]]:
        print(f"{key:28}" + "".join(f"{report[label][key]!s:>26}" for label in labels))


if __name__ == "__main__":
    main()
