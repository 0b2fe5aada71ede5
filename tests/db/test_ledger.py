"""The books on both engines: worked cases of what is owed when, and where money goes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agent_desk.cli import main
from agent_desk.domain import ledger as rules
from agent_desk.domain.codes import NextStepKind
from agent_desk.errors import ValidationError
from agent_desk.models import Agent, Claim, Customer, DemandNotice, LedgerEntry, NextStep
from agent_desk.services import ledger, notices, payments
from agent_desk.services.activity import NextStepInput, set_next_step
from agent_desk.services.actor import SYSTEM
from agent_desk.services.balance import balance_report, report_json
from agent_desk.services.database import Database
from agent_desk.services.derived import refresh_customer
from agent_desk.services.importers import import_payments
from agent_desk.services.nightly import run_nightly

TODAY = date(2026, 12, 1)  # a Tuesday
NOW = datetime.combine(TODAY, time(10), tzinfo=UTC)


def _customer(
    database: Database, claims: Sequence[tuple[str, int, date]], number: str = "5001"
) -> int:
    """A customer with these claims (reference, principal cents, due date), booked."""
    with database.transaction() as session:
        agent = Agent(login=f"a{number}", display_name="Agent", role="agent")
        session.add(agent)
        session.flush()
        customer = Customer(
            customer_number=number,
            first_name="Fatma",
            last_name="Çelik",
            assigned_agent_id=agent.id,
        )
        session.add(customer)
        session.flush()
        rows = [
            Claim(customer_id=customer.id, reference=ref, principal_cents=cents, due_date=due)
            for ref, cents, due in claims
        ]
        session.add_all(rows)
        session.flush()
        books = ledger.load_customer_books(session, customer.id)
        for claim in rows:
            ledger.book_invoice(books, claim, NOW)
        ledger.write(session, [books])
        set_next_step(session, SYSTEM, customer, NextStepInput(NextStepKind.REVIEW, NOW), NOW)
        refresh_customer(session, customer)
        return customer.id


def _pay(
    database: Database,
    customer_id: int,
    amount: int,
    on: date,
    ref: str,
    claim_id: int | None = None,
) -> payments.PaymentsResult:
    with database.transaction() as session:
        return payments.receive_payments(
            session, SYSTEM, [payments.PaymentInput(customer_id, amount, on, ref, claim_id)], NOW
        )


def _balance(database: Database, customer_id: int, on: date = TODAY) -> ledger.Balance:
    with database.transaction() as session:
        return ledger.customer_balance(session, customer_id, on)


def _send_letter(database: Database, customer_id: int, sent_on: date) -> notices.NoticeDraft:
    with database.transaction() as session:
        draft = notices.draft_notice(
            session, customer_id, sent_on, rules.Channel.POST, add_vat=False
        )
        notices.record_notice(session, SYSTEM, customer_id, draft, NOW)
        return draft


def test_a_claim_due_today_is_not_in_a_14_day_letter(database: Database) -> None:
    """250.00 overdue plus 750.00 due today: the letter demands 250.00 with 40.00 costs."""
    cid = _customer(database, [("OLD", 25_000, date(2026, 11, 1)), ("TODAY", 75_000, TODAY)])
    with database.transaction() as session:
        draft = notices.draft_notice(session, cid, TODAY, rules.Channel.POST, add_vat=False)
    assert [c.reference for c in draft.claims] == ["OLD"]
    assert (draft.principal, draft.costs) == (25_000, 4_000)
    assert draft.received_on == date(2026, 12, 3) and draft.term_ends == date(2026, 12, 17)
    balance = _balance(database, cid)
    today_claim = next(c for c in balance.claims if c.reference == "TODAY")
    assert today_claim.in_default_since is None and today_claim.outstanding_interest == 0


def test_no_letter_no_costs_even_long_after_default(database: Database) -> None:
    cid = _customer(database, [("A", 50_000, date(2026, 1, 1))])
    with database.transaction() as session:
        run_nightly(session, TODAY)
    balance = _balance(database, cid)
    assert balance.total("costs") == 0
    assert balance.total("outstanding_interest") > 0  # interest runs without a letter


@pytest.mark.parametrize(
    ("term_ends_offset", "booked"),
    [(+1, 0), (0, 0), (-1, 4_000)],
    ids=["term ends tomorrow", "term ends today", "term ended yesterday"],
)
def test_costs_are_booked_only_once_the_term_has_run_out(
    database: Database, term_ends_offset: int, booked: int
) -> None:
    cid = _customer(database, [("A", 25_000, date(2026, 9, 1))])
    # Find a sending day whose term ends on TODAY + offset.
    sent = next(
        TODAY - timedelta(days=d)
        for d in range(10, 30)
        if rules.term_ends(TODAY - timedelta(days=d), rules.Channel.POST, rules.load_books_policy())
        == TODAY + timedelta(days=term_ends_offset)
    )
    _send_letter(database, cid, sent)
    with database.transaction() as session:
        result = run_nightly(session, TODAY)
    assert result.costs_cents == booked
    assert _balance(database, cid).total("costs") == booked
    with database.transaction() as session:
        again = run_nightly(session, TODAY)
    assert again.costs_cents == 0, "a second run books nothing more"
    assert _balance(database, cid).total("costs") == booked


def test_a_letter_paid_within_the_term_books_no_costs_and_a_part_payment_costs_on_the_rest(
    database: Database,
) -> None:
    paid_in_time = _customer(database, [("A", 25_000, date(2026, 9, 1))], "5001")
    partly = _customer(database, [("B", 300_000, date(2026, 9, 1))], "5002")
    sent = date(2026, 11, 2)
    for cid in (paid_in_time, partly):
        _send_letter(database, cid, sent)
    with database.transaction() as session:
        claim_b = session.scalar(select(Claim.id).where(Claim.reference == "B"))
    # Everything owed on A on the day, interest included; 1,000.00 of B's 3,000.00.
    owed_a = _balance(database, paid_in_time, date(2026, 11, 10)).outstanding
    _pay(database, paid_in_time, owed_a, date(2026, 11, 10), "P-A")
    _pay(database, partly, 100_000, date(2026, 11, 10), "P-B", claim_b)
    with database.transaction() as session:
        run_nightly(session, TODAY)
        notices = {n.customer_id: n for n in session.scalars(select(DemandNotice))}
    assert notices[paid_in_time].status == "paid_in_term"
    assert _balance(database, paid_in_time).total("costs") == 0
    # B: the payment paid 69 days of interest first (34.03), so 2,034.03 of principal
    # stayed open; costs are 15% of that (the first bracket of the scale): 305.10,
    # not the 425.00 the letter named for 3,000.00 (375.00 + 10% of 500.00).
    rest = _balance(database, partly, date(2026, 11, 18)).total("outstanding_principal")
    assert rest == 300_000 - (100_000 - 3_403)
    assert notices[partly].status == "costs_booked"
    assert notices[partly].costs_named_cents == 42_500
    assert _balance(database, partly).total("costs") == 30_510


def test_a_payment_smaller_than_the_costs_pays_costs_only(database: Database) -> None:
    cid = _customer(database, [("A", 25_000, date(2026, 9, 1))])
    _send_letter(database, cid, date(2026, 10, 1))
    with database.transaction() as session:
        run_nightly(session, date(2026, 11, 1))
    before = _balance(database, cid, date(2026, 11, 5))
    assert before.total("outstanding_costs") == 4_000
    _pay(database, cid, 2_500, date(2026, 11, 5), "P-1")
    after = _balance(database, cid, date(2026, 11, 5))
    assert after.total("outstanding_costs") == 1_500
    assert after.total("outstanding_principal") == 25_000
    assert after.total("outstanding_interest") == before.total("outstanding_interest")


def test_a_payment_spread_over_three_claims(database: Database) -> None:
    cid = _customer(
        database,
        [
            ("OLDEST", 10_000, date(2026, 9, 1)),
            ("MIDDLE", 10_000, date(2026, 10, 1)),
            ("NEW", 10_000, date(2026, 11, 1)),
        ],
    )
    on = date(2026, 11, 20)
    start = _balance(database, cid, on)
    interest = {c.reference: c.outstanding_interest for c in start.claims}
    assert interest["OLDEST"] == 130  # 2 Sep .. 19 Nov: 79 days at 6% on 100.00
    amount = 10_000 + interest["OLDEST"] + 10_000 + interest["MIDDLE"] + 5_000
    result = _pay(database, cid, amount, on, "P-3")
    assert result.credit_cents == 0
    after = {c.reference: c for c in _balance(database, cid, on).claims}
    assert after["OLDEST"].outstanding == 0 and after["MIDDLE"].outstanding == 0
    # The newest claim got its interest first, then principal.
    assert after["NEW"].outstanding_interest == 0
    assert after["NEW"].outstanding_principal == 10_000 - (5_000 - interest["NEW"])
    with database.transaction() as session:
        entries = session.scalars(
            select(LedgerEntry).where(LedgerEntry.kind == "payment").order_by(LedgerEntry.id)
        ).all()
        assert sum(e.amount_cents for e in entries) == -amount
        assert {e.part for e in entries} == {"interest", "principal"}
        customer = session.get(Customer, cid)
        assert customer is not None and customer.status == "open"


def test_a_surplus_is_kept_as_credit_and_the_customer_closes_only_when_nothing_is_owed(
    database: Database, tmp_path: Path
) -> None:
    cid = _customer(database, [("A", 30_000, date(2026, 10, 1))])
    on = date(2026, 11, 1)
    # Exactly the principal: the interest (30 days at 6% = 1.48) is still owed.
    _pay(database, cid, 30_000, on, "P-1")
    with database.transaction() as session:
        customer = session.get(Customer, cid)
        assert customer is not None
        assert (customer.status, customer.arrears_cents) == ("open", 148)
    # 10.00 more: 1.48 pays the rest, 8.52 is credit.
    result = _pay(database, cid, 1_000, on, "P-2")
    assert (result.credit_cents, result.closed_customers) == (852, 1)
    with database.transaction() as session:
        customer = session.get(Customer, cid)
        assert customer is not None
        assert (customer.status, customer.arrears_cents, customer.credit_cents) == (
            "closed",
            0,
            852,
        )
        open_steps = session.scalar(
            select(func.count())
            .select_from(NextStep)
            .where(NextStep.customer_id == cid, NextStep.done_at.is_(None))
        )
        assert open_steps == 0
        report = report_json(balance_report(session, cid, TODAY))
    assert report["status"] == "closed" and report["credit"] == "8.52"
    assert report["totals"]["outstanding"] == "0.00"


def test_payment_import_books_by_6_44_and_refuses_nothing_twice(
    database: Database, tmp_path: Path
) -> None:
    cid = _customer(database, [("A", 25_000, date(2026, 9, 1))])
    _send_letter(database, cid, date(2026, 10, 1))
    with database.transaction() as session:
        run_nightly(session, date(2026, 11, 1))
    path = tmp_path / "p.csv"
    path.write_text(
        "payment_reference,customer_number,amount,paid_on\nP-1,5001,50.00,2026-11-05\n",
        encoding="utf-8",
    )
    with database.transaction() as session:
        import_payments(session, SYSTEM, path, NOW)
    with database.transaction() as session:
        again = import_payments(session, SYSTEM, path, NOW)
    assert again.created == 0
    balance = _balance(database, cid, date(2026, 11, 5))
    # 40.00 costs first, then the interest (2 Sep .. 4 Nov: 60 days booked on 1 Nov,
    # 2.47, and 4 days more, 0.16), then 7.37 of principal.
    assert balance.total("outstanding_costs") == 0
    assert balance.total("outstanding_interest") == 0
    assert balance.total("outstanding_principal") == 25_000 - (5_000 - 4_000 - 247 - 16)


def test_monthly_interest_is_booked_once_and_the_balance_adds_the_days_since(
    database: Database,
) -> None:
    cid = _customer(database, [("A", 100_000, date(2026, 9, 30))])
    shown_before = _balance(database, cid).total("outstanding_interest")
    with database.transaction() as session:
        first = run_nightly(session, TODAY)
        second = run_nightly(session, TODAY)
    assert first.interest_claims == 1 and second.interest_claims == 0
    with database.transaction() as session:
        booked = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "interest")).all()
    assert [e.interest_through for e in booked] == [date(2026, 12, 1)]
    assert booked[0].amount_cents == 1_003  # 1 Oct .. 30 Nov: 61 days at 6% on 1,000.00
    # What the desk shows does not change by booking: entries plus days since.
    assert _balance(database, cid).total("outstanding_interest") == shown_before
    assert _balance(database, cid, date(2026, 12, 11)).total("outstanding_interest") == 1_003 + 164


def test_balance_cli_json_fields(database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    cid = _customer(database, [("A", 25_000, date(2026, 9, 1)), ("B", 75_000, TODAY)])
    _send_letter(database, cid, date(2026, 10, 1))
    url = database.url.render_as_string(hide_password=False)
    assert main(["nightly", "--database", url, "--today", "2026-11-01", "--json"]) == 0
    nightly = json.loads(capsys.readouterr().out)
    assert nightly["costs_booked"] == 1 and nightly["costs_booked_amount"] == "40.00"
    assert (
        main(
            [
                "balance",
                "--database",
                url,
                "--customer",
                "5001",
                "--on",
                TODAY.isoformat(),
                "--json",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "open"
    a, b = doc["claims"]
    assert (a["reference"], a["due_date"], a["in_default_since"]) == (
        "A",
        "2026-09-01",
        "2026-09-02",
    )
    assert (a["principal"], a["costs"], a["paid"], a["outstanding_costs"]) == (
        "250.00",
        "40.00",
        "0.00",
        "40.00",
    )
    # 2 Sep .. 30 Nov: 90 days at 6% on 250.00 (60 booked on 1 Nov, 30 since).
    assert a["interest"] == a["outstanding_interest"] == "3.70"
    assert b["in_default_since"] is None and b["interest"] == "0.00"
    assert doc["totals"]["outstanding"] == "1043.70"
    assert doc["fourteen_day_letter"]["sent_on"] == "2026-10-01"
    # Thursday 1 Oct by post: received Monday 5 Oct, the term ends 14 days later.
    assert doc["fourteen_day_letter"]["term_ends"] == "2026-10-19"
    assert doc["fourteen_day_letter"]["costs_chargeable"] == "2026-10-20"
    assert doc["arrangement"] is None and doc["promises"] == [] and doc["credit"] == "0.00"
    assert main(["balance", "--database", url, "--customer", "nobody"]) == 1
    assert "no customer" in capsys.readouterr().err


def _agree(database: Database, customer_id: int, on: date, count: int = 3) -> int:
    from agent_desk.domain.arrangement_plan import Mode, Terms
    from agent_desk.services.arrangements import agree_arrangement

    moment = datetime.combine(on, time(10), tzinfo=UTC)
    with database.transaction() as session:
        return agree_arrangement(
            session,
            SYSTEM,
            customer_id,
            now=moment,
            terms=Terms(Mode.COUNT, on + timedelta(days=7), count=count),
        )


def test_an_arrangement_agreed_in_the_term_books_no_costs_on_top(database: Database) -> None:
    cid = _customer(database, [("A", 30_000, date(2026, 9, 1))])
    _send_letter(database, cid, date(2026, 10, 1))  # term ends 19 Oct
    arrangement_id = _agree(database, cid, date(2026, 10, 10))
    with database.transaction() as session:
        result = run_nightly(session, date(2026, 11, 1))
        notice = session.scalars(select(DemandNotice)).one()
        report = report_json(balance_report(session, cid, date(2026, 11, 1)))
    assert result.costs_cents == 0 and notice.status == "in_arrangement"
    assert report["totals"]["outstanding_costs"] == "0.00"
    assert report["arrangement"]["id"] == arrangement_id
    assert report["arrangement"]["outstanding"] == report["totals"]["outstanding"]


def test_payments_while_an_arrangement_waits_for_approval_count_towards_it(
    database: Database,
) -> None:
    from agent_desk.models import Arrangement, Instalment

    cid = _customer(database, [("A", 60_000, date(2026, 9, 1))])
    arrangement_id = _agree(database, cid, date(2026, 11, 2), count=1)
    with database.transaction() as session:
        arrangement = session.get(Arrangement, arrangement_id)
        assert arrangement is not None
        arrangement.status = "pending_approval"  # as if outside policy
    _pay(database, cid, 10_000, date(2026, 11, 5), "P-1")
    with database.transaction() as session:
        paid = session.scalar(
            select(func.sum(Instalment.paid_cents)).where(
                Instalment.arrangement_id == arrangement_id
            )
        )
    assert paid == 10_000


def test_a_balance_on_an_earlier_day_leaves_out_what_happened_after(database: Database) -> None:
    cid = _customer(database, [("A", 25_000, date(2026, 9, 1))])
    _pay(database, cid, 10_000, date(2026, 11, 20), "P-1")
    before = _balance(database, cid, date(2026, 11, 10))
    assert before.total("paid") == 0 and before.total("outstanding_principal") == 25_000
    # A 14-day letter dated 10 Nov names what was open that day.
    with database.transaction() as session:
        draft = notices.draft_notice(
            session, cid, date(2026, 11, 10), rules.Channel.POST, add_vat=False
        )
    assert draft.principal == 25_000


def test_no_14_day_letter_for_claims_in_an_arrangement_or_during_a_pause(
    database: Database,
) -> None:
    covered = _customer(database, [("A", 30_000, date(2026, 9, 1))], "5001")
    _agree(database, covered, date(2026, 10, 10))
    with database.transaction() as session:
        draft = notices.draft_notice(
            session, covered, date(2026, 11, 2), rules.Channel.POST, add_vat=False
        )
    assert draft.claims == () and draft.costs == 0
    paused = _customer(database, [("B", 30_000, date(2026, 9, 1))], "5002")
    with database.transaction() as session:
        customer = session.get(Customer, paused)
        assert customer is not None
        customer.paused_until = date(2026, 12, 31)
    with pytest.raises(ValidationError, match="paused"), database.transaction() as session:
        draft = notices.draft_notice(session, paused, TODAY, rules.Channel.POST, add_vat=False)
        notices.record_notice(session, SYSTEM, paused, draft, NOW)
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(DemandNotice)) == 0


def test_a_promise_may_be_for_what_is_owed_today_but_not_more_nor_for_a_closed_customer(
    database: Database,
) -> None:
    from agent_desk.services.activity import record_promise

    cid = _customer(database, [("A", 31_240, date(2026, 10, 1))])
    owed = _balance(database, cid).outstanding
    assert owed > 31_240, "interest up to today is owed too"
    with database.transaction() as session:
        record_promise(
            session, SYSTEM, cid, amount_cents=owed, due_date=TODAY + timedelta(days=5), now=NOW
        )
    with pytest.raises(ValidationError, match="more than"), database.transaction() as session:
        record_promise(
            session, SYSTEM, cid, amount_cents=owed + 1, due_date=TODAY + timedelta(days=5), now=NOW
        )
    _pay(database, cid, owed + 500, TODAY, "P-ALL")
    with pytest.raises(ValidationError, match="closed"), database.transaction() as session:
        record_promise(
            session, SYSTEM, cid, amount_cents=1_000, due_date=TODAY + timedelta(days=5), now=NOW
        )
