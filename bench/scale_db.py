"""A big database for the scale benchmarks, built in bulk SQL and cached between runs.

``load_demo`` fills a base of ``BASE`` customers (real rows: books, contact points,
next steps, work done today); one ``INSERT … SELECT`` per table then copies them
until there are ``customers`` (new ids and customer numbers, the same queue columns,
contact data and next steps, the same agents). SQLite files are kept under
``/tmp/agent_desk_scale``; PostgreSQL databases ``agent_desk_scale_<n>`` stay on the
server. Either is rebuilt when the schema's revision changes.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from agent_desk.demo import load_demo
from agent_desk.models import ContactPoint, Customer, NextStep
from agent_desk.services.database import Database
from agent_desk.services.migrate import is_at_head

CACHE = Path("/tmp/agent_desk_scale")
BASE = 5_000


def _copy(table: object, copies: int, base_ids: dict[str, int], sqlite: bool) -> str:
    """One INSERT … SELECT that writes ``copies`` shifted copies of the base rows."""
    columns = [c.name for c in table.columns]  # type: ignore[attr-defined]
    name = table.name  # type: ignore[attr-defined]
    shifted = {
        "id": f"t.id + ks.k * {base_ids[name]}",
        "customer_id": f"t.customer_id + ks.k * {base_ids['customer']}",
        "customer_number": "t.customer_number || '-' || ks.k",
    }
    select_list = ", ".join(shifted.get(c, f"t.{c}") for c in columns)
    if sqlite:
        ks = (
            f"WITH RECURSIVE ks(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM ks WHERE k < {copies}) "
        )
        source = f"{ks}SELECT {select_list} FROM {name} t, ks WHERE t.id <= {base_ids[name]}"
    else:
        source = (
            f"SELECT {select_list} FROM {name} t, generate_series(1, {copies}) AS ks(k) "
            f"WHERE t.id <= {base_ids[name]}"
        )
    return f"INSERT INTO {name} ({', '.join(columns)}) {source}"


def _fill(database: Database, customers: int) -> None:
    started = time.perf_counter()
    base = min(BASE, customers)
    with database.transaction() as session:
        load_demo(session, customers=base, agents=6, seed=7)
    copies = customers // base - 1
    sqlite = database.is_sqlite
    with database.engine.begin() as connection:
        if not sqlite:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        tables = [Customer.__table__, ContactPoint.__table__, NextStep.__table__]
        base_ids = {
            t.name: int(connection.scalar(text(f"SELECT max(id) FROM {t.name}")) or 0)
            for t in tables
        }
        if copies > 0:
            for table in tables:
                connection.execute(text(_copy(table, copies, base_ids, sqlite)))
        if not sqlite:
            for table in tables:
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM {table.name}))"
                    )
                )
    with database.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(text("ANALYZE" if sqlite else "VACUUM ANALYZE"))
    print(f"built_{customers}_customers_s {time.perf_counter() - started:.1f}", flush=True)


def sqlite_database(customers: int) -> Database:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"scale-{customers}.sqlite3"
    if path.exists():
        database = Database(f"sqlite:///{path}")
        if is_at_head(database.engine):
            return database
        database.dispose()
        path.unlink()
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    _fill(database, customers)
    return database


def pg_database(server: str, customers: int) -> Database:
    url = make_url(server).set(drivername="postgresql+psycopg")
    name = f"agent_desk_scale_{customers}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if exists:
                database = Database(url.set(database=name))
                if is_at_head(database.engine):
                    return database
                database.dispose()
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    database = Database(url.set(database=name))
    database.upgrade()
    _fill(database, customers)
    return database
