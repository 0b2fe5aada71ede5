"""Bulk paths (issue 17), on SQLite and PostgreSQL: the streaming import is still all or
nothing (a bad row near the end of 200,000, a cancel) and idempotent, the derived queue
columns it writes are what a refresh works out, the bulk demo load writes exactly the
rows it wrote before, and SQLite live sync notices another connection's commit through
``PRAGMA data_version``."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from agent_desk.demo import load_demo
from agent_desk.models import (
    Base,
    Claim,
    Customer,
    LedgerEntry,
    NextStep,
)
from agent_desk.services import bulk, changelog
from agent_desk.services.actor import SYSTEM
from agent_desk.services.database import Database
from agent_desk.services.derived import refresh_customer, refresh_customers
from agent_desk.services.importers import (
    CHUNK_ROWS,
    ImportCancelled,
    ImportRejected,
    import_customers,
    import_payments,
)
from agent_desk.services.sync import PollingListener

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
HEADER = (
    "customer_number,first_name,last_name,street,house_number,postcode,city,agent,"
    "claim_reference,principal,due_date\n"
)


def _row(n: int, claim: int = 0, *, principal: str | None = None) -> str:
    amount = principal if principal is not None else f"{(n % 9000) + 10}.{n % 100:02d}"
    agent = ("sanne", "daan", "")[n % 3]
    return (
        f"{500000 + n},Klant,Achternaam {n % 97},Dorpsstraat,{n % 200 + 1},1234 AB,Ede,"
        f"{agent},R-{n}-{claim},{amount},2026-{(n % 9) + 1:02d}-{(n % 27) + 1:02d}\n"
    )


def _counts(database: Database) -> dict[str, int]:
    with database.transaction() as session:
        return {
            t.name: int(session.scalar(select(func.count()).select_from(t)) or 0)
            for t in Base.metadata.sorted_tables
        }


@pytest.fixture
def with_agents(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=1, agents=2, seed=1)
    return database


def test_a_bad_row_at_line_199999_of_a_streamed_file_writes_nothing(
    with_agents: Database, tmp_path: Path
) -> None:
    path = tmp_path / "portfolio.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for n in range(199_997):  # lines 2 .. 199,998, written in many chunks
            out.write(_row(n))
        out.write(_row(199_997, principal="twelve"))  # line 199,999: not an amount
        out.write(_row(199_998))  # line 200,000: good again
    before = _counts(with_agents)
    with pytest.raises(ImportRejected) as rejected, with_agents.transaction() as session:
        import_customers(session, SYSTEM, path, NOW)
    assert [e.line for e in rejected.value.errors] == [199_999]
    assert "amount" in rejected.value.errors[0].message
    assert _counts(with_agents) == before, "not one row of the 199,997 good ones stays"


def test_a_cancelled_import_writes_nothing(with_agents: Database, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + "".join(_row(n) for n in range(3 * CHUNK_ROWS)), encoding="utf-8")
    before = _counts(with_agents)
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if done > total // 2:  # well after the first chunks were written
            raise ImportCancelled

    with pytest.raises(ImportCancelled), with_agents.transaction() as session:
        import_customers(session, SYSTEM, path, NOW, progress=progress)
    assert len(seen) > 5 and seen == sorted(seen), "progress grows with the file read"
    assert _counts(with_agents) == before


def test_a_claim_of_another_customer_in_a_later_chunk_stops_the_writing_and_writes_nothing(
    with_agents: Database, tmp_path: Path
) -> None:
    """The writer finds it (on PostgreSQL on its own thread, while the next rows are
    read): the import is rejected with that line, and the chunk already written goes."""
    first = tmp_path / "first.csv"
    first.write_text(HEADER + _row(900_000).replace("R-900000-0", "R-TAKEN"), encoding="utf-8")
    with with_agents.transaction() as session:
        import_customers(session, SYSTEM, first, NOW)
    rows = [_row(n) for n in range(3 * CHUNK_ROWS)]
    taken = CHUNK_ROWS + 10  # in the second chunk, after the first was written
    rows[taken] = rows[taken].replace(f"R-{taken}-0", "R-TAKEN")
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    before = _counts(with_agents)
    with pytest.raises(ImportRejected) as rejected, with_agents.transaction() as session:
        import_customers(session, SYSTEM, path, NOW)
    assert [(e.line, e.message) for e in rejected.value.errors] == [
        (taken + 2, "claim R-TAKEN already belongs to another customer.")
    ]
    assert _counts(with_agents) == before


def test_the_databases_refusal_in_a_later_chunk_reaches_the_caller_and_writes_nothing(
    with_agents: Database, tmp_path: Path
) -> None:
    """A statement the database refuses while a chunk is written (here a trigger of the
    test's own, on the second chunk's customer): the caller gets that error, whichever
    thread wrote the chunk, the session rolls back cleanly and nothing stays."""
    refused = 500_000 + CHUNK_ROWS + 10
    with with_agents.engine.begin() as c:
        if with_agents.is_sqlite:
            c.exec_driver_sql(
                "CREATE TRIGGER test_refuse BEFORE INSERT ON customer "
                f"WHEN NEW.customer_number = '{refused}' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )
        else:
            c.exec_driver_sql(
                "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
            )
            c.exec_driver_sql(
                "CREATE TRIGGER test_refuse BEFORE INSERT ON customer FOR EACH ROW "
                f"WHEN (NEW.customer_number = '{refused}') EXECUTE FUNCTION test_refuse()"
            )
    try:
        path = tmp_path / "customers.csv"
        path.write_text(HEADER + "".join(_row(n) for n in range(3 * CHUNK_ROWS)), encoding="utf-8")
        before = _counts(with_agents)
        with (
            pytest.raises((DBAPIError, sqlite3.Error, psycopg.Error), match="refused by the test"),
            with_agents.transaction() as session,
        ):
            import_customers(session, SYSTEM, path, NOW)
        assert _counts(with_agents) == before
        writers = [t for t in threading.enumerate() if t.name == "import-writer"]
        assert not writers, "no writer is left running"
    finally:
        with with_agents.engine.begin() as c:
            c.exec_driver_sql(
                "DROP TRIGGER test_refuse" + ("" if with_agents.is_sqlite else " ON customer")
            )
            if not with_agents.is_sqlite:
                c.exec_driver_sql("DROP FUNCTION test_refuse()")


def test_the_import_writes_with_the_origin_of_the_desk_that_runs_it(
    with_agents: Database, tmp_path: Path
) -> None:
    """The change-log rows of every chunk (written on a thread of the import's own on
    PostgreSQL) carry the origin of the work that runs the import, so the desk that
    imported does not hear its own rows back as a colleague's change."""
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + "".join(_row(n) for n in range(2 * CHUNK_ROWS + 5)), encoding="utf-8")
    with with_agents.engine.connect() as c:
        last = c.execute(text("SELECT coalesce(max(id), 0) FROM change_log")).scalar()
    with changelog.working_as("desk-under-test"), with_agents.transaction() as session:
        import_customers(session, SYSTEM, path, NOW)
    with with_agents.engine.connect() as c:
        origins = c.execute(
            text(
                "SELECT origin, count(*) FROM change_log WHERE table_name = 'customer' "
                "AND id > :last GROUP BY origin"
            ),
            {"last": last},
        ).all()
    assert origins == [("desk-under-test", 2 * CHUNK_ROWS + 5)]


def test_importing_again_changes_nothing_and_the_queue_columns_are_a_refresh(
    with_agents: Database, tmp_path: Path
) -> None:
    rows = [_row(n) for n in range(CHUNK_ROWS + 700)]
    # A customer whose second claim comes thousands of lines later, in another chunk.
    rows.append(_row(3, claim=1))
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    with with_agents.transaction() as session:
        first = import_customers(session, SYSTEM, path, NOW)
    assert (first.rows, first.created, first.updated) == (len(rows), CHUNK_ROWS + 700, 0)
    after = _counts(with_agents)
    with with_agents.transaction() as session:
        again = import_customers(session, SYSTEM, path, NOW)
    assert (again.created, again.updated, again.unchanged) == (0, 0, CHUNK_ROWS + 700)
    assert _counts(with_agents) == after, "no row at all, not even a change-log row"

    with with_agents.transaction() as session:
        three = session.scalar(select(Customer).where(Customer.customer_number == "500003"))
        assert three is not None
        claims = session.scalars(select(Claim).where(Claim.customer_id == three.id)).all()
        assert sorted(c.reference for c in claims) == ["R-3-0", "R-3-1"]
        owed = session.scalar(
            select(func.sum(LedgerEntry.amount_cents)).where(LedgerEntry.customer_id == three.id)
        )
        assert three.arrears_cents == owed == 2 * 1303
        steps = session.scalars(select(NextStep).where(NextStep.customer_id == three.id)).all()
        assert [s.kind for s in steps] == ["review"]

    columns = (
        "arrears_cents",
        "oldest_due_date",
        "first_time_arrears",
        "broken_arrangement",
        "missed_instalment",
        "queue_bucket",
        "next_step_kind",
        "next_step_due_at",
    )
    with with_agents.transaction() as session:
        customers = session.scalars(
            select(Customer).where(Customer.customer_number.like("5%")).order_by(Customer.id)
        ).all()
        written = {c.id: tuple(getattr(c, n) for n in columns) for c in customers}
        sample = customers[:: max(1, len(customers) // 300)]
        for customer in sample:  # one at a time, the old way
            refresh_customer(session, customer, flush=False)
        assert {c.id: tuple(getattr(c, n) for n in columns) for c in sample} == {
            c.id: written[c.id] for c in sample
        }
        refreshed = refresh_customers(session, written)  # the grouped way, all of them
        assert {cid: tuple(getattr(c, n) for n in columns) for cid, c in refreshed.items()} == (
            written
        )
        assert not session.dirty, "a refresh changes nothing the import wrote"


def test_payments_in_bulk_book_and_import_once(with_agents: Database, tmp_path: Path) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text(HEADER + "".join(_row(n) for n in range(1200)), encoding="utf-8")
    with with_agents.transaction() as session:
        import_customers(session, SYSTEM, customers, NOW)
    payments = tmp_path / "payments.csv"
    lines = ["payment_reference,customer_number,amount,paid_on"]
    lines += [f"P-{n},{500000 + n},5.00,2026-11-20" for n in range(0, 1200, 2)]
    lines += [f"P-FULL,{500001},100000.00,2026-11-21"]  # far more than owed: credit, closed
    payments.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with with_agents.transaction() as session:
        result = import_payments(session, SYSTEM, payments, NOW)
    assert result.created == 601 and len(result.notes) == 1 and "credit" in result.notes[0]
    after = _counts(with_agents)
    with with_agents.transaction() as session:
        again = import_payments(session, SYSTEM, payments, NOW)
        assert (again.created, again.unchanged) == (0, 601)
        one = session.scalar(select(Customer).where(Customer.customer_number == "500001"))
        assert one is not None and one.status == "closed" and one.arrears_cents == 0
        assert one.credit_cents > 0
        two = session.scalar(select(Customer).where(Customer.customer_number == "500002"))
        assert two is not None and two.status == "open"
        paid = session.scalar(select(func.sum(Claim.paid_cents)).where(Claim.customer_id == two.id))
        assert paid == 500
    assert _counts(with_agents) == after


def _fingerprint(database: Database) -> tuple[dict[str, int], str]:
    """Every row of every table (but the clock's own columns), engine-neutral."""
    digest = hashlib.sha256()
    counts: dict[str, int] = {}
    skip = {("agent", "created_at"), ("change_log", "at")}
    skip_tables = {"team_rule"}  # seeded by SQLite's upgrade, emptied by the PG fixture
    with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in skip_tables:
                continue
            columns = [c for c in table.c if (table.name, c.name) not in skip]
            rows = sorted(
                repr(tuple(v.isoformat() if hasattr(v, "isoformat") else v for v in row))
                for row in connection.execute(select(*columns))
            )
            counts[table.name] = len(rows)
            digest.update(table.name.encode())
            for row in rows:
                digest.update(row.encode())
    return counts, digest.hexdigest()


def test_the_bulk_demo_load_writes_the_same_rows_by_executemany_and_by_copy(
    pg_server_url: str, tmp_path: Path
) -> None:
    """SQLite's executemany and PostgreSQL's COPY write the same demo, row for row.

    (Before issue 17 this compared against a digest of the old single-row loader; the
    demo has since grown search keys and early-signal stages, so the two bulk paths are
    compared with each other, and the counts with what the demo is asked for.)
    """
    prints = []
    for url in (f"sqlite:///{tmp_path / 'desk.sqlite3'}", pg_server_url):
        database = Database(url)
        try:
            if url.startswith("sqlite"):
                database.upgrade()
            else:  # the run's database, emptied as the ``database`` fixture does
                tables = ", ".join(f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables))
                with database.engine.begin() as connection:
                    connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            with database.transaction() as session:
                load_demo(session, customers=400, agents=8, seed=3, today=date(2026, 11, 30))
            prints.append(_fingerprint(database))
        finally:
            database.dispose()
    (counts, digest), (pg_counts, pg_digest) = prints
    assert counts == pg_counts
    assert counts["customer"] == 400 and counts["agent"] == 9
    assert counts["claim"] >= 400 and counts["ledger_entry"] >= counts["claim"]
    assert counts["customer_search_key"] >= 3 * 400  # name, number, postcode + more
    assert digest == pg_digest


def test_sqlite_live_sync_notices_another_connections_commit_by_data_version(
    tmp_path: Path,
) -> None:
    path = tmp_path / "desk.sqlite3"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    woken = threading.Event()
    online = threading.Event()
    listener = PollingListener(
        database,
        on_wake=lambda _id: woken.set(),
        on_reconnect=online.set,
        interval=0.02,
    )
    try:
        with listener:
            assert online.wait(5)
            assert not woken.wait(0.3), "no commit, no wake"
            assert listener.version_changes == 0
            # Another connection, not even this process's engine: plain sqlite3.
            other = sqlite3.connect(path)
            with other:
                other.execute(
                    "INSERT INTO change_log (at, table_name, row_id, kind, customer_id) "
                    "VALUES ('2026-11-23 10:00:00', 'customer', 1, 'update', 1)"
                )
            other.close()
            assert woken.wait(2)
            assert listener.version_changes >= 1
            assert listener.last_seen is not None and listener.last_seen >= 1
    finally:
        database.dispose()


def test_copy_text_round_trips_every_value_the_import_writes(pg_server_url: str) -> None:
    """COPY's text format as the import makes it (``bulk.copy_text``), read back by the
    server: the characters COPY must escape, a value that reads like COPY's NULL, and
    each kind of value; a moment without its offset, or a value of another kind, is
    refused instead of guessed. (PostgreSQL only: SQLite's rows go by executemany.)"""
    database = Database(pg_server_url)
    tricky = [
        "tab\there",
        "two\nlines",
        "carriage\rreturn",
        "back\\slash",
        "\\N",
        "\\.",
        "Zoë Łukasz Nguyễn Çelik",
        "",
        "end\\",
    ]
    moment = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    rows = [
        (n, value, n % 2 == 0, None if n % 3 else date(2026, 12, n + 1), moment)
        for n, value in enumerate(tricky)
    ]
    with database.engine.begin() as c:
        c.exec_driver_sql(
            "CREATE TEMP TABLE copied (n bigint, value text, even boolean, day date, "
            "at timestamptz)"
        )
        raw = c.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy("COPY copied FROM STDIN") as copy:
            copy.write(bulk.copy_text(rows))
        back = [tuple(r) for r in c.exec_driver_sql("SELECT * FROM copied ORDER BY n")]
    database.dispose()
    assert back == rows
    with pytest.raises(TypeError, match="offset"):
        bulk.copy_text([(datetime(2026, 11, 30, 23, 30),)])
    with pytest.raises(TypeError, match="float"):
        bulk.copy_text([(1.5,)])
