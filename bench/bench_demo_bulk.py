"""Demo load against a raw bulk insert of the same rows (issue 17: <= 2x).

Run: ``python bench/bench_demo_bulk.py [--customers 100000] [--pg URL] [--only sqlite|postgresql]``.

* project: ``load_demo`` (what ``agent-desk demo`` runs), generating the rows included.
* anchor: every row the demo wrote, read back and inserted into an empty database of
  the same schema with the driver's plainest bulk path (sqlite3 ``executemany`` in one
  transaction, psycopg ``COPY``), in the same run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from agent_desk.demo import load_demo
from agent_desk.models import Base
from agent_desk.services.database import Database

sys.path.insert(0, str(Path(__file__).parent))
from bench_import import _sqlite, fresh


def anchor(source: Database, target: Database) -> tuple[float, int]:
    tables = [t.name for t in Base.metadata.sorted_tables]
    data = {}
    with source.engine.connect() as connection:
        for table in tables:
            result = connection.execute(text(f"SELECT * FROM {table}"))
            data[table] = (list(result.keys()), [tuple(r) for r in result])
    raw = target.engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        started = time.perf_counter()
        if target.is_sqlite:
            cursor = driver.cursor()
            for table, (columns, rows) in data.items():
                if rows:
                    marks = ", ".join("?" for _ in columns)
                    cursor.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                        [tuple(_sqlite(v) for v in row) for row in rows],
                    )
        else:
            with driver.cursor() as cursor:
                for table, (columns, rows) in data.items():
                    if rows:
                        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(row)
        driver.commit()
        return time.perf_counter() - started, sum(len(r) for _, r in data.values())
    finally:
        raw.close()


def bench(engine: str, folder: Path, customers: int, pg: str) -> None:
    database, _ = fresh(engine, folder, "bench_demo_project", pg)
    started = time.perf_counter()
    with database.transaction() as session:
        load_demo(session, customers=customers, agents=8, seed=1)
    seconds = time.perf_counter() - started
    target, _ = fresh(engine, folder, "bench_demo_anchor", pg)
    raw_seconds, rows = anchor(database, target)
    print(
        f"{engine:<10} demo_load_{customers}  anchor={raw_seconds:.1f}s (raw bulk insert of the "
        f"same {rows} rows)  project={seconds:.1f}s  ratio={seconds / raw_seconds:.2f}x  "
        "(goal <= 2x)"
    )
    database.dispose()
    target.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--pg",
        default=os.environ.get(
            "AGENT_DESK_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for engine in ("sqlite", "postgresql"):
            if args.only in (None, engine):
                bench(engine, Path(tmp), args.customers, args.pg)


if __name__ == "__main__":
    main()
