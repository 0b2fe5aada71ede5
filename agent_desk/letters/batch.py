"""Many letters at once: a pool of worker processes writes them into one folder and
reports what was written and what failed, with a plain reason, never stopping for
one bad letter."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from agent_desk.letters.data import AnyLetter
from agent_desk.letters.files import WrittenLetter, default_filename, write_pdf
from agent_desk.letters.style import register_fonts, styles


@dataclass(frozen=True)
class BatchItem:
    data: AnyLetter
    filename: str | None = None

    @property
    def name(self) -> str:
        return self.filename or default_filename(self.data)


@dataclass(frozen=True)
class BatchFailure:
    name: str
    reference: str
    reason: str


@dataclass
class BatchSummary:
    written: list[WrittenLetter] = field(default_factory=list)
    failed: list[BatchFailure] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


ProgressCallback = Callable[[int, int], None]

# (name, reference, written or None, reason or None)
_Outcome = tuple[str, str, WrittenLetter | None, str | None]


def _render_one(name: str, data: AnyLetter, out_dir: str) -> _Outcome:
    """Worker: never raises, so one bad letter cannot stop the batch."""
    from agent_desk.errors import AgentDeskError

    try:
        written = write_pdf(data, Path(out_dir) / name)
        return (name, data.reference, written, None)
    except AgentDeskError as error:
        return (name, data.reference, None, str(error))
    except Exception as error:
        return (
            name,
            data.reference,
            None,
            f"Could not write this letter ({type(error).__name__}: {error}).",
        )


#: At most this many letters per task sent to a worker process.
BATCH_CHUNK = 16


def _warm_worker() -> None:
    """A batch worker's start: fonts registered and styles built before the first letter."""
    register_fonts()
    styles()


def _render_many(items: list[tuple[str, AnyLetter]], out_dir: str) -> list[_Outcome]:
    return [_render_one(name, data, out_dir) for name, data in items]


def render_batch(
    items: Iterable[AnyLetter | BatchItem],
    out_dir: str | os.PathLike[str],
    workers: int = 2,
    progress: ProgressCallback | None = None,
) -> BatchSummary:
    """Write many letters into ``out_dir`` using ``workers`` processes.

    Returns what was written (with SHA-256) and what failed, with a plain reason.
    ``progress(done, total)`` is called in this process after each letter.
    """
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    batch = [item if isinstance(item, BatchItem) else BatchItem(item) for item in items]
    summary = BatchSummary()
    total = len(batch)
    done = 0
    todo: list[BatchItem] = []
    seen: set[str] = set()
    for item in batch:
        if item.name in seen:
            summary.failed.append(
                BatchFailure(
                    item.name,
                    item.data.reference,
                    "Another letter in this batch has the same file name.",
                )
            )
            done += 1
            if progress:
                progress(done, total)
            continue
        seen.add(item.name)
        todo.append(item)

    def collect(outcome: _Outcome) -> None:
        nonlocal done
        name, reference, written, reason = outcome
        if written is not None:
            summary.written.append(written)
        else:
            summary.failed.append(BatchFailure(name, reference, reason or "Unknown error."))
        done += 1
        if progress:
            progress(done, total)

    if workers <= 1 or len(todo) <= 1:
        for item in todo:
            collect(_render_one(item.name, item.data, str(out)))
    else:
        # "spawn" is safe from a multi-threaded (Qt) parent and works on every OS. Letters
        # go to the workers a few at a time (one task per letter cost more in messages
        # than in rendering), and each worker warms its fonts and styles once at start.
        context = multiprocessing.get_context("spawn")
        size = max(1, min(BATCH_CHUNK, len(todo) // (workers * 4)))
        chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_warm_worker
        ) as pool:
            futures = {
                pool.submit(
                    _render_many, [(item.name, item.data) for item in chunk], str(out)
                ): chunk
                for chunk in chunks
            }
            for future in as_completed(futures):
                try:
                    outcomes = future.result()
                except Exception as error:
                    outcomes = [
                        (item.name, item.data.reference, None, f"The worker stopped: {error}.")
                        for item in futures[future]
                    ]
                for outcome in outcomes:
                    collect(outcome)
    summary.written.sort(key=lambda w: w.path.name)
    summary.seconds = time.perf_counter() - started
    return summary
