"""Dedup benchmark: the story index with 100,000 stored articles, against datasketch, and the
threshold on the labelled set.

Measures, side by side in one run, each index in its own child process:
  (a) insert-and-query cost per new article (signature + find + add) with N stored articles:
      median and p95 over 1,000 new articles (a fifth of them copies of stored ones);
  (b) start-up: restoring the index of N articles (ours: from the state file's
      article_signatures; datasketch: unpickling its MinHashLSH);
  (c) peak memory (the child's peak RSS) after restoring and querying, and its growth over
      the RSS the child had before restoring (imports and the query texts);
  (d) save_article end to end (SQLite, synchronous=FULL) per new article, for context;
  (e) precision and recall of duplicate pairs on tests/data/dedup at thresholds 0.35-0.65,
      pairwise and as stories (the index assigning articles in 50 orders).

Run: .venv/bin/python bench/dedup_bench.py [--stored 100000] [--queries 1000]
Prints tables and writes bench/out/dedup.json. datasketch (pip install datasketch) is the
baseline; without it the baseline columns are left out.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.config import DedupSettings  # noqa: E402
from crawler.extraction.article import content_hash  # noqa: E402
from crawler.models import Article  # noqa: E402
from crawler.storage.store import iso, open_database, save_article  # noqa: E402
from crawler.storage.stories import (  # noqa: E402
    SCHEME,
    SHINGLE_WORDS,
    StoryIndex,
    signature,
    similarity,
    words,
)

LABELLED = ROOT / "tests" / "data" / "dedup"
OUT = ROOT / "bench" / "out" / "dedup.json"
THRESHOLD = DedupSettings().threshold
WINDOW = DedupSettings().window_days
NUM_PERM = 128


# --- a synthetic corpus: Zipf words, shared stock sentences, syndicated copies ----------------


class Corpus:
    """Article i is generated from seed i, so every process rebuilds the same texts cheaply.

    A text is about 25 sentences; one in five sentences comes from a pool of 5,000 stock
    sentences (datelines, background paragraphs, boilerplate) shared across articles, so
    unrelated articles overlap a little as real news does. One stored article in twenty is
    a copy of an earlier one with an intro line added and a paragraph dropped.
    """

    def __init__(self, seed: int = 11, vocabulary: int = 60_000) -> None:
        rng = np.random.default_rng(seed)
        letters = np.array(list("abcdefghijklmnopqrstuvwxyzаеиоуклмнпрст"))
        lengths = rng.integers(2, 11, size=vocabulary)
        self.words = ["".join(rng.choice(letters, size=n)) for n in lengths]
        weights = 1.0 / np.arange(1, vocabulary + 1) ** 1.05
        self.cdf = np.cumsum(weights / weights.sum())
        self.stock = [self._sentence(np.random.default_rng(10**9 + k)) for k in range(5000)]

    def _sentence(self, rng: np.random.Generator) -> str:
        picks = np.searchsorted(self.cdf, rng.random(int(rng.integers(8, 30))))
        return " ".join(self.words[min(int(i), len(self.words) - 1)] for i in picks) + "."

    def text(self, number: int) -> str:
        rng = np.random.default_rng(number)
        if number % 20 == 19 and number > 20:
            original = self.text(int(rng.integers(0, number - 1)))
            sentences = original.split(". ")
            del sentences[int(rng.integers(0, len(sentences)))]
            return "Our correspondent adds a line of context. " + ". ".join(sentences)
        sentences = [
            self.stock[int(rng.integers(0, len(self.stock)))]
            if rng.random() < 0.2
            else self._sentence(rng)
            for _ in range(int(rng.integers(15, 35)))
        ]
        return " ".join(sentences)

    def query(self, number: int, stored: int) -> str:
        """The number-th new article: a fifth are copies of stored ones, the rest new."""
        rng = np.random.default_rng(10**8 + number)
        if number % 5 == 0:
            original = self.text(int(rng.integers(0, stored)))
            return "Republished from a partner agency. " + original + " Subscribe to our feed."
        return self.text(10**7 + number)


def shingles(text: str) -> list[bytes]:
    """The same shingles crawler.storage.stories hashes, as bytes for datasketch."""
    found = words(text)
    size = min(SHINGLE_WORDS, len(found))
    return [" ".join(found[i : i + size]).encode() for i in range(len(found) - size + 1)]


def rss_mb() -> float:
    """This process's peak resident memory so far (VmHWM: unlike ru_maxrss, reset by exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- children ---------------------------------------------------------------------------------


Step = Callable[[int, str], bool]  # insert-and-query one new article; True if it joined


def measure(stored: int, queries: int, restore: Callable[[], Step]) -> dict[str, Any]:
    """Restore an index in this process, then time insert-and-query for each new article."""
    corpus = Corpus()
    texts = [corpus.query(i, stored) for i in range(queries)]
    before = rss_mb()
    started = time.perf_counter()
    step = restore()
    restore_s = time.perf_counter() - started
    costs, joined = [], 0
    for number, text in enumerate(texts):
        started = time.perf_counter()
        joined += step(number, text)
        costs.append(time.perf_counter() - started)
    return {
        "restore_s": restore_s,
        "median_ms": statistics.median(costs) * 1000,
        "p95_ms": float(np.percentile(costs, 95)) * 1000,
        "joined": joined,
        "rss_before_mb": before,
        "peak_rss_mb": rss_mb(),
        "rss_growth_mb": rss_mb() - before,
    }


def child_ours(work: Path, stored: int, queries: int) -> dict[str, Any]:
    def restore() -> Step:
        index = StoryIndex.load(
            open_database(work / "ours.db"), threshold=THRESHOLD, window_days=WINDOW
        )
        assert len(index) == stored, (len(index), stored)

        def step(number: int, text: str) -> bool:
            sig = signature(text)
            assert sig is not None
            match = index.find(sig)
            index.add(stored + number, match.story_id if match else stored + number, sig)
            return match is not None

        return step

    return measure(stored, queries, restore)


def child_datasketch(work: Path, stored: int, queries: int) -> dict[str, Any]:
    from datasketch import MinHash

    def restore() -> Step:
        with (work / "datasketch.pickle").open("rb") as handle:
            lsh = pickle.load(handle)

        def step(number: int, text: str) -> bool:
            minhash = MinHash(num_perm=NUM_PERM)
            minhash.update_batch(shingles(text))
            found = lsh.query(minhash)
            lsh.insert(f"q{number}", minhash)
            return bool(found)

        return step

    return measure(stored, queries, restore)


# --- set-up in the parent ---------------------------------------------------------------------


def build_state(work: Path, stored: int, with_datasketch: bool) -> dict[str, float]:
    """Write N articles' signatures into a state file (and a pickled datasketch LSH)."""
    corpus = Corpus()
    db = open_database(work / "ours.db")
    now = iso(datetime.now(UTC))
    started = time.perf_counter()
    signatures = []
    for number in range(stored):
        sig = signature(corpus.text(number))
        assert sig is not None
        signatures.append(sig)
    ours_sign = time.perf_counter() - started
    with db.atomic():
        db.execute("INSERT INTO stories (id, title, article_count) VALUES (1, 'bench', 0)")
        db.conn.executemany(
            "INSERT INTO articles (id, url, canonical_url, story_id) VALUES (?, ?, ?, 1)",
            ((n + 1, f"https://x.example/{n}", f"https://x.example/{n}") for n in range(stored)),
        )
        db.conn.executemany(
            "INSERT INTO article_signatures (article_id, seen_at, scheme, signature) "
            "VALUES (?, ?, ?, ?)",
            ((n + 1, now, SCHEME, s.astype("<u4").tobytes()) for n, s in enumerate(signatures)),
        )
    db.close()
    result = {"ours_signatures_s": ours_sign}
    if with_datasketch:
        from datasketch import MinHash, MinHashLSH

        started = time.perf_counter()
        lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
        for number in range(stored):
            minhash = MinHash(num_perm=NUM_PERM)
            minhash.update_batch(shingles(corpus.text(number)))
            lsh.insert(str(number), minhash)
        result["datasketch_build_s"] = time.perf_counter() - started
        with (work / "datasketch.pickle").open("wb") as handle:
            pickle.dump(lsh, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return result


def save_article_cost(work: Path, queries: int) -> dict[str, float]:
    """save_article with the index, on the restored state file: the real per-article write."""
    from alerts.outbox import enqueue

    corpus = Corpus()
    db = open_database(work / "ours.db")
    index = StoryIndex.load(db, threshold=THRESHOLD, window_days=WINDOW)
    stored = len(index)
    costs = []
    for number in range(min(queries, 300)):
        text = corpus.query(queries + number, stored)
        url = f"https://new.example/{number}"
        article = Article(url, url, "bench", "t", text, content_hash=content_hash(text))
        started = time.perf_counter()
        save_article(db, article, [], lambda _: (), enqueue, stories=index)
        costs.append(time.perf_counter() - started)
    db.close()
    return {"median_ms": statistics.median(costs) * 1000}


# --- the labelled set -------------------------------------------------------------------------


def labelled_figures(orders: int = 50) -> list[dict[str, float]]:
    articles = tomllib.loads((LABELLED / "labels.toml").read_text())["article"]
    texts = {a["id"]: (LABELLED / "articles" / f"{a['id']}.txt").read_text() for a in articles}
    sigs = {name: signature(text) for name, text in texts.items()}
    story = {a["id"]: a["story"] for a in articles}
    names = list(texts)
    pairs = list(itertools.combinations(names, 2))
    estimates = {(a, b): similarity(sigs[a], sigs[b]) for a, b in pairs}  # type: ignore[arg-type]
    rng = random.Random(7)
    shuffles = [names, names[::-1]] + [rng.sample(names, len(names)) for _ in range(orders - 2)]
    rows = []
    for threshold in (0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65):
        tp = sum(1 for p in pairs if story[p[0]] == story[p[1]] and estimates[p] >= threshold)
        fp = sum(1 for p in pairs if story[p[0]] != story[p[1]] and estimates[p] >= threshold)
        fn = sum(1 for p in pairs if story[p[0]] == story[p[1]] and estimates[p] < threshold)
        ctp = cfp = cfn = 0
        for order in shuffles:
            index = StoryIndex(threshold, WINDOW)
            assigned: dict[str, int] = {}
            for number, name in enumerate(order):
                match = index.find(sigs[name])  # type: ignore[arg-type]
                assigned[name] = match.story_id if match else number
                index.add(number, assigned[name], sigs[name])  # type: ignore[arg-type]
            for a, b in pairs:
                same, joined = story[a] == story[b], assigned[a] == assigned[b]
                ctp += same and joined
                cfp += joined and not same
                cfn += same and not joined
        rows.append(
            {
                "threshold": threshold,
                "pair_precision": tp / max(tp + fp, 1),
                "pair_recall": tp / (tp + fn),
                "story_precision": ctp / max(ctp + cfp, 1),
                "story_recall": ctp / (ctp + cfn),
            }
        )
    return rows


def run_child(kind: str, work: Path, stored: int, queries: int) -> dict[str, Any]:
    output = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            kind,
            "--work",
            str(work),
            "--stored",
            str(stored),
            "--queries",
            str(queries),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(output)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--child", choices=["ours", "datasketch"])
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    if args.child:
        child = child_ours if args.child == "ours" else child_datasketch
        print(json.dumps(child(args.work, args.stored, args.queries)))
        return 0
    try:
        import datasketch  # noqa: F401

        with_datasketch = True
    except ImportError:
        with_datasketch = False
        print("datasketch is not installed: the baseline is left out")

    report: dict[str, Any] = {"stored": args.stored, "queries": args.queries}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        report["build"] = build_state(work, args.stored, with_datasketch)
        report["ours"] = run_child("ours", work, args.stored, args.queries)
        if with_datasketch:
            report["datasketch"] = run_child("datasketch", work, args.stored, args.queries)
        report["save_article"] = save_article_cost(work, args.queries)
    report["labelled"] = labelled_figures()

    ours, base = report["ours"], report.get("datasketch")
    print(f"\nstory index with {args.stored:,} stored articles, {args.queries:,} new ones")
    print(f"{'':34} {'ours':>10} {'datasketch':>11} {'ratio':>7}")
    for key, label in (
        ("median_ms", "insert+query median ms"),
        ("p95_ms", "insert+query p95 ms"),
        ("restore_s", "restore s"),
        ("peak_rss_mb", "peak RSS MB"),
        ("rss_before_mb", "RSS before restore MB"),
        ("rss_growth_mb", "RSS growth (the index) MB"),
    ):
        theirs = f"{base[key]:11.3f}" if base else f"{'-':>11}"
        ratio = f"{ours[key] / base[key]:6.2f}x" if base else ""
        print(f"{label:34} {ours[key]:10.3f} {theirs} {ratio:>7}")
    print(
        f"{'copies joined (of ' + str(args.queries // 5) + ')':34} {ours['joined']:10d}"
        + (f" {base['joined']:11d}" if base else "")
    )
    build = report["build"]
    print(
        f"signatures for {args.stored:,} stored: ours {build['ours_signatures_s']:.1f} s"
        + (f", datasketch MinHash+LSH insert {build['datasketch_build_s']:.1f} s" if base else "")
    )
    print(
        f"save_article end to end (SQLite, synchronous=FULL): "
        f"{report['save_article']['median_ms']:.2f} ms median"
    )
    print("\nlabelled set (tests/data/dedup): precision / recall of duplicate pairs")
    print(
        f"{'threshold':>9} {'pairwise P':>11} {'pairwise R':>11} {'stories P':>10} "
        f"{'stories R':>10}"
    )
    for row in report["labelled"]:
        mark = "  <- default" if abs(row["threshold"] - THRESHOLD) < 1e-9 else ""
        print(
            f"{row['threshold']:9.2f} {row['pair_precision']:11.3f} {row['pair_recall']:11.3f} "
            f"{row['story_precision']:10.3f} {row['story_recall']:10.3f}{mark}"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"\nwritten {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
