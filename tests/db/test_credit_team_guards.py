"""Credit used on a later claim passes the team database's guards (migration 0004) on
a supervisor's own connection: the import books it, nothing is refused. PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from agent_desk.models import Customer, LedgerEntry
from agent_desk.services.actor import actor_for_login
from agent_desk.services.importers import import_customers, import_payments
from tests.db.test_team_security import Team, team

__all__ = ["team"]  # the module's fixture, used here

pytestmark = pytest.mark.pg

HEADER = (
    "customer_number,first_name,last_name,language,segment,mobile,phone,email,street,"
    "house_number,postcode,city,agent,claim_reference,claim_description,principal,due_date\n"
)
ROW = "990001,Fatma,Çelik,nl,consumer,06-12345678,,,Dorpsstraat,4,1234 ab,Ede,,{ref},Energy,{amount},{due}\n"


def test_a_supervisors_import_uses_credit_within_the_guards(team: Team, tmp_path: Path) -> None:
    first = tmp_path / "c1.csv"
    first.write_text(HEADER + ROW.format(ref="CR-1", amount="300.00", due="2026-10-01"))
    paid = tmp_path / "p.csv"
    paid.write_text(
        "payment_reference,customer_number,amount,paid_on\nCR-P-1,990001,310.00,2026-11-01\n"
    )
    second = tmp_path / "c2.csv"
    second.write_text(
        HEADER
        + ROW.format(ref="CR-1", amount="300.00", due="2026-10-01")
        + ROW.format(ref="CR-2", amount="50.00", due="2026-11-20")
    )
    database = team.database_for(team.supervisor)
    try:
        with database.transaction() as session:
            actor = actor_for_login(session, team.supervisor)
            import_customers(session, actor, first, datetime(2026, 11, 2, 10, tzinfo=UTC))
            import_payments(session, actor, paid, datetime(2026, 11, 2, 11, tzinfo=UTC))
        with database.transaction() as session:
            actor = actor_for_login(session, team.supervisor)
            import_customers(session, actor, second, datetime(2026, 12, 1, 10, tzinfo=UTC))
        with database.transaction() as session:
            customer = session.scalar(select(Customer).where(Customer.customer_number == "990001"))
            assert customer is not None and customer.credit_cents == 0
            used = session.scalars(
                select(LedgerEntry.amount_cents).where(
                    LedgerEntry.customer_id == customer.id, LedgerEntry.note == "credit used"
                )
            ).all()
            assert sorted(used) == [-852, -852]
    finally:
        database.dispose()
