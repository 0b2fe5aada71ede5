"""Errors carry an English template and its values; the desk translates the template."""

from __future__ import annotations

import pickle

import pytest

from agent_desk.errors import (
    AgentDeskError,
    NotFoundError,
    PermissionDeniedError,
    Phrase,
    ValidationError,
)
from agent_desk.i18n import Translator
from agent_desk.services.activity import MAX_NOTE

NOTE_TOO_LONG = "The note is too long ({length} characters; at most {most})."


def test_str_is_the_filled_in_english_sentence() -> None:
    error = ValidationError(NOTE_TOO_LONG, "note", length=4001, most=4000)
    assert str(error) == "The note is too long (4001 characters; at most 4000)."
    assert error.template == NOTE_TOO_LONG
    assert error.values == {"length": 4001, "most": 4000}
    assert error.field == "note"
    with pytest.raises(ValidationError, match=r"too long \(4001 characters"):
        raise error


def test_the_old_constructor_still_works() -> None:
    error = ValidationError("Enter an amount.", "amount")
    assert (str(error), error.field, error.template, error.values) == (
        "Enter an amount.",
        "amount",
        "Enter an amount.",
        {},
    )
    assert ValidationError("x", field="f").field == "f"
    assert str(AgentDeskError()) == ""


def test_braces_without_values_are_left_alone() -> None:
    assert str(AgentDeskError("Use {braces} as they are.")) == "Use {braces} as they are."
    # A template that does not fit its values is shown as written, never raises.
    assert str(AgentDeskError("Hello {name}.", other=1)) == "Hello {name}."


def test_an_error_survives_pickling_with_its_parts() -> None:
    error = ValidationError(NOTE_TOO_LONG, "note", length=4001, most=4000)
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error)
    assert (copy.template, copy.values, copy.field) == (error.template, error.values, "note")


def test_an_error_with_values_is_translated_with_the_values_filled_in() -> None:
    nl = Translator("nl")
    error = ValidationError(NOTE_TOO_LONG, "note", length=4001, most=MAX_NOTE)
    assert nl.error(error) == f"De notitie is te lang (4001 tekens; hoogstens {MAX_NOTE})."
    missing = NotFoundError("There is no customer with number '{number}'.", number="123")
    assert nl.error(missing) == "Er is geen klant met nummer '123'."
    assert Translator("en").error(missing) == "There is no customer with number '123'."


def test_a_phrase_value_is_translated_too() -> None:
    error = PermissionDeniedError("Only a supervisor can {what}.", what=Phrase("add users"))
    assert str(error) == "Only a supervisor can add users."
    assert Translator("nl").error(error) == "Alleen een teamleider mag gebruikers toevoegen."


def test_a_whole_sentence_in_the_catalogue_wins_over_the_template() -> None:
    error = ValidationError("The {what} cannot be negative.", "amount", what="amount")
    assert Translator("nl").error(error) == "Het bedrag kan niet negatief zijn."


def test_an_unknown_message_falls_back_to_english() -> None:
    nl = Translator("nl")
    assert nl.error(ValidationError("Nobody translated {this}.", None, this=7)) == (
        "Nobody translated 7."
    )
    assert nl.error(AgentDeskError("Nobody translated this either.")) == (
        "Nobody translated this either."
    )
    assert nl.error(RuntimeError("not ours")) == "not ours"


def test_a_translation_that_does_not_fit_the_values_falls_back_to_english() -> None:
    nl = Translator("nl")
    nl._catalogue = {NOTE_TOO_LONG: "Te lang: {wrong}."}
    error = ValidationError(NOTE_TOO_LONG, "note", length=4001, most=4000)
    assert nl.error(error) == "The note is too long (4001 characters; at most 4000)."
