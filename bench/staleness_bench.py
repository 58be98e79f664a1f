"""Staleness benchmark: how soon a stopped source is called stale, how often a healthy one is.

Simulates sources with publishing habits seen in newswatch's field (a 24/7 wire,
a daily news site, an office-hours outlet with long weekends, a small NGO blog,
a weekly column, a bursty regional site with holidays) polled by cron every 15
minutes for 240 days; each run that finds at least one new article is one
*arrival*, exactly what ``crawler.run.staleness`` records. For each rule it reports,
after a 30-day warm-up:

- **false alarms**: gaps between arrivals of the healthy source longer than the
  threshold the rule gave at the gap's start (each one a ``source.stale``
  notice the operator did not need), per source-month;
- **detection delay**: the source stops for good at a random moment (once a
  week, 30 stops per source); the time from the stop until the rule calls it
  stale (median and 90th percentile).

The rules compared are the one ``crawler.run.staleness`` uses (``learned``, its
``RULE``: 1.5 × the longest gap of the 30 days before the last arrival) and
others: fixed thresholds, multiples of the median gap, of the 90th-percentile
gap or of the longest gap, the longest of only the last 50 gaps, a 60-day
window. All share ``learn``'s window (unless named), its 1-day floor and its
7-day threshold before 4 gaps are known.

Run: .venv/bin/python bench/staleness_bench.py [--days 240] [--seeds 5]
Prints a table and writes bench/out/staleness.json.
"""

from __future__ import annotations

import argparse
import bisect
import dataclasses
import json
import math
import random
import statistics
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.run.staleness import DAY, RULE, Rule, learn

HOUR = 3600.0
POLL = 15 * 60.0
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
WARM_UP = 30 * DAY

# A habit: given a random generator and the day number, the day's publication times (seconds
# from START).
Habit = Callable[[random.Random, int], list[float]]


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method; means here are small.
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _spread(rng: random.Random, day: int, mean: float, start_h: float, end_h: float) -> list[float]:
    return [
        day * DAY + rng.uniform(start_h, end_h) * HOUR for _ in range(_poisson(rng, mean))
    ]


def wire(rng: random.Random, day: int) -> list[float]:
    """An agency wire: about 3 an hour, day and night, every day."""
    return _spread(rng, day, 72, 0, 24)


def daily_site(rng: random.Random, day: int) -> list[float]:
    """A daily news site: ~2 an hour 7-22h on weekdays, ~0.5 an hour 9-20h at weekends."""
    if day % 7 < 5:
        return _spread(rng, day, 30, 7, 22)
    return _spread(rng, day, 5.5, 9, 20)


def office_hours(rng: random.Random, day: int) -> list[float]:
    """An outlet that publishes 9-18h on weekdays only (~1 an hour), with a long weekend (a
    Monday off) once a month."""
    if day % 7 >= 5 or (day % 28 == 21):
        return []
    return _spread(rng, day, 9, 9, 18)


def ngo_blog(rng: random.Random, day: int) -> list[float]:
    """A small NGO's news page: about 3 posts a week, weekdays, office hours."""
    if day % 7 >= 5:
        return []
    return _spread(rng, day, 0.6, 9, 18)


def weekly(rng: random.Random, day: int) -> list[float]:
    """A weekly column: once a week, Thursday give or take a day."""
    if day % 7 != 3:
        return []
    return [(day + rng.choice((-1, 0, 0, 0, 1))) * DAY + rng.uniform(8, 18) * HOUR]


def bursty_regional(rng: random.Random, day: int) -> list[float]:
    """A regional site: 0-8 a day (mean 3), and a 5-day holiday break once a quarter."""
    if day % 90 in range(40, 45):
        return []
    return _spread(rng, day, 3, 8, 20)


HABITS: dict[str, Habit] = {
    "wire 24/7": wire,
    "daily news site": daily_site,
    "office hours, long weekends": office_hours,
    "NGO blog, ~3 a week": ngo_blog,
    "weekly column": weekly,
    "bursty regional, holidays": bursty_regional,
}


def _times(moments: list[float]) -> list[datetime]:
    return [START + timedelta(seconds=moment) for moment in moments]


def arrivals(habit: Habit, days: int, seed: int) -> list[float]:
    """Run times (seconds from START) at which the source gave at least one new article."""
    rng = random.Random(seed)
    runs = {math.ceil(moment / POLL) * POLL for day in range(days) for moment in habit(rng, day)}
    return sorted(runs)


# A rule: the arrival times of the window (datetimes) -> the threshold in seconds.
Rule_ = Callable[[list[datetime]], float]


def _p90(gaps: tuple[float, ...]) -> float:
    ordered = sorted(gaps)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def _on_gaps(measure: Callable[[tuple[float, ...]], float], rule: Rule = RULE) -> Rule_:
    """A rule from a measure of the learned gaps, with ``learn``'s floor and unlearned default."""

    def threshold(window: list[datetime]) -> float:
        rhythm = learn(window, rule)
        if not rhythm.learned:
            return rhythm.stale_after
        return max(rule.floor, measure(rhythm.gaps))

    return threshold


RULES: dict[str, Rule_] = {
    "fixed 1 day": lambda window: DAY,
    "fixed 3 days": lambda window: 3 * DAY,
    "4 × median gap": _on_gaps(lambda gaps: 4 * statistics.median(gaps)),
    "3 × p90 gap": _on_gaps(_p90),
    "1.5 × longest of last 50 gaps": lambda window: learn(
        window, dataclasses.replace(RULE, max_gaps=50)
    ).stale_after,
    "2 × longest gap": _on_gaps(lambda gaps: 2 * max(gaps)),
    "1.5 × longest, 60-day window": lambda window: learn(
        window, dataclasses.replace(RULE, window=60 * DAY)
    ).stale_after,
    "learned (crawler.run.staleness)": lambda window: learn(window).stale_after,
}


def evaluate(times: list[float], rule: Rule_, days: int, seed: int) -> dict[str, Any]:
    """False alarms per month and detection delays of one rule on one arrival history.

    A threshold is never below a day, so only the arrivals before a gap of over a day can
    start a false alarm, and a stop is judged at the arrival before it: the rule is asked
    only there (with the window ``learn`` would read: 60 days back is enough for all).
    """
    stamps = _times(times)
    cache: dict[int, float] = {}

    def threshold(index: int) -> float:
        if index not in cache:
            first = bisect.bisect_left(times, times[index] - 60 * DAY)
            cache[index] = rule(stamps[first : index + 1])
        return cache[index]

    alarms = sum(
        1
        for index in range(len(times) - 1)
        if times[index] >= WARM_UP
        and times[index + 1] - times[index] > DAY
        and times[index + 1] - times[index] > threshold(index)
    )
    months = (days * DAY - WARM_UP) / (30 * DAY)
    rng = random.Random(seed + 7919)
    delays = []
    stop = WARM_UP + rng.uniform(0, 7 * DAY)
    while stop < days * DAY - 60 * DAY:
        last = bisect.bisect_right(times, stop) - 1
        if last >= 0:
            delays.append(max(0.0, times[last] + threshold(last) - stop))
        stop += 7 * DAY
    return {"alarms": alarms, "months": months, "delays": delays}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=240)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, dict[str, dict[str, float]]] = {}
    for habit_name, habit in HABITS.items():
        histories = [arrivals(habit, args.days, seed) for seed in range(args.seeds)]
        for rule_name, rule in RULES.items():
            alarms = months = 0.0
            delays: list[float] = []
            for seed, times in enumerate(histories):
                found = evaluate(times, rule, args.days, seed)
                alarms += found["alarms"]
                months += found["months"]
                delays += found["delays"]
            delays.sort()
            results.setdefault(habit_name, {})[rule_name] = {
                "false_alarms_per_month": alarms / months,
                "delay_median_h": statistics.median(delays) / HOUR,
                "delay_p90_h": delays[int(0.9 * (len(delays) - 1))] / HOUR,
            }
    width = max(len(name) for name in RULES)
    for habit_name, rules in results.items():
        print(f"\n{habit_name}")
        print(f"  {'rule':<{width}}  false alarms/month  delay median  delay p90")
        for rule_name, figures in rules.items():
            print(
                f"  {rule_name:<{width}}  {figures['false_alarms_per_month']:>18.2f}"
                f"  {_show(figures['delay_median_h']):>12}  {_show(figures['delay_p90_h']):>9}"
            )
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "staleness.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


def _show(hours: float) -> str:
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.1f} d"


if __name__ == "__main__":
    main()
