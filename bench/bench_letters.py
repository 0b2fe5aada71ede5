"""Benchmark: one arrangement letter (warm) and a batch of 1,000 letters on 2 processes.

Run: ``python bench/bench_letters.py [--runs 50] [--batch 1000] [--workers 2]``.
Targets (issue 6): one letter under 50 ms warm; 1,000 letters under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from agent_desk.letters import render_batch, render_pdf
from agent_desk.letters.examples import example_arrangement


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    data = example_arrangement("nl", 12)
    render_pdf(data)  # warm up: fonts, styles, imports
    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        render_pdf(data)
        timings.append((time.perf_counter() - started) * 1000)
    print(
        f"letter_arrangement_warm_ms median={statistics.median(timings):.1f} "
        f"p95={sorted(timings)[int(0.95 * (len(timings) - 1))]:.1f} runs={args.runs}"
    )

    long_data = example_arrangement("nl", 60)
    render_pdf(long_data)
    long_timings = []
    for _ in range(max(5, args.runs // 5)):
        started = time.perf_counter()
        render_pdf(long_data)
        long_timings.append((time.perf_counter() - started) * 1000)
    print(f"letter_arrangement_60_warm_ms median={statistics.median(long_timings):.1f}")

    items = [
        example_arrangement("nl" if i % 2 else "en", 12, reference=f"AD-BENCH-{i:05d}")
        for i in range(args.batch)
    ]
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        summary = render_batch(items, out, workers=args.workers)
        seconds = time.perf_counter() - started
    print(
        f"letters_batch_seconds total={seconds:.1f} letters={args.batch} "
        f"workers={args.workers} written={len(summary.written)} failed={len(summary.failed)} "
        f"per_letter_ms={seconds * 1000 / max(1, args.batch):.1f}"
    )


if __name__ == "__main__":
    main()
