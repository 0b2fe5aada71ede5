"""The date of birth on both engines: imported (either form), refused with line numbers
and nothing written, recorded with F7 with an audit that never holds the date."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agent_desk.demo import load_demo
from agent_desk.domain.verification import (
    STEP_KINDS,
    DateOfBirthChange,
    Decision,
    FlowStep,
    VerificationFlow,
    VerificationResult,
)
from agent_desk.errors import ValidationError
from agent_desk.models import AuditEvent, ChangeLog, Customer, Note
from agent_desk.services.actor import SYSTEM, Actor, actor_for_login
from agent_desk.services.customer_file import customer_file
from agent_desk.services.database import Database
from agent_desk.services.importers import ImportRejected, import_customers
from agent_desk.services.verification import apply_verification, load_verification

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(15, 0), tzinfo=UTC)
HEADER = (
    "customer_number,first_name,last_name,date_of_birth,street,house_number,postcode,city,"
    "claim_reference,principal,due_date\n"
)


@pytest.fixture
def demo(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=40, agents=2, seed=3, today=TODAY)
    return database


def _write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(content, encoding="utf-8")
    return path


def _born(database: Database, number: str) -> date | None:
    with database.transaction() as session:
        customer = session.scalar(select(Customer).where(Customer.customer_number == number))
        assert customer is not None
        return customer.date_of_birth


def _sanne(database: Database) -> Actor:
    with database.transaction() as session:
        return actor_for_login(session, "sanne")


# --------------------------------------------------------------------------- import


def test_the_import_stores_a_date_of_birth_in_either_form(demo: Database, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEADER
        + "900001,Fatma,Çelik,1981-03-12,Dorpsstraat,4,1234 AB,Ede,X-1,10.00,2026-10-01\n"
        + "900001,Fatma,Çelik,,Dorpsstraat,4,1234 AB,Ede,X-2,20.00,2026-10-02\n"
        + "900002,Jan,Vos,05-11-1960,Kerkstraat,1,3511 AB,Utrecht,X-3,10.00,2026-10-01\n"
        + "900003,Anna,Smit,,Molenweg,2,1234 AB,Ede,X-4,10.00,2026-10-01\n",
    )
    with demo.transaction() as session:
        result = import_customers(session, SYSTEM, path, NOW)
    assert result.created == 3
    assert _born(demo, "900001") == date(1981, 3, 12)
    assert _born(demo, "900002") == date(1960, 11, 5)
    assert _born(demo, "900003") is None

    # Again, with the date left empty: the stored one stays; a new one replaces it.
    path = _write(
        tmp_path,
        HEADER
        + "900001,Fatma,Çelik,,Dorpsstraat,4,1234 AB,Ede,X-1,10.00,2026-10-01\n"
        + "900002,Jan,Vos,1960-11-15,Kerkstraat,1,3511 AB,Utrecht,X-3,10.00,2026-10-01\n"
        + "900003,Anna,Smit,,Molenweg,2,1234 AB,Ede,X-4,10.00,2026-10-01\n",
    )
    with demo.transaction() as session:
        again = import_customers(session, SYSTEM, path, NOW)
    assert (again.created, again.updated, again.unchanged) == (0, 1, 2)
    assert _born(demo, "900001") == date(1981, 3, 12)
    assert _born(demo, "900002") == date(1960, 11, 15)
    assert _born(demo, "900003") is None


def test_a_file_without_the_column_still_imports(demo: Database, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "customer_number,last_name,street,house_number,postcode,city,claim_reference,"
        "principal,due_date\n900009,Vos,Kerkstraat,1,3511 AB,Utrecht,X-9,10.00,2026-10-01\n",
    )
    with demo.transaction() as session:
        assert import_customers(session, SYSTEM, path, NOW).created == 1
    assert _born(demo, "900009") is None


def _counts(database: Database) -> tuple[int, int]:
    with database.transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(Customer)) or 0,
            session.scalar(select(func.count()).select_from(ChangeLog)) or 0,
        )


def test_bad_dates_of_birth_are_refused_by_line_and_nothing_is_written(
    demo: Database, tmp_path: Path
) -> None:
    rows = [
        "900001,Fatma,Çelik,1981-03-12,Dorpsstraat,4,1234 AB,Ede,X-1,10.00,2026-10-01",
        "900002,Jan,Vos,2027-01-01,Kerkstraat,1,3511 AB,Utrecht,X-2,10.00,2026-10-01",
        "900003,Anna,Smit,31-12-1899,Molenweg,2,1234 AB,Ede,X-3,10.00,2026-10-01",
        "900004,Piet,Mol,01-01-2015,Molenweg,3,1234 AB,Ede,X-4,10.00,2026-10-01",
        "900005,Kees,Bos,12/03/1981,Molenweg,4,1234 AB,Ede,X-5,10.00,2026-10-01",
        "900001,Fatma,Çelik,1981-03-21,Dorpsstraat,4,1234 AB,Ede,X-6,10.00,2026-10-01",
    ]
    path = _write(tmp_path, HEADER + "\n".join(rows) + "\n")
    before = _counts(demo)
    with pytest.raises(ImportRejected) as rejected, demo.transaction() as session:
        import_customers(session, SYSTEM, path, NOW)
    found = [(e.line, e.message) for e in rejected.value.errors]
    assert found == [
        (3, "The date of birth lies in the future."),
        (4, "The date of birth lies before 1900."),
        (5, "The date of birth makes the customer younger than 16."),
        (6, "The date of birth is not a date like 1981-03-12 or 12-03-1981."),
    ]
    assert _counts(demo) == before
    # Without the bad rows, two dates for one customer are still refused.
    path = _write(tmp_path, HEADER + rows[0] + "\n" + rows[5] + "\n")
    with pytest.raises(ImportRejected) as rejected, demo.transaction() as session:
        import_customers(session, SYSTEM, path, NOW)
    assert [(e.line, e.message) for e in rejected.value.errors] == [
        (3, "customer 900001 has another date of birth than on line 2.")
    ]
    report = str(rejected.value)
    for value in ("1981", "2027", "1899", "2015", "12/03"):
        assert value not in report, "a date of birth is personal data: never in a report"
    assert _counts(demo) == before


# --------------------------------------------------------------------------- verification


def _customer(demo: Database) -> int:
    with demo.transaction() as session:
        customer_id = session.scalar(
            select(Customer.id).where(Customer.status == "open").order_by(Customer.id)
        )
        assert customer_id is not None
        return int(customer_id)


def _set_born(demo: Database, customer_id: int, born: date | None) -> None:
    with demo.transaction() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        customer.date_of_birth = born


def _verify_birth(demo: Database, customer_id: int, stated: str) -> tuple[VerificationResult, int]:
    with demo.transaction() as session:
        data = load_verification(session, _sanne(demo), customer_id)
    flow = VerificationFlow(
        list(data.points),
        "Sanne",
        NOW,
        preferences=data.preferences,
        date_of_birth=data.date_of_birth,
    )
    while flow.step is not FlowStep.SUMMARY:
        for view in flow.items() if flow.step in STEP_KINDS else []:
            flow.refuse(view.handle)
        if flow.step is FlowStep.DATE_OF_BIRTH:
            flow.state_date_of_birth(stated)
        flow.next()
    return flow.finish(), data.customer_version


@pytest.mark.parametrize(
    ("on_file", "stated", "decision"),
    [
        (None, "12-03-1981", "added"),
        (date(1981, 3, 21), "1981-03-12", "corrected"),
        (date(1981, 3, 12), "12-03-1981", "confirmed"),
    ],
)
def test_verification_records_the_stated_date_with_an_audit_and_no_date_in_it(
    demo: Database, on_file: date | None, stated: str, decision: str
) -> None:
    customer_id = _customer(demo)
    _set_born(demo, customer_id, on_file)
    result, version = _verify_birth(demo, customer_id, stated)
    with demo.transaction() as session:
        saved = apply_verification(
            session, _sanne(demo), customer_id, result, now=NOW, expected_version=version
        )
    assert saved.date_of_birth == decision
    with demo.transaction() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None and customer.date_of_birth == date(1981, 3, 12)
        events = session.scalars(
            select(AuditEvent).where(
                AuditEvent.customer_id == customer_id,
                AuditEvent.action == "verify",
                AuditEvent.entity == "customer",
            )
        ).all()
        notes = session.scalars(select(Note.text).where(Note.customer_id == customer_id)).all()
        file = customer_file(session, _sanne(demo), customer_id, NOW)
    assert f"date of birth {decision}" in [e.detail for e in events]
    assert any(f"date of birth: {decision}" in text for text in notes)
    for text in [*(e.detail or "" for e in events), *notes]:
        assert "1981" not in text and "12-03" not in text
    assert file.date_of_birth == date(1981, 3, 12)


def test_the_service_refuses_a_forged_date_of_birth_and_writes_nothing(demo: Database) -> None:
    customer_id = _customer(demo)
    _set_born(demo, customer_id, None)
    result, version = _verify_birth(demo, customer_id, "12-03-1981")
    forged = VerificationResult(
        result.changes,
        result.preferences,
        DateOfBirthChange(Decision.ADDED, date(2020, 1, 1), NOW, "Sanne"),
    )
    with pytest.raises(ValidationError) as refused, demo.transaction() as session:
        apply_verification(
            session, _sanne(demo), customer_id, forged, now=NOW, expected_version=version
        )
    assert refused.value.field == "date_of_birth"
    assert _born_by_id(demo, customer_id) is None


def _born_by_id(demo: Database, customer_id: int) -> date | None:
    with demo.transaction() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        return customer.date_of_birth
