"""What the call script shows the agent to compare an identity answer with."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from agent_desk.demo import load_demo
from agent_desk.models import Customer
from agent_desk.services.actor import Actor, actor_for_login
from agent_desk.services.customer_file import customer_file
from agent_desk.services.database import Database
from agent_desk.services.script_context import build_context

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(15, 0), tzinfo=UTC)


@pytest.fixture
def demo(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=40, agents=2, seed=3, today=TODAY)
    return database


def _sanne(database: Database) -> Actor:
    with database.transaction() as session:
        return actor_for_login(session, "sanne")


def _customer(demo: Database) -> int:
    with demo.transaction() as session:
        customer_id = session.scalar(
            select(Customer.id).where(Customer.status == "open").order_by(Customer.id)
        )
        assert customer_id is not None
        return int(customer_id)


def _set_born(demo: Database, customer_id: int, born: date | None) -> None:
    with demo.transaction() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        customer.date_of_birth = born


def test_the_script_compares_with_what_the_file_holds(demo: Database) -> None:
    customer_id = _customer(demo)
    _set_born(demo, customer_id, date(1981, 3, 12))
    with demo.transaction() as session:
        file = customer_file(session, _sanne(demo), customer_id, NOW)
    context = build_context(file, agent_name="Sanne", creditor_name="Ons Water", language="en")
    assert context.compare_with("date_of_birth") == ("12 March 1981",)
    assert context.compare_with("customer_number") == (file.customer_number,)
    address = next(p.value for p in file.contact_points if p.kind == "address" and not p.invalid)
    postcode = context.compare_with("postcode")
    house = context.compare_with("house_number")
    assert postcode and postcode[0] in address and house and f" {house[0]}," in address
    assert set(context.compare_with("invoice_number")) <= {c.reference for c in file.claims}
    assert context.compare_with("invoice_number")
    for value in context.values().values():
        assert "1981" not in (value or ""), "identity data is never a placeholder"
