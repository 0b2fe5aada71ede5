"""Credit on the books settles a claim that arrives later: at the claims import (in its
transaction, so a refused import books none of it) and, for anything else, in the
nightly run; by art. 6:43/6:44 BW, audited, shown, and never twice. Both engines."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agent_desk.cli import main
from agent_desk.demo import load_demo
from agent_desk.models import AuditEvent, Claim, Customer, LedgerEntry, Payment
from agent_desk.services.actor import SYSTEM
from agent_desk.services.balance import balance_report, report_json
from agent_desk.services.customer_file import customer_file
from agent_desk.services.database import Database
from agent_desk.services.importers import ImportRejected, import_customers, import_payments
from agent_desk.services.nightly import run_nightly

FIRST = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
HEADER = (
    "customer_number,first_name,last_name,language,segment,mobile,phone,email,street,"
    "house_number,postcode,city,agent,claim_reference,claim_description,principal,due_date\n"
)
ROW = "900001,Fatma,Çelik,nl,consumer,06-12345678,,,Dorpsstraat,4,1234 ab,Ede,sanne,{ref},Energy,{amount},{due}\n"


def _write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def with_credit(database: Database, tmp_path: Path) -> Database:
    """Customer 900001 owed 300.00 due 1 October, paid 310.00 on 1 November: the
    interest (30 days at 6% = 1.48) and the principal are paid, 8.52 is credit."""
    with database.transaction() as session:
        load_demo(session, customers=1, agents=2, seed=1)
        first = HEADER + ROW.format(ref="INV-1", amount="300.00", due="2026-10-01")
        import_customers(session, SYSTEM, _write(tmp_path, "c1.csv", first), FIRST)
        paid = "payment_reference,customer_number,amount,paid_on\nP-1,900001,310.00,2026-11-01\n"
        import_payments(session, SYSTEM, _write(tmp_path, "p.csv", paid), FIRST)
    with database.transaction() as session:
        customer = session.scalar(select(Customer).where(Customer.customer_number == "900001"))
        assert customer is not None
        assert (customer.status, customer.credit_cents) == ("closed", 852)
    return database


def _customer(session: object) -> Customer:
    customer = session.scalar(  # type: ignore[attr-defined]
        select(Customer).where(Customer.customer_number == "900001")
    )
    assert customer is not None
    return customer


def _import_second(database: Database, tmp_path: Path, amount: str, due: str) -> None:
    content = (
        HEADER
        + ROW.format(ref="INV-1", amount="300.00", due="2026-10-01")
        + ROW.format(ref="INV-2", amount=amount, due=due)
    )
    with database.transaction() as session:
        import_customers(session, SYSTEM, _write(tmp_path, "c2.csv", content), LATER)


def test_credit_settles_a_new_claim_at_import_and_is_shown_and_audited(
    with_credit: Database, tmp_path: Path
) -> None:
    _import_second(with_credit, tmp_path, "50.00", "2026-11-20")
    with with_credit.transaction() as session:
        customer = _customer(session)
        # 8.52 of the 50.00 is paid from the credit; the customer owes again and is open.
        assert (customer.status, customer.credit_cents, customer.arrears_cents) == (
            "open",
            0,
            4148,
        )
        claim = session.scalar(select(Claim).where(Claim.reference == "INV-2"))
        assert claim is not None and claim.paid_cents == 852
        entries = session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.customer_id == customer.id, LedgerEntry.note == "credit used")
            .order_by(LedgerEntry.id)
        ).all()
        # Due after the credit arose: paid on its due date (before default), on principal.
        assert [(e.kind, e.part, e.amount_cents, e.claim_id, e.booked_on) for e in entries] == [
            ("payment", "principal", -852, claim.id, date(2026, 11, 20)),
            ("credit", "credit", -852, None, date(2026, 11, 20)),
        ]
        # Both name the payment that left the surplus (the team database's guards ask it).
        paid_by = session.scalar(select(Payment.id).where(Payment.reference == "P-1"))
        assert paid_by is not None and {e.payment_id for e in entries} == {paid_by}
        audits = session.scalars(
            select(AuditEvent).where(
                AuditEvent.customer_id == customer.id, AuditEvent.action == "credit_used"
            )
        ).all()
        assert [json.loads(a.detail or "") for a in audits] == [
            {"amount_cents": 852, "claims": ["INV-2"], "on": "2026-11-20"}
        ]
        report = report_json(balance_report(session, customer.id, date(2026, 12, 1)))
        assert (report["credit"], report["credit_used"]) == ("0.00", "8.52")
        # 41.48 plus 10 days of interest on it since default (21 November): 0.07.
        assert report["totals"]["outstanding"] == "41.55"
        desk = customer_file(session, SYSTEM, customer.id, LATER, audit_view=False)
        assert (desk.credit_cents, desk.credit_used_cents) == (0, 852)
        assert [(i.summary, i.values) for i in desk.timeline if i.kind == "credit"] == [
            ("credit_used", {"amount_cents": "852", "claims": "INV-2", "on": "2026-11-20"})
        ]
    # The nightly run (twice) and a second import of the same file book nothing more.
    for _ in range(2):
        with with_credit.transaction() as session:
            result = run_nightly(session, date(2026, 12, 2))
        assert (result.credit_customers, result.credit_cents) == (0, 0)
    _import_second(with_credit, tmp_path, "50.00", "2026-11-20")
    with with_credit.transaction() as session:
        used = session.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.kind == "credit", LedgerEntry.amount_cents < 0)
        )
        assert used == 1


def test_credit_larger_than_the_new_claim_pays_it_and_the_rest_stays(
    with_credit: Database, tmp_path: Path
) -> None:
    _import_second(with_credit, tmp_path, "5.00", "2026-11-20")
    with with_credit.transaction() as session:
        customer = _customer(session)
        assert (customer.status, customer.credit_cents, customer.arrears_cents) == (
            "closed",
            352,
            0,
        )
        report = report_json(balance_report(session, customer.id, date(2026, 12, 1)))
        assert (report["credit"], report["credit_used"]) == ("3.52", "5.00")


def test_a_refused_import_uses_no_credit(with_credit: Database, tmp_path: Path) -> None:
    content = (
        HEADER
        + ROW.format(ref="INV-2", amount="50.00", due="2026-11-20")
        + ROW.format(ref="INV-3", amount="not money", due="2026-11-20")
    )
    with pytest.raises(ImportRejected), with_credit.transaction() as session:
        import_customers(session, SYSTEM, _write(tmp_path, "bad.csv", content), LATER)
    with with_credit.transaction() as session:
        assert _customer(session).credit_cents == 852
        assert (
            session.scalar(
                select(func.count())
                .select_from(LedgerEntry)
                .where(LedgerEntry.note == "credit used")
            )
            == 0
        )


def test_the_nightly_run_settles_an_old_claim_costs_interest_principal_once(
    with_credit: Database,
) -> None:
    # A claim that reached the books without the import (e.g. older data): due
    # 1 October, 100.00; the credit exists from 1 November, so it pays on that day the
    # interest to then (100.00 x 6% x 31/365 = 0.51), then principal.
    with with_credit.transaction() as session:
        customer = _customer(session)
        claim = Claim(
            customer_id=customer.id,
            reference="INV-OLD",
            principal_cents=10_000,
            due_date=date(2026, 9, 30),
        )
        session.add(claim)
        session.flush()
        session.add(
            LedgerEntry(
                customer_id=customer.id,
                claim_id=claim.id,
                kind="principal",
                part="principal",
                amount_cents=10_000,
                booked_on=date(2026, 9, 30),
                created_at=LATER,
            )
        )
        customer_id, claim_id = customer.id, claim.id
    with with_credit.transaction() as session:
        result = run_nightly(session, date(2026, 12, 2))
    assert (result.credit_customers, result.credit_cents) == (1, 852)
    with with_credit.transaction() as session:
        rows = session.execute(
            select(
                LedgerEntry.kind, LedgerEntry.part, LedgerEntry.amount_cents, LedgerEntry.booked_on
            )
            .where(LedgerEntry.claim_id == claim_id, LedgerEntry.note == "credit used")
            .order_by(LedgerEntry.id)
        ).all()
        interest = [r for r in rows if r.kind == "interest"]
        paid = [r for r in rows if r.kind == "payment"]
        assert len(interest) == 1 and interest[0].booked_on == date(2026, 11, 1)
        assert [p.part for p in paid] == ["interest", "principal"]
        assert paid[0].amount_cents == -interest[0].amount_cents
        assert sum(p.amount_cents for p in paid) == -852
        assert {p.booked_on for p in paid} == {date(2026, 11, 1)}
        assert _customer(session).credit_cents == 0
    with with_credit.transaction() as session:
        again = run_nightly(session, date(2026, 12, 2))
    assert (again.credit_customers, again.credit_cents) == (0, 0)
    with with_credit.transaction() as session:
        report = report_json(balance_report(session, customer_id, date(2026, 12, 2)))
    assert report["credit_used"] == "8.52" and report["credit"] == "0.00"


def test_agent_desk_balance_shows_credit_used(
    with_credit: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import_second(with_credit, tmp_path, "50.00", "2026-11-20")
    url = with_credit.url.render_as_string(hide_password=False)
    assert main(["balance", "--database", url, "--customer", "900001", "--on", "2026-12-01"]) == 0
    out = capsys.readouterr().out
    assert "Credit used on these claims: 8.52" in out
    assert (
        main(["balance", "--database", url, "--customer", "900001", "--on", "2026-12-01", "--json"])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["credit_used"] == "8.52"
