"""The demo's early-signal stages: a housing association with customers at each stage.

Called once at the end of ``demo.loader.load_demo``. The creditor profile becomes a
housing association (the duty), and four customers in arrears are taken through the
path with the desk's own services, so desk and CLI show every stage:

1. *not yet reportable*: contact tried and pointed to debt help, no letter yet;
2. *reportable*: and a 14-day letter with the offer, sent three weeks ago;
3. *objected*: the same, and the customer objected by phone;
4. *signal sent*: the same, and the signal exported (to a file in the temp folder).
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent_desk import letters
from agent_desk.domain.codes import Channel, CustomerStatus, Direction, NextStepKind, Outcome
from agent_desk.errors import AgentDeskError
from agent_desk.models import Arrangement, ContactPoint, Customer, DemandNotice
from agent_desk.services.activity import NextStepInput, log_contact_attempt
from agent_desk.services.actor import Actor
from agent_desk.services.creditor import set_values
from agent_desk.services.letters import fourteen_day_letter_data, record_letter
from agent_desk.services.signal_export import export_signals
from agent_desk.services.signals import municipality_of, record_objection

STAGES = ("not_yet", "signal_sent", "reportable", "objected")
MIN_ARREARS = "300.00"
#: Below this many demo customers the stages are left out (small demos in tests).
MIN_DEMO = 100


def _candidates(session: Session, count: int) -> list[Customer]:
    busy = select(Arrangement.customer_id).union(select(DemandNotice.customer_id))
    with_address = select(ContactPoint.customer_id).where(ContactPoint.kind == "address")
    return list(
        session.scalars(
            select(Customer)
            .where(
                Customer.status == CustomerStatus.OPEN.value,
                Customer.assigned_agent_id.is_not(None),
                Customer.arrears_cents >= 30_000,
                Customer.paused_until.is_(None),
                Customer.id.not_in(busy),
                Customer.id.in_(with_address),
            )
            .order_by(Customer.id.desc())  # the last ones: the demo's first stay as generated
            .limit(count)
        )
    )


def _take(
    session: Session, supervisor: Actor, customer: Customer, stage: str, now: datetime
) -> None:
    today = now.date()
    log_contact_attempt(
        session,
        supervisor,
        customer.id,
        channel=Channel.PHONE,
        direction=Direction.OUTBOUND,
        outcome=Outcome.REFERRED_DEBT_HELP,
        note="Gebeld over de huurachterstand; gewezen op gratis schuldhulp.",
        next_step=NextStepInput(NextStepKind.CALLBACK, now + timedelta(days=2)),
        now=now - timedelta(days=25),
    )
    if stage == "not_yet":
        return
    data = fourteen_day_letter_data(
        session,
        customer.customer_number,
        now,
        supervisor.display_name,
        sent_on=today - timedelta(days=21),
    )
    pdf = letters.render_pdf(data)
    written = letters.WrittenLetter(
        path=Path(tempfile.gettempdir()) / "agent-desk-demo-letter.pdf",
        sha256=letters.sha256_hex(pdf),
        kind=data.kind,
        template_version=letters.template_version("fourteen_day"),
        reference=data.reference,
        size=len(pdf),
    )
    record_letter(
        session,
        supervisor,
        data,
        written,
        now,
        customer_id=customer.id,
        delivery="printed",
        today=today,
    )
    if stage == "objected":
        record_objection(
            session,
            supervisor,
            customer.id,
            on=today - timedelta(days=10),
            channel="phone",
            now=now,
            note="Wil niet dat de gemeente belt.",
        )
    if stage == "signal_sent":
        point = session.scalars(
            select(ContactPoint).where(
                ContactPoint.customer_id == customer.id, ContactPoint.kind == "address"
            )
        ).first()
        place = municipality_of(point).name
        out = Path(tempfile.gettempdir()) / f"agent-desk-demo-signals-{today}.csv"
        export_signals(session, supervisor, place, out, today, now)


def add_signal_stages(session: Session, supervisor: Actor, now: datetime) -> dict[str, str]:
    """Take demo customers through the stages; returns stage → customer number."""
    if (session.scalar(select(func.count()).select_from(Customer)) or 0) < MIN_DEMO:
        return {}  # a tiny demo (tests) stays as generated, with the default profile
    set_values(
        session,
        supervisor,
        {
            "sector": "housing",
            "signal_min_arrears": MIN_ARREARS,
            "signal_wait_days": "14",
            # A letter of the system is signed by the team, not by "Agent Desk".
            "signatory": "Team Klantenservice De Linde",
        },
        now,
    )
    stages: dict[str, str] = {}
    today = now.date()
    pending = list(STAGES)
    for customer in _candidates(session, 40):
        if not pending:
            break
        oldest = customer.oldest_due_date
        if oldest is None or (today - oldest).days < 30:
            continue  # the letter goes out three weeks ago: the claim must be due before
        stage = pending[0]
        try:
            with session.begin_nested():
                _take(session, supervisor, customer, stage, now)
        except AgentDeskError:
            continue  # this customer does not fit (e.g. nothing a letter could name)
        stages[stage] = customer.customer_number
        pending.pop(0)
    return stages
