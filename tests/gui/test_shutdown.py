"""Crash-safe: SIGTERM/SIGINT close through Qt; a hard crash leaves a log that is offered."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from agent_desk.app import DeskApp
from agent_desk.crash_log import CRASH_LOG, CrashLog
from agent_desk.services.database import Database
from agent_desk.ui.dialogs.previous_crash import PreviousCrashDialog
from agent_desk.ui.prompter import RecordingPrompter
from agent_desk.ui.settings import DeskSettings
from agent_desk.ui.signals import SignalBridge
from agent_desk.ui.signals import _note as signal_bridge_note

WAIT = 30_000


def _wait_for(path: Path, text: str, process: subprocess.Popen[str], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not (path.exists() and text in path.read_text(encoding="utf-8", errors="replace")):
        if process.poll() is not None:
            raise AssertionError(f"the desk stopped early: {process.communicate()[1]}")
        assert time.monotonic() < deadline, f"no {text!r} in {path}"
        time.sleep(0.1)


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_closes_the_desk_through_qt_with_the_outbox_flushed(
    demo_template: Path, tmp_path: Path, number: signal.Signals
) -> None:
    database = tmp_path / "desk.sqlite3"
    database.write_bytes(demo_template.read_bytes())
    data = tmp_path / "data"
    env = {**os.environ, "AGENT_DESK_DATA_DIR": str(data), "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-m", "agent_desk", "--database", f"sqlite:///{database}"]
    with subprocess.Popen(
        [*command, "--lang", "en", "--agent", "sanne"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as desk:
        try:
            log = data / "agent-desk.log"
            _wait_for(log, "the desk is open for sanne", desk)
            assert (data / CRASH_LOG).exists()  # faulthandler is writing into it
            # The outbox opens on its own thread, just behind the window: wait for it.
            deadline = time.monotonic() + 30
            while not (data / "outbox.sqlite3-wal").exists():
                assert time.monotonic() < deadline, "the outbox never opened"
                time.sleep(0.05)
            desk.send_signal(number)
            try:
                _, err = desk.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                pytest.fail(f"the desk did not close on signal {int(number)}")
        finally:
            if desk.poll() is None:  # never leave a desk behind that holds the run up
                desk.kill()
                desk.communicate()
    assert desk.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    text = log.read_text(encoding="utf-8")
    assert f"closing the desk: signal {int(number)}" in text
    # Closed as the agent closes it: the outbox checkpointed and closed (no WAL left),
    # the layout saved, the lock released, and no crash log (a clean exit).
    assert not (data / "outbox.sqlite3-wal").exists()
    with sqlite3.connect(data / "outbox.sqlite3") as outbox:
        assert outbox.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert "geometry" in (data / "desk.ini").read_text(encoding="utf-8")
    assert not list(data.glob("desk-*.lock"))
    assert not (data / CRASH_LOG).exists()


def test_a_signal_as_the_known_agents_window_is_shown_still_closes_with_the_outbox_flushed(
    demo_template: Path, tmp_path: Path
) -> None:
    """A known agent on SQLite: the window is painted before the outbox is opened. A
    signal at that moment closes the desk through Qt all the same: the outbox is
    opened, flushed and closed, nothing is left behind."""
    database = tmp_path / "desk.sqlite3"
    database.write_bytes(demo_template.read_bytes())
    data = tmp_path / "data"
    env = {**os.environ, "AGENT_DESK_DATA_DIR": str(data), "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-m", "agent_desk", "--database", f"sqlite:///{database}"]
    command += ["--lang", "en", "--agent", "sanne"]
    first = subprocess.run(
        [*command, "--quit-after-start"], env=env, capture_output=True, text=True, timeout=120
    )
    assert first.returncode == 0, first.stderr  # sanne is remembered: the window comes first
    # --quit-after-start closes once the desk is open (the bundle's smoke test asks it).
    started = (data / "agent-desk.log").read_text(encoding="utf-8")
    assert "the desk is open for sanne" in started and "closing the desk: started" in started
    assert started.index("the desk is open") < started.index("closing the desk: started")
    (data / "agent-desk.log").unlink()
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as desk:
        log = data / "agent-desk.log"
        _wait_for(log, "the desk's window is shown for sanne", desk)
        desk.send_signal(signal.SIGTERM)
        try:
            _, err = desk.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            desk.kill()
            _, err = desk.communicate()
            pytest.fail(f"the desk did not close on SIGTERM: {err[-2000:]}")
    assert desk.returncode == 0, err
    assert "Traceback" not in err
    assert f"closing the desk: signal {int(signal.SIGTERM)}" in log.read_text(encoding="utf-8")
    assert not (data / "outbox.sqlite3-wal").exists()
    with sqlite3.connect(data / "outbox.sqlite3") as outbox:
        assert outbox.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert not list(data.glob("desk-*.lock"))
    assert not (data / CRASH_LOG).exists()


def test_a_signal_is_acted_on_even_when_its_notifier_does_not_wake_the_loop(
    qtbot: QtBot,
) -> None:
    """The bridge drains its socket on a timer as well: a signal is never left lying."""
    bridge = SignalBridge()
    received: list[int] = []
    bridge.received.connect(received.append)
    bridge.install()
    try:
        notifier = bridge._notifier
        assert notifier is not None
        notifier.setEnabled(False)  # as if the notifier never fired
        os.kill(os.getpid(), signal.SIGTERM)
        qtbot.waitUntil(lambda: received == [int(signal.SIGTERM)], timeout=5_000)
    finally:
        bridge.uninstall()
    assert signal.getsignal(signal.SIGTERM) is not signal_bridge_note


_CRASH = """
import faulthandler, sys
from pathlib import Path
from agent_desk.crash_log import CrashLog
CrashLog(Path(sys.argv[1])).enable()
faulthandler._sigsegv()
"""


def test_a_hard_crash_leaves_a_private_log_that_the_next_start_offers(
    qtbot: QtBot, database: Database, styled: None, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CRASH, str(tmp_path)], capture_output=True, timeout=60
    )
    assert done.returncode != 0  # it really crashed
    crash_log = CrashLog(tmp_path)
    kept = crash_log.take_previous()
    assert kept is not None and kept.name.startswith("crash-")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert "Segmentation fault" in kept.read_text(encoding="utf-8")
    assert crash_log.take_previous() is None  # offered once

    desk = DeskApp(
        database,
        lang="en",
        agent_login="sanne",
        prompter=RecordingPrompter(),
        settings=DeskSettings(),
        previous_crash=kept,
    )
    desk.start()
    try:
        qtbot.waitUntil(lambda: desk.crash_dialog is not None, timeout=WAIT)
        dialog = desk.crash_dialog
        assert isinstance(dialog, PreviousCrashDialog) and dialog.isVisible()
        assert not dialog.report.isVisible()
        dialog.show_button.click()
        assert dialog.report.isVisible()
        assert "Segmentation fault" in dialog.report.toPlainText()
        dialog.reject()
    finally:
        if desk.window is not None:
            desk.window.close()
        desk.shutdown()


def test_a_clean_exit_leaves_no_crash_log(tmp_path: Path) -> None:
    crash_log = CrashLog(tmp_path)
    assert crash_log.enable()
    assert stat.S_IMODE((tmp_path / CRASH_LOG).stat().st_mode) == 0o600
    crash_log.disable()
    assert not (tmp_path / CRASH_LOG).exists()
    assert CrashLog(tmp_path).take_previous() is None
