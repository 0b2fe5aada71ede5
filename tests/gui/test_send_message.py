"""Send an e-mail or SMS from the desk: Ctrl+M, preview with the SMS part count, the
identity-safe check beside the text, Ctrl+Enter sends, Esc cancels; F6 "Send by
e-mail" with the PDF; every message in the timeline with its status. Real widgets,
a real SMTP server and a local MessageBird."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from agent_desk.app import DeskApp
from agent_desk.domain.messaging import MessageChannel, MessageKind
from agent_desk.models import ChangeLog, ContactPoint, Customer, Message
from agent_desk.services import secrets
from agent_desk.services.database import Database
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.send_message import SendMessageDialog
from tests.gui.test_letters_dialog import add_long_arrangement, open_file, open_letters
from tests.support.messaging import FakeBird, SmtpServer, messagebird_server, smtp_server

WAIT = 20_000
OPEN = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Amsterdam


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SmtpServer, FakeBird]]:
    with smtp_server("plain") as smtp, messagebird_server() as (bird, url):
        monkeypatch.setenv("AGENT_DESK_SMTP_URL", smtp.url)
        monkeypatch.setenv("AGENT_DESK_MAIL_FROM", "desk@delinde.example")
        monkeypatch.setenv("AGENT_DESK_SMS_URL", url)
        monkeypatch.setenv("AGENT_DESK_SMS_KEY_NAME", "bird")
        monkeypatch.setenv("AGENT_DESK_SMS_ORIGINATOR", "DeLinde")
        secrets.set_secret(secrets.sms_service("bird"), "api", bird.key)
        yield smtp, bird


def _reachable_customer(database: Database) -> int:
    """One of Sanne's customers, not held, with a verified e-mail and mobile."""
    with database.transaction() as s:
        customer = s.scalars(
            select(Customer)
            .where(Customer.held_by_agent_id.is_(None), Customer.paused_until.is_(None))
            .order_by(Customer.id)
        ).first()
        assert customer is not None
        for point in s.scalars(
            select(ContactPoint).where(
                ContactPoint.customer_id == customer.id,
                ContactPoint.kind.in_(("email", "mobile")),
            )
        ):
            point.invalid, point.invalid_reason = True, "old"
        for kind, value in (("email", "klant@example.org"), ("mobile", "+31612345678")):
            s.add(
                ContactPoint(
                    customer_id=customer.id,
                    kind=kind,
                    value=value,
                    verified_at=OPEN,
                    preferred=True,
                )
            )
        return customer.id


def _dialog(qtbot: QtBot, window: DeskWindow) -> SendMessageDialog:
    window.clock = lambda: OPEN  # type: ignore[method-assign]
    window.send_message_action.trigger()
    dialog = window.send_message_dialog
    assert isinstance(dialog, SendMessageDialog) and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.send_button.isEnabled(), timeout=WAIT)
    return dialog


def test_an_sms_with_preview_count_and_ctrl_enter(
    qtbot: QtBot, desk_app: DeskApp, database: Database, servers: tuple[SmtpServer, FakeBird]
) -> None:
    _, bird = servers
    window = desk_app.window
    assert window is not None
    customer_id = _reachable_customer(database)
    open_file(qtbot, window, customer_id)
    dialog = _dialog(qtbot, window)
    assert dialog.channel is MessageChannel.SMS and dialog.kind is MessageKind.MISSED_CALL
    assert dialog.to_box.currentText().startswith("+31612345678")
    assert "terugbellen" in dialog.preview.toPlainText() or "call us back" in (
        dialog.preview.toPlainText()
    )
    assert "SMS part" in dialog.count.text() and "GSM-7" in dialog.count.text()
    for widget in (dialog.kind_box, dialog.channel_box, dialog.to_box, dialog.text_edit):
        assert widget.accessibleName()
    # Your own text: a word about debt is refused beside the field, and Send waits.
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData(MessageKind.FREE_TEXT.value))
    dialog.text_edit.setPlainText("Uw schuld staat nog open")
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=WAIT)
    assert "locked screen" in dialog.error.text() and not dialog.send_button.isEnabled()
    dialog.text_edit.setPlainText("Wilt u ons even bellen? ç")
    qtbot.waitUntil(lambda: dialog.send_button.isEnabled(), timeout=WAIT)
    assert "UCS-2" in dialog.count.text()
    with database.transaction() as s:
        before = s.scalar(select(func.max(ChangeLog.id))) or 0
    qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.result_status is not None, timeout=WAIT)
    assert dialog.result_status == "sent"
    # Queueing and sending (units of work of the sender's own) are this desk's changes:
    # they carry its origin, so live sync does not take them for a colleague's.
    with database.transaction() as s:
        origins = s.scalars(select(ChangeLog.origin).where(ChangeLog.id > before)).all()
    assert origins and set(origins) == {window.worker.origin}
    (sent,) = bird.sent
    assert sent["body"].startswith("Wilt u ons even bellen? ç")
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)
    file = window.current_file()
    assert file is not None
    lines = [window.customer_panel.describe(i) for i in file.timeline if i.kind == "message"]
    assert lines and "sent" in lines[0] and "+31612345678" in lines[0]


def test_escape_cancels_and_nothing_is_sent(
    qtbot: QtBot, desk_app: DeskApp, database: Database, servers: tuple[SmtpServer, FakeBird]
) -> None:
    window = desk_app.window
    assert window is not None
    open_file(qtbot, window, _reachable_customer(database))
    dialog = _dialog(qtbot, window)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    with database.transaction() as s:
        assert s.scalars(select(Message)).all() == []


def test_f6_sends_the_confirmation_by_email_with_its_pdf(
    qtbot: QtBot, desk_app: DeskApp, database: Database, servers: tuple[SmtpServer, FakeBird]
) -> None:
    smtp, _ = servers
    window = desk_app.window
    assert window is not None
    customer_id = _reachable_customer(database)
    add_long_arrangement(database, customer_id, 4)
    open_file(qtbot, window, customer_id)
    window.clock = lambda: OPEN  # type: ignore[method-assign]
    letters = open_letters(qtbot, window)
    assert letters.email_button.isEnabled()
    letters.email_button.click()
    dialog = window.send_message_dialog
    assert isinstance(dialog, SendMessageDialog)
    qtbot.waitUntil(lambda: dialog.send_button.isEnabled(), timeout=WAIT)
    assert dialog.kind is MessageKind.ARRANGEMENT_CONFIRMATION
    assert dialog.channel is MessageChannel.EMAIL
    assert dialog.to_box.currentText().startswith("klant@example.org (verified")
    assert "PDF" in dialog.count.text()
    dialog.send_button.click()
    qtbot.waitUntil(lambda: dialog.result_status is not None, timeout=WAIT)
    assert dialog.result_status == "sent"
    (received,) = smtp.store.received
    ((_, pdf),) = received.attachments()
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 1


def test_opt_outs_are_saved_with_the_verification(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    from agent_desk.domain.verification import FlowStep
    from agent_desk.models import AuditEvent
    from tests.gui.test_desk import idle, next_customer
    from tests.gui.test_verification_dialog import (
        click,
        confirm_page,
        field,
        open_verification,
    )

    customer_id = next_customer(qtbot, window)
    dialog = open_verification(qtbot, window)
    click(qtbot, dialog.next)
    while dialog.flow.step is not FlowStep.PREFERENCES:
        confirm_page(qtbot, dialog)
        if dialog.flow.step is FlowStep.DATE_OF_BIRTH:
            birth = [
                e
                for e in dialog.page.findChildren(
                    type(field(dialog, "birth_date_of_birth")), "birth_date_of_birth"
                )
                if e.isVisible()
            ]
            if birth and not birth[0].text():
                qtbot.keyClicks(birth[0], "12-03-1981")
        click(qtbot, dialog.next)
    assert dialog.opt_outs.isVisible()
    assert dialog.opt_outs.no_sms.accessibleName()
    assert not dialog.opt_outs.no_sms.isChecked()
    dialog.opt_outs.no_sms.setChecked(True)
    click(qtbot, dialog.next)
    assert dialog.flow.step is FlowStep.SUMMARY
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        click(qtbot, dialog.save)
    idle(qtbot, window)
    with database.transaction() as s:
        customer = s.get_one(Customer, customer_id)
        assert (customer.email_opt_out, customer.sms_opt_out) == (False, True)
        assert s.scalars(
            select(AuditEvent).where(
                AuditEvent.customer_id == customer_id, AuditEvent.action == "opt_out"
            )
        ).all()
    file = window.current_file()
    assert file is not None and file.sms_opt_out is True


def test_a_supervisor_counts_then_messages_a_selection(
    qtbot: QtBot, database: Database, styled: None
) -> None:
    from datetime import date

    from PySide6.QtCore import QDate

    from agent_desk.ui.dialogs.campaign import CampaignDialog
    from agent_desk.ui.prompter import RecordingPrompter
    from agent_desk.ui.settings import DeskSettings

    with database.transaction() as s:
        chosen = s.scalars(select(Customer).where(Customer.status == "open").limit(3)).all()
        for customer in chosen:
            customer.trigger, customer.trigger_on = "discount_ending", date(2027, 1, 15)
        chosen_ids = {c.id for c in chosen}
    desk = DeskApp(
        database,
        lang="en",
        agent_login="marieke",
        prompter=RecordingPrompter(),
        settings=DeskSettings(),
    )
    desk.start()
    try:
        qtbot.waitUntil(lambda: desk.window is not None, timeout=WAIT)
        window = desk.window
        assert window is not None and window.campaign_action is not None
        qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)
        window.campaign_action.trigger()
        dialog = window.campaign_dialog
        assert isinstance(dialog, CampaignDialog)
        dialog.date_from.setDate(QDate(2027, 1, 1))
        dialog.date_to.setDate(QDate(2027, 1, 31))
        dialog.when.setText("next week")
        assert not dialog.send_button.isEnabled()  # first a count
        dialog.preview_button.click()
        qtbot.waitUntil(lambda: dialog.preview is not None, timeout=WAIT)
        assert "3 customers" in dialog.summary.toPlainText()
        with database.transaction() as s:
            assert s.scalars(select(Message)).all() == []
        reachable = sum(dialog.preview.by_channel.values()) if dialog.preview else 0
        assert reachable >= 1
        qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)
        with database.transaction() as s:
            queued = s.scalars(select(Message)).all()
        assert len(queued) == reachable and {m.customer_id for m in queued} <= chosen_ids
        assert all(m.idempotency_key.startswith("campaign:") for m in queued)
    finally:
        if desk.window is not None:
            desk.window.close()
        desk.shutdown()
