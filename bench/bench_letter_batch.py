"""Letter batch against plain reportlab, in the same run (issue 17: >= 0.7x).

Run: ``python bench/bench_letter_batch.py [--letters 1000] [--workers 2] [--runs 5]``.

* project: ``agent_desk.letters.render_batch`` (what ``agent-desk letters`` runs):
  validated, page "x of y", fonts embedded, written atomically with fsync, SHA-256.
* anchor: plain reportlab platypus rendering the same letters (the same flowables in a
  ``SimpleDocTemplate`` with the default canvas), written with a plain ``write``, on
  the same number of spawned processes, a chunk of letters per task.
Both include starting their worker processes. Runs alternate; medians are printed.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.platypus import SimpleDocTemplate

from agent_desk.letters import render_batch
from agent_desk.letters.data import ArrangementLetterData
from agent_desk.letters.examples import example_arrangement
from agent_desk.letters.render import story
from agent_desk.letters.style import register_fonts


def _plain(items: list[tuple[str, ArrangementLetterData]], out: str) -> int:
    register_fonts()
    for name, data in items:
        buffer = io.BytesIO()
        SimpleDocTemplate(buffer, pagesize=A4).build(story(data))
        (Path(out) / name).write_bytes(buffer.getvalue())
    return len(items)


def anchor(items: list[ArrangementLetterData], workers: int, out: str) -> float:
    started = time.perf_counter()
    named = [(f"plain-{i:05d}.pdf", d) for i, d in enumerate(items)]
    size = max(1, min(16, len(named) // (workers * 4)))
    chunks = [named[i : i + size] for i in range(0, len(named), size)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        done = sum(pool.map(_plain, chunks, [out] * len(chunks)))
    assert done == len(items)
    return time.perf_counter() - started


def project(items: list[ArrangementLetterData], workers: int, out: str) -> float:
    started = time.perf_counter()
    summary = render_batch(items, out, workers=workers)
    assert len(summary.written) == len(items), summary.failed[:3]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--letters", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    items = [
        example_arrangement("nl" if i % 2 else "en", 12, reference=f"AD-BENCH-{i:05d}")
        for i in range(args.letters)
    ]
    anchors: list[float] = []
    projects: list[float] = []
    for run in range(args.runs):
        for which in ("anchor", "project") if run % 2 == 0 else ("project", "anchor"):
            with tempfile.TemporaryDirectory() as out:
                if which == "anchor":
                    anchors.append(anchor(items, args.workers, out))
                else:
                    projects.append(project(items, args.workers, out))
    a, p = statistics.median(anchors), statistics.median(projects)
    print(
        f"letter_batch letters={args.letters} workers={args.workers} runs={args.runs}  "
        f"anchor(plain reportlab)={args.letters / a:.1f}/s  project={args.letters / p:.1f}/s  "
        f"ratio={a / p:.2f}  (goal >= 0.7)"
    )


if __name__ == "__main__":
    main()
