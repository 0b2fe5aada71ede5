"""``agent-desk promise``: records a promise as F3 does, end to end on both engines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from agent_desk.cli import main
from agent_desk.demo import load_demo
from agent_desk.domain.team_day import local_day
from agent_desk.models import AuditEvent, Customer, NextStep, PromiseToPay
from agent_desk.services.actor import SYSTEM
from agent_desk.services.database import Database
from agent_desk.services.importers import import_customers, import_payments

TODAY = local_day(datetime.now(UTC))  # the team's day, as the CLI counts it
HEADER = (
    "customer_number,first_name,last_name,language,segment,mobile,phone,email,street,"
    "house_number,postcode,city,agent,claim_reference,claim_description,principal,due_date\n"
)


def _url(database: Database) -> str:
    return database.url.render_as_string(hide_password=False)


@pytest.fixture
def desk(database: Database, tmp_path: Path) -> Database:
    """Customer 900001 (Sanne's) owes 412.40, due two months and one month ago."""
    with database.transaction() as session:
        load_demo(session, customers=1, agents=2, seed=1, today=TODAY - timedelta(days=120))
    first, second = TODAY - timedelta(days=61), TODAY - timedelta(days=30)
    path = tmp_path / "customers.csv"
    path.write_text(
        HEADER
        + f"900001,Fatma,Çelik,nl,consumer,06-12345678,,,Dorpsstraat,4,1234 ab,Ede,sanne,INV-1,Energy,312.40,{first}\n"
        + f"900001,Fatma,Çelik,nl,consumer,06-12345678,,,Dorpsstraat,4,1234 ab,Ede,sanne,INV-2,Energy,100.00,{second}\n",
        encoding="utf-8",
    )
    with database.transaction() as session:
        import_customers(session, SYSTEM, path, datetime.now(UTC))
    return database


def test_a_promise_from_the_command_line_is_the_desks_promise(
    desk: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    by = TODAY + timedelta(days=7)
    argv = ["promise", "--database", _url(desk), "--customer", "900001", "--amount", "250"]
    assert main([*argv, "--by", by.isoformat(), "--as", "sanne", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "id": out["id"],
        "customer": "900001",
        "amount": "250.00",
        "by": by.isoformat(),
        "status": "open",
        "agent": "sanne",
    }
    with desk.transaction() as session:
        promise = session.get(PromiseToPay, out["id"])
        assert promise is not None
        customer = session.get(Customer, promise.customer_id)
        assert customer is not None and customer.customer_number == "900001"
        assert (promise.amount_cents, promise.due_date, promise.status) == (25000, by, "open")
        assert promise.agent_id == customer.assigned_agent_id  # Sanne's
        # As on the desk: the next step checks it the day after the date, audited.
        step = session.scalars(
            select(NextStep).where(NextStep.customer_id == customer.id, NextStep.done_at.is_(None))
        ).one()
        assert step.kind == "promise_check"
        assert step.due_at.date() == by + timedelta(days=1)
        assert customer.next_step_kind == "promise_check"
        assert session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.entity == "promise_to_pay", AuditEvent.entity_id == promise.id
            )
        ).all() == ["create"]
    # The payment import keeps it at once; the balance shows it kept.
    payments = tmp_path / "payments.csv"
    payments.write_text(
        f"payment_reference,customer_number,amount,paid_on\nBANK-1,900001,250.00,{TODAY}\n",
        encoding="utf-8",
    )
    with desk.transaction() as session:
        import_payments(session, SYSTEM, payments, datetime.now(UTC) + timedelta(seconds=1))
    assert main(["balance", "--database", _url(desk), "--customer", "900001", "--json"]) == 0
    balance = json.loads(capsys.readouterr().out)
    assert [(p["amount"], p["by"], p["status"]) for p in balance["promises"]] == [
        ("250.00", by.isoformat(), "kept")
    ]
    # Without --json: one plain line.
    assert main([*argv.copy(), "--amount", "10,50", "--by", by.isoformat()]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("Promise ") and "pays 10.50 by" in line and "Agent Desk" in line


@pytest.mark.parametrize(
    ("extra", "status", "message"),
    [
        (["--amount", "0"], 1, "The promised amount must be more than zero."),
        (["--amount", "-5"], 1, "The promised amount must be more than zero."),
        (
            ["--amount", "1000.00"],
            1,
            "The promised amount is more than the customer owes.",
        ),  # owes 412.40 plus interest to date
        (["--by", "yesterday"], 2, "not a valid date"),
        (["--by", "PAST"], 1, "The promise date cannot be in the past."),
        (["--by", "FAR"], 1, "A promise more than three months ahead is an arrangement"),
        (["--amount", "abc"], 2, "'abc' is not an amount"),
        (["--amount", "12.5051"], 2, "more than two decimals"),
        (["--customer", "404"], 1, "There is no customer with number '404'."),
        (["--as", "nobody"], 1, "There is no agent with login 'nobody'"),
        (["--customer", None], 2, "required: --customer"),
        (["--amount", None], 2, "required: --amount"),
        (["--by", None], 2, "required: --by"),
    ],
)
def test_bad_promises_are_refused_with_one_sentence(
    desk: Database,
    capsys: pytest.CaptureFixture[str],
    extra: list[str | None],
    status: int,
    message: str,
) -> None:
    values = {"--customer": "900001", "--amount": "100.00", "--by": str(TODAY)}
    option, value = extra
    assert option is not None
    days = {"PAST": -1, "FAR": 93}
    if value in days:
        value = str(TODAY + timedelta(days=days[value]))
    argv = ["promise", "--database", _url(desk), "--json"]
    if value is None:
        values.pop(option)
    else:
        values[option] = value
    for name, text in values.items():
        argv += [name, text]
    assert main(argv) == status
    captured = capsys.readouterr()
    assert message in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert captured.out == ""
    with desk.transaction() as session:
        assert session.scalars(select(PromiseToPay)).all() == [], "nothing was recorded"


def test_the_last_day_allowed_and_all_that_is_owed_are_fine(
    desk: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    far = TODAY + timedelta(days=92)
    argv = ["promise", "--database", _url(desk), "--customer", "900001", "--json"]
    assert main([*argv, "--amount", "412.40", "--by", far.isoformat()]) == 0
    assert json.loads(capsys.readouterr().out)["amount"] == "412.40"
    assert main([*argv, "--amount", "€ 1,00", "--by", str(TODAY)]) == 0
    assert json.loads(capsys.readouterr().out)["by"] == str(TODAY)
