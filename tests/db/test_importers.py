"""CSV imports: all or nothing, line-precise errors, idempotent, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agent_desk.demo import load_demo
from agent_desk.models import ChangeLog, Claim, ContactPoint, Customer, Payment
from agent_desk.services.actor import SYSTEM
from agent_desk.services.database import Database
from agent_desk.services.importers import ImportRejected, import_customers, import_payments

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
HEADER = (
    "customer_number,first_name,last_name,language,segment,mobile,phone,email,street,"
    "house_number,postcode,city,agent,claim_reference,claim_description,principal,due_date\n"
)
GOOD = HEADER + (
    "900001,Fatma,Çelik,nl,consumer,06-12345678,,F.Celik@Example.nl,Dorpsstraat,4,1234 ab,Ede,sanne,INV-1,Energy,312.40,2026-10-01\n"
    "900001,Fatma,Çelik,nl,consumer,06-12345678,,F.Celik@Example.nl,Dorpsstraat,4,1234 ab,Ede,sanne,INV-2,Energy,100.00,2026-11-01\n"
    '900002,,"<b>Zoë & ""Ş""</b>",en,self_employed,,030-1234567,,Kerkstraat,12a,3511AB,Utrecht,,INV-3,Water,"1.088,10",2026-09-12\n'
)


def _write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def _counts(database: Database) -> tuple[int, int, int, int]:
    with database.transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(Customer)) or 0,
            session.scalar(select(func.count()).select_from(Claim)) or 0,
            session.scalar(select(func.count()).select_from(ContactPoint)) or 0,
            session.scalar(select(func.count()).select_from(ChangeLog)) or 0,
        )


@pytest.fixture
def with_agents(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=1, agents=2, seed=1)
    return database


def test_import_customers_then_again_changes_nothing(with_agents: Database, tmp_path: Path) -> None:
    path = _write(tmp_path, "customers.csv", GOOD)
    with with_agents.transaction() as session:
        result = import_customers(session, SYSTEM, path, NOW)
    assert (result.created, result.updated, result.rows) == (2, 0, 3)
    before = _counts(with_agents)
    with with_agents.transaction() as session:
        again = import_customers(session, SYSTEM, path, NOW)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert _counts(with_agents) == before, (
        "a second import writes no row, not even a change-log row"
    )
    with with_agents.transaction() as session:
        celik = session.scalar(select(Customer).where(Customer.customer_number == "900001"))
        assert celik is not None
        assert celik.arrears_cents == 41240 and celik.first_time_arrears
        values = {p.kind: p.value for p in celik.contact_points}
        assert values == {
            "mobile": "+31612345678",
            "email": "F.Celik@example.nl",
            "address": "Dorpsstraat 4, 1234 AB Ede",
        }
        zoe = session.scalar(select(Customer).where(Customer.customer_number == "900002"))
        assert (
            zoe is not None and zoe.last_name == '<b>Zoë & "Ş"</b>' and zoe.arrears_cents == 108810
        )
        assert zoe.next_step_kind == "review", "an imported customer gets a next step at once"


def test_bad_rows_are_all_reported_by_line_and_nothing_is_written(
    with_agents: Database, tmp_path: Path
) -> None:
    content = GOOD + (
        "900003,Jan,Bakker,nl,consumer,0612,,,Molenweg,1,1234AB,Ede,,INV-4,Rent,50.00,2026-10-01\n"
        "900004,Jan,Vos,de,consumer,,,,Molenweg,1,1234AB,Ede,,INV-5,Rent,50.00,2026-10-01\n"
        "900005,Jan,Smit,nl,consumer,,,,Molenweg,1,0234AB,Ede,,INV-6,Rent,-5,2026-10-01\n"
        "900006,Jan,Mol,nl,consumer,,,,Molenweg,1,1234AB,Ede,nobody,INV-7,Rent,5.005,2026-02-30\n"
    )
    path = _write(tmp_path, "bad.csv", content)
    before = _counts(with_agents)
    with pytest.raises(ImportRejected) as rejected, with_agents.transaction() as session:
        import_customers(session, SYSTEM, path, NOW)
    lines = [(e.line, e.message) for e in rejected.value.errors]
    assert [line for line, _ in lines] == [5, 6, 7, 8]
    assert "phone" in lines[0][1].lower() or "number" in lines[0][1].lower()
    assert "nl or en" in lines[1][1]
    assert "postcode" in lines[2][1].lower()
    assert "nobody" in lines[3][1]
    assert _counts(with_agents) == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "empty"),
        ("name,amount\nx,1\n", "lacks the column"),
        (HEADER, "no rows"),
        (HEADER + "1,a\n", "empty"),
    ],
)
def test_broken_files_are_rejected_plainly(
    with_agents: Database, tmp_path: Path, content: str, expected: str
) -> None:
    path = _write(tmp_path, "broken.csv", content)
    with pytest.raises(ImportRejected, match=expected), with_agents.transaction() as session:
        import_customers(session, SYSTEM, path, NOW)


def test_non_utf8_file_is_rejected(with_agents: Database, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(GOOD.encode("utf-8").replace("Ç".encode(), "Ç".encode("latin-1")))
    with pytest.raises(ImportRejected, match="not UTF-8"), with_agents.transaction() as session:
        import_customers(session, SYSTEM, path, NOW)


def test_payments_pay_interest_then_principal_oldest_claim_first_and_import_once(
    with_agents: Database, tmp_path: Path
) -> None:
    with with_agents.transaction() as session:
        import_customers(session, SYSTEM, _write(tmp_path, "c.csv", GOOD), NOW)
    payments = _write(
        tmp_path,
        "p.csv",
        "payment_reference,customer_number,amount,paid_on\nP-1,900001,350.00,2026-11-20\nP-2,900002,1088.10,2026-11-21\n",
    )
    with with_agents.transaction() as session:
        result = import_payments(session, SYSTEM, payments, NOW)
    assert result.created == 2
    with with_agents.transaction() as session:
        claims = {c.reference: c for c in session.scalars(select(Claim))}
        # INV-1: 312.40 due 1 Oct, in default from 2 Oct; 49 days at 6% = 2.52 interest,
        # paid first (6:44), then the principal; the rest goes to INV-2 (6:43, oldest).
        assert (claims["INV-1"].paid_cents, claims["INV-1"].settled_on is not None) == (31492, True)
        # INV-2: 100.00 due 1 Nov; 18 days of interest (0.30), then 34.78 of principal.
        assert claims["INV-2"].paid_cents == 35000 - 31492
        celik = session.scalar(select(Customer).where(Customer.customer_number == "900001"))
        zoe = session.scalar(select(Customer).where(Customer.customer_number == "900002"))
        assert celik is not None and celik.arrears_cents == 10000 - 3478 and celik.status == "open"
        # 1,088.10 due 12 Sep paid on 21 Nov: 69 days of interest (12.34) come first, so
        # 12.34 of principal is still owed and the customer stays open.
        assert zoe is not None and zoe.arrears_cents == 1234 and zoe.status == "open"
    with with_agents.transaction() as session:
        again = import_payments(session, SYSTEM, payments, NOW)
        assert (again.created, again.unchanged) == (0, 2)
        assert session.scalar(select(func.count()).select_from(Payment)) == 2


def test_payment_for_unknown_customer_rejects_the_file(
    with_agents: Database, tmp_path: Path
) -> None:
    payments = _write(
        tmp_path,
        "p.csv",
        "payment_reference,customer_number,amount,paid_on\nP-9,424242,1.00,2026-11-20\nP-9,424242,x,2026-11-20\n",
    )
    with pytest.raises(ImportRejected) as rejected, with_agents.transaction() as session:
        import_payments(session, SYSTEM, payments, NOW)
    assert [e.line for e in rejected.value.errors] == [3]
    assert "not an amount" in rejected.value.errors[0].message
