"""What the fast start leaves for first use still works: the call scripts are parsed
when a customer is on screen (or arrive from the worker), not while the desk is built."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from agent_desk.i18n import Translator
from agent_desk.ui import script_panel
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.script_panel import ScriptPanelHost
from tests.gui.test_desk import idle, next_customer


def counting_shipped_library(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = script_panel.shipped_library

    def counted() -> script_panel.ScriptLibrary:
        calls.append(1)
        return real()

    monkeypatch.setattr(script_panel, "shipped_library", counted)
    return calls


def test_building_the_script_panel_parses_no_script(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = counting_shipped_library(monkeypatch)
    host = ScriptPanelHost(Translator("en"))
    qtbot.addWidget(host)
    assert calls == []
    assert host.placeholder.text() == "Open a customer to start a call script."
    library = host.library  # first use
    assert library is not None and library.ids("en")
    assert host.library is library and calls == [1]  # parsed once


def test_the_desk_takes_the_team_scripts_from_the_worker_without_parsing_its_own(
    qtbot: QtBot, window: DeskWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = counting_shipped_library(monkeypatch)
    idle(qtbot, window)
    next_customer(qtbot, window)
    host = window.script_host
    assert host.run is not None and host.say.text()
    assert calls == []  # the team's library came from the worker
    # ... and the lazily built script answers real key presses.
    host.switch.setCurrentIndex(host.switch.findData("first_time_arrears"))
    host.switch.activated.emit(host.switch.currentIndex())
    assert host.run.step.id == "greeting"
    window.queue_panel.view.setFocus()
    qtbot.keyClick(window.queue_panel.view, Qt.Key.Key_1)
    assert host.run.step.id == "check_identity"


def test_scripts_that_cannot_be_loaded_are_explained_on_first_use(
    qtbot: QtBot, window: DeskWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> script_panel.ScriptLibrary:
        raise OSError("scripts folder missing")

    monkeypatch.setattr(script_panel, "shipped_library", broken)
    idle(qtbot, window)
    host = ScriptPanelHost(Translator("en"))
    qtbot.addWidget(host)
    next_customer(qtbot, window)
    file = window.current_file()
    assert file is not None
    host.show_file(file, "Sanne", window.clock())
    assert host.run is None
    assert host.placeholder.text() == (
        "The call scripts could not be loaded: scripts folder missing"
    )
