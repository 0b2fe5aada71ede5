"""F6 letters: preview pages, print to a PDF printer, save as PDF, record once, errors."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

import agent_desk.services.letters as letter_service
from agent_desk.letters import demo_creditor
from agent_desk.models import (
    Arrangement,
    AuditEvent,
    ContactPoint,
    Customer,
    Instalment,
    LetterSent,
)
from agent_desk.services.database import Database
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.letters import LettersDialog, ScriptedLetterOutput

WAIT = 20_000


def idle(qtbot: QtBot, window: DeskWindow) -> None:
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)


def customer_with_arrangement(database: Database) -> int:
    with database.transaction() as session:
        found = session.scalars(
            select(Customer.id)
            .join(Arrangement, Arrangement.customer_id == Customer.id)
            .where(Customer.held_by_agent_id.is_(None), Customer.paused_until.is_(None))
            .order_by(Customer.id)
            .limit(1)
        ).first()
    assert found is not None, "the demo data has broken arrangements"
    return found


def customer_without_arrangement(database: Database) -> int:
    with database.transaction() as session:
        with_arrangement = select(Arrangement.customer_id)
        found = session.scalars(
            select(Customer.id)
            .where(
                Customer.held_by_agent_id.is_(None),
                Customer.paused_until.is_(None),
                Customer.arrears_cents > 0,
                Customer.id.not_in(with_arrangement),
            )
            .order_by(Customer.id)
            .limit(1)
        ).first()
    assert found is not None
    return found


def paused_customer(database: Database) -> int:
    today = date.today()
    with database.transaction() as session:
        found = session.scalars(
            select(Customer.id)
            .where(
                Customer.held_by_agent_id.is_(None),
                Customer.paused_until > today,
                Customer.pause_reason.is_not(None),
            )
            .order_by(Customer.id)
            .limit(1)
        ).first()
    assert found is not None, "the demo data has paused customers"
    return found


def add_long_arrangement(database: Database, customer_id: int, instalments: int) -> int:
    """An active arrangement, newer than the demo's broken one, long enough for pages."""
    with database.transaction() as session:
        total = 0
        arrangement = Arrangement(
            customer_id=customer_id,
            created_at=datetime.now(UTC) - timedelta(hours=1),
            principal_cents=0,
            total_cents=0,
            status="active",
            costs_waived=True,
            interest_waived=True,
        )
        start = date.today() + timedelta(days=7)
        for number in range(1, instalments + 1):
            arrangement.instalments.append(
                Instalment(
                    number=number,
                    due_date=start + timedelta(days=30 * (number - 1)),
                    amount_cents=2_500,
                )
            )
            total += 2_500
        arrangement.principal_cents = arrangement.total_cents = total
        session.add(arrangement)
        session.flush()
        return arrangement.id


def open_file(qtbot: QtBot, window: DeskWindow, customer_id: int) -> None:
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        window.open_customer(customer_id)
    idle(qtbot, window)
    file = window.current_file()
    assert file is not None and file.id == customer_id


def open_letters(qtbot: QtBot, window: DeskWindow, *, wait_preview: bool = True) -> LettersDialog:
    assert window.actions_.letter.isEnabled()
    window.actions_.letter.trigger()
    dialog = window.letters_dialog
    assert isinstance(dialog, LettersDialog)
    assert dialog.isVisible()
    if wait_preview:
        qtbot.waitUntil(lambda: dialog.preview.page_count() > 0, timeout=WAIT)
        qtbot.waitUntil(lambda: dialog.save_button.isEnabled(), timeout=WAIT)
    return dialog


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def letters_of(database: Database, customer_id: int) -> list[LetterSent]:
    with database.transaction() as session:
        rows = session.scalars(
            select(LetterSent).where(LetterSent.customer_id == customer_id)
        ).all()
        session.expunge_all()
        return list(rows)


def timeline_texts(window: DeskWindow) -> list[str]:
    table = window.customer_panel.timeline
    return [table.item(row, 1).text() for row in range(table.rowCount())]


# --------------------------------------------------------------------------- tests


def test_f6_needs_a_customer_and_kinds_that_do_not_apply_say_why(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    assert not window.actions_.letter.isEnabled()  # nobody on screen yet
    assert "(F6)" in window.actions_.letter.toolTip()
    customer_id = customer_without_arrangement(database)
    open_file(qtbot, window, customer_id)
    dialog = open_letters(qtbot, window)
    kinds = dialog.kinds
    assert not kinds["arrangement"].isEnabled()
    assert kinds["arrangement"].toolTip() == "No arrangement yet"
    assert "No arrangement yet" in dialog.reasons["arrangement"].text()
    assert not kinds["pause"].isEnabled()
    assert kinds["pause"].toolTip() == "Collection is not paused"
    assert kinds["fourteen_day"].isEnabled() and kinds["debt_help"].isEnabled()
    assert dialog.kind() == "fourteen_day"  # the first letter that applies
    assert not dialog.arrangement.isEnabled()

    dialog.reject()
    paused = paused_customer(database)
    open_file(qtbot, window, paused)
    dialog = open_letters(qtbot, window)
    assert dialog.kind() == "pause" or dialog.kinds["pause"].isEnabled()
    assert dialog.kinds["pause"].isEnabled()
    assert not dialog.kinds["fourteen_day"].isEnabled()
    assert "paused until" in dialog.kinds["fourteen_day"].toolTip()
    dialog.choose("pause")
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled(), timeout=WAIT)
    assert dialog.preview.page_count() >= 1


def test_the_preview_shows_every_page_of_the_newest_current_arrangement(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    customer_id = customer_with_arrangement(database)
    long_one = add_long_arrangement(database, customer_id, instalments=60)
    open_file(qtbot, window, customer_id)
    dialog = open_letters(qtbot, window)
    assert dialog.kind() == "arrangement"
    assert dialog.arrangement_id() == long_one  # active beats the older broken one
    assert dialog.arrangement.count() == 2
    assert dialog.arrangement.isEnabled()
    pdf = dialog.preview.pdf
    assert pdf is not None
    expected = len(PdfReader(io.BytesIO(pdf)).pages)
    assert expected >= 2  # sixty instalments flow onto further pages
    assert dialog.preview.page_count() == expected
    assert len(dialog.preview.page_pixmaps()) == expected
    assert all(not pixmap.isNull() for pixmap in dialog.preview.page_pixmaps())
    assert dialog.preview.page_label.text() == f"{expected} pages"
    # Every instalment is in the letter the agent sees.
    assert "60" in pdf_text(pdf)

    # Another arrangement: a new preview, with fewer pages.
    broken = dialog.arrangement.itemData(1)
    with qtbot.waitSignal(dialog.preview_ready, timeout=WAIT) as ready:
        dialog.choose("arrangement", broken)
    assert dialog.arrangement_id() == broken
    short = dialog.preview.pdf
    assert short is not None and short != pdf
    assert ready.args == [len(PdfReader(io.BytesIO(short)).pages)]
    assert dialog.preview.page_count() < expected

    # Zoom re-renders the same pages bigger.
    width = dialog.preview.page_pixmaps()[0].width()
    with qtbot.waitSignal(dialog.preview.pages_shown, timeout=WAIT):
        dialog.preview.zoom_in.click()
    assert dialog.preview.page_pixmaps()[0].width() > width
    assert not dialog.preview.fit.isChecked()


def test_save_as_pdf_writes_the_letter_records_it_once_and_the_timeline_shows_it(
    qtbot: QtBot, window: DeskWindow, database: Database, tmp_path: Path
) -> None:
    customer_id = customer_with_arrangement(database)
    open_file(qtbot, window, customer_id)
    file = window.current_file()
    assert file is not None
    target = tmp_path / "bevestiging.pdf"
    printed = tmp_path / "printed.pdf"
    window.letter_output = ScriptedLetterOutput(save_path=target, printer_file=printed)
    dialog = open_letters(qtbot, window)
    assert dialog.kind() == "arrangement"
    shown = dialog.preview.pdf
    assert shown is not None

    with (
        qtbot.waitSignal(window.file_shown, timeout=WAIT),
        qtbot.waitSignal(dialog.recorded, timeout=WAIT),
    ):
        dialog.save_button.click()
    idle(qtbot, window)
    written = target.read_bytes()
    assert written == shown  # exactly what the agent saw
    assert file.name in pdf_text(written)
    assert not list(tmp_path.glob("*.part"))
    rows = letters_of(database, customer_id)
    assert len(rows) == 1
    assert rows[0].sha256 == hashlib.sha256(written).hexdigest()
    assert rows[0].template == "arrangement"
    assert rows[0].arrangement_id == dialog.arrangement_id()
    assert rows[0].agent_id == window.actor.agent_id
    with database.transaction() as session:
        audited = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity == "letter_sent", AuditEvent.entity_id == rows[0].id)
        )
    assert audited == 1
    assert any("letter" in text for text in timeline_texts(window))
    assert "recorded in the customer's file" in dialog.status.text()
    assert "bevestiging.pdf" in dialog.status.text()

    # Printing the same letter as well: it is still one letter, recorded once.
    with qtbot.waitSignal(dialog.finished_output, timeout=WAIT):
        dialog.print_button.click()
    idle(qtbot, window)
    assert printed.stat().st_size > 0
    assert len(letters_of(database, customer_id)) == 1
    assert "not recorded twice" in dialog.status.text()


def test_print_to_a_pdf_printer_produces_the_pages_and_records_the_letter(
    qtbot: QtBot, window: DeskWindow, database: Database, tmp_path: Path
) -> None:
    customer_id = customer_without_arrangement(database)
    open_file(qtbot, window, customer_id)
    printed = tmp_path / "printer-output.pdf"
    output = ScriptedLetterOutput(printer_file=printed)
    window.letter_output = output
    dialog = open_letters(qtbot, window)
    with qtbot.waitSignal(dialog.preview_ready, timeout=WAIT):
        dialog.choose("debt_help")
    pages = dialog.preview.page_count()
    shown = dialog.preview.pdf
    assert shown is not None and pages >= 1
    with qtbot.waitSignal(dialog.recorded, timeout=WAIT):
        dialog.print_button.click()
    idle(qtbot, window)
    assert output.asked == [f"print:{pages}"]
    data = printed.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 10_000
    document = pdfium.PdfDocument(data)
    try:
        assert len(document) == pages
        width, height = document[0].get_size()
    finally:
        document.close()
    assert abs(width - 595) < 3 and abs(height - 842) < 3  # A4, the whole sheet
    rows = letters_of(database, customer_id)
    assert [(r.template, r.sha256) for r in rows] == [
        ("debt_help", hashlib.sha256(shown).hexdigest())
    ]
    assert "Sent to the printer" in dialog.status.text()
    qtbot.waitUntil(lambda: any("letter" in t for t in timeline_texts(window)), timeout=WAIT)


def test_no_valid_address_gives_a_plain_error_and_writes_nothing(
    qtbot: QtBot, window: DeskWindow, database: Database, tmp_path: Path
) -> None:
    customer_id = customer_without_arrangement(database)
    with database.transaction() as session:
        for point in session.scalars(
            select(ContactPoint).where(
                ContactPoint.customer_id == customer_id, ContactPoint.kind == "address"
            )
        ):
            point.invalid = True
            point.invalid_reason = "returned to sender"
    open_file(qtbot, window, customer_id)
    target = tmp_path / "out" / "letter.pdf"
    target.parent.mkdir()
    output = ScriptedLetterOutput(save_path=target, printer_file=tmp_path / "out" / "p.pdf")
    window.letter_output = output
    dialog = open_letters(qtbot, window, wait_preview=False)
    qtbot.waitUntil(dialog.notice.isVisible, timeout=WAIT)
    idle(qtbot, window)
    assert "no valid postal address" in dialog.notice.text()
    assert dialog.notice.text().startswith("⚠ This letter cannot be made:")
    assert "cannot be made" in dialog.preview.message.text()
    assert dialog.preview.page_count() == 0
    assert not dialog.save_button.isEnabled() and not dialog.print_button.isEnabled()
    dialog.save_as_pdf()
    dialog.print_letter()
    idle(qtbot, window)
    assert output.asked == []
    assert list(target.parent.iterdir()) == []
    assert letters_of(database, customer_id) == []
    # The other kinds fail the same plain way.
    with qtbot.waitSignal(dialog.problem, timeout=WAIT):
        dialog.choose("debt_help")
    assert "no valid postal address" in dialog.notice.text()


def test_an_invalid_iban_is_explained_and_nothing_is_written(
    qtbot: QtBot,
    window: DeskWindow,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dataclasses import replace

    broken = replace(demo_creditor(), iban="NL91 ABNA 0417 1643 01")
    monkeypatch.setattr(letter_service, "_creditor", lambda: broken)
    customer_id = customer_without_arrangement(database)
    open_file(qtbot, window, customer_id)
    dialog = open_letters(qtbot, window, wait_preview=False)
    qtbot.waitUntil(dialog.notice.isVisible, timeout=WAIT)
    assert "is not a valid IBAN" in dialog.notice.text()
    assert not dialog.save_button.isEnabled()
    assert letters_of(database, customer_id) == []


def test_a_save_that_fails_leaves_no_file_and_no_record(
    qtbot: QtBot, window: DeskWindow, database: Database, tmp_path: Path
) -> None:
    customer_id = customer_without_arrangement(database)
    open_file(qtbot, window, customer_id)
    missing = tmp_path / "no-such-folder" / "letter.pdf"
    window.letter_output = ScriptedLetterOutput(save_path=missing)
    dialog = open_letters(qtbot, window)
    with qtbot.waitSignal(dialog.problem, timeout=WAIT):
        dialog.save_button.click()
    idle(qtbot, window)
    assert "Nothing was saved or recorded" in dialog.notice.text()
    assert "does not exist" in dialog.notice.text()
    assert not missing.parent.exists()
    assert letters_of(database, customer_id) == []
    assert dialog.save_button.isEnabled()  # the agent can choose another place


def test_a_preview_alone_records_nothing(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    customer_id = customer_with_arrangement(database)
    open_file(qtbot, window, customer_id)
    dialog = open_letters(qtbot, window)
    for kind in ("fourteen_day", "debt_help"):
        with qtbot.waitSignal(dialog.preview_ready, timeout=WAIT):
            dialog.choose(kind)  # type: ignore[arg-type]
    dialog.reject()
    idle(qtbot, window)
    assert letters_of(database, customer_id) == []
