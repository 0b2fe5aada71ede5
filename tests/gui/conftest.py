"""The real desk on a real SQLite database with demo data, offscreen."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any Qt import

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from agent_desk.app import DeskApp, style_application
from agent_desk.demo import load_demo
from agent_desk.services.database import Database
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.prompter import RecordingPrompter
from agent_desk.ui.settings import DeskSettings

WAIT = 20_000


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo database built per run; each test gets its own copy."""
    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    with database.transaction() as session:
        load_demo(session, customers=300, seed=1)
    database.dispose()
    return path


@pytest.fixture
def database(demo_template: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "desk.sqlite3"
    shutil.copy(demo_template, path)
    db = Database(f"sqlite:///{path}")
    yield db
    db.dispose()


@pytest.fixture(autouse=True)
def _no_window_outlives_its_test(qapp: object) -> Iterator[None]:
    """Close and delete every top-level window a test left, before the next test.

    A dialog left on a closed desk (or its pending events) must not be delivered while
    the next test's desk starts: Qt would touch a half-destroyed object.
    """
    yield
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    for widget in QApplication.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


@pytest.fixture
def prompter() -> RecordingPrompter:
    return RecordingPrompter()


@pytest.fixture
def styled(qapp: object) -> None:
    from PySide6.QtWidgets import QApplication

    assert isinstance(qapp, QApplication)
    qapp.setQuitOnLastWindowClosed(False)
    style_application(qapp)


def wait_idle(qtbot: QtBot, desk: DeskApp) -> None:
    qtbot.waitUntil(lambda: desk.worker.pending == 0, timeout=WAIT)


@pytest.fixture
def desk_app(
    qtbot: QtBot, database: Database, prompter: RecordingPrompter, styled: None
) -> Iterator[DeskApp]:
    desk = DeskApp(
        database, lang="en", agent_login="sanne", prompter=prompter, settings=DeskSettings()
    )
    desk.start()
    qtbot.waitUntil(lambda: desk.window is not None, timeout=WAIT)
    assert desk.window is not None
    qtbot.waitUntil(lambda: desk.window is not None and not desk.window.queue_model.loading)
    wait_idle(qtbot, desk)
    yield desk
    if desk.window is not None:
        desk.window.close()
    desk.shutdown()


@pytest.fixture
def window(desk_app: DeskApp) -> DeskWindow:
    assert desk_app.window is not None
    return desk_app.window


# The offscreen platform cannot resize native windows; that notice is not our bug.
OFFSCREEN_NOISE = r"This plugin does not support propagateSizeHints\(\)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))
