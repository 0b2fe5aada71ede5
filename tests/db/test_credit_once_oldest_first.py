"""Credit used the right way: once when two runs book at the same time, from the oldest
surplus first with each surplus's own day, on the oldest claim first whatever the order
of the import file, and a claim it settles is settled on the day it was paid. Both
engines."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from agent_desk.demo import load_demo
from agent_desk.errors import ConflictError, ValidationError
from agent_desk.models import AuditEvent, Claim, Customer, LedgerEntry
from agent_desk.services import ledger, payments
from agent_desk.services.actor import SYSTEM
from agent_desk.services.balance import balance_report, report_json
from agent_desk.services.database import Database
from agent_desk.services.importers import import_customers, import_payments
from agent_desk.services.nightly import run_nightly

FIRST = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
HEADER = (
    "customer_number,first_name,last_name,language,segment,mobile,phone,email,street,"
    "house_number,postcode,city,agent,claim_reference,claim_description,principal,due_date\n"
)
ROW = "900001,Fatma,Çelik,nl,consumer,06-12345678,,,Dorpsstraat,4,1234 ab,Ede,sanne,{ref},Energy,{amount},{due}\n"
PAYMENTS = "payment_reference,customer_number,amount,paid_on\n"


def _write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def _row(ref: str, amount: str, due: str) -> str:
    return ROW.format(ref=ref, amount=amount, due=due)


def _customer(session: Session) -> Customer:
    customer = session.scalar(select(Customer).where(Customer.customer_number == "900001"))
    assert customer is not None
    return customer


def _claim(session: Session, reference: str) -> Claim:
    claim = session.scalar(select(Claim).where(Claim.reference == reference))
    assert claim is not None
    return claim


def _start(database: Database, tmp_path: Path, due: str, paid: str, paid_on: str) -> None:
    """Customer 900001 owes 300.00 on INV-1 due ``due`` and pays ``paid`` on ``paid_on``."""
    with database.transaction() as session:
        load_demo(session, customers=1, agents=2, seed=1)
        first = HEADER + _row("INV-1", "300.00", due)
        import_customers(session, SYSTEM, _write(tmp_path, "c1.csv", first), FIRST)
        paid_file = PAYMENTS + f"P-1,900001,{paid},{paid_on}\n"
        import_payments(session, SYSTEM, _write(tmp_path, "p1.csv", paid_file), FIRST)


def _used(session: Session, claim_id: int) -> list[tuple[str, str, int, date]]:
    return [
        (r.kind, r.part, r.amount_cents, r.booked_on)
        for r in session.execute(
            select(
                LedgerEntry.kind, LedgerEntry.part, LedgerEntry.amount_cents, LedgerEntry.booked_on
            )
            .where(LedgerEntry.claim_id == claim_id, LedgerEntry.note == "credit used")
            .order_by(LedgerEntry.id)
        )
    ]


# ------------------------------------------------- each surplus with its own day


def test_a_later_small_surplus_does_not_postpone_older_credit(
    database: Database, tmp_path: Path
) -> None:
    # 1,301.48 on 1 November pays INV-1 (300.00 + 1.48 interest): 1,000.00 credit from
    # 1 November. 0.01 more on 28 November. A claim of 1,000.00 due 2 November is
    # paid from the older credit on its due date: no interest, 0.01 left.
    _start(database, tmp_path, "2026-10-01", "1301.48", "2026-11-01")
    with database.transaction() as session:
        later = PAYMENTS + "P-2,900001,0.01,2026-11-28\n"
        import_payments(
            session, SYSTEM, _write(tmp_path, "p2.csv", later), datetime(2026, 11, 28, tzinfo=UTC)
        )
    content = (
        HEADER + _row("INV-1", "300.00", "2026-10-01") + _row("INV-2", "1000.00", "2026-11-02")
    )
    with database.transaction() as session:
        import_customers(session, SYSTEM, _write(tmp_path, "c2.csv", content), LATER)
    with database.transaction() as session:
        claim = _claim(session, "INV-2")
        assert _used(session, claim.id) == [("payment", "principal", -100_000, date(2026, 11, 2))]
        report = report_json(balance_report(session, claim.customer_id, date(2026, 12, 1)))
        inv2 = next(c for c in report["claims"] if c["reference"] == "INV-2")
        assert (inv2["interest"], inv2["outstanding"]) == ("0.00", "0.00")
        assert (report["credit"], report["credit_used"]) == ("0.01", "1000.00")
        assert _customer(session).credit_cents == 1
        assert claim.settled_on == date(2026, 11, 2)


def test_a_claim_the_oldest_credit_does_not_cover_is_paid_on_by_the_next(
    database: Database, tmp_path: Path
) -> None:
    # 5.00 credit from 1 November, 100.00 more from 28 November. A claim of 50.00 due
    # 2 November: 5.00 paid on 2 November; the other 45.00 and its interest from
    # 3 November (45.00 x 6% x 25/365 = 0.18) on 28 November. 54.82 stays.
    _start(database, tmp_path, "2026-10-01", "306.48", "2026-11-01")
    with database.transaction() as session:
        later = PAYMENTS + "P-2,900001,100.00,2026-11-28\n"
        import_payments(
            session, SYSTEM, _write(tmp_path, "p2.csv", later), datetime(2026, 11, 28, tzinfo=UTC)
        )
        assert _customer(session).credit_cents == 10_500
    content = HEADER + _row("INV-1", "300.00", "2026-10-01") + _row("INV-2", "50.00", "2026-11-02")
    with database.transaction() as session:
        import_customers(session, SYSTEM, _write(tmp_path, "c2.csv", content), LATER)
    with database.transaction() as session:
        claim = _claim(session, "INV-2")
        assert _used(session, claim.id) == [
            ("payment", "principal", -500, date(2026, 11, 2)),
            ("interest", "interest", 18, date(2026, 11, 28)),
            ("payment", "interest", -18, date(2026, 11, 28)),
            ("payment", "principal", -4500, date(2026, 11, 28)),
        ]
        credit = session.execute(
            select(LedgerEntry.amount_cents, LedgerEntry.booked_on, LedgerEntry.payment_id)
            .where(LedgerEntry.claim_id.is_(None), LedgerEntry.note == "credit used")
            .order_by(LedgerEntry.id)
        ).all()
        first_payment, second_payment = session.scalars(
            text("SELECT id FROM payment ORDER BY id")
        ).all()
        # Each use of credit names the payment that left that surplus.
        assert [tuple(r) for r in credit] == [
            (-500, date(2026, 11, 2), first_payment),
            (-4518, date(2026, 11, 28), second_payment),
        ]
        audits = session.scalars(
            select(AuditEvent.detail)
            .where(AuditEvent.action == "credit_used")
            .order_by(AuditEvent.id)
        ).all()
        assert [json.loads(a or "") for a in audits] == [
            {"amount_cents": 500, "claims": ["INV-2"], "on": "2026-11-02"},
            {"amount_cents": 4518, "claims": ["INV-2"], "on": "2026-11-28"},
        ]
        assert _customer(session).credit_cents == 5482
        assert claim.settled_on == date(2026, 11, 28)
    # Read back from the entries, the books agree: nothing more to use.
    with database.transaction() as session:
        result = run_nightly(session, date(2026, 12, 2))
    assert (result.credit_customers, result.credit_cents) == (0, 0)


# ----------------------------------------------- oldest claim first, any row order


@pytest.mark.parametrize("order", ["old-first", "new-first"])
def test_credit_pays_the_oldest_claim_first_whatever_the_row_order(
    database: Database, tmp_path: Path, order: str
) -> None:
    # 402.99 on 1 September pays INV-1 (due that day): 102.99 credit from 1 September.
    # Two new claims of 100.00 in one file: INV-OLD (due 15 September) is paid in full
    # on its due date, the 2.99 left pays INV-NEW on its due date (15 November).
    _start(database, tmp_path, "2026-09-01", "402.99", "2026-09-01")
    old = _row("INV-OLD", "100.00", "2026-09-15")
    new = _row("INV-NEW", "100.00", "2026-11-15")
    rows = old + new if order == "old-first" else new + old
    content = HEADER + _row("INV-1", "300.00", "2026-09-01") + rows
    with database.transaction() as session:
        import_customers(session, SYSTEM, _write(tmp_path, "c2.csv", content), LATER)
    with database.transaction() as session:
        old_claim, new_claim = _claim(session, "INV-OLD"), _claim(session, "INV-NEW")
        assert _used(session, old_claim.id) == [
            ("payment", "principal", -10_000, date(2026, 9, 15))
        ]
        assert _used(session, new_claim.id) == [("payment", "principal", -299, date(2026, 11, 15))]
        assert (old_claim.settled_on, new_claim.settled_on) == (date(2026, 9, 15), None)
        report = report_json(balance_report(session, old_claim.customer_id, date(2026, 12, 1)))
        # 97.01 open since 16 November: 15 days at 6% = 0.24.
        assert [(c["reference"], c["interest"], c["outstanding"]) for c in report["claims"]] == [
            ("INV-1", "0.00", "0.00"),
            ("INV-OLD", "0.00", "0.00"),
            ("INV-NEW", "0.24", "97.25"),
        ]
        assert (report["credit"], report["totals"]["outstanding"]) == ("0.00", "97.25")


# ------------------------------------------------ settled on the day it was paid


def test_a_claim_settled_from_credit_is_settled_on_the_day_it_was_paid(
    database: Database, tmp_path: Path
) -> None:
    _start(database, tmp_path, "2026-10-01", "801.48", "2026-11-01")
    content = HEADER + _row("INV-1", "300.00", "2026-10-01") + _row("INV-2", "500.00", "2026-11-10")
    with database.transaction() as session:
        import_customers(session, SYSTEM, _write(tmp_path, "c2.csv", content), LATER)
    with database.transaction() as session:
        claim = _claim(session, "INV-2")
        assert _used(session, claim.id) == [("payment", "principal", -50_000, date(2026, 11, 10))]
        # Not the import day (1 December): paid on its due date, so never late either.
        assert claim.settled_on == date(2026, 11, 10)
        assert _claim(session, "INV-1").settled_on == date(2026, 11, 1)


# --------------------------------------------------- never used twice at once


def _add_unbooked_claim(database: Database) -> None:
    """INV-2, 50.00 due 20 November, in the books without the import's credit step
    (what the nightly run catches)."""
    with database.transaction() as session:
        customer = _customer(session)
        claim = Claim(
            customer_id=customer.id,
            reference="INV-2",
            principal_cents=5000,
            due_date=date(2026, 11, 20),
        )
        session.add(claim)
        session.flush()
        session.add(
            LedgerEntry(
                customer_id=customer.id,
                claim_id=claim.id,
                kind="principal",
                part="principal",
                amount_cents=5000,
                booked_on=date(2026, 11, 20),
                created_at=LATER,
            )
        )


def _race(
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    first: Callable[[Session], Any],
    second: Callable[[Session], Any],
) -> ConflictError | None:
    """Run ``first``; once it has read the customer's books, run ``second`` in a
    transaction of its own in another thread, and let ``first`` go on only when
    ``second`` has finished or waits for ``first`` (PostgreSQL: a lock wait; SQLite:
    a second), so without a lock both read the same books. Returns the conflict
    ``second`` may end in (it changed the customer's row ``first`` changed: refused,
    nothing written)."""
    real = ledger.load_books
    state: dict[str, Any] = {}

    def run_second() -> None:
        try:
            with database.transaction() as session:
                second(session)
        except BaseException as error:  # pragma: no cover - reported below
            state["error"] = error

    def load_then_race(session: Session, ids: Any, **kwargs: Any) -> Any:
        books = real(session, ids, **kwargs)
        # ``first``'s read, on whatever thread it reads (the import on PostgreSQL stores
        # its chunks on a writer thread of its own); ``second``'s come after this is set.
        if "thread" not in state:
            thread = threading.Thread(target=run_second)
            state["thread"] = thread
            thread.start()
            _until_waiting_or_done(database, thread)
        return books

    monkeypatch.setattr(ledger, "load_books", load_then_race)
    monkeypatch.setattr(payments, "load_books", load_then_race)
    with database.transaction() as session:
        first(session)
    thread = state["thread"]
    thread.join(60)
    assert not thread.is_alive()
    error = state.get("error")
    if error is not None and not isinstance(error, ConflictError):
        raise error
    return error


def _until_waiting_or_done(database: Database, thread: threading.Thread) -> None:
    if database.is_sqlite:
        thread.join(1.0)
        return
    deadline = time.monotonic() + 20
    with database.engine.connect() as watcher:
        while thread.is_alive() and time.monotonic() < deadline:
            waiting = watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            watcher.rollback()
            if waiting:
                return
            time.sleep(0.02)


def _books_are_sound(database: Database) -> None:
    """Credit never below zero, never more paid on a claim than it owed, and the 8.52
    credit used once in all."""
    with database.transaction() as session:
        customer = _customer(session)
        credit = session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
                LedgerEntry.customer_id == customer.id, LedgerEntry.claim_id.is_(None)
            )
        )
        assert credit is not None and credit >= 0
        assert customer.credit_cents == credit
        parts = session.execute(
            select(LedgerEntry.claim_id, LedgerEntry.part, func.sum(LedgerEntry.amount_cents))
            .where(LedgerEntry.claim_id.is_not(None))
            .group_by(LedgerEntry.claim_id, LedgerEntry.part)
        ).all()
        assert all(total >= 0 for _claim_id, _part, total in parts), parts
        used = session.scalar(
            select(func.coalesce(func.sum(-LedgerEntry.amount_cents), 0)).where(
                LedgerEntry.claim_id.is_(None), LedgerEntry.note == "credit used"
            )
        )
        assert used == 852
        for claim in session.scalars(select(Claim)):
            paid = session.scalar(
                select(func.coalesce(func.sum(-LedgerEntry.amount_cents), 0)).where(
                    LedgerEntry.claim_id == claim.id, LedgerEntry.kind == "payment"
                )
            )
            assert claim.paid_cents == paid


@pytest.fixture
def with_credit(database: Database, tmp_path: Path) -> Database:
    """8.52 credit from 1 November (310.00 paid on 300.00 + 1.48 interest) and INV-2
    (50.00, due 20 November) open in the books."""
    _start(database, tmp_path, "2026-10-01", "310.00", "2026-11-01")
    _add_unbooked_claim(database)
    return database


def _nightly(session: Session) -> None:
    run_nightly(session, date(2026, 12, 2))


def test_two_nightly_runs_at_once_use_the_credit_once(
    with_credit: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _race(with_credit, monkeypatch, _nightly, _nightly) is None
    _books_are_sound(with_credit)
    with with_credit.transaction() as session:
        assert _claim(session, "INV-2").paid_cents == 852


@pytest.mark.parametrize("import_first", [True, False])
def test_the_nightly_run_and_a_claims_import_at_once_use_the_credit_once(
    with_credit: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, import_first: bool
) -> None:
    # The import brings INV-3 (due 25 November); the night finds INV-2 (due 20
    # November). Whichever goes first, the 8.52 is used once, on INV-2 (the older).
    content = HEADER + _row("INV-1", "300.00", "2026-10-01") + _row("INV-3", "60.00", "2026-11-25")
    path = _write(tmp_path, "c3.csv", content)

    def claims_import(session: Session) -> None:
        import_customers(session, SYSTEM, path, LATER)

    first, second = (claims_import, _nightly) if import_first else (_nightly, claims_import)
    if _race(with_credit, monkeypatch, first, second) is not None:
        # Refused whole (the customer's row changed under it): the import is run again.
        assert not import_first
        with with_credit.transaction() as session:
            claims_import(session)
    _books_are_sound(with_credit)
    with with_credit.transaction() as session:
        assert (_claim(session, "INV-2").paid_cents, _claim(session, "INV-3").paid_cents) == (
            852,
            0,
        )


def test_the_nightly_run_and_a_payments_import_at_once_pay_a_claim_once(
    with_credit: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The night uses the 8.52 on INV-2; a payment of 50.00 received meanwhile pays
    # what is then left of INV-2 (41.48) and keeps 8.52 as new credit.
    path = _write(tmp_path, "p2.csv", PAYMENTS + "P-2,900001,50.00,2026-11-20\n")

    def payments_import(session: Session) -> None:
        import_payments(session, SYSTEM, path, LATER)

    assert _race(with_credit, monkeypatch, _nightly, payments_import) is None
    with with_credit.transaction() as session:
        claim = _claim(session, "INV-2")
        assert (claim.paid_cents, claim.settled_on) == (5000, date(2026, 11, 20))
        assert _customer(session).credit_cents == 852
        kept = session.scalar(
            select(func.sum(LedgerEntry.amount_cents)).where(
                LedgerEntry.claim_id.is_(None), LedgerEntry.amount_cents > 0
            )
        )
        assert kept == 852 + 852


# ---------------------------------------------- the database's guard, the plain error


def test_postgresql_refuses_credit_used_twice_by_any_writer(
    with_credit: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Migration 0014: even a writer that does not lock the books first (here the
    # nightly run with its lock taken out) cannot use the same credit twice: the
    # second run is refused at commit and writes nothing.
    if with_credit.is_sqlite:
        pytest.skip("PostgreSQL's guard; on SQLite one writer at a time")

    def no_lock(_session: Session, _ids: Any) -> None:
        return None

    monkeypatch.setattr(ledger, "lock_books", no_lock)
    with pytest.raises(ValidationError, match="more credit used than kept"):
        _race(with_credit, monkeypatch, _nightly, _nightly)
    _books_are_sound(with_credit)


def test_postgresql_refuses_a_credit_entry_beyond_the_credit(with_credit: Database) -> None:
    if with_credit.is_sqlite:
        pytest.skip("PostgreSQL's guard")
    with (
        pytest.raises(ValidationError, match="more credit used than kept"),
        with_credit.transaction() as session,
    ):
        customer = _customer(session)
        session.add(
            LedgerEntry(
                customer_id=customer.id,
                kind="credit",
                part="credit",
                amount_cents=-853,
                booked_on=date(2026, 12, 1),
                created_at=LATER,
                payment_id=session.scalar(text("SELECT min(id) FROM payment")),
            )
        )
    with with_credit.transaction() as session:
        assert _customer(session).credit_cents == 852


def test_sqlite_says_plainly_when_another_run_holds_the_books(with_credit: Database) -> None:
    if not with_credit.is_sqlite:
        pytest.skip("SQLite's write lock")
    path = with_credit.url.database
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another run is writing
        with (
            pytest.raises(ConflictError, match="Another run is booking on this database"),
            with_credit.transaction() as session,
        ):
            session.execute(text("PRAGMA busy_timeout = 100"))
            run_nightly(session, date(2026, 12, 2))
    finally:
        other.rollback()
        other.close()
    with with_credit.transaction() as session:  # nothing was written; it runs now
        session.execute(text("PRAGMA busy_timeout = 30000"))
        result = run_nightly(session, date(2026, 12, 2))
    assert (result.credit_customers, result.credit_cents) == (1, 852)
