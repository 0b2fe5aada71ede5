"""Desk benchmarks: the queue's first rows, scrolling a big team view, Next customer.

Run: ``QT_QPA_PLATFORM=offscreen python bench/bench_desk.py [--small 5000]
[--large 100000] [--repeat 7]``. Prints one line per figure (milliseconds).

Everything goes through what the desk really uses: a ``QApplication``, the one
``DatabaseWorker`` thread, the lazy ``QueueModel`` inside a shown ``QueuePanel``
(two-line delegate, 1440x900-ish geometry) on temporary SQLite files filled by
``load_demo``:

- ``queue_first_rows_<n>_ms``: from ``model.reload()`` to the ``loaded`` signal (ids
  plus the first page of rows are in the model), for one agent with all 5,000
  customers (``agents=1``) and for the supervisor's team view over 100,000
  (``agent_id=None``); ``..._painted_ms`` adds the view laying out and painting them.
- ``queue_jump_to_row_<r>_ms``: from ``scrollTo(row)`` until every visible row of that
  screen is fetched (the pages the view asked for) in the 100,000 view.
- ``next_customer_ms``: ``claim_next`` plus the customer file in one transaction (the
  service call the desk makes; target < 100 ms) and ``next_customer_roundtrip_ms``
  through the worker back to the GUI thread.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal, SignalInstance
from PySide6.QtWidgets import QApplication

from agent_desk.app import local_now, style_application
from agent_desk.demo import load_demo
from agent_desk.i18n import Translator
from agent_desk.services.actor import Actor, actor_for_login
from agent_desk.services.customer_file import CustomerFile
from agent_desk.services.database import Database
from agent_desk.services.opening import next_customer
from agent_desk.services.queue import QueueScope, release_holds
from agent_desk.ui.labels import Words
from agent_desk.ui.queue_model import QueueModel
from agent_desk.ui.queue_panel import QueuePanel
from agent_desk.ui.worker import DatabaseWorker


def spin_until(
    condition: Callable[[], bool], *signals: SignalInstance, timeout: float = 120.0
) -> None:
    """Wait in a real event loop (as the desk does, so the worker thread gets the GIL)
    until ``condition`` holds, checking it whenever one of ``signals`` fires."""
    if condition():
        return
    loop = QEventLoop()

    def check(*_args: object) -> None:
        if condition():
            loop.quit()

    for signal in signals:
        signal.connect(check)
    poll = QTimer()
    poll.setInterval(50)  # a safety net; the signals normally end the wait
    poll.timeout.connect(check)
    poll.start()
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    deadline.start(int(timeout * 1000))
    loop.exec()
    poll.stop()
    for signal in signals:
        signal.disconnect(check)
    if not condition():
        raise TimeoutError("the desk did not get there in time")


def figures(label: str, values: list[float], extra: str = "") -> None:
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(
        f"{label} median={statistics.median(ms):.1f} min={ms[0]:.1f} p95={p95:.1f} "
        f"max={ms[-1]:.1f} first={values[0] * 1000:.1f} n={len(ms)}{extra}",
        flush=True,
    )


def build(path: Path, customers: int, agents: int) -> Database:
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    started = time.perf_counter()
    with database.transaction() as session:
        load_demo(session, customers=customers, agents=agents, seed=7)
    print(f"demo_load_{customers}_s {time.perf_counter() - started:.1f}", flush=True)
    return database


class Desk:
    """The queue column as the desk builds it, on its own worker."""

    def __init__(self, database: Database, actor: Actor, scope: QueueScope) -> None:
        self.worker = DatabaseWorker(database)
        self.words = Words(Translator("en"))
        self.model = QueueModel(self.worker, self.words, local_now, scope, actor.agent_id)
        self.panel = QueuePanel(self.model, self.words.tr, "Queue")
        self.panel.resize(620, 780)
        self.panel.show()
        self.loaded = False
        self.model.loaded.connect(self._loaded)

    def _loaded(self) -> None:
        self.loaded = True

    def first_rows(self) -> tuple[float, float]:
        """(reload → loaded, reload → loaded and painted)."""
        self.loaded = False
        started = time.perf_counter()
        self.model.reload()
        spin_until(lambda: self.loaded and self.model.rowCount() > 0, self.model.loaded)
        rows = time.perf_counter() - started
        self.panel.view.viewport().repaint()
        return rows, time.perf_counter() - started

    def visible_rows(self) -> range:
        view = self.panel.view
        top = view.rowAt(0)
        bottom = view.rowAt(view.viewport().height() - 1)
        bottom = self.model.rowCount() - 1 if bottom < 0 else bottom
        return range(top, bottom + 1)

    def jump(self, row: int) -> float:
        view = self.panel.view
        started = time.perf_counter()
        view.scrollTo(self.model.index(row, 0))
        view.viewport().repaint()  # the view asks the model for what it shows
        spin_until(lambda: all(self.model.queue_row(r) is not None for r in self.visible_rows()))
        view.viewport().repaint()
        return time.perf_counter() - started

    def close(self) -> None:
        self.panel.close()
        self.worker.shutdown()


def bench_first_rows(database: Database, login: str, team: bool, repeat: int, n: int) -> Desk:
    with database.transaction() as session:
        actor = actor_for_login(session, login)
    scope = QueueScope(agent_id=None if team else actor.agent_id)
    desk = Desk(database, actor, scope)
    rows, painted = [], []
    for _ in range(repeat):
        a, b = desk.first_rows()
        rows.append(a)
        painted.append(b)
    count = f" rows={desk.model.rowCount()}"
    figures(f"queue_first_rows_{n}_ms", rows, count)
    figures(f"queue_first_rows_{n}_painted_ms", painted)
    return desk


def bench_jumps(desk: Desk, targets: list[int], repeat: int) -> None:
    for target in targets:
        row = min(target, desk.model.rowCount() - 1)
        timings = []
        for _ in range(repeat):
            desk.first_rows()  # a fresh reload: nothing beyond the first page is cached
            desk.jump(0)
            timings.append(desk.jump(row))
        figures(f"queue_jump_to_row_{target}_ms", timings, f" row={row}")


class _Done(QObject):
    arrived = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.files: list[CustomerFile | None] = []

    def got(self, file: CustomerFile | None) -> None:
        self.files.append(file)
        self.arrived.emit()


def bench_next_customer(database: Database, login: str, repeat: int, n: int) -> None:
    with database.transaction() as session:
        actor = actor_for_login(session, login)
    direct = []
    for _ in range(repeat):
        started = time.perf_counter()
        with database.transaction() as session:
            file = next_customer(session, actor, local_now())
        direct.append(time.perf_counter() - started)
        assert file is not None
    figures(f"next_customer_{n}_ms", direct)
    worker = DatabaseWorker(database)
    done = _Done()
    roundtrip: list[float] = []
    for _ in range(repeat):
        done.files.clear()
        started = time.perf_counter()
        worker.submit(lambda session: next_customer(session, actor, local_now()), done.got)
        spin_until(lambda: bool(done.files), done.arrived)
        roundtrip.append(time.perf_counter() - started)
    figures(f"next_customer_{n}_roundtrip_ms", roundtrip)
    worker.shutdown()
    with database.transaction() as session:
        release_holds(session, actor)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=5_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    style_application(app)
    with tempfile.TemporaryDirectory(prefix="bench-desk-") as folder:
        small = build(Path(folder) / "small.sqlite3", args.small, agents=1)
        desk = bench_first_rows(small, "sanne", False, args.repeat, args.small)
        desk.close()
        bench_next_customer(small, "sanne", 20, args.small)
        small.dispose()

        large = build(Path(folder) / "large.sqlite3", args.large, agents=6)
        desk = bench_first_rows(large, "marieke", True, args.repeat, args.large)
        bench_jumps(desk, [50_000, 99_000], max(3, args.repeat // 2))
        desk.close()
        bench_next_customer(large, "sanne", 20, args.large)
        large.dispose()
    QTimer.singleShot(0, app.quit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
