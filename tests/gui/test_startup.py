"""Starting the desk: demo database, agent picker, empty database, bad URL, language."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from agent_desk.app import DeskApp
from agent_desk.cli.desk import start_desk
from agent_desk.models import Customer
from agent_desk.services.database import Database
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.errors import CrashDialog
from agent_desk.ui.prompter import RecordingPrompter
from agent_desk.ui.queue_model import COL_CUSTOMER
from agent_desk.ui.settings import DeskSettings

WAIT = 30_000


def test_the_demo_database_is_filled_once_then_the_agent_picks_their_name(
    qtbot: QtBot, tmp_path: Path, styled: None
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    desk = DeskApp(database, demo=True, lang="en", demo_customers=60, prompter=RecordingPrompter())
    desk.start()
    qtbot.waitUntil(lambda: desk.picker is not None and desk.picker.isVisible(), timeout=WAIT)
    picker = desk.picker
    assert picker is not None
    names = [picker.list.item(row).text() for row in range(picker.list.count())]
    assert any("Sanne de Vries" in name for name in names)
    for row, name in enumerate(names):
        if "Sanne" in name:
            picker.list.setCurrentRow(row)
    with qtbot.waitSignal(desk.window_ready, timeout=WAIT):
        picker.start.click()
    assert desk.window is not None and desk.window.actor.login == "sanne"
    assert DeskSettings().last_agent() == "sanne"
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 60
    desk.window.close()
    desk.shutdown()
    database.dispose()


def test_an_empty_database_explains_how_to_get_started_and_loads_nothing(
    qtbot: QtBot, tmp_path: Path, styled: None, capsys: pytest.CaptureFixture[str]
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    desk = DeskApp(database, lang="en", prompter=RecordingPrompter())
    desk.start()
    qtbot.waitUntil(lambda: desk.message is not None, timeout=WAIT)
    assert desk.message is not None
    text = desk.message.body.toPlainText()
    assert "agent-desk --demo" in text
    assert "agent-desk demo" in text
    assert "postgresql://" in text
    assert "agent-desk --demo" in capsys.readouterr().err
    with qtbot.waitSignal(desk.finished, timeout=WAIT) as finished:
        desk.message.reject()
    assert finished.args == [1]
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 0
    desk.shutdown()
    database.dispose()


def test_a_bad_database_url_is_one_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(database="mysql://desk@server/db", demo=False, lang="en", agent=None)
    assert start_desk(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("agent-desk: Agent Desk works with SQLite or PostgreSQL")
    assert "Traceback" not in err


def test_the_desk_speaks_dutch_and_english(
    qtbot: QtBot, desk_app: DeskApp, window: DeskWindow
) -> None:
    assert window.actions_.log_contact.text() == "Log contact"
    assert window.queue_model.headerData(COL_CUSTOMER, Qt.Orientation.Horizontal) == "Customer"
    with qtbot.waitSignal(desk_app.window_ready, timeout=WAIT) as ready:
        window.findChild(type(window.actions_.quit), "language_nl").trigger()
    dutch = ready.args[0]
    assert isinstance(dutch, DeskWindow)
    qtbot.waitUntil(lambda: not dutch.queue_model.loading, timeout=WAIT)
    assert dutch.actions_.log_contact.text() == "Contact vastleggen"
    assert dutch.actions_.next_customer.text() == "Volgende klant"
    assert dutch.queue_panel.title.text().startswith("Mijn werkvoorraad")
    assert "Verbonden" in dutch.connection_label.text()
    assert DeskSettings().language() == "nl"
    with qtbot.waitSignal(desk_app.window_ready, timeout=WAIT) as back:
        desk_app.set_language("en")
    assert back.args[0].actions_.log_contact.text() == "Log contact"


def test_an_unexpected_error_shows_a_copyable_report_and_the_desk_keeps_running(
    qtbot: QtBot, desk_app: DeskApp, window: DeskWindow
) -> None:
    desk_app.install_error_handling()
    try:
        try:
            raise RuntimeError("boom in a slot")
        except RuntimeError:
            sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]
        dialog = desk_app.excepthook.dialogs[-1]
        assert isinstance(dialog, CrashDialog)
        assert "RuntimeError: boom in a slot" in dialog.report.toPlainText()
        dialog.copy_report()
        assert "boom in a slot" in QGuiApplication.clipboard().text()
        dialog.close()
        assert window.isVisible()
    finally:
        desk_app.excepthook.uninstall()


def test_window_layout_is_remembered(qtbot: QtBot, desk_app: DeskApp, window: DeskWindow) -> None:
    window.splitter.setSizes([500, 700, 240])
    window.save_layout()
    settings = DeskSettings()
    assert settings.blob("geometry") is not None
    assert settings.blob("splitter") is not None
    assert Path(settings.path).parent == Path(os.environ["AGENT_DESK_DATA_DIR"])
