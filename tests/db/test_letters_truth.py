"""Letters tell the truth (issue 11, part 5), on SQLite and PostgreSQL.

* an arrangement confirmation only for an active arrangement (service, CLI, batch);
* the 14-day letter names what the books say is in default on its date, and the
  costs that become owed; a printed or e-mailed one records its ``DemandNotice``, a
  saved one starts nothing; a back-dated letter whose term ran out has its costs
  booked at once.

Every PDF is read back; nothing here checks that a function was called.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from agent_desk.cli import main
from agent_desk.domain import ledger as rules
from agent_desk.domain.money import format_money
from agent_desk.domain.policy import load_default_policy
from agent_desk.domain.team_day import local_day
from agent_desk.errors import ValidationError
from agent_desk.models import (
    Arrangement,
    AuditEvent,
    Claim,
    ContactPoint,
    Customer,
    DemandNotice,
    DemandNoticeClaim,
    Instalment,
    LedgerEntry,
    LetterSent,
    Setting,
)
from agent_desk.services import ledger, payments
from agent_desk.services import letters as service
from agent_desk.services.actor import SYSTEM
from agent_desk.services.balance import customer_balance
from agent_desk.services.customer_file import customer_file
from agent_desk.services.database import Database
from agent_desk.services.derived import refresh_customer

TODAY = local_day(datetime.now(UTC))  # the team's day, as the letters count it
NOW = datetime.combine(TODAY, time(9, 0), tzinfo=UTC)
STATUSES_REFUSED = ["pending_approval", "declined", "broken", "completed", "cancelled"]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


def _pdf_text(pdf: bytes) -> str:
    return " ".join(_norm(page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages)


def _money(cents: int, language: str = "nl") -> str:
    return _norm(format_money(cents, language))


def _url(database: Database) -> str:
    return database.url.render_as_string(hide_password=False)


# --------------------------------------------------------------------------- set-up


def _customer(
    database: Database,
    number: str,
    claims: list[tuple[str, str, int, date]],
    *,
    language: str = "nl",
) -> int:
    """A customer with an address and claims booked in the ledger, as an import does."""
    with database.transaction() as session:
        customer = Customer(
            customer_number=number, first_name="Fatima", last_name="El Amrani", language=language
        )
        session.add(customer)
        session.flush()
        session.add(
            ContactPoint(
                customer_id=customer.id,
                kind="address",
                value="Lange Nieuwstraat 7, 3512 PK Utrecht",
                street="Lange Nieuwstraat",
                house_number="7",
                postcode="3512 PK",
                city="Utrecht",
            )
        )
        rows = [
            Claim(
                customer_id=customer.id,
                reference=reference,
                description=description,
                principal_cents=cents,
                due_date=due,
            )
            for reference, description, cents, due in claims
        ]
        session.add_all(rows)
        session.flush()
        books = ledger.load_books(session, [customer.id])
        for row in rows:
            ledger.book_invoice(books[customer.id], row, NOW)
        ledger.write(session, books.values())
        ledger.sync_claim_caches(session, books.values(), TODAY)
        refresh_customer(session, customer)
        return customer.id


def _arrangement(database: Database, customer_id: int, status: str) -> int:
    with database.transaction() as session:
        arrangement = Arrangement(
            customer_id=customer_id,
            created_at=NOW - timedelta(hours=1),
            principal_cents=30_000,
            total_cents=30_000,
            status=status,
            costs_waived=True,
            interest_waived=True,
        )
        for number in range(1, 4):
            arrangement.instalments.append(
                Instalment(
                    number=number,
                    due_date=TODAY + timedelta(days=30 * number),
                    amount_cents=10_000,
                )
            )
        session.add(arrangement)
        session.flush()
        return arrangement.id


def _letters(database: Database) -> list[tuple[str, str]]:
    with database.transaction() as session:
        return [
            (row.template, row.delivery)
            for row in session.scalars(select(LetterSent).order_by(LetterSent.id))
        ]


def _notices(database: Database) -> list[DemandNotice]:
    with database.transaction() as session:
        rows = list(session.scalars(select(DemandNotice).order_by(DemandNotice.id)))
        session.expunge_all()
        return rows


def _costs_booked(database: Database, customer_id: int) -> int:
    with database.transaction() as session:
        return int(
            session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
                    LedgerEntry.customer_id == customer_id, LedgerEntry.kind == "costs"
                )
            )
            or 0
        )


def _worked_example(database: Database, number: str = "K-250") -> int:
    """EUR 250 ten days overdue and EUR 750 due today (issue 11)."""
    return _customer(
        database,
        number,
        [
            (f"{number}-HUUR-OKT", "Huur oktober", 25_000, TODAY - timedelta(days=10)),
            (f"{number}-HUUR-NOV", "Huur november", 75_000, TODAY),
        ],
    )


# --------------------------------------------------------------------------- confirmations


@pytest.mark.parametrize("status", STATUSES_REFUSED)
def test_no_confirmation_for_an_arrangement_that_is_not_active(
    database: Database, status: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    customer_id = _customer(database, "K-1", [("K-1-A", "Huur", 30_000, TODAY - timedelta(40))])
    arrangement_id = _arrangement(database, customer_id, status)
    with database.transaction() as session, pytest.raises(ValidationError) as refused:
        service.arrangement_letter_data(session, arrangement_id, NOW, "Sanne de Vries")
    sentence = str(refused.value)
    assert refused.value.field == "status"
    assert sentence.startswith(f"Arrangement {arrangement_id} ")
    assert sentence.endswith(".") and sentence.count(". ") == 0 and "\n" not in sentence

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "confirmation.pdf"
    args = ["letter", "arrangement", "--database", _url(database)]
    code = main([*args, "--arrangement", str(arrangement_id), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err == f"agent-desk: {sentence}\n"
    assert captured.out == ""
    assert not out.exists() and list(out_dir.iterdir()) == []
    assert _letters(database) == []


def test_a_pending_arrangement_is_told_apart_from_a_declined_one(database: Database) -> None:
    customer_id = _customer(database, "K-2", [("K-2-A", "Huur", 30_000, TODAY - timedelta(40))])
    sentences = {}
    for status in STATUSES_REFUSED:
        refusal = service.confirmation_refusal(7, status)
        assert refusal is not None
        sentences[status] = str(refusal)
    assert len(set(sentences.values())) == len(STATUSES_REFUSED)  # each says its own why
    assert "approval" in sentences["pending_approval"]
    assert "not approved" in sentences["declined"]
    assert service.confirmation_refusal(7, "active") is None
    assert _arrangement(database, customer_id, "active") > 0


def test_an_active_arrangement_is_confirmed_with_the_policy_rules(
    database: Database, tmp_path: Path
) -> None:
    policy = load_default_policy()
    customer_id = _customer(database, "K-3", [("K-3-A", "Huur", 30_000, TODAY - timedelta(40))])
    arrangement_id = _arrangement(database, customer_id, "active")
    out = tmp_path / "bevestiging.pdf"
    with database.transaction() as session:
        data = service.arrangement_letter_data(session, arrangement_id, NOW, "Sanne de Vries")
        assert data.missed_after_days == policy.missed_after_days
        assert data.missed_instalments_before_broken == policy.missed_instalments_before_broken
        record = service.generate_letter(
            session,
            SYSTEM,
            data,
            out,
            NOW,
            customer_id=customer_id,
            arrangement_id=arrangement_id,
            delivery="printed",
        )
        assert service.regenerate(session, record.letter_id) == out.read_bytes()
    text = _pdf_text(out.read_bytes())
    assert f"meer dan {policy.missed_after_days} dagen na de datum in het schema" in text
    assert f"Zijn er {policy.missed_instalments_before_broken} termijnen tegelijk gemist?" in text
    assert "gaat de wettelijke rente weer lopen" in text
    assert "We nemen eerst contact met u op" in text
    assert _letters(database) == [("arrangement", "printed")]


def test_a_confirmation_is_not_recorded_once_the_arrangement_is_declined(
    database: Database, tmp_path: Path
) -> None:
    customer_id = _customer(database, "K-4", [("K-4-A", "Huur", 30_000, TODAY - timedelta(40))])
    arrangement_id = _arrangement(database, customer_id, "active")
    with database.transaction() as session:
        data = service.arrangement_letter_data(session, arrangement_id, NOW, "Sanne")
    with database.transaction() as session:
        arrangement = session.get(Arrangement, arrangement_id)
        assert arrangement is not None
        arrangement.status = "declined"
    out = tmp_path / "late.pdf"
    with database.transaction() as session, pytest.raises(ValidationError) as refused:
        service.generate_letter(
            session,
            SYSTEM,
            data,
            out,
            NOW,
            customer_id=customer_id,
            arrangement_id=arrangement_id,
            delivery="saved",
        )
    assert "was not approved" in str(refused.value)
    assert not out.exists()
    assert _letters(database) == []


def test_the_batch_skips_arrangements_that_are_not_active_and_says_so(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = {}
    for status in ("active", "pending_approval", "broken", "declined"):
        customer_id = _customer(
            database, f"B-{status}", [(f"B-{status}-A", "Huur", 30_000, TODAY - timedelta(40))]
        )
        ids[status] = _arrangement(database, customer_id, status)
    out = tmp_path / "batch"
    since = (TODAY - timedelta(days=2)).isoformat()
    base = ["letters", "--database", _url(database), "--kind", "arrangement", "--since", since]
    code = main([*base, "--out", str(out), "--workers", "1"])
    output = capsys.readouterr().out
    assert code == 0, output
    assert sorted(p.name for p in out.iterdir()) == [f"arrangement-{ids['active']}.pdf"]
    first = output.splitlines()[0]
    assert "Wrote 1 letter(s)" in first
    assert "3 skipped, not active (1 broken off, 1 not approved, 1 waiting for approval)" in first
    assert "0 failed" in first
    assert f"skipped: arrangement {ids['pending_approval']}: Arrangement" in output
    assert _letters(database) == [("arrangement", "printed")]
    text = _pdf_text((out / f"arrangement-{ids['active']}.pdf").read_bytes())
    assert "Bevestiging van uw betalingsregeling" in text

    json_out = tmp_path / "batch-json"
    assert main([*base, "--out", str(json_out), "--workers", "1", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert len(document["written"]) == 1 and document["written"][0]["delivery"] == "printed"
    assert sorted(s["status"] for s in document["skipped"]) == [
        "broken",
        "declined",
        "pending_approval",
    ]
    assert document["failed"] == []


def test_letter_help_says_the_cli_makes_letters_for_the_post(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for argv in (
        ["letter", "fourteen-day", "--help"],
        ["letter", "arrangement", "--help"],
        ["letters", "--help"],
    ):
        assert main(argv) == 0
        help_text = _norm(capsys.readouterr().out)
        assert "recorded as printed" in help_text, argv
        assert "--database" in help_text and "--json" in help_text
    assert main(["letter", "fourteen-day", "--help"]) == 0
    assert "never in the future" in _norm(capsys.readouterr().out)


# --------------------------------------------------------------------------- 14-day letter


def test_the_worked_example_demands_250_with_40_costs(database: Database, tmp_path: Path) -> None:
    customer_id = _worked_example(database)
    with database.transaction() as session:
        data = service.fourteen_day_letter_data(session, "K-250", NOW, "Sanne de Vries")
    assert data.outstanding_cents == 25_000
    assert data.costs_cents == 4_000 and data.vat_cents == 0 and not data.vat_statement
    assert [c.reference for c in data.claims] == ["K-250-HUUR-OKT"]
    assert data.claims[0].due == TODAY - timedelta(days=10)
    assert data.later_claims  # the EUR 750 due today: not in the letter, and it says so
    out = tmp_path / "14.pdf"
    with database.transaction() as session:
        record = service.generate_letter(
            session, SYSTEM, data, out, NOW, customer_id=customer_id, delivery="printed"
        )
        assert service.regenerate(session, record.letter_id) == out.read_bytes()
    text = _pdf_text(out.read_bytes())
    assert "K-250-HUUR-OKT Huur oktober" in text
    assert "K-250-HUUR-NOV" not in text
    assert f"Wilt u {_money(25_000)} betalen" in text
    assert f"Deze kosten zijn {_money(4_000)}" in text
    assert f"U betaalt dan in totaal {_money(29_000)}" in text
    assert _money(100_000) not in text and _money(15_000) not in text
    assert "binnen 14 dagen na de dag waarop u deze brief ontvangt" in text
    assert "btw" not in text.lower()
    assert "Die staan niet in deze brief." in text


def test_vat_is_added_and_explained_when_the_team_setting_says_so(
    database: Database, tmp_path: Path
) -> None:
    customer_id = _worked_example(database, "K-VAT")
    with database.transaction() as session:
        session.add(Setting(key="letters.add_vat", value="true"))
    with database.transaction() as session:
        data = service.fourteen_day_letter_data(session, "K-VAT", NOW, "Sanne")
        assert (data.costs_cents, data.vat_cents, data.vat_statement) == (4_000, 840, True)
        service.generate_letter(
            session,
            SYSTEM,
            data,
            tmp_path / "vat.pdf",
            NOW,
            customer_id=customer_id,
            delivery="printed",
        )
    text = _pdf_text((tmp_path / "vat.pdf").read_bytes())
    assert f"Deze kosten zijn {_money(4_840)}" in text
    assert "omdat wij deze btw niet kunnen verrekenen" in text
    (notice,) = _notices(database)
    assert (notice.costs_named_cents, notice.vat_named_cents) == (4_840, 840)


def test_english_letter_for_an_english_customer(database: Database, tmp_path: Path) -> None:
    customer_id = _customer(
        database,
        "K-EN",
        [("K-EN-1", "Rent October", 25_000, TODAY - timedelta(days=10))],
        language="en",
    )
    with database.transaction() as session:
        data = service.fourteen_day_letter_data(session, "K-EN", NOW, "Sanne")
        service.generate_letter(
            session,
            SYSTEM,
            data,
            tmp_path / "en.pdf",
            NOW,
            customer_id=customer_id,
            delivery="printed",
        )
    text = _pdf_text((tmp_path / "en.pdf").read_bytes())
    assert "within 14 days after the day on which you receive this letter" in text
    assert "K-EN-1 Rent October" in text
    assert f"These costs are {_money(4_000, 'en')}" in text
    assert not data.later_claims and "They are not in this letter." not in text


@pytest.mark.parametrize(
    ("delivery", "channel", "receipt_days"), [("printed", "post", None), ("emailed", "email", 0)]
)
def test_a_sent_letter_records_its_notice_linked_to_the_letter(
    database: Database, tmp_path: Path, delivery: str, channel: str, receipt_days: int | None
) -> None:
    customer_id = _worked_example(database)
    with database.transaction() as session:
        data = service.fourteen_day_letter_data(session, "K-250", NOW, "Sanne")
        record = service.generate_letter(
            session,
            SYSTEM,
            data,
            tmp_path / "14.pdf",
            NOW,
            customer_id=customer_id,
            delivery=delivery,  # type: ignore[arg-type]
        )
    assert record.delivery == delivery
    (notice,) = _notices(database)
    assert notice.letter_id == record.letter_id
    assert record.notice_id == notice.id
    assert (notice.sent_on, notice.channel, notice.status) == (TODAY, channel, "running")
    assert (notice.principal_named_cents, notice.costs_named_cents) == (25_000, 4_000)
    policy = rules.load_books_policy()
    expected = rules.term_ends(TODAY, rules.Channel(channel), policy)
    assert notice.term_ends == record.term_ends == expected
    if receipt_days is not None:
        assert notice.received_on == TODAY + timedelta(days=receipt_days)
    with database.transaction() as session:
        named = session.execute(
            select(Claim.reference, DemandNoticeClaim.principal_named_cents)
            .join(Claim, Claim.id == DemandNoticeClaim.claim_id)
            .where(DemandNoticeClaim.notice_id == notice.id)
        ).all()
        row = session.get(LetterSent, record.letter_id)
        assert row is not None and row.delivery == delivery
        detail = session.scalar(
            select(AuditEvent.detail).where(
                AuditEvent.entity == "letter_sent", AuditEvent.entity_id == record.letter_id
            )
        )
    assert [tuple(n) for n in named] == [("K-250-HUUR-OKT", 25_000)]
    assert detail is not None and json.loads(detail)["delivery"] == delivery
    assert _costs_booked(database, customer_id) == 0  # the term runs; nothing is owed yet


def test_a_saved_letter_is_recorded_as_saved_and_starts_no_term(
    database: Database, tmp_path: Path
) -> None:
    customer_id = _worked_example(database)
    with database.transaction() as session:
        data = service.fourteen_day_letter_data(session, "K-250", NOW, "Sanne")
        record = service.generate_letter(
            session,
            SYSTEM,
            data,
            tmp_path / "kept.pdf",
            NOW,
            customer_id=customer_id,
            delivery="saved",
        )
    assert record.delivery == "saved" and record.notice_id is None and record.term_ends is None
    assert _letters(database) == [("fourteen_day", "saved")]
    assert _notices(database) == []
    # Saved is not sent: the same letter can still be printed, which starts the term.
    with database.transaction() as session:
        again = service.fourteen_day_letter_data(session, "K-250", NOW, "Sanne")
        assert again == data
        service.generate_letter(
            session,
            SYSTEM,
            again,
            tmp_path / "post.pdf",
            NOW,
            customer_id=customer_id,
            delivery="printed",
        )
    assert _letters(database) == [("fourteen_day", "saved"), ("fourteen_day", "printed")]
    assert len(_notices(database)) == 1


def test_the_timeline_says_how_each_letter_left(database: Database, tmp_path: Path) -> None:
    customer_id = _worked_example(database)
    with database.transaction() as session:
        data = service.fourteen_day_letter_data(session, "K-250", NOW, "Sanne")
        for delivery in ("saved", "printed"):
            service.generate_letter(
                session,
                SYSTEM,
                data,
                tmp_path / f"{delivery}.pdf",
                NOW,
                customer_id=customer_id,
                delivery=delivery,  # type: ignore[arg-type]
            )
        file = customer_file(session, SYSTEM, customer_id, NOW, audit_view=False)
    letters = [item for item in file.timeline if item.kind == "letter"]
    assert sorted(item.values["delivery"] for item in letters) == ["printed", "saved"]
    assert {item.summary for item in letters} == {"fourteen_day"}


def test_a_claim_named_by_a_sent_letter_is_not_named_again(
    database: Database, tmp_path: Path
) -> None:
    customer_id = _worked_example(database)
    with database.transaction() as session:
        data = service.fourteen_day_letter_data(session, "K-250", NOW, "Sanne")
        service.generate_letter(
            session,
            SYSTEM,
            data,
            tmp_path / "first.pdf",
            NOW,
            customer_id=customer_id,
            delivery="printed",
        )
    with database.transaction() as session, pytest.raises(ValidationError) as refused:
        service.fourteen_day_letter_data(session, "K-250", NOW, "Sanne")
    assert str(refused.value) == (
        "Every claim of customer K-250 in default was already named in a 14-day letter (the "
        f"last one sent on {TODAY.isoformat()}); a claim that falls due later needs its own "
        "letter."
    )
    # Tomorrow the EUR 750 is in default: a new letter names only it, with its own costs.
    tomorrow = TODAY + timedelta(days=1)
    with database.transaction() as session:
        later = service.fourteen_day_letter_data(
            session, "K-250", NOW + timedelta(days=1), "Sanne", today=tomorrow
        )
    assert [c.reference for c in later.claims] == ["K-250-HUUR-NOV"]
    assert (later.outstanding_cents, later.costs_cents) == (75_000, 11_250)


def test_a_payment_after_the_preview_stops_the_letter_being_recorded(
    database: Database, tmp_path: Path
) -> None:
    customer_id = _worked_example(database)
    with database.transaction() as session:
        data = service.fourteen_day_letter_data(session, "K-250", NOW, "Sanne")
    with database.transaction() as session:
        payments.receive_payments(
            session, SYSTEM, [payments.PaymentInput(customer_id, 10_000, TODAY, "bank-1")], NOW
        )
    out = tmp_path / "stale.pdf"
    with database.transaction() as session, pytest.raises(ValidationError) as refused:
        service.generate_letter(
            session, SYSTEM, data, out, NOW, customer_id=customer_id, delivery="printed"
        )
    assert "figures changed since this letter was made" in str(refused.value)
    assert not out.exists()
    assert _letters(database) == [] and _notices(database) == []


def test_no_claim_in_default_means_no_letter(database: Database) -> None:
    _customer(database, "K-NEW", [("K-NEW-1", "Huur", 75_000, TODAY)])
    with database.transaction() as session, pytest.raises(ValidationError) as refused:
        service.fourteen_day_letter_data(session, "K-NEW", NOW, "Sanne")
    assert str(refused.value) == (
        f"Customer K-NEW has no claim in default on {TODAY.isoformat()}, so there is nothing a "
        "14-day letter could name."
    )
    with database.transaction() as session, pytest.raises(ValidationError) as future:
        service.fourteen_day_letter_data(
            session, "K-NEW", NOW, "Sanne", sent_on=TODAY + timedelta(days=1)
        )
    assert future.value.field == "date"


# --------------------------------------------------------------------------- back-dated


def _sent_on_for_term_end(term_end: date) -> date:
    policy = rules.load_books_policy()
    for days in range(10, 40):
        sent_on = term_end - timedelta(days=days)
        if rules.term_ends(sent_on, rules.Channel.POST, policy) == term_end:
            return sent_on
    raise AssertionError(f"no posting day gives a term ending on {term_end}")


# A fixed "today" on a Wednesday, so both a term ending tomorrow (Thursday) and one
# that ended yesterday (Tuesday) exist for letters sent by post.
FIXED_TODAY = date(2027, 3, 10)


def _run_fourteen_day(database: Database, number: str, out: Path, *extra: str) -> int:
    argv = ["letter", "fourteen-day", "--database", _url(database), "--customer", number]
    return main([*argv, "--out", str(out), *extra])


@pytest.mark.parametrize(
    ("term_end", "booked"),
    [
        (FIXED_TODAY + timedelta(days=1), False),  # ends tomorrow: the customer may still pay
        (FIXED_TODAY, False),  # ends today: still in time
        (FIXED_TODAY - timedelta(days=1), True),  # ended yesterday: the costs are owed
    ],
)
def test_a_back_dated_letter_books_its_costs_only_once_its_term_ran_out(
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    term_end: date,
    booked: bool,
) -> None:
    import agent_desk.cli.cmd_letters as cmd_letters

    # The command's "today" is the team's day now (``team_day.local_day``): fix it.
    monkeypatch.setattr(cmd_letters.team_day, "local_day", lambda *_a, **_k: FIXED_TODAY)
    sent_on = _sent_on_for_term_end(term_end)
    customer_id = _customer(
        database,
        "K-BACK",
        [
            ("JAN-4711", "Huur januari", 25_000, sent_on - timedelta(days=20)),
            ("FEB-4711", "Huur februari", 30_000, sent_on),  # due that day: not in default
        ],
    )
    out = tmp_path / "back.pdf"
    code = _run_fourteen_day(database, "K-BACK", out, "--date", sent_on.isoformat())
    captured = capsys.readouterr()
    assert code == 0, captured.err
    (notice,) = _notices(database)
    assert (notice.sent_on, notice.term_ends) == (sent_on, term_end)
    assert notice.principal_named_cents == 25_000
    text = _pdf_text(out.read_bytes())
    assert "JAN-4711" in text and "FEB-4711" not in text
    assert format_long_date_nl(sent_on) in text  # the letter carries the day it went out
    if booked:
        assert notice.status == "costs_booked" and notice.costs_booked_cents == 4_000
        assert _costs_booked(database, customer_id) == 4_000
        assert "costs were booked now" in captured.out
    else:
        assert notice.status == "running" and notice.costs_booked_cents == 0
        assert _costs_booked(database, customer_id) == 0
        assert "booked" not in captured.out
    assert _letters(database) == [("fourteen_day", "printed")]


def format_long_date_nl(value: date) -> str:
    from agent_desk.letters.style import format_long_date

    return format_long_date(value, "nl")


def test_a_letter_dated_forty_days_ago_has_its_costs_booked_at_once(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sent_on = TODAY - timedelta(days=40)
    customer_id = _customer(
        database,
        "K-40",
        [
            ("K-40-1", "Huur", 25_000, sent_on - timedelta(days=15)),
            ("K-40-2", "Huur", 10_000, sent_on + timedelta(days=10)),  # fell due later
        ],
    )
    out = tmp_path / "forty.pdf"
    code = _run_fourteen_day(database, "K-40", out, "--date", sent_on.isoformat(), "--json")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    document = json.loads(captured.out)
    assert document["delivery"] == "printed"
    assert document["sent_on"] == sent_on.isoformat()
    assert document["claims"] == ["K-40-1"]
    assert (document["principal"], document["costs"], document["costs_booked"]) == (
        "250.00",
        "40.00",
        "40.00",
    )
    (notice,) = _notices(database)
    assert document["notice_id"] == notice.id and document["term_ends"] == (
        notice.term_ends.isoformat()
    )
    assert notice.status == "costs_booked"
    assert _costs_booked(database, customer_id) == 4_000
    with database.transaction() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        balance = customer_balance(session, customer_id, TODAY)
    by_reference = {c.reference: c for c in balance.claims}
    assert by_reference["K-40-1"].outstanding_costs == 4_000
    assert by_reference["K-40-2"].outstanding_costs == 0  # never named: no costs


def test_the_cli_refuses_a_future_date_and_a_customer_with_nothing_in_default(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _customer(database, "K-NONE", [("K-NONE-1", "Huur", 75_000, TODAY)])
    _worked_example(database)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "nope.pdf"
    future = (TODAY + timedelta(days=1)).isoformat()
    code = _run_fourteen_day(database, "K-250", out, "--date", future)
    err = capsys.readouterr().err
    assert code == 1
    assert err == (
        f"agent-desk: The letter date {future} is in the future; give the day the letter went "
        "out, today or earlier.\n"
    )
    code = _run_fourteen_day(database, "K-NONE", out)
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "has no claim in default" in err
    code = _run_fourteen_day(database, "K-250", out, "--date", "2027-02-30")
    assert code == 2
    assert "is not a valid date" in capsys.readouterr().err
    assert list(out_dir.iterdir()) == []
    assert _letters(database) == [] and _notices(database) == []

    # Today (the default): recorded as printed, the term runs, nothing booked yet.
    code = _run_fourteen_day(database, "K-250", out)
    output = capsys.readouterr().out
    assert code == 0
    assert "printed" in output and "its term ends on" in output
    (notice,) = _notices(database)
    assert notice.sent_on == TODAY and notice.status == "running"
