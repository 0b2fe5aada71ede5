"""``agent-desk messages``: send, list, send-due and the checks, on both engines, against
a real SMTP server."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from agent_desk.cli import main
from agent_desk.models import Instalment, Message, PromiseToPay
from agent_desk.services import secrets
from agent_desk.services.database import Database
from agent_desk.services.nightly import NO_CHANNEL
from tests.support.messaging import (
    FakeBird,
    SmtpServer,
    add_arrangement,
    add_customer,
    messagebird_server,
    smtp_server,
)

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


# ---------------------------------------------------------------- the nightly run sends


@pytest.fixture
def bird(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBird]:
    with messagebird_server() as (state, url):
        monkeypatch.setenv("AGENT_DESK_SMS_URL", url)
        monkeypatch.setenv("AGENT_DESK_SMS_KEY_NAME", "bird-test")
        monkeypatch.setenv("AGENT_DESK_SMS_ORIGINATOR", "DeLinde")
        secrets.set_secret(secrets.sms_service("bird-test"), "api", state.key)
        yield state


def _nightly(capsys: pytest.CaptureFixture[str], database: Database, *args: str) -> object:
    code, out = _run(capsys, "nightly", "--database", _url(database), *args)
    assert code == 0
    return out


def _messages(database: Database) -> list[Message]:
    with database.transaction() as s:
        return list(s.scalars(select(Message).order_by(Message.id)))


def test_the_nightly_run_sends_by_default_by_preferred_channel_within_the_rules(
    database: Database, smtp: SmtpServer, bird: FakeBird, capsys: pytest.CaptureFixture[str]
) -> None:
    today = date(2026, 12, 8)  # a Tuesday; 10:00 in Amsterdam is inside the window
    now = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    with database.transaction() as s:
        add_arrangement(s, add_customer(s, "1", email="een@example.org"), today + timedelta(3))
        by_sms = add_customer(s, "2", mobile="+31622222222", preferred_channel="sms")
        add_arrangement(s, by_sms, today + timedelta(2))
        opted = add_customer(s, "3")
        opted.email_opt_out = opted.sms_opt_out = True
        add_arrangement(s, opted, today + timedelta(1))
        bounced = add_customer(s, "4", email="weg@example.org", mobile=None)
        (point,) = [p for p in bounced.contact_points if p.kind == "email"]
        point.bounced_at = now - timedelta(days=1)  # after it was verified
        add_arrangement(s, bounced, today + timedelta(3))
        capped = add_customer(s, "5", email="vol@example.org")
        add_arrangement(s, capped, today + timedelta(3))
        for n in range(3):  # three messages in the last 7 days: the cap
            s.add(
                Message(
                    customer_id=capped.id,
                    idempotency_key=f"desk:cap-{n}",
                    kind="missed-call",
                    channel="email",
                    to_address="vol@example.org",
                    body="...",
                    status="sent",
                    sent_at=now - timedelta(days=n + 1),
                )
            )
        # Due ten days ago and unpaid: tonight's books mark it missed, then it is written.
        add_arrangement(s, add_customer(s, "6", email="laat@example.org"), today - timedelta(10))
        promised = add_customer(s, "7", email="belofte@example.org")
        s.add(
            PromiseToPay(customer_id=promised.id, amount_cents=2000, due_date=today + timedelta(1))
        )
    document = _nightly(
        capsys,
        database,
        "--today",
        today.isoformat(),
        "--now",
        "2026-12-08T10:00:00+01:00",
        "--json",
    )
    assert isinstance(document, dict)
    assert document["instalments_missed"] == 1  # the books first, as before
    sent = document["messages"]
    assert sent["channels"] == ["email", "sms"]
    assert sent["sent"] == {
        "instalment-reminder": {"email": 1, "sms": 1},
        "missed-instalment": {"email": 1},
        "promise-reminder": {"email": 1},
    }
    assert sent["sent_total"] == 4
    assert sent["held_back"] == {"bounced_contact": 1, "frequency_cap": 1, "opted_out": 1}
    assert sent["held_back_total"] == 3
    assert sorted(r.rcpt_tos[0] for r in smtp.store.received) == [
        "belofte@example.org",
        "een@example.org",
        "laat@example.org",
    ]
    assert [str(m["recipients"][0]) for m in bird.sent] == ["31622222222"]
    # The same night again (a replay): nothing twice.
    text = _nightly(capsys, database, "--today", today.isoformat(), "--now", "2026-12-08T11:00")
    assert isinstance(text, str)
    assert "  sent: 0" in text and "  set up: email, sms" in text
    assert len(smtp.store.received) == 3 and len(bird.sent) == 1


@pytest.mark.parametrize(
    ("today", "now", "reason", "opens"),
    [
        ("2026-12-08", "2026-12-08T22:30", "outside_window", "2026-12-09T08:00"),
        ("2026-12-26", "2026-12-26T10:00", "holiday", "2026-12-28T08:00"),  # Boxing Day
        ("2026-12-27", "2026-12-27T10:00", "sunday", "2026-12-28T08:00"),
    ],
)
def test_the_nightly_run_prints_what_it_held_back_and_sends_it_when_the_window_opens(
    database: Database,
    smtp: SmtpServer,
    capsys: pytest.CaptureFixture[str],
    today: str,
    now: str,
    reason: str,
    opens: str,
) -> None:
    with database.transaction() as s:
        due = date.fromisoformat(today) + timedelta(days=2)
        add_arrangement(s, add_customer(s, "1"), due)
    text = _nightly(capsys, database, "--today", today, "--now", now)
    assert isinstance(text, str)
    lines = text.splitlines()
    assert "  sent: 0" in lines and "  held back: 1" in lines and f"    {reason}: 1" in lines
    assert smtp.store.received == []
    assert [(m.status, m.held_reason) for m in _messages(database)] == [("queued", reason)]
    document = _nightly(capsys, database, "--today", opens[:10], "--now", opens, "--json")
    assert isinstance(document, dict)
    assert document["messages"]["sent"] == {"instalment-reminder": {"email": 1}}
    assert len(smtp.store.received) == 1


def test_the_nightly_run_without_a_mail_server_or_sms_provider_says_so_and_books(
    database: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AGENT_DESK_SMTP_URL", "AGENT_DESK_SMS_URL"):
        monkeypatch.delenv(name, raising=False)
    with database.transaction() as s:
        add_arrangement(s, add_customer(s, "1"), date(2026, 11, 20))
    text = _nightly(capsys, database, "--today", "2026-12-08", "--now", "2026-12-08T10:00")
    assert isinstance(text, str)
    lines = text.splitlines()
    assert lines[-1] == NO_CHANNEL and len(lines) == 2  # the books' line, then this one
    assert "1 instalments newly missed" in lines[0]
    assert _messages(database) == []
    with database.transaction() as s:
        assert s.scalars(select(Instalment.status).order_by(Instalment.number)).first() == (
            "missed"
        )
    document = _nightly(capsys, database, "--today", "2026-12-09", "--json")
    assert isinstance(document, dict)
    assert document["messages"]["channels"] == [] and document["messages"]["sent_total"] == 0
    assert document["messages"]["skipped"] == NO_CHANNEL


def test_no_messages_keeps_the_old_nightly_and_a_missing_sms_provider_falls_back_to_email(
    database: Database,
    smtp: SmtpServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AGENT_DESK_SMS_URL", raising=False)
    with database.transaction() as s:
        add_arrangement(s, add_customer(s, "1", preferred_channel="sms"), date(2026, 12, 10))
    args = ("--today", "2026-12-08", "--now", "2026-12-08T10:00", "--json")
    document = _nightly(capsys, database, *args, "--no-messages")
    assert isinstance(document, dict) and "messages" not in document
    assert _messages(database) == [] and smtp.store.received == []
    document = _nightly(capsys, database, *args)
    assert isinstance(document, dict)
    assert document["messages"]["channels"] == ["email"]
    # Prefers SMS, but there is no SMS provider: the e-mail goes instead of nothing.
    assert document["messages"]["sent"] == {"instalment-reminder": {"email": 1}}
    assert [r.rcpt_tos for r in smtp.store.received] == [["klant@example.org"]]
