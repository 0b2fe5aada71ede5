"""Scripts ask only what the desk can check, and show the agent what to compare with."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from agent_desk.domain.scripts.reader import parse_script
from agent_desk.domain.scripts.render import ScriptContext, render_step
from agent_desk.domain.scripts.vocabulary import IDENTITY_CHECKS, checks_asked, not_on_file_asked
from agent_desk.resources import resource_path
from agent_desk.services.script_files import load_library

SAMPLE = textwrap.dedent(
    """\
    id: sample
    language: en
    title: Sample
    start: hello
    steps:
      hello:
        say: "Am I speaking with {salutation} {last_name}?"
        choices:
          - key: "1"
            label: "Yes"
            goto: check
          - key: "2"
            label: "No"
            goto: bye
            record: {outcome: third_party}
      check:
        say: >-
          Could you tell me your date of birth, and your postcode and house number?
        checks: [date_of_birth, postcode, house_number]
        if_not_stored:
          say: >-
            Could you tell me your postcode and house number, and your customer number?
          checks: [postcode, house_number, customer_number]
        choices:
          - key: "1"
            label: "Details match"
            goto: confirmed
          - key: "2"
            label: "Details do not match"
            goto: bye
      bye:
        say: "Sorry to bother you. Goodbye."
        end: true
      confirmed:
        identity_confirmed: true
        say: "There is {arrears} open."
        end: true
    """
)
SAY_LINE = 17  # the 'say:' line of step 'check'
CHECKS_LINE = 19


def problems_of(text: str) -> list[str]:
    _, problems = parse_script(text, path="s.yaml")
    return [str(p) for p in problems]


def changed(old: str, new: str) -> str:
    assert old in SAMPLE, old
    return SAMPLE.replace(old, new, 1)


def test_the_sample_passes() -> None:
    assert problems_of(SAMPLE) == []
    assert SAMPLE.splitlines()[SAY_LINE - 1].strip() == "say: >-"
    assert SAMPLE.splitlines()[CHECKS_LINE - 1].strip().startswith("checks:")


def test_asking_for_something_not_listed_is_reported_on_its_line() -> None:
    found = problems_of(changed("    checks: [date_of_birth, postcode, house_number]\n", ""))
    assert (
        f"s.yaml:{SAY_LINE}: step 'check' asks for the date of birth, postcode and house "
        "number but does not list 'date_of_birth', 'postcode' and 'house_number' under "
        "'checks', so the desk shows nothing to compare the answer with"
    ) in found


def test_asking_for_what_the_desk_does_not_hold_is_reported() -> None:
    found = problems_of(changed("and your customer number?", "and your BSN?"))
    assert any(
        p.startswith("s.yaml:")
        and "'if_not_stored' of step 'check' asks for 'bsn', which "
        "the desk does not hold: the agent cannot compare the answer"
        in p
        for p in found
    ), found
    found = problems_of(changed("your date of birth, and", "your place of birth, and"))
    assert any(
        f":{SAY_LINE}: step 'check' asks for 'place of birth', which the desk does not hold" in p
        for p in found
    ), found


def test_a_listed_check_must_be_asked() -> None:
    found = problems_of(changed("your date of birth, and your postcode", "your postcode"))
    assert (
        f"s.yaml:{SAY_LINE}: step 'check' lists 'date_of_birth' under 'checks' but its 'say' "
        "does not ask for the date of birth"
    ) in found


def test_an_optional_detail_needs_if_not_stored() -> None:
    text = changed(
        "    if_not_stored:\n      say: >-\n"
        "        Could you tell me your postcode and house number, and your customer number?\n"
        "      checks: [postcode, house_number, customer_number]\n",
        "",
    )
    found = problems_of(text)
    assert found == [
        f"s.yaml:{CHECKS_LINE}: step 'check' asks for the date of birth, which not every "
        "customer has on file; add 'if_not_stored' with checks every customer has"
    ]


def test_if_not_stored_uses_only_what_every_customer_has() -> None:
    text = changed(
        "and your customer number?\n      checks: [postcode, house_number, customer_number]",
        "and your e-mail address?\n      checks: [postcode, house_number, email]",
    )
    found = problems_of(text)
    assert any(
        "'if_not_stored' of step 'check' asks for the email, which not every customer has "
        "on file either" in p
        for p in found
    ), found


def test_if_not_stored_without_an_optional_check_is_never_said() -> None:
    text = changed("your date of birth, and your postcode", "your full name, and your postcode")
    text = text.replace(
        "[date_of_birth, postcode, house_number]", "[full_name, postcode, house_number]"
    )
    found = problems_of(text)
    assert any("'if_not_stored' of step 'check' is never said" in p for p in found), found


def test_unknown_checks_and_checks_after_identity_are_reported() -> None:
    found = problems_of(
        changed("[date_of_birth, postcode, house_number]", "[date_of_birth, shoe_size]")
    )
    assert any(
        f"s.yaml:{CHECKS_LINE}: 'shoe_size' in 'checks' in step 'check' is not something the "
        "desk can compare" in p
        for p in found
    ), found
    late = changed(
        '    say: "There is {arrears} open."\n',
        '    say: "There is {arrears} open."\n    checks: [postcode]\n',
    )
    assert any(
        "step 'confirmed' has 'checks' but is not before identity is confirmed" in p
        for p in problems_of(late)
    )


def test_if_not_stored_needs_checks_on_the_step() -> None:
    found = problems_of(changed("    checks: [date_of_birth, postcode, house_number]\n", ""))
    assert any("'if_not_stored' in step 'check' needs 'checks' on the step" in p for p in found)


def test_words_are_found_in_both_languages() -> None:
    assert checks_asked("Wilt u uw geboortedatum noemen, en uw postcode en huisnummer?", "nl") == [
        "date_of_birth",
        "postcode",
        "house_number",
    ]
    assert checks_asked("Your customer number or the number of an invoice?", "en") == [
        "customer_number",
        "invoice_number",
    ]
    assert not_on_file_asked("Wat is uw BSN of uw IBAN?", "nl") == ["bsn", "iban"]
    assert not_on_file_asked("Spinning is fun", "en") == []  # 'pin' inside a word
    assert set(IDENTITY_CHECKS) >= {"date_of_birth", "postcode", "customer_number"}


# ------------------------------------------------------------------ rendering


def sample_step() -> object:
    script, problems = parse_script(SAMPLE, path="s.yaml")
    assert script is not None and problems == []
    return script.steps["check"]


ON_FILE = {
    "full_name": ("Fatma Çelik",),
    "postcode": ("1234 AB",),
    "house_number": ("4",),
    "customer_number": ("100234",),
}


def test_with_a_date_of_birth_on_file_the_step_asks_for_it() -> None:
    context = ScriptContext(language="en", date_of_birth=date(1981, 3, 12), on_file=ON_FILE)
    step = render_step(sample_step(), context)  # type: ignore[arg-type]
    assert "date of birth" in step.say
    assert step.checks == ("date_of_birth", "postcode", "house_number")
    assert context.compare_with("date_of_birth") == ("12 March 1981",)
    assert context.compare_with("date_of_birth", "nl") == ("12 maart 1981",)
    assert context.compare_with("postcode") == ("1234 AB",)


def test_without_one_it_asks_what_the_desk_has() -> None:
    context = ScriptContext(language="en", on_file=ON_FILE)
    step = render_step(sample_step(), context)  # type: ignore[arg-type]
    assert "birth" not in step.say and "customer number" in step.say
    assert step.checks == ("postcode", "house_number", "customer_number")
    assert context.compare_with("date_of_birth") == ()


def test_identity_data_is_never_a_placeholder() -> None:
    context = ScriptContext(language="en", date_of_birth=date(1981, 3, 12), on_file=ON_FILE)
    assert "1981" not in " ".join(v or "" for v in context.values().values())


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_shipped_identity_question_has_both_forms(language: str) -> None:
    library = load_library(resource_path("scripts"))
    with_birth = ScriptContext(language=language, date_of_birth=date(1981, 3, 12), on_file=ON_FILE)
    without = ScriptContext(language=language, on_file=ON_FILE)
    for script in library.for_language(language).values():
        asking = [s for s in script.steps.values() if s.checks]
        assert asking, script.id
        for step in asking:
            assert "date_of_birth" in render_step(step, with_birth).checks, script.id
            rendered = render_step(step, without)
            assert "date_of_birth" not in rendered.checks, script.id
            assert "date_of_birth" not in checks_asked(rendered.say, language), script.id
            assert "customer_number" in rendered.checks, script.id


@pytest.mark.parametrize("language", ["nl", "en"])
def test_someone_else_answering_records_a_third_party_at_once(language: str) -> None:
    library = load_library(resource_path("scripts"))
    for script in library.for_language(language).values():
        for step in script.steps.values():
            for choice in step.choices:
                if choice.goto == "someone_else":
                    assert choice.record.get("outcome") == "third_party", script.id
