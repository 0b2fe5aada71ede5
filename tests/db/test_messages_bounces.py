"""Bounces that arrive later: delivery status notifications (RFC 3464) that the mail
server delivered to a maildir are read by the nightly run (and ``messages read-bounces``);
the bounced e-mail turns ``bounced`` in the timeline and its address is flagged, so the
same night writes to it no more. On SQLite and PostgreSQL; the e-mail itself went through
a real aiosmtpd server and the DSN names its real Message-ID."""

from __future__ import annotations

import json
import mailbox
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from agent_desk.cli import main
from agent_desk.models import ContactPoint, Message, PromiseToPay
from agent_desk.services import mail
from agent_desk.services.database import Database
from tests.support.messaging import SmtpServer, add_arrangement, add_customer, smtp_server

TODAY = date(2026, 12, 8)  # a Tuesday


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    with smtp_server("plain") as server:
        monkeypatch.setenv("AGENT_DESK_SMTP_URL", server.url)
        monkeypatch.setenv("AGENT_DESK_MAIL_FROM", "desk@delinde.example")
        monkeypatch.delenv("AGENT_DESK_SMS_URL", raising=False)
        yield server


def dsn(
    recipient: str, message_id: str | None, *, action: str = "failed", status: str = "5.1.1"
) -> bytes:
    """A DSN as Postfix writes one (multipart/report; report-type=delivery-status)."""
    original = f"From: desk@delinde.example\r\nTo: {recipient}\r\nSubject: Herinnering\r\n" + (
        f"Message-ID: {message_id}\r\n" if message_id else ""
    )
    return (
        "From: MAILER-DAEMON@mx.delinde.example (Mail Delivery System)\r\n"
        "To: desk@delinde.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B0"\r\n'
        "\r\n"
        "--B0\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n"
        "\r\n"
        "--B0\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; mx.delinde.example\r\n"
        "Arrival-Date: Tue,  8 Dec 2026 10:00:01 +0100 (CET)\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"Original-Recipient: rfc822;{recipient}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        "Remote-MTA: dns; mx.example.org\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <user> Recipient address rejected: User unknown\r\n"
        "\r\n"
        "--B0\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "\r\n"
        f"{original}"
        "\r\n"
        "--B0--\r\n"
    ).encode()


OUT_OF_OFFICE = (
    b"From: een@example.org\r\nTo: desk@delinde.example\r\nSubject: Afwezig\r\n\r\n"
    b"Ik ben tot maandag afwezig.\r\n"
)


def test_a_later_bounce_marks_the_email_bounced_and_flags_the_address(
    database: Database,
    smtp: SmtpServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = database.url.render_as_string(hide_password=False)
    with database.transaction() as s:
        one = add_customer(s, "1", email="een@example.org", mobile=None)
        add_arrangement(s, one, TODAY + timedelta(3))
        s.add(PromiseToPay(customer_id=one.id, amount_cents=2000, due_date=TODAY + timedelta(2)))
    nightly = ["nightly", "--database", url, "--json"]
    assert main([*nightly, "--today", "2026-12-08", "--now", "2026-12-08T10:00"]) == 0
    first = json.loads(capsys.readouterr().out)["messages"]
    assert first["sent"] == {"instalment-reminder": {"email": 1}} and "bounces" not in first
    # The receiving server took it, then found no such user: the DSN comes back later.
    message_id = str(smtp.store.received[0].email["Message-ID"])
    box_path = tmp_path / "bounces"
    box = mailbox.Maildir(box_path, create=True)
    box.add(dsn("een@example.org", message_id))
    box.add(dsn("een@example.org", message_id, action="delayed", status="4.4.7"))
    box.add(dsn("nooit@example.org", "<desk.other@delinde.example>"))  # not an e-mail of ours
    box.add(OUT_OF_OFFICE)
    monkeypatch.setenv("AGENT_DESK_BOUNCE_MAILDIR", str(box_path))
    assert main([*nightly, "--today", "2026-12-09", "--now", "2026-12-09T10:00"]) == 0
    second = json.loads(capsys.readouterr().out)["messages"]
    assert second["bounces"] == {
        "mailbox": str(box_path),
        "read": 4,
        "bounced": 1,
        "not_ours": 1,
        "not_bounces": 2,  # the "delayed" notice and the out-of-office reply
        "errors": [],
    }
    # Read before sending: tonight's promise reminder does not go to the dead address.
    assert second["sent_total"] == 0 and second["held_back"] == {"bounced_contact": 1}
    assert len(smtp.store.received) == 1
    with database.transaction() as s:
        (sent,) = s.scalars(select(Message).where(Message.kind == "instalment-reminder")).all()
        assert sent.status == "bounced" and "5.1.1" in (sent.last_error or "")
        point = s.scalars(select(ContactPoint).where(ContactPoint.kind == "email")).one()
        assert point.bounced_at is not None
    # The timeline (the customer's message list) shows it.
    assert main(["messages", "list", "--database", url, "--customer", "1", "--json"]) == 0
    listed = {m["kind"]: m["status"] for m in json.loads(capsys.readouterr().out)}
    assert listed["instalment-reminder"] == "bounced"
    # Each report is read once: they moved to cur/, the next run reads nothing.
    assert main(["messages", "read-bounces", "--database", url, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["read"] == 0 and again["bounced"] == 0
    assert len(list((box_path / "cur").iterdir())) == 4 and not list((box_path / "new").iterdir())


def test_a_bounce_without_message_id_matches_the_last_email_to_that_address(
    database: Database, smtp: SmtpServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = database.url.render_as_string(hide_password=False)
    with database.transaction() as s:
        add_arrangement(s, add_customer(s, "1", email="een@example.org"), TODAY + timedelta(3))
    assert (
        main(
            [
                "messages",
                "send-due",
                "--database",
                url,
                "--today",
                "2026-12-08",
                "--now",
                "2026-12-08T10:00",
                "--json",
            ]
        )
        == 0
    )
    capsys.readouterr()
    box = mailbox.Maildir(tmp_path / "b", create=True)
    box.add(dsn("EEN@example.org", None))
    args = ["messages", "read-bounces", "--database", url, "--maildir", str(tmp_path / "b")]
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["bounced"] == 1
    with database.transaction() as s:
        assert s.scalars(select(Message.status)).all() == ["bounced"]


def test_a_bounce_mailbox_that_is_not_a_maildir_is_explained(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = database.url.render_as_string(hide_password=False)
    missing = tmp_path / "nowhere"
    code = main(["messages", "read-bounces", "--database", url, "--maildir", str(missing)])
    assert code == 1
    out = capsys.readouterr().out
    assert f"'{missing}' is not a maildir folder" in out


def test_parse_dsn_reads_only_permanent_failures() -> None:
    (bounce,) = mail.parse_dsn(dsn("een@example.org", "<instalment-reminder.7@delinde.example>"))
    assert bounce.recipient == "een@example.org" and bounce.status == "5.1.1"
    assert bounce.original_message_id == "instalment-reminder.7"
    assert "User unknown" in bounce.diagnostic
    assert mail.parse_dsn(dsn("een@example.org", None, action="delayed", status="4.4.7")) == []
    assert mail.parse_dsn(OUT_OF_OFFICE) == []
    assert mail.message_id_local("instalment-reminder:7") == "instalment-reminder.7"
