"""A supervisor's proactive message to a selection (known triggers from the import),
team settings for sending, and the nightly run's --send-messages; on both engines."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from agent_desk.cli import main
from agent_desk.domain.codes import Role
from agent_desk.domain.messaging import MessageKind
from agent_desk.errors import PermissionDeniedError, ValidationError
from agent_desk.models import Customer, Message, Setting
from agent_desk.services import messages as msgs
from agent_desk.services.actor import SYSTEM, Actor
from agent_desk.services.campaigns import Selection, run_campaign
from agent_desk.services.database import Database
from agent_desk.services.importers import ImportRejected, import_customers
from tests.support.messaging import add_customer

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
BOSS = Actor(None, "boss", "Baas", Role.SUPERVISOR)
AGENT = Actor(None, "agent", "Agent", Role.AGENT)
HEADER = (
    "customer_number,first_name,last_name,language,segment,mobile,phone,email,street,"
    "house_number,postcode,city,agent,claim_reference,claim_description,principal,due_date,"
    "trigger,trigger_on\n"
)


def _import(database: Database, tmp_path: Path, rows: list[str]) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    with database.transaction() as s:
        import_customers(s, SYSTEM, path, NOW)


def _row(number: str, email: str, trigger: str, on: str) -> str:
    return (
        f"{number},Fatma,Klant{number},nl,consumer,06-12345678,,{email},Dorpsstraat,4,"
        f"1234AB,Ede,,{number}-1,Energie,120.00,2026-11-01,{trigger},{on}"
    )


def test_known_triggers_come_from_the_import_and_a_campaign_previews_then_queues(
    database: Database, tmp_path: Path
) -> None:
    _import(
        database,
        tmp_path,
        [
            _row("1", "een@example.org", "discount_ending", "2027-01-05"),
            _row("2", "", "discount_ending", "2027-01-20"),  # SMS only
            _row("3", "drie@example.org", "discount_ending", "2027-03-01"),  # later
            _row("4", "vier@example.org", "price_change", "2027-01-10"),
            _row("5", "vijf@example.org", "", ""),
        ],
    )
    with database.transaction() as s:
        found = {c.customer_number: (c.trigger, c.trigger_on) for c in s.scalars(select(Customer))}
    assert found["1"] == ("discount_ending", date(2027, 1, 5)) and found["5"] == (None, None)
    selection = Selection("discount_ending", date(2027, 1, 1), date(2027, 1, 31))
    with database.transaction() as s:
        preview = run_campaign(
            s, BOSS, "korting-jan", selection, MessageKind.ANNOUNCEMENT, NOW, when="volgende week"
        )
        assert s.scalars(select(Message)).all() == []  # a preview writes nothing
    assert preview.selected == 2 and dict(preview.by_channel) == {"email": 1, "sms": 1}
    assert preview.example is not None and "volgende week" in preview.example["body"]
    for _ in range(2):  # sending twice queues each customer once
        with database.transaction() as s:
            sent = run_campaign(
                s,
                BOSS,
                "korting-jan",
                selection,
                MessageKind.ANNOUNCEMENT,
                NOW,
                when="volgende week",
                send=True,
            )
    assert sent.already_queued == 2 and sent.queued == 0
    with database.transaction() as s:
        keys = sorted(m.idempotency_key for m in s.scalars(select(Message)))
    assert len(keys) == 2 and all(k.startswith("campaign:korting-jan:") for k in keys)


def test_a_bad_trigger_in_the_import_is_refused(database: Database, tmp_path: Path) -> None:
    with pytest.raises(ImportRejected, match="line 2: 'lottery' is not a known trigger"):
        _import(database, tmp_path, [_row("1", "een@example.org", "lottery", "2027-01-05")])
    with database.transaction() as s:
        assert s.scalars(select(Customer)).all() == []


def test_only_a_supervisor_runs_a_campaign_or_changes_the_sending_set_up(
    database: Database,
) -> None:
    with database.transaction() as s:
        add_customer(s, "1")
    with database.transaction() as s, pytest.raises(PermissionDeniedError):
        run_campaign(s, AGENT, "x", Selection("discount_ending"), MessageKind.ANNOUNCEMENT, NOW)
    with database.transaction() as s, pytest.raises(PermissionDeniedError):
        msgs.set_team_setting(s, AGENT, "messages.mail_from", "a@b.nl", NOW)
    with database.transaction() as s, pytest.raises(ValidationError, match="keyring"):
        msgs.set_team_setting(s, BOSS, "messages.smtp_url", "smtp://u:pw@mail.example.nl", NOW)
    with database.transaction() as s:
        msgs.set_team_setting(s, BOSS, "messages.smtp_url", "smtps://mail.example.nl", NOW)
        msgs.set_team_setting(s, BOSS, "messages.mail_from", "desk@example.nl", NOW)
    with database.transaction() as s:
        assert msgs.team_settings(s) == {
            "messages.smtp_url": "smtps://mail.example.nl",
            "messages.mail_from": "desk@example.nl",
        }
        assert s.get(Setting, "messages.smtp_url") is not None


def test_the_nightly_run_can_send_the_messages_too(
    database: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Sending is the nightly's default now (tests/db/test_cli_messages.py has the sends);
    # --no-messages keeps the old run, and the old opt-in flag is still accepted.
    monkeypatch.delenv("AGENT_DESK_SMTP_URL", raising=False)
    monkeypatch.delenv("AGENT_DESK_SMS_URL", raising=False)
    url = database.url.render_as_string(hide_password=False)
    base = ["nightly", "--database", url, "--today", "2026-12-08", "--json"]
    assert main([*base, "--no-messages"]) == 0
    assert "messages" not in json.loads(capsys.readouterr().out)
    assert main([*base, "--send-messages"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["messages"]["sent_total"] == 0 and "held_back" in document["messages"]
    assert document["messages"]["channels"] == []
