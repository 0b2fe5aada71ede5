"""The identity question shows the agent what to compare with, the date of birth only
when the desk holds one."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from agent_desk.domain.scripts.vocabulary import checks_asked
from agent_desk.services.database import Database
from agent_desk.ui.app_window import DeskWindow
from tests.gui.test_date_of_birth_dialog import (
    free_customer,
    open_file,
    set_born,
    to_identity_question,
)
from tests.gui.test_desk import next_customer
from tests.gui.test_script_panel import press

WAIT = 20_000


# --------------------------------------------------------------------------- the script


def test_the_script_shows_what_to_compare_with_and_the_date_only_when_stored(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    without = next_customer(qtbot, window)
    host = to_identity_question(qtbot, window)
    file = window.current_file()
    assert file is not None and file.date_of_birth is None
    assert host.compare_box.isVisible()
    compare = host.compare.text()
    language = host.run.script.language if host.run is not None else "en"
    rendered = host.run.rendered() if host.run is not None else None
    assert rendered is not None
    assert "date of birth" not in compare
    assert "date_of_birth" not in checks_asked(host.say.text(), language)
    assert f"customer number: {file.customer_number}" in compare
    assert "customer_number" in checks_asked(host.say.text(), language)
    assert "postcode: " in compare and "house number: " in compare

    with_birth = free_customer(database)
    assert with_birth != without
    set_born(database, with_birth, date(1981, 3, 12))
    open_file(qtbot, window, with_birth)
    host = to_identity_question(qtbot, window)
    assert host.compare_box.isVisible()
    assert host.compare.text().splitlines()[0] == "date of birth: 12 March 1981"
    language = host.run.script.language if host.run is not None else "en"
    asked = checks_asked(host.say.text(), language)
    assert "date_of_birth" in asked and "customer_number" not in asked
    assert "12 March 1981" not in host.say.text()  # beside the question, never in it
    assert "never read out" in host.compare_title.text()
    press(qtbot, window, Qt.Key.Key_1)  # details match
    assert host.run is not None and host.run.identity_confirmed
    assert not host.compare_box.isVisible()  # only next to the question
    assert window.customer_panel.born.text() == "born ••-••-1981"
