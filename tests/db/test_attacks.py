"""The database is the last line: hostile statements on a person's own connection.

Every attack runs as a real login role (an agent, a supervisor) on PostgreSQL, in a
transaction of its own that is committed (so the checks that run at commit run too),
and asserts both the refusal (the SQLSTATE, sometimes the reason) and that nothing
changed: every table of the team database is compared before and after. Attacks
that the database cannot refuse but make harmless are listed in
``test_what_the_database_allows_and_why``.

Beside them: the desk's own work still goes through on the same connections (contact,
note, promise, pause, next step, 14-day letter, arrangement within and outside
policy), supervisors still approve, decline, reassign and import; a second Agent
Desk database on the same server gives nothing to the people of the first; a team
database at revision 0003 keeps its people working after ``db upgrade``; the rules
the guards check against are the Python ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from agent_desk.domain.arrangement_plan import Mode, Terms
from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome, Role
from agent_desk.domain.search_keys import Field
from agent_desk.errors import DatabaseUnavailableError, PermissionDeniedError, ValidationError
from agent_desk.models import (
    Agent,
    Arrangement,
    AuditEvent,
    ChangeLog,
    Customer,
    DemandNotice,
    LedgerEntry,
    NextStep,
    Note,
)
from agent_desk.services import db_rules
from agent_desk.services.activity import (
    NextStepInput,
    add_note,
    log_contact_attempt,
    plan_next_step,
    record_promise,
    set_pause,
)
from agent_desk.services.actor import SYSTEM, actor_for_login
from agent_desk.services.arrangements import (
    agree_arrangement,
    approve_arrangement,
    decline_arrangement,
)
from agent_desk.services.database import Database
from agent_desk.services.derived import refresh_customers
from agent_desk.services.importers import import_customers, import_payments
from agent_desk.services.letters import fourteen_day_letter_data, generate_letter
from agent_desk.services.migrate import alembic_config
from agent_desk.services.opening import Opened
from agent_desk.services.queue_claims import claim_next, release_holds
from agent_desk.services.reassign import ReassignFilter, reassign
from agent_desk.services.search import open_found, search_customers
from agent_desk.services.sync import ChangeCursor
from agent_desk.services.team_security import add_user
from tests.conftest import fresh_pg_database

INSUFFICIENT_PRIVILEGE = "42501"
CHECK_VIOLATION = "23514"
TABLES = (
    "agent",
    "setting",
    "customer",
    "contact_point",
    "claim",
    "contact_attempt",
    "note",
    "promise_to_pay",
    "arrangement",
    "instalment",
    "next_step",
    "letter_sent",
    "payment",
    "ledger_entry",
    "demand_notice",
    "demand_notice_claim",
    "audit_event",
    "change_log",
    "team_rule",
    "agent_desk_guard.rule",
    "agent_desk_guard.interest_rate",
    "customer_search_key",
    # Issue 15 (creditor profile and early signals, migration 0008).
    "creditor_profile",
    "signal_objection",
    "early_signal",
    "message",
)
HEADER = (
    "customer_number,first_name,last_name,language,segment,mobile,phone,email,street,"
    "house_number,postcode,city,agent,claim_reference,claim_description,principal,due_date\n"
)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _today() -> date:
    return _now().date()


# ------------------------------------------------------------------------- the world


@dataclass
class World:
    """Two Agent Desk databases on one server, with people, customers and books."""

    owner_url: str  # team 1
    other_url: str  # team 2, on the same server
    prefix: str
    ids: dict[str, Any] = field(default_factory=dict)
    engines: dict[tuple[str, int], Engine] = field(default_factory=dict)

    @property
    def agent(self) -> str:
        return f"{self.prefix}agent"

    @property
    def other(self) -> str:
        return f"{self.prefix}other"

    @property
    def supervisor(self) -> str:
        return f"{self.prefix}super"

    def owner(self, team: int = 1) -> str:
        return self.owner_url if team == 1 else self.other_url

    def url_for(self, login: str, team: int = 1) -> URL:
        return make_url(self.owner(team)).set(username=login)

    def engine(self, login: str, team: int = 1) -> Engine:
        """The login's engine (``"owner"``: the owner's), kept for the module."""
        key = (login, team)
        if key not in self.engines:
            url = make_url(self.owner(team)) if login == "owner" else self.url_for(login, team)
            self.engines[key] = create_engine(url)
        return self.engines[key]

    def desk(self, login: str) -> Database:
        return Database(self.url_for(login))


def _csv(tmp: Path, name: str, rows: list[str]) -> Path:
    path = tmp / name
    path.write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def _row(number: str, login: str, reference: str, principal: str, due: date) -> str:
    return (
        f"{number},Klant,{number},nl,consumer,06-12345678,,,Dorpsstraat,4,1234AB,Ede,"
        f"{login},{reference},Energie,{principal},{due.isoformat()}"
    )


def _drop_roles(url: str, prefix: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for name in connection.scalars(
            text("SELECT rolname FROM pg_roles WHERE rolname LIKE :p"), {"p": prefix + "%"}
        ).all():
            connection.execute(text(f'DROP OWNED BY "{name}"'))
            connection.execute(text(f'DROP ROLE "{name}"'))
    engine.dispose()


def _id(session: Any, model: Any, **where: Any) -> int:
    statement = select(model.id)
    for name, value in where.items():
        statement = statement.where(getattr(model, name) == value)
    return int(session.scalars(statement.order_by(model.id)).first())


def _customer_ids(world: World) -> None:
    with Database(world.owner_url) as owner, owner.transaction() as s:
        for key, number in (
            ("mine", "A-1"),
            ("fresh", "A-2"),
            ("pending_customer", "A-3"),
            ("declined_customer", "A-4"),
            ("work", "A-5"),
            ("agree", "A-6"),
            ("letter", "A-7"),
            ("backdated", "A-8"),
            ("theirs", "B-1"),
            ("pay", "B-2"),
            ("move", "B-3"),
        ):
            customer = s.scalar(select(Customer).where(Customer.customer_number == number))
            assert customer is not None
            world.ids[key] = customer.id
        world.ids["me"] = _id(s, Agent, login=world.agent)
        world.ids["other"] = _id(s, Agent, login=world.other)
        world.ids["sup"] = _id(s, Agent, login=world.supervisor)
        for key in ("mine", "fresh", "theirs"):
            world.ids[f"{key}_claim"] = int(
                s.execute(
                    text("SELECT id FROM claim WHERE customer_id = :c ORDER BY due_date LIMIT 1"),
                    {"c": world.ids[key]},
                ).scalar_one()
            )


def _build(world: World, tmp: Path) -> None:
    today = _today()
    now = _now()
    with Database(world.owner_url) as owner, owner.transaction() as s:
        add_user(s, SYSTEM, world.agent, "Agent Eén", Role.AGENT)
        add_user(s, SYSTEM, world.other, "Agent Twee", Role.AGENT)
        add_user(s, SYSTEM, world.supervisor, "Super Visor", Role.SUPERVISOR)
    a, b = world.agent, world.other
    rows = [
        _row("A-1", a, "A-1-1", "600.00", today - timedelta(days=60)),
        _row("A-1", a, "A-1-2", "200.00", today - timedelta(days=30)),
        _row("A-2", a, "A-2-1", "500.00", today - timedelta(days=1)),
        _row("A-3", a, "A-3-1", "900.00", today - timedelta(days=45)),
        _row("A-4", a, "A-4-1", "400.00", today - timedelta(days=50)),
        _row("A-5", a, "A-5-1", "300.00", today - timedelta(days=40)),
        _row("A-6", a, "A-6-1", "1200.00", today - timedelta(days=70)),
        _row("A-7", a, "A-7-1", "350.00", today - timedelta(days=35)),
        _row("A-8", a, "A-8-1", "150.00", today - timedelta(days=80)),
        _row("B-1", b, "B-1-1", "700.00", today - timedelta(days=40)),
        _row("B-2", b, "B-2-1", "250.00", today - timedelta(days=20)),
        _row("B-3", b, "B-3-1", "150.00", today - timedelta(days=10)),
    ]
    with Database(world.owner_url) as owner:
        with owner.transaction() as s:
            import_customers(s, SYSTEM, _csv(tmp, "customers.csv", rows), now)
        _customer_ids(world)
        ids = world.ids
        with owner.transaction() as s:
            # The nightly run booked the costs of a 14-day letter on A-1 (the owner is trusted).
            s.execute(
                text(
                    "INSERT INTO ledger_entry (customer_id, claim_id, kind, part, amount_cents, "
                    "booked_on, created_at, note) VALUES (:c, :k, 'costs', 'costs', 4000, "
                    ":on, now(), 'nightly')"
                ),
                {"c": ids["mine"], "k": ids["mine_claim"], "on": today - timedelta(days=5)},
            )
            # A colleague's note on the agent's customer (written before a reassignment).
            s.add(Note(customer_id=ids["mine"], agent_id=ids["other"], at=now, text="van Twee"))
            s.flush()
            refresh_customers(s, [ids["mine"]])

    start = today + timedelta(days=10)
    with world.desk(a) as desk:
        for key, count, waive_costs, waive_interest in (
            ("mine", 61, True, False),  # outside policy: waits for a supervisor
            ("pending_customer", 70, False, False),
            ("declined_customer", 65, False, True),
        ):
            with desk.transaction() as s:
                ids[f"{key}_arrangement"] = agree_arrangement(
                    s,
                    actor_for_login(s, a),
                    ids[key],
                    now=_now(),
                    terms=Terms(
                        Mode.COUNT,
                        start,
                        count=count,
                        waive_costs=waive_costs,
                        waive_interest=waive_interest,
                    ),
                    approval_reason="Klant heeft een laag inkomen.",
                )
    ids["approved"] = ids.pop("mine_arrangement")
    ids["pending"] = ids.pop("pending_customer_arrangement")
    ids["declined"] = ids.pop("declined_customer_arrangement")
    with world.desk(world.supervisor) as boss:
        with boss.transaction() as s:
            actor = actor_for_login(s, world.supervisor)
            approve_arrangement(s, actor, ids["approved"], "Akkoord, laag inkomen.", _now())
        with boss.transaction() as s:
            actor = actor_for_login(s, world.supervisor)
            decline_arrangement(s, actor, ids["declined"], "Eerst inkomsten tonen.", _now())
    with Database(world.owner_url) as owner, owner.transaction() as s:
        ids["approved_instalment"] = int(
            s.execute(
                text("SELECT min(id) FROM instalment WHERE arrangement_id = :a"),
                {"a": ids["approved"]},
            ).scalar_one()
        )
        ids["mine_step"] = int(
            s.execute(
                text("SELECT id FROM next_step WHERE customer_id = :c AND done_at IS NULL"),
                {"c": ids["mine"]},
            ).scalar_one()
        )
        ids["mine_point"] = _id(s, _contact_point_model(), customer_id=ids["mine"])
        ids["colleague_note"] = _id(s, Note, customer_id=ids["mine"], agent_id=ids["other"])
        ids["theirs_note"] = _add_theirs_note(s, ids)
        _add_messages(s, ids)  # issue 14: the outbox

    # Team 2: its own people and a customer; a supervisor of team 1 is let in by a
    # mistake (or a copy of the database made for training keeps the grants).
    with Database(world.other_url) as second:
        with second.transaction() as s:
            add_user(s, SYSTEM, f"{world.prefix}c_agent", "Agent Drie", Role.AGENT)
            add_user(s, SYSTEM, f"{world.prefix}c_super", "Super Twee", Role.SUPERVISOR)
        with second.transaction() as s:
            import_customers(
                s,
                SYSTEM,
                _csv(
                    tmp,
                    "second.csv",
                    [_row("C-1", f"{world.prefix}c_agent", "C-1-1", "100.00", today)],
                ),
                now,
            )
        with second.engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO setting (key, value, updated_at, version) "
                    "VALUES ('creditor_pays_vat', 'true', now(), 1)"
                )
            )
            database = c.scalar(text("SELECT current_database()"))
            c.execute(text(f'GRANT CONNECT ON DATABASE "{database}" TO "{world.supervisor}"'))
    _build_signals(world)


def _contact_point_model() -> Any:
    from agent_desk.models import ContactPoint

    return ContactPoint


def _add_theirs_note(session: Any, ids: dict[str, Any]) -> int:
    note = Note(customer_id=ids["theirs"], agent_id=ids["other"], at=_now(), text="privé")
    session.add(note)
    session.flush()
    return int(note.id)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    prefix = f"x{uuid.uuid4().hex[:8]}_"
    with (
        fresh_pg_database("agent_desk_attacks") as first,
        fresh_pg_database("agent_desk_attacks_other") as second,
    ):
        url1 = first.render_as_string(hide_password=False)
        url2 = second.render_as_string(hide_password=False)
        for url in (url1, url2):
            database = Database(url)
            database.upgrade()
            database.dispose()
        state = World(url1, url2, prefix)
        try:
            _build(state, tmp_path_factory.mktemp("attacks"))
            yield state
        finally:
            for engine in state.engines.values():
                engine.dispose()
            _drop_roles(url1, prefix)


# ---------------------------------------------------------------------------- attacks


@dataclass(frozen=True)
class Attack:
    name: str
    who: str  # agent | supervisor
    statements: tuple[str, ...]
    expect: str  # a SQLSTATE, or "nothing": goes through but touches or shows nothing
    reason: str = ""  # a piece of the server's message
    team: int = 1  # 2: the other Agent Desk database on the server


def _a(name: str, expect: str, *statements: str, reason: str = "") -> Attack:
    return Attack(name, "agent", statements, expect, reason)


def _s(name: str, expect: str, *statements: str, reason: str = "", team: int = 1) -> Attack:
    return Attack(name, "supervisor", statements, expect, reason, team)


DENIED = INSUFFICIENT_PRIVILEGE
WRONG = CHECK_VIOLATION
NOTHING = "nothing"
_ARRANGEMENT = (
    "INSERT INTO arrangement (customer_id, agent_id, created_at, frequency, principal_cents, "
    "costs_cents, interest_cents, costs_waived, interest_waived, total_cents, status, "
    "approval_needed_reason, version) VALUES ({customer}, {agent}, {created}, 'monthly', "
    "{principal}, {costs}, {interest}, {costs_waived}, {interest_waived}, {total}, '{status}', "
    "{reason}, 1)"
)
_LAST_ARRANGEMENT = "currval(pg_get_serial_sequence('arrangement', 'id'))"


def _arrangement(
    customer: str = ":fresh",
    *,
    agent: str = ":me",
    created: str = "now()",
    principal: int = 50_000,
    costs: int = 0,
    interest: int = 0,
    costs_waived: bool = False,
    interest_waived: bool = False,
    total: int | None = None,
    status: str = "active",
    reason: str = "NULL",
) -> str:
    if total is None:
        total = principal + (0 if costs_waived else costs) + (0 if interest_waived else interest)
    return _ARRANGEMENT.format(
        customer=customer,
        agent=agent,
        created=created,
        principal=principal,
        costs=costs,
        interest=interest,
        costs_waived=str(costs_waived).lower(),
        interest_waived=str(interest_waived).lower(),
        total=total,
        status=status,
        reason=reason,
    )


def _instalments(count: int, total: int, first_in_days: int = 10) -> str:
    each = total // count
    last = total - each * (count - 1)
    return (
        "INSERT INTO instalment (arrangement_id, number, due_date, amount_cents, paid_cents, "
        f"status, version) SELECT {_LAST_ARRANGEMENT}, n, current_date + {first_in_days} + "
        f"(n - 1) * 30, CASE WHEN n < {count} THEN {each} ELSE {last} END, 0, 'open', 1 "
        f"FROM generate_series(1, {count}) AS n"
    )


def _entry(
    kind: str,
    part: str,
    amount: int,
    *,
    customer: str = ":mine",
    claim: str = ":mine_claim",
    arrangement: str = "NULL",
    agent: str = "NULL",
    payment: str = "NULL",
    through: str = "NULL",
) -> str:
    return (
        "INSERT INTO ledger_entry (customer_id, claim_id, kind, part, amount_cents, booked_on, "
        "interest_through, payment_id, arrangement_id, agent_id, created_at, note) VALUES "
        f"({customer}, {claim}, '{kind}', '{part}', {amount}, current_date, {through}, "
        f"{payment}, {arrangement}, {agent}, now(), 'forged')"
    )


def _notice(sent: str, received: str, term: str, letter: str = "NULL") -> str:
    return (
        "INSERT INTO demand_notice (customer_id, letter_id, agent_id, sent_on, channel, "
        "received_on, term_ends, principal_named_cents, costs_named_cents, vat_named_cents, "
        f"status, costs_booked_cents, created_at) VALUES (:mine, {letter}, :me, {sent}, 'post', "
        f"{received}, {term}, 60000, 9000, 0, 'running', 0, now())"
    )


_LETTER = (
    "INSERT INTO letter_sent (customer_id, agent_id, at, template, template_version, sha256, "
    "parameters, delivery) VALUES (:mine, :me, now(), 'fourteen_day', '1', repeat('0', 64), "
    "'{}', 'printed')"
)
_AUDIT = (
    "INSERT INTO audit_event (at, agent_id, action, entity, entity_id, customer_id, detail) "
    "VALUES (now(), {agent}, 'view', 'customer', {entity}, {customer}, 'forged')"
)
_CHANGE = "SELECT agent_desk_log_changes(ARRAY[{t}], ARRAY[{r}]::bigint[], ARRAY[{k}], ARRAY[{c}]::bigint[])"

AGENT_ATTACKS = [
    # --- the nine of issue 12 (those of an agent's connection)
    _a(
        "rewrite the terms of an approved arrangement",
        DENIED,
        "UPDATE arrangement SET principal_cents = 1, total_cents = 1, costs_waived = true "
        "WHERE id = :approved",
    ),
    _a(
        "insert an active waived arrangement of 1 cent",
        WRONG,
        _arrangement(principal=1, costs=4000, costs_waived=True, interest_waived=True),
        _instalments(1, 1),
        reason="not what the books say",
    ),
    _a(
        "zero the derived queue columns and pause for ever",
        DENIED,
        "UPDATE customer SET arrears_cents = 0, queue_bucket = 9, paused_until = '2099-01-01', "
        "vulnerable = false WHERE id = :mine",
        reason="queue columns follow the books",
    ),
    _a(
        "write an audit event about a colleague's customer",
        DENIED,
        _AUDIT.format(agent=":me", entity=":theirs", customer=":theirs"),
    ),
    _a(
        "read the change log of a colleague's customer",
        NOTHING,
        "SELECT id FROM change_log WHERE customer_id = :theirs",
    ),
    _a(
        "insert a change-log row",
        DENIED,
        "INSERT INTO change_log (at, table_name, row_id, kind, customer_id) "
        "VALUES (now(), 'customer', :theirs, 'update', :theirs)",
    ),
    # --- arrangements
    _a(
        "shrink an approved arrangement's instalment",
        DENIED,
        "UPDATE instalment SET amount_cents = 1 WHERE id = :approved_instalment",
    ),
    _a(
        "add an instalment to an approved arrangement",
        DENIED,
        "INSERT INTO instalment (arrangement_id, number, due_date, amount_cents, paid_cents, "
        "status, version) VALUES (:approved, 99, current_date + 400, 1, 0, 'open', 1)",
        reason="with their arrangement",
    ),
    _a("delete an approved arrangement's instalments", DENIED, "DELETE FROM instalment"),
    _a(
        "mark the waiting arrangement active",
        DENIED,
        "UPDATE arrangement SET status = 'active' WHERE id = :pending",
    ),
    _a(
        "approve the waiting arrangement oneself",
        DENIED,
        "UPDATE arrangement SET approved_by_id = :me, approved_at = now(), "
        "approval_note = 'ok' WHERE id = :pending",
    ),
    _a(
        "insert an arrangement that is born approved",
        DENIED,
        "INSERT INTO arrangement (customer_id, agent_id, created_at, frequency, principal_cents, "
        "costs_cents, interest_cents, costs_waived, interest_waived, total_cents, status, "
        "approved_by_id, approved_at, approval_note, version) VALUES (:fresh, :me, now(), "
        "'monthly', 50000, 0, 0, false, false, 50000, 'active', :me, now(), 'self', 1)",
    ),
    _a(
        "insert an active arrangement outside the policy (61 instalments)",
        DENIED,
        _arrangement(),
        _instalments(61, 50_000),
        reason="waits for a supervisor",
    ),
    _a(
        "insert an active arrangement with instalments below the policy minimum",
        DENIED,
        _arrangement(),
        "INSERT INTO instalment (arrangement_id, number, due_date, amount_cents, paid_cents, "
        f"status, version) SELECT {_LAST_ARRANGEMENT}, n, current_date + 10 + n * 7, "
        "CASE WHEN n < 50 THEN 500 ELSE 50000 - 500 * 49 END, 0, 'open', 1 "
        "FROM generate_series(1, 50) AS n",
        reason="policy minimum",
    ),
    _a(
        "insert an arrangement whose instalments do not add up",
        WRONG,
        _arrangement(),
        _instalments(2, 40_000),
        reason="add up to",
    ),
    _a(
        "insert an arrangement whose total is not its parts",
        WRONG,
        _arrangement(total=40_000),
        _instalments(2, 40_000),
        reason="is not the principal",
    ),
    _a(
        "insert an arrangement in a colleague's name",
        DENIED,
        _arrangement(agent=":other"),
        reason="own name",
    ),
    _a(
        "insert an arrangement dated last year",
        DENIED,
        _arrangement(created="now() - interval '1 year'"),
        reason="agreed today",
    ),
    _a(
        "insert a second running arrangement beside the approved one",
        WRONG,
        _arrangement(":mine", principal=80_000, costs=4000, costs_waived=True),
        _instalments(2, 80_000),
    ),
    _a(
        "insert an arrangement for a colleague's customer",
        DENIED,
        _arrangement(":theirs", principal=70_000),
    ),
    _a(
        "insert an arrangement with its first instalment in the past",
        WRONG,
        _arrangement(status="pending_approval", reason="'x'"),
        _instalments(1, 50_000, first_in_days=-30),
        reason="in the past",
    ),
    # --- derived columns and hiding a customer
    _a(
        "hide a customer with queue bucket 9",
        DENIED,
        "UPDATE customer SET queue_bucket = 9 WHERE id = :mine",
    ),
    _a("zero the arrears", DENIED, "UPDATE customer SET arrears_cents = 0 WHERE id = :mine"),
    _a(
        "move the oldest due date",
        DENIED,
        "UPDATE customer SET oldest_due_date = current_date WHERE id = :mine",
    ),
    _a(
        "push the next step to 2099 on the customer row",
        DENIED,
        "UPDATE customer SET next_step_due_at = '2099-01-01' WHERE id = :mine",
    ),
    _a(
        "forge first-time arrears",
        DENIED,
        "UPDATE customer SET first_time_arrears = NOT first_time_arrears WHERE id = :mine",
    ),
    _a(
        "clear the broken and missed flags",
        DENIED,
        "UPDATE customer SET broken_arrangement = NOT broken_arrangement, "
        "missed_instalment = NOT missed_instalment WHERE id = :mine",
    ),
    _a("forge credit", DENIED, "UPDATE customer SET credit_cents = 100000 WHERE id = :mine"),
    _a(
        "pause for 400 days",
        DENIED,
        "UPDATE customer SET paused_until = current_date + 400, pause_reason = 'x' "
        "WHERE id = :mine",
        reason="pause lasts at most",
    ),
    _a(
        "hold a customer for a century",
        DENIED,
        "UPDATE customer SET held_by_agent_id = :me, held_until = now() + interval '100 years' "
        "WHERE id = :mine",
    ),
    _a(
        "hold a customer in a colleague's name",
        DENIED,
        "UPDATE customer SET held_by_agent_id = :other WHERE id = :mine",
    ),
    _a("close a customer", DENIED, "UPDATE customer SET status = 'closed' WHERE id = :mine"),
    _a(
        "unassign a customer",
        DENIED,
        "UPDATE customer SET assigned_agent_id = NULL WHERE id = :mine",
    ),
    _a(
        "set a next step in 2099",
        DENIED,
        "INSERT INTO next_step (customer_id, kind, due_at, assigned_agent_id, note, "
        "created_by_id, created_at, version) VALUES (:mine, 'review', '2099-01-01', :me, '', "
        ":me, now(), 1)",
        reason="days ahead",
    ),
    _a(
        "move the open next step to 2099",
        DENIED,
        "UPDATE next_step SET due_at = '2099-01-01' WHERE id = :mine_step",
    ),
    _a(
        "set a next step in a colleague's name",
        DENIED,
        "INSERT INTO next_step (customer_id, kind, due_at, assigned_agent_id, note, "
        "created_by_id, created_at, version) VALUES (:mine, 'review', now() + interval '1 day', "
        ":me, '', :other, now(), 1)",
    ),
    _a(
        "mark a claim paid in its cache",
        DENIED,
        "UPDATE claim SET paid_cents = 60000 WHERE id = :mine_claim",
        reason="paid_cents follows",
    ),
    _a(
        "mark a claim settled",
        DENIED,
        "UPDATE claim SET settled_on = current_date WHERE id = :mine_claim",
    ),
    _a("lower a claim's principal", DENIED, "UPDATE claim SET principal_cents = 1"),
    # --- the books
    _a(
        "book a payment",
        DENIED,
        _entry("payment", "principal", -60_000),
        reason="payments come from the import",
    ),
    _a("book a correction of the principal", DENIED, _entry("correction", "principal", -60_000)),
    _a("book costs", DENIED, _entry("costs", "costs", 100_000)),
    _a("book credit", DENIED, _entry("credit", "credit", 100_000, claim="NULL")),
    _a("book negative interest", DENIED, _entry("interest", "interest", -5_000)),
    _a("waive costs without an arrangement", DENIED, _entry("waiver", "costs", -4_000)),
    _a(
        "waive costs with the approved arrangement of last week",
        DENIED,
        _entry("waiver", "costs", -100, arrangement=":approved"),
        reason="same transaction",
    ),
    _a(
        "book in a colleague's name",
        DENIED,
        _entry("interest", "interest", 1, agent=":other"),
        reason="own name",
    ),
    _a(
        "book interest far above the statutory rates with a new arrangement",
        WRONG,
        _arrangement(interest=10_000_000, status="pending_approval", reason="'laag inkomen'"),
        _instalments(1, 10_050_000),
        _entry(
            "interest",
            "interest",
            10_000_000,
            customer=":fresh",
            claim=":fresh_claim",
            arrangement=_LAST_ARRANGEMENT,
            through="current_date",
        ),
        reason="statutory rates",
    ),
    _a(
        "waive more than is open with a new arrangement",
        WRONG,
        _arrangement(costs=500_000, costs_waived=True, status="pending_approval", reason="'x'"),
        _instalments(1, 50_000),
        _entry(
            "waiver",
            "costs",
            -500_000,
            customer=":fresh",
            claim=":fresh_claim",
            arrangement=_LAST_ARRANGEMENT,
        ),
    ),
    _a("rewrite a ledger entry", DENIED, "UPDATE ledger_entry SET amount_cents = 0"),
    _a("delete the ledger", DENIED, "DELETE FROM ledger_entry"),
    _a(
        "insert a payment",
        DENIED,
        "INSERT INTO payment (reference, customer_id, amount_cents, paid_on, created_at, source) "
        "VALUES ('forged', :mine, 80000, current_date, now(), 'import')",
    ),
    _a(
        "record a 14-day letter sent two years ago (costs owed at once)",
        DENIED,
        _notice("current_date - 730", "current_date - 726", "current_date - 712"),
        reason="last 31 days",
    ),
    _a(
        "record a 14-day letter with a one-day term",
        WRONG,
        _notice("current_date", "current_date", "current_date + 1"),
        reason="full term",
    ),
    _a(
        "record a 14-day letter that was never written",
        DENIED,
        _notice("current_date", "current_date + 4", "current_date + 18"),
        reason="letter just written",
    ),
    _a(
        "name a colleague's claim in one's own 14-day letter",
        WRONG,
        _LETTER,
        _notice(
            "current_date",
            "current_date + 4",
            "current_date + 18",
            letter="currval(pg_get_serial_sequence('letter_sent', 'id'))",
        ),
        "INSERT INTO demand_notice_claim (notice_id, claim_id, principal_named_cents) VALUES "
        "(currval(pg_get_serial_sequence('demand_notice', 'id')), :theirs_claim, 70000)",
        reason="claim of its customer",
    ),
    _a(
        "name more than is open in one's own 14-day letter",
        WRONG,
        _LETTER,
        _notice(
            "current_date",
            "current_date + 4",
            "current_date + 18",
            letter="currval(pg_get_serial_sequence('letter_sent', 'id'))",
        ),
        "INSERT INTO demand_notice_claim (notice_id, claim_id, principal_named_cents) VALUES "
        "(currval(pg_get_serial_sequence('demand_notice', 'id')), :mine_claim, 9000000)",
        reason="at most what is open",
    ),
    _a(
        "mark a 14-day letter's costs booked",
        DENIED,
        "UPDATE demand_notice SET status = 'costs_booked', costs_booked_cents = 0",
    ),
    _a(
        "mark a promise kept",
        DENIED,
        "UPDATE promise_to_pay SET status = 'kept'",
    ),
    _a(
        "record a kept-rate promise made a year ago for one cent",
        DENIED,
        "INSERT INTO promise_to_pay (customer_id, agent_id, created_at, amount_cents, due_date, "
        "status, paid_cents, version) VALUES (:mine, :me, now() - interval '1 year', 1, "
        "current_date - 360, 'open', 0, 1)",
    ),
    _a(
        "log a contact attempt in a colleague's name",
        DENIED,
        "INSERT INTO contact_attempt (customer_id, agent_id, at, channel, direction, outcome, "
        "note) VALUES (:mine, :other, now(), 'phone', 'outbound', 'reached', 'forged')",
    ),
    _a(
        "verify a phone number in a colleague's name",
        DENIED,
        "UPDATE contact_point SET verified_by_id = :other, verified_at = now() "
        "WHERE id = :mine_point",
    ),
    _a(
        "date one's own verification in the future (out of the stale count for good)",
        WRONG,
        "UPDATE contact_point SET verified_by_id = :me, verified_at = '2099-01-01' "
        "WHERE id = :mine_point",
        reason="contact details are verified now",
    ),
    _s(
        "date a verification in the future as a supervisor",
        WRONG,
        "UPDATE contact_point SET verified_by_id = :sup, verified_at = now() + interval '2 days' "
        "WHERE id = :mine_point",
        reason="contact details are verified now",
    ),
    _a(
        "rewrite a colleague's note",
        NOTHING,
        "UPDATE note SET text = 'herschreven' WHERE id = :colleague_note",
    ),
    # --- audit
    _a(
        "audit a view of a colleague's customer without naming the customer",
        DENIED,
        _AUDIT.format(agent=":me", entity=":theirs", customer="NULL"),
    ),
    _a(
        "audit in a colleague's name",
        DENIED,
        _AUDIT.format(agent=":other", entity=":mine", customer=":mine"),
    ),
    _a("rewrite the audit trail", DENIED, "UPDATE audit_event SET detail = 'rewritten'"),
    _a("delete the audit trail", DENIED, "DELETE FROM audit_event"),
    _a("truncate the audit trail", DENIED, "TRUNCATE audit_event"),
    # --- change log and notifications
    _a(
        "log a change of a colleague's customer through the function",
        DENIED,
        _CHANGE.format(t="'customer'", r=":theirs", k="'update'", c=":theirs"),
        reason="own customers",
    ),
    _a(
        "log a delete of one's own customer",
        DENIED,
        _CHANGE.format(t="'customer'", r=":mine", k="'delete'", c=":mine"),
    ),
    _a(
        "log a change of a row that does not exist",
        DENIED,
        _CHANGE.format(t="'note'", r="999999999", k="'insert'", c=":mine"),
    ),
    _a(
        "log a change of the settings",
        DENIED,
        _CHANGE.format(t="'setting'", r="1", k="'update'", c="NULL"),
    ),
    _a("rewrite the change log", DENIED, "UPDATE change_log SET kind = 'delete'"),
    _a("delete the change log", DENIED, "DELETE FROM change_log"),
    _a(
        "count the team's changes through the sequence",
        DENIED,
        "SELECT nextval(pg_get_serial_sequence('change_log', 'id'))",
    ),
    # --- other agents' customers
    _a("read a colleague's customer", NOTHING, "SELECT * FROM customer WHERE id = :theirs"),
    _a(
        "read a colleague's notes",
        NOTHING,
        "SELECT * FROM note WHERE customer_id = :theirs",
    ),
    _a(
        "read a colleague's books",
        NOTHING,
        "SELECT * FROM ledger_entry WHERE customer_id = :theirs",
    ),
    _a(
        "read a colleague's audit trail",
        NOTHING,
        "SELECT * FROM audit_event WHERE customer_id = :theirs AND agent_id IS DISTINCT FROM :me",
    ),
    _a(
        "update a colleague's customer",
        NOTHING,
        "UPDATE customer SET best_time = 'evening' WHERE id = :theirs",
    ),
    _a(
        "write a note on a colleague's customer",
        DENIED,
        "INSERT INTO note (customer_id, agent_id, at, text, version) "
        "VALUES (:theirs, :me, now(), 'x', 1)",
    ),
    _a(
        "take a colleague's customer by holding it",
        NOTHING,
        "UPDATE customer SET held_by_agent_id = :me WHERE id = :theirs",
    ),
    # --- the server itself
    _a("become a supervisor", DENIED, "SET ROLE agent_desk_supervisor"),
    _a("become the superuser", DENIED, "SET ROLE postgres"),
    _a(
        "make oneself a supervisor in the people table",
        DENIED,
        "UPDATE agent SET role = 'supervisor'",
    ),
    _a(
        "add oneself to the supervisors' group",
        DENIED,
        "GRANT agent_desk_supervisor TO CURRENT_USER",
    ),
    _a("bypass row-level security", DENIED, "ALTER ROLE CURRENT_USER BYPASSRLS"),
    _a(
        "switch row-level security off for the table",
        DENIED,
        "ALTER TABLE customer DISABLE ROW LEVEL SECURITY",
    ),
    _a(
        "switch row-level security off for the session",
        DENIED,
        "SET row_security = off",
        "SELECT * FROM customer",
    ),
    _a("drop the policy", DENIED, "DROP POLICY agent_own ON customer"),
    _a("drop the guard", DENIED, "DROP TRIGGER guard_derived ON customer"),
    _a("skip the triggers", DENIED, "SET session_replication_role = replica"),
    _a("truncate the customers", DENIED, "TRUNCATE customer CASCADE"),
    _a("truncate the books", DENIED, "TRUNCATE ledger_entry"),
    _a("create a table to shadow one", DENIED, "CREATE TABLE public.customer_shadow (id int)"),
    _a("create a temporary table", DENIED, "CREATE TEMP TABLE shadow (id int)"),
    _a(
        "call a guard function directly",
        DENIED,
        "SELECT agent_desk_guard.interest_cap(:mine_claim)",
    ),
    _a("write the policy", DENIED, "UPDATE setting SET value = '{}'"),
    _a(
        "add a person",
        DENIED,
        "INSERT INTO agent (login, display_name, role, active, created_at, version) "
        "VALUES ('intruder', 'X', 'supervisor', true, now(), 1)",
    ),
    _a("run a program on the server", DENIED, "COPY customer TO PROGRAM 'id'"),
    _a("read a server file", DENIED, "SELECT pg_read_file('/etc/passwd')"),
]

SUPERVISOR_ATTACKS = [
    _s(
        "rewrite the terms of an approved arrangement",
        DENIED,
        "UPDATE arrangement SET principal_cents = 1, total_cents = 1, costs_waived = true "
        "WHERE id = :approved",
        reason="never change",
    ),
    _s(
        "shrink an approved arrangement's instalment",
        DENIED,
        "UPDATE instalment SET amount_cents = 1 WHERE id = :approved_instalment",
        reason="never change",
    ),
    _s(
        "bring a declined arrangement back to life",
        DENIED,
        "UPDATE arrangement SET status = 'active' WHERE id = :declined",
    ),
    _s(
        "approve in an agent's name",
        DENIED,
        "UPDATE arrangement SET status = 'active', approved_by_id = :me, approved_at = now(), "
        "approval_note = 'ok' WHERE id = :pending",
        reason="their own name",
    ),
    _s(
        "approve without a note",
        DENIED,
        "UPDATE arrangement SET status = 'active', approved_by_id = :sup, approved_at = now(), "
        "approval_note = ' ' WHERE id = :pending",
    ),
    _s(
        "rewrite who approved",
        DENIED,
        "UPDATE arrangement SET approved_by_id = NULL WHERE id = :approved",
    ),
    _s(
        "insert an arrangement whose instalments do not add up",
        WRONG,
        _arrangement(":fresh", agent=":sup"),
        _instalments(2, 40_000),
    ),
    _s(
        "insert a 1-cent arrangement that is not the books",
        WRONG,
        _arrangement(":fresh", agent=":sup", principal=1),
        _instalments(1, 1),
        reason="not what the books say",
    ),
    _s(
        "zero a customer's derived columns",
        DENIED,
        "UPDATE customer SET arrears_cents = 0, queue_bucket = 9 WHERE id = :mine",
    ),
    _s("mark a claim unpaid in its cache", DENIED, "UPDATE claim SET paid_cents = 12345"),
    _s("delete a customer", DENIED, "DELETE FROM customer WHERE id = :mine"),
    _s("delete an arrangement", DENIED, "DELETE FROM arrangement WHERE id = :approved"),
    _s("rewrite a ledger entry", DENIED, "UPDATE ledger_entry SET amount_cents = 0"),
    _s("delete the ledger", DENIED, "DELETE FROM ledger_entry"),
    _s(
        "book a positive payment",
        WRONG,
        _entry("payment", "principal", 5_000, agent=":sup"),
    ),
    _s(
        "book credit on a claim",
        WRONG,
        _entry("credit", "credit", 5_000),
    ),
    _s(
        "book an entry on another customer's claim",
        DENIED,
        _entry("costs", "costs", 100, customer=":mine", claim=":theirs_claim"),
    ),
    _s(
        "book interest far above the statutory rates",
        WRONG,
        _entry(
            "interest",
            "interest",
            5_000_000,
            customer=":theirs",
            claim=":theirs_claim",
            through="current_date",
        ),
        reason="statutory rates",
    ),
    _s(
        "waive more than is open",
        WRONG,
        _entry("waiver", "costs", -100_000, customer=":theirs", claim=":theirs_claim"),
        reason="more paid or waived than is open",
    ),
    _s("book in an agent's name", DENIED, _entry("interest", "interest", 1, agent=":me")),
    _s("rewrite the audit trail", DENIED, "UPDATE audit_event SET detail = 'rewritten'"),
    _s("delete the audit trail", DENIED, "DELETE FROM audit_event"),
    _s("truncate the audit trail", DENIED, "TRUNCATE audit_event"),
    _s(
        "audit in an agent's name",
        DENIED,
        _AUDIT.format(agent=":me", entity=":mine", customer=":mine"),
    ),
    _s(
        "insert a change-log row",
        DENIED,
        "INSERT INTO change_log (at, table_name, row_id, kind, customer_id) "
        "VALUES (now(), 'customer', :mine, 'delete', :mine)",
    ),
    _s("switch row-level security off", DENIED, "ALTER TABLE customer DISABLE ROW LEVEL SECURITY"),
    _s("become an agent", DENIED, "SET ROLE agent_desk_agent"),
    _s("skip the triggers", DENIED, "SET session_replication_role = replica"),
    _s("drop the guard", DENIED, "DROP TRIGGER guard_terms ON arrangement"),
    _s("truncate the customers", DENIED, "TRUNCATE customer CASCADE"),
    _s("take over an agent's login", DENIED, "UPDATE agent SET login = 'x' WHERE id = :me"),
    # --- a second Agent Desk database on the same server (team 2), reached anyway
    _s("read another team's customers", NOTHING, "SELECT * FROM customer", team=2),
    _s(
        "update another team's customers",
        NOTHING,
        "UPDATE customer SET assigned_agent_id = NULL, best_time = 'x'",
        team=2,
    ),
    _s("read another team's people", NOTHING, "SELECT * FROM agent", team=2),
    _s("read another team's settings", NOTHING, "SELECT * FROM setting", team=2),
    _s("read another team's change log", NOTHING, "SELECT * FROM change_log", team=2),
    _s("read another team's books", NOTHING, "SELECT * FROM ledger_entry", team=2),
    _s(
        "write another team's notes",
        DENIED,
        "INSERT INTO note (customer_id, agent_id, at, text, version) "
        "SELECT min(id), NULL, now(), 'x', 1 FROM claim",
        team=2,
    ),
    _s(
        "write another team's audit trail",
        DENIED,
        "INSERT INTO audit_event (at, agent_id, action, entity, detail) "
        "VALUES (now(), NULL, 'view', 'customer', 'x')",
        team=2,
    ),
    _s(
        "write another team's change log",
        DENIED,
        _CHANGE.format(t="'customer'", r="1", k="'update'", c="1"),
        team=2,
    ),
    _s(
        "add oneself to another team",
        DENIED,
        "INSERT INTO agent (login, display_name, role, active, created_at, version) "
        "VALUES (current_user, 'X', 'supervisor', true, now(), 1)",
        team=2,
    ),
]

# --- issue 15: the team's rules (policy, rates, scripts, letter texts); agents read only,
# supervisors add versions in their own name, one after the other, never rewrite.
_RULE = (
    "INSERT INTO team_rule (kind, key, version, body, guard_values, reason, changed_by_id, "
    "changed_at) VALUES ('{kind}', '{key}', {version}, 'x', '{values}', 'attack', {who}, now())"
)
_NEXT = "(SELECT max(version) + 1 FROM team_rule WHERE kind = '{kind}' AND key = '{key}')"
_ME_ID = "(SELECT agent_desk_current_agent_id())"
TEAM_RULE_ATTACKS = [
    _a(
        "raise the policy's limits",
        DENIED,
        _RULE.format(
            kind="policy",
            key="arrangements",
            version=_NEXT.format(kind="policy", key="arrangements"),
            values='{"max_instalments": 999}',
            who=_ME_ID,
        ),
    ),
    _a("rewrite a call script", DENIED, "UPDATE team_rule SET body = 'x' WHERE kind = 'script'"),
    _a("delete the rates", DENIED, "DELETE FROM team_rule WHERE kind = 'rates'"),
    _a("truncate the team rules", DENIED, "TRUNCATE team_rule"),
    _a("set the guards' numbers", DENIED, "UPDATE agent_desk_guard.rule SET value = 999"),
    _a("set the guards' rates", DENIED, "DELETE FROM agent_desk_guard.interest_rate"),
    _a("run the rules trigger", DENIED, "SELECT agent_desk_guard.team_rule_to_guards()"),
    _s("rewrite the rules' history", DENIED, "UPDATE team_rule SET reason = 'forged'"),
    _s("delete the rules' history", DENIED, "DELETE FROM team_rule"),
    _s(
        "a rule in a colleague's name",
        DENIED,
        _RULE.format(
            kind="letter",
            key="nl/common.closing",
            version=1,
            values="",
            who="(SELECT min(id) FROM agent WHERE login <> current_user)",
        ),
    ),
    _s(
        "skip versions of the policy",
        WRONG,
        _RULE.format(kind="policy", key="arrangements", version=99, values="", who=_ME_ID),
        reason="next version",
    ),
    _s(
        "replace version 1 of the rates",
        WRONG,
        _RULE.format(
            kind="rates", key="statutory_interest_consumer", version=1, values="", who=_ME_ID
        ),
        reason="next version",
    ),
    _s(
        "interest rates smuggled in the BIK scale",
        WRONG,
        _RULE.format(
            kind="rates",
            key="bik",
            version=_NEXT.format(kind="rates", key="bik"),
            values='{"rates": [["2015-01-01", "0.99"]]}',
            who=_ME_ID,
        ),
        reason="only policy and rates",
    ),
    _s(
        "guard numbers smuggled in a script",
        WRONG,
        _RULE.format(
            kind="script",
            key="nl/pause_request",
            version=_NEXT.format(kind="script", key="nl/pause_request"),
            values='{"max_instalments": 999}',
            who=_ME_ID,
        ),
        reason="only policy and rates",
    ),
]

# --- issue 13, find anyone: the search keys and the inbound-call functions (0006)
_INBOUND = "SELECT agent_desk_open_inbound(:theirs, {f}, {k}, now() + interval '{hold}')"
SEARCH_ATTACKS = [
    _a(
        "read a colleague's search keys",
        NOTHING,
        "SELECT * FROM customer_search_key WHERE customer_id = :theirs",
    ),
    _a(
        "delete a colleague's search keys",
        NOTHING,
        "DELETE FROM customer_search_key WHERE customer_id = :theirs",
    ),
    _a(
        "plant a key on a colleague's customer",
        DENIED,
        "INSERT INTO customer_search_key (customer_id, field, key) "
        "VALUES (:theirs, 'phone', '31600000009')",
    ),
    _a(
        "rewrite a search key",
        DENIED,
        "UPDATE customer_search_key SET key = '31600000009' WHERE customer_id = :mine",
    ),
    _a("truncate the search keys", DENIED, "TRUNCATE customer_search_key"),
    _a(
        "open a colleague's customer by a name",
        DENIED,
        _INBOUND.format(f="'name'", k="'klant'", hold="1 hour"),
        reason="stated",
    ),
    _a(
        "open a colleague's customer by a number they do not have",
        DENIED,
        _INBOUND.format(f="'phone'", k="'31600000000'", hold="1 hour"),
        reason="stated",
    ),
    _a(
        "open a colleague's customer by a claim of one's own customer",
        DENIED,
        _INBOUND.format(f="'claim_reference'", k="'a11'", hold="1 hour"),
        reason="stated",
    ),
    _a(
        "open a colleague's customer by the start of a claim reference",
        DENIED,
        _INBOUND.format(f="'claim_reference'", k="'b1'", hold="1 hour"),
        reason="stated",
    ),
    _a(
        "hold an inbound caller for a month",
        DENIED,
        _INBOUND.format(f="'claim_reference'", k="'b11'", hold="30 days"),
        reason="a few hours",
    ),
    _a(
        "call the key check directly",
        DENIED,
        "SELECT agent_desk_guard.key_matches(:theirs, 'phone', '31612345678')",
    ),
    _s("rewrite a search key", DENIED, "UPDATE customer_search_key SET key = 'x'"),
    _s("truncate the search keys", DENIED, "TRUNCATE customer_search_key"),
    _s(
        "search another team's customers by a stated key",
        DENIED,
        "SELECT * FROM agent_desk_find_by_key(ARRAY['claim_reference'], ARRAY['c11'], 5)",
        team=2,
    ),
    _s(
        "open another team's customer as an inbound call",
        DENIED,
        "SELECT agent_desk_open_inbound(1, 'claim_reference', 'c11', now())",
        team=2,
    ),
]

# ---------------------------------- issue 15: the creditor profile and early signals

_PROFILE = (
    "INSERT INTO creditor_profile (version, profile, changed_key, changed_by_id, changed_at) "
    "VALUES ((SELECT coalesce(max(version), 0) + 1 FROM creditor_profile), "
    "'{{\"sector\": \"other\"}}', 'sector', {by}, now())"
)
_SIGNAL = (
    "INSERT INTO early_signal (customer_id, municipality, arrears_since, arrears_cents, "
    "due_since, sent_on, export_file, export_sha256, sent_by_id, sent_at) VALUES "
    "({customer}, 'Ede', current_date - 90, 100, current_date, current_date, 'x.csv', '', "
    "{by}, now())"
)
_OBJECTION = (
    "INSERT INTO signal_objection (customer_id, kind, objected_on, channel, source, "
    "recorded_by_id, recorded_at, note) VALUES ({customer}, '{kind}', current_date, "
    "'phone', 'desk', {by}, now(), '')"
)


def _build_signals(world: World) -> None:
    """A profile version, objections and signals on both sides of the agent's reach."""
    ids = world.ids
    with Database(world.owner_url) as owner, owner.engine.begin() as c:
        c.execute(text(_PROFILE.format(by=":sup")), {"sup": ids["sup"]})
        for key, customer in (("mine_objection", "mine"), ("theirs_objection", "theirs")):
            ids[key] = c.execute(
                text(
                    _OBJECTION.format(customer=":c", kind="objection", by=":sup") + " RETURNING id"
                ),
                {"c": ids[customer], "sup": ids["sup"]},
            ).scalar_one()
        for key, customer in (("mine_signal", "mine"), ("theirs_signal", "theirs")):
            ids[key] = c.execute(
                text(_SIGNAL.format(customer=":c", by=":sup") + " RETURNING id"),
                {"c": ids[customer], "sup": ids["sup"]},
            ).scalar_one()
    with Database(world.other_url) as second, second.engine.begin() as c:
        c.execute(text(_PROFILE.format(by="NULL")))


SIGNAL_ATTACKS = [
    # --- an agent and the creditor profile: read it, never change it
    _a("add a profile version (set the sector)", DENIED, _PROFILE.format(by=":me")),
    _a("rewrite the profile", DENIED, "UPDATE creditor_profile SET profile = '{}'"),
    _a("delete the profile's history", DENIED, "DELETE FROM creditor_profile"),
    _a("truncate the profile", DENIED, "TRUNCATE creditor_profile"),
    _a(
        "switch the VAT on costs behind the profile",
        DENIED,
        "UPDATE setting SET value = 'true' WHERE key = 'letters.add_vat'",
    ),
    # --- an agent and the signals: the supervisor's export, never the agent's
    _a("mark an own customer as signalled", DENIED, _SIGNAL.format(customer=":fresh", by=":me")),
    _a(
        "move a signal's date",
        DENIED,
        "UPDATE early_signal SET sent_on = current_date - 400 WHERE id = :mine_signal",
    ),
    _a("delete a signal", DENIED, "DELETE FROM early_signal WHERE id = :mine_signal"),
    _a(
        "read a colleague's customer's signal",
        NOTHING,
        "SELECT * FROM early_signal WHERE id = :theirs_signal",
    ),
    # --- an agent and objections: own customers, own name, append-only
    _a(
        "record an objection for a colleague's customer",
        DENIED,
        _OBJECTION.format(customer=":theirs", kind="objection", by=":me"),
    ),
    _a(
        "record an objection in a colleague's name",
        DENIED,
        _OBJECTION.format(customer=":fresh", kind="objection", by=":other"),
    ),
    _a(
        "withdraw a customer's objection by rewriting it",
        DENIED,
        "UPDATE signal_objection SET kind = 'withdrawal' WHERE id = :mine_objection",
    ),
    _a(
        "delete a customer's objection",
        DENIED,
        "DELETE FROM signal_objection WHERE id = :mine_objection",
    ),
    _a(
        "read a colleague's customer's objection",
        NOTHING,
        "SELECT * FROM signal_objection WHERE id = :theirs_objection",
    ),
    # --- a supervisor: in their own name, and history is never rewritten
    _s("add a profile version in someone else's name", DENIED, _PROFILE.format(by=":me")),
    _s("add a profile version in nobody's name", DENIED, _PROFILE.format(by="NULL")),
    _s("rewrite the profile's history", DENIED, "UPDATE creditor_profile SET changed_by_id = :me"),
    _s("delete the profile's history", DENIED, "DELETE FROM creditor_profile"),
    _s("record a signal in an agent's name", DENIED, _SIGNAL.format(customer=":fresh", by=":me")),
    _s(
        "send the same signal twice",
        "23505",
        "INSERT INTO early_signal (customer_id, municipality, arrears_since, arrears_cents, "
        "due_since, sent_on, export_file, export_sha256, sent_by_id, sent_at) "
        "SELECT customer_id, municipality, arrears_since, 1, due_since, sent_on, 'y.csv', '', "
        ":sup, now() FROM early_signal WHERE id = :mine_signal",
    ),
    _s("delete a signal sent", DENIED, "DELETE FROM early_signal WHERE id = :mine_signal"),
    _s("delete an objection", DENIED, "DELETE FROM signal_objection WHERE id = :mine_objection"),
    _s("read another team's creditor profile", NOTHING, "SELECT * FROM creditor_profile", team=2),
]

# --- the message outbox (issue 14): agents queue, only the sender marks sent
_MESSAGE = (
    "INSERT INTO message (customer_id, agent_id, idempotency_key, kind, channel, "
    "contact_point_id, to_address, language, subject, body, template_version, status, "
    "attempts, next_attempt_at, created_at) VALUES ({customer}, {agent}, '{key}', "
    "'free-text', 'sms', :mine_point, {to}, 'nl', '', 'x', '1', '{status}', 0, now(), now())"
)
_MINE_NUMBER = "(SELECT value FROM contact_point WHERE id = :mine_point)"


def _message(
    customer: str = ":mine",
    agent: str = ":me",
    key: str = "desk:x1",
    to: str = _MINE_NUMBER,
    status: str = "queued",
) -> str:
    return _MESSAGE.format(customer=customer, agent=agent, key=key, to=to, status=status)


def _add_messages(session: Any, ids: dict[str, Any]) -> None:
    """A message to the agent's customer and one to a colleague's (written by the owner)."""
    from agent_desk.models import Message

    for key in ("mine", "theirs"):
        message = Message(
            customer_id=ids[key],
            idempotency_key=f"missed-call:{key}",
            kind="missed-call",
            channel="sms",
            to_address="+31612345678",
            language="nl",
            subject="",
            body="Hallo",
            template_version="1",
            status="sent",
            attempts=1,
            next_attempt_at=_now(),
            created_at=_now(),
            sent_at=_now(),
        )
        session.add(message)
        session.flush()
        ids[f"{key}_message"] = message.id


MESSAGE_ATTACKS = [
    _a("queue a message to a number of one's choosing", DENIED, _message(to="'+31600000000'")),
    _a("queue a message marked as sent", DENIED, _message(status="sent")),
    _a("queue under the nightly run's key", DENIED, _message(key="instalment-reminder:1")),
    _a("queue a message in a colleague's name", DENIED, _message(agent=":other")),
    _a("queue a message to a colleague's customer", DENIED, _message(customer=":theirs")),
    _a(
        "mark a message delivered",
        DENIED,
        "UPDATE message SET status = 'delivered' WHERE id = :mine_message",
    ),
    _a("delete the record of what was sent", DENIED, "DELETE FROM message"),
    _a(
        "read the messages of a colleague's customer",
        NOTHING,
        "SELECT * FROM message WHERE id = :theirs_message",
    ),
    _a(
        "clear a bounce on a contact point",
        DENIED,
        "UPDATE contact_point SET bounced_at = NULL WHERE id = :mine_point",
    ),
    _a(
        "set a customer's trigger date",
        DENIED,
        "UPDATE customer SET trigger_on = '2030-01-01' WHERE id = :mine",
    ),
    _s("delete a message", DENIED, "DELETE FROM message WHERE id = :mine_message"),
    _s("truncate the outbox", DENIED, "TRUNCATE message"),
]

ATTACKS = (
    AGENT_ATTACKS
    + SUPERVISOR_ATTACKS
    + TEAM_RULE_ATTACKS
    + SEARCH_ATTACKS
    + SIGNAL_ATTACKS
    + MESSAGE_ATTACKS
)


def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: [
                    tuple(r) for r in connection.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
                ]
                for table in TABLES
            }
    finally:
        engine.dispose()


def _empty(result: Any) -> bool:
    if result.returns_rows:
        rows = result.all()
        return rows == [] or all(all(v in (None, 0) for v in row) for row in rows)
    return bool(result.rowcount == 0)


def _login(world: World, attack: Attack) -> str:
    return world.agent if attack.who == "agent" else world.supervisor


def _params(world: World, statements: tuple[str, ...]) -> dict[str, Any]:
    joined = " ".join(statements)
    return {k: v for k, v in world.ids.items() if f":{k}" in joined}


@pytest.mark.parametrize("attack", ATTACKS, ids=[f"{a.who}: {a.name}" for a in ATTACKS])
def test_a_hostile_statement_is_refused_and_changes_nothing(world: World, attack: Attack) -> None:
    owner = world.owner(attack.team)
    before = _snapshot(owner)
    engine = world.engine(_login(world, attack), attack.team)
    outcome: str
    message = ""
    try:
        with engine.begin() as connection:
            empties = [
                _empty(connection.execute(text(statement), _params(world, attack.statements)))
                for statement in attack.statements
            ]
        outcome = NOTHING if all(empties) else "went through"
    except DBAPIError as error:
        outcome = getattr(error.orig, "sqlstate", None) or type(error.orig).__name__
        message = str(error.orig)
    assert outcome == attack.expect, message
    assert attack.reason in message
    assert _snapshot(owner) == before
    if attack.expect == NOTHING:  # not vacuous: the owner finds what the attack was after
        with world.engine("owner", attack.team).connect() as connection:
            found = [
                not _empty(connection.execute(text(statement), _params(world, attack.statements)))
                for statement in attack.statements
            ]
            connection.rollback()
        assert all(found)


def test_the_attack_suite_is_large_enough() -> None:
    statements = sum(len(a.statements) for a in ATTACKS)
    assert len(ATTACKS) >= 60 and statements >= 60
    assert {a.who for a in ATTACKS} == {"agent", "supervisor"}
    assert any(a.team == 2 for a in ATTACKS)


# ------------------------------------------------- one team per database: connecting


def test_people_of_one_team_cannot_even_connect_to_another(world: World) -> None:
    for login in (world.agent, world.other):
        with (
            pytest.raises(OperationalError, match="permission denied for database"),
            world.engine(login, team=2).connect(),
        ):
            pass
    with pytest.raises(DatabaseUnavailableError, match="may not use the database"):
        Database(world.url_for(world.agent, team=2)).check_connection()
    # and a person of team 2 gets nothing in team 1 either
    with (
        pytest.raises(OperationalError, match="permission denied for database"),
        world.engine(f"{world.prefix}c_super", team=1).connect(),
    ):
        pass


def test_the_other_team_still_works_for_its_own_people(world: World) -> None:
    with world.engine(f"{world.prefix}c_super", team=2).connect() as c:
        assert c.scalar(text("SELECT count(*) FROM customer")) == 1
    with world.engine(f"{world.prefix}c_agent", team=2).connect() as c:
        assert c.scalar(text("SELECT count(*) FROM customer")) == 1
        assert c.scalar(text("SELECT count(*) FROM agent")) == 2


def test_what_the_database_allows_and_why(world: World) -> None:
    """Not refused, and harmless; each says why (also in the README)."""
    agent = world.engine(world.agent)
    with agent.connect() as c:
        # NOTIFY has no privilege in PostgreSQL: any session of the database may send it.
        # Only the team's people can connect, and a desk woken by it reads its cursor once.
        c.execute(text("NOTIFY agent_desk_changes, '999999999'"))
        c.commit()
        # Who a login is: the agent table is readable to the team anyway.
        assert (
            c.scalar(text("SELECT agent_desk_current_agent_id(:l)"), {"l": world.other})
            == world.ids["other"]
        )
        # The guards' source is in the catalogue; it holds no secret.
        assert c.scalar(
            text("SELECT count(*) FROM pg_proc WHERE proname = 'customer_before_update'")
        )
        # The highest change id: the payload of every notification, readable to the team.
        assert (c.scalar(text("SELECT agent_desk_latest_change_id()")) or 0) > 0


def test_a_forged_notification_costs_one_harmless_read(world: World) -> None:
    with world.desk(world.agent) as desk, desk.transaction() as session:
        cursor = ChangeCursor(0)
        seen = cursor.read(session)
        assert seen.customer_ids and seen.customer_ids <= _assigned_or_held(world, world.agent)
    with world.engine(world.other).connect() as c:
        c.execute(text("NOTIFY agent_desk_changes, '1'"))
        c.commit()
    with world.desk(world.agent) as desk, desk.transaction() as session:
        again = cursor.read(session)
        assert again.empty  # the hint found nothing new: one read, nothing shown


def _assigned_or_held(world: World, login: str) -> set[int]:
    with world.engine("owner").connect() as c:
        return set(
            c.scalars(
                text(
                    "SELECT c.id FROM customer c JOIN agent a ON a.id IN "
                    "(c.assigned_agent_id, c.held_by_agent_id) WHERE a.login = :l"
                ),
                {"l": login},
            )
        )


# --------------------------------------------------- the desk's work still goes through


def test_the_fixture_flows_went_through_on_people_s_own_connections(world: World) -> None:
    """Agreeing outside policy (waiting), approving and declining, as the people did."""
    ids = world.ids
    with Database(world.owner_url) as owner, owner.transaction() as s:
        approved = s.get_one(Arrangement, ids["approved"])
        assert approved.status == "active" and approved.approved_by_id == ids["sup"]
        assert approved.agent_id == ids["me"] and approved.costs_waived
        assert s.get_one(Arrangement, ids["pending"]).status == "pending_approval"
        assert s.get_one(Arrangement, ids["declined"]).status == "declined"
        # The agent's interest and waivers carry the agent, the decline's undo the supervisor.
        booked = s.execute(
            select(LedgerEntry.kind, LedgerEntry.agent_id, LedgerEntry.amount_cents).where(
                LedgerEntry.arrangement_id.in_([ids["approved"], ids["declined"]]),
                LedgerEntry.kind == "waiver",
            )
        ).all()
        assert {(k, a, amount > 0) for k, a, amount in booked} == {
            ("waiver", ids["me"], False),
            ("waiver", ids["sup"], True),
        }
        # The database recorded the decisions itself.
        recorded = s.scalars(
            select(AuditEvent.detail).where(
                AuditEvent.action == "db_recorded", AuditEvent.entity == "arrangement"
            )
        ).all()
        assert any("pending_approval -> active" in d for d in recorded)
        assert any("pending_approval -> declined" in d for d in recorded)
        # The agent's change-log rows name the customer, instalments included.
        logged = s.execute(
            select(ChangeLog.customer_id).where(ChangeLog.table_name == "instalment").limit(1)
        ).scalar_one()
        assert logged == ids["mine"] or logged is not None


def test_an_agent_does_the_desk_s_work_on_their_own_connection(world: World) -> None:
    ids = world.ids
    customer_id = ids["work"]
    now = _now()
    with world.desk(world.agent) as desk:
        with desk.transaction() as s:
            actor = actor_for_login(s, world.agent)
            version = s.get_one(Customer, customer_id).version
            log_contact_attempt(
                s,
                actor,
                customer_id,
                channel=Channel.PHONE,
                direction=Direction.OUTBOUND,
                outcome=Outcome.REACHED,
                note="Gesproken, belt terug.",
                next_step=NextStepInput(NextStepKind.CALLBACK, now + timedelta(hours=3)),
                now=now,
                expected_version=version,
            )
        with desk.transaction() as s:
            actor = actor_for_login(s, world.agent)
            add_note(s, actor, customer_id, "Inkomen gaat omlaag.", now)
            record_promise(
                s,
                actor,
                customer_id,
                amount_cents=5_000,
                due_date=_today() + timedelta(days=7),
                now=now,
            )
        with desk.transaction() as s:
            actor = actor_for_login(s, world.agent)
            plan_next_step(
                s,
                actor,
                customer_id,
                NextStepInput(NextStepKind.RETRY, now + timedelta(days=300)),
                now,
            )
        with desk.transaction() as s:
            actor = actor_for_login(s, world.agent)
            set_pause(
                s,
                actor,
                customer_id,
                until=_today() + timedelta(days=30),
                reason="Wacht op schuldhulp.",
                now=now,
            )
        with desk.transaction() as s:
            claimed = claim_next(s, actor_for_login(s, world.agent), now)
            assert claimed is not None
            release_holds(s, actor_for_login(s, world.agent))
        # A next step beyond the limit is refused by the service before the database.
        with pytest.raises(ValidationError, match="at most 366 days"), desk.transaction() as s:
            plan_next_step(
                s,
                actor_for_login(s, world.agent),
                customer_id,
                NextStepInput(NextStepKind.RETRY, now + timedelta(days=400)),
                now,
            )
    with Database(world.owner_url) as owner, owner.transaction() as s:
        customer = s.get_one(Customer, customer_id)
        assert customer.paused_until == _today() + timedelta(days=30)
        assert customer.next_step_kind == NextStepKind.REVIEW
        recorded = s.scalars(
            select(AuditEvent.detail).where(
                AuditEvent.customer_id == customer_id, AuditEvent.action == "db_recorded"
            )
        ).all()
        assert any("paused_until none ->" in d for d in recorded)


def test_an_agent_sends_a_14_day_letter_and_records_its_notice(
    world: World, tmp_path: Path
) -> None:
    ids = world.ids
    now = _now()
    letters = (
        # 40 days back: the costs are owed at once, so that is a supervisor's letter.
        ("A-8", ids["backdated"], 40, "recorded by a supervisor"),
        ("A-8", ids["backdated"], 20, None),  # costs owed already: the nightly run books them
        ("A-7", ids["letter"], 0, None),
    )
    with world.desk(world.agent) as desk:
        for number, customer_id, days_ago, refused in letters:
            sent_on = _today() - timedelta(days=days_ago)
            try:
                with desk.transaction() as s:
                    actor = actor_for_login(s, world.agent)
                    data = fourteen_day_letter_data(s, number, now, "Agent Eén", sent_on=sent_on)
                    record = generate_letter(
                        s,
                        actor,
                        data,
                        tmp_path / f"letter-{number}-{days_ago}.pdf",
                        now,
                        customer_id=customer_id,
                        delivery="printed",
                    )
            except ValidationError as error:
                assert refused is not None and refused in str(error)
                continue
            assert refused is None
            assert record.notice_id is not None and record.costs_booked_cents == 0
    with Database(world.owner_url) as owner, owner.transaction() as s:
        notices = s.scalars(
            select(DemandNotice).where(
                DemandNotice.customer_id.in_([ids["letter"], ids["backdated"]])
            )
        ).all()
        assert sorted((n.customer_id, n.status) for n in notices) == sorted(
            [(ids["letter"], "running"), (ids["backdated"], "running")]
        )


def test_an_agent_agrees_an_arrangement_within_policy_on_the_books(world: World) -> None:
    ids = world.ids
    with world.desk(world.agent) as desk, desk.transaction() as s:
        arrangement_id = agree_arrangement(
            s,
            actor_for_login(s, world.agent),
            ids["agree"],
            now=_now(),
            terms=Terms(Mode.COUNT, _today() + timedelta(days=14), count=6, waive_interest=True),
        )
    with Database(world.owner_url) as owner, owner.transaction() as s:
        arrangement = s.get_one(Arrangement, arrangement_id)
        assert arrangement.status == "active" and arrangement.interest_waived
        assert arrangement.interest_cents > 0
        kinds = s.execute(
            select(LedgerEntry.kind, LedgerEntry.agent_id).where(
                LedgerEntry.arrangement_id == arrangement_id
            )
        ).all()
        assert {k for k, _ in kinds} == {"interest", "waiver"}
        assert {a for _, a in kinds} == {ids["me"]}
        owed = s.execute(
            text("SELECT sum(amount_cents) FROM ledger_entry WHERE customer_id = :c"),
            {"c": ids["agree"]},
        ).scalar_one()
        assert owed == arrangement.total_cents == 120_000


def test_supervisors_still_reassign_and_import_payments(world: World, tmp_path: Path) -> None:
    ids = world.ids
    now = _now()
    payments = tmp_path / "payments.csv"
    payments.write_text(
        "payment_reference,customer_number,amount,paid_on\n"
        f"PAY-{world.prefix}1,B-2,100.00,{_today().isoformat()}\n",
        encoding="utf-8",
    )
    with world.desk(world.supervisor) as boss:
        with boss.transaction() as s:
            actor = actor_for_login(s, world.supervisor)
            moved = reassign(s, actor, ReassignFilter(customer_numbers=["B-3"]), [world.agent], now)
            assert moved.moved == 1
        with boss.transaction() as s:
            result = import_payments(s, actor_for_login(s, world.supervisor), payments, now)
            assert result.created == 1
    with Database(world.owner_url) as owner, owner.transaction() as s:
        assert s.get_one(Customer, ids["move"]).assigned_agent_id == ids["me"]
        paid = s.execute(
            text(
                "SELECT -sum(amount_cents) FROM ledger_entry WHERE customer_id = :c "
                "AND kind = 'payment'"
            ),
            {"c": ids["pay"]},
        ).scalar_one()
        assert paid == 10_000
        moved_audit = s.scalars(
            select(AuditEvent.detail).where(
                AuditEvent.customer_id == ids["move"], AuditEvent.action == "db_recorded"
            )
        ).all()
        assert any("assigned_agent_id" in d for d in moved_audit)
    # The agent sees the customer that moved to them, and its change rows.
    with world.engine(world.agent).connect() as c:
        assert c.scalar(text("SELECT count(*) FROM customer WHERE id = :c"), {"c": ids["move"]})
        assert c.scalar(
            text("SELECT count(*) FROM change_log WHERE customer_id = :c"), {"c": ids["move"]}
        )


# ------------------------------------------------------- the rules are the Python ones


def test_the_guards_rules_are_generated_from_python(world: World) -> None:
    with world.engine("owner").connect() as c:
        stored = dict(c.execute(text("SELECT name, value FROM agent_desk_guard.rule")).all())
        assert {k: int(v) for k, v in stored.items()} == db_rules.rule_values()
        rates = c.execute(
            text("SELECT effective_from, rate FROM agent_desk_guard.interest_rate ORDER BY 1")
        ).all()
        assert [tuple(r) for r in rates] == db_rules.rate_rows()
        rows = db_rules.bucket_rows()
        sql_buckets = (
            c.execute(
                text(
                    "SELECT agent_desk_guard.queue_bucket(o, k, ci, b, m, f) FROM unnest("
                    "CAST(:o AS boolean[]), CAST(:k AS text[]), CAST(:ci AS boolean[]), "
                    "CAST(:b AS boolean[]), CAST(:m AS boolean[]), CAST(:f AS boolean[])) "
                    "WITH ORDINALITY AS t(o, k, ci, b, m, f, n) ORDER BY n"
                ),
                {
                    "o": [r[0] for r in rows],
                    "k": [r[1] or None for r in rows],
                    "ci": [r[2] for r in rows],
                    "b": [r[3] for r in rows],
                    "m": [r[4] for r in rows],
                    "f": [r[5] for r in rows],
                },
            )
            .scalars()
            .all()
        )
        assert sql_buckets == [r[6] for r in rows]
        # a kind the rule never heard of is "any other kind"
        assert c.scalar(
            text(
                "SELECT agent_desk_guard.queue_bucket(true, 'brand_new', false, false, false, true)"
            )
        ) == next(r[6] for r in rows if r[:6] == (True, "*", False, False, False, True))
    assert len(rows) == 2 * len(db_rules.bucket_kinds()) * 16


# -------------------------------------------------- an existing team database upgrades


def test_a_team_database_at_0003_keeps_its_people_working_after_the_upgrade(
    tmp_path: Path,
) -> None:
    prefix = f"u{uuid.uuid4().hex[:8]}_"
    agent, boss, stranger = f"{prefix}agent", f"{prefix}super", f"{prefix}stranger"
    today = _today()
    with fresh_pg_database("agent_desk_upgrade") as url:
        owner_url = url.render_as_string(hide_password=False)
        engine = create_engine(owner_url)
        try:
            config = alembic_config()
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "0003")
            with engine.begin() as c:  # people as 'admin add-user' made them before 0004
                for login, role in ((agent, "agent"), (boss, "supervisor")):
                    c.execute(text(f'CREATE ROLE "{login}" LOGIN'))
                    c.execute(text(f'GRANT agent_desk_{role} TO "{login}"'))
                    c.execute(
                        text(
                            "INSERT INTO agent (login, display_name, role, active, created_at, "
                            "version) VALUES (:l, :l, :r, true, now(), 1)"
                        ),
                        {"l": login, "r": role},
                    )
                c.execute(text(f'CREATE ROLE "{stranger}" LOGIN'))  # no person of this team
                c.execute(text(f'GRANT agent_desk_supervisor TO "{stranger}"'))
                c.execute(
                    text(
                        "INSERT INTO customer (customer_number, first_name, last_name, language, "
                        "segment, status, assigned_agent_id, vulnerable, arrears_cents, "
                        "first_time_arrears, broken_arrangement, missed_instalment, queue_bucket, "
                        "created_at, version, credit_cents) SELECT 'U-1', 'Oud', 'Klant', 'nl', "
                        "'consumer', 'open', id, false, 30000, true, false, false, 3, now(), 1, 0 "
                        "FROM agent WHERE login = :l"
                    ),
                    {"l": agent},
                )
                c.execute(
                    text(
                        "INSERT INTO claim (customer_id, reference, description, principal_cents, "
                        "paid_cents, due_date, version) SELECT id, 'U-1-1', 'Huur', 30000, 0, "
                        ":due, 1 FROM customer"
                    ),
                    {"due": today - timedelta(days=3)},
                )
                c.execute(
                    text(
                        "INSERT INTO ledger_entry (customer_id, claim_id, kind, part, "
                        "amount_cents, booked_on, created_at, note) SELECT customer_id, id, "
                        "'principal', 'principal', 30000, due_date, now(), '' FROM claim"
                    )
                )
            with Database(owner_url) as upgrading:
                upgrading.upgrade()  # what 'agent-desk db upgrade' does
        finally:
            engine.dispose()
        as_agent = Database(make_url(owner_url).set(username=agent))
        as_boss = Database(make_url(owner_url).set(username=boss))
        try:
            now = _now()
            with as_agent.transaction() as s:
                actor = actor_for_login(s, agent)
                (customer_id,) = s.scalars(select(Customer.id)).all()
                log_contact_attempt(
                    s,
                    actor,
                    customer_id,
                    channel=Channel.PHONE,
                    direction=Direction.OUTBOUND,
                    outcome=Outcome.NO_ANSWER,
                    note="",
                    next_step=NextStepInput(NextStepKind.RETRY, now + timedelta(days=1)),
                    now=now,
                )
            with as_boss.transaction() as s:
                assert s.scalar(select(NextStep.kind)) == NextStepKind.RETRY
                assert len(s.scalars(select(Agent.id)).all()) == 2
        finally:
            as_agent.dispose()
            as_boss.dispose()
        with (
            pytest.raises(DatabaseUnavailableError, match="may not use the database"),
            Database(make_url(owner_url).set(username=stranger)) as outsider,
        ):
            outsider.check_connection()
        cleanup = create_engine(owner_url, isolation_level="AUTOCOMMIT")
        try:
            with cleanup.connect() as c:
                for login in (agent, boss, stranger):
                    c.execute(text(f'DROP OWNED BY "{login}"'))
                    c.execute(text(f'DROP ROLE "{login}"'))
        finally:
            cleanup.dispose()


# ------------------------------------------------------ issue 15: the team's rules


def test_an_agent_reads_the_team_rules_and_a_supervisor_s_edit_reaches_the_guards(
    world: World,
) -> None:
    from agent_desk.services import team_rules

    with world.desk(world.agent) as desk, desk.sessions() as session:
        assert team_rules.policy(session).max_instalments == 60  # read: the seeded policy
        assert len(team_rules.script_library(session)) > 0
        anna = actor_for_login(session, world.agent)
        with pytest.raises(Exception, match="supervisor"):
            team_rules.set_policy_value(session, anna, "max_instalments", "99")
    with world.desk(world.supervisor) as desk, desk.sessions() as session:
        lead = actor_for_login(session, world.supervisor)
        team_rules.set_policy_value(session, lead, "max_instalments", "48", reason="attack test")
        session.commit()
    try:
        with world.engine("owner").connect() as c:
            assert (
                c.scalar(
                    text("SELECT value FROM agent_desk_guard.rule WHERE name = 'max_instalments'")
                )
                == 48
            )
            row = c.execute(
                text(
                    "SELECT changed_by_id, reason FROM team_rule WHERE kind = 'policy' "
                    "AND key = 'arrangements' ORDER BY version DESC LIMIT 1"
                )
            ).one()
            assert row.reason == "attack test"
        # the agent's desk sees the change in the change log and the new value
        with world.desk(world.agent) as desk, desk.sessions() as session:
            assert team_rules.policy(session).max_instalments == 48
            seen = session.execute(
                text("SELECT count(*) FROM change_log WHERE table_name = 'team_rule'")
            ).scalar()
            assert seen and seen >= 1
    finally:
        with world.desk(world.supervisor) as desk, desk.sessions() as session:
            lead = actor_for_login(session, world.supervisor)
            team_rules.set_policy_value(session, lead, "max_instalments", "60", reason="back")
            session.commit()


# ------------------------------------------- issue 13: find anyone, inbound callers


def test_an_agent_finds_a_colleague_s_customer_only_by_a_key_stated_in_full(
    world: World,
) -> None:
    """Own customers by anything; a colleague's only by an identifying key in full,
    with number and name only (an inbound caller), never by a name or a prefix."""
    ids = world.ids
    mine = _assigned_or_held(world, world.agent)
    with world.engine("owner").connect() as c:
        everyone = set(c.scalars(text("SELECT id FROM customer")))
    with world.desk(world.agent) as desk, desk.transaction() as s:
        agent = actor_for_login(s, world.agent)
        by_name = search_customers(s, agent, "klant", limit=100)
        assert by_name and {h.customer_id for h in by_name} <= mine
        assert ids["theirs"] not in {h.customer_id for h in by_name}
        (hit,) = search_customers(s, agent, "B-1-1")
        assert hit.customer_id == ids["theirs"] and hit.customer_number == "B-1"
        assert not hit.visible and hit.matched == (Field.CLAIM_REFERENCE,)
        assert hit.assigned_agent == "Agent Twee" and hit.status is None
        assert search_customers(s, agent, "B-1-") == search_customers(s, agent, "b-1") == []
        # Everyone in the fixture has this phone: own customers as usual, colleagues' too.
        by_phone = search_customers(s, agent, "06-12345678", limit=100)
        colleagues = {h.customer_id for h in by_phone if not h.visible}
        assert colleagues == everyone - mine and ids["theirs"] in colleagues
        assert {h.customer_id for h in by_phone if h.visible} <= mine
        assert all(h.matched == (Field.PHONE,) for h in by_phone)
        # The function itself never answers a name or a prefix.
        for fields, keys in ((["name"], ["klant"]), (["claim_reference"], ["b1"])):
            found = s.execute(
                text("SELECT * FROM agent_desk_find_by_key(:f, :k, 50)"), {"f": fields, "k": keys}
            ).all()
            assert found == []
    # A key an agent plants on their own customer finds nothing: the rows decide.
    with world.engine(world.agent).connect() as c:
        c.execute(
            text(
                "INSERT INTO customer_search_key (customer_id, field, key) "
                "VALUES (:c, 'phone', '31600000001')"
            ),
            {"c": ids["mine"]},
        )
        planted = c.execute(
            text("SELECT * FROM agent_desk_find_by_key(ARRAY['phone'], ARRAY['31600000001'], 5)")
        ).all()
        c.rollback()
    assert planted == []


def test_an_agent_opens_an_inbound_caller_who_is_a_colleague_s_customer(world: World) -> None:
    ids = world.ids
    now = _now()
    with world.engine("owner").begin() as c:  # a colleague has B-2 on screen right now
        c.execute(
            text(
                "UPDATE customer SET held_by_agent_id = :o, held_until = now() + interval "
                "'10 minutes' WHERE id = :c"
            ),
            {"o": ids["other"], "c": ids["pay"]},
        )
    try:
        with world.desk(world.agent) as desk:
            with desk.transaction() as s:
                agent = actor_for_login(s, world.agent)
                (hit,) = search_customers(s, agent, "B-1-1")
                opened = open_found(s, agent, hit, now)
                assert opened.held and opened.file is not None
                assert opened.file.customer_number == "B-1"
            with desk.transaction() as s:  # the file stays open for them: they hold it
                agent = actor_for_login(s, world.agent)
                held = s.get_one(Customer, ids["theirs"])
                assert held.held_by_agent_id == ids["me"]
                assert held.assigned_agent_id == ids["other"]  # still the colleague's
                (busy,) = search_customers(s, agent, "B-2-1")
                assert open_found(s, agent, busy, now) == Opened(None, False)
        with world.engine("owner").connect() as c:
            recorded = c.execute(
                text(
                    "SELECT agent_id, detail FROM audit_event WHERE action = 'inbound_open' "
                    "AND customer_id = :c"
                ),
                {"c": ids["theirs"]},
            ).all()
            assert recorded == [(ids["me"], "claim_reference")]
            logged = c.scalar(
                text(
                    "SELECT count(*) FROM change_log WHERE table_name = 'customer' AND row_id = :c"
                ),
                {"c": ids["theirs"]},
            )
            assert logged and logged > 0
    finally:
        with world.desk(world.agent) as desk, desk.transaction() as s:
            release_holds(s, actor_for_login(s, world.agent))
        with world.engine("owner").begin() as c:
            c.execute(
                text(
                    "UPDATE customer SET held_by_agent_id = NULL, held_until = NULL WHERE id = :c"
                ),
                {"c": ids["pay"]},
            )
    assert ids["theirs"] not in _assigned_or_held(world, world.agent)  # released again


def test_the_search_keys_of_the_fixture_follow_the_rows_people_wrote(world: World) -> None:
    """Imported by the supervisor's path, verified and changed by agents: keys right."""
    with world.engine("owner").connect() as c:
        count = c.scalar(text("SELECT count(DISTINCT customer_id) FROM customer_search_key"))
        customers = c.scalar(text("SELECT count(*) FROM customer"))
    assert count == customers


def test_inbound_opens_are_limited_per_hour(world: World) -> None:
    """A bounded number of colleagues' customers per agent and hour (enumeration costs)."""
    ids = world.ids
    with world.engine("owner").begin() as c:  # the agent's last hour, as the trail shows it
        c.execute(
            text(
                "INSERT INTO audit_event (at, agent_id, action, entity, entity_id, customer_id, "
                "detail) SELECT now() - interval '30 minutes', :me, 'inbound_open', 'customer', "
                ":c, :c, 'phone' FROM generate_series(1, 60)"
            ),
            {"me": ids["me"], "c": ids["move"]},
        )
    with (
        world.desk(world.agent) as desk,
        pytest.raises(PermissionDeniedError, match="too many inbound"),
        desk.transaction() as s,
    ):
        agent = actor_for_login(s, world.agent)
        (hit,) = search_customers(s, agent, "B-1-1")
        open_found(s, agent, hit, _now())
    assert ids["theirs"] not in _assigned_or_held(world, world.agent)


def test_the_early_signal_work_goes_through_on_people_s_own_connections(
    world: World, tmp_path: Path
) -> None:
    """Issue 15: an agent reads the profile and records an objection for their own
    customer; a supervisor changes the profile and exports signals, in their own names."""
    from agent_desk.models import CreditorProfileVersion, EarlySignal, SignalObjection
    from agent_desk.services.creditor import current_profile, set_values
    from agent_desk.services.signal_export import export_signals
    from agent_desk.services.signals import record_objection

    ids = world.ids
    with world.desk(world.supervisor) as boss, boss.transaction() as s:
        actor = actor_for_login(s, world.supervisor)
        profile = set_values(s, actor, {"sector": "housing", "signal_wait_days": "10"}, _now())
        assert profile.early_signal_duty and profile.changed_by == "Super Visor"
    with world.desk(world.agent) as desk:
        with desk.transaction() as s:
            assert current_profile(s).signal_wait_days == 10
            objection = record_objection(
                s,
                actor_for_login(s, world.agent),
                ids["fresh"],
                on=_today(),
                channel="phone",
                now=_now(),
            )
        with (
            pytest.raises(
                PermissionDeniedError, match="permission denied for table creditor_profile"
            ),
            desk.transaction() as s,
        ):
            # Past the service's check: the database itself refuses an agent's version.
            s.add(
                CreditorProfileVersion(
                    version=999,
                    profile="{}",
                    changed_key="x",
                    changed_by_id=ids["me"],
                    changed_at=_now(),
                )
            )
            s.flush()
    with world.desk(world.supervisor) as boss, boss.transaction() as s:
        result = export_signals(
            s, actor_for_login(s, world.supervisor), "Ede", tmp_path / "ede.csv", _today(), _now()
        )
        assert result.signal_ids == ()  # nobody passed every step in this world
    with Database(world.owner_url) as owner, owner.transaction() as s:
        row = s.get(SignalObjection, objection)
        assert row is not None and row.recorded_by_id == ids["me"]
        assert s.scalar(select(func.max(CreditorProfileVersion.version))) >= 2
        assert s.scalar(select(func.count()).select_from(EarlySignal)) == 2


# ------------------------------------------------------ the message outbox (issue 14)


def test_an_agent_queues_a_message_and_sets_opt_outs_and_the_sender_sends_it(
    world: World,
) -> None:
    from agent_desk.domain.messaging import MessageChannel, MessageKind
    from agent_desk.models import Message
    from agent_desk.services import messages as msgs

    ids = world.ids
    now = _now()
    with world.desk(world.agent) as desk:
        with desk.transaction() as s:
            actor = actor_for_login(s, world.agent)
            customer = s.get_one(Customer, ids["work"])
            draft = msgs.compose(
                s,
                customer,
                MessageKind.MISSED_CALL,
                MessageChannel.SMS,
                subject=msgs.subject_for(s, customer, MessageKind.MISSED_CALL),
            )
            queued = msgs.queue(s, actor, draft, now)
        with desk.transaction() as s:
            msgs.set_preferences(
                s,
                actor_for_login(s, world.agent),
                ids["work"],
                email_opt_out=True,
                sms_opt_out=False,
                preferred_channel="sms",
                now=now,
            )
        with desk.transaction() as s:
            # The agent sees the message, but cannot mark it sent.
            assert s.get_one(Message, queued.message_id).status == "queued"
    with world.desk(world.supervisor) as boss, boss.transaction() as s:
        message = s.get_one(Message, queued.message_id)
        message.status = "sent"  # what the sender does on a supervisor's connection
        message.sent_at = now
    with Database(world.owner_url) as owner, owner.transaction() as s:
        assert s.get_one(Message, queued.message_id).status == "sent"
        assert s.get_one(Customer, ids["work"]).email_opt_out is True
