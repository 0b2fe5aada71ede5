"""While a customer is open, the desk renews its hold well within the lease: a call
longer than the lease keeps its customer; a colleague who took it after all is said
in the status bar, quietly."""

from __future__ import annotations

from datetime import timedelta

from pytestqt.qtbot import QtBot
from sqlalchemy import select, update

from agent_desk.app import DeskApp
from agent_desk.models import Agent, Customer
from agent_desk.services.database import Database
from agent_desk.services.queue_claims import DEFAULT_LEASE
from agent_desk.ui.app_window import HOLD_RENEWAL_MS
from tests.gui.test_letters_dialog import idle, open_file

WAIT = 20_000


def _held(database: Database, customer_id: int) -> tuple[int | None, object]:
    with database.transaction() as session:
        customer = session.get_one(Customer, customer_id)
        return customer.held_by_agent_id, customer.held_until


def test_the_open_customer_stays_held_through_a_long_call(
    qtbot: QtBot, desk_app: DeskApp, database: Database
) -> None:
    window = desk_app.window
    assert window is not None
    assert window.hold_renewal.isActive()
    assert DEFAULT_LEASE.total_seconds() * 1000 > HOLD_RENEWAL_MS * 3  # well within
    with database.transaction() as session:
        customer_id = session.scalars(
            select(Customer.id).where(Customer.assigned_agent_id == window.actor.agent_id)
        ).first()
    assert customer_id is not None
    open_file(qtbot, window, customer_id)
    holder, first_until = _held(database, customer_id)
    assert holder == window.actor.agent_id and first_until is not None
    started = window.clock()
    window.clock = lambda: started + timedelta(minutes=15)  # a quarter of an hour on the phone
    window.renew_hold()
    idle(qtbot, window)
    holder, renewed_until = _held(database, customer_id)
    assert holder == window.actor.agent_id
    assert renewed_until > first_until + timedelta(minutes=14)  # type: ignore[operator]

    # A colleague took it after all (say this desk was offline past the lease): the
    # renewal does not take it back, and the agent reads why in the status bar.
    with database.transaction() as session:
        colleague = session.scalar(
            select(Agent.id).where(Agent.id != window.actor.agent_id).order_by(Agent.id)
        )
        session.execute(
            update(Customer)
            .where(Customer.id == customer_id)
            .values(held_by_agent_id=colleague, held_until=started + timedelta(hours=2))
        )
    window.renew_hold()
    idle(qtbot, window)
    assert _held(database, customer_id)[0] == colleague
    qtbot.waitUntil(lambda: "colleague" in window.statusBar().currentMessage(), timeout=WAIT)
