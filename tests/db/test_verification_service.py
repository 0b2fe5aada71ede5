"""Contact verification written to the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from agent_desk.demo import load_demo
from agent_desk.domain.contact_validation import PostalAddress
from agent_desk.domain.verification import (
    STEP_KINDS,
    Channel,
    ContactChange,
    ContactKind,
    Decision,
    FlowStep,
    TimeOfDay,
    VerificationFlow,
    VerificationResult,
)
from agent_desk.errors import ConflictError, ValidationError
from agent_desk.models import AuditEvent, Customer, Note
from agent_desk.models import ContactPoint as ContactPointRow
from agent_desk.services.actor import actor_for_login
from agent_desk.services.customer_file import customer_file
from agent_desk.services.database import Database
from agent_desk.services.verification import (
    apply_verification,
    file_needs_verification,
    load_verification,
)

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(15, 0), tzinfo=UTC)


@pytest.fixture
def demo(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=40, agents=2, seed=3, today=TODAY)
    return database


def _customer_with(demo: Database, *kinds: str) -> int:
    """A customer with at least one usable point of each kind."""
    with demo.transaction() as session:
        for customer in session.scalars(select(Customer).order_by(Customer.id)):
            have = {p.kind for p in customer.contact_points if not p.invalid}
            if set(kinds) <= have:
                return customer.id
    raise AssertionError("no such demo customer")


def _flow(demo: Database, customer_id: int) -> tuple[VerificationFlow, dict[int, int], int]:
    with demo.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        data = load_verification(session, sanne, customer_id)
    flow = VerificationFlow(list(data.points), "sanne", NOW, preferences=data.preferences)
    return flow, dict(data.point_versions), data.customer_version


def _walk(flow: VerificationFlow) -> None:
    """Confirm phones, correct the e-mail, mark the address invalid and add a new one."""
    flow.next()  # phones
    for view in flow.items():
        flow.confirm(view.handle)
    flow.next()  # e-mails
    for view in flow.items():
        flow.correct(view.handle, "Nieuw.Adres@Example.NL")
    flow.next()  # addresses
    for view in flow.items():
        flow.mark_invalid(view.handle, "moved house")
    flow.add(ContactKind.ADDRESS, PostalAddress("Dorpsstraat", "4a", "1234ab", "Ede"))
    flow.next()  # date of birth (optional: not asked here)
    flow.next()  # preferences
    flow.set_preferences(
        preferred_channel=Channel.WHATSAPP,
        best_times=[TimeOfDay.EVENING, TimeOfDay.MORNING],
        consent_sms=False,
        consent_whatsapp=True,
    )
    flow.next()
    assert flow.step is FlowStep.SUMMARY


def _confirm_all(flow: VerificationFlow) -> VerificationResult:
    while flow.step is not FlowStep.SUMMARY:
        for view in flow.items() if flow.step in STEP_KINDS else []:
            flow.confirm(view.handle)
        flow.next()
    return flow.finish()


def test_a_check_is_saved_with_who_when_and_source(demo: Database) -> None:
    customer_id = _customer_with(demo, "mobile", "email", "address")
    flow, versions, version = _flow(demo, customer_id)
    _walk(flow)
    result = flow.finish()
    with demo.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        saved = apply_verification(
            session,
            sanne,
            customer_id,
            result,
            now=NOW,
            expected_version=version,
            point_versions=versions,
            language="nl",
        )
    assert saved.added == 1 and saved.marked_invalid >= 1 and saved.refused == 0
    with demo.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        points = session.scalars(
            select(ContactPointRow).where(ContactPointRow.customer_id == customer_id)
        ).all()
        mobiles = [p for p in points if p.kind == "mobile" and not p.invalid]
        assert mobiles and all(p.verified_at is not None for p in mobiles)
        assert all(p.verified_by_id == sanne.agent_id for p in mobiles)
        assert all(p.verification_source == "customer stated on call" for p in mobiles)
        assert all(p.consent_whatsapp and not p.consent_sms for p in mobiles)
        assert sum(p.preferred for p in points) == 1
        emails = [p for p in points if p.kind == "email"]
        assert [p.value for p in emails] == ["Nieuw.Adres@example.nl"]
        old_address = [p for p in points if p.kind == "address" and p.invalid]
        assert old_address and old_address[0].invalid_reason == "moved house"
        new_address = [p for p in points if p.kind == "address" and not p.invalid]
        assert len(new_address) == 1
        assert new_address[0].value == "Dorpsstraat 4A, 1234 AB Ede"
        assert new_address[0].postcode == "1234 AB"
        customer = session.get(Customer, customer_id)
        assert customer is not None
        assert customer.preferred_channel == "whatsapp"
        assert customer.best_time == "morning"
        note = session.scalars(select(Note).where(Note.customer_id == customer_id)).one()
        assert note.text.startswith("Contactgegevens gecontroleerd met de klant")
        assert "klopt niet meer (moved house)" in note.text
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.customer_id == customer_id)
        ).all()
        assert "verify" in actions
        file = customer_file(session, sanne, customer_id, NOW)
    assert not file_needs_verification(file, NOW)
    assert file_needs_verification(file, NOW + timedelta(days=91))


def test_a_refusal_is_recorded_as_a_refusal_not_as_verified(demo: Database) -> None:
    customer_id = _customer_with(demo, "mobile", "address")
    flow, versions, version = _flow(demo, customer_id)
    with demo.transaction() as session:
        before = {
            p.id: p.verified_at
            for p in session.scalars(
                select(ContactPointRow).where(ContactPointRow.customer_id == customer_id)
            )
        }
    flow.next()
    flow.refuse_all()
    flow.next()
    flow.refuse_all()
    flow.next()
    flow.refuse_all()
    flow.next()  # date of birth
    flow.next()  # preferences
    flow.next()
    result = flow.finish()
    with demo.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        saved = apply_verification(
            session,
            sanne,
            customer_id,
            result,
            now=NOW,
            expected_version=version,
            point_versions=versions,
        )
    assert saved.verified == 0 and saved.refused == len(result.changes) > 0
    with demo.transaction() as session:
        after = {
            p.id: p.verified_at
            for p in session.scalars(
                select(ContactPointRow).where(ContactPointRow.customer_id == customer_id)
            )
        }
        refusals = session.scalars(
            select(AuditEvent).where(
                AuditEvent.customer_id == customer_id,
                AuditEvent.action == "verification_refused",
            )
        ).all()
        note = session.scalars(select(Note).where(Note.customer_id == customer_id)).one()
    assert after == before
    assert len(refusals) == saved.refused
    assert "the customer would not say whether this is right" in note.text


def test_a_colleagues_change_writes_nothing(demo: Database) -> None:
    customer_id = _customer_with(demo, "mobile", "address")
    flow, versions, version = _flow(demo, customer_id)
    phone_id = next(p.id for p in flow.points if p.kind is ContactKind.MOBILE)
    result = _confirm_all(flow)
    with demo.transaction() as session:  # a colleague marks the number invalid meanwhile
        row = session.get(ContactPointRow, phone_id)
        assert row is not None
        row.invalid_reason = "checked by a colleague"
    with pytest.raises(ConflictError), demo.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        apply_verification(
            session,
            sanne,
            customer_id,
            result,
            now=NOW,
            expected_version=version,
            point_versions=versions,
        )
    with demo.transaction() as session:
        verified = session.scalars(
            select(ContactPointRow.verified_at).where(
                ContactPointRow.customer_id == customer_id,
                ContactPointRow.verified_at == NOW,
            )
        ).all()
        notes = session.scalars(select(Note).where(Note.customer_id == customer_id)).all()
    assert verified == [] and notes == []


def test_a_bad_value_stops_the_whole_save(demo: Database) -> None:
    customer_id = _customer_with(demo, "mobile", "address")
    flow, versions, version = _flow(demo, customer_id)
    result = _confirm_all(flow)
    # A forged change (the flow never lets this through) must not be written half.
    bad = ContactChange(
        decision=Decision.ADDED,
        kind=ContactKind.MOBILE,
        point_id=None,
        value="0201234567",
        previous_value=None,
        address=None,
        reason=None,
        refused=False,
        verified_at=NOW,
        verified_by="sanne",
        recorded_at=NOW,
    )
    forged = replace(result, changes=[*result.changes, bad])
    with pytest.raises(ValidationError), demo.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        apply_verification(
            session,
            sanne,
            customer_id,
            forged,
            now=NOW,
            expected_version=version,
            point_versions=versions,
        )
    with demo.transaction() as session:
        verified = session.scalars(
            select(ContactPointRow.id).where(
                ContactPointRow.customer_id == customer_id, ContactPointRow.verified_at == NOW
            )
        ).all()
    assert verified == []
