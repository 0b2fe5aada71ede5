"""On the team database an agent's own connection may record a date of birth (F7)
and keep a next step: the grants of migrations 0002/0003 allow exactly that."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from agent_desk.domain.codes import Channel, Direction, Outcome
from agent_desk.domain.verification import STEP_KINDS, FlowStep, VerificationFlow
from agent_desk.models import AuditEvent, Customer, NextStep
from agent_desk.services.activity import KEEP, log_contact_attempt, record_promise
from agent_desk.services.actor import actor_for_login
from agent_desk.services.queue_claims import claim_next
from agent_desk.services.verification import apply_verification, load_verification
from tests.db.test_team_security import Team, team  # noqa: F401  (the fixture)


def test_an_agent_records_a_date_of_birth_and_keeps_a_promise_check(team: Team) -> None:  # noqa: F811
    now = datetime.now(UTC).replace(microsecond=0)
    with team.database_for(team.agent) as desk:
        with desk.transaction() as session:
            actor = actor_for_login(session, team.agent)
            claimed = claim_next(session, actor, now)
            assert claimed is not None
            customer_id = claimed.customer_id
            data = load_verification(session, actor, customer_id)
        flow = VerificationFlow(
            list(data.points), actor.display_name, now, date_of_birth=data.date_of_birth
        )
        while flow.step is not FlowStep.SUMMARY:
            for view in flow.items() if flow.step in STEP_KINDS else []:
                flow.refuse(view.handle)
            if flow.step is FlowStep.DATE_OF_BIRTH:
                flow.state_date_of_birth("12-03-1981")
            flow.next()
        result = flow.finish()
        with desk.transaction() as session:
            saved = apply_verification(
                session,
                actor,
                customer_id,
                result,
                now=now,
                expected_version=data.customer_version,
            )
            assert saved.date_of_birth in ("added", "corrected")
        with desk.transaction() as session:
            customer = session.get_one(Customer, customer_id)
            assert customer.date_of_birth == date(1981, 3, 12)
            record_promise(
                session,
                actor,
                customer_id,
                amount_cents=1000,
                due_date=now.date() + timedelta(days=5),
                now=now,
            )
        with desk.transaction() as session:
            log_contact_attempt(
                session,
                actor,
                customer_id,
                channel=Channel.PHONE,
                direction=Direction.OUTBOUND,
                outcome=Outcome.REACHED,
                note="",
                next_step=KEEP,
                now=now + timedelta(minutes=1),
            )
        with desk.transaction() as session:
            kinds = session.scalars(
                select(NextStep.kind).where(
                    NextStep.customer_id == customer_id, NextStep.done_at.is_(None)
                )
            ).all()
            assert kinds == ["promise_check"]
            details = session.scalars(
                select(AuditEvent.detail).where(AuditEvent.customer_id == customer_id)
            ).all()
            assert any(d and d.startswith("date of birth ") for d in details)
