"""``agent-desk messages``: send, list, send-due and the checks, on both engines, against
a real SMTP server."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from agent_desk.cli import main
from agent_desk.services.database import Database
from tests.support.messaging import SmtpServer, add_arrangement, add_customer, smtp_server

NOW = "2026-12-08T10:00:00+01:00"


def _url(database: Database) -> str:
    return database.url.render_as_string(hide_password=False)


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    with smtp_server("plain") as server:
        monkeypatch.setenv("AGENT_DESK_SMTP_URL", server.url)
        monkeypatch.setenv("AGENT_DESK_MAIL_FROM", "desk@delinde.example")
        yield server


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, object]:
    code = main(list(args))
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip().startswith(("{", "[")) else out


def test_send_and_list(
    database: Database, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _url(database)
    with database.transaction() as s:
        add_arrangement(s, add_customer(s, "100234", email="f.celik@example.org"), date(2027, 1, 1))
    base = ["messages", "send", "--database", url, "--customer", "100234", "--now", NOW, "--json"]
    code, sent = _run(capsys, *base, "--kind", "missed-call", "--channel", "email")
    assert code == 0 and isinstance(sent, dict)
    assert (sent["kind"], sent["channel"], sent["to"], sent["status"]) == (
        "missed-call",
        "email",
        "f.celik@example.org",
        "sent",
    )
    code, confirmed = _run(capsys, *base, "--kind", "arrangement-confirmation")
    assert code == 0 and isinstance(confirmed, dict) and confirmed["status"] == "sent"
    ((_, pdf),) = smtp.store.received[-1].attachments()
    assert "100234" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    code, listed = _run(
        capsys, "messages", "list", "--database", url, "--customer", "100234", "--json"
    )
    assert code == 0 and isinstance(listed, list)
    assert [(m["kind"], m["channel"], m["to"], m["status"]) for m in listed] == [
        ("arrangement-confirmation", "email", "f.celik@example.org", "sent"),
        ("missed-call", "email", "f.celik@example.org", "sent"),
    ]
    assert all(set(m) >= {"kind", "channel", "to", "status", "sent_at"} for m in listed)
    assert all(m["sent_at"] for m in listed)
    # The same key twice: one message.
    for _ in range(2):
        code, replay = _run(
            capsys, *base, "--kind", "free-text", "--text", "Wilt u ons bellen?", "--key", "desk:k1"
        )
        assert code == 0
    assert isinstance(replay, dict) and replay["replayed"] is True
    assert len(smtp.store.received) == 3


def test_bad_usage_is_explained(
    database: Database, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _url(database)
    with database.transaction() as s:
        add_customer(s, "1")
    assert (
        main(
            [
                "messages",
                "send",
                "--database",
                url,
                "--customer",
                "1",
                "--kind",
                "free-text",
                "--json",
            ]
        )
        == 2
    )
    assert "--text" in capsys.readouterr().err
    assert (
        main(["messages", "send", "--database", url, "--customer", "9", "--kind", "missed-call"])
        == 1
    )
    assert "no customer" in capsys.readouterr().err
    assert (
        main(["messages", "send", "--database", url, "--customer", "1", "--kind", "whatever"]) == 2
    )
    assert (
        main(
            [
                "messages",
                "send",
                "--database",
                url,
                "--customer",
                "1",
                "--kind",
                "free-text",
                "--channel",
                "sms",
                "--text",
                "Uw achterstand is groot",
            ]
        )
        == 1
    )
    assert "locked screen" in capsys.readouterr().err
    assert smtp.store.received == []


def test_send_due_json_counts_per_kind_channel_and_reason(
    database: Database, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _url(database)
    today = date(2026, 12, 8)
    with database.transaction() as s:
        add_arrangement(s, add_customer(s, "1"), today + timedelta(days=3))
        quiet = add_customer(s, "2", mobile=None)
        quiet.email_opt_out = True
        add_arrangement(s, quiet, today + timedelta(days=3))
    args = ["messages", "send-due", "--database", url, "--today", today.isoformat(), "--json"]
    code, dry = _run(capsys, *args, "--now", NOW, "--dry-run")
    assert code == 0 and isinstance(dry, dict)
    assert dry["dry_run"] is True and dry["sent"] == {"instalment-reminder": {"email": 1}}
    assert dry["held_back"] == {"opted_out": 1}
    assert smtp.store.received == []
    code, late = _run(capsys, *args, "--now", "2026-12-08T22:30:00+01:00")
    assert code == 0 and isinstance(late, dict)
    assert late["sent_total"] == 0 and late["held_back"] == {"opted_out": 1, "outside_window": 1}
    code, done = _run(capsys, *args, "--now", "2026-12-09T08:00:00+01:00")
    assert isinstance(done, dict) and done["sent"] == {"instalment-reminder": {"email": 1}}
    assert len(smtp.store.received) == 1


def test_the_message_texts_check() -> None:
    assert main(["messages", "check"]) == 0
