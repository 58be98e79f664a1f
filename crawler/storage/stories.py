"""Near-duplicate stories: MinHash signatures over word shingles, an LSH index of recent articles.

An article's main text is normalised (NFKC, casefold) and cut into overlapping runs of
``SHINGLE_WORDS`` words. Each run is hashed to 64 bits, and ``NUM_PERM`` hash functions
of the multiply-shift family each keep their smallest value: that is the article's
signature (``NUM_PERM`` × uint32, 512 bytes). The share of equal positions in two
signatures estimates the Jaccard similarity of the two shingle sets.

``StoryIndex`` holds the signatures of the articles seen in the last ``window_days`` and
finds the story a new text belongs to: LSH bands (``lsh_params``) propose candidates,
and a candidate counts only when its estimated Jaccard reaches ``threshold``. The index
lives in memory for one cycle; ``article_signatures`` in the state file persists it, and
``StoryIndex.load`` rebuilds it (and forgets signatures older than the window) at start.

The same idea as datasketch's ``MinHash`` + ``MinHashLSH``, built for this use: words are
hashed once and shingles combined in numpy, a hash family without a modulo, and the
index is one sorted array of band keys instead of a dict per band, so restoring 100,000
articles takes a fraction of a second and a fraction of the memory (see
``bench/dedup_bench.py``).
"""

from __future__ import annotations

import logging
import re
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import sqlite_utils

from crawler import clock
from crawler.clock import iso
from crawler.db import write_transaction
from crawler.matching.searchkey import search_key
from crawler.matching.textnorm import fold, tokenize
from crawler.models import Article, Hit

__all__ = [
    "CROSS_THRESHOLD",
    "MAX_ROWS",
    "NUM_PERM",
    "SCHEME",
    "SHINGLE_WORDS",
    "CrossIndex",
    "Entities",
    "Signature",
    "StoryIndex",
    "StoryMatch",
    "cross_similarity",
    "entities",
    "lsh_params",
    "published_day",
    "save_entities",
    "save_signature",
    "shingle_hashes",
    "signature",
    "similarity",
    "words",
]

log = logging.getLogger(__name__)

Signature: TypeAlias = npt.NDArray[np.uint32]
_U64: TypeAlias = npt.NDArray[np.uint64]

NUM_PERM = 128
"""Hash functions per signature: the estimate's standard error is sqrt(J(1-J)/128) <= 0.044."""

SHINGLE_WORDS = 4
"""Words per shingle; chosen on the labelled set in tests/data/dedup (see bench/README.md)."""

# The constants are part of every stored signature: change the seed, the sizes or the
# mixing, and SCHEME must change with them (stored rows of another scheme are recomputed).
_SEED = 20261116
SCHEME = f"minhash-ms64:w{SHINGLE_WORDS}:p{NUM_PERM}:s{_SEED}"

_rng = np.random.Generator(np.random.PCG64(_SEED))
_WORD_COEFFS: _U64 = _rng.integers(1, 2**64, size=SHINGLE_WORDS, dtype=np.uint64) | np.uint64(1)
_PERM_A: _U64 = _rng.integers(1, 2**64, size=NUM_PERM, dtype=np.uint64) | np.uint64(1)
_PERM_B: _U64 = _rng.integers(0, 2**64, size=NUM_PERM, dtype=np.uint64)
_BAND_COEFFS: _U64 = _rng.integers(1, 2**64, size=NUM_PERM, dtype=np.uint64) | np.uint64(1)
_BAND_SALTS: _U64 = _rng.integers(0, 2**64, size=NUM_PERM, dtype=np.uint64)
del _rng

# Words: runs of letters and digits in any script, as textnorm.tokenize finds them. The text
# is normalised here the way extract.content_hash does it (NFKC, casefold), not with
# textnorm.fold: stored signatures must not change when matching learns a new spelling.
_WORD = re.compile(r"[^\W_]+")

_MIN_RECALL_AT_THRESHOLD = 0.99
_LOAD_CHUNK = 8192  # rows per step when restoring, to bound the temporary arrays
# Restored band keys keep their top 40 bits and carry their row number in the low 24, so
# one plain sort (no argsort, no gather) makes them searchable. A false match of 40 bits
# only adds a candidate, which the similarity check then drops.
_ROW_BITS = 24
MAX_ROWS = (1 << _ROW_BITS) - 1
"""Signatures restored at most (the newest); about 16.7 million articles in the window."""
_ROW_MASK = np.uint64(MAX_ROWS)
_KEY_MASK = ~_ROW_MASK


def _mix(values: _U64) -> _U64:
    """splitmix64's finaliser, in place on an array: every input bit reaches every output bit."""
    values ^= values >> np.uint64(30)
    values *= np.uint64(0xBF58476D1CE4E5B9)
    values ^= values >> np.uint64(27)
    values *= np.uint64(0x94D049BB133111EB)
    values ^= values >> np.uint64(31)
    return values


def words(text: str) -> list[str]:
    """The normalised words shingles are made of."""
    found: list[str] = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    return found


def shingle_hashes(text: str) -> _U64:
    """The distinct 64-bit hashes of a text's runs of ``SHINGLE_WORDS`` normalised words."""
    tokens = words(text)
    if not tokens:
        return np.empty(0, dtype=np.uint64)
    word_hashes = np.fromiter(
        (zlib.crc32(word.encode("utf-8")) for word in tokens), dtype=np.uint64, count=len(tokens)
    )
    size = min(SHINGLE_WORDS, len(tokens))  # a text shorter than a shingle is one shingle
    count = len(tokens) - size + 1
    combined = np.zeros(count, dtype=np.uint64)
    for offset in range(size):
        combined += word_hashes[offset : offset + count] * _WORD_COEFFS[offset]
    return np.unique(_mix(combined))


def signature(text: str) -> Signature | None:
    """The MinHash signature of a text, or None when it has no words."""
    hashes = shingle_hashes(text)
    if hashes.size == 0:
        return None
    # (a·x + b) mod 2^64, top 32 bits: multiply-shift hashing, one function per column.
    values = np.multiply.outer(hashes, _PERM_A)
    values += _PERM_B
    values >>= np.uint64(32)
    result: Signature = values.min(axis=0).astype(np.uint32)
    return result


def similarity(a: Signature, b: Signature) -> float:
    """The estimated Jaccard similarity of the texts behind two signatures."""
    return float(np.count_nonzero(a == b)) / NUM_PERM


def lsh_params(threshold: float, num_perm: int = NUM_PERM) -> tuple[int, int]:
    """Bands and rows per band for an LSH index confirming candidates at ``threshold``.

    A pair of Jaccard similarity J shares at least one band with probability
    1 - (1 - J^rows)^bands. Candidates are confirmed on their estimated Jaccard, so a
    false candidate costs only a comparison, while a missed one is a missed duplicate:
    take the most rows per band (fewest false candidates) that still propose a pair at
    the threshold with probability >= 0.99.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if 1.0 - (1.0 - threshold**rows) ** bands < _MIN_RECALL_AT_THRESHOLD:
            break
        best = (bands, rows)
    return best


def _band_keys(signatures: Signature, bands: int, rows: int) -> _U64:
    """One 64-bit key per (row, band) of a 2-D signature array; equal band -> equal key."""
    used = signatures[:, : bands * rows].astype(np.uint64).reshape(len(signatures), bands, rows)
    used *= _BAND_COEFFS[:rows]
    keys = used.sum(axis=2, dtype=np.uint64)
    keys += _BAND_SALTS[:bands]  # the same values in two bands are different keys
    return _mix(keys)


@dataclass(frozen=True)
class StoryMatch:
    """The stored article a new text is a near-duplicate of, and how similar they are."""

    story_id: int
    article_id: int
    similarity: float


class StoryIndex:
    """MinHash signatures of recent articles, searchable by LSH, for one cycle.

    Rows restored at start sit in one sorted array of band keys, each packed with its row
    number (searched with ``np.searchsorted``); rows added during the cycle go to a dict
    of band keys. Call ``add`` only after the article's transaction committed.
    """

    def __init__(self, threshold: float, window_days: int) -> None:
        self.threshold = threshold
        self.window_days = window_days
        self.bands, self.rows = lsh_params(threshold)
        self._signatures: Signature = np.empty((0, NUM_PERM), dtype=np.uint32)
        self._story_ids = np.empty(0, dtype=np.int64)
        self._article_ids = np.empty(0, dtype=np.int64)
        self._size = 0
        self._packed: _U64 = np.empty(0, dtype=np.uint64)  # (key & _KEY_MASK) | row, sorted
        self._recent: dict[int, list[int]] = {}
        self.cross = CrossIndex()  # articles with hits, for their versions in other languages

    def __len__(self) -> int:
        return self._size

    @classmethod
    def load(
        cls,
        db: sqlite_utils.Database,
        *,
        threshold: float,
        window_days: int,
        now: datetime | None = None,
    ) -> StoryIndex:
        """Restore the index from ``article_signatures``, dropping rows older than the window.

        Rows stored under another ``SCHEME`` are recomputed from the article text and
        stored again, so a change of hashing costs one slow start, not lost stories.
        """
        index = cls(threshold, window_days)
        cutoff = iso((now or clock.now()) - timedelta(days=window_days))
        with write_transaction(db):
            db.execute("DELETE FROM article_signatures WHERE seen_at < ?", [cutoff])
            _recompute_other_schemes(db)
        count = int(db.execute("SELECT COUNT(*) FROM article_signatures").fetchone()[0])
        first = 0
        if count > MAX_ROWS:  # keep the newest
            first = int(
                db.execute(
                    "SELECT article_id FROM article_signatures ORDER BY article_id DESC "
                    "LIMIT 1 OFFSET ?",
                    [MAX_ROWS - 1],
                ).fetchone()[0]
            )
        index._grow(min(count, MAX_ROWS))
        cursor = db.execute(
            "SELECT s.article_id, a.story_id, s.signature FROM article_signatures AS s "
            "JOIN articles AS a ON a.id = s.article_id "
            "WHERE s.article_id >= ? AND a.story_id IS NOT NULL ORDER BY s.article_id",
            [first],
        )
        keys: list[_U64] = []
        while chunk := cursor.fetchmany(_LOAD_CHUNK):
            signatures = np.frombuffer(b"".join(row[2] for row in chunk), dtype="<u4")
            keys.append(
                index._append(
                    np.fromiter((row[0] for row in chunk), dtype=np.int64, count=len(chunk)),
                    np.fromiter((row[1] for row in chunk), dtype=np.int64, count=len(chunk)),
                    signatures.reshape(len(chunk), NUM_PERM).astype(np.uint32),
                )
            )
        index._sort(keys)
        index.cross = CrossIndex.load(db, window_days=window_days, now=now)
        log.info(
            "dedup: %d signatures from the last %d days restored (%d bands x %d rows)",
            len(index),
            window_days,
            index.bands,
            index.rows,
        )
        return index

    def _append(
        self,
        article_ids: npt.NDArray[np.int64],
        story_ids: npt.NDArray[np.int64],
        signatures: Signature,
    ) -> _U64:
        """Store rows at the end of the arrays; return their band keys packed with the rows."""
        start = self._size
        self._grow(len(signatures))
        self._signatures[start : start + len(signatures)] = signatures
        self._story_ids[start : start + len(signatures)] = story_ids
        self._article_ids[start : start + len(signatures)] = article_ids
        self._size += len(signatures)
        packed = _band_keys(signatures, self.bands, self.rows)
        packed &= _KEY_MASK
        packed |= np.arange(start, self._size, dtype=np.uint64)[:, None]
        return packed

    def _sort(self, keys: list[_U64]) -> None:
        """Make restored rows searchable: their packed band keys in one sorted array."""
        if not keys:
            return
        packed = np.concatenate([chunk.ravel() for chunk in keys])
        packed.sort()
        self._packed = packed

    def _grow(self, extra: int) -> None:
        needed = self._size + extra
        if needed <= len(self._signatures):
            return
        capacity = max(needed, 2 * len(self._signatures), 64)
        for name in ("_signatures", "_story_ids", "_article_ids"):
            old = getattr(self, name)
            new = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
            new[: self._size] = old[: self._size]
            setattr(self, name, new)

    signature = staticmethod(signature)

    def store(
        self, db: sqlite_utils.Database, article_id: int, sig: Signature, seen_at: str
    ) -> None:
        """Persist an article's signature; call inside the article's transaction, then ``add``."""
        save_signature(db, article_id, sig, seen_at)

    def add(self, article_id: int, story_id: int, sig: Signature) -> None:
        """Make a stored article findable by the texts that follow it in this cycle."""
        row = self._size
        self._grow(1)
        self._signatures[row] = sig
        self._story_ids[row] = story_id
        self._article_ids[row] = article_id
        self._size += 1
        for key in _band_keys(sig.reshape(1, NUM_PERM), self.bands, self.rows)[0].tolist():
            self._recent.setdefault(key, []).append(row)

    def _candidates(self, sig: Signature) -> npt.NDArray[np.int64]:
        keys = _band_keys(sig.reshape(1, NUM_PERM), self.bands, self.rows)[0]
        found: list[npt.NDArray[np.int64]] = []
        if len(self._packed):
            masked = keys & _KEY_MASK
            low = np.searchsorted(self._packed, masked, side="left")
            high = np.searchsorted(self._packed, masked | _ROW_MASK, side="right")
            for start, stop in zip(
                low[high > low].tolist(), high[high > low].tolist(), strict=True
            ):
                found.append((self._packed[start:stop] & _ROW_MASK).astype(np.int64))
        if self._recent:
            recent = [row for key in keys.tolist() for row in self._recent.get(key, ())]
            if recent:
                found.append(np.asarray(recent, dtype=np.int64))
        if not found:
            return np.empty(0, dtype=np.int64)
        return np.unique(np.concatenate(found))

    def find(self, sig: Signature) -> StoryMatch | None:
        """The most similar indexed article at or above the threshold, or None.

        Ties go to the earliest indexed article, so a story keeps its first members.
        """
        rows = self._candidates(sig)
        if rows.size == 0:
            return None
        scores = np.count_nonzero(self._signatures[rows] == sig, axis=1)
        best = int(np.argmax(scores))  # first of the maxima: the earliest row
        score = int(scores[best]) / NUM_PERM
        if score < self.threshold:
            return None
        row = int(rows[best])
        return StoryMatch(int(self._story_ids[row]), int(self._article_ids[row]), score)


def save_signature(
    db: sqlite_utils.Database, article_id: int, sig: Signature, seen_at: str
) -> None:
    """Store (or replace) an article's signature; call inside the article's transaction."""
    db.execute(
        "INSERT OR REPLACE INTO article_signatures (article_id, seen_at, scheme, signature) "
        "VALUES (?, ?, ?, ?)",
        [article_id, seen_at, SCHEME, sig.astype("<u4").tobytes()],
    )


def _recompute_other_schemes(db: sqlite_utils.Database) -> None:
    stale = [
        row[0]
        for row in db.execute(
            "SELECT article_id FROM article_signatures WHERE scheme != ?", [SCHEME]
        ).fetchall()
    ]
    for start in range(0, len(stale), 500):  # texts a batch at a time, not all at once
        batch = stale[start : start + 500]
        rows = db.execute(
            "SELECT s.article_id, s.seen_at, a.text FROM article_signatures AS s "
            "JOIN articles AS a ON a.id = s.article_id "
            f"WHERE s.article_id IN ({', '.join('?' * len(batch))})",
            batch,
        ).fetchall()
        for article_id, seen_at, text in rows:
            sig = signature(text or "")
            if sig is None:
                db.execute("DELETE FROM article_signatures WHERE article_id = ?", [article_id])
            else:
                save_signature(db, article_id, sig, seen_at)
    if stale:
        log.info("dedup: %d signatures recomputed for scheme %s", len(stale), SCHEME)


# --- one story across languages -------------------------------------------------------------
#
# A translation or a retelling shares almost no 4-word shingle with its original, but it
# names the same people, places and organisations and repeats the same numbers. Those are
# compared instead: the search keys (crawler.matching.searchkey: one key for a word in any
# script and case form) of an article's capitalised words and its numbers, leaving out the watched
# people's own names, which every story about them shares. Two articles in different
# languages join one story when they name the same watched person, were published within
# CROSS_WINDOW_DAYS of each other, share at least CROSS_MIN_SHARED such words and their
# Jaccard similarity reaches CROSS_THRESHOLD (tuned on tests/data/xlang; bench/README.md).

CROSS_THRESHOLD = 0.15
CROSS_MIN_SHARED = 3
CROSS_WINDOW_DAYS = 3
_NUMBER_GROUPS = re.compile(r"(?<=\d)[,.\u00a0\u202f ](?=\d{3}(?!\d))")  # 2,500 / 2 500: 2500
_MIN_NAME_LETTERS = 3


@dataclass(frozen=True)
class Entities:
    """What a cross-language join compares: names and numbers, and the watched people."""

    words: frozenset[str]
    watches: frozenset[str]


def entities(text: str, hits: Sequence[Hit] = ()) -> Entities:
    """The search keys of ``text``'s capitalised words and its numbers, except the words of
    the hits' mentions (the watched names), and the watches the hits name."""
    text = _NUMBER_GROUPS.sub("", text)
    folded = fold(text)
    tokens = tokenize(folded)
    covered = sorted(span for hit in hits for span in (hit.mentions or ((hit.start, hit.end),)))
    words: set[str] = set()
    for word, start in zip(tokens.words, tokens.starts, strict=True):
        if word.isdigit():
            words.add(word)
            continue
        at = folded.to_original(start)
        if len(word) < _MIN_NAME_LETTERS or not text[at].isupper() or not word.isalpha():
            continue
        if any(first <= at < last for first, last in covered):
            continue
        words.update(search_key(word))
    return Entities(frozenset(words), frozenset(hit.watch_id for hit in hits))


def cross_similarity(a: Entities, b: Entities) -> float:
    """The Jaccard similarity of two articles' names and numbers (0 if they share too few)."""
    shared = len(a.words & b.words)
    if shared < CROSS_MIN_SHARED:
        return 0.0
    return shared / len(a.words | b.words)


def published_day(article: Article) -> int | None:
    """The article's publication day (else the day it was fetched) as an ordinal, if known."""
    for value in (article.published_at, article.fetched_at):
        if value:
            try:
                return clock.parse(value).date().toordinal()
            except ValueError:
                continue
    return None


@dataclass(frozen=True)
class _CrossRow:
    article_id: int
    story_id: int
    language: str
    day: int
    entities: Entities


class CrossIndex:
    """Recent articles with hits, by the names and numbers they share, for one cycle."""

    def __init__(self, threshold: float = CROSS_THRESHOLD, window_days: int = CROSS_WINDOW_DAYS):
        self.threshold = threshold
        self.window_days = window_days
        self._rows: list[_CrossRow] = []
        self._by_watch: dict[str, list[int]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, article_id: int, story_id: int, language: str, day: int, found: Entities) -> None:
        """Make a stored article with hits findable by its versions in other languages."""
        row = len(self._rows)
        self._rows.append(_CrossRow(article_id, story_id, language, day, found))
        for watch in found.watches:
            self._by_watch.setdefault(watch, []).append(row)

    def find(self, language: str, day: int, found: Entities) -> StoryMatch | None:
        """The most similar article in another language about the same watched people,
        published within the window, at or above the threshold; ties go to the earliest."""
        best: tuple[float, int] | None = None
        rows = sorted({r for watch in found.watches for r in self._by_watch.get(watch, ())})
        for index in rows:
            row = self._rows[index]
            if row.language == language or abs(row.day - day) > self.window_days:
                continue
            score = cross_similarity(found, row.entities)
            if score >= self.threshold and (best is None or score > best[0]):
                best = (score, index)
        if best is None:
            return None
        row = self._rows[best[1]]
        return StoryMatch(row.story_id, row.article_id, best[0])

    @classmethod
    def load(
        cls, db: sqlite_utils.Database, *, window_days: int, now: datetime | None = None
    ) -> CrossIndex:
        """Restore the entities of articles with hits seen in the last ``window_days``."""
        index = cls()
        cutoff = iso((now or clock.now()) - timedelta(days=max(window_days, CROSS_WINDOW_DAYS)))
        rows = db.execute(
            "SELECT e.article_id, a.story_id, e.language, e.day, e.words, e.watches "
            "FROM article_entities AS e JOIN articles AS a ON a.id = e.article_id "
            "WHERE e.seen_at >= ? AND a.story_id IS NOT NULL ORDER BY e.article_id",
            [cutoff],
        ).fetchall()
        for article_id, story_id, language, day, words, watches in rows:
            found = Entities(frozenset(words.split()), frozenset(watches.split()))
            index.add(int(article_id), int(story_id), language, int(day), found)
        return index


def save_entities(
    db: sqlite_utils.Database,
    article_id: int,
    language: str,
    day: int,
    found: Entities,
    seen_at: str,
) -> None:
    """Store (or replace) an article's entities; call inside the article's transaction."""
    db.execute(
        "INSERT OR REPLACE INTO article_entities (article_id, seen_at, language, day, words, "
        "watches) VALUES (?, ?, ?, ?, ?, ?)",
        [article_id, seen_at, language, day, " ".join(sorted(found.words)),
         " ".join(sorted(found.watches))],
    )  # fmt: skip
