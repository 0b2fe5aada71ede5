"""Hostile text is text: import -> desk -> letter, and every label of the desk is plain."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from agent_desk.cli import main
from agent_desk.models import Customer
from agent_desk.services.actor import SYSTEM
from agent_desk.services.database import Database
from agent_desk.services.importers import import_customers
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.plain import RICH_PROPERTY

WAIT = 15_000
HEADER = (
    "customer_number,first_name,last_name,language,segment,mobile,phone,email,street,"
    "house_number,postcode,city,agent,claim_reference,claim_description,principal,due_date\n"
)
HOSTILE = {
    "990001": ("<b>Bold</b>", '<img src="file:///etc/passwd">Img'),
    "990002": ("\u202eRTL", '<a href="https://evil.example/">Klik hier</a>'),
    "990003": ("Zoë 😀", "Ünal-Đặng 👩‍👩‍👧 " + "lang" * 30),  # emoji and 140+ characters
}


def _csv() -> str:
    rows = []
    for number, (first, last) in HOSTILE.items():
        last_cell = '"' + last.replace('"', '""') + '"'
        rows.append(
            f"{number},{first},{last_cell},nl,consumer,06-12345678,,,<i>Dorpsstraat</i>,4,"
            f"1234 AB,Ede,sanne,INV-{number},<script>x</script>,250.00,2026-10-01\n"
        )
    return HEADER + "".join(rows)


def _labels(widget: QWidget) -> list[QLabel]:
    return (
        [widget, *widget.findChildren(QLabel)]
        if isinstance(widget, QLabel)
        else list(widget.findChildren(QLabel))
    )


def _assert_plain(widget: QWidget) -> None:
    for label in _labels(widget):
        if label.property(RICH_PROPERTY):
            assert "<a href=" in label.text(), "only our own links are rich"
            continue
        assert label.textFormat() == Qt.TextFormat.PlainText, (label.objectName(), label.text())


def test_hostile_names_are_shown_and_printed_as_typed(
    qtbot: QtBot, window: DeskWindow, database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "hostile.csv"
    path.write_text(_csv(), encoding="utf-8")
    now = datetime.now(UTC)
    with database.transaction() as session:
        import_customers(session, SYSTEM, path, now)
        ids = {
            c.customer_number: c.id
            for c in session.scalars(select(Customer).where(Customer.customer_number.in_(HOSTILE)))
        }
    panel = window.customer_panel
    # The desk may still be showing the customer it opened at start (an earlier test's
    # last customer comes back): let that settle before opening ours.
    qtbot.wait(1000)
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)
    for number, (first, last) in HOSTILE.items():
        for _attempt in range(3):  # a late restore can replace the first open once
            window.open_customer(ids[number])
            try:
                qtbot.waitUntil(
                    lambda n=number: panel.file is not None and panel.file.customer_number == n,
                    timeout=WAIT // 3,
                )
                break
            except qtbot.TimeoutError:
                continue
        assert panel.file is not None and panel.file.customer_number == number
        assert panel.name.text() == f"{first} {last}"
        assert panel.name.textFormat() == Qt.TextFormat.PlainText
        _assert_plain(window)
        # What the label paints is the literal text: a rich-text render of "<b>Bold</b>"
        # would be narrower than the text with its angle brackets.
        if "<b>" in first:
            metrics = panel.name.fontMetrics()
            assert panel.name.sizeHint().width() >= metrics.horizontalAdvance("<b>Bold</b>")
    url = database.url.render_as_string(hide_password=False)
    out = tmp_path / "letter.pdf"
    assert (
        main(
            ["letter", "fourteen-day", "--customer", "990001", "--out", str(out), "--database", url]
        )
        == 0
    )
    text = " ".join((page.extract_text() or "") for page in PdfReader(str(out)).pages)
    assert "<b>Bold</b>" in text and "Img" in text
    assert "<i>Dorpsstraat</i>" in text


@pytest.mark.parametrize("action", ["promise", "verify", "letter", "note", "log_contact"])
def test_every_dialog_shows_plain_labels(qtbot: QtBot, window: DeskWindow, action: str) -> None:
    window.open_customer(window.queue_model.customer_id(0))
    qtbot.waitUntil(lambda: window.customer_panel.file is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)
    triggers = {
        "promise": window.actions_.promise,
        "verify": window.actions_.verify,
        "letter": window.actions_.letter,
        "note": window.actions_.note,
        "log_contact": window.actions_.log_contact,
    }
    triggers[action].trigger()
    qtbot.waitUntil(lambda: window._open_form() is not None, timeout=WAIT)
    dialog = window._open_form()
    assert dialog is not None
    _assert_plain(dialog)
    dialog.reject()
