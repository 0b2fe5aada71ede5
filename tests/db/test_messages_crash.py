"""Exactly once after a crash: ``kill -9`` the sending process in the middle of a send,
start it again, and the SMTP server holds exactly one copy — on SQLite and PostgreSQL;
the same for SMS against the local MessageBird server.

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

from agent_desk.cli import main
from agent_desk.models import Customer, Message
from agent_desk.services import secrets
from agent_desk.services.database import Database
from tests.support.messaging import add_arrangement, add_customer, messagebird_server, smtp_server

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


# --------------------------------------------------------------------------- SMS


def _sms_env(tmp_path: object, url: str, key: str) -> dict[str, str]:
    """The child's environment: the local MessageBird, and its access key in a keyring
    the child reads through the real keyring API (a file backend, see tests.support)."""
    keyring_file = os.path.join(str(tmp_path), "keyring.json")
    with open(keyring_file, "w") as handle:
        json.dump({f"{secrets.sms_service('bird-crash')}\x00api": key}, handle)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = os.environ.copy()
    env.pop("AGENT_DESK_SMTP_URL", None)
    env.update(
        {
            "AGENT_DESK_SMS_URL": url,
            "AGENT_DESK_SMS_KEY_NAME": "bird-crash",
            "AGENT_DESK_SMS_ORIGINATOR": "DeLinde",
            "AGENT_DESK_TEST_KEYRING_FILE": keyring_file,
            "PYTHON_KEYRING_BACKEND": "tests.support.file_keyring.FileKeyring",
            "PYTHONPATH": os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")])),
        }
    )
    return env


def test_kill_9_mid_sms_then_restart_sends_no_sms_twice_and_shows_the_one_in_doubt(
    database: Database, tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three SMS in one claimed batch; the sender is killed while MessageBird holds the
    second one's answer. The first was sent; the second may have been (MessageBird has
    it: in doubt, never resent by itself); the third was claimed but never handed over
    (sent once by the restart)."""
    numbers = ["+31611111111", "+31622222222", "+31633333333"]
    with database.transaction() as s:
        for n, mobile in enumerate(numbers, start=1):
            customer = add_customer(s, str(n), email=None, mobile=mobile, preferred_channel="sms")
            add_arrangement(s, customer, TODAY + timedelta(3))
    with messagebird_server() as (bird, url):
        env = _sms_env(tmp_path, url, bird.key)
        bird.delay, bird.delay_from = 8.0, 2  # the second POST is taken, its answer waits
        process = subprocess.Popen(
            _command(database, "2026-12-08T10:00:00+01:00"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            _wait(lambda: len(bird.sent) == 2)
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
            process.communicate()
        assert process.returncode == -signal.SIGKILL
        with database.transaction() as s:
            statuses = sorted(m.status for m in s.scalars(select(Message)))
        assert statuses == ["handed_over", "sending", "sent"]
        bird.delay = 0
        outputs = []
        for minute in ("10:05", "10:10"):
            again = subprocess.run(
                _command(database, f"2026-12-08T{minute}:00+01:00"),
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
            outputs.append(json.loads(again.stdout))
        first, second = outputs
        assert first["in_doubt"] == 1 and first["requeued_after_crash"] == 1
        assert first["sent"] == {"instalment-reminder": {"sms": 1}}
        assert second["sent_total"] == 0 and second["in_doubt"] == 0
        # Each number had its SMS exactly once: the one in doubt was not sent again.
        assert sorted(str(m["recipients"][0]) for m in bird.sent) == sorted(
            n.lstrip("+") for n in numbers
        )
    with database.transaction() as s:
        rows = {m.to_address: m for m in s.scalars(select(Message))}
        doubtful = [m for m in rows.values() if m.status == "in_doubt"]
        assert sorted(m.status for m in rows.values()) == ["in_doubt", "sent", "sent"]
        assert "may have been sent" in (doubtful[0].last_error or "")
        number = str(s.get(Customer, doubtful[0].customer_id).customer_number)  # type: ignore[union-attr]
    # Shown as such: the customer's message list says "in_doubt".
    url_ = database.url.render_as_string(hide_password=False)
    assert main(["messages", "list", "--database", url_, "--customer", number, "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["status"] == "in_doubt" and listed["channel"] == "sms"
