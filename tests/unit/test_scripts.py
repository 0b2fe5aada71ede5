from __future__ import annotations

import shutil
import textwrap
from datetime import date
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_desk.domain.scripts.chooser import (
    REASON_MESSAGES,
    ChoiceReason,
    CustomerSituation,
    choose_script,
)
from agent_desk.domain.scripts.library import ScriptLibrary
from agent_desk.domain.scripts.model import Script, ScriptFormatError
from agent_desk.domain.scripts.reader import parse_script
from agent_desk.domain.scripts.render import ScriptContext, render_text
from agent_desk.domain.scripts.runner import ScriptRun
from agent_desk.domain.scripts.vocabulary import OUTCOME_CODES, PLACEHOLDERS, REQUIRED_SCRIPT_IDS
from agent_desk.errors import NotFoundError, ValidationError
from agent_desk.i18n import Translator
from agent_desk.resources import resource_path
from agent_desk.services.script_files import check_directory, load_library

SHIPPED = resource_path("scripts")
ALL_IDS = set(REQUIRED_SCRIPT_IDS)

GOOD = textwrap.dedent(
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
            goto: confirmed
          - key: "2"
            label: "No"
            goto: bye
            record: {outcome: third_party}
      bye:
        say: "Sorry to bother you. Goodbye."
        end: true
      confirmed:
        identity_confirmed: true
        say: "There is {arrears} open since {oldest_due_date}."
        ask: [promise_amount, promise_date, note]
        choices:
          - key: "1"
            label: "Promise"
            goto: promise
            record: {promise_requested: true}
          - key: "2"
            label: "Plan"
            goto: plan
      plan:
        say: "Let's make a plan."
        action: open_arrangement_calculator
        next: done
      promise:
        say: "Thank you."
        record: {outcome: promise_made}
        end: true
      done:
        say: "Goodbye."
        record: {outcome: arrangement_made}
        end: true
    """
)


def sample() -> Script:
    script, problems = parse_script(GOOD, path="sample.yaml")
    assert problems == []
    assert script is not None
    return script


def problems_of(text: str) -> list[str]:
    _, problems = parse_script(textwrap.dedent(text), path="bad.yaml")
    return [str(p) for p in problems]


# ------------------------------------------------------------------ shipped scripts


def test_every_shipped_script_passes_check() -> None:
    library, problems = check_directory(SHIPPED)
    assert [str(p) for p in problems] == []
    for language in ("nl", "en"):
        assert set(library.ids(language)) >= ALL_IDS
    assert library.ids("nl") == library.ids("en")


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("script_id", sorted(ALL_IDS))
def test_shipped_script_identity_first_and_polite_end(language: str, script_id: str) -> None:
    script = load_library(SHIPPED).get(script_id, language)
    run = ScriptRun(script, ScriptContext(language=language, arrears_cents=12345))
    assert not run.step.identity_confirmed
    assert "€" not in run.rendered().say
    # every shipped script can end without identity and records an outcome there
    walked = _walk_to_end_without_identity(run)
    assert walked.finished and not walked.identity_confirmed


def _walk_to_end_without_identity(run: ScriptRun) -> ScriptRun:
    for _ in range(20):
        if run.finished:
            return run
        step = run.step
        options = [c for c in step.choices if not run.script.steps[c.goto].identity_confirmed]
        if options:
            run.choose(options[-1].key)
        else:
            run.forward()
    raise AssertionError("no end without identity")


@pytest.mark.parametrize("language", ["nl", "en"])
def test_shipped_scripts_use_only_known_outcomes(language: str) -> None:
    for script in load_library(SHIPPED).for_language(language).values():
        for step in script.steps.values():
            for record in (step.record, *(c.record for c in step.choices)):
                if "outcome" in record:
                    assert record["outcome"] in OUTCOME_CODES


def test_dutch_scripts_use_u_form() -> None:
    for script in load_library(SHIPPED).for_language("nl").values():
        for step in script.steps.values():
            words = step.say.lower().replace(",", " ").replace(".", " ").replace("?", " ").split()
            assert "je" not in words and "jij" not in words and "jouw" not in words, step.id


# ------------------------------------------------------------------ chooser

CHOOSER_CASES = [
    (
        CustomerSituation(first_time_arrears=True, days_past_due=12),
        "first_time_arrears",
        ["first time in arrears", "12 days past due"],
    ),
    (
        CustomerSituation(previous_arrears_episodes=2, days_past_due=40),
        "repeat_arrears",
        ["in arrears 2 times before", "40 days past due"],
    ),
    (CustomerSituation(), "repeat_arrears", ["in arrears before"]),
    (
        CustomerSituation(broken_arrangement=True, days_past_due=1),
        "broken_arrangement",
        ["payment arrangement not kept", "1 day past due"],
    ),
    (
        CustomerSituation(inbound_call=True, first_time_arrears=True),
        "inbound_call",
        ["customer is calling us", "first time in arrears"],
    ),
    (
        CustomerSituation(vulnerable=True, first_time_arrears=True),
        "vulnerability_disclosure",
        ["known vulnerable customer", "first time in arrears"],
    ),
    (CustomerSituation(segment="self_employed"), "income_drop_self_employed", ["self-employed"]),
    (CustomerSituation(income_drop=True), "income_drop_self_employed", ["income has dropped"]),
    (
        CustomerSituation(trigger="discount_ending", first_time_arrears=True),
        "price_change_discount_end",
        ["introductory discount ended", "first time in arrears"],
    ),
    (CustomerSituation(trigger="price_change"), "price_change_discount_end", ["price changed"]),
    (CustomerSituation(debt_help_requested=True), "debt_help_referral", ["asked for debt help"]),
    (CustomerSituation(pause_requested=True), "pause_request", ["asked to pause collection"]),
    (
        CustomerSituation(paused=True, first_time_arrears=True),
        "first_time_arrears",
        ["first time in arrears", "collection is paused"],
    ),
    (
        CustomerSituation(trigger="something_else", first_time_arrears=True),
        "first_time_arrears",
        ["first time in arrears"],
    ),
]


@pytest.mark.parametrize(("facts", "expected", "reasons"), CHOOSER_CASES)
def test_chooser_on_every_situation(
    facts: CustomerSituation, expected: str, reasons: list[str]
) -> None:
    choice = choose_script(facts, ALL_IDS)
    assert choice.script_id == expected
    assert choice.reason_texts(Translator("en")) == reasons


def test_chooser_explains_in_dutch() -> None:
    facts = CustomerSituation(first_time_arrears=True, days_past_due=12)
    choice = choose_script(facts, ALL_IDS)
    assert choice.explanation(Translator("nl")) == (
        "gekozen omdat: voor het eerst een achterstand, 12 dagen over de vervaldatum"
    )
    assert choice.explanation(Translator("en")) == (
        "chosen because: first time in arrears, 12 days past due"
    )


#: Every reason as the chooser said it when it kept its own translations: the one
#: catalogue must say the same (in the chooser's context, where "self-employed" is
#: "zelfstandig ondernemer", not the customer file's "zzp'er").
REASON_WORDS = {
    "vulnerable": ("known vulnerable customer", "klant is kwetsbaar"),
    "debt_help_requested": ("asked for debt help", "klant vraagt om schuldhulp"),
    "pause_requested": ("asked to pause collection", "klant vraagt om een pauze"),
    "inbound_call": ("customer is calling us", "klant belt zelf"),
    "broken_arrangement": ("payment arrangement not kept", "betalingsregeling niet nagekomen"),
    "self_employed": ("self-employed", "zelfstandig ondernemer"),
    "income_drop": ("income has dropped", "inkomen is gedaald"),
    "discount_ending": ("introductory discount ended", "introductiekorting afgelopen"),
    "price_change": ("price changed", "prijs is veranderd"),
    "first_time_arrears": ("first time in arrears", "voor het eerst een achterstand"),
    "repeat_arrears": ("in arrears before", "eerder een achterstand"),
    "paused": ("collection is paused", "incasso staat op pauze"),
    "fallback": ("the usual script was not found", "het gewone script ontbreekt"),
}


@pytest.mark.parametrize("code", sorted(REASON_MESSAGES))
def test_chooser_reasons_come_from_the_catalogue_in_both_languages(code: str) -> None:
    en, nl = Translator("en"), Translator("nl")
    if code == "repeat_arrears_count":
        reason = ChoiceReason(code, 3)
        assert (reason.text(en), reason.text(nl)) == (
            "in arrears 3 times before",
            "3 keer eerder een achterstand",
        )
        return
    assert (ChoiceReason(code).text(en), ChoiceReason(code).text(nl)) == REASON_WORDS[code]


def test_chooser_counts_days_past_due_in_both_languages() -> None:
    en, nl = Translator("en"), Translator("nl")
    one = choose_script(CustomerSituation(days_past_due=1), ALL_IDS).reasons[-1]
    many = choose_script(CustomerSituation(days_past_due=40), ALL_IDS).reasons[-1]
    assert (one.text(en), one.text(nl)) == ("1 day past due", "1 dag over de vervaldatum")
    assert (many.text(en), many.text(nl)) == ("40 days past due", "40 dagen over de vervaldatum")


def test_chooser_falls_back_when_a_script_is_missing() -> None:
    choice = choose_script(CustomerSituation(broken_arrangement=True), {"repeat_arrears"})
    assert choice.script_id == "repeat_arrears"
    assert "the usual script was not found" in choice.reason_texts(Translator("en"))
    with pytest.raises(NotFoundError):
        choose_script(CustomerSituation(), set())


def test_chooser_priority_inbound_beats_everything() -> None:
    facts = CustomerSituation(
        inbound_call=True, vulnerable=True, broken_arrangement=True, debt_help_requested=True
    )
    assert choose_script(facts, ALL_IDS).script_id == "inbound_call"
    assert choose_script(facts, ALL_IDS - {"inbound_call"}).script_id == "vulnerability_disclosure"


@given(
    st.builds(
        CustomerSituation,
        inbound_call=st.booleans(),
        first_time_arrears=st.booleans(),
        broken_arrangement=st.booleans(),
        vulnerable=st.booleans(),
        debt_help_requested=st.booleans(),
        pause_requested=st.booleans(),
        paused=st.booleans(),
        segment=st.sampled_from([None, "self_employed", "household"]),
        income_drop=st.booleans(),
        trigger=st.sampled_from([None, "discount_ending", "price_change"]),
        days_past_due=st.integers(0, 400),
        previous_arrears_episodes=st.integers(0, 5),
    ),
    st.sampled_from(["nl", "en"]),
)
def test_chooser_always_picks_a_known_script_with_reasons(
    facts: CustomerSituation, language: str
) -> None:
    choice = choose_script(facts, ALL_IDS)
    assert choice.script_id in ALL_IDS
    texts = choice.reason_texts(Translator(language))
    assert texts and all(isinstance(r, str) and r and "{" not in r for r in texts)


# ------------------------------------------------------------------ rendering


def context(**overrides: object) -> ScriptContext:
    values: dict[str, object] = {
        "language": "nl",
        "first_name": "Zoë",
        "last_name": "d'Hondt",
        "salutation": "mevrouw",
        "agent_name": "Sanne",
        "creditor_name": "Waterbedrijf",
        "arrears_cents": 123456,
        "oldest_due_date": date(2025, 3, 1),
        "days_past_due": 12,
    }
    values.update(overrides)
    return ScriptContext(**values)  # type: ignore[arg-type]


def test_render_formats_money_and_dates_per_language() -> None:
    template = "{arrears} sinds {oldest_due_date}, {days_past_due} dagen"
    assert render_text(template, context()) == "€\xa01.234,56 sinds 1 maart 2025, 12 dagen"
    assert render_text(template, context(language="en")) == "€1,234.56 sinds 1 March 2025, 12 dagen"


@pytest.mark.parametrize(
    "name",
    ["Zoë", "d'Hondt", 'Jan "de Man"', "<b>Bold</b>", "A & B", "{arrears}", "{", "}}", "\\1", "%s"],
)
def test_customer_data_is_inserted_literally(name: str) -> None:
    rendered = render_text("Spreek ik met {first_name} {last_name}?", context(first_name=name))
    assert rendered == f"Spreek ik met {name} d'Hondt?"


@given(st.text())
def test_any_name_is_inserted_literally(name: str) -> None:
    rendered = render_text("[{last_name}]", context(last_name=name))
    assert rendered == (f"[{name}]" if name else "[(onbekend)]")


def test_empty_salutation_takes_its_space_along_and_unknowns_are_marked() -> None:
    ctx = context(salutation="")
    assert render_text("Spreek ik met {salutation} {last_name}?", ctx) == ("Spreek ik met d'Hondt?")
    assert render_text("Volgende termijn: {next_instalment_amount}", ctx) == (
        "Volgende termijn: (onbekend)"
    )
    en = context(language="en", next_instalment_cents=5000, next_instalment_due=date(2025, 4, 2))
    assert render_text("{next_instalment_amount} on {next_instalment_due}", en) == (
        "€50.00 on 2 April 2025"
    )


def test_literal_braces_in_templates() -> None:
    assert render_text("{{not a placeholder}}", context()) == "{not a placeholder}"


def test_every_placeholder_renders() -> None:
    ctx = context(
        customer_number="K-1",
        next_instalment_cents=100,
        next_instalment_due=date(2025, 1, 1),
        pause_until=date(2025, 2, 1),
        debt_help_name="Geldfit",
        debt_help_phone="0800-8115",
    )
    for name in PLACEHOLDERS:
        rendered = render_text("{" + name + "}", ctx)
        assert "{" not in rendered and "(onbekend)" not in rendered, name


# ------------------------------------------------------------------ validation with lines


def test_unknown_placeholder_is_reported_with_its_line() -> None:
    found = problems_of(GOOD.replace("Sorry to bother you.", "Sorry {fist_name}."))
    assert found == ["bad.yaml:17: unknown placeholder {fist_name} in 'say' of step 'bye'"]


def test_stray_brace_is_reported() -> None:
    found = problems_of(GOOD.replace("Sorry to bother you.", "Sorry {"))
    assert found and "single '{'" in found[0]


def test_disclosure_before_identity_is_forbidden() -> None:
    bad = GOOD.replace("Sorry to bother you. Goodbye.", "You still owe us {arrears}.")
    found = problems_of(bad)
    assert (
        "bad.yaml:16: step 'bye' comes before identity is confirmed and may not use {arrears}"
        in found
    )
    assert (
        "bad.yaml:16: step 'bye' comes before identity is confirmed and may not say 'owe'" in found
    )


def test_disclosing_outcome_or_calculator_before_identity_is_forbidden() -> None:
    bad = GOOD.replace("record: {outcome: third_party}", "record: {outcome: promise_made}")
    assert any("may not record outcome 'promise_made'" in p for p in problems_of(bad))


def test_missing_identity_step() -> None:
    found = problems_of(GOOD.replace("    identity_confirmed: true\n", ""))
    assert any("no step has 'identity_confirmed: true'" in p for p in found)


def test_dead_end_unreachable_and_missing_target() -> None:
    bad = GOOD.replace("    next: done\n", "") + "  orphan:\n    say: Hi\n    end: true\n"
    bad = bad.replace("goto: promise\n", "goto: promis\n")
    found = problems_of(bad)
    assert (
        "bad.yaml:31: step 'plan' is a dead end: give it choices, 'next', or 'end: true'" in found
    )
    assert any("goes to 'promis', which does not exist" in p for p in found)
    assert any(":42: step 'orphan' cannot be reached from 'hello'" in p for p in found)


def test_loop_without_end_is_reported() -> None:
    bad = GOOD.replace("next: done", "next: plan")
    found = problems_of(bad)
    assert any("step 'plan' never leads to an end step" in p for p in found)


def test_no_polite_end_without_identity() -> None:
    bad = GOOD.replace("goto: bye\n", "goto: confirmed\n").replace(
        "            record: {outcome: third_party}\n", ""
    )
    found = problems_of(bad)
    assert any("no end step for when identity cannot be confirmed" in p for p in found)


def test_yaml_syntax_error_has_a_line() -> None:
    found = problems_of("id: x\nsteps:\n  a: [unclosed\n  b: 1\n")
    assert len(found) == 1 and found[0].startswith("bad.yaml:") and "not valid YAML" in found[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("title: Sample\n", "title: Sample\ncolour: red\n"), "bad.yaml:4: unknown key 'colour'"),
        (("end: true\n", "end: yes please\n"), "'end' in step 'bye' must be true or false"),
        (("{outcome: third_party}", "{outcome: gone}"), "unknown outcome 'gone'"),
        (
            ("{promise_requested: true}", "{promise_amount: 5}"),
            "'promise_amount' cannot be recorded",
        ),
        (("[promise_amount, promise_date, note]", "[outcome]"), "'outcome' cannot be asked"),
        (("open_arrangement_calculator", "open_the_door"), "unknown action 'open_the_door'"),
        (('key: "2"', 'key: "1"'), "key '1' is used twice in step 'hello'"),
        (('key: "2"', 'key: "ab"'), "choice key 'ab' in step 'hello' must be one digit"),
        (("start: hello", "start: nowhere"), "'start' names a step 'nowhere' that does not exist"),
        (("language: en", "language: de"), "language 'de' is not one of nl, en"),
        (("  bye:\n", "  bye:\n    do: x\n  bye2:\n"), ""),
    ],
)
def test_format_errors_are_reported(change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in GOOD
    found = problems_of(GOOD.replace(old, new, 1))
    assert found
    assert any(message in p for p in found), found


def test_duplicate_step_is_reported() -> None:
    bad = GOOD + "  bye:\n    say: again\n    end: true\n"
    assert any("'bye' appears twice" in p for p in problems_of(bad))


def test_empty_and_non_mapping_files() -> None:
    assert problems_of("") == ["bad.yaml:1: the file is empty"]
    assert problems_of("- a\n- b\n") == [
        "bad.yaml:1: the script must be a mapping of 'key: value' lines"
    ]


# ------------------------------------------------------------------ directories


def test_check_directory_reports_missing_language_and_ids(tmp_path: Path) -> None:
    shutil.copytree(SHIPPED, tmp_path / "s")
    (tmp_path / "s" / "en" / "pause_request.yaml").unlink()
    shutil.copy(tmp_path / "s" / "nl" / "pause_request.yaml", tmp_path / "s" / "nl" / "extra.yaml")
    _, problems = check_directory(tmp_path / "s")
    text = [str(p) for p in problems]
    assert any("nl/pause_request.yaml:1: there is no 'en' version" in t for t in text)
    assert any("the required script 'pause_request' is missing" in t for t in text)
    assert any("extra.yaml:3: id 'pause_request' does not match the file name" in t for t in text)
    shutil.rmtree(tmp_path / "s" / "en")
    _, problems = check_directory(tmp_path / "s")
    assert any("the 'en' scripts folder is missing" in str(p) for p in problems)
    with pytest.raises(ScriptFormatError) as caught:
        load_library(tmp_path / "s")
    assert caught.value.problems


def test_folder_language_must_match(tmp_path: Path) -> None:
    (tmp_path / "nl").mkdir()
    (tmp_path / "nl" / "sample.yaml").write_text(GOOD, encoding="utf-8")
    _, problems = check_directory(tmp_path)
    assert any("language 'en' does not match the folder 'nl'" in str(p) for p in problems)


# ------------------------------------------------------------------ runner


def test_run_records_along_the_active_path_and_back_undoes() -> None:
    run = ScriptRun(sample(), context(language="en"))
    assert run.step.id == "hello" and not run.can_go_back
    run.choose("1")
    assert run.identity_confirmed
    run.enter("promise_amount", "150,00")
    run.enter("promise_date", "31-01-2026")
    run.choose("1")
    assert run.finished
    outcome = run.outcome()
    assert outcome.outcome_code == "promise_made"
    assert outcome.promise_requested and outcome.promise_amount_cents == 15000
    assert outcome.promise_date == date(2026, 1, 31)
    assert outcome.steps_taken == ("hello", "confirmed", "promise")
    run.back()
    assert run.recorded.get("outcome") is None and "promise_requested" not in run.recorded
    assert run.recorded["promise_amount"] == 15000  # typed values stay with their step
    run.forward()
    assert run.outcome().outcome_code == "promise_made"
    run.back()
    run.choose("2")  # a different branch drops the old path ahead
    assert run.step.id == "plan" and run.can_go_forward
    assert run.outcome().open_arrangement_calculator
    run.forward()
    assert run.outcome().outcome_code == "arrangement_made"
    assert not run.outcome().promise_requested
    with pytest.raises(ValidationError):
        run.forward()


def test_run_rejects_bad_input_and_unknown_choices() -> None:
    run = ScriptRun(sample(), context())
    with pytest.raises(ValidationError):
        run.choose("9")
    with pytest.raises(ValidationError):
        run.back()
    with pytest.raises(ValidationError):
        run.enter("promise_amount", "5")  # not asked at this step
    run.choose("1")
    with pytest.raises(ValidationError) as caught:
        run.enter("promise_date", "31 feb")
    assert caught.value.field == "promise_date"
    with pytest.raises(ValidationError):
        run.enter("promise_amount", "-3")
    run.enter("note", "  rang back  ")
    assert run.recorded["note"] == "rang back"
    run.enter("note", "")
    assert "note" not in run.recorded


def test_identity_failure_outcome_and_nothing_disclosed() -> None:
    run = ScriptRun(sample(), context())
    run.choose("2")
    outcome = run.outcome()
    assert run.finished and outcome.outcome_code == "third_party"
    assert not outcome.identity_confirmed


def test_vulnerability_note_kept_only_with_consent() -> None:
    library = load_library(SHIPPED)
    script = library.get("vulnerability_disclosure", "en")
    for consent_key, kept in (("1", True), ("2", False)):
        run = ScriptRun(script, context(language="en"))
        run.choose("1")  # the customer
        run.choose("1")  # details match
        run.choose("1")  # shares something difficult
        run.forward()  # thank -> explain
        run.forward()  # explain -> consent
        run.choose(consent_key)
        if kept:
            run.enter("vulnerability_note", "recently bereaved")
        run.choose("1")  # can talk about payments
        run.choose("3")  # referral
        outcome = run.outcome()
        assert outcome.vulnerability_disclosed
        assert outcome.vulnerability_consent is kept
        assert outcome.vulnerability_note == ("recently bereaved" if kept else None)
        assert outcome.debt_help_referral and outcome.outcome_code == "referred_debt_help"
        assert outcome.pause_requested


def test_switching_scripts_keeps_identity_and_recordings() -> None:
    library = load_library(SHIPPED)
    run = ScriptRun(library.get("first_time_arrears", "nl"), context())
    run.choose("1")
    run.choose("1")
    assert run.identity_confirmed
    switched = run.switch_to(library.get("pause_request", "nl"))
    assert switched.step.identity_confirmed and switched.identity_confirmed
    switched.forward()
    switched.choose("1")
    switched.enter("pause_requested_until", "2026-03-01")
    outcome = switched.outcome()
    assert outcome.pause_requested and outcome.pause_requested_until == date(2026, 3, 1)
    assert outcome.outcome_code == "pause_requested"
    # before identity, switching starts the new script from its beginning
    fresh = ScriptRun(library.get("first_time_arrears", "nl"), context())
    again = fresh.switch_to(library.get("repeat_arrears", "nl"))
    assert again.step.id == again.script.start and not again.identity_confirmed
    with pytest.raises(ValidationError):
        fresh.switch_to(library.get("repeat_arrears", "en"))


def test_library_lookup() -> None:
    library = ScriptLibrary([sample()])
    assert library.ids("en") == ("sample",) and len(library) == 1
    with pytest.raises(NotFoundError):
        library.get("sample", "nl")


@given(st.lists(st.sampled_from(["1", "2", "back", "forward"]), max_size=30))
def test_random_walks_keep_the_run_consistent(moves: list[str]) -> None:
    run = ScriptRun(sample(), context())
    for move in moves:
        try:
            if move == "back":
                run.back()
            elif move == "forward":
                run.forward()
            else:
                run.choose(move)
        except ValidationError:
            pass
        history = run.history
        assert history[0] == "hello" and history[-1] == run.step.id
        for here, there in pairwise(history):
            assert there in run.script.steps[here].targets()
        assert run.outcome().identity_confirmed == ("confirmed" in history)
