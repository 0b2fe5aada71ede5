"""The portfolio-scale import paths give the same rows as the plain ones, on SQLite and
PostgreSQL: the search keys the bulk customer import writes are the keys the search
index's own rule makes; payments booked in parts of a few customers book exactly as
the whole file at once; the planner hears of the bulk-loaded rows on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from agent_desk.demo import load_demo
from agent_desk.models import (
    AuditEvent,
    Claim,
    Customer,
    CustomerSearchKey,
    LedgerEntry,
    NextStep,
    Payment,
)
from agent_desk.services.actor import SYSTEM
from agent_desk.services.database import Database
from agent_desk.services.importers import import_customers, import_payments
from agent_desk.services.importers import payments as payments_module
from agent_desk.services.search_index import refresh_keys

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
HEADER = (
    "customer_number,first_name,last_name,mobile,phone,email,street,house_number,postcode,"
    "city,agent,claim_reference,principal,due_date\n"
)


def _customers(n: int) -> str:
    rows = []
    for i in range(n):
        mobile = ("0612345678", "+31 6 2345 6789", "06-3456 7890", "")[i % 4]
        phone = ("", "020 123 4567", "+32 471 23 45 67")[i % 3]
        email = ("", f"Klant.{i}@Example.NL", f"info@voorbeeld{i % 5}.nl", "jürgen@bücher.de")[
            i % 4
        ]
        base = (
            f"{800000 + i},Fatma,Çelik-de Vries {i % 13},{mobile},{phone},{email},"
            f"Dorpsstraat,{i % 90 + 1}a,1234 AB,Ede,{('sanne', 'daan', '')[i % 3]}"
        )
        rows.append(f"{base},INV-{i}-0,{10 + i % 500}.25,2026-0{i % 9 + 1}-15\n")
        if i % 5 == 0:
            rows.append(f"{base},INV-{i}-1,{20 + i % 300}.50,2025-12-0{i % 9 + 1}\n")
    return HEADER + "".join(rows)


@pytest.fixture
def with_agents(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=1, agents=2, seed=1)
    return database


def test_bulk_search_keys_are_the_search_index_rule(with_agents: Database, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(_customers(400), encoding="utf-8")
    with with_agents.transaction() as session:
        import_customers(session, SYSTEM, path, NOW)
    query = (
        select(CustomerSearchKey.customer_id, CustomerSearchKey.field, CustomerSearchKey.key)
        .join(Customer, Customer.id == CustomerSearchKey.customer_id)
        .where(Customer.customer_number.like("8%"))
    )
    with with_agents.transaction() as session:
        written = set(session.execute(query).all())
        ids = session.scalars(select(Customer.id).where(Customer.customer_number.like("8%"))).all()
        refresh_keys(session.connection(), ids)  # the rule, from the rows as stored
        rebuilt = set(session.execute(query).all())
        session.rollback()
    assert len(ids) == 400
    assert written == rebuilt
    assert {f for _, f, _ in written} >= {"phone", "email", "name", "claim_reference"}


def _payments(path: Path) -> None:
    lines = ["payment_reference,customer_number,amount,paid_on,claim_reference"]
    for n in range(300):
        customer = 800000 + (n * 7) % 60  # each customer's payments far apart in the file
        claim = f"INV-{customer - 800000}-1" if n % 11 == 0 and customer % 5 == 0 else ""
        lines.append(
            f"P-{n},{customer},{(n % 40) + 1}.{n % 100:02d},2026-11-{n % 20 + 1:02d},{claim}"
        )
    lines.append("P-BIG,800003,50000.00,2026-11-02,")  # far more than owed: credit, closed
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _sorted(rows: object) -> list[tuple[object, ...]]:
    return sorted(rows, key=repr)  # type: ignore[call-overload]


def _books(database: Database) -> dict[str, list[tuple[object, ...]]]:
    """What a payment import changes, without ids or clocks."""
    with database.engine.connect() as c:
        number = {i: n for i, n in c.execute(select(Customer.id, Customer.customer_number))}
        reference = {i: r for i, r in c.execute(select(Claim.id, Claim.reference))}
        paying = {i: r for i, r in c.execute(select(Payment.id, Payment.reference))}
        return {
            "customers": _sorted(
                (number[r[0]], *r[1:])
                for r in c.execute(
                    select(
                        Customer.id,
                        Customer.status,
                        Customer.arrears_cents,
                        Customer.credit_cents,
                        Customer.queue_bucket,
                    )
                )
            ),
            "claims": _sorted(
                (reference[r[0]], *r[1:])
                for r in c.execute(select(Claim.id, Claim.paid_cents, Claim.settled_on))
            ),
            "entries": _sorted(
                (
                    number[r[0]],
                    reference.get(r[1]),
                    paying.get(r[2]),
                    *r[3:],
                )
                for r in c.execute(
                    select(
                        LedgerEntry.customer_id,
                        LedgerEntry.claim_id,
                        LedgerEntry.payment_id,
                        LedgerEntry.kind,
                        LedgerEntry.part,
                        LedgerEntry.amount_cents,
                        LedgerEntry.booked_on,
                    )
                )
            ),
            "steps": _sorted(
                (number[r[0]], r[1], r[2] is None)
                for r in c.execute(select(NextStep.customer_id, NextStep.kind, NextStep.done_at))
            ),
            "audit": _sorted(
                (r[0], r[1], number[r[2]])
                for r in c.execute(
                    select(AuditEvent.action, AuditEvent.entity, AuditEvent.customer_id).where(
                        AuditEvent.entity == "payment"
                    )
                )
            ),
        }


def test_payments_booked_in_parts_book_as_the_whole_file(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text(_customers(60), encoding="utf-8")
    payments = tmp_path / "payments.csv"
    _payments(payments)
    seen: dict[int, tuple[dict[str, list[tuple[object, ...]]], list[str]]] = {}
    for per_part in (100_000, 7):
        with database.engine.begin() as c:  # the same start for both
            for table in reversed(Customer.metadata.sorted_tables):
                c.execute(table.delete())
        with database.transaction() as session:
            load_demo(session, customers=1, agents=2, seed=1)
        with database.transaction() as session:
            import_customers(session, SYSTEM, customers, NOW)
        monkeypatch.setattr(payments_module, "PAYMENT_CUSTOMERS_PER_PART", per_part)
        with database.transaction() as session:
            result = import_payments(session, SYSTEM, payments, NOW)
        assert result.created == 301
        seen[per_part] = (_books(database), result.notes)
    whole, parts = seen[100_000], seen[7]
    assert parts[1] == whole[1] and any("credit" in n for n in whole[1])
    for name in whole[0]:
        assert parts[0][name] == whole[0][name], name
    with database.transaction() as session:
        again = import_payments(session, SYSTEM, payments, NOW)
    assert (again.created, again.unchanged) == (0, 301)


def test_the_planner_hears_of_bulk_loaded_customers(with_agents: Database, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(_customers(1500), encoding="utf-8")
    with with_agents.transaction() as session:
        import_customers(session, SYSTEM, path, NOW)
        if with_agents.engine.dialect.name != "postgresql":
            return  # SQLite plans without table statistics
        known = session.scalar(
            text("SELECT reltuples FROM pg_class WHERE oid = to_regclass('customer')")
        )
        assert known is not None and known >= 1000, "ANALYZE ran inside the import"
