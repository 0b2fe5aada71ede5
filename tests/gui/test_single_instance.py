"""One desk per agent and data folder: a second start raises the first and exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from agent_desk.app import DeskApp
from agent_desk.services.database import Database
from agent_desk.ui.prompter import RecordingPrompter
from agent_desk.ui.settings import DeskSettings
from agent_desk.ui.single_instance import ALREADY_OPEN, SingleInstance

WAIT = 30_000


def _desk(database: Database, folder: Path, agent: str = "sanne") -> DeskApp:
    return DeskApp(
        database,
        lang="en",
        agent_login=agent,
        prompter=RecordingPrompter(),
        settings=DeskSettings(),
        data_folder=folder,
    )


@pytest.mark.qt_log_ignore(r"This plugin does not support (raise|propagateSizeHints)\(\)")
def test_a_second_desk_of_the_same_agent_raises_the_first_and_stops_with_0(
    qtbot: QtBot,
    database: Database,
    styled: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = _desk(database, tmp_path)
    first.start()
    qtbot.waitUntil(lambda: first.window is not None, timeout=WAIT)
    assert first.instance is not None and first.instance.held
    assert first.window is not None
    first.window.showMinimized()
    second = _desk(database, tmp_path)
    try:
        with (
            qtbot.waitSignal(first.instance.raise_requested, timeout=WAIT),
            qtbot.waitSignal(second.finished, timeout=WAIT) as finished,
        ):
            second.start()
        assert finished.args == [0]
        qtbot.waitUntil(lambda: first.window is not None and not first.window.isMinimized())
        assert second.already_open and second.window is None and second.startup is None
        assert f"{ALREADY_OPEN} for sanne" in capsys.readouterr().err
        # Another agent on the same data folder is a desk of its own.
        other = _desk(database, tmp_path, agent="marieke")
        assert other.claim("marieke")
        other.shutdown()
    finally:
        second.shutdown()
        assert first.window is not None
        first.window.close()
        first.shutdown()
    # Closed: the next start of this agent's desk gets the lock.
    third = SingleInstance(tmp_path, "sanne")
    assert third.claim()
    third.release()


_HOLDER = """
import sys, time
from pathlib import Path
from PySide6.QtCore import QCoreApplication
from agent_desk.ui.single_instance import SingleInstance
app = QCoreApplication(sys.argv[:1])
instance = SingleInstance(Path(sys.argv[1]), "sanne")
print("claimed" if instance.claim() else "refused", flush=True)
time.sleep(120)
"""


def test_a_lock_left_by_a_desk_that_crashed_is_taken_over(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "claimed"
            while_alive = SingleInstance(tmp_path, "sanne")
            assert not while_alive.claim()  # the holder is alive: refused
        finally:
            holder.send_signal(signal.SIGKILL)  # a crash: nothing cleaned up
            holder.wait(timeout=30)
    lock = SingleInstance(tmp_path, "sanne")
    assert lock.lock_path.exists()  # the dead desk's lock file is still there
    assert lock.claim()  # and is taken over
    lock.release()
    assert not lock.lock_path.exists()


def _start(data: Path, database: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "AGENT_DESK_DATA_DIR": str(data), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen(
        [sys.executable, "-m", "agent_desk", "--database", f"sqlite:///{database}", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_real_desk_processes_of_one_agent(demo_template: Path, tmp_path: Path) -> None:
    database = tmp_path / "desk.sqlite3"
    database.write_bytes(demo_template.read_bytes())
    data = tmp_path / "data"
    first = _start(data, database, "--lang", "en", "--agent", "sanne")
    try:
        deadline = time.monotonic() + 60
        while not list(data.glob("desk-*.lock")):
            assert first.poll() is None, first.communicate()[1]
            assert time.monotonic() < deadline, "the first desk never took its lock"
            time.sleep(0.1)
        second = _start(data, database, "--lang", "en", "--agent", "sanne")
        _, err = second.communicate(timeout=60)
        assert second.returncode == 0, err
        assert f"agent-desk: {ALREADY_OPEN} for sanne (its window was brought to the front)." in err
        assert first.poll() is None  # the first desk is still open
    finally:
        first.send_signal(signal.SIGTERM)
        _, first_err = first.communicate(timeout=60)
    assert first.returncode == 0, first_err
    assert not list(data.glob("desk-*.lock"))
