"""Figures for the arrangement calculator and the nightly missed-instalment run.

Not a pass/fail test. Run: ``python bench/bench_arrangements.py``. Targets from the
issue: a plan of 120 instalments well under 1 ms; the nightly run over 100,000
arrangements in memory (pure domain, no database).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta

from agent_desk.domain.allocation import ArrangementRecord, Instalment, Payment, mark_missed
from agent_desk.domain.arrangements import Frequency, plan_by_count
from agent_desk.domain.policy import load_default_policy

START = date(2027, 1, 31)


def per_call_us(fn: Callable[[], object], calls: int, repeats: int = 7) -> list[float]:
    """Per-call time in µs, one figure per repeat of ``calls`` calls."""
    figures = []
    for _ in range(repeats):
        begin = time.perf_counter()
        for _ in range(calls):
            fn()
        figures.append((time.perf_counter() - begin) / calls * 1e6)
    return figures


def nightly_records(count: int, seed: int = 4) -> list[ArrangementRecord]:
    """Arrangements of 6-24 monthly instalments with a realistic mix of payers."""
    rng = random.Random(seed)
    records = []
    for key in range(count):
        start = START - timedelta(days=rng.randrange(0, 540))
        plan = plan_by_count(rng.randrange(20_000, 500_000), rng.randrange(6, 25), start)
        instalments = tuple(Instalment(i.number, i.due, i.amount) for i in plan.instalments)
        kind = rng.random()
        paid_count = len(instalments) if kind < 0.2 else rng.randrange(0, len(instalments))
        payments = tuple(
            Payment(i.due + timedelta(days=rng.randrange(-2, 12)), i.amount)
            for i in instalments[:paid_count]
        )
        records.append(ArrangementRecord(key, instalments, payments))
    return records


def main() -> None:
    figures = per_call_us(lambda: plan_by_count(1_234_567, 120, START, Frequency.MONTHLY), 2_000)
    print(
        f"plan_120_instalments_us  median={statistics.median(figures):.1f} "
        f"min={min(figures):.1f} max={max(figures):.1f}"
    )
    weekly = per_call_us(lambda: plan_by_count(1_234_567, 120, START, Frequency.WEEKLY), 2_000)
    print(f"plan_120_weekly_us  median={statistics.median(weekly):.1f} min={min(weekly):.1f}")

    policy = load_default_policy()
    records = nightly_records(100_000)
    instalment_total = sum(len(r.instalments) for r in records)
    runs = []
    changes = []
    for _ in range(3):
        begin = time.perf_counter()
        changes = mark_missed(records, date(2027, 3, 1), policy)
        runs.append(time.perf_counter() - begin)
    print(
        f"mark_missed_100000_arrangements_s  median={statistics.median(runs):.2f} "
        f"min={min(runs):.2f} instalments={instalment_total} changes={len(changes)}"
    )
    per_arrangement = statistics.median(runs) / len(records) * 1e6
    print(f"mark_missed_per_arrangement_us  median={per_arrangement:.1f}")


if __name__ == "__main__":
    main()
