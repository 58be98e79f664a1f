"""Matcher benchmark: a synthetic watchlist of 10,000 people over 20+ MB of news-like text.

Measures, side by side in one run:
  - compile time and peak memory of ``Matcher.compile`` (goal: <= 10 s, <= 1 GiB);
  - match throughput, MB/s of UTF-8 on one core, for
      newswatch  ``Matcher.match`` on every article (fold, scan, decide, explain);
      (a) re     one compiled Python ``re`` alternation of the same automaton keys,
                 with word boundaries, over the folded text (goal: newswatch >= 50x);
      (b) raw AC a bare Aho-Corasick scan (pyahocorasick ``iter``) of the folded text
                 with no decision logic: the floor (goal: newswatch >= 0.3x of it).
The ``re`` alternation of the same variants (per person: any given form, a space,
any family form, or family first) is far too slow for the whole corpus, so it
runs on a slice (``--re-slice`` articles) and the report says so; throughputs
compare per MB either way. A second, much easier re baseline only looks for the
automaton's own keys (family forms, with no given names and no decisions): a
lower bound for what any re approach costs.

Run: .venv/bin/python bench/match_bench.py [--people 10000] [--mb 20] [--re-slice 40]
Prints a small table and writes bench/out/match.json.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.config import Watch
from crawler.matching.inflect import FEMALE, MALE, kazakh_suffixes, russian_forms
from crawler.matching.matcher import Matcher
from crawler.matching.namelists import ENGLISH, KAZAKH, RUSSIAN
from crawler.matching.textnorm import fold, fold_key
from crawler.matching.translit import russian_reading, to_cyrillic
from crawler.matching.variants import person_forms

KAZAKH_FAMILY = """
Ахметов Жұмабаев Сериков Нұрланов Қасымов Омаров Әбдірахманов Сағынтаев Төлегенов Бокаев
Исмаилов Садықов Қалиев Ермеков Байжанов Мұқашев Сұлтанов Есенов Жақсыбеков Кенжебаев
Сауытбай Біләш Жақсыбек Сапарғали Нұрмағамбет Төлеген Әбдірахман Тоқаев Умаров Сейітов
Дәулетов Бекмұхамбетов Оспанов Мамыров Рахымов Тілеуов Бейсенов Жанұзақов Құрманов Әлиев
Шәкенов Иманғали Байболов Мырзахметов Әуезов Сәрсенбаев Жолдасбеков Мұратов Қожахметов Әлібеков
Серікбай Нұрпейіс Әміров Ғабдуллин Ыбырай Қайыржан Тұрсынов Бердібек Есімов Дүйсенов
"""
RUSSIAN_FAMILY = """
Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов Волков
Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев Макаров Никитин
Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев Кузьмин Фролов
Александров Дмитриев Королёв Гусев Киселёв
"""
ENGLISH_FAMILY = """
Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Martin
Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Hill
Green Adams Baker Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards
"""

_FILLER_TEXT = {
    "en": """
the court said on monday that a lawyer for the activist had filed an appeal against
sentence police detained journalists in almaty after protest ministry statement rights
human report officials region city week year international organisation committee
government hearing trial prison released charges according family
""",
    "ru": """
суд заявил в понедельник что адвокат активиста подал апелляцию на приговор полиция
задержала журналистов в алматы после акции министерство заявление права человека доклад
чиновники область город неделя год международная организация комитет правительство
заседание процесс тюрьма освобождён обвинения по словам семья
""",
    "kk": """
сот дүйсенбіде белсенді адвокаты шағым түсірді деп мәлімдеді полиция алматыда
журналистерді ұстады наразылық министрлік мәлімдеме адам құқықтары баяндама шенеуніктер
облыс қала апта жыл халықаралық ұйым комитет үкімет отырыс түрме босатылды айыптар отбасы
""",
}
FILLER = {lang: text.split() for lang, text in _FILLER_TEXT.items()}


def _female(given: str) -> bool:
    return given.lower().endswith(("а", "я", "a")) or given in {"Айгерім", "Айман", "Жанар"}


def _feminine(family: str) -> str:
    return family + "а" if family.endswith(("ов", "ев", "ёв", "ин")) else family


def _latin(cyrillic: str) -> str:
    from iuliia import WIKIPEDIA

    return str(WIKIPEDIA.translate(russian_reading(cyrillic)))


def watchlist(count: int, rng: random.Random) -> list[tuple[Watch, str, str, bool]]:
    """``count`` people: (watch, Cyrillic given, Cyrillic family, is female)."""
    pools = [
        (KAZAKH.split(), KAZAKH_FAMILY.split()),
        (RUSSIAN.split(), RUSSIAN_FAMILY.split()),
        (ENGLISH.split(), ENGLISH_FAMILY.split()),
    ]
    pairs = [(g, f, i) for i, (gs, fs) in enumerate(pools) for g in gs for f in fs]
    rng.shuffle(pairs)
    people = []
    seen: set[str] = set()
    for given, family, pool in pairs:
        if len(people) == count:
            break
        number = len(people)
        female = _female(given)
        if pool < 2:
            family = _feminine(family) if female else family
            name = f"{_latin(given)} {_latin(family)}"
            cyr_given, cyr_family = given, family
        else:
            name = f"{given} {family}"
            cyr_given = min(to_cyrillic(given)).title()
            cyr_family = min(to_cyrillic(family)).title()
        alias = f"{cyr_given} {cyr_family}"
        if fold_key(alias) in seen:
            continue  # Мадина and Мәдина are one name once folded
        seen.add(fold_key(alias))
        watch = Watch(
            id=f"p{number}",
            kind="person",
            name=name,
            aliases=(alias,),
            context=("Atajurt",) if number % 10 == 0 else (),
        )
        people.append((watch, cyr_given, cyr_family, female))
    return people


def mention(person: tuple[Watch, str, str, bool], lang: str, rng: random.Random) -> str:
    """One way an article names a watched person, in the article's language."""
    watch, given, family, female = person
    if lang == "en":
        first, last = watch.name.split(" ", 1)
        return rng.choice([watch.name, f"{last} {first}", f"{first[0]}. {last}", f"{watch.name}'s"])
    if lang == "ru":
        gender = FEMALE if female else MALE
        forms = sorted(russian_forms(family.lower(), "family", gender))
        return rng.choice([f"{given} {family}", f"{given} {rng.choice(forms).title()}"])
    return f"{given} {family}{rng.choice(sorted(kazakh_suffixes(fold_key(family))))}"


def corpus(
    people: list[tuple[Watch, str, str, bool]], megabytes: float, rng: random.Random
) -> tuple[list[str], list[set[str]]]:
    """News-like articles of ~400 words in English, Russian or Kazakh, with names mentioned,
    and the watch ids mentioned in each."""
    articles = []
    mentioned = []
    size = 0
    others = KAZAKH.split() + RUSSIAN.split()  # Cyrillic, like the family names they go with
    watched = {fold_key(f"{p[1]} {p[2]}"): p[0].id for p in people}
    while size < megabytes * 1_000_000:
        lang = rng.choice(("en", "ru", "kk"))
        words = rng.choices(FILLER[lang], k=400)
        ids = set()
        for at in rng.sample(range(len(words)), rng.randint(1, 4)):
            if rng.random() < 0.5:
                person = rng.choice(people)
                words[at] = mention(person, lang, rng)
                ids.add(person[0].id)
            else:  # someone else (mostly) with a watched family name
                _, _, family, _ = rng.choice(people)
                words[at] = f"{rng.choice(others)} {family}"
                if fold_key(words[at]) in watched:
                    ids.add(watched[fold_key(words[at])])
        text = " ".join(words) + "."
        text = text[0].upper() + text[1:]
        articles.append(text)
        mentioned.append(ids)
        size += len(text.encode("utf-8"))
    return articles, mentioned


def full_name_alternation(watches: list[Watch]) -> str:
    """One regex over folded text for every full-name variant the matcher recognises."""
    branches = []
    for watch in watches:
        person = person_forms(watch)
        assert person is not None
        given = "|".join(re.escape(g) for g in sorted(person.given, key=len, reverse=True))
        family = "|".join(re.escape(f) for f in sorted(person.family, key=len, reverse=True))
        branches.append(f"(?:{given}) (?:{family})")
        branches.append(f"(?:{family}) (?:{given})")
    return r"(?<!\w)(?:" + "|".join(branches) + r")(?!\w)"


def peak_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def throughput(articles: list[str], run: object) -> tuple[float, float, int]:
    """(MB/s, seconds, results) of ``run(article)`` over the articles."""
    assert callable(run)
    size = sum(len(a.encode("utf-8")) for a in articles) / 1_000_000
    results = 0
    started = time.perf_counter()
    for article in articles:
        results += run(article)
    seconds = time.perf_counter() - started
    return size / seconds, seconds, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--mb", type=float, default=20.0)
    parser.add_argument("--re-slice", type=int, default=10, help="articles the re baseline runs on")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    people = watchlist(args.people, rng)
    watches = [p[0] for p in people]
    before = peak_mib()
    started = time.perf_counter()
    matcher = Matcher.compile(watches)
    compile_s = time.perf_counter() - started
    compile_peak = peak_mib()
    keys = matcher.automaton_keys()

    articles, mentioned = corpus(people, args.mb, rng)
    corpus_mb = sum(len(a.encode("utf-8")) for a in articles) / 1_000_000
    expected = found = extra = 0
    for article, ids in zip(articles, mentioned, strict=True):
        got = {hit.watch_id for hit in matcher.match(article)}
        expected += len(ids)
        found += len(ids & got)
        extra += len(got - ids)

    ours = throughput(articles, lambda a: len(matcher.match(a)))
    automaton = matcher.automaton()
    assert automaton is not None
    raw = throughput(articles, lambda a: sum(1 for _ in automaton.iter(fold(a).text)))

    # (a) the same variants as one re alternation: per person, every given form then every
    # family form (and family first), with word boundaries. Very slow: a small slice.
    started = time.perf_counter()
    alternation = re.compile(full_name_alternation(watches))
    re_compile_s = time.perf_counter() - started
    sliced = articles[: args.re_slice]
    regex = throughput(sliced, lambda a: sum(1 for _ in alternation.finditer(fold(a).text)))
    ours_on_slice = throughput(sliced, lambda a: len(matcher.match(a)))
    # (a') a lower bound for any re: only the automaton's own keys, no given names, no decisions.
    keys_only = re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True)) + r")"
    )
    keys_slice = articles[: args.re_slice * 4]
    regex_keys = throughput(keys_slice, lambda a: sum(1 for _ in keys_only.finditer(fold(a).text)))
    ours_on_keys_slice = throughput(keys_slice, lambda a: len(matcher.match(a)))

    report = {
        "people": len(watches),
        "automaton_keys": len(keys),
        "compile_seconds": round(compile_s, 2),
        "peak_rss_mib_after_compile": round(compile_peak, 1),
        "rss_mib_before_compile": round(before, 1),
        "corpus_mb": round(corpus_mb, 1),
        "articles": len(articles),
        "synthetic_mentions": expected,
        "synthetic_recall": round(found / expected, 4),
        "synthetic_unexpected_hits": extra,
        "newswatch_mb_s": round(ours[0], 2),
        "newswatch_hits": ours[2],
        "raw_ac_mb_s": round(raw[0], 2),
        "raw_ac_matches": raw[2],
        "ratio_to_raw_ac": round(ours[0] / raw[0], 2),
        "re_compile_seconds": round(re_compile_s, 1),
        "re_slice_articles": len(sliced),
        "re_mb_s": round(regex[0], 5),
        "newswatch_mb_s_on_slice": round(ours_on_slice[0], 2),
        "ratio_to_re": round(ours_on_slice[0] / regex[0], 1),
        "re_keys_only_slice_articles": len(keys_slice),
        "re_keys_only_mb_s": round(regex_keys[0], 4),
        "ratio_to_re_keys_only": round(ours_on_keys_slice[0] / regex_keys[0], 1),
        "peak_rss_mib_end": round(peak_mib(), 1),
    }
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "match.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"watchlist: {report['people']} people, {report['automaton_keys']} automaton keys")
    print(
        f"compile: {compile_s:.2f} s, peak RSS {compile_peak:.0f} MiB "
        f"({before:.0f} MiB before compiling)"
    )
    print(f"corpus: {corpus_mb:.1f} MB UTF-8 in {len(articles)} articles")
    print(
        f"inserted mentions: {expected}, found {found} (recall {found / expected:.4f}), "
        f"{extra} hits not inserted"
    )
    print(f"{'':24}{'MB/s':>10}{'ratio':>10}")
    print(f"{'newswatch match':24}{ours[0]:10.2f}{'1.00':>10}  ({ours[2]} hits)")
    print(f"{'(b) raw AC scan, floor':24}{raw[0]:10.2f}{ours[0] / raw[0]:10.2f}  newswatch/raw")
    print(
        f"{'(a) re, same variants':24}{regex[0]:10.5f}{report['ratio_to_re']:10.1f}  newswatch/re "
        f"(on the first {len(sliced)} articles only; newswatch {ours_on_slice[0]:.2f} MB/s "
        f"there; re compile {re_compile_s:.1f} s)"
    )
    print(
        f"{'(a) re, keys only':24}{regex_keys[0]:10.4f}{report['ratio_to_re_keys_only']:10.1f}"
        f"  newswatch/re (first {len(keys_slice)} articles; finds family names only)"
    )


if __name__ == "__main__":
    main()
