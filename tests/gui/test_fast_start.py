"""Fast start: the first desk window on SQLite loads none of the heavy libraries.

reportlab (letters), pypdfium2 (the letter preview), alembic (migrations only),
psycopg, keyring and SQLAlchemy's PostgreSQL dialect (PostgreSQL only), QtCharts (the supervisor's charts),
phonenumbers, email-validator and python-stdnum (checking what is typed) are imported
when first used. Checked in a fresh interpreter running the real start-up, at the moment
the desk's window is on screen; and the window is there before its queue has loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from agent_desk.ui.app_window import DeskWindow

PROBE = """
import json, sys
import agent_desk.app as app

opened = app.DeskApp.open_desk

def open_desk(self, actor):
    opened(self, actor)
    window = self.window
    print("PROBE " + json.dumps({
        "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("reportlab", "pypdfium2", "alembic", "mako", "psycopg", "PIL", "keyring", "phonenumbers", "email_validator", "stdnum") or m in ("PySide6.QtCharts", "sqlalchemy.dialects.postgresql")),
        "visible": window.isVisible(),
        "queue_loading": window.queue_model.loading,
        "next_enabled": window.actions_.next_customer.isEnabled(),
    }), flush=True)

app.DeskApp.open_desk = open_desk
from agent_desk.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def test_the_first_window_on_sqlite_loads_no_heavy_library(
    demo_template: Path, tmp_path: Path
) -> None:
    database = tmp_path / "desk.sqlite3"
    database.write_bytes(demo_template.read_bytes())
    env = {
        **os.environ,
        "AGENT_DESK_DATA_DIR": str(tmp_path / "data"),
        "QT_QPA_PLATFORM": "offscreen",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            "--database",
            f"sqlite:///{database}",
            "--lang",
            "en",
            "--agent",
            "sanne",
            "--quit-after-start",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("PROBE "))
    probe = json.loads(line.removeprefix("PROBE "))
    assert probe["modules"] == [], f"loaded at start: {probe['modules']}"
    # The desk is on screen and usable while its first queue page is still loading.
    assert probe["visible"] and probe["queue_loading"] and probe["next_enabled"]


def test_the_letters_names_resolve_on_first_use_and_unknown_ones_fail() -> None:

    from agent_desk import letters
    from agent_desk.letters import batch, files, render

    assert letters.render_pdf is render.render_pdf
    assert letters.WrittenLetter is files.WrittenLetter
    assert letters.render_batch is batch.render_batch
    with pytest.raises(AttributeError, match="no attribute 'render_docx'"):
        _ = letters.render_docx  # type: ignore[attr-defined]


FIRST_WINDOW_PROBE = """
import json, sys
import agent_desk.app as app

shown = app.show_and_paint

def show_and_paint(window, qt_app):
    shown(window, qt_app)
    print("FIRST " + json.dumps({
        "window": type(window).__name__,
        "visible": window.isVisible(),
        "status": window.status.text(),
        "where": window.where.text(),
        "loaded": sorted(m for m in ("sqlalchemy", "agent_desk.models", "agent_desk.ui.app_window", "agent_desk.services.database") if m in sys.modules),
    }), flush=True)

app.show_and_paint = show_and_paint
opened = app.DeskApp.open_desk

def open_desk(self, actor):
    opened(self, actor)
    print("DESK " + json.dumps({"visible": self.window.isVisible()}), flush=True)

app.DeskApp.open_desk = open_desk
from agent_desk.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def _run(probe: str, *args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGENT_DESK_DATA_DIR": str(data), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-c", probe, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_start_up_window_is_painted_before_the_database_libraries_load(
    demo_template: Path, tmp_path: Path
) -> None:
    database = tmp_path / "desk.sqlite3"
    database.write_bytes(demo_template.read_bytes())
    url = f"sqlite:///{database}"
    start = ["--database", url, "--lang", "en", "--agent", "sanne", "--quit-after-start"]
    done = _run(FIRST_WINDOW_PROBE, *start, data=tmp_path / "data")
    assert done.returncode == 0, done.stderr
    firsts = [x for x in done.stdout.splitlines() if x.startswith("FIRST ")]
    assert len(firsts) == 1  # one start-up window, adopted by the desk (not a second one)
    first = json.loads(firsts[0].removeprefix("FIRST "))
    assert first["window"] == "StartupWindow" and first["visible"]
    assert first["status"] == "Opening the database…"
    assert first["where"] == url
    assert first["loaded"] == []  # painted before SQLAlchemy, the models, the desk window
    # ... and the same process went on to open the database and show the desk.
    desk = next(x for x in done.stdout.splitlines() if x.startswith("DESK "))
    assert json.loads(desk.removeprefix("DESK "))["visible"]


def test_the_benchmark_exit_after_the_first_window_opens_no_database(tmp_path: Path) -> None:
    missing = tmp_path / "never" / "desk.sqlite3"
    done = _run(
        "import sys\nfrom agent_desk.cli import run\nrun()\n",
        "--database",
        f"sqlite:///{missing}",
        "--quit-after-first-window",
        data=tmp_path / "data",
    )
    assert done.returncode == 0, done.stderr
    assert not missing.parent.exists()  # nothing was opened or created


def test_a_bad_url_still_stops_with_its_explanation(tmp_path: Path) -> None:
    done = _run(
        "from agent_desk.cli import run\nrun()\n",
        "--database",
        "mysql://x",
        "--quit-after-start",
        data=tmp_path / "data",
    )
    assert done.returncode == 2
    assert "Agent Desk works with SQLite or PostgreSQL, not 'mysql'" in done.stderr


def test_the_start_up_window_never_shows_a_password_from_the_url() -> None:
    from agent_desk.ui.startup import shown_url

    assert shown_url(" postgresql://sanne:geheim@db.example.nl/desk ") == (
        "postgresql://sanne:***@db.example.nl/desk"
    )
    assert shown_url("postgresql://sanne@db.example.nl/desk") == (
        "postgresql://sanne@db.example.nl/desk"
    )
    assert shown_url("sqlite:////home/sanne/desk.sqlite3") == "sqlite:////home/sanne/desk.sqlite3"


HOOK_PROBE = """
import json, sys
from agent_desk.app import desk_application
app = desk_application()
feature = sys.modules["shibokensupport.feature"]
assert "agent_desk.ui.queue_panel" not in sys.modules
from agent_desk.ui.queue_panel import QueuePanel  # first imported after the desk's app
from agent_desk.domain.money import format_money
print("HOOK " + json.dumps({
    "spared": feature._mod_uses_pyside.__module__,
    "pyside_module": feature.pyside_feature_dict.get("agent_desk.ui.queue_panel"),
    "plain_module": feature.pyside_feature_dict.get("agent_desk.domain.money"),
}), flush=True)
"""


def test_pyside_import_hook_reads_no_source_file_and_answers_alike(tmp_path: Path) -> None:
    """PySide6 scanned each new module's source for "PySide6" (a tenth of the start):
    the desk answers from the module's namespace instead, with the same verdicts."""
    done = _run(HOOK_PROBE, data=tmp_path / "data")
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("HOOK "))
    hook = json.loads(line.removeprefix("HOOK "))
    assert hook["spared"] == "agent_desk.ui.import_hook"
    assert hook["pyside_module"] == 0  # uses PySide: the feature default
    assert hook["plain_module"] == -1  # never touches Qt: ignored, as PySide's scan says


def test_the_namespace_verdict_matches_the_source_scan_for_the_desk_modules() -> None:
    import importlib
    import inspect

    from agent_desk.ui.import_hook import uses_pyside

    for name in (
        "agent_desk.ui.queue_panel",
        "agent_desk.ui.plain",
        "agent_desk.ui.worker",
        "agent_desk.domain.money",
        "agent_desk.domain.codes",
        "agent_desk.services.queue",
        "sqlalchemy.orm.session",
    ):
        module = importlib.import_module(name)
        assert uses_pyside(module) == ("PySide6" in inspect.getsource(module)), name


def test_the_benchmark_exit_comes_with_the_desk_usable_and_leaves_nothing_behind(
    demo_template: Path, tmp_path: Path
) -> None:
    """bench_startup's project figure ends when the desk's main window is painted and
    the agent could work in it: the process checks that before it exits 0."""
    database = tmp_path / "desk.sqlite3"
    database.write_bytes(demo_template.read_bytes())
    data = tmp_path / "data"
    probe = (
        "import sys, agent_desk.app as app\n"
        "check = app.desk_is_usable\n"
        "def usable(window):\n"
        "    ok = check(window)\n"
        "    print('USABLE', ok, type(window).__name__, window.queue_model.loading, flush=True)\n"
        "    return ok\n"
        "app.desk_is_usable = usable\n"
        "from agent_desk.cli import main\n"
        "raise SystemExit(main(sys.argv[1:]))\n"
    )
    args = ["--database", f"sqlite:///{database}", "--lang", "en", "--agent", "sanne"]
    done = _run(probe, *args, "--quit-after-desk-window", data=data)
    assert done.returncode == 0, done.stderr
    assert "USABLE True DeskWindow True" in done.stdout  # usable while the queue loads
    assert not list(data.glob("desk-*.lock"))  # the agent's lock is released
    assert not (data / "crash.log").exists()  # and no crash is offered next time


def test_the_desk_is_not_usable_without_the_keyboard_focus(
    qtbot: QtBot, window: DeskWindow
) -> None:
    from PySide6.QtWidgets import QApplication, QLineEdit

    from agent_desk.app import desk_is_usable

    window.show()
    window.activateWindow()
    window.queue_panel.view.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.queue_panel.view)
    assert desk_is_usable(window)
    elsewhere = QLineEdit()
    qtbot.addWidget(elsewhere)
    elsewhere.show()
    elsewhere.activateWindow()
    elsewhere.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is elsewhere)
    assert not desk_is_usable(window)


REMEMBERED_PROBE = """
import json, sys
import agent_desk.app as app
from agent_desk.ui.deferred_database import DeferredDatabase

WATCHED = ("sqlalchemy", "agent_desk.models", "agent_desk.services.database", "agent_desk.services.queue_pages")
released = DeferredDatabase.release
seen = []

def release(self):
    if not seen:  # the first paint of the desk's main window
        seen.append(sorted(m for m in sys.modules if m in WATCHED or m.split(".")[0] == "sqlalchemy"))
        print("PAINTED " + json.dumps({"loaded": seen[0][:8]}), flush=True)
    released(self)

DeferredDatabase.release = release
check = app.desk_is_usable

def usable(window):
    ok = check(window)
    print("USABLE " + json.dumps({"ok": ok, "window": type(window).__name__, "loading": window.queue_model.loading}), flush=True)
    return ok

app.desk_is_usable = usable
from agent_desk.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def test_a_known_agent_sees_the_desk_window_before_the_database_libraries_load(
    demo_template: Path, tmp_path: Path
) -> None:
    """The second start of an agent on a SQLite database (as bench_startup's project
    figure): the desk's main window is painted before SQLAlchemy, the models or the
    services are imported; the database opens behind it."""
    database = tmp_path / "desk.sqlite3"
    database.write_bytes(demo_template.read_bytes())
    data = tmp_path / "data"
    args = ["--database", f"sqlite:///{database}", "--lang", "en", "--agent", "sanne"]
    first = _run("from agent_desk.cli import run\nrun()\n", *args, "--quit-after-start", data=data)
    assert first.returncode == 0, first.stderr  # the agent is remembered on this database
    done = _run(REMEMBERED_PROBE, *args, "--quit-after-desk-window", data=data)
    assert done.returncode == 0, done.stderr
    painted = next(x for x in done.stdout.splitlines() if x.startswith("PAINTED "))
    assert json.loads(painted.removeprefix("PAINTED "))["loaded"] == []
    usable = next(x for x in done.stdout.splitlines() if x.startswith("USABLE "))
    assert json.loads(usable.removeprefix("USABLE ")) == {
        "ok": True,
        "window": "DeskWindow",
        "loading": True,
    }
