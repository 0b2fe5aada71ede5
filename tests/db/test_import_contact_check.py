"""The customer import's bulk path keeps what the database's triggers keep, on SQLite
and PostgreSQL: ``customer.contact_verified_at`` (migration 0011), the search keys and
the change log end up as with the row triggers firing for every contact point (the
old path), and on SQLite the import's connection leaves no trace: the triggers it
sets aside are back with their own text after a good, a rejected and a cancelled
import, and the page cache is the pool's again."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from agent_desk.demo import load_demo
from agent_desk.services.actor import SYSTEM
from agent_desk.services.database import Database
from agent_desk.services.importers import (
    ImportCancelled,
    ImportRejected,
    import_customers,
)
from agent_desk.services.importers import customers as customers_module

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
VERIFIED = datetime(2026, 10, 1, 9, 30, tzinfo=UTC)
HEADER = (
    "customer_number,first_name,last_name,mobile,phone,email,street,house_number,postcode,"
    "city,agent,claim_reference,principal,due_date\n"
)


def _rows(numbers: range, *, new_mobile: set[int] = frozenset(), bad_last: bool = False) -> str:  # type: ignore[assignment]
    lines = []
    for i in numbers:
        mobile = "0623456789" if i in new_mobile else ("0612345678", "", "06-3456 7890")[i % 3]
        email = ("", f"klant.{i}@example.nl")[i % 2]
        base = (
            f"{900000 + i},Jan,de Jong {i % 7},{mobile},,{email},Kerkstraat,{i % 50 + 1},"
            f"3511 AB,Utrecht,{('sanne', '')[i % 2]}"
        )
        lines.append(f"{base},C-{i}-0,{100 + i}.00,2026-03-15\n")
        if i % 4 == 0:
            lines.append(f"{base},C-{i}-1,12.50,2026-02-01\n")
    if bad_last:
        lines.append(lines[-1].replace(",2026-03-15", ",someday"))
    return HEADER + "".join(lines)


@pytest.fixture
def with_agents(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=1, agents=2, seed=1)
    return database


def _import(database: Database, path: Path, content: str) -> None:
    path.write_text(content, encoding="utf-8")
    with database.transaction() as session:
        import_customers(session, SYSTEM, path, NOW)


def _verify_all_points(database: Database) -> None:
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE contact_point SET verified_at = :at WHERE customer_id IN "
                "(SELECT id FROM customer WHERE customer_number LIKE '9%')"
            ),
            {"at": VERIFIED},
        )


def _checked(database: Database) -> dict[str, Any]:
    with database.engine.connect() as connection:
        return {
            number: (at if at is None or isinstance(at, str) else at.replace(tzinfo=None))
            for number, at in connection.execute(
                text(
                    "SELECT customer_number, contact_verified_at FROM customer "
                    "WHERE customer_number LIKE '9%'"
                )
            )
        }


def _recounted(database: Database) -> dict[str, Any]:
    """The column's one definition (0011), worked out from the points as stored."""
    false = "false" if database.engine.dialect.name == "postgresql" else "0"
    with database.engine.connect() as connection:
        return {
            number: (at if at is None or isinstance(at, str) else at.replace(tzinfo=None))
            for number, at in connection.execute(
                text(
                    "SELECT c.customer_number, (SELECT CASE WHEN count(*) = count(p.verified_at) "
                    "THEN min(p.verified_at) END FROM contact_point p "
                    f"WHERE p.customer_id = c.id AND p.invalid = {false}) "
                    "FROM customer c WHERE c.customer_number LIKE '9%'"
                )
            )
        }


def test_the_contact_check_follows_the_points_the_import_adds(
    with_agents: Database, tmp_path: Path
) -> None:
    path = tmp_path / "customers.csv"
    _import(with_agents, path, _rows(range(30)))
    assert set(_checked(with_agents).values()) == {None}, "new points, never verified"
    _verify_all_points(with_agents)
    assert None not in _checked(with_agents).values()
    # Again with a new mobile number for some and five new customers.
    changed = {1, 5, 9, 22}
    _import(with_agents, path, _rows(range(35), new_mobile=changed))
    checked = _checked(with_agents)
    assert checked == _recounted(with_agents)
    assert {n for n, at in checked.items() if at is None} == {
        str(900000 + i) for i in (*changed, *range(30, 35))
    }
    assert len({at for at in checked.values() if at is not None}) == 1


def _snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    queries = {
        "customer": "SELECT * FROM customer ORDER BY id",
        "contact_point": "SELECT * FROM contact_point ORDER BY id",
        "claim": "SELECT * FROM claim ORDER BY id",
        "ledger_entry": "SELECT * FROM ledger_entry ORDER BY id",
        "next_step": "SELECT id, customer_id, kind, due_at, assigned_agent_id, note, "
        "created_by_id, version FROM next_step ORDER BY id",
        "audit_event": "SELECT id, agent_id, action, entity, entity_id, customer_id, detail "
        "FROM audit_event ORDER BY id",
        "search": "SELECT customer_id, field, key FROM customer_search_key "
        "ORDER BY customer_id, field, key",
        "change_log": "SELECT id, table_name, row_id, kind, customer_id FROM change_log "
        "ORDER BY id",
    }
    with database.engine.connect() as connection:
        return {
            name: [tuple(r) for r in connection.execute(text(q))] for name, q in queries.items()
        }


def test_sqlite_bulk_path_gives_what_the_row_triggers_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same two imports into two SQLite databases: once as the import runs, once
    with migration 0011's insert triggers left to fire for every point (the old path)."""
    snapshots = []
    for name, triggers in (("bulk", customers_module._POINT_INSERT_TRIGGERS), ("rows", ())):
        monkeypatch.setattr(customers_module, "_POINT_INSERT_TRIGGERS", triggers)
        database = Database(f"sqlite:///{tmp_path / (name + '.sqlite3')}")
        database.upgrade()
        with database.transaction() as session:
            load_demo(session, customers=1, agents=2, seed=1)
        (tmp_path / name).mkdir()
        path = tmp_path / name / "customers.csv"  # the audit trail names the file
        _import(database, path, _rows(range(30)))
        _verify_all_points(database)
        _import(database, path, _rows(range(35), new_mobile={2, 3, 17}))
        snapshots.append(_snapshot(database))
        database.dispose()
    bulk, rows = snapshots
    assert {t: len(v) for t, v in bulk.items()} == {t: len(v) for t, v in rows.items()}
    # created_at / "at" columns come from the clock of each run: compare the rest.
    for table in bulk:
        assert _without_times(bulk[table]) == _without_times(rows[table]), table


def _without_times(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [
        tuple(v for v in row if not isinstance(v, datetime) and not _is_stamp(v)) for row in rows
    ]


def _is_stamp(value: Any) -> bool:
    # SQLite hands DateTime columns back as text through plain SQL.
    return isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == " "


def _triggers(database: Database) -> list[tuple[str, str]]:
    with database.engine.connect() as connection:
        return [
            tuple(r)
            for r in connection.execute(
                text(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                    "AND tbl_name = 'contact_point' ORDER BY name"
                )
            )
        ]


def test_sqlite_triggers_and_cache_are_back_after_every_kind_of_import(
    tmp_path: Path,
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'desk.sqlite3'}")
    database.upgrade()
    with database.transaction() as session:
        load_demo(session, customers=1, agents=2, seed=1)
    before = _triggers(database)
    assert {n for n, _ in before} >= set(customers_module._POINT_INSERT_TRIGGERS)
    path = tmp_path / "customers.csv"

    seen: list[list[tuple[str, str]]] = []

    def look(done: int, total: int) -> None:  # another connection, mid-import
        other = Database(str(database.engine.url))
        seen.append(_triggers(other))
        other.dispose()

    path.write_text(_rows(range(10)), encoding="utf-8")
    with database.transaction() as session:
        import_customers(session, SYSTEM, path, NOW, progress=look)
    assert seen and all(s == before for s in seen), "no other connection misses them"
    assert _triggers(database) == before

    # Rejected, and a caller that commits its own work afterwards all the same.
    path.write_text(_rows(range(10, 20), bad_last=True), encoding="utf-8")
    with database.transaction() as session:
        with pytest.raises(ImportRejected):
            import_customers(session, SYSTEM, path, NOW)
        cache = session.connection().exec_driver_sql("PRAGMA cache_size").scalar()
    assert _triggers(database) == before
    assert cache == -2000, "the pool's connection has its own page cache again"

    def cancel(done: int, total: int) -> None:
        raise ImportCancelled

    path.write_text(_rows(range(20, 30)), encoding="utf-8")
    with pytest.raises(ImportCancelled), database.transaction() as session:
        import_customers(session, SYSTEM, path, NOW, progress=cancel)
    assert _triggers(database) == before
    with database.engine.connect() as connection:
        numbers = connection.execute(
            text("SELECT count(*) FROM customer WHERE customer_number LIKE '9%'")
        ).scalar()
    assert numbers == 10, "only the good import's customers"
    # The triggers work again for the desk: a new unverified point clears the check.
    _verify_all_points(database)
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO contact_point (customer_id, kind, value, preferred, consent_sms, "
                "consent_whatsapp, invalid, version) SELECT id, 'email', 'x@example.nl', 0, 0, "
                "0, 0, 1 FROM customer WHERE customer_number = '900003'"
            )
        )
    assert _checked(database)["900003"] is None
    assert _checked(database)["900004"] is not None
    database.dispose()
