"""Early signals and the creditor profile, on SQLite and PostgreSQL.

Each condition of art. 2 Besluit gemeentelijke schuldhulpverlening is taken away in
turn from a customer who is otherwise reportable; an objection stops the signal and a
withdrawal lets it go; the waiting period after the reminder holds it back; an export
records what it wrote and a second run exports nothing again; the 14-day letter of a
creditor with the duty carries the offer; the creditor profile is versioned, audited,
validated and refused to an agent; the CLI speaks the same.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from agent_desk.cli import main
from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome, Role
from agent_desk.domain.team_day import local_day
from agent_desk.errors import PermissionDeniedError, ValidationError
from agent_desk.models import (
    Agent,
    AuditEvent,
    CreditorProfileVersion,
    Customer,
    EarlySignal,
    Setting,
)
from agent_desk.services.activity import NextStepInput, log_contact_attempt
from agent_desk.services.actor import SYSTEM, Actor
from agent_desk.services.creditor import add_vat_on_costs, current_profile, history, set_values
from agent_desk.services.customer_file import customer_file
from agent_desk.services.database import Database
from agent_desk.services.importers import import_customers
from agent_desk.services.letters import fourteen_day_letter_data, generate_letter
from agent_desk.services.queue import QueueScope, queue_ids, queue_rows
from agent_desk.services.signal_export import export_signals
from agent_desk.services.signals import due_signals, record_objection, signal_status

NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = local_day(NOW)  # the team's day, as the services count it
HEADER = (
    "customer_number,first_name,last_name,language,segment,mobile,phone,email,street,"
    "house_number,postcode,city,agent,claim_reference,claim_description,principal,due_date"
)


def _url(database: Database) -> str:
    return database.url.render_as_string(hide_password=False)


@dataclass
class Steps:
    contact: bool = True
    debt_help: bool = True
    reminder: bool = True
    offer: bool = True
    letter_days_ago: int = 20
    principal: str = "900.00"
    postcode: str = "3511 AB"
    city: str = "Utrecht"


def _housing(database: Database, *, min_arrears: str = "700.00", wait: str = "14") -> None:
    with database.transaction() as s:
        set_values(
            s,
            SYSTEM,
            {"sector": "housing", "signal_min_arrears": min_arrears, "signal_wait_days": wait},
            NOW,
        )


def _customer(database: Database, tmp: Path, number: str, steps: Steps) -> int:
    """A tenant with rent in arrears since 60 days, taken through ``steps``."""
    due = TODAY - timedelta(days=60)
    path = tmp / f"{number}.csv"
    path.write_text(
        HEADER
        + "\n"
        + f"{number},Jan,Jansen,nl,consumer,06-12345678,,jan@example.org,Oudegracht,1,"
        f"{steps.postcode},{steps.city},,HUUR-{number},Huur,{steps.principal},{due.isoformat()}\n",
        encoding="utf-8",
    )
    with database.transaction() as s:
        import_customers(s, SYSTEM, path, NOW)
        customer_id = int(s.scalar(select(Customer.id).where(Customer.customer_number == number)))
    if steps.contact or steps.debt_help:
        with database.transaction() as s:
            log_contact_attempt(
                s,
                SYSTEM,
                customer_id,
                channel=Channel.PHONE if steps.contact else Channel.LETTER,
                direction=Direction.OUTBOUND,
                outcome=Outcome.REFERRED_DEBT_HELP if steps.debt_help else Outcome.NO_ANSWER,
                note="",
                next_step=NextStepInput(NextStepKind.CALLBACK, NOW + timedelta(days=1)),
                now=NOW - timedelta(days=30),
            )
    if steps.reminder:
        sent_on = TODAY - timedelta(days=steps.letter_days_ago)
        if not steps.offer:  # a reminder from before the creditor had the duty
            with database.transaction() as s:
                set_values(s, SYSTEM, {"sector": "other"}, NOW)
        with database.transaction() as s:
            data = fourteen_day_letter_data(s, number, NOW, "Sanne de Vries", sent_on=sent_on)
            assert data.early_signal_offer is steps.offer
            generate_letter(
                s,
                SYSTEM,
                data,
                tmp / f"{number}.pdf",
                NOW,
                customer_id=customer_id,
                delivery="printed",
                today=TODAY,
            )
        if not steps.offer:
            with database.transaction() as s:
                set_values(s, SYSTEM, {"sector": "housing"}, NOW)
    return customer_id


def _due_numbers(database: Database, **kwargs: object) -> list[str]:
    with database.transaction() as s:
        return [d.customer_number for d in due_signals(s, TODAY, **kwargs)]  # type: ignore[arg-type]


# ------------------------------------------------------------------ each condition


def test_a_tenant_who_passed_every_step_is_reportable(database: Database, tmp_path: Path) -> None:
    _housing(database)
    _customer(database, tmp_path, "800001", Steps())
    with database.transaction() as s:
        (signal,) = due_signals(s, TODAY)
    assert signal.customer_number == "800001"
    assert signal.municipality == "Utrecht" and signal.municipality_source == "postcode"
    assert signal.since == TODAY - timedelta(days=20) + timedelta(days=14)
    assert "offer" in signal.why and "contact" in signal.why and "debt_help" in signal.why


@pytest.mark.parametrize(
    ("missing", "steps"),
    [
        ("contact", Steps(contact=False)),
        ("debt_help", Steps(debt_help=False)),
        ("reminder", Steps(reminder=False)),
        ("offer", Steps(offer=False)),
        ("min_arrears", Steps(principal="300.00")),
        ("waited", Steps(letter_days_ago=5)),
    ],
)
def test_without_one_condition_no_signal_is_due(
    database: Database, tmp_path: Path, missing: str, steps: Steps
) -> None:
    _housing(database)
    customer_id = _customer(database, tmp_path, "800002", steps)
    assert _due_numbers(database) == []
    with database.transaction() as s:
        status = signal_status(s, customer_id, TODAY)
    assert not status.reportability.due
    assert missing in [c.value for c in status.reportability.missing]


def test_a_creditor_without_the_duty_signals_nobody(database: Database, tmp_path: Path) -> None:
    _housing(database)
    _customer(database, tmp_path, "800003", Steps())
    with database.transaction() as s:
        set_values(s, SYSTEM, {"sector": "other"}, NOW)
    assert _due_numbers(database) == []


def test_the_waiting_period_and_minimum_are_team_data(database: Database, tmp_path: Path) -> None:
    _housing(database, wait="30")
    _customer(database, tmp_path, "800004", Steps(letter_days_ago=20))
    assert _due_numbers(database) == []
    _housing(database, wait="20")
    assert _due_numbers(database) == ["800004"]
    _housing(database, wait="20", min_arrears="5000.00")
    assert _due_numbers(database) == []


def test_an_objection_stops_the_signal_and_a_withdrawal_lets_it_go(
    database: Database, tmp_path: Path
) -> None:
    _housing(database)
    customer_id = _customer(database, tmp_path, "800005", Steps())
    with database.transaction() as s:
        record_objection(
            s, SYSTEM, customer_id, on=TODAY - timedelta(days=3), channel="phone", now=NOW
        )
    assert _due_numbers(database) == []
    with database.transaction() as s:
        status = signal_status(s, customer_id, TODAY)
        assert status.objection == ("objection", TODAY - timedelta(days=3), "phone")
        assert "no_objection" in [c.value for c in status.reportability.missing]
        file = customer_file(s, SYSTEM, customer_id, NOW, audit_view=False)
        assert any(i.kind == "signal" and i.summary == "signal_objection" for i in file.timeline)
    with database.transaction() as s:
        record_objection(
            s, SYSTEM, customer_id, on=TODAY, channel="letter", now=NOW, withdrawal=True
        )
    assert _due_numbers(database) == ["800005"]


@pytest.mark.parametrize(
    ("channel", "on", "field"),
    [("pigeon", TODAY, "channel"), ("phone", TODAY + timedelta(days=1), "date")],
)
def test_a_bad_objection_is_refused_beside_its_field(
    database: Database, tmp_path: Path, channel: str, on: date, field: str
) -> None:
    customer_id = _customer(database, tmp_path, "800006", Steps(reminder=False))
    with database.transaction() as s, pytest.raises(ValidationError) as refused:
        record_objection(s, SYSTEM, customer_id, on=on, channel=channel, now=NOW)
    assert refused.value.field == field


def test_an_import_column_records_the_objection_once(database: Database, tmp_path: Path) -> None:
    _housing(database)
    customer_id = _customer(database, tmp_path, "800007", Steps())
    due = TODAY - timedelta(days=60)
    path = tmp_path / "again.csv"
    objected = TODAY - timedelta(days=2)
    path.write_text(
        HEADER
        + ",signal_objection\n"
        + f"800007,Jan,Jansen,nl,consumer,06-12345678,,jan@example.org,Oudegracht,1,3511 AB,"
        f"Utrecht,,HUUR-800007,Huur,900.00,{due.isoformat()},{objected.isoformat()}\n",
        encoding="utf-8",
    )
    for _ in range(2):
        with database.transaction() as s:
            import_customers(s, SYSTEM, path, NOW)
    with database.transaction() as s:
        status = signal_status(s, customer_id, TODAY)
        assert status.objection == ("objection", objected, "import")
        events = s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.customer_id == customer_id, AuditEvent.action == "signal_objection")
        )
        assert events == 1
    assert _due_numbers(database) == []


# ------------------------------------------------------------------ the queue and the letter


def test_the_queue_says_a_signal_is_due(database: Database, tmp_path: Path) -> None:
    _housing(database)
    customer_id = _customer(database, tmp_path, "800008", Steps())
    with database.transaction() as s:
        ids = queue_ids(s, QueueScope(None, include_waiting=True), NOW)
        (row,) = [r for r in queue_rows(s, ids, NOW) if r.customer_id == customer_id]
    assert "signal to the municipality due" in [r.message for r in row.reasons]


def test_the_14_day_letter_of_a_housing_association_offers_the_signal(
    database: Database, tmp_path: Path
) -> None:
    _housing(database, wait="21")
    _customer(database, tmp_path, "800009", Steps())
    text = " ".join(
        page.extract_text() for page in PdfReader(tmp_path / "800009.pdf").pages
    ).replace("\n", " ")
    assert "Hulp van uw gemeente" in text
    assert "Wilt u niet dat wij uw gegevens doorgeven?" in text
    assert "binnen 21 dagen" in text


def test_a_letter_without_the_duty_has_no_offer(database: Database, tmp_path: Path) -> None:
    _customer(database, tmp_path, "800010", Steps(offer=False, contact=False))
    text = " ".join(p.extract_text() for p in PdfReader(tmp_path / "800010.pdf").pages)
    assert "gemeente" not in text.split("Gratis hulp")[0]
    assert "Wilt u niet dat wij uw gegevens doorgeven?" not in text


# ------------------------------------------------------------------ the export


def test_an_export_records_each_signal_and_never_exports_it_twice(
    database: Database, tmp_path: Path
) -> None:
    _housing(database)
    first = _customer(database, tmp_path, "800011", Steps())
    _customer(database, tmp_path, "800012", Steps(postcode="6711 AA", city="Ede"))
    out = tmp_path / "utrecht.csv"
    with database.transaction() as s:
        result = export_signals(s, SYSTEM, "utrecht", out, TODAY, NOW)
    assert result.customer_numbers == ("800011",)
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1
    row = rows[0]
    assert row["creditor_reference"] == "800011" and row["municipality"] == "Utrecht"
    assert row["last_name"] == "Jansen" and row["postcode"] == "3511 AB"
    assert row["phone"] == "+31612345678" and row["email"] == "jan@example.org"
    assert row["signal_date"] == TODAY.isoformat() and row["creditor_sector"] == "housing"
    assert float(row["arrears_amount"]) >= 900  # principal plus costs booked
    assert _due_numbers(database) == ["800012"]  # Ede's is still due
    again = tmp_path / "again.csv"
    with database.transaction() as s:
        second = export_signals(s, SYSTEM, "Utrecht", again, TODAY, NOW)
    assert second.signal_ids == ()
    assert again.read_text(encoding="utf-8").count("\n") == 1  # the header only
    with database.transaction() as s:
        (signal,) = s.scalars(select(EarlySignal).where(EarlySignal.customer_id == first)).all()
        assert signal.sent_on == TODAY and signal.export_file == "utrecht.csv"
        status = signal_status(s, first, TODAY)
        assert status.sent == ((TODAY, "Utrecht"),)
        assert "not_sent" in [c.value for c in status.reportability.missing]
        file = customer_file(s, SYSTEM, first, NOW, audit_view=False)
        (item,) = [i for i in file.timeline if i.summary == "signal_sent"]
        assert item.values["sent_on"] == TODAY.isoformat()
        assert item.values["municipality"] == "Utrecht"


def test_the_database_refuses_a_second_signal_for_the_same_arrears(
    database: Database, tmp_path: Path
) -> None:
    _housing(database)
    customer_id = _customer(database, tmp_path, "800013", Steps())
    with database.transaction() as s:
        export_signals(s, SYSTEM, "Utrecht", tmp_path / "u.csv", TODAY, NOW)
    with pytest.raises(IntegrityError), database.transaction() as s:
        signal = s.scalars(select(EarlySignal).where(EarlySignal.customer_id == customer_id)).one()
        s.add(
            EarlySignal(
                customer_id=customer_id,
                municipality="Utrecht",
                arrears_since=signal.arrears_since,
                arrears_cents=1,
                due_since=TODAY,
                sent_on=TODAY,
                export_file="x.csv",
                export_sha256="",
                sent_at=NOW,
            )
        )
        s.flush()


def test_an_agent_cannot_export(database: Database, tmp_path: Path) -> None:
    agent = _agent(database)
    with database.transaction() as s, pytest.raises(PermissionDeniedError):
        export_signals(s, agent, "Utrecht", tmp_path / "x.csv", TODAY, NOW)


# ------------------------------------------------------------------ the creditor profile


def _agent(database: Database) -> Actor:
    with database.transaction() as s:
        agent = Agent(login="anna", display_name="Anna Agent", role=Role.AGENT.value)
        s.add(agent)
        s.flush()
        return Actor(agent.id, agent.login, agent.display_name, Role.AGENT)


def test_the_profile_is_versioned_and_audited(database: Database) -> None:
    with database.transaction() as s:
        assert current_profile(s).version == 0
        set_values(s, SYSTEM, {"iban": "nl02abna0123456789", "vat_on_costs": "ja"}, NOW)
        set_values(s, SYSTEM, {"signatory": "Team Incasso De Linde"}, NOW)
        set_values(s, SYSTEM, {"signatory": "Team Incasso De Linde"}, NOW)  # no change
    with database.transaction() as s:
        profile = current_profile(s)
        assert profile.version == 2
        assert profile.values["iban"] == "NL02 ABNA 0123 4567 89"
        assert add_vat_on_costs(s) is True  # mirrored to the books' setting
        assert s.get(Setting, "letters.add_vat") is not None
        assert [h.version for h in history(s)] == [2, 1]
        assert history(s)[1].values["signatory"] == "Agent Desk"  # history kept
        details = [
            json.loads(e.detail)
            for e in s.scalars(select(AuditEvent).where(AuditEvent.entity == "creditor_profile"))
        ]
        assert {
            "version": 1,
            "key": "iban",
            "old": "NL91 ABNA 0417 1643 00",
            "new": "NL02 ABNA 0123 4567 89",
        } in details


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("iban", "NL91ABNA0417164301"),
        ("sector", "bakery"),
        ("vat_on_costs", "maybe"),
        ("kvk", "1234"),
        ("payment_link_template", "http://pay.example/{reference}"),
        ("signal_wait_days", "-3"),
        ("signal_min_arrears", "lots"),
        ("colour", "red"),
        ("email", "not-an-address"),
        ("name", ""),
    ],
)
def test_a_bad_value_is_refused_and_nothing_is_written(
    database: Database, key: str, value: str
) -> None:
    with database.transaction() as s, pytest.raises(ValidationError):
        set_values(s, SYSTEM, {"signatory": "Iemand", key: value}, NOW)
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(CreditorProfileVersion)) == 0


def test_an_agent_cannot_change_the_profile(database: Database) -> None:
    agent = _agent(database)
    with database.transaction() as s, pytest.raises(PermissionDeniedError):
        set_values(s, agent, {"sector": "energy"}, NOW)


def test_letters_use_the_profile_and_its_signatory(database: Database, tmp_path: Path) -> None:
    with database.transaction() as s:
        set_values(s, SYSTEM, {"name": "Woonbron Test", "signatory": "Team Huurincasso"}, NOW)
    _customer(database, tmp_path, "800014", Steps(reminder=False))
    with database.transaction() as s:
        data = fourteen_day_letter_data(s, "800014", NOW, SYSTEM.display_name)
    assert data.creditor.name == "Woonbron Test"
    assert data.agent_name == "Team Huurincasso"


# ------------------------------------------------------------------ the commands


def test_the_commands_from_arrears_to_exported_signal(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _url(database)
    run: Callable[..., int] = lambda *argv: main([*argv, "--database", url])  # noqa: E731
    assert run("creditor", "set", "sector", "housing") == 0
    assert run("creditor", "set", "signal_min_arrears", "700") == 0
    assert run("creditor", "set", "iban", "NL00 FOUT") == 1
    assert "not a valid IBAN" in capsys.readouterr().err
    assert run("creditor", "show", "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["values"]["sector"] == "housing" and shown["duties"] == ["early_signal"]
    assert shown["version"] == 2
    _customer(database, tmp_path, "800015", Steps())
    _customer(database, tmp_path, "800016", Steps())
    assert (
        run("objection", "--customer", "800016", "--date", TODAY.isoformat(), "--channel", "email")
        == 0
    )
    capsys.readouterr()
    assert run("signals", "due", "--json") == 0
    due = json.loads(capsys.readouterr().out)
    assert [d["customer_number"] for d in due] == ["800015"]
    assert set(due[0]) >= {"customer_number", "why", "since"}
    out = tmp_path / "signals.csv"
    assert run("signals", "export", "--municipality", "Utrecht", "--out", str(out), "--json") == 0
    assert json.loads(capsys.readouterr().out)["exported"] == 1
    assert run("signals", "export", "--municipality", "Utrecht", "--out", str(out), "--json") == 0
    assert json.loads(capsys.readouterr().out)["exported"] == 0
    assert run("signals", "sent", "--json") == 0
    assert [r["customer_number"] for r in json.loads(capsys.readouterr().out)] == ["800015"]


def test_an_agent_login_cannot_set_the_profile_from_the_command_line(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    _agent(database)
    url = _url(database)
    assert main(["creditor", "set", "sector", "energy", "--as", "anna", "--database", url]) == 1
    assert "supervisor" in capsys.readouterr().err
