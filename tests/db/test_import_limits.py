"""The import refuses what the database cannot hold, the same way on both engines:
one sentence per line, exit 1, nothing written, no personal data in the message."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agent_desk.cli import main
from agent_desk.demo import load_demo
from agent_desk.models import Base
from agent_desk.services.actor import SYSTEM
from agent_desk.services.database import Database
from agent_desk.services.importers import ImportRejected, import_customers, import_payments

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
HEADER = (
    "customer_number,first_name,last_name,language,segment,mobile,phone,email,street,"
    "house_number,postcode,city,agent,claim_reference,claim_description,principal,due_date\n"
)
SECRET = "Vandermeulen-Geheim"  # a surname that must never appear in an error


def _row(
    last_name: str = SECRET, principal: str = "100.00", ref: str = "INV-9", number: str = "910001"
) -> str:
    return (
        f"{number},Fatma,{last_name},nl,consumer,06-12345678,,,Dorpsstraat,4,1234 AB,Ede,sanne,"
        f"{ref},Energy,{principal},2026-10-01\n"
    )


@pytest.fixture
def with_agents(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=1, agents=2, seed=1)
    return database


def _counts(database: Database) -> dict[str, int]:
    with database.transaction() as session:
        return {
            t.name: int(session.scalar(select(func.count()).select_from(t)) or 0)
            for t in Base.metadata.sorted_tables
            if t.name not in ("audit_event", "change_log")
        }


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        (_row(last_name="x" * 10_000), "longer than 150 characters"),
        (_row(last_name="x" * 140_000), "far too long"),
        (_row(principal="99999999999999.99"), "more than 1,000,000.00"),
        (_row(principal="1000000.01"), "more than 1,000,000.00"),
        (_row(last_name="Vander\x00meulen"), "NUL character"),
    ],
    ids=["10,000 characters", "over the csv field limit", "huge principal", "one cent over", "NUL"],
)
def test_what_the_database_cannot_hold_is_refused_with_its_line(
    with_agents: Database, tmp_path: Path, bad_line: str, expected: str
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + _row(number="910000", ref="INV-8") + bad_line, encoding="utf-8")
    before = _counts(with_agents)
    with pytest.raises(ImportRejected) as refused, with_agents.transaction() as session:
        import_customers(session, SYSTEM, path, NOW)
    message = str(refused.value)
    assert expected in message and "line 3" in message
    assert SECRET not in message and "Vander" not in message
    assert _counts(with_agents) == before, "nothing was written"


def test_the_ceiling_itself_is_accepted(with_agents: Database, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + _row(principal="1000000.00"), encoding="utf-8")
    with with_agents.transaction() as session:
        assert import_customers(session, SYSTEM, path, NOW).created == 1


def test_a_payment_over_the_ceiling_and_a_nul_are_refused(
    with_agents: Database, tmp_path: Path
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + _row(), encoding="utf-8")
    with with_agents.transaction() as session:
        import_customers(session, SYSTEM, path, NOW)
    payments = tmp_path / "payments.csv"
    payments.write_text(
        "payment_reference,customer_number,amount,paid_on\n"
        "P-1,910001,99999999999999.99,2026-11-20\n"
        "P-2,910001,1.00,2026-11-2\x000\n",
        encoding="utf-8",
    )
    before = _counts(with_agents)
    with pytest.raises(ImportRejected) as refused, with_agents.transaction() as session:
        import_payments(session, SYSTEM, payments, NOW)
    assert "line 3" in str(refused.value) and "NUL" in str(refused.value)
    payments.write_text(
        "payment_reference,customer_number,amount,paid_on\nP-1,910001,99999999999999.99,2026-11-20\n",
        encoding="utf-8",
    )
    with (
        pytest.raises(ImportRejected, match=r"line 2.*1,000,000\.00"),
        with_agents.transaction() as session,
    ):
        import_payments(session, SYSTEM, payments, NOW)
    assert _counts(with_agents) == before


def test_the_cli_says_it_in_sentences_and_exits_1(
    with_agents: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(
        HEADER
        + _row(last_name="Vander\x00meulen")
        + _row(principal="99999999999999.99", ref="INV-10"),
        encoding="utf-8",
    )
    url = with_agents.url.render_as_string(hide_password=False)
    assert main(["import", "customers", str(path), "--database", url]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Vander" not in err and SECRET not in err
    assert "line 2" in err
