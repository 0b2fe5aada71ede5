"""E-mail and SMS on SQLite and PostgreSQL, against real servers started here: every
rule of the sending policy, the outbox's idempotency, bounces and delivery reports."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from agent_desk.domain.messaging import MessageChannel, MessageKind
from agent_desk.domain.sending_rules import load_sending_policy
from agent_desk.models import ContactPoint, Customer, Message, PromiseToPay
from agent_desk.services import due_messages, mail, secrets, sending, sms
from agent_desk.services import messages as msgs
from agent_desk.services.actor import SYSTEM
from agent_desk.services.customer_file import customer_file
from agent_desk.services.database import Database
from tests.support.messaging import (
    FakeBird,
    SmtpServer,
    add_arrangement,
    add_customer,
    messagebird_server,
    smtp_server,
)

# A Tuesday in December 2026, 10:00 in Amsterdam (09:00 UTC): inside the window.
OPEN = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    with smtp_server("plain") as server:
        monkeypatch.setenv("AGENT_DESK_SMTP_URL", server.url)
        monkeypatch.setenv("AGENT_DESK_MAIL_FROM", "klantenservice@delinde.example")
        yield server


@pytest.fixture
def bird(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBird]:
    with messagebird_server() as (state, url):
        monkeypatch.setenv("AGENT_DESK_SMS_URL", url)
        monkeypatch.setenv("AGENT_DESK_SMS_KEY_NAME", "bird-test")
        monkeypatch.setenv("AGENT_DESK_SMS_ORIGINATOR", "DeLinde")
        secrets.set_secret(secrets.sms_service("bird-test"), "api", state.key)
        yield state


def _queue(
    database: Database,
    number: str,
    kind: MessageKind = MessageKind.MISSED_CALL,
    channel: MessageChannel = MessageChannel.EMAIL,
    *,
    key: str | None = None,
    text: str | None = None,
    now: datetime = OPEN,
) -> int:
    with database.transaction() as s:
        customer = s.scalar(select(Customer).where(Customer.customer_number == number))
        assert customer is not None
        draft = msgs.compose(
            s, customer, kind, channel, subject=msgs.subject_for(s, customer, kind), text=text
        )
        return msgs.queue(s, SYSTEM, draft, now, key=key).message_id


def _dispatch(database: Database, now: datetime = OPEN) -> sending.DispatchResult:
    with database.transaction() as s:
        transports = sending.ConfiguredTransports(msgs.team_settings(s))
    return sending.dispatch(database, transports, now)


def _status(database: Database, message_id: int) -> tuple[str, str | None]:
    with database.transaction() as s:
        m = s.get(Message, message_id)
        assert m is not None
        return m.status, m.held_reason


def _customers(database: Database, *numbers: str, **kwargs: object) -> None:
    with database.transaction() as s:
        for number in numbers:
            add_customer(s, number, **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ e-mail


def test_the_arrangement_confirmation_goes_by_email_with_its_pdf_in_both_languages(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_server("starttls", tmp_path) as server:
        monkeypatch.setenv("AGENT_DESK_SMTP_URL", server.url)
        monkeypatch.setenv("AGENT_DESK_MAIL_FROM", "klantenservice@delinde.example")
        monkeypatch.setenv("AGENT_DESK_SMTP_CA_FILE", str(server.ca_file))
        secrets.set_secret(secrets.smtp_service("127.0.0.1", server.port), "desk", "s3cret")
        for number, language, address in (
            ("100", "nl", "fatma@example.org"),
            ("200", "en", "john@example.org"),
        ):
            with database.transaction() as s:
                customer = add_customer(s, number, language=language, email=address)
                arrangement = add_arrangement(s, customer, date(2027, 1, 1))
                draft = msgs.compose(
                    s,
                    customer,
                    MessageKind.ARRANGEMENT_CONFIRMATION,
                    MessageChannel.EMAIL,
                    subject=msgs.subject_for(s, customer, MessageKind.ARRANGEMENT_CONFIRMATION),
                    agent_name="Sanne de Vries",
                )
                draft = msgs.attach_confirmation(s, SYSTEM, draft, arrangement.id, OPEN)
                msgs.queue(s, SYSTEM, draft, OPEN)
        result = _dispatch(database)
        assert result.sent[("arrangement-confirmation", "email")] == 2
        got = {r.rcpt_tos[0]: r for r in server.store.received}
    nl, en = got["fatma@example.org"], got["john@example.org"]
    assert nl.mail_from == en.mail_from == "klantenservice@delinde.example"
    assert nl.email["Subject"].startswith("Bevestiging van uw betaalafspraak 100-")
    assert en.email["Subject"].startswith("Confirmation of your payment plan 200-")
    assert "Beste mevrouw Çelik" in nl.text and "3 termijnen" in nl.text
    assert "€ 150,00" in nl.text and "1 januari 2027" in nl.text
    assert "Dear Ms Smith" in en.text and "€150.00" in en.text
    assert "https://betalen.delinde.example/100-" in nl.text
    for received, word in ((nl, "betalingsregeling"), (en, "payment")):
        ((name, pdf),) = received.attachments()
        assert name.endswith(".pdf")
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
        assert word.lower() in text.lower()
        assert "AD-" in text
    with database.transaction() as s:
        rows = msgs.list_messages(
            s, s.scalar(select(Customer.id).where(Customer.customer_number == "100"))
        )
        assert [(r.kind, r.status) for r in rows] == [("arrangement-confirmation", "sent")]


def test_implicit_tls_and_a_wrong_certificate(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _customers(database, "1")
    with smtp_server("smtps", tmp_path) as server:
        monkeypatch.setenv("AGENT_DESK_SMTP_URL", server.url)
        monkeypatch.setenv("AGENT_DESK_MAIL_FROM", "desk@delinde.example")
        # Without the private CA the certificate is not trusted: nothing is sent.
        first = _queue(database, "1")
        result = _dispatch(database)
        assert result.held["not_configured"] == 1 and "TLS" in result.errors[0]
        assert _status(database, first) == ("queued", "not_configured")
        assert server.store.received == []
        monkeypatch.setenv("AGENT_DESK_SMTP_CA_FILE", str(server.ca_file))
        result = _dispatch(database)
        assert result.sent[("missed-call", "email")] == 1
        assert len(server.store.received) == 1
        assert "We hebben u geprobeerd te bellen" in server.store.received[0].email["Subject"]


def test_a_password_never_travels_in_the_url() -> None:
    with pytest.raises(Exception, match="keyring"):
        mail.parse_smtp_url("smtp://desk:geheim@mail.example.org:587", "a@b.nl")
    config = mail.parse_smtp_url("smtp://desk@mail.example.org", "a@b.nl")
    assert (config.port, config.implicit_tls, config.loopback) == (587, False, False)
    assert mail.parse_smtp_url("smtps://mail.example.org", "a@b.nl").port == 465


# ------------------------------------------------------------------------------- rules


def test_opt_out_holds_the_message_for_good(database: Database, smtp: SmtpServer) -> None:
    _customers(database, "1")
    message_id = _queue(database, "1")
    with database.transaction() as s:
        customer = s.scalar(select(Customer).where(Customer.customer_number == "1"))
        assert customer is not None
        msgs.set_preferences(
            s,
            SYSTEM,
            customer.id,
            email_opt_out=True,
            sms_opt_out=False,
            preferred_channel=None,
            now=OPEN,
        )
    result = _dispatch(database)
    assert result.held["opted_out"] == 1 and not result.sent
    assert _status(database, message_id) == ("cancelled", "opted_out")
    assert smtp.store.received == []


@pytest.mark.parametrize(
    ("moment", "reason"),
    [
        (datetime(2026, 12, 8, 6, 30, tzinfo=UTC), "outside_window"),  # 07:30 local
        (datetime(2026, 12, 8, 20, 0, tzinfo=UTC), "outside_window"),  # 21:00 local
        (datetime(2026, 12, 6, 10, 0, tzinfo=UTC), "sunday"),
        (datetime(2026, 12, 25, 10, 0, tzinfo=UTC), "holiday"),  # Christmas Day
        (datetime(2027, 4, 27, 10, 0, tzinfo=UTC), "holiday"),  # King's Day, a Tuesday
    ],
)
def test_nothing_leaves_outside_the_window_on_sundays_or_holidays_and_it_goes_later(
    database: Database, smtp: SmtpServer, moment: datetime, reason: str
) -> None:
    _customers(database, "1")
    message_id = _queue(database, "1", now=moment)
    result = _dispatch(database, moment)
    assert result.held[reason] == 1 and smtp.store.received == []
    assert _status(database, message_id) == ("queued", reason)
    with database.transaction() as s:
        m = s.get(Message, message_id)
        assert m is not None
        opens = m.next_attempt_at
    local = opens.astimezone(load_sending_policy().zone)
    assert local.time().hour == 8 and local.weekday() != 6
    assert _dispatch(database, opens).sent[("missed-call", "email")] == 1
    assert len(smtp.store.received) == 1


def test_the_weekly_cap_per_customer(database: Database, smtp: SmtpServer) -> None:
    _customers(database, "1")
    ids = [_queue(database, "1") for _ in range(4)]
    result = _dispatch(database)
    assert sum(result.sent.values()) == 3 and result.held["frequency_cap"] == 1
    assert _status(database, ids[3]) == ("queued", "frequency_cap")
    assert _dispatch(database, OPEN + timedelta(days=3)).held["frequency_cap"] == 1
    assert sum(_dispatch(database, OPEN + timedelta(days=7, minutes=1)).sent.values()) == 1
    assert len(smtp.store.received) == 4


def test_a_bounce_flags_the_contact_point_until_it_is_verified_again(
    database: Database, smtp: SmtpServer
) -> None:
    _customers(database, "1", email="weg@example.org")
    smtp.store.reject.add("weg@example.org")
    first = _queue(database, "1")
    result = _dispatch(database)
    assert result.bounced == 1 and _status(database, first)[0] == "bounced"
    with database.transaction() as s:
        point = s.scalar(select(ContactPoint).where(ContactPoint.value == "weg@example.org"))
        assert point is not None and point.bounced_at is not None
        point_id = point.id
    second = _queue(database, "1")
    assert _dispatch(database).held["bounced_contact"] == 1
    assert _status(database, second) == ("cancelled", "bounced_contact")
    smtp.store.reject.clear()
    with database.transaction() as s:
        point = s.get(ContactPoint, point_id)
        assert point is not None
        point.verified_at = OPEN + timedelta(minutes=5)
    third = _queue(database, "1", now=OPEN + timedelta(minutes=6))
    assert _dispatch(database, OPEN + timedelta(minutes=6)).sent
    assert _status(database, third)[0] == "sent"
    assert [r.rcpt_tos for r in smtp.store.received] == [["weg@example.org"]]


def test_the_same_key_is_one_message_however_often_it_is_queued_or_sent(
    database: Database, smtp: SmtpServer
) -> None:
    _customers(database, "1")
    ids = {_queue(database, "1", key="desk:once") for _ in range(3)}
    assert len(ids) == 1
    for _ in range(3):
        _dispatch(database)
    assert len(smtp.store.received) == 1
    assert smtp.store.received[0].email["Message-ID"] == "<desk.once@delinde.example>"


def test_a_server_that_is_down_is_retried_with_backoff(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _customers(database, "1")
    monkeypatch.setenv("AGENT_DESK_SMTP_URL", "smtp://127.0.0.1:9")  # discard port: closed
    monkeypatch.setenv("AGENT_DESK_MAIL_FROM", "desk@delinde.example")
    message_id = _queue(database, "1")
    result = _dispatch(database)
    assert result.retried == 1
    with database.transaction() as s:
        m = s.get(Message, message_id)
        assert m is not None and m.status == "queued" and m.attempts == 1
        first_wait = m.next_attempt_at - OPEN
    assert first_wait == timedelta(minutes=5)
    _dispatch(database, OPEN + first_wait)
    with database.transaction() as s:
        m = s.get(Message, message_id)
        assert m is not None and m.attempts == 2
        assert m.next_attempt_at - (OPEN + first_wait) == timedelta(minutes=10)


# -------------------------------------------------------------------------------- SMS


def test_an_sms_goes_through_messagebird_and_its_delivery_report_reaches_the_timeline(
    database: Database, bird: FakeBird
) -> None:
    _customers(database, "1")
    message_id = _queue(database, "1", MessageKind.MISSED_CALL, MessageChannel.SMS)
    result = _dispatch(database)
    assert result.sent[("missed-call", "sms")] == 1
    (sent,) = bird.sent
    assert sent["recipients"] == ["31612345678"] and sent["originator"] == "DeLinde"
    assert "terugbellen" in sent["body"] and sent["reference"].startswith("desk:")
    with database.transaction() as s:
        m = s.get(Message, message_id)
        assert m is not None and m.status == "sent" and m.provider_id == sent["id"]
    bird.statuses[sent["id"]] = ("delivered", None)
    with database.transaction() as s:
        gateway = sms.gateway_from(sms.config_from({}))  # type: ignore[arg-type]
    assert sending.poll_sms_status(database, gateway, OPEN) == 1
    with database.transaction() as s:
        customer_id = s.scalar(select(Customer.id).where(Customer.customer_number == "1"))
        assert customer_id is not None
        items = [
            i for i in customer_file(s, SYSTEM, customer_id, OPEN).timeline if i.kind == "message"
        ]
    assert [(i.summary, i.values["status"]) for i in items] == [("missed-call", "delivered")]


def test_a_status_report_that_the_number_does_not_exist_flags_it(
    database: Database, bird: FakeBird
) -> None:
    _customers(database, "1")
    message_id = _queue(database, "1", MessageKind.MISSED_CALL, MessageChannel.SMS)
    _dispatch(database)
    (sent,) = bird.sent
    report = sms.report_from_query(
        {
            "id": sent["id"],
            "reference": sent["reference"],
            "recipient": "31612345678",
            "status": "delivery_failed",
            "statusErrorCode": "1",
            "statusDatetime": "2026-12-08T09:01:00+00:00",
        }
    )
    with database.transaction() as s:
        assert msgs.apply_delivery_report(s, report.provider_id, report.status, OPEN)
    assert _status(database, message_id)[0] == "bounced"
    with database.transaction() as s:
        point = s.scalar(select(ContactPoint).where(ContactPoint.kind == "mobile"))
        assert point is not None and point.bounced_at is not None


def test_messagebird_errors_wrong_key_invalid_number_and_outage(
    database: Database, bird: FakeBird
) -> None:
    _customers(database, "1")
    _customers(database, "2", mobile="+31687654321")
    bird.invalid_numbers.add("31687654321")
    bird.fail_next = 1
    first = _queue(database, "1", MessageKind.MISSED_CALL, MessageChannel.SMS)
    second = _queue(database, "2", MessageKind.MISSED_CALL, MessageChannel.SMS)
    result = _dispatch(database)
    assert result.retried == 1 and result.bounced == 1
    assert _status(database, first)[0] == "queued"
    assert _status(database, second)[0] == "bounced"
    secrets.set_secret(secrets.sms_service("bird-test"), "api", "wrong")
    result = _dispatch(database, OPEN + timedelta(minutes=5))
    assert result.held["not_configured"] == 1 and "code 2" in result.errors[0]
    assert _status(database, first) == ("queued", "not_configured")
    assert bird.sent == []


def test_a_free_text_sms_never_names_the_debt(database: Database) -> None:
    _customers(database, "1")
    with pytest.raises(Exception, match="locked screen"):
        _queue(
            database,
            "1",
            MessageKind.FREE_TEXT,
            MessageChannel.SMS,
            text="Uw schuld is nog niet betaald",
        )


# ---------------------------------------------------------------------- the nightly run


def test_send_due_sends_reminders_by_preferred_channel_and_says_what_it_held(
    database: Database, smtp: SmtpServer, bird: FakeBird
) -> None:
    today = date(2026, 12, 8)
    with database.transaction() as s:
        by_mail = add_customer(s, "1")
        by_sms = add_customer(s, "2", preferred_channel="sms", mobile="+31611111111")
        opted = add_customer(s, "3")
        opted.email_opt_out = opted.sms_opt_out = True
        add_arrangement(s, by_mail, today + timedelta(days=3))
        add_arrangement(s, by_sms, today + timedelta(days=2))
        add_arrangement(s, opted, today + timedelta(days=1))
        late = add_arrangement(
            s, add_customer(s, "4", email="late@example.org"), today - timedelta(days=10)
        )
        late.instalments[0].status = "missed"
        add_arrangement(s, add_customer(s, "5"), today + timedelta(days=10))  # not yet
        s.add(
            PromiseToPay(
                customer_id=by_mail.id, amount_cents=2000, due_date=today + timedelta(days=1)
            )
        )
    result = due_messages.send_due(database, today, OPEN)
    data = result.as_json()
    assert data["sent"] == {
        "instalment-reminder": {"email": 1, "sms": 1},
        "missed-instalment": {"email": 1},
        "promise-reminder": {"email": 1},
    }
    assert data["held_back"] == {"opted_out": 1}
    assert len(smtp.store.received) == 3 and len(bird.sent) == 1
    assert "Lukt het deze keer niet?" in next(
        r.text for r in smtp.store.received if "Herinnering: uw termijn" in r.email["Subject"]
    )
    again = due_messages.send_due(database, today, OPEN + timedelta(hours=1)).as_json()
    assert again["sent_total"] == 0 and again["queued"] == {}
    assert len(smtp.store.received) == 3


def test_send_due_dry_run_counts_and_writes_nothing(database: Database, smtp: SmtpServer) -> None:
    today = date(2026, 12, 8)
    with database.transaction() as s:
        add_arrangement(s, add_customer(s, "1"), today + timedelta(days=3))
    data = due_messages.send_due(database, today, OPEN, dry_run=True).as_json()
    assert data["sent"] == {"instalment-reminder": {"email": 1}}
    with database.transaction() as s:
        assert s.scalars(select(Message)).all() == []
    assert smtp.store.received == []


def test_an_sms_whose_answer_is_lost_is_never_sent_twice(
    database: Database, bird: FakeBird, monkeypatch: pytest.MonkeyPatch
) -> None:
    _customers(database, "1")
    monkeypatch.setattr(sms, "TIMEOUT_SECONDS", 0.5)
    bird.delay = 2.0  # MessageBird takes it, but the answer comes after we gave up
    message_id = _queue(database, "1", MessageKind.MISSED_CALL, MessageChannel.SMS)
    result = _dispatch(database)
    assert result.in_doubt == 1 and _status(database, message_id)[0] == "in_doubt"
    bird.delay = 0
    _dispatch(database, OPEN + timedelta(hours=1))
    assert len(bird.sent) == 1


def test_an_sms_links_to_the_payment_page_without_the_amount_an_email_with_it(
    database: Database,
) -> None:
    """A housemate reading the lock screen sees no amount, not even in the link."""
    with database.transaction() as s:
        customer = add_customer(s, "300", language="nl")
        add_arrangement(s, customer, date(2027, 1, 1))
        bodies = {}
        for channel in (MessageChannel.SMS, MessageChannel.EMAIL):
            draft = msgs.compose(
                s,
                customer,
                MessageKind.INSTALMENT_REMINDER,
                channel,
                subject=msgs.subject_for(s, customer, MessageKind.INSTALMENT_REMINDER),
            )
            bodies[channel] = draft.body
    link = "https://betalen.delinde.example/300-"
    assert link in bodies[MessageChannel.SMS] and link in bodies[MessageChannel.EMAIL]
    assert "bedrag=" not in bodies[MessageChannel.SMS]
    assert "?bedrag=50.00" in bodies[MessageChannel.EMAIL]
