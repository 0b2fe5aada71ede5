"""Views whose cost follows the screen: the same figures at 5,000 and at 1,000,000 customers.

Run: ``QT_QPA_PLATFORM=offscreen python bench/bench_scale.py [--small 5000]
[--large 1000000] [--repeat 5] [--pg postgresql://postgres@127.0.0.1:5432/postgres]``.

The databases are built once by ``bench/scale_db.py`` (demo data copied by one
``INSERT … SELECT`` per table) and cached (SQLite under ``/tmp/agent_desk_scale``,
PostgreSQL as ``agent_desk_scale_<n>``). Each size runs in a process of its own, so
its memory figure is its own. Measured, medians of ``--repeat`` alternated runs:

- ``team_queue_first_page_painted``: the supervisor's team queue in the real
  ``QueuePanel`` / ``QueueModel`` on the one ``DatabaseWorker``, from ``reload()`` to
  the first page in the model and painted. Anchor: the same at 5,000 customers;
  goal < 200 ms at 1M and ratio <= 1.3.
- ``repaint``: one repaint of the painted view (goal < 16 ms).
- ``desk_rss``: the process's resident memory after the team queue is shown and
  scrolled a screen (goal at 1M <= 1.2x at 5k).
- ``jump``: the scroll bar dragged to the middle, until every visible row is there.
- ``team_view`` and ``reassign_preview``: what the team view loads (its figures, the
  per-agent table and the charts: ``ui.team_view.load_team``) and the reassign
  dialog's preview (goal < 1 s at 1M).
- ``agent_queue_first_page`` at 5,000 customers: the desk's model for one agent's
  queue against the raw query of the same page (same columns, order and limit, on
  the DBAPI cursor); goal ratio <= 1.5.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).parent))


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(engine: str, customers: int, repeat: int, pg: str) -> dict[str, float]:
    """One size, in this process: the figures as a dict (milliseconds, MB)."""
    from bench_desk import Desk, spin_until
    from PySide6.QtWidgets import QApplication
    from scale_db import pg_database, sqlite_database

    from agent_desk.app import local_now, style_application
    from agent_desk.models.base import utcnow
    from agent_desk.services.actor import actor_for_login
    from agent_desk.services.queue import QueueScope
    from agent_desk.services.reassign import ReassignFilter, preview_reassign
    from agent_desk.ui.team_view import load_team

    database = sqlite_database(customers) if engine == "sqlite" else pg_database(pg, customers)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    style_application(app)
    with database.transaction() as session:
        boss = actor_for_login(session, "marieke")
        sanne = actor_for_login(session, "sanne")
    found: dict[str, float] = {}

    desk = Desk(database, boss, QueueScope(agent_id=None))
    painted, repaints = [], []
    for _ in range(repeat):
        spin_until(lambda: desk.worker.pending == 0)  # the last count is done
        _rows, total = desk.first_rows()
        painted.append(total)
        spin_until(lambda: desk.worker.pending == 0)  # the repaint alone, not the count
        started = time.perf_counter()
        desk.panel.view.viewport().repaint()
        repaints.append(time.perf_counter() - started)
    found["team_queue_first_page_painted_ms"] = statistics.median(painted) * 1000
    found["repaint_ms"] = statistics.median(repaints) * 1000
    found["rows"] = desk.model.rowCount()
    spin_until(lambda: desk.worker.pending == 0, desk.model.counted)
    found["count_after_refining"] = desk.model.rowCount()  # exact up to COUNT_CAP
    jumps = []
    for _ in range(max(3, repeat // 2)):
        desk.first_rows()
        spin_until(lambda: desk.worker.pending == 0)
        jumps.append(desk.jump(desk.model.rowCount() // 2))
    found["jump_to_middle_ms"] = statistics.median(jumps) * 1000
    desk.jump(min(desk.model.rowCount() - 1, 400))
    found["desk_rss_mb"] = _rss_mb()
    desk.close()

    now = utcnow()
    team, preview = [], []
    for _ in range(max(3, repeat // 2)):
        started = time.perf_counter()
        with database.transaction() as session:
            load_team(session, now)  # the figures, the per-agent table and the charts
        team.append(time.perf_counter() - started)
        started = time.perf_counter()
        with database.transaction() as session:
            preview_reassign(session, boss, ReassignFilter(from_agent="sanne"), ["daan"], now)
        preview.append(time.perf_counter() - started)
    found["team_view_ms"] = statistics.median(team) * 1000
    found["reassign_preview_ms"] = statistics.median(preview) * 1000

    if customers <= 10_000:
        mine = Desk(database, sanne, QueueScope(agent_id=sanne.agent_id))
        model_times, raw_times = [], []
        for _ in range(repeat):
            raw_times.append(_raw_page(database, sanne.agent_id or 0))
            _rows, total = mine.first_rows()
            model_times.append(_rows)
        found["agent_queue_first_page_ms"] = statistics.median(model_times) * 1000
        found["agent_queue_raw_page_ms"] = statistics.median(raw_times) * 1000
        mine.close()
    database.dispose()
    _ = local_now
    return found


def _raw_page(database: object, agent_id: int) -> float:
    """The raw query of the agent's first page: same columns, order, limit; DBAPI rows."""
    from agent_desk.models.base import utcnow
    from agent_desk.services.queue import QueueScope
    from agent_desk.services.queue_pages import PAGE_SIZE, _page_statement, sort_keys

    scope = QueueScope(agent_id)
    statement = _page_statement(scope, utcnow(), agent_id, sort_keys(scope)).limit(PAGE_SIZE + 1)
    engine = database.engine  # type: ignore[attr-defined]
    compiled = statement.compile(engine)
    processors = compiled._bind_processors
    values = {k: processors[k](v) if k in processors else v for k, v in compiled.params.items()}
    params: Any = tuple(values[k] for k in compiled.positiontup) if compiled.positiontup else values
    with engine.connect() as connection:
        cursor = connection.connection.dbapi_connection.cursor()
        started = time.perf_counter()
        cursor.execute(str(compiled), params)
        cursor.fetchall()
        elapsed = time.perf_counter() - started
        cursor.close()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=5_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--one", nargs=2, metavar=("ENGINE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        figures = _measure(args.one[0], int(args.one[1]), args.repeat, args.pg)
        print("RESULT " + json.dumps(figures), flush=True)
        return 0
    for engine in args.engines.split(","):
        results: dict[int, dict[str, float]] = {}
        for size in (args.small, args.large):
            command = [sys.executable, __file__, "--one", engine, str(size)]
            command += ["--repeat", str(args.repeat), "--pg", args.pg]
            output = subprocess.run(command, capture_output=True, text=True, check=False)
            lines = [x for x in output.stdout.splitlines() if x.startswith("RESULT ")]
            if not lines:
                print(output.stdout + output.stderr)
                return 1
            results[size] = json.loads(lines[-1][7:])
            print(f"{engine} {size}: {results[size]}", flush=True)
        small, large = results[args.small], results[args.large]
        for key, goal in (
            ("team_queue_first_page_painted_ms", "< 200 ms and ratio <= 1.3"),
            ("repaint_ms", "< 16 ms"),
            ("desk_rss_mb", "ratio <= 1.2"),
            ("jump_to_middle_ms", "smooth"),
            ("team_view_ms", "< 1000 ms at large"),
            ("reassign_preview_ms", "< 1000 ms at large"),
        ):
            print(
                f"{engine} {key}: anchor({args.small})={small[key]:.1f} "
                f"project({args.large})={large[key]:.1f} ratio={large[key] / small[key]:.2f} "
                f"goal {goal}"
            )
        if "agent_queue_first_page_ms" in small:
            anchor, project = small["agent_queue_raw_page_ms"], small["agent_queue_first_page_ms"]
            print(
                f"{engine} agent_queue_first_page_{args.small}: anchor(raw query)={anchor:.1f} "
                f"project(desk model)={project:.1f} ratio={project / anchor:.2f} goal <= 1.5"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
