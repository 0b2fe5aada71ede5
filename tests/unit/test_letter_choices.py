"""Which letters the desk offers and when a letter is recorded (moved out of the F6 widget)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from agent_desk.domain.arrangement_plan import Message
from agent_desk.domain.letter_choices import (
    EMAILABLE,
    LETTER_KINDS,
    SENT_DELIVERIES,
    STARTS_A_TERM,
    ArrangementChoice,
    RecordedLetters,
    default_arrangement,
    is_paused,
    letter_language,
    letter_options,
)
from agent_desk.services import letters as letter_service

TODAY = date(2026, 12, 1)
NOT_ACTIVE = Message("Arrangement {arrangement_id} is paid in full.", {"arrangement_id": 1})


def arrangement(pk: int, day: int, why_not: Message | None = None) -> ArrangementChoice:
    return ArrangementChoice(pk, datetime(2026, 11, day, 10, 0), why_not)


def options(
    *,
    arrears: int = 10_000,
    paused: date | None = None,
    arrangements: list[ArrangementChoice] | None = None,
) -> dict[str, str | None]:
    found = letter_options(
        today=TODAY, arrears_cents=arrears, paused_until=paused, arrangements=arrangements or []
    )
    assert tuple(o.kind for o in found) == LETTER_KINDS  # every kind, in order
    return {o.kind: None if o.why_not is None else o.why_not.text() for o in found}


def test_the_debt_help_referral_always_applies() -> None:
    assert options(arrears=0)["debt_help"] is None
    assert options(paused=TODAY)["debt_help"] is None


def test_no_arrangement_no_confirmation() -> None:
    assert options()["arrangement"] == "No arrangement yet"


def test_the_newest_arrangement_says_why_none_may_be_confirmed() -> None:
    older = arrangement(1, 1, Message("No active arrangement"))
    newest = arrangement(2, 20, NOT_ACTIVE)
    assert options(arrangements=[newest, older])["arrangement"] == NOT_ACTIVE.text()


def test_an_active_arrangement_is_confirmed_even_when_a_newer_one_is_not() -> None:
    active = arrangement(1, 1)
    newer = arrangement(2, 20, NOT_ACTIVE)
    assert options(arrangements=[active, newer])["arrangement"] is None
    assert default_arrangement([active, newer]) == active


def test_the_newest_of_two_active_arrangements_is_the_default_ties_by_id() -> None:
    assert default_arrangement([arrangement(1, 1), arrangement(2, 20)]) == arrangement(2, 20)
    assert default_arrangement([arrangement(5, 3), arrangement(4, 3)]) == arrangement(5, 3)
    assert default_arrangement([]) is None


@pytest.mark.parametrize(("arrears", "ok"), [(0, False), (-1, False), (1, True)])
def test_a_14_day_letter_needs_arrears_of_at_least_one_cent(arrears: int, ok: bool) -> None:
    why = options(arrears=arrears)["fourteen_day"]
    assert (why is None) is ok
    if not ok:
        assert why == "No arrears, so there is nothing to remind about"


def test_no_14_day_letter_during_a_pause_up_to_its_last_day() -> None:
    assert options(paused=TODAY)["fourteen_day"] == (
        "Collection is paused until 2026-12-01: no reminders during a pause"
    )
    assert options(paused=date(2026, 11, 30))["fourteen_day"] is None  # the pause ended


def test_a_pause_confirmation_only_during_a_pause() -> None:
    assert options()["pause"] == "Collection is not paused"
    assert options(paused=date(2026, 11, 30))["pause"] == "Collection is not paused"
    assert options(paused=TODAY)["pause"] is None
    assert is_paused(TODAY, TODAY) and not is_paused(None, TODAY)


def test_a_letter_is_written_in_english_only_for_an_english_customer() -> None:
    assert letter_language("en") == "en"
    assert letter_language("nl") == "nl"
    assert letter_language(None) == "nl"
    assert letter_language("de") == "nl"


def test_only_the_confirmation_is_emailed() -> None:
    assert {"arrangement"} == EMAILABLE


def test_the_same_pdf_is_recorded_once_as_sent() -> None:
    recorded = RecordedLetters()
    assert not recorded.recorded("a") and not recorded.sent("a")
    recorded.remember("a", "saved")
    assert recorded.recorded("a") and not recorded.sent("a")  # saved: printing still records
    recorded.remember("a", "printed")
    assert recorded.sent("a")
    recorded.remember("a", "saved")  # a later save is a copy: it stays sent
    assert recorded.sent("a") and recorded.deliveries == {"a": "printed"}
    recorded.remember("b", "emailed")
    assert recorded.sent("b") and not recorded.recorded("c")


def test_sent_means_what_the_service_records_as_sent() -> None:
    assert SENT_DELIVERIES == letter_service.SENT


def test_only_a_14_day_letter_starts_a_term_and_only_when_printed() -> None:
    assert {"fourteen_day"} == STARTS_A_TERM
    assert set(LETTER_KINDS) >= STARTS_A_TERM
