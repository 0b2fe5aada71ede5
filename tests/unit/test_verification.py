from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_desk.domain.contact_validation import PostalAddress
from agent_desk.domain.verification import (
    SOURCE_CUSTOMER_ON_CALL,
    Channel,
    ContactKind,
    ContactPoint,
    Decision,
    FlowStep,
    TimeOfDay,
    VerificationFlow,
    VerificationPolicy,
    is_stale,
    needs_verification,
    stale_points,
)
from agent_desk.errors import ValidationError

NOW = datetime(2025, 6, 30, 14, 0)
POLICY = VerificationPolicy()


def point(pid: int, kind: ContactKind, value: str, days_ago: int | None = 200) -> ContactPoint:
    verified = None if days_ago is None else NOW - timedelta(days=days_ago)
    return ContactPoint(pid, kind, value, verified)


def customer_points() -> list[ContactPoint]:
    return [
        point(1, ContactKind.PHONE, "+31201234567"),
        point(2, ContactKind.MOBILE, "+31612345678", days_ago=None),
        point(3, ContactKind.EMAIL, "jan@example.nl", days_ago=10),
        point(4, ContactKind.ADDRESS, "Dorpsstraat 1, 1234 AB Delft"),
        ContactPoint(5, ContactKind.PHONE, "+31101234567", None, invalid=True),
    ]


def flow(points: list[ContactPoint] | None = None) -> VerificationFlow:
    return VerificationFlow(customer_points() if points is None else points, agent="sanne", now=NOW)


# ------------------------------------------------------------------ staleness


def test_exactly_ninety_days_is_fresh_ninety_one_is_stale() -> None:
    assert not is_stale(point(1, ContactKind.PHONE, "x", days_ago=90), NOW, POLICY)
    assert is_stale(point(1, ContactKind.PHONE, "x", days_ago=91), NOW, POLICY)
    assert not is_stale(point(1, ContactKind.PHONE, "x", days_ago=0), NOW, POLICY)


def test_never_verified_is_stale() -> None:
    assert is_stale(point(1, ContactKind.PHONE, "x", days_ago=None), NOW, POLICY)


def test_policy_interval_is_configurable() -> None:
    short = VerificationPolicy(interval_days=30)
    assert is_stale(point(1, ContactKind.EMAIL, "x", days_ago=31), NOW, short)
    assert not is_stale(point(1, ContactKind.EMAIL, "x", days_ago=30), NOW, short)


def test_needs_verification() -> None:
    fresh = [point(1, ContactKind.PHONE, "x", days_ago=5)]
    assert not needs_verification(fresh, NOW)
    assert needs_verification([*fresh, point(2, ContactKind.EMAIL, "y", days_ago=None)], NOW)
    assert needs_verification([], NOW)  # nothing usable at all: ask
    invalid_only = [ContactPoint(1, ContactKind.PHONE, "x", None, invalid=True)]
    assert needs_verification(invalid_only, NOW)
    assert stale_points([*fresh, *invalid_only], NOW) == []


@given(st.integers(0, 1000), st.integers(1, 400))
def test_staleness_boundary(days_ago: int, interval: int) -> None:
    policy = VerificationPolicy(interval_days=interval)
    assert is_stale(point(1, ContactKind.PHONE, "x", days_ago), NOW, policy) == (
        days_ago > interval
    )


# ------------------------------------------------------------------ the flow


def walk_to(f: VerificationFlow, target: FlowStep) -> None:
    while f.step is not target:
        f.next()


def test_happy_path_produces_plain_change_records() -> None:
    f = flow()
    assert f.needed and f.step.value == "intro" and not f.can_go_back
    assert f.next() is FlowStep.PHONES
    assert [v.handle for v in f.items()] == [1, 2]  # the invalid number is not asked
    f.confirm(1)
    f.correct(2, "06-87654321")
    new = f.add(ContactKind.MOBILE, "+31 6 11112222")
    f.next()
    assert f.step.name == "EMAILS"
    f.mark_invalid(3, "mailbox no longer used")
    f.add(ContactKind.EMAIL, "Jan.Nieuw@Example.NL")
    f.next()
    f.correct(4, PostalAddress("Kerkweg", "12a", "2611ab", "Delft"))
    f.next()
    assert f.step is FlowStep.DATE_OF_BIRTH
    f.next()  # optional: the customer was not asked
    f.set_preferences(
        preferred_channel=Channel.WHATSAPP,
        best_times={TimeOfDay.EVENING},
        consent_sms=False,
        consent_whatsapp=True,
    )
    f.next()
    assert f.step.name == "SUMMARY"
    assert {v.decision for v in f.summary()} == set(Decision) - {Decision.REFUSED}
    result = f.finish()
    assert f.step.name == "DONE" and f.result is result
    by_id = {c.point_id: c for c in result.changes}
    assert by_id[1].decision is Decision.CONFIRMED and by_id[1].verified_at == NOW
    assert by_id[2].value == "+31687654321" and by_id[2].previous_value == "+31612345678"
    assert by_id[3].decision is Decision.MARKED_INVALID and by_id[3].verified_at is None
    assert by_id[3].reason == "mailbox no longer used"
    assert by_id[4].value == "Kerkweg 12A, 2611 AB Delft"
    assert by_id[4].address == PostalAddress("Kerkweg", "12A", "2611 AB", "Delft")
    added = [c for c in result.changes if c.point_id is None]
    assert sorted(c.value for c in added) == ["+31611112222", "Jan.Nieuw@example.nl"]
    assert new < 0
    for change in result.changes:
        assert change.verified_by == "sanne" and change.source == SOURCE_CUSTOMER_ON_CALL
        assert change.recorded_at == NOW and not change.refused
    prefs = result.preferences
    assert prefs.preferences.preferred_channel is Channel.WHATSAPP
    assert prefs.preferences.best_times == frozenset({TimeOfDay.EVENING})
    assert prefs.recorded_by == "sanne" and prefs.source == SOURCE_CUSTOMER_ON_CALL
    with pytest.raises(ValidationError):
        f.finish()  # only once


def test_bad_input_keeps_the_flow_on_the_same_step_with_a_field_error() -> None:
    f = flow()
    f.next()
    with pytest.raises(ValidationError):
        f.correct(2, "020 123 4567")  # a landline is not a mobile number
    assert f.step.name == "PHONES"
    assert f.error is not None and f.error.field == "mobile" and f.error.point_id == 2
    assert "mobile" in f.error.message
    with pytest.raises(ValidationError):
        f.add(ContactKind.PHONE, "12")
    assert f.error is not None and f.error.field == "phone" and f.error.point_id is None
    with pytest.raises(ValidationError) as caught:
        f.next()  # nothing decided yet
    assert caught.value.field == "decision" and f.error is not None and f.error.point_id == 1
    assert f.step.name == "PHONES"
    f.confirm(1)
    assert f.error is None
    with pytest.raises(ValidationError):
        f.mark_invalid(2, "   ")
    assert f.error is not None and f.error.field == "reason"
    with pytest.raises(ValidationError):
        f.add(ContactKind.PHONE, "020 123 4567")  # already there
    with pytest.raises(ValidationError):
        f.add(ContactKind.EMAIL, "a@b.nl")  # wrong page
    with pytest.raises(ValidationError):
        f.confirm(3)  # the e-mail belongs on the next page
    with pytest.raises(ValidationError):
        f.confirm(99)


def test_bad_address_is_tied_to_its_field() -> None:
    f = flow()
    walk_to_with_confirm(f, FlowStep.ADDRESSES)
    with pytest.raises(ValidationError):
        f.correct(4, PostalAddress("Kerkweg", "12", "12AB", "Delft"))
    assert f.error is not None and f.error.field == "postcode" and f.error.point_id == 4
    with pytest.raises(ValidationError):
        f.correct(4, "Kerkweg 12, Delft")
    assert f.error is not None and f.error.field == "street"


def walk_to_with_confirm(f: VerificationFlow, target: FlowStep) -> None:
    while f.step is not target:
        pages = (FlowStep.PHONES, FlowStep.EMAILS, FlowStep.ADDRESSES)
        for view in f.items() if f.step in pages else []:
            if view.decision is None:
                f.confirm(view.handle)
        f.next()


def test_refusal_is_recorded_as_refused_not_verified() -> None:
    f = flow()
    f.next()
    f.refuse(1)
    f.refuse_all()  # the rest of the page too
    f.next()
    f.refuse_all()
    f.next()
    f.refuse(4)
    f.next()
    f.next()
    f.next()
    result = f.finish()
    assert result.date_of_birth is None
    assert len(result.changes) == 4
    for change in result.changes:
        assert change.decision is Decision.REFUSED and change.refused
        assert change.verified_at is None and change.recorded_at == NOW
        assert change.value == change.previous_value


def test_undo_and_back() -> None:
    f = flow()
    f.next()
    f.confirm(1)
    f.undo(1)
    handle = f.add(ContactKind.PHONE, "0201112222")
    f.undo(handle)
    assert [v.decision for v in f.items()] == [None, None]
    f.confirm(1)
    f.confirm(2)
    f.next()
    assert f.back() is FlowStep.PHONES
    assert [v.decision for v in f.items()] == [Decision.CONFIRMED, Decision.CONFIRMED]
    f.back()
    with pytest.raises(ValidationError):
        f.back()


def test_preferences_must_be_consistent() -> None:
    f = flow()
    walk_to_with_confirm(f, FlowStep.PREFERENCES)
    with pytest.raises(ValidationError) as caught:
        f.set_preferences(preferred_channel=Channel.SMS, consent_sms=None)
    assert caught.value.field == "preferred_channel"
    assert f.preferences.preferred_channel is None  # nothing changed
    f.set_preferences(preferred_channel=Channel.SMS, consent_sms=True)
    f.next()
    f.finish()


def test_preferred_channel_needs_a_usable_contact_point() -> None:
    f = flow([point(1, ContactKind.PHONE, "+31201234567")])
    f.next()
    f.mark_invalid(1, "disconnected")
    walk_to(f, FlowStep.PREFERENCES)
    with pytest.raises(ValidationError, match="no usable"):
        f.set_preferences(preferred_channel=Channel.EMAIL)
    with pytest.raises(ValidationError):
        f.set_preferences(preferred_channel=Channel.PHONE)
    f.set_preferences(preferred_channel=None, best_times=[TimeOfDay.MORNING])
    f.next()
    result = f.finish()
    assert [c.decision for c in result.changes] == [Decision.MARKED_INVALID]


def test_customer_with_no_contact_points_can_add_them() -> None:
    f = flow([])
    assert f.needed
    f.next()
    f.add(ContactKind.MOBILE, "0612345678")
    f.next()
    f.next()
    f.add(ContactKind.ADDRESS, PostalAddress("Markt", "1", "1234 AB", "Gouda"))
    walk_to(f, FlowStep.PREFERENCES)
    f.set_preferences(preferred_channel=Channel.LETTER)
    f.next()
    result = f.finish()
    assert {c.kind for c in result.changes} == {ContactKind.MOBILE, ContactKind.ADDRESS}
    assert all(c.decision is Decision.ADDED and c.verified_at == NOW for c in result.changes)


def test_nothing_is_produced_before_finish_and_finish_needs_summary() -> None:
    f = flow()
    f.next()
    f.confirm(1)
    assert f.result is None
    with pytest.raises(ValidationError):
        f.finish()
    with pytest.raises(ValidationError):
        f.set_preferences(preferred_channel=None)


@given(st.lists(st.sampled_from(["next", "back", "confirm", "refuse_all"]), max_size=40))
def test_random_navigation_never_skips_an_undecided_point(moves: list[str]) -> None:
    f = flow()
    for move in moves:
        try:
            if move == "next":
                f.next()
            elif move == "back":
                f.back()
            elif move == "confirm" and f.items():
                f.confirm(f.items()[0].handle)
            elif move == "refuse_all":
                f.refuse_all()
        except ValidationError:
            pass
        order = list(FlowStep)
        for page in (FlowStep.PHONES, FlowStep.EMAILS, FlowStep.ADDRESSES):
            if order.index(f.step) > order.index(page):
                assert all(v.decision is not None for v in f.items(page))


def test_the_flows_refusals_read_in_dutch_on_a_dutch_desk() -> None:
    """Each refusal is a template with values, so the desk translates it whole."""
    from agent_desk.i18n import Translator

    dutch = Translator("nl")
    f = flow([point(1, ContactKind.PHONE, "+31201234567")])
    f.next()
    with pytest.raises(ValidationError) as added:
        f.add(ContactKind.EMAIL, "a@example.nl")
    assert (
        dutch.error(added.value)
        == "Een nieuw e-mailadres kan op deze pagina niet worden toegevoegd."
    )
    assert str(added.value) == "A new e-mail address cannot be added on this page."
    f.mark_invalid(1, "disconnected")
    walk_to(f, FlowStep.PREFERENCES)
    with pytest.raises(ValidationError) as refused:
        f.set_preferences(preferred_channel=Channel.SMS, consent_sms=True)
    assert dutch.error(refused.value) == (
        "Er is geen bruikbaar mobiel nummer voor een sms; "
        "voeg er eerst een toe of kies een ander kanaal."
    )
    assert f.error is not None and f.error.message == str(refused.value)
