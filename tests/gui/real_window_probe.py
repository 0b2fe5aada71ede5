"""Run by test_real_window.py in a child process on the real xcb platform (Xvfb).

Opens the demo desk for Sanne, takes five customers with F8 and prints one JSON line:
the screen, the window's frame after each customer, and where the script, the file
and the F8 button are on screen.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QPoint, QRect
from PySide6.QtWidgets import QApplication, QWidget

from agent_desk.app import DeskApp, style_application
from agent_desk.demo import load_demo
from agent_desk.services.database import Database
from agent_desk.ui.prompter import RecordingPrompter
from agent_desk.ui.settings import DeskSettings


def wait(condition: Callable[[], object], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the desk did not get there in time")
        QCoreApplication.processEvents()
        time.sleep(0.01)
    for _ in range(30):
        QCoreApplication.processEvents()
        time.sleep(0.005)


def on_screen(widget: QWidget) -> list[int]:
    top_left = widget.mapToGlobal(QPoint(0, 0))
    rect = QRect(top_left, widget.size())
    return [rect.x(), rect.y(), rect.width(), rect.height(), int(widget.isVisible())]


def main() -> None:
    app = QApplication(sys.argv)
    app.setQuitOnLastWindowClosed(False)
    style_application(app)
    lang = sys.argv[1] if len(sys.argv) > 1 else "en"
    path = tempfile.mkdtemp() + "/desk.sqlite3"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    with database.transaction() as session:
        load_demo(session, customers=200, seed=3)
    desk = DeskApp(
        database,
        lang=lang,
        agent_login="sanne",
        prompter=RecordingPrompter(),
        settings=DeskSettings(),
    )
    desk.start()
    wait(lambda: desk.window is not None and not desk.window.queue_model.loading)
    window = desk.window
    assert window is not None
    wait(lambda: window.isVisible())
    time.sleep(0.5)
    wait(lambda: True)
    frames = []
    for _ in range(5):
        window.actions_.next_customer.trigger()
        wait(lambda: window.worker.pending == 0 and window.current_file() is not None)
        time.sleep(0.2)
        wait(lambda: True)
        frame = window.frameGeometry()
        frames.append([frame.x(), frame.y(), frame.width(), frame.height()])
    screen = window.screen().geometry()
    free = window.screen().availableGeometry()
    next_button = window.action_bar.widgetForAction(window.actions_.next_customer)
    assert next_button is not None
    print(
        json.dumps(
            {
                "platform": app.platformName(),
                "screen": [screen.x(), screen.y(), screen.width(), screen.height()],
                "available": [free.x(), free.y(), free.width(), free.height()],
                "frames": frames,
                "minimum_width": window.minimumSizeHint().width(),
                "script": on_screen(window.script_host),
                "file": on_screen(window.customer_panel),
                "next": on_screen(next_button),
                "focus_on_script": window.focusWidget() is window.script_host,
            }
        ),
        flush=True,
    )
    window.close()
    desk.shutdown()


if __name__ == "__main__":
    main()
