"""``agent-desk arrange``: agree an arrangement from the command line, end to end, on both
engines; the figures come from the books and agree with ``agent-desk balance``."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from agent_desk.cli import main
from agent_desk.domain.policy import load_default_policy
from agent_desk.models import Arrangement, Customer, DemandNotice, LedgerEntry
from agent_desk.services.database import Database

START = (date.today() + timedelta(days=7)).isoformat()


def _url(database: Database) -> str:
    return database.url.render_as_string(hide_password=False)


@pytest.fixture
def url(database: Database, capsys: pytest.CaptureFixture[str]) -> str:
    url = _url(database)
    assert (
        main(["demo", "--database", url, "--customers", "40", "--agents", "2", "--seed", "3"]) == 0
    )
    capsys.readouterr()
    return url


def _customer(database: Database, *, letter: bool, skip: int = 0) -> str:
    with database.transaction() as session:
        with_costs = select(DemandNotice.customer_id).where(DemandNotice.status == "costs_booked")
        running = select(Arrangement.customer_id).where(
            Arrangement.status.in_(["active", "pending_approval"])
        )
        query = (
            select(Customer.customer_number)
            .where(
                Customer.status == "open",
                Customer.arrears_cents >= 30_000,
                Customer.id.not_in(running),
                Customer.id.in_(with_costs) if letter else Customer.id.not_in(with_costs),
            )
            .order_by(Customer.id)
        )
        numbers = session.scalars(query).all()
    assert len(numbers) > skip
    return str(numbers[skip])


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = _run(capsys, *argv, "--json")
    assert (code, err) == (0, ""), err
    return json.loads(out)


def _cents(text: str) -> int:
    return int(Decimal(text) * 100)


def test_arrange_agrees_over_the_books_and_balance_agrees(
    url: str, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    number = _customer(database, letter=True)
    before = _json(capsys, "balance", "--database", url, "--customer", number)
    owed = before["totals"]
    data = _json(
        capsys,
        "arrange",
        "--database",
        url,
        "--customer",
        number,
        "--instalments",
        "4",
        "--start",
        START,
        "--as",
        "sanne",
    )
    assert data["status"] == "active"
    assert data["principal"] == owed["outstanding_principal"]
    assert data["costs"] == owed["outstanding_costs"] != "0.00"  # a letter ran out unpaid
    assert data["interest"] == owed["outstanding_interest"]
    assert _cents(data["total"]) == (
        _cents(data["principal"]) + _cents(data["costs"]) + _cents(data["interest"])
    )
    assert [i["number"] for i in data["instalments"]] == [1, 2, 3, 4]
    assert data["instalments"][0]["due"] == START
    assert sum(_cents(i["amount"]) for i in data["instalments"]) == _cents(data["total"])
    after = _json(capsys, "balance", "--database", url, "--customer", number)
    assert after["totals"]["outstanding"] == data["total"]
    assert after["arrangement"]["id"] == data["id"]
    with database.transaction() as session:
        arrangement = session.get_one(Arrangement, data["id"])
        assert arrangement.agent_id is not None  # --as sanne


def test_arrange_without_a_letter_charges_no_costs_and_waives_on_the_books(
    url: str, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    number = _customer(database, letter=False)
    data = _json(
        capsys,
        "arrange",
        "--database",
        url,
        "--customer",
        number,
        "--capacity",
        "150",
        "--frequency",
        "fortnightly",
        "--down-payment",
        "25.00",
        "--start",
        START,
        "--waive-interest",
    )
    assert data["costs"] == "0.00" and data["interest"] == "0.00"
    assert data["interest_waived"] != "0.00"
    assert data["total"] == data["principal"]
    first, *regular = data["instalments"]
    assert (first["number"], first["amount"]) == (0, "25.00")
    assert max(_cents(i["amount"]) for i in regular) <= 15_000 * 12 // 26
    with database.transaction() as session:
        waivers = session.scalars(
            select(LedgerEntry.amount_cents).where(
                LedgerEntry.arrangement_id == data["id"], LedgerEntry.kind == "waiver"
            )
        ).all()
    assert -sum(waivers) == _cents(data["interest_waived"])
    balance = _json(capsys, "balance", "--database", url, "--customer", number)
    assert balance["totals"]["outstanding"] == data["total"]


def test_outside_policy_needs_a_reason_then_waits(
    url: str, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    number = _customer(database, letter=False)
    too_many = str(load_default_policy().max_instalments + 1)
    argv = ["arrange", "--database", url, "--customer", number, "--instalments", too_many]
    code, out, err = _run(capsys, *argv, "--start", START)
    assert code == 1 and out == ""
    assert "outside policy" in err and len(err.strip().splitlines()) == 1
    data = _json(capsys, *argv, "--start", START, "--reason", "Only AOW income.", "--as", "sanne")
    assert data["status"] == "pending_approval"
    with database.transaction() as session:
        reason = session.get_one(Arrangement, data["id"]).approval_needed_reason or ""
    assert "Only AOW income." in reason and "at most" in reason
    # and a second one for the same customer is refused in one sentence
    code, out, err = _run(capsys, *argv, "--start", START, "--reason", "again")
    assert code == 1 and "already has an arrangement" in err


def test_plain_text_output(
    url: str, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    number = _customer(database, letter=True)
    code, out, err = _run(
        capsys,
        "arrange",
        "--database",
        url,
        "--customer",
        number,
        "--per-instalment",
        "100",
        "--start",
        START,
        "--waive-costs",
    )
    assert code == 0 and err == ""
    assert f"for customer {number}: active" in out
    assert "costs" in out and "(waived " in out and START in out


@pytest.mark.parametrize(
    ("argv", "status", "fragment"),
    [
        (["--customer", "NOPE", "--instalments", "3", "--start", START], 1, "no customer"),
        (["--customer", "{n}", "--instalments", "three", "--start", START], 2, "whole number"),
        (["--customer", "{n}", "--instalments", "3"], 2, "required: --start"),
        (["--customer", "{n}", "--start", START], 2, "One of the arguments"),
        (["--customer", "{n}", "--capacity", "0", "--start", START], 2, "more than zero"),
        (["--customer", "{n}", "--instalments", "3", "--start", "2020-01-01"], 1, "past"),
        (
            ["--customer", "{n}", "--instalments", "3", "--start", START, "--as", "nobody"],
            1,
            "no agent with login",
        ),
        (
            [
                "--customer",
                "{n}",
                "--per-instalment",
                "99999",
                "--down-payment",
                "99999",
                "--start",
                START,
            ],
            1,
            "down payment must be less than the total",
        ),
    ],
)
def test_errors_are_one_sentence(
    url: str,
    database: Database,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    status: int,
    fragment: str,
) -> None:
    number = _customer(database, letter=False)
    argv = [a.replace("{n}", number) for a in argv]
    code, out, err = _run(capsys, "arrange", "--database", url, *argv, "--json")
    assert code == status, err
    assert out == ""
    assert fragment in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    with database.transaction() as session:
        assert not session.scalars(
            select(Arrangement.id).where(Arrangement.status == "active")
        ).all()
