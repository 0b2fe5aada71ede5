"""Exactly once after a crash: ``kill -9`` the sending process in the middle of a send,
start it again, and the SMTP server holds exactly one copy — on SQLite and PostgreSQL.

Two places to die: while the server is still checking the recipient (nothing can have
been delivered: the restart sends it), and after the message was handed over but
before the server's "250 OK" came back (it may have been delivered: the restart marks
it in doubt and never sends it again).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from agent_desk.models import Message
from agent_desk.services.database import Database
from tests.support.messaging import add_arrangement, add_customer, smtp_server

TODAY = date(2026, 12, 8)  # a Tuesday


def _command(database: Database, at: str) -> list[str]:
    url = database.url.render_as_string(hide_password=False)
    return [
        sys.executable,
        "-m",
        "agent_desk",
        "messages",
        "send-due",
        "--database",
        url,
        "--today",
        TODAY.isoformat(),
        "--now",
        at,
        "--json",
    ]


def _wait(predicate: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("the sender never got there")


@pytest.mark.parametrize("dies", ["before the hand-over", "after the hand-over"])
def test_kill_9_mid_send_then_restart_leaves_exactly_one_message_at_the_server(
    database: Database, monkeypatch: pytest.MonkeyPatch, dies: str
) -> None:
    with database.transaction() as s:
        add_arrangement(s, add_customer(s, "1", email="een@example.org"), TODAY + timedelta(3))
    with smtp_server("plain") as server:
        monkeypatch.setenv("AGENT_DESK_SMTP_URL", server.url)
        monkeypatch.setenv("AGENT_DESK_MAIL_FROM", "desk@delinde.example")
        if dies == "before the hand-over":
            server.store.rcpt_delay = 8
        else:
            server.store.data_delay = 8
        process = subprocess.Popen(
            _command(database, "2026-12-08T10:00:00+01:00"),
            env=os.environ.copy(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            if dies == "before the hand-over":
                _wait(lambda: server.store.rcpt_seen == 1)
            else:
                _wait(lambda: len(server.store.received) == 1)
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
            process.communicate()
        assert process.returncode == -signal.SIGKILL
        with database.transaction() as s:
            (message,) = s.scalars(select(Message)).all()
            expected = "sending" if dies == "before the hand-over" else "handed_over"
            assert message.status == expected
        server.store.rcpt_delay = server.store.data_delay = 0
        # The restart, after the dead process's claim ran out (the lease is 120 s).
        for minute in ("10:05", "10:10"):
            again = subprocess.run(
                _command(database, f"2026-12-08T{minute}:00+01:00"),
                env=os.environ.copy(),
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
            json.loads(again.stdout)
        assert len(server.store.received) == 1
        assert server.store.received[0].rcpt_tos == ["een@example.org"]
    with database.transaction() as s:
        (message,) = s.scalars(select(Message)).all()
        assert message.status == ("sent" if dies == "before the hand-over" else "in_doubt")
        if message.status == "in_doubt":
            assert "may have been sent" in (message.last_error or "")
