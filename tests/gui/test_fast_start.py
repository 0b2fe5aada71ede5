"""Fast start: the first desk window on SQLite loads none of the heavy libraries.

reportlab (letters), pypdfium2 (the letter preview), alembic (migrations only),
psycopg and keyring (PostgreSQL only), QtCharts (the supervisor's charts),
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

PROBE = """
import json, sys
import agent_desk.app as app

opened = app.DeskApp.open_desk

def open_desk(self, actor):
    opened(self, actor)
    window = self.window
    print("PROBE " + json.dumps({
        "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("reportlab", "pypdfium2", "alembic", "mako", "psycopg", "PIL", "keyring", "phonenumbers", "email_validator", "stdnum") or m == "PySide6.QtCharts"),
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
    import pytest

    from agent_desk import letters
    from agent_desk.letters import render

    assert letters.render_pdf is render.render_pdf
    assert letters.WrittenLetter is render.WrittenLetter
    with pytest.raises(AttributeError, match="no attribute 'render_docx'"):
        _ = letters.render_docx  # type: ignore[attr-defined]
