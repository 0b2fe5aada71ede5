"""A known agent on SQLite: the desk's window first, the database opened behind it.

``DeskApp.start_remembered`` builds the main window with the agent remembered from the
last start on this database (``DeskSettings.remembered_actor``), before the database is
opened; the worker opens it after the window's first paint, prepares it and looks the
agent up again. A different agent in the database reopens the desk for them (nothing
the first window asked for runs as the remembered agent); one that is gone closes the
desk with the reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from agent_desk.app import DeskApp
from agent_desk.domain.actor import Actor
from agent_desk.domain.codes import Role
from agent_desk.services.actor import actor_for_login
from agent_desk.services.database import Database
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.deferred_database import DeferredDatabase
from agent_desk.ui.errors import CrashDialog
from agent_desk.ui.plain import PlainLabel
from agent_desk.ui.prompter import RecordingPrompter
from agent_desk.ui.settings import DeskSettings

WAIT = 30_000


@pytest.fixture
def url(database: Database) -> str:
    return database.display


@pytest.fixture
def sanne(database: Database) -> Actor:
    with database.transaction() as session:
        return actor_for_login(session, "sanne")


@pytest.fixture
def deferred(url: str) -> Iterator[DeferredDatabase]:
    handle = DeferredDatabase(url, url)
    yield handle
    handle.dispose()


def _desk(deferred: DeferredDatabase, login: str) -> DeskApp:
    return DeskApp(
        deferred,
        lang="en",
        agent_login=login,
        prompter=RecordingPrompter(),
        settings=DeskSettings(),
    )


def _loaded(qtbot: QtBot, desk: DeskApp) -> DeskWindow:
    qtbot.waitUntil(
        lambda: desk.window is not None and not desk.window.queue_model.loading, timeout=WAIT
    )
    qtbot.waitUntil(lambda: desk.worker.pending == 0, timeout=WAIT)
    assert desk.window is not None
    return desk.window


def _rows(window: DeskWindow) -> list[int | None]:
    """Whose customers the first loaded rows are."""
    model = window.queue_model
    rows = (model.queue_row(row) for row in range(min(model.rowCount(), 50)))
    return [row.assigned_agent_id for row in rows if row is not None]


def test_a_known_agent_works_in_the_desk_shown_before_the_database_is_open(
    qtbot: QtBot, styled: None, deferred: DeferredDatabase, sanne: Actor
) -> None:
    desk = _desk(deferred, "sanne")
    desk.start_remembered(sanne)
    window = desk.window
    assert window is not None and window.isVisible()  # at once, not after a worker result
    assert window.actor == sanne and window.queue_model.loading
    assert desk.startup is None  # no start-up window on this path
    assert _loaded(qtbot, desk) is window
    assert deferred.opened
    assert _rows(window) and set(_rows(window)) == {sanne.agent_id}
    window.close()
    desk.shutdown()


def test_an_agent_whose_name_and_role_changed_gets_the_desk_the_database_says(
    qtbot: QtBot, styled: None, deferred: DeferredDatabase, sanne: Actor, url: str
) -> None:
    remembered = dataclasses.replace(sanne, display_name="S. de Vries", role=Role.SUPERVISOR)
    refused: list[bool] = []
    opening = deferred.transaction

    def transaction() -> Any:
        refused.append(deferred._held)
        return opening()

    deferred.transaction = transaction  # type: ignore[method-assign]
    desk = _desk(deferred, "sanne")
    desk.start_remembered(remembered)
    first = desk.window
    assert first is not None and "S. de Vries" in first.windowTitle()
    assert first.queue_panel.title.text().startswith("Team queue")
    window = _loaded(qtbot, desk)
    assert window is not first and window.actor == sanne
    assert "S. de Vries" not in window.windowTitle()
    # What the first window asked for (the team queue, ...) was refused, not run as
    # the remembered supervisor; the new window shows Sanne's own queue.
    assert refused[0] is False and any(refused) and refused[-1] is False
    assert _rows(window) and set(_rows(window)) == {sanne.agent_id}
    assert DeskSettings().remembered_actor(url, "sanne") == sanne
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, CrashDialog)]
    window.close()
    desk.shutdown()


def test_a_remembered_agent_who_is_gone_closes_the_desk_and_says_why(
    qtbot: QtBot, styled: None, deferred: DeferredDatabase, url: str
) -> None:
    ghost = Actor(agent_id=999, login="ghost", display_name="Ghost", role=Role.AGENT)
    DeskSettings().remember_actor(url, ghost)
    desk = _desk(deferred, "ghost")
    desk.start_remembered(ghost)
    assert desk.window is not None
    qtbot.waitUntil(lambda: desk.message is not None, timeout=WAIT)
    assert desk.window is None
    assert desk.message is not None
    heading = desk.message.findChild(PlainLabel, "dialogTitle")
    assert heading is not None
    assert "There is no agent with login 'ghost'" in heading.text()
    assert desk.message.windowTitle() == "Agent Desk cannot start"
    assert DeskSettings().remembered_actor(url, "ghost") is None  # the next start asks first
    with qtbot.waitSignal(desk.finished, timeout=WAIT) as finished:
        desk.message.reject()
    assert finished.args == [1]
    desk.shutdown()


def test_the_remembered_agent_belongs_to_one_database_and_odd_values_are_ignored(
    tmp_path: Path,
) -> None:
    settings = DeskSettings()
    sanne = Actor(agent_id=3, login="sanne", display_name="Sanne de Vries", role=Role.AGENT)
    here, there = f"sqlite:///{tmp_path / 'a.sqlite3'}", f"sqlite:///{tmp_path / 'b.sqlite3'}"
    settings.remember_actor(here, sanne)
    assert DeskSettings().remembered_actor(here, "sanne") == sanne  # on disk at once
    assert settings.remembered_actor(there, "sanne") is None
    assert settings.remembered_actor(here, "piet") is None
    settings._store.setValue(settings._agent_key(there, "sanne"), "3\nboss\nSanne")
    assert settings.remembered_actor(there, "sanne") is None
    settings.forget_actor(here, "sanne")
    assert settings.remembered_actor(here, "sanne") is None


def test_a_remembered_agent_on_a_database_that_is_now_empty_is_told_how_to_start(
    qtbot: QtBot, styled: None, tmp_path: Path, sanne: Actor
) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'desk.sqlite3'}"  # the file was removed
    DeskSettings().remember_actor(url, sanne)
    deferred = DeferredDatabase(url, url)
    desk = _desk(deferred, "sanne")
    desk.start_remembered(sanne)
    qtbot.waitUntil(lambda: desk.message is not None, timeout=WAIT)
    assert desk.window is None and desk.message is not None
    assert desk.message.windowTitle() == "There is no work here yet"
    assert "agent-desk --demo" in desk.message.body.toPlainText()
    assert DeskSettings().remembered_actor(url, "sanne") is None
    qtbot.waitUntil(lambda: desk.worker.pending == 0, timeout=WAIT)
    desk.shutdown()
    deferred.dispose()
