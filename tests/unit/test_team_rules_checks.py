"""The team-rule checkers (pure): the shipped files' checkers, with lines; rates that
say how far they are confirmed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_desk.domain import interest
from agent_desk.domain import team_rules as rules
from agent_desk.errors import ValidationError
from agent_desk.resources import read_text


def test_the_shipped_files_pass_their_checkers() -> None:
    assert rules.check("policy", "arrangements", read_text("policy", "arrangements.toml")) == []
    assert rules.check("policy", "books", read_text("policy", "books.toml")) == []
    assert (
        rules.check("rates", rules.STATUTORY, read_text("rates", f"{rules.STATUTORY}.toml")) == []
    )
    assert rules.check("rates", "bik", read_text("rates", "bik.toml")) == []
    body = read_text("scripts", "nl", "inbound_call.yaml")
    assert rules.check("script", "nl/inbound_call", body) == []


def test_problems_carry_the_line_and_the_reason() -> None:
    books = read_text("policy", "books.toml")
    broken = books.replace("fourteen_day_term_days = 14", "fourteen_day_term_days = 10")
    [problem] = rules.check("policy", "books", broken)
    assert problem.line == broken.splitlines().index("fourteen_day_term_days = 10") + 1
    assert "at least 14 days" in problem.message
    [unknown] = rules.check("policy", "books", books + "\nsurprise = 1\n")
    assert unknown.line == len((books + "\nsurprise = 1\n").splitlines())
    assert "unknown setting 'surprise'" in unknown.message
    [toml] = rules.check("policy", "arrangements", "a = 1\nb = = 2\n")
    assert toml.line == 2 and "not valid TOML" in toml.message
    assert str(toml).startswith("policy/arrangements.toml:2: ")
    script = rules.check("script", "nl/inbound_call", "id: inbound_call\nlanguage: nl\n")
    assert script and all(p.where == "scripts/nl/inbound_call.yaml" for p in script)
    assert rules.check("script", "xx/inbound_call", "id: x")[0].message.startswith("a script key")
    assert rules.check("rates", "other", "")[0].message == "there is no rate table 'other'"
    assert rules.check("nonsense", "x", "")[0].message.startswith("unknown kind")


def test_the_whole_script_set_is_checked_too() -> None:
    texts = {
        f"{lang}/{name}": read_text("scripts", lang, f"{name}.yaml")
        for lang in ("nl", "en")
        for name in ("inbound_call", "pause_request")
    }
    problems = rules.check_script_set(texts)
    assert any("required script" in p.message for p in problems)
    del texts["en/pause_request"]
    assert any("no 'en' version" in p.message for p in rules.check_script_set(texts))


def test_one_setting_is_set_in_place_and_keeps_the_comments() -> None:
    text = read_text("policy", "arrangements.toml")
    edited = rules.set_toml_value(text, "max_term_months", rules.toml_value(24, "36", "x"))
    assert "max_term_months = 36" in edited and edited.count("\n") == text.count("\n")
    assert "# Longest allowed term" in edited
    assert rules.toml_value(True, "nee", "x") == "false"
    assert rules.toml_value("10.00", "12.50", "x") == '"12.50"'
    with pytest.raises(ValidationError, match="whole number"):
        rules.toml_value(3, "three", "x")
    with pytest.raises(ValidationError, match="true or false"):
        rules.toml_value(True, "maybe", "x")
    with pytest.raises(ValidationError, match="quotes"):
        rules.toml_value("1", 'a" = 1', "x")
    with pytest.raises(ValidationError, match="no setting"):
        rules.set_toml_value(text, "nothing_here", "1")
    texts = {"arrangements": text, "books": read_text("policy", "books.toml")}
    assert rules.document_of_setting(texts, "promise_grace_days") == "books"
    with pytest.raises(ValidationError, match="no policy setting"):
        rules.document_of_setting(texts, "nothing_here")


def test_provisional_from_is_the_first_unconfirmed_day_in_the_period() -> None:
    table = interest.parse_rate_table(read_text("rates", f"{rules.STATUTORY}.toml"))
    assert table.confirmed_until == date(2024, 12, 31)
    assert table.provisional_from(date(2024, 1, 1), date(2025, 1, 1)) is None  # end exclusive
    assert table.provisional_from(date(2024, 1, 1), date(2025, 1, 2)) == date(2025, 1, 1)
    assert table.provisional_from(date(2026, 3, 1), date(2026, 4, 1)) == date(2026, 3, 1)
    unconfirmed = interest.RateTable(table.rates)  # no confirmed_until: all confirmed
    assert unconfirmed.provisional_from(date(2026, 3, 1), date(2026, 4, 1)) is None


def test_the_rate_table_refuses_what_it_does_not_know() -> None:
    with pytest.raises(ValidationError, match="unknown setting 'confirmed'"):
        interest.parse_rate_table(
            'confirmed = 2024-01-01\n[[rate]]\neffective_from = 2024-01-01\nrate = "0.07"\n'
        )
    with pytest.raises(ValidationError, match="before the first rate"):
        interest.parse_rate_table(
            'confirmed_until = 2000-01-01\n[[rate]]\neffective_from = 2024-01-01\nrate = "0.07"\n'
        )
    with pytest.raises(ValidationError, match="must be a date"):
        interest.parse_rate_table(
            'confirmed_until = "soon"\n[[rate]]\neffective_from = 2024-01-01\nrate = "0.07"\n'
        )
    with pytest.raises(ValidationError, match="unknown setting 'note'"):
        interest.parse_rate_table(
            '[[rate]]\neffective_from = 2024-01-01\nrate = "0.07"\nnote = "x"\n'
        )


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=30)


@given(
    rates=st.lists(
        st.tuples(
            st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)),
            st.decimals(min_value=0, max_value=Decimal("0.99"), places=4),
            _text,
            _text,
        ),
        min_size=1,
        max_size=6,
        unique_by=lambda r: r[0],
    ),
    confirmed_days=st.integers(min_value=0, max_value=5000),
)
def test_the_rate_table_written_by_rates_add_reads_back_the_same(
    rates: list[tuple[date, Decimal, str, str]], confirmed_days: int
) -> None:
    items = sorted(
        (
            interest.InterestRate(on, rate, source=src, recorded_by=who)
            for on, rate, src, who in rates
        ),
        key=lambda r: r.effective_from,
    )
    confirmed = date.fromordinal(items[0].effective_from.toordinal() + confirmed_days)
    table = interest.RateTable(tuple(items), confirmed)
    assert interest.parse_rate_table(interest.rate_table_text(table, "# header")) == table
    new = interest.InterestRate(items[0].effective_from, Decimal("0.05"), source="check")
    replaced = interest.with_rate(table, new)
    assert replaced.rates[0] == new and len(replaced.rates) == len(items)
