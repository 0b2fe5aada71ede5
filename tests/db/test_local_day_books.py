"""Days on the books are the team's local days (Europe/Amsterdam), not UTC ones: a plan
agreed at 00:30 in Amsterdam on the night the clock goes back is of that day. Both
engines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from agent_desk.demo import load_demo
from agent_desk.domain.arrangement_plan import Mode, Terms
from agent_desk.models import Customer, LedgerEntry
from agent_desk.services import ledger
from agent_desk.services.actor import SYSTEM, actor_for_login
from agent_desk.services.arrangements import agree_arrangement
from agent_desk.services.database import Database
from agent_desk.services.importers import import_customers

HEADER = (
    "customer_number,first_name,last_name,language,segment,mobile,phone,email,street,"
    "house_number,postcode,city,agent,claim_reference,claim_description,principal,due_date\n"
    "900001,Fatma,Çelik,nl,consumer,06-12345678,,,Dorpsstraat,4,1234 ab,Ede,sanne,"
    "INV-1,Energy,300.00,2026-09-30\n"
)
# Sunday 25 October 2026, 00:30 in Amsterdam (summer time): still the 24th in UTC.
AGREED = datetime(2026, 10, 24, 22, 30, tzinfo=UTC)


def test_a_plan_agreed_after_midnight_local_is_booked_on_the_local_day(
    database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "c.csv"
    path.write_text(HEADER, encoding="utf-8")
    with database.transaction() as session:
        load_demo(session, customers=1, agents=2, seed=1)
        import_customers(session, SYSTEM, path, datetime(2026, 10, 20, 10, tzinfo=UTC))
        customer = session.scalar(select(Customer).where(Customer.customer_number == "900001"))
        assert customer is not None
        customer_id = customer.id
    with database.transaction() as session:
        arrangement_id = agree_arrangement(
            session,
            actor_for_login(session, "sanne"),
            customer_id,
            now=AGREED,
            terms=Terms(Mode.COUNT, date(2026, 11, 1), count=3),
        )
    with database.transaction() as session:
        interest = session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.arrangement_id == arrangement_id, LedgerEntry.kind == "interest"
            )
        ).all()
        assert interest and {e.interest_through for e in interest} == {date(2026, 10, 25)}
        books = ledger.load_customer_books(session, customer_id)
        assert {c.frozen_from for c in books.claims.values()} == {date(2026, 10, 25)}
