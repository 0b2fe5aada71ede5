"""A second start of an open desk shows no window at all: the lock is checked first.

The first desk is stood in for by this test process holding the agent's lock (a real
``SingleInstance`` with its local server); the second start is the real program in a
fresh interpreter, watched by an application-wide event filter that notes every
window shown.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pytestqt.qtbot import QtBot

from agent_desk.ui.single_instance import ALREADY_OPEN, SingleInstance

WATCH = """
import sys
import agent_desk.app as app
from PySide6.QtCore import QEvent, QObject

class Shown(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Show and watched.isWidgetType() and watched.isWindow():
            print("SHOWN " + type(watched).__name__, flush=True)
        return False

made = app.desk_application
watch = Shown()

def desk_application():
    qt_app = made()
    qt_app.installEventFilter(watch)
    return qt_app

app.desk_application = desk_application
from agent_desk.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def _second_start(data: Path, database: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "AGENT_DESK_DATA_DIR": str(data), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen(
        [sys.executable, "-c", WATCH, "--database", f"sqlite:///{database}", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_second_start_says_already_open_without_showing_a_window(
    qtbot: QtBot, demo_template: Path, tmp_path: Path
) -> None:
    database = tmp_path / "desk.sqlite3"
    database.write_bytes(demo_template.read_bytes())
    data = tmp_path / "data"
    first = SingleInstance(data, "sanne")
    assert first.claim()
    try:
        with qtbot.waitSignal(first.raise_requested, timeout=60_000):
            second = _second_start(data, database, "--lang", "en", "--agent", "sanne")
        out, err = second.communicate(timeout=60)
    finally:
        first.release()
        # Its accepted socket and itself are deleted later: before Qt is torn down.
        first.deleteLater()
        qtbot.wait(100)
    assert second.returncode == 0, err
    assert f"agent-desk: {ALREADY_OPEN} for sanne (its window was brought to the front)." in err
    assert [line for line in out.splitlines() if line.startswith("SHOWN")] == []


def test_the_watch_sees_the_windows_of_a_start_that_goes_on(
    demo_template: Path, tmp_path: Path
) -> None:
    """The filter above would see a window: the first start shows its windows."""
    database = tmp_path / "desk.sqlite3"
    database.write_bytes(demo_template.read_bytes())
    start = _second_start(
        tmp_path / "data", database, "--lang", "en", "--agent", "sanne", "--quit-after-start"
    )
    out, err = start.communicate(timeout=120)
    assert start.returncode == 0, err
    shown = [line.removeprefix("SHOWN ") for line in out.splitlines() if line.startswith("SHOWN")]
    assert "DeskWindow" in shown
