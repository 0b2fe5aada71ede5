"""F7: the contact-verification dialog with good input, bad input and a refusal."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QLineEdit, QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from agent_desk.domain.verification import FlowStep
from agent_desk.models import AuditEvent, ContactPoint
from agent_desk.services.database import Database
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.verification import VerificationDialog
from tests.gui.test_desk import idle, next_customer

WAIT = 20_000


def open_verification(qtbot: QtBot, window: DeskWindow) -> VerificationDialog:
    qtbot.keyClick(window.queue_panel.view, Qt.Key.Key_F7)
    qtbot.waitUntil(
        lambda: (
            window.recorder.verification_dialog is not None
            and window.recorder.verification_dialog.isVisible()
        ),
        timeout=WAIT,
    )
    dialog = window.recorder.verification_dialog
    assert isinstance(dialog, VerificationDialog)
    qtbot.wait(5)
    return dialog


def buttons(dialog: VerificationDialog, name: str) -> list[QPushButton]:
    return [b for b in dialog.page.findChildren(QPushButton, name) if b.isVisible()]


def field(dialog: VerificationDialog, name: str) -> QLineEdit:
    found = [e for e in dialog.page.findChildren(QLineEdit, name) if e.isVisible()]
    assert found, name
    return found[0]


def click(qtbot: QtBot, button: QPushButton) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.wait(5)  # the page is rebuilt: let the new widgets show, the old ones go


def confirm_page(qtbot: QtBot, dialog: VerificationDialog) -> None:
    while found := buttons(dialog, "confirmButton"):
        click(qtbot, found[0])


def points(database: Database, customer_id: int) -> dict[int, tuple[str, datetime | None, bool]]:
    with database.transaction() as session:
        rows = session.scalars(
            select(ContactPoint).where(ContactPoint.customer_id == customer_id)
        ).all()
        return {r.id: (r.value, r.verified_at, r.invalid) for r in rows}


def test_a_bad_phone_number_is_explained_next_to_it_and_nothing_is_saved(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    customer_id = next_customer(qtbot, window)
    before = points(database, customer_id)
    dialog = open_verification(qtbot, window)
    assert dialog.flow.step is FlowStep.INTRO
    click(qtbot, dialog.next)
    assert dialog.flow.step is FlowStep.PHONES
    click(qtbot, dialog.next)  # nothing decided yet: the page says so
    handle = dialog.flow.items()[0].handle
    assert "Ask the customer about" in dialog.error_text(str(handle))
    click(qtbot, buttons(dialog, "correctButton")[0])
    qtbot.keyClicks(field(dialog, "correct_value"), "06-123")
    click(qtbot, buttons(dialog, "correctApply")[0])
    error = dialog.error_text(str(handle))
    assert "06-123" in error and "not a valid phone number" in error
    assert field(dialog, "correct_value").text() == "06-123"  # typed text is kept
    assert dialog.flow.step is FlowStep.PHONES
    dialog.reject()
    idle(qtbot, window)
    assert points(database, customer_id) == before


def test_a_good_check_is_saved_and_the_file_shows_it_fresh(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    customer_id = next_customer(qtbot, window)
    dialog = open_verification(qtbot, window)
    click(qtbot, dialog.next)
    assert dialog.flow.step is FlowStep.PHONES
    click(qtbot, buttons(dialog, "correctButton")[0])
    qtbot.keyClicks(field(dialog, "correct_value"), "06 1234 5678")
    click(qtbot, buttons(dialog, "correctApply")[0])
    confirm_page(qtbot, dialog)
    qtbot.keyClicks(field(dialog, "add_value"), "030 123 4567")
    dialog.add_kind.setCurrentIndex(dialog.add_kind.findData("phone"))
    click(qtbot, dialog.findChild(QPushButton, "addButton"))
    click(qtbot, dialog.next)
    assert dialog.flow.step is FlowStep.EMAILS
    confirm_page(qtbot, dialog)
    click(qtbot, dialog.next)
    assert dialog.flow.step is FlowStep.ADDRESSES
    confirm_page(qtbot, dialog)
    click(qtbot, dialog.next)
    assert dialog.flow.step is FlowStep.DATE_OF_BIRTH
    qtbot.keyClicks(field(dialog, "birth_date_of_birth"), "12-03-1981")
    click(qtbot, dialog.next)  # what is typed is recorded on the way out
    assert dialog.flow.step is FlowStep.PREFERENCES
    dialog.channel.setCurrentIndex(dialog.channel.findData("whatsapp"))
    click(qtbot, dialog.next)  # WhatsApp without consent
    assert "consent for WhatsApp" in dialog.error_text("preferences")
    dialog.consent_whatsapp.setCurrentIndex(dialog.consent_whatsapp.findData(True))
    dialog.times[next(iter(dialog.times))].setChecked(True)
    click(qtbot, dialog.next)
    assert dialog.flow.step is FlowStep.SUMMARY
    assert dialog.save.isVisible()
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        click(qtbot, dialog.save)
    idle(qtbot, window)
    # The boxes the fresh file replaced are deleted once the loop gets to it (one
    # refresh now, so nothing else spins the loop meanwhile).
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not dialog.isVisible()
    now = points(database, customer_id)
    usable = {k: v for k, v in now.items() if not v[2]}
    assert all(verified is not None for _, verified, _ in usable.values())
    assert "+31612345678" in {value for value, _, _ in usable.values()}
    assert "+31301234567" in {value for value, _, _ in usable.values()}
    file = window.current_file()
    assert file is not None and file.preferred_channel == "whatsapp"
    assert any(
        "verified" in label.text()
        for label in window.customer_panel.findChildren(type(dialog.progress), "freshness")
    )
    assert not any(
        label.text().startswith("⚠")
        for label in window.customer_panel.findChildren(type(dialog.progress), "freshness")
    )
    assert not window.script_host.verify_banner.isVisible()
    assert any("Contact details checked" in (item.detail or "") for item in file.timeline)
    assert file.date_of_birth is not None and file.date_of_birth.isoformat() == "1981-03-12"
    assert window.customer_panel.born.text() == "born ••-••-1981"


def test_a_refusal_is_recorded_as_a_refusal(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    customer_id = next_customer(qtbot, window)
    before = points(database, customer_id)
    dialog = open_verification(qtbot, window)
    click(qtbot, dialog.next)
    while dialog.flow.step in (FlowStep.PHONES, FlowStep.EMAILS, FlowStep.ADDRESSES):
        refuse = buttons(dialog, "refuseAll")
        if refuse:
            click(qtbot, refuse[0])
        click(qtbot, dialog.next)
    assert dialog.flow.step is FlowStep.DATE_OF_BIRTH
    click(qtbot, dialog.next)  # the customer would rather not say: it stays optional
    assert dialog.flow.step is FlowStep.PREFERENCES
    dialog.channel.setCurrentIndex(0)  # the customer does not say: no change
    click(qtbot, dialog.next)
    assert dialog.flow.step is FlowStep.SUMMARY, dialog.error_text("preferences")
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        click(qtbot, dialog.save)
    idle(qtbot, window)
    assert points(database, customer_id) == before  # nothing marked as verified
    with database.transaction() as session:
        refusals = session.scalars(
            select(AuditEvent).where(
                AuditEvent.customer_id == customer_id,
                AuditEvent.action == "verification_refused",
            )
        ).all()
    assert len(refusals) == len([v for v in before.values() if not v[2]])
    file = window.current_file()
    assert file is not None
    assert any("would not say" in (item.detail or "") for item in file.timeline)
