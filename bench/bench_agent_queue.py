"""An agent's queue of 5,000: the first page by the service against the raw query.

Run: ``python bench/bench_agent_queue.py [--customers 5000] [--repeat 21]
[--engines sqlite,postgresql] [--pg postgresql://postgres@127.0.0.1:5432/postgres]``.

The database is built like ``bench/scale_db.py``'s (demo data copied; six agents) and
cached under names of its own (``/tmp/agent_desk_agent_queue``,
``agent_desk_agent_queue_<n>``), so benches of other schema versions never drop
each other's. For
sanne's queue (``QueueScope(agent_id)``, priority order), alternated, ``--repeat``
times each, medians:

- anchor: the raw query of the same page (``queue_pages._page_statement``: the same
  columns, conditions, order and limit) on the DBAPI cursor, rows fetched as tuples;
- project: ``queue_pages.queue_page`` as the desk's worker calls it, in a unit of work
  (``Database.transaction``), up to the ``QueueRow`` objects with their reasons. Its
  statement is the anchor's (kept per shape of scope, values bound);
- cold: the same with the kept reasons forgotten first (``forget_reasons``), as on the
  desk's first page of a day: every reason of the page worked out.

Goal: ratio <= 1.5 (issue 17). Figures move by 10-20 % between runs on a shared
machine: run it a few times and quote the medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))


def _raw_page(database: Any, agent_id: int) -> float:
    from agent_desk.models.base import utcnow
    from agent_desk.services.queue import QueueScope
    from agent_desk.services.queue_pages import PAGE_SIZE, _page_statement, sort_keys

    scope = QueueScope(agent_id)
    statement = _page_statement(scope, utcnow(), agent_id, sort_keys(scope)).limit(PAGE_SIZE + 1)
    engine = database.engine
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


def _service_page(database: Any, agent_id: int, *, cold: bool = False) -> float:
    from agent_desk.models.base import utcnow
    from agent_desk.services.queue import QueueScope
    from agent_desk.services.queue_pages import forget_reasons, queue_page

    if cold:
        forget_reasons()
    started = time.perf_counter()
    with database.transaction() as session:
        page = queue_page(session, QueueScope(agent_id), utcnow(), agent_id)
    elapsed = time.perf_counter() - started
    assert page.rows
    return elapsed


def _database(engine: str, customers: int, pg: str) -> Any:
    import scale_db
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from agent_desk.services.database import Database
    from agent_desk.services.migrate import is_at_head

    if engine == "sqlite":
        path = Path("/tmp/agent_desk_agent_queue") / f"agent-queue-{customers}.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            database = Database(f"sqlite:///{path}")
            if is_at_head(database.engine):
                return database
            database.dispose()
            path.unlink()
        database = Database(f"sqlite:///{path}")
    else:
        url = make_url(pg).set(drivername="postgresql+psycopg")
        name = f"agent_desk_agent_queue_{customers}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                database = Database(url.set(database=name))
                if is_at_head(database.engine):
                    admin.dispose()
                    return database
                database.dispose()
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        database = Database(url.set(database=name))
    database.upgrade()
    scale_db._fill(database, customers)
    return database


def _measure(engine: str, customers: int, repeat: int, pg: str) -> tuple[float, float, float]:
    from agent_desk.services.actor import actor_for_login

    database = _database(engine, customers, pg)
    with database.transaction() as session:
        agent_id = actor_for_login(session, "sanne").agent_id or 0
    for _ in range(3):  # warm: caches, compiled statements, the planner
        _raw_page(database, agent_id)
        _service_page(database, agent_id)
    anchor, project, cold = [], [], []
    for _ in range(repeat):
        anchor.append(_raw_page(database, agent_id))
        project.append(_service_page(database, agent_id))
        cold.append(_service_page(database, agent_id, cold=True))
    database.dispose()
    ms = [statistics.median(times) * 1000 for times in (anchor, project, cold)]
    return ms[0], ms[1], ms[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    for engine in args.engines.split(","):
        anchor, project, cold = _measure(engine, args.customers, args.repeat, args.pg)
        print(
            f"{engine} agent_queue_first_page_{args.customers}: anchor(raw query)={anchor:.2f} ms "
            f"project(queue_page)={project:.2f} ms ratio={project / anchor:.2f} goal <= 1.5 "
            f"cold(reasons forgotten)={cold:.2f} ms ratio={cold / anchor:.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
