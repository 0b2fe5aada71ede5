"""Find anyone at a million customers: the search service against its own raw SQL.

    python bench/bench_search.py [--customers 1000000] [--pg URL] [--repeat 25]

Builds (once, cached: a SQLite file under /tmp, or the PostgreSQL database given,
kept while it holds the same number of customers) ``--customers`` customers with a
mobile, an e-mail, an address and a claim each, and their search keys, all with bulk
``INSERT … SELECT`` statements (names from the demo's lists, accents included, folded
by the same Python rule the desk uses). Then, per query, the median of ``--repeat``
runs of:

* the service (``services.search.search_customers``: probes, ranking, names);
* the same probes as raw SQL (the statements the service sends, run directly);
* anchor: what the queue's old substring search does for a phone number
  (``value LIKE '%…%'``, a scan of every contact point).

Prints milliseconds and the ratios; not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from agent_desk.demo.cast import FIRST_NAMES, LAST_NAMES
from agent_desk.domain import search_keys as rules
from agent_desk.services.actor import SYSTEM
from agent_desk.services.database import Database
from agent_desk.services.search import probe_statement, search_customers

LETTERS = "ABCDEFGHJKLMNPRSTVWXZ"
CACHE = Path("/tmp/agent-desk-bench-search")


def _series(connection: Connection, count: int) -> str:
    if connection.dialect.name == "postgresql":
        return f"(SELECT generate_series(1, {count}) AS n) s"
    return (
        f"(WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < {count}) "
        "SELECT n FROM r) s"
    )


def _pad(connection: Connection, expression: str, width: int) -> str:
    if connection.dialect.name == "postgresql":
        return f"lpad(({expression})::text, {width}, '0')"
    return f"printf('%0{width}d', {expression})"


def _names(connection: Connection) -> int:
    """Every first x last name of the demo, with its folded words, as helper tables."""
    connection.execute(text("DROP TABLE IF EXISTS bench_name"))
    connection.execute(text("DROP TABLE IF EXISTS bench_word"))
    connection.execute(text("CREATE TABLE bench_name (i integer PRIMARY KEY, f text, l text)"))
    connection.execute(text("CREATE TABLE bench_word (i integer, w text)"))
    names, words = [], []
    for i, ((first, _), last) in enumerate((f, last) for last in LAST_NAMES for f in FIRST_NAMES):
        names.append({"i": i, "f": first, "l": last})
        words += [{"i": i, "w": w} for w in dict.fromkeys(rules.name_words(f"{first} {last}"))]
    connection.execute(text("INSERT INTO bench_name VALUES (:i, :f, :l)"), names)
    connection.execute(text("INSERT INTO bench_word VALUES (:i, :w)"), words)
    return len(names)


def build(database: Database, count: int) -> None:
    started = time.perf_counter()
    with database.engine.begin() as c:
        combos = _names(c)
        series = _series(c, count)
        phone = _pad(c, "n", 8)
        claim = _pad(c, "n", 7)
        postcode = _pad(c, "1000 + n % 9000", 4)
        letters = f"substr('{LETTERS}', 1 + n % 21, 1) || substr('{LETTERS}', 1 + (n / 21) % 21, 1)"
        statements = [
            "INSERT INTO customer (id, customer_number, first_name, last_name, language, "
            "segment, status, vulnerable, arrears_cents, credit_cents, first_time_arrears, "
            "broken_arrangement, missed_instalment, queue_bucket, created_at, version) "
            f"SELECT n, 'B' || n, b.f, b.l, 'nl', 'consumer', 'open', false, 10000, 0, false, "
            f"false, false, 5, '2026-11-01 08:00:00', 1 FROM {series} "
            f"JOIN bench_name b ON b.i = n % {combos}",
            "INSERT INTO contact_point (id, customer_id, kind, value, preferred, consent_sms, "
            "consent_whatsapp, invalid, version) "
            f"SELECT 3 * n - 2, n, 'mobile', '+316' || {phone}, true, false, false, false, 1 "
            f"FROM {series}",
            "INSERT INTO contact_point (id, customer_id, kind, value, preferred, consent_sms, "
            "consent_whatsapp, invalid, version) "
            f"SELECT 3 * n - 1, n, 'email', 'klant' || n || '@example.nl', false, false, "
            f"false, false, 1 FROM {series}",
            "INSERT INTO contact_point (id, customer_id, kind, value, street, house_number, "
            "postcode, city, preferred, consent_sms, consent_whatsapp, invalid, version) "
            f"SELECT 3 * n, n, 'address', 'Dorpsstraat', 'Dorpsstraat', (n % 250) + 1, "
            f"{postcode} || ' ' || {letters}, 'Ede', false, false, false, false, 1 "
            f"FROM {series}",
            "INSERT INTO claim (id, customer_id, reference, description, principal_cents, "
            "paid_cents, due_date, version) "
            f"SELECT n, n, 'INV-2026-' || {claim}, 'Energie', 10000, 0, '2026-10-01', 1 "
            f"FROM {series}",
            "INSERT INTO customer_search_key (customer_id, field, key) "
            f"SELECT DISTINCT n, 'name', w.w FROM {series} JOIN bench_word w ON w.i = n % {combos}",
            "INSERT INTO customer_search_key (customer_id, field, key) "
            f"SELECT n, 'customer_number', 'b' || n FROM {series}",
            "INSERT INTO customer_search_key (customer_id, field, key) "
            f"SELECT n, 'phone', '316' || {phone} FROM {series}",
            "INSERT INTO customer_search_key (customer_id, field, key) "
            f"SELECT n, 'email', 'klant' || n || '@example.nl' FROM {series}",
            "INSERT INTO customer_search_key (customer_id, field, key) "
            f"SELECT n, 'postcode_house_number', "
            f"lower({postcode} || {letters}) || ' ' || ((n % 250) + 1) FROM {series}",
            "INSERT INTO customer_search_key (customer_id, field, key) "
            f"SELECT n, 'claim_reference', 'inv2026' || {claim} FROM {series}",
        ]
        for statement in statements:
            c.execute(text(statement))
    with database.engine.begin() as c:
        c.execute(text("ANALYZE"))
    print(f"built {count:,} customers in {time.perf_counter() - started:.0f} s")


def _count(database: Database) -> int:
    with database.engine.connect() as c:
        return int(c.scalar(text("SELECT count(*) FROM customer")) or 0)


def open_cached(pg: str | None, count: int) -> Database:
    if pg is None:
        CACHE.mkdir(exist_ok=True)
        path = CACHE / f"search-{count}.sqlite3"
        database = Database(f"sqlite:///{path}")
        database.upgrade()
    else:
        database = Database(pg)
        database.upgrade()
    have = _count(database)
    if have == count:
        print(f"using the cached {count:,} customers in {database.engine.url}")
        return database
    if have:
        from agent_desk.models import Base

        with database.engine.begin() as c:
            tables = ", ".join(f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables))
            if c.dialect.name == "postgresql":
                c.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            else:
                for t in reversed(Base.metadata.sorted_tables):
                    c.execute(text(f'DELETE FROM "{t.name}"'))
    build(database, count)
    return database


def _median_ms(run: Callable[[], Any], repeat: int) -> float:
    run()  # warm the caches and the statement cache
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _measure(database: Database, query: str, repeat: int) -> tuple[int, float, float]:
    """Customers found, the service's and its raw SQL's median milliseconds."""
    with database.transaction() as session:
        hits = search_customers(session, SYSTEM, query)
        service = _median_ms(lambda: search_customers(session, SYSTEM, query), repeat)
        compiled = [
            str(
                probe_statement(p, 60).compile(
                    session.get_bind(), compile_kwargs={"literal_binds": True}
                )
            )
            for p in rules.probes(query)
        ]
        connection = session.connection()

        def raw() -> None:
            for sql in compiled:
                connection.exec_driver_sql(sql).all()

        return len(hits), service, _median_ms(raw, repeat)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--pg", metavar="URL", help="a PostgreSQL database (filled if needed)")
    parser.add_argument("--repeat", type=int, default=25)
    args = parser.parse_args()
    database = open_cached(args.pg, args.customers)
    target = args.customers * 2 // 3
    with database.engine.connect() as c:
        first, last, postcode, house = c.execute(
            text(
                "SELECT c.first_name, c.last_name, p.postcode, p.house_number FROM customer c "
                "JOIN contact_point p ON p.customer_id = c.id AND p.kind = 'address' "
                "WHERE c.id = :n"
            ),
            {"n": target},
        ).one()
    queries = {
        "name word (many)": rules.fold(first),
        "first + last name": f"{first} {last}",
        "accents left out": rules.fold(f"{first} {last}")[:-1],
        "customer number": f"B{target}",
        "customer number prefix": f"B{str(target)[:-2]}",
        "phone as typed": f"06-{target:08d}",
        "phone prefix": f"06-{target:08d}"[:7],
        "e-mail": f"klant{target}@example.nl",
        "postcode + house number": f"{postcode} {house}",
        "claim reference": f"INV-2026-{target:07d}",
    }
    engine = database.engine.dialect.name
    print(f"\n{engine}, {args.customers:,} customers, median of {args.repeat} runs")
    print(f"{'query':<26} {'text':<26} {'found':>5} {'service':>9} {'raw SQL':>9} {'ratio':>6}")
    for label, query in queries.items():
        found, service, raw_ms = _measure(database, query, args.repeat)
        print(
            f"{label:<26} {query[:26]:<26} {found:>5} {service:>7.2f}ms {raw_ms:>7.2f}ms "
            f"{service / raw_ms:>5.1f}x"
        )
    digits = f"{target:08d}"
    with database.engine.connect() as c:
        scan = _median_ms(
            lambda: c.execute(
                text("SELECT customer_id FROM contact_point WHERE value LIKE :p LIMIT 20"),
                {"p": f"%{digits}%"},
            ).all(),
            max(3, args.repeat // 5),
        )
    with database.transaction() as session:
        indexed = _median_ms(lambda: search_customers(session, SYSTEM, f"06-{digits}"), args.repeat)
    print(
        f"\nanchor: substring scan for a phone (the queue's old search) {scan:.1f} ms; "
        f"the search by its index {indexed:.2f} ms ({scan / indexed:,.0f}x faster)"
    )
    database.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
