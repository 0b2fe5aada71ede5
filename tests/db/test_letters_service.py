"""Letters from the database: build, write, record and regenerate (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select, update

from agent_desk.cli import main
from agent_desk.demo import load_demo
from agent_desk.domain.ledger import Channel
from agent_desk.domain.money import format_money
from agent_desk.errors import NotFoundError, ValidationError
from agent_desk.letters import sha256_hex
from agent_desk.letters.parameters import letter_from_parameters, letter_parameters
from agent_desk.letters.style import format_long_date
from agent_desk.models import (
    Arrangement,
    AuditEvent,
    ContactPoint,
    Customer,
    DemandNotice,
    LetterSent,
)
from agent_desk.services import notices
from agent_desk.services.actor import SYSTEM
from agent_desk.services.database import Database
from agent_desk.services.letter_data import (
    arrangement_letter_data,
    debt_help_letter_data,
    fourteen_day_letter_data,
    pause_letter_data,
)
from agent_desk.services.letters import generate_letter, regenerate

TERM_NL = "binnen 14 dagen na de dag waarop u deze brief ontvangt"
NOW = datetime.combine(date.today(), time(9, 0), tzinfo=UTC)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


def _pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(_norm(page.extract_text()) for page in reader.pages)


def _money(cents: int, language: str) -> str:
    return _norm(format_money(cents, language))


def _load(database: Database) -> None:
    with database.transaction() as session:
        load_demo(session, customers=60, seed=3)


def _url(database: Database) -> str:
    return database.url.render_as_string(hide_password=False)


def _first_arrangement(database: Database) -> int:
    """The first demo arrangement, made active: only an active one gets a confirmation."""
    with database.transaction() as session:
        arrangement = session.scalars(select(Arrangement).order_by(Arrangement.id).limit(1)).first()
        assert arrangement is not None, "the demo data should hold arrangements"
        arrangement.status = "active"
        return arrangement.id


def _dutch_customer_in_arrears(database: Database) -> str:
    """A Dutch customer in arrears with an address who never got a 14-day letter."""
    with database.transaction() as session:
        number = session.scalar(
            select(Customer.customer_number)
            .where(Customer.language == "nl", Customer.arrears_cents > 0)
            .where(
                Customer.id.in_(
                    select(ContactPoint.customer_id).where(
                        ContactPoint.kind == "address", ContactPoint.invalid.is_(False)
                    )
                ),
                Customer.id.not_in(select(DemandNotice.customer_id)),
            )
            .order_by(Customer.id)
            .limit(1)
        )
    assert number is not None
    return number


def test_arrangement_letter_is_written_recorded_and_regenerated(
    database: Database, tmp_path: Path
) -> None:
    _load(database)
    arrangement_id = _first_arrangement(database)
    out = tmp_path / "confirmation.pdf"
    with database.transaction() as session:
        data = arrangement_letter_data(session, arrangement_id, NOW, "Sanne de Vries")
        arrangement = session.get(Arrangement, arrangement_id)
        assert arrangement is not None
        customer = session.get(Customer, arrangement.customer_id)
        assert customer is not None
        address = session.scalars(
            select(ContactPoint).where(
                ContactPoint.customer_id == customer.id,
                ContactPoint.kind == "address",
                ContactPoint.invalid.is_(False),
            )
        ).first()
        assert address is not None and address.postcode
        instalments = [(i.due_date, i.amount_cents) for i in arrangement.instalments]
        customer_name, customer_number, language = (
            customer.name,
            customer.customer_number,
            customer.language,
        )
        postcode = address.postcode
        record = generate_letter(
            session,
            SYSTEM,
            data,
            out,
            NOW,
            customer_id=customer.id,
            arrangement_id=arrangement_id,
            delivery="printed",
        )

    pdf = out.read_bytes()
    text = _pdf_text(pdf)
    assert customer_name in text
    assert _norm(postcode) in text
    assert len(instalments) == len(data.schedule) > 0
    for due, amount in instalments:
        assert _money(amount, language) in text
        assert _norm(format_long_date(due, data.language)) in text
    assert data.payment_reference == f"{customer_number}-{arrangement_id}"
    assert data.payment_reference in text
    assert data.reference in text
    assert record.sha256 == sha256_hex(pdf)

    with database.transaction() as session:
        row = session.get(LetterSent, record.letter_id)
        assert row is not None
        assert row.template == "arrangement"
        assert row.delivery == "printed"
        assert row.sha256 == sha256_hex(pdf)
        assert row.arrangement_id == arrangement_id
        assert row.customer_id == arrangement.customer_id
        assert row.template_version == record.template_version
        assert letter_from_parameters(json.loads(row.parameters)) == data
        events = session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "letter_sent", AuditEvent.entity_id == record.letter_id
            )
        ).all()
        assert len(events) == 1
        again = regenerate(session, record.letter_id)
    assert again == pdf
    assert sha256_hex(again) == record.sha256
    assert not list(tmp_path.glob("*.part"))


def test_fourteen_day_letter_has_the_bik_costs_and_the_legal_term(
    database: Database, tmp_path: Path
) -> None:
    _load(database)
    number = _dutch_customer_in_arrears(database)
    out = tmp_path / "14.pdf"
    with database.transaction() as session:
        customer = session.scalar(select(Customer).where(Customer.customer_number == number))
        assert customer is not None
        expected = notices.draft_notice(
            session, customer.id, NOW.date(), Channel.POST, add_vat=False
        )
        data = fourteen_day_letter_data(session, number, NOW, "Sanne de Vries")
        assert data.outstanding_cents == expected.principal > 0
        assert data.costs_cents == expected.costs > 0
        assert data.vat_cents == 0 and not data.vat_statement
        assert [c.reference for c in data.claims] == [c.reference for c in expected.claims]
        record = generate_letter(
            session, SYSTEM, data, out, NOW, customer_id=customer.id, delivery="printed"
        )
    text = _pdf_text(out.read_bytes())
    assert TERM_NL in text
    assert _money(expected.costs, "nl") in text
    assert _money(data.outstanding_cents, "nl") in text
    for claim in expected.claims:
        assert claim.reference in text
    assert customer.name in text
    with database.transaction() as session:
        assert regenerate(session, record.letter_id) == out.read_bytes()


def test_pause_and_debt_help_letters_round_trip(database: Database, tmp_path: Path) -> None:
    _load(database)
    number = _dutch_customer_in_arrears(database)
    with database.transaction() as session:
        customer = session.scalar(select(Customer).where(Customer.customer_number == number))
        assert customer is not None
        if customer.paused_until is None:
            with pytest.raises(ValidationError):
                pause_letter_data(session, number, NOW, "Sanne")
        pause = pause_letter_data(
            session,
            number,
            NOW,
            "Sanne",
            paused_until=NOW.date() + timedelta(days=30),
            reason="u wacht op een besluit over uw uitkering",
        )
        help_letter = debt_help_letter_data(session, number, NOW, "Sanne")
        for data, name in ((pause, "pause.pdf"), (help_letter, "help.pdf")):
            assert letter_from_parameters(json.loads(json.dumps(letter_parameters(data)))) == data
            record = generate_letter(
                session,
                SYSTEM,
                data,
                tmp_path / name,
                NOW,
                customer_id=customer.id,
                delivery="saved",
            )
            assert regenerate(session, record.letter_id) == (tmp_path / name).read_bytes()


def test_missing_address_is_a_clear_error_and_writes_nothing(
    database: Database, tmp_path: Path
) -> None:
    _load(database)
    number = _dutch_customer_in_arrears(database)
    with database.transaction() as session:
        customer_id = session.scalar(select(Customer.id).where(Customer.customer_number == number))
        session.execute(
            update(ContactPoint)
            .where(ContactPoint.customer_id == customer_id, ContactPoint.kind == "address")
            .values(invalid=True, version=ContactPoint.version + 1)
            .execution_options(synchronize_session=False)
        )
    with database.transaction() as session, pytest.raises(ValidationError) as caught:
        fourteen_day_letter_data(session, number, NOW, "Sanne")
    assert "no valid postal address" in str(caught.value)
    assert caught.value.field == "address"

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "none.pdf"
    url = _url(database)
    assert (
        main(["letter", "fourteen-day", "--database", url, "--customer", number, "--out", str(out)])
        == 1
    )
    assert not out.exists()
    assert list(out_dir.iterdir()) == []
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(LetterSent)) == 0
        with pytest.raises(NotFoundError):
            fourteen_day_letter_data(session, "no-such-customer", NOW, "Sanne")
        with pytest.raises(NotFoundError):
            arrangement_letter_data(session, 987654, NOW, "Sanne")


def test_cli_letters(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _load(database)
    url = _url(database)
    arrangement_id = _first_arrangement(database)
    number = _dutch_customer_in_arrears(database)

    single = tmp_path / "arrangement.pdf"
    assert (
        main(
            [
                "letter",
                "arrangement",
                "--database",
                url,
                "--arrangement",
                str(arrangement_id),
                "--out",
                str(single),
            ]
        )
        == 0
    )
    assert single.read_bytes().startswith(b"%PDF")
    fourteen = tmp_path / "fourteen.pdf"
    assert (
        main(
            [
                "letter",
                "fourteen-day",
                "--database",
                url,
                "--customer",
                number,
                "--out",
                str(fourteen),
                "--as",
                "sanne",
            ]
        )
        == 0
    )
    assert TERM_NL in _pdf_text(fourteen.read_bytes())
    capsys.readouterr()

    with database.transaction() as session:
        arrangements = session.scalar(select(func.count()).select_from(Arrangement)) or 0
        active = (
            session.scalar(
                select(func.count()).select_from(Arrangement).where(Arrangement.status == "active")
            )
            or 0
        )
        before = session.scalar(select(func.count()).select_from(LetterSent)) or 0
    assert before == 2
    assert 1 <= active < arrangements  # the demo's other arrangements are broken
    with database.transaction() as session:
        signed = session.scalar(select(LetterSent).where(LetterSent.template == "fourteen_day"))
        assert signed is not None and signed.agent_id is not None
        assert json.loads(signed.parameters)["agent_name"] != SYSTEM.display_name
    since = (date.today() - timedelta(days=400)).isoformat()
    batch_dir = tmp_path / "batch"
    code = main(
        [
            "letters",
            "--database",
            url,
            "--kind",
            "arrangement",
            "--since",
            since,
            "--out",
            str(batch_dir),
        ]
    )
    output = capsys.readouterr().out
    assert code == 0, output
    written = sorted(batch_dir.glob("*.pdf"))
    assert len(written) == active
    assert f"Wrote {active} letter(s)" in output
    assert f"{arrangements - active} skipped, not active ({arrangements - active} broken off)" in (
        output
    )
    assert "0 failed" in output
    with database.transaction() as session:
        rows = session.scalars(select(LetterSent).where(LetterSent.id > 0)).all()
        assert len(rows) == before + active
        assert {r.delivery for r in rows} == {"printed"}
        by_sha = {r.sha256 for r in rows}
    for path in written:
        assert sha256_hex(path.read_bytes()) in by_sha

    # A future date: nothing to write.
    future = (date.today() + timedelta(days=10)).isoformat()
    assert (
        main(
            [
                "letters",
                "--database",
                url,
                "--kind",
                "arrangement",
                "--since",
                future,
                "--out",
                str(batch_dir),
            ]
        )
        == 0
    )
    assert "nothing written" in capsys.readouterr().out

    # Unknown arrangement: exit 1 with one sentence.
    missing = tmp_path / "missing.pdf"
    assert (
        main(
            [
                "letter",
                "arrangement",
                "--database",
                url,
                "--arrangement",
                "987654",
                "--out",
                str(missing),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err.strip()
    assert err == "agent-desk: There is no arrangement with id 987654."
    assert not missing.exists()

    # Bad usage: exit 2.
    assert (
        main(
            [
                "letters",
                "--database",
                url,
                "--kind",
                "arrangement",
                "--since",
                "2027-13-01",
                "--out",
                str(batch_dir),
            ]
        )
        == 2
    )
    assert "is not a valid date" in capsys.readouterr().err
    assert (
        main(
            [
                "letter",
                "arrangement",
                "--database",
                url,
                "--arrangement",
                "x",
                "--out",
                str(missing),
            ]
        )
        == 2
    )
    assert (
        main(
            [
                "letter",
                "arrangement",
                "--database",
                url,
                "--arrangement",
                "1",
                "--out",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert main(["letter", "--database", url]) == 2
    capsys.readouterr()
