"""Matcher benchmark where typo checking dominates: 10,000 people sharing a few hundred families.

The watchlist of ``match_bench.py`` spreads 10,000 people over ~140 family names;
real watchlists of a region share family names even more, and every
"given name + first letter of a family name" in a text is a typo lead for each
watched person with that given name and initial. This benchmark builds:

- a watchlist of ``--people`` people over ``--families`` family names (the
  bench's own Kazakh, Russian and English ones, then the most common surnames of
  :mod:`crawler.surnames`), so each family is shared by dozens of watches;
- ≈``--mb`` MB of news-like text in English, Russian and Kazakh naming 2-6
  people per article: watched ones (as written, Russian case forms, Kazakh
  suffixes), other people with a watched given name and another family name
  (typo leads that are no typo), one-keystroke typos of watched names with and
  without a case suffix, and given name + patronymic + another family name.

It times ``Matcher.match`` on one core (CPU time of this process, so a busy
machine slows it less than wall time would), reports MB/s, the share of match
time spent deciding typos (a cProfile pass), recall on the inserted mentions and
hits it did not insert. Run the same script against an older checkout for a
before/after table (``--code DIR`` imports ``crawler`` from DIR).

Run: .venv/bin/python bench/typo_bench.py [--people 10000] [--families 400] [--mb 10]
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import importlib.util
import json
import pstats
import random
import sys
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _this_checkouts_surnames() -> ModuleType:
    """crawler/surnames.py of this checkout (an older one measured may not have it)."""
    spec = importlib.util.spec_from_file_location("surnames_here", ROOT / "crawler/surnames.py")
    assert spec is not None and spec.loader is not None
    text = (ROOT / "crawler/surnames.py").read_text(encoding="utf-8")
    module = ModuleType("surnames_here")
    # Only the name blocks are needed, not the functions (their imports are relative).
    exec(compile(text.split("@lru_cache")[0].replace("from .", "# from ."), "surnames", "exec"),
         module.__dict__)  # fmt: skip
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--families", type=int, default=400)
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--code", type=Path, default=ROOT, help="import crawler from here")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the best counts")
    parser.add_argument("--profile", action="store_true", help="print the match profile's top")
    args = parser.parse_args()
    # An editable install finds ``crawler`` before sys.path does: drop its finder so that
    # --code decides which checkout is measured.
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path.insert(0, str(args.code))
    sys.path.insert(1, str(ROOT / "bench"))
    sys.path.insert(2, str(ROOT))

    import crawler
    from crawler.config import Watch
    from crawler.inflect import FEMALE, MALE, kazakh_suffixes, russian_forms
    from crawler.matcher import Matcher
    from crawler.namelists import ENGLISH, KAZAKH, RUSSIAN
    from crawler.textnorm import fold_key
    from crawler.translit import to_cyrillic

    print(f"measuring {Path(crawler.__file__).parent}")
    # After crawler: match_bench puts this checkout first on sys.path.
    bench = importlib.import_module("match_bench")
    ENGLISH_FAMILY, FILLER, KAZAKH_FAMILY, RUSSIAN_FAMILY, _latin = (
        bench.ENGLISH_FAMILY, bench.FILLER, bench.KAZAKH_FAMILY, bench.RUSSIAN_FAMILY,
        bench._latin,
    )  # fmt: skip
    surnames = _this_checkouts_surnames()
    rng = random.Random(args.seed)
    masculine = [
        name
        for name in (surnames.KZ_TOP + " " + surnames.RU_TOP).split()
        if name.endswith(("ов", "ев", "ин")) and len(name) >= 6
    ]
    families = list(
        dict.fromkeys([*KAZAKH_FAMILY.split(), *RUSSIAN_FAMILY.split(), *masculine])
    )[: args.families]
    english_families = ENGLISH_FAMILY.split()
    given_pools = [KAZAKH.split(), RUSSIAN.split()]

    people: list[tuple[Watch, str, str, str, bool]] = []  # watch, given, family, Latin, female
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
            name = f"{_latin(given)} {_latin(family)}"
        key = fold_key(f"{cyr_given} {cyr_family}")
        if key in seen:
            continue
        seen.add(key)
        watch = Watch(
            id=f"p{len(people)}", kind="person", name=name, aliases=(f"{cyr_given} {cyr_family}",)
        )
        people.append((watch, cyr_given, cyr_family, name, female))
    watches = [p[0] for p in people]
    started = time.process_time()
    matcher = Matcher.compile(watches)
    compile_s = time.process_time() - started

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
    while size < args.mb * 1_000_000:
        lang = rng.choice(("en", "ru", "kk"))
        words = rng.choices(FILLER[lang], k=400)
        ids: set[str] = set()
        for at in rng.sample(range(len(words)), rng.randint(2, 6)):
            watch, given, family, latin, female = rng.choice(people)
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
                ids.add(watch.id)
            elif roll < 0.75:  # a watched given name, another family (a lead, no typo)
                words[at] = f"{given} {rng.choice(families)}"
                if fold_key(words[at]) in seen:
                    words[at] = f"{rng.choice(others)} {family}"
            elif roll < 0.9 and len(family) >= 7:  # a typo, with a Kazakh suffix half the time
                misspelt = typo(family)
                if lang == "kk" and rng.random() < 0.5:
                    misspelt += rng.choice(sorted(kazakh_suffixes(fold_key(family))))
                words[at] = f"{given} {misspelt}"
                ids.add(watch.id)  # found unless another watch is as close (then refused)
            else:  # given name, patronymic, another family name
                words[at] = f"{given} {rng.choice(others)}овна {rng.choice(families)}а"
        text = " ".join(words) + "."
        articles.append(text[0].upper() + text[1:])
        mentioned.append(ids)
        size += len(text.encode("utf-8"))
    corpus_mb = size / 1_000_000

    expected = found = extra = 0
    for article, ids in zip(articles, mentioned, strict=True):
        got = {hit.watch_id for hit in matcher.match(article)}
        expected += len(ids)
        found += len(ids & got)
        extra += len(got - ids)

    best = float("inf")
    for _ in range(args.repeat):
        started = time.process_time()
        for article in articles:
            matcher.match(article)
        best = min(best, time.process_time() - started)

    from crawler.textnorm import fold

    automaton = matcher.automaton()
    assert automaton is not None
    raw = float("inf")
    for _ in range(args.repeat):
        started = time.process_time()
        for article in articles:
            for _ in automaton.iter(fold(article).text):
                pass
        raw = min(raw, time.process_time() - started)

    profile = cProfile.Profile()
    profile.enable()
    for article in articles[: max(1, len(articles) // 4)]:
        matcher.match(article)
    profile.disable()
    stats = pstats.Stats(profile)
    if args.profile:
        stats.sort_stats("tottime").print_stats(20)
    total = typo_time = 0.0
    for (_, _, function), row in stats.stats.items():  # type: ignore[attr-defined]
        if function == "match":
            total = max(total, row[3])
        if function in ("_typo", "_typos_found"):
            typo_time = max(typo_time, row[3])
    report = {
        "code": str(args.code),
        "people": len(watches),
        "families": len(families),
        "automaton_keys": len(matcher.automaton_keys()),
        "compile_cpu_seconds": round(compile_s, 2),
        "corpus_mb": round(corpus_mb, 2),
        "articles": len(articles),
        "inserted_mentions": expected,
        "recall": round(found / expected, 4),
        "hits_not_inserted": extra,
        "match_mb_per_cpu_second": round(corpus_mb / best, 2),
        "typo_share_of_match": round(typo_time / total, 3) if total else None,
        "raw_ac_mb_per_cpu_second": round(corpus_mb / raw, 2),
        "match_to_raw_ac": round(raw / best, 2),
    }
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    name = "typo.json" if args.code == ROOT else "typo-other.json"
    (out / name).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for key, value in report.items():
        print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
