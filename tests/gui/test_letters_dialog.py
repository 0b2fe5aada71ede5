"""F6 letters: preview pages, print to a PDF printer, save as PDF, record once, errors.

Letters tell the truth: only an active arrangement is offered for a confirmation, a
print is recorded as printed (a 14-day letter then starts its term) and a saved PDF as
saved, not sent.
"""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

import agent_desk.services.letter_data as letter_data
from agent_desk.letters import demo_creditor
from agent_desk.models import (
    Arrangement,
    AuditEvent,
    ContactPoint,
    Customer,
    DemandNotice,
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


def add_long_arrangement(
    database: Database, customer_id: int, instalments: int, status: str = "active"
) -> int:
    """An arrangement (active unless said), newer than the demo's broken one."""
    with database.transaction() as session:
        total = 0
        arrangement = Arrangement(
            customer_id=customer_id,
            created_at=datetime.now(UTC) - timedelta(hours=1),
            principal_cents=0,
            total_cents=0,
            status=status,
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


def customer_for_a_fourteen_day_letter(database: Database) -> int:
    """In arrears, no arrangement, no earlier 14-day letter: one the desk may send."""
    with database.transaction() as session:
        found = session.scalars(
            select(Customer.id)
            .where(
                Customer.held_by_agent_id.is_(None),
                Customer.paused_until.is_(None),
                Customer.arrears_cents > 0,
                Customer.id.not_in(select(Arrangement.customer_id)),
                Customer.id.not_in(select(DemandNotice.customer_id)),
            )
            .order_by(Customer.id)
            .limit(1)
        ).first()
    assert found is not None
    return found


def notices_of(database: Database, customer_id: int) -> list[DemandNotice]:
    with database.transaction() as session:
        rows = session.scalars(
            select(DemandNotice).where(DemandNotice.customer_id == customer_id)
        ).all()
        session.expunge_all()
        return list(rows)


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

    # Zoom re-renders the same pages bigger.
    width = dialog.preview.page_pixmaps()[0].width()
    with qtbot.waitSignal(dialog.preview.pages_shown, timeout=WAIT):
        dialog.preview.zoom_in.click()
    assert dialog.preview.page_pixmaps()[0].width() > width
    assert not dialog.preview.fit.isChecked()

    # The broken one is listed, but cannot be chosen, and says why.
    broken = dialog.arrangement.itemData(1)
    model = dialog.arrangement.model()
    assert isinstance(model, QStandardItemModel)
    item = model.item(1)
    assert item is not None and not item.isEnabled()
    assert "broken off" in dialog.arrangement.itemText(1)
    tooltip = dialog.arrangement.itemData(1, Qt.ItemDataRole.ToolTipRole)
    assert f"Arrangement {broken} was broken off, so it can no longer be confirmed." in tooltip
    # Forced anyway (as a script could): no letter, and the same plain sentence.
    with qtbot.waitSignal(dialog.problem, timeout=WAIT):
        dialog.choose("arrangement", broken)
    assert f"Arrangement {broken} was broken off" in dialog.notice.text()
    assert dialog.preview.page_count() == 0
    assert not dialog.save_button.isEnabled() and not dialog.print_button.isEnabled()


def test_save_as_pdf_writes_the_letter_records_it_once_and_the_timeline_shows_it(
    qtbot: QtBot, window: DeskWindow, database: Database, tmp_path: Path
) -> None:
    customer_id = customer_with_arrangement(database)
    add_long_arrangement(database, customer_id, instalments=4)
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
    assert rows[0].delivery == "saved"
    assert rows[0].arrangement_id == dialog.arrangement_id()
    assert rows[0].agent_id == window.actor.agent_id
    with database.transaction() as session:
        audited = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity == "letter_sent", AuditEvent.entity_id == rows[0].id)
        )
    assert audited == 1
    assert "✉ Arrangement confirmation saved, not sent" in timeline_texts(window)
    assert "recorded in the customer's file as saved, not as sent" in dialog.status.text()
    assert "bevestiging.pdf" in dialog.status.text()

    # Saving it again is a copy: nothing new is recorded.
    with qtbot.waitSignal(dialog.finished_output, timeout=WAIT):
        dialog.save_button.click()
    idle(qtbot, window)
    assert len(letters_of(database, customer_id)) == 1
    assert "not recorded twice" in dialog.status.text()

    # Printing it is sending it: recorded as printed, once.
    with (
        qtbot.waitSignal(window.file_shown, timeout=WAIT),
        qtbot.waitSignal(dialog.recorded, timeout=WAIT),
    ):
        dialog.print_button.click()
    idle(qtbot, window)
    assert printed.stat().st_size > 0
    rows = letters_of(database, customer_id)
    assert [(r.delivery, r.sha256) for r in rows] == [
        ("saved", hashlib.sha256(written).hexdigest()),
        ("printed", hashlib.sha256(written).hexdigest()),
    ]
    assert "recorded in the customer's file as printed" in dialog.status.text()
    assert "✉ Arrangement confirmation printed for the post" in timeline_texts(window)
    with qtbot.waitSignal(dialog.finished_output, timeout=WAIT):
        dialog.print_button.click()
    idle(qtbot, window)
    with qtbot.waitSignal(dialog.finished_output, timeout=WAIT):
        dialog.save_button.click()
    idle(qtbot, window)
    assert len(letters_of(database, customer_id)) == 2
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
    assert [(r.template, r.delivery, r.sha256) for r in rows] == [
        ("debt_help", "printed", hashlib.sha256(shown).hexdigest())
    ]
    assert "Sent to the printer" in dialog.status.text()
    qtbot.waitUntil(
        lambda: "✉ Debt-help referral printed for the post" in timeline_texts(window),
        timeout=WAIT,
    )


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
    monkeypatch.setattr(letter_data, "team_creditor", lambda _session: broken)
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
    customer_id = customer_for_a_fourteen_day_letter(database)
    open_file(qtbot, window, customer_id)
    dialog = open_letters(qtbot, window)
    for kind in ("fourteen_day", "debt_help"):
        with qtbot.waitSignal(dialog.preview_ready, timeout=WAIT):
            dialog.choose(kind)  # type: ignore[arg-type]
    dialog.reject()
    idle(qtbot, window)
    assert letters_of(database, customer_id) == []


# --------------------------------------------------------------------------- letters tell the truth


@pytest.mark.parametrize(
    ("status", "why"),
    [
        (
            "pending_approval",
            "is waiting for a supervisor's approval; it can be confirmed once it is approved",
        ),
        ("declined", "was not approved, so there is nothing to confirm"),
        ("broken", "was broken off, so it can no longer be confirmed"),
        ("completed", "is paid in full, so there is nothing left to confirm"),
        ("cancelled", "was withdrawn, so there is nothing to confirm"),
    ],
)
def test_no_confirmation_is_offered_for_an_arrangement_that_is_not_active(
    qtbot: QtBot, window: DeskWindow, database: Database, status: str, why: str
) -> None:
    customer_id = customer_without_arrangement(database)
    arrangement_id = add_long_arrangement(database, customer_id, instalments=3, status=status)
    open_file(qtbot, window, customer_id)
    # A plan waiting for approval also covers the claims: no 14-day letter to preview.
    dialog = open_letters(qtbot, window, wait_preview=status != "pending_approval")
    idle(qtbot, window)
    button = dialog.kinds["arrangement"]
    assert not button.isEnabled()
    assert button.toolTip() == f"Arrangement {arrangement_id} {why}."
    assert why in dialog.reasons["arrangement"].text()
    assert dialog.kind() != "arrangement"
    assert dialog.arrangement_id() == arrangement_id  # listed, so the agent sees it
    dialog.reject()
    idle(qtbot, window)
    assert letters_of(database, customer_id) == []


def test_a_printed_fourteen_day_letter_starts_its_term_and_a_saved_one_does_not(
    qtbot: QtBot, window: DeskWindow, database: Database, tmp_path: Path
) -> None:
    customer_id = customer_for_a_fourteen_day_letter(database)
    open_file(qtbot, window, customer_id)
    saved = tmp_path / "14.pdf"
    window.letter_output = ScriptedLetterOutput(
        save_path=saved, printer_file=tmp_path / "printed.pdf"
    )
    dialog = open_letters(qtbot, window)
    assert dialog.kind() == "fourteen_day"
    shown = dialog.preview.pdf
    assert shown is not None
    data = dialog._data
    assert data is not None and data.kind == "fourteen_day"
    text = " ".join(pdf_text(shown).split())
    for claim in data.claims:  # type: ignore[union-attr]
        assert claim.reference in text
        assert claim.due < date.today()  # only claims in default

    with qtbot.waitSignal(dialog.recorded, timeout=WAIT):
        dialog.save_button.click()
    idle(qtbot, window)
    assert [r.delivery for r in letters_of(database, customer_id)] == ["saved"]
    assert notices_of(database, customer_id) == []
    assert "term starts only when the letter is printed" in dialog.status.text()

    with qtbot.waitSignal(dialog.recorded, timeout=WAIT) as recorded:
        dialog.print_button.click()
    idle(qtbot, window)
    rows = letters_of(database, customer_id)
    assert [r.delivery for r in rows] == ["saved", "printed"]
    (notice,) = notices_of(database, customer_id)
    assert notice.letter_id == rows[1].id
    assert notice.channel == "post" and notice.status == "running"
    assert notice.principal_named_cents == data.outstanding_cents  # type: ignore[union-attr]
    record = recorded.args[0]
    assert record.term_ends == notice.term_ends
    assert "Post it today: the customer then has up to and including" in dialog.status.text()
    assert "✉ 14-day letter printed for the post" in timeline_texts(window)
    assert "✉ 14-day letter saved, not sent" in timeline_texts(window)

    # The claims are named now: a second letter for them cannot be made.
    dialog.reject()
    idle(qtbot, window)
    dialog = open_letters(qtbot, window, wait_preview=False)
    if dialog.kind() != "fourteen_day":
        with qtbot.waitSignal(dialog.problem, timeout=WAIT):
            dialog.choose("fourteen_day")
    else:
        qtbot.waitUntil(dialog.notice.isVisible, timeout=WAIT)
    assert "already named in a 14-day letter" in dialog.notice.text()


def test_a_print_that_cannot_be_recorded_says_not_to_post_it(
    qtbot: QtBot, window: DeskWindow, database: Database, tmp_path: Path
) -> None:
    customer_id = customer_without_arrangement(database)
    arrangement_id = add_long_arrangement(database, customer_id, instalments=3)
    open_file(qtbot, window, customer_id)
    window.letter_output = ScriptedLetterOutput(printer_file=tmp_path / "printed.pdf")
    dialog = open_letters(qtbot, window)
    assert dialog.kind() == "arrangement" and dialog.arrangement_id() == arrangement_id
    with database.transaction() as session:  # a supervisor declines it meanwhile
        arrangement = session.get(Arrangement, arrangement_id)
        assert arrangement is not None
        arrangement.status = "declined"
    with qtbot.waitSignal(dialog.problem, timeout=WAIT):
        dialog.print_button.click()
    idle(qtbot, window)
    assert "printed but not recorded, so do not post it" in dialog.notice.text()
    assert "was not approved" in dialog.notice.text()
    assert letters_of(database, customer_id) == []
